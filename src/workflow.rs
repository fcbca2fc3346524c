//! The state machine (SPEC §5) as pure functions:
//! (ticket, transition, actor, config, time) → new ticket, or a typed refusal.
//!
//! The CLI applies transitions with [`apply`]; `ipr verify` replays history
//! through the same function, so the two can never disagree.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{
    spec_digest, validate_new, Action, HistoryEntry, Metadata, RequestId, Spec, State, Status,
    Ticket, KIND, MIN_REJECT_REASON,
};
use crate::policy::{self, Capability};

/// Rule ids (see [`Error::code`]) of the refusals below.
pub const ILLEGAL_TRANSITION: &str = "illegal-transition";
pub const REJECT_REASON: &str = "reject-reason";

/// A change to an existing request.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Approve {
        comment: Option<String>,
    },
    Reject {
        reason: String,
    },
    Cancel {
        reason: Option<String>,
    },
    /// A runner was handed the request.
    StartDeploy {
        runner: String,
        job_id: Option<String>,
        break_glass: Option<String>,
    },
    /// The runner reported success.
    Succeed {
        job_id: Option<String>,
        deployment_id: Option<String>,
    },
    /// The runner reported failure.
    Fail {
        job_id: Option<String>,
        error: String,
    },
}

impl Transition {
    /// The history action this transition appends.
    pub fn action(&self) -> Action {
        match self {
            Transition::Approve { .. } => Action::Approved,
            Transition::Reject { .. } => Action::Rejected,
            Transition::Cancel { .. } => Action::Cancelled,
            Transition::StartDeploy { .. } => Action::Deploying,
            Transition::Succeed { .. } => Action::Deployed,
            Transition::Fail { .. } => Action::Failed,
        }
    }

    /// The transition that appended `entry` to a history, as `ipr verify`
    /// replays it through [`apply`]; `None` for `created`, which is not a
    /// transition. Keep this the inverse of what [`apply`] writes.
    pub fn from_entry(entry: &HistoryEntry) -> Option<Transition> {
        Some(match entry.action {
            Action::Created => return None,
            Action::Approved => Transition::Approve {
                comment: entry.comment.clone(),
            },
            Action::Rejected => Transition::Reject {
                reason: entry.comment.clone().unwrap_or_default(),
            },
            Action::Cancelled => Transition::Cancel {
                reason: entry.comment.clone(),
            },
            Action::Deploying => Transition::StartDeploy {
                runner: entry.runner.clone().unwrap_or_default(),
                job_id: entry.job_id.clone(),
                break_glass: entry.break_glass.clone(),
            },
            Action::Deployed => Transition::Succeed {
                job_id: entry.job_id.clone(),
                deployment_id: entry.deployment_id.clone(),
            },
            Action::Failed => Transition::Fail {
                job_id: entry.job_id.clone(),
                error: entry.error.clone().unwrap_or_default(),
            },
        })
    }

    /// The verb used in messages and commit subjects.
    pub fn verb(&self) -> &'static str {
        match self {
            Transition::Approve { .. } => "approve",
            Transition::Reject { .. } => "reject",
            Transition::Cancel { .. } => "cancel",
            Transition::StartDeploy { .. } => "deploy",
            Transition::Succeed { .. } => "deployed",
            Transition::Fail { .. } => "failed",
        }
    }

    fn capability(&self) -> Capability {
        match self {
            Transition::Approve { .. } | Transition::Reject { .. } => Capability::Review,
            Transition::Cancel { .. } => Capability::Cancel,
            _ => Capability::Deploy,
        }
    }

    /// States this transition may start from.
    fn allowed_states(&self) -> &'static [State] {
        match self {
            Transition::Approve { .. } | Transition::Reject { .. } => &[State::Pending],
            Transition::Cancel { .. } => &[State::Pending, State::Approved],
            Transition::StartDeploy { .. } => &[State::Approved, State::Failed],
            Transition::Succeed { .. } | Transition::Fail { .. } => &[State::Deploying],
        }
    }
}

