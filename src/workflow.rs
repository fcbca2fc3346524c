//! The state machine (SPEC §5) as pure functions:
//! (ticket, transition, actor, config, time) → new ticket, or a typed refusal.
//!
//! The CLI applies transitions with [`apply`]; `ipr verify` replays history
//! through the same function, so the two can never disagree.

use chrono::{DateTime, Utc};

use crate::approvals;
use crate::config::Config;
use crate::error::{Error, Problem, Remedy, Result};
use crate::model::same_email;
use crate::model::{
    has_credentials, is_environment_name, is_invisible, spec_digest, visible_len, Action,
    HistoryEntry, Metadata, RequestId, Spec, State, Status, TargetType, Ticket, KIND,
    MIN_JUSTIFICATION, MIN_REJECT_REASON,
};
use crate::policy::{self, Capability};

/// Rule ids (see [`Error::code`]) of the refusals below.
pub use crate::error::Refusal;

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
    /// A comment: no state change (SPEC §4a).
    Comment {
        message: String,
    },
    /// An admin opens a break-glass deploy that `breakGlass.admins`
    /// admins must agree to.
    BreakGlass {
        reason: String,
    },
    /// Another admin agrees to the open break-glass deploy.
    ConfirmBreakGlass,
    /// The incident report after a break-glass deploy.
    Incident {
        report: String,
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
            Transition::Comment { .. } => Action::Commented,
            Transition::BreakGlass { .. } => Action::BreakGlass,
            Transition::ConfirmBreakGlass => Action::BreakGlassConfirmed,
            Transition::Incident { .. } => Action::Incident,
        }
    }

    /// The transition that appended `entry` to a history (for replaying
    /// commits on sync and in verify). `None` for `created`.
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
            Action::Commented => Transition::Comment {
                message: entry.comment.clone().unwrap_or_default(),
            },
            Action::BreakGlass => Transition::BreakGlass {
                reason: entry.comment.clone().unwrap_or_default(),
            },
            Action::BreakGlassConfirmed => Transition::ConfirmBreakGlass,
            Action::Incident => Transition::Incident {
                report: entry.report.clone().unwrap_or_default(),
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
            Transition::Comment { .. } => "comment",
            Transition::BreakGlass { .. } => "break-glass",
            Transition::ConfirmBreakGlass => "confirm break-glass",
            Transition::Incident { .. } => "incident",
        }
    }

    fn capability(&self) -> Capability {
        match self {
            Transition::Approve { .. } | Transition::Reject { .. } => Capability::Review,
            Transition::Cancel { .. } => Capability::Cancel,
            Transition::Comment { .. } => Capability::View,
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
            Transition::Comment { .. } => State::ALL,
            Transition::BreakGlass { .. } | Transition::ConfirmBreakGlass => {
                &[State::Approved, State::Failed]
            }
            Transition::Incident { .. } => &[State::Deploying, State::Deployed, State::Failed],
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
    let mut ticket = Ticket {
        api_version: config.api_version.clone(),
        kind: KIND.to_string(),
        metadata: Metadata {
            id,
            created_at: now,
            created_by: actor.to_string(),
            tenant: tenant.to_string(),
        },
        spec,
        status: Status::created(now, actor),
    };
    if let Some(why) = approvals::auto_approval(config, &ticket) {
        let mut entry = HistoryEntry::new(Action::Approved, now, approvals::SYSTEM);
        entry.comment = Some(why);
        entry.digest = Some(spec_digest(&ticket.spec));
        let status = &mut ticket.status;
        status.history.push(entry);
        status.state = State::Approved;
        status.approved_by = Some(approvals::SYSTEM.to_string());
        status.approved_at = Some(now);
    }
    Ok(ticket)
}

/// With `approvals.requireStaged`, a request for an environment needs its
/// target (name and version) deployed in the environment listed before
/// it: `before` is the request it names in `spec.promotedFrom`, as the
/// branch holds it (SPEC §4a).
pub fn check_staged(spec: &Spec, config: &Config, before: Option<&Ticket>) -> Result<()> {
    let t = &spec.target;
    let Some(env) = approvals::previous_environment(config, &t.target_environment) else {
        return Ok(());
    };
    match (before, spec.promoted_from) {
        (Some(b), Some(id)) if b.id() == id && approvals::is_stage_of(b, t, env) => Ok(()),
        (_, from) => Err(Error::conflict(format!(
            "{} {} must be deployed to {env} before it can go to {}{} (approvals.requireStaged)",
            t.name,
            t.version,
            t.target_environment,
            match from {
                Some(id) => format!("; {id} is not that deployment"),
                None => String::new(),
            }
        ))
        .with_hint(format!(
            "deploy it to {env} first, then `ipr promote ID --to {}` files this request",
            t.target_environment
        ))
        .with_refusal(Refusal::NotStaged)),
    }
}

/// Check what `ipr create` requires of a new request. Every problem is
/// listed, so one run tells the user everything to fix.
pub fn validate_new(spec: &Spec, tenant: &str, config: &Config) -> Result<()> {
    let mut problems: Vec<Problem> = Vec::new();
    let t = &spec.target;
    for (key, value) in [
        ("spec.target.name", &t.name),
        ("spec.target.version", &t.version),
        ("spec.target.sourceEnvironment", &t.source_environment),
        ("spec.target.targetEnvironment", &t.target_environment),
    ] {
        if value.trim().is_empty() {
            problems.push(Problem::new(key, format!("{key} must not be empty")));
        }
    }
    for (key, value) in [
        ("spec.target.sourceEnvironment", &t.source_environment),
        ("spec.target.targetEnvironment", &t.target_environment),
    ] {
        if value.trim().is_empty() {
            continue;
        }
        if !is_environment_name(value) {
            problems.push(Problem::new(key, format!(
                "{key} `{}` is not an environment name (lowercase letters, digits and -, like prod or eu-west-1)",
                value.escape_debug()
            )));
        } else if key == "spec.target.targetEnvironment"
            && !config.environments.is_empty()
            && !config.environments.contains(value)
        {
            problems.push(Problem::new(
                key,
                format!(
                    "{key} `{value}` is not an environment in .ipr/config.yaml (known: {})",
                    config.environments.join(", ")
                ),
            ));
        }
    }
    for (key, value) in [
        ("spec.target.name", &t.name),
        ("spec.target.version", &t.version),
    ] {
        if value.chars().any(is_invisible) {
            problems.push(Problem::new(key, format!(
                "{key} is one line of visible text; it has a line break, control or invisible character ({})",
                value.escape_debug()
            )));
        }
    }
    if !t.source_environment.trim().is_empty() && t.source_environment == t.target_environment {
        problems.push(Problem::new(
            "spec.target",
            format!(
                "spec.target: source and target environment are both `{}`",
                t.source_environment
            ),
        ));
    }
    let r = &spec.request;
    let len = visible_len(&r.justification);
    if len < MIN_JUSTIFICATION {
        problems.push(Problem::new(
            "spec.request.justification",
            format!(
            "spec.request.justification must be at least {MIN_JUSTIFICATION} characters (has {len})"
        ),
        ));
    }
    if visible_len(&r.rollback_plan) == 0 {
        problems.push(Problem::new(
            "spec.request.rollbackPlan",
            "spec.request.rollbackPlan is required",
        ));
    }
    let p = &spec.pre_checks;
    if !p.staging_tests_passed {
        problems.push(Problem::new(
            "spec.preChecks.stagingTestsPassed",
            "spec.preChecks.stagingTestsPassed must be true to create a request",
        ));
    }
    if !p.security_scan_passed {
        problems.push(Problem::new(
            "spec.preChecks.securityScanPassed",
            "spec.preChecks.securityScanPassed must be true to create a request",
        ));
    }
    if has_credentials(&p.test_evidence_url) {
        problems.push(Problem::new("spec.preChecks.testEvidenceUrl", "spec.preChecks.testEvidenceUrl holds a user name or password; link to it without credentials",
        ));
    } else if !matches!(p.test_evidence_url.scheme(), "http" | "https") {
        problems.push(Problem::new(
            "spec.preChecks.testEvidenceUrl",
            format!(
                "spec.preChecks.testEvidenceUrl must be an http(s) URL, not `{}`",
                p.test_evidence_url
            ),
        ));
    }
    if !config.tenants.iter().any(|x| x == tenant) {
        problems.push(Problem::new(
            "metadata.tenant",
            format!(
                "metadata.tenant `{tenant}` is not a tenant in .ipr/config.yaml (known: {})",
                config.tenants.join(", ")
            ),
        ));
    }
    match &spec.plan {
        None if t.kind == TargetType::Terraform => {
            problems.push(Problem::new(
                "spec.plan",
                "a terraform target needs a plan (spec.plan)",
            ));
        }
        Some(_) if t.kind != TargetType::Terraform => {
            problems.push(Problem::new(
                "spec.plan",
                format!("spec.plan is only for terraform targets, not {}", t.kind),
            ));
        }
        Some(plan) if r.impact_assessment < plan.risk => {
            problems.push(Problem::new("spec.request.impactAssessment", format!(
                "spec.request.impactAssessment {} is lower than the plan's risk {}; an impact may be raised above the risk, never lowered",
                r.impact_assessment, plan.risk
            )));
        }
        _ => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::problems("invalid request", problems))
    }
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
        .with_refusal(Refusal::IllegalTransition));
    }

    let mut next = ticket.clone();
    let mut entry = HistoryEntry::new(transition.action(), now, actor);
    let status = &mut next.status;
    match transition {
        Transition::Approve { comment } => {
            entry.comment = non_empty(comment);
            entry.digest = Some(spec_digest(&ticket.spec));
            // The quorum and every matching group rule, counting this one.
            status.history.push(entry.clone());
            let met = approvals::needs(config, &next).met();
            let status = &mut next.status;
            status.history.pop();
            if met {
                status.state = State::Approved;
                status.approved_by = Some(actor.to_string());
                status.approved_at = Some(now);
            }
        }
        Transition::Reject { reason } => {
            let reason = reason.trim();
            if crate::model::visible_len(reason) < MIN_REJECT_REASON {
                return Err(Error::invalid(format!(
                    "a rejection needs a reason of at least {MIN_REJECT_REASON} characters"
                ))
                .with_remedy(Remedy::GiveRejectReason)
                .with_refusal(Refusal::RejectReason));
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
            check_deployable(ticket, config, actor, now, break_glass.as_deref())?;
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
        Transition::Comment { message } => {
            let message = message.trim();
            if crate::model::visible_len(message) == 0 {
                return Err(Error::invalid("a comment needs a message"));
            }
            entry.comment = Some(message.to_string());
        }
        Transition::BreakGlass { reason } => {
            check_break_glass(config, actor, reason)?;
            entry.comment = Some(reason.trim().to_string());
        }
        Transition::ConfirmBreakGlass => {
            policy::check_admin(config, actor).map_err(|_| {
                Error::permission(format!(
                    "{actor} may not confirm a break-glass deploy: only admins may"
                ))
                .with_refusal(Refusal::BreakGlass)
            })?;
            match approvals::break_glass_agreement(ticket) {
                None => {
                    return Err(Error::conflict(format!(
                        "{id} has no open break-glass request to confirm"
                    ))
                    .with_hint(format!(
                        "an admin opens one with `ipr deploy {id} --break-glass --reason \"why\"`"
                    )))
                }
                Some((_, agreed)) if agreed.iter().any(|a| same_email(a, actor)) => {
                    return Err(Error::permission(format!(
                        "{actor} has already agreed to break glass on {id}; another admin must confirm"
                    ))
                    .with_refusal(Refusal::BreakGlass))
                }
                Some(_) => {}
            }
        }
        Transition::Incident { report } => {
            let url = url::Url::parse(report.trim()).map_err(|_| {
                Error::invalid(format!(
                    "the incident report must be an http(s) URL, not `{}`",
                    report.escape_debug()
                ))
            })?;
            if !matches!(url.scheme(), "http" | "https") || has_credentials(&url) {
                return Err(Error::invalid(
                    "the incident report must be an http(s) URL without a user name or password",
                ));
            }
            if !ticket
                .status
                .history
                .iter()
                .any(|e| e.action == Action::Deploying && e.break_glass.is_some())
            {
                return Err(Error::conflict(format!(
                    "{id} was never deployed by breaking glass; it has no incident to report"
                )));
            }
            entry.report = Some(url.to_string());
        }
    }
    let status = &mut next.status;
    status.history.push(entry);
    Ok(next)
}

/// The gates a deploy must pass besides rights and state: the schedule,
/// approvals that still match the spec and have not expired, and freeze
/// windows (which only an admin's break-glass opens).
pub fn check_deployable(
    ticket: &Ticket,
    config: &Config,
    actor: &str,
    now: DateTime<Utc>,
    break_glass: Option<&str>,
) -> Result<()> {
    let id = ticket.id();
    if let Some(when) = ticket.spec.request.scheduled_date {
        if when.with_timezone(&Utc) > now {
            return Err(Error::conflict(format!(
                "{id} is scheduled for {}; it cannot be deployed before then",
                when.to_rfc3339()
            )));
        }
    }
    let digest = spec_digest(&ticket.spec);
    let approvals: Vec<&HistoryEntry> = ticket
        .status
        .history
        .iter()
        .filter(|e| e.action == Action::Approved)
        .collect();
    for a in &approvals {
        if a.digest.as_deref() != Some(digest.as_str()) {
            return Err(Error::conflict(format!(
                "the approval by {} at {} does not match the spec as it is now ({}); the request changed after it was approved",
                a.by,
                a.at.to_rfc3339(),
                a.digest.as_deref().unwrap_or("no digest")
            ))
            .with_hint("cancel it and file a new request for what should ship"));
        }
    }
    // Approvals are counted from history, never taken from `status.state`:
    // distinct people, each approval of this exact spec and, with
    // `approvals.expireAfter`, still young enough.
    let max_age = config
        .approvals
        .expire_after()?
        .map(|d| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX));
    let mut live: Vec<&str> = Vec::new();
    for a in &approvals {
        let young = max_age.is_none_or(|m| a.at + m >= now);
        if young && !live.iter().any(|x| crate::model::same_email(x, &a.by)) {
            live.push(&a.by);
        }
    }
    let live = live.len() as u32;
    let need = policy::required_approvals(config, ticket);
    // An approval at create by `system` was allowed by the rule in force
    // then (verify replays it); it stands for the whole quorum.
    if live < need && !approvals::auto_approved(ticket) {
        let why = match &config.approvals.expire_after {
            Some(e) if max_age.is_some() => format!(" younger than approvals.expireAfter ({e})"),
            _ => String::new(),
        };
        return Err(Error::conflict(format!(
            "{id} has {live} approval{}{why}, and needs {need}",
            if live == 1 { "" } else { "s" },
        ))
        .with_hint(if why.is_empty() {
            "it needs more approvals before it can be deployed".to_string()
        } else {
            "approvals lapsed; cancel it and file the request again for a fresh review".to_string()
        }));
    }
    // Break glass is an admin's act, inside a freeze or not: it opens
    // freezes and the wait timer.
    if let Some(reason) = break_glass {
        check_break_glass(config, actor, reason)?;
    }
    // Two-person break glass: the admins who agreed to the open request.
    let needed_admins = approvals::break_glass_admins(config);
    if let (Some(reason), true) = (break_glass, needed_admins > 1) {
        let agreed = match approvals::break_glass_agreement(ticket) {
            Some((opened, agreed)) if opened.comment.as_deref() == Some(reason.trim()) => agreed,
            _ => Vec::new(),
        };
        let eligible = agreed
            .iter()
            .filter(|a| policy::check_admin(config, a).is_ok())
            .count() as u32;
        if eligible < needed_admins || !agreed.iter().any(|a| same_email(a, actor)) {
            return Err(Error::permission(format!(
                "a break-glass deploy of {id} needs {needed_admins} distinct admins to agree (breakGlass.admins); {eligible} agreed"
            ))
            .with_hint(format!(
                "`ipr deploy {id} --break-glass --reason \"why\"` opens it; other admins run `ipr break-glass confirm {id}`"
            ))
            .with_refusal(Refusal::BreakGlass));
        }
    }
    if break_glass.is_none() {
        if let Some(until) = approvals::wait_until(config, ticket) {
            if now < until {
                return Err(Error::conflict(format!(
                    "{id} waits until {} before it can be deployed (approvals.waitTimer {} after its approval at {})",
                    until.to_rfc3339(),
                    config.approvals.wait_timer.as_ref().map(|w| w.to_string()).unwrap_or_default(),
                    ticket.status.approved_at.map(|a| a.to_rfc3339()).unwrap_or_default(),
                ))
                .with_hint(format!("deploy after then (`ipr deploy --due` deploys every request whose wait has passed); `ipr cancel {id}` stops it"))
                .with_refusal(Refusal::WaitTimer));
            }
        }
    }
    let env = &crate::model::normalize_environment(&ticket.spec.target.target_environment);
    let freeze = config.freezes.iter().find(|f| {
        f.from <= now && now < f.to && (f.environments.is_empty() || f.environments.contains(env))
    });
    // Break glass (checked above) opens a freeze.
    if let (Some(f), None) = (freeze, break_glass) {
        return Err(Error::permission(format!(
            "deploys to {env} are frozen until {}: {}",
            f.to.to_rfc3339(),
            f.reason
        ))
        .with_hint("in an emergency an admin may deploy with --break-glass --reason \"why\""));
    }
    Ok(())
}

/// Breaking glass is an admin's act, with a reason.
fn check_break_glass(config: &Config, actor: &str, reason: &str) -> Result<()> {
    policy::check_admin(config, actor).map_err(|_| {
        Error::permission(format!("{actor} may not break glass: only admins may"))
            .with_refusal(Refusal::BreakGlass)
    })?;
    if crate::model::visible_len(reason) == 0 {
        return Err(Error::invalid("--break-glass needs a --reason"));
    }
    Ok(())
}

fn past(t: &Transition) -> &'static str {
    match t {
        Transition::Approve { .. } => "approved",
        Transition::Reject { .. } => "rejected",
        Transition::Cancel { .. } => "cancelled",
        Transition::StartDeploy { .. } => "deployed",
        Transition::Succeed { .. } | Transition::Fail { .. } => "finished",
        Transition::Comment { .. } => "commented",
        Transition::BreakGlass { .. } | Transition::ConfirmBreakGlass => "broken into",
        Transition::Incident { .. } => "reported on",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Role, User};
    use crate::model::{Impact, PreChecks, RequestDetails, Target, TargetType};

    const DEV: &str = "dev@example.com";
    const ADMIN: &str = "admin@example.com";

    fn config() -> Config {
        let mut c = Config::starter(vec!["t".into()], Some(ADMIN.into()));
        c.users.insert(
            DEV.into(),
            User {
                role: Role::Devops,
                tenants: vec!["t".into()],
            },
        );
        c
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_773_133_200, 0).unwrap()
    }

    fn ticket(state: State) -> Ticket {
        let spec = Spec {
            target: Target {
                kind: TargetType::Api,
                name: "api".into(),
                version: "1".into(),
                source_environment: "staging".into(),
                target_environment: "prod".into(),
            },
            request: RequestDetails {
                justification: "a justification of some length".into(),
                release_notes: None,
                impact_assessment: Impact::Low,
                rollback_plan: "roll back".into(),
                scheduled_date: None,
            },
            pre_checks: PreChecks {
                staging_tests_passed: true,
                security_scan_passed: true,
                performance_tests_passed: false,
                test_evidence_url: "https://ci.example.com/1".parse().unwrap(),
            },
            plan: None,
            promoted_from: None,
        };
        let mut t = create(spec, RequestId::new(2026, 1), "t", DEV, &config(), now()).unwrap();
        if state != State::Pending {
            // Past pending means approved once: deploy counts approvals
            // from history, not from the state.
            let mut e = HistoryEntry::new(Action::Approved, now(), "approver@example.com");
            e.digest = Some(spec_digest(&t.spec));
            t.status.history.push(e);
        }
        t.status.state = state;
        t
    }

    fn all_transitions() -> Vec<Transition> {
        vec![
            Transition::Approve { comment: None },
            Transition::Reject {
                reason: "not this week, sorry".into(),
            },
            Transition::Cancel { reason: None },
            Transition::StartDeploy {
                runner: "shell".into(),
                job_id: None,
                break_glass: None,
            },
            Transition::Succeed {
                job_id: None,
                deployment_id: None,
            },
            Transition::Fail {
                job_id: None,
                error: "exit 1".into(),
            },
        ]
    }

    /// SPEC §5, the whole table: (from, transition index) → to.
    #[test]
    fn every_transition_from_every_state() {
        use State::*;
        let legal: &[(State, usize, State)] = &[
            (Pending, 0, Approved),
            (Pending, 1, Rejected),
            (Pending, 2, Cancelled),
            (Approved, 2, Cancelled),
            (Approved, 3, Deploying),
            (Failed, 3, Deploying),
            (Deploying, 4, Deployed),
            (Deploying, 5, Failed),
        ];
        for &from in State::ALL {
            for (i, t) in all_transitions().iter().enumerate() {
                let got = apply(&ticket(from), t, ADMIN, &config(), now());
                match legal.iter().find(|(f, n, _)| *f == from && *n == i) {
                    Some((_, _, to)) => {
                        let next = got.unwrap_or_else(|e| panic!("{from} {t:?}: {}", e.message()));
                        assert_eq!(next.status.state, *to, "{from} {t:?}");
                        assert_eq!(
                            next.status.history.len(),
                            ticket(from).status.history.len() + 1
                        );
                        assert_eq!(next.last_entry().by, ADMIN);
                    }
                    None => {
                        let e = got.expect_err(&format!("{from} {t:?} must be refused"));
                        assert_eq!(
                            e.kind(),
                            crate::error::Kind::Conflict,
                            "{from} {t:?}: {}",
                            e.message()
                        );
                        assert!(
                            e.message().contains(&format!("it is {from}")),
                            "{}",
                            e.message()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn terminal_states_are_terminal() {
        for &s in State::ALL {
            let any_legal = all_transitions()
                .iter()
                .any(|t| apply(&ticket(s), t, ADMIN, &config(), now()).is_ok());
            assert_eq!(!any_legal, s.is_terminal(), "{s}");
        }
    }

    #[test]
    fn deploy_rights() {
        let c = config();
        let t = ticket(State::Approved);
        let start = Transition::StartDeploy {
            runner: "shell".into(),
            job_id: None,
            break_glass: None,
        };
        assert!(
            apply(&t, &start, DEV, &c, now()).is_ok(),
            "devops deploys in own tenant"
        );
        let mut other = t.clone();
        other.metadata.tenant = "u".into();
        let e = apply(&other, &start, DEV, &c, now()).unwrap_err();
        assert_eq!(e.kind(), crate::error::Kind::Permission);
        assert!(apply(&other, &start, ADMIN, &c, now()).is_ok());
        let e = apply(&t, &start, "stranger@example.com", &c, now()).unwrap_err();
        assert_eq!(e.kind(), crate::error::Kind::Permission);
    }
}