/// Build and check a new request: validation (SPEC §2) and create rights.
pub fn create(
    spec: Spec,
    id: RequestId,
    tenant: &str,
    actor: &str,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    validate_new(&spec, tenant, config)?;
    policy::check_create(config, actor, tenant)?;
    Ok(Ticket {
        api_version: config.api_version.clone(),
        kind: KIND.to_string(),
        metadata: Metadata {
            id,
            created_at: now,
            created_by: actor.to_string(),
            tenant: tenant.to_string(),
        },
        spec,
        status: Status {
            state: State::Pending,
            history: vec![HistoryEntry::new(Action::Created, now, actor)],
            approved_by: None,
            approved_at: None,
            deployed_at: None,
            rejected_by: None,
            rejected_at: None,
            rejection_reason: None,
        },
    })
}

/// Apply one transition: rights first, then the state machine.
pub fn apply(
    ticket: &Ticket,
    transition: &Transition,
    actor: &str,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    policy::check(config, actor, transition.capability(), ticket)?;
    let state = ticket.status.state;
    let id = ticket.id();
    if !transition.allowed_states().contains(&state) {
        let allowed: Vec<&str> = transition
            .allowed_states()
            .iter()
            .map(|s| s.as_str())
            .collect();
        return Err(Error::conflict(format!(
            "cannot {} {id}: it is {state} (only {} requests can be {})",
            transition.verb(),
            allowed.join(" or "),
            past(transition),
        ))
        .with_code(ILLEGAL_TRANSITION));
    }

    let mut next = ticket.clone();
    let mut entry = HistoryEntry::new(transition.action(), now, actor);
    let status = &mut next.status;
    match transition {
        Transition::Approve { comment } => {
            entry.comment = non_empty(comment);
            entry.digest = Some(spec_digest(&ticket.spec));
            let have = ticket.approvers().len() as u32 + 1;
            if have >= policy::required_approvals(config, ticket) {
                status.state = State::Approved;
                status.approved_by = Some(actor.to_string());
                status.approved_at = Some(now);
            }
        }
        Transition::Reject { reason } => {
            let reason = reason.trim();
            if reason.chars().count() < MIN_REJECT_REASON {
                return Err(Error::invalid(format!(
                    "a rejection needs a reason of at least {MIN_REJECT_REASON} characters"
                ))
                .with_hint("ipr reject ID --reason \"why this cannot ship\"")
                .with_code(REJECT_REASON));
            }
            entry.comment = Some(reason.to_string());
            status.state = State::Rejected;
            status.rejected_by = Some(actor.to_string());
            status.rejected_at = Some(now);
            status.rejection_reason = Some(reason.to_string());
        }
        Transition::Cancel { reason } => {
            entry.comment = non_empty(reason);
            status.state = State::Cancelled;
        }
        Transition::StartDeploy {
            runner,
            job_id,
            break_glass,
        } => {
            entry.runner = Some(runner.clone());
            entry.job_id = job_id.clone();
            entry.break_glass = break_glass.clone();
            status.state = State::Deploying;
        }
        Transition::Succeed {
            job_id,
            deployment_id,
        } => {
            entry.job_id = job_id.clone();
            entry.deployment_id = deployment_id.clone();
            status.state = State::Deployed;
            status.deployed_at = Some(now);
        }
        Transition::Fail { job_id, error } => {
            entry.job_id = job_id.clone();
            entry.error = Some(error.clone());
            status.state = State::Failed;
        }
    }
    status.history.push(entry);
    Ok(next)
}

fn past(t: &Transition) -> &'static str {
    match t {
        Transition::Approve { .. } => "approved",
        Transition::Reject { .. } => "rejected",
        Transition::Cancel { .. } => "cancelled",
        Transition::StartDeploy { .. } => "deployed",
        Transition::Succeed { .. } | Transition::Fail { .. } => "finished",
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Approvals still missing before the request is approved.
pub fn approvals_missing(ticket: &Ticket, config: &Config) -> u32 {
    policy::required_approvals(config, ticket).saturating_sub(ticket.approvers().len() as u32)
}
