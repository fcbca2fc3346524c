//! Reads: what a user may see, for every front end.
//!
//! A [`View`] is the committed state of the branch as one actor sees it:
//! the legitimate config (SPEC §10a), and only the tickets that actor may
//! view (SPEC §4). `list`, `stats`, `show`, `log` and the review queue
//! (`pending`) all go through it, so the CLI, a server and a Slack app give
//! one user the same answers.

use chrono::{DateTime, Datelike, Duration, Utc};
use git2::Oid;
use serde::Serialize;

use crate::action;
use crate::config::Config;
use crate::error::Result;
use crate::model::{same_email, RequestId, State, Ticket};
use crate::policy::{self, Capability};
use crate::session::Session;
use crate::store::signing::Verifier;
use crate::store::Store;
use crate::trust::Trusted;
use crate::workflow::{self, Transition};

/// The branch as one actor sees it.
pub struct View<'s> {
    store: &'s Store,
    head: Option<Oid>,
    config: Config,
    actor: String,
    now: DateTime<Utc>,
    trust: Trusted,
}

/// Which requests to list; every filter given must match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<State>,
    pub tenant: Option<String>,
    pub created_by: Option<String>,
    /// Only the actor's own requests.
    pub mine: bool,
    /// Only pending requests the actor may approve (the review queue).
    pub pending: bool,
    /// Text that the id, target, tenant, creator or justification holds
    /// (case-insensitive).
    pub text: Option<String>,
}

/// A dashboard's data ([`View::overview`]).
#[derive(Debug)]
pub struct Overview {
    pub stats: Stats,
    /// Pending requests the actor may approve.
    pub waiting: usize,
    /// The tenants of the visible requests, sorted.
    pub tenants: Vec<String>,
    /// The visible requests that match the filter, oldest first.
    pub tickets: Vec<Ticket>,
    pub skipped: Vec<String>,
}

/// What the actor may do to a ticket now: the checks the commit itself
/// would make, so a front end shows a button only to those it would
/// not refuse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Allowed {
    pub approve: bool,
    pub reject: bool,
    pub cancel: bool,
}

/// Tickets, and the files that could not be read.
#[derive(Debug, Default)]
pub struct Listing {
    pub tickets: Vec<Ticket>,
    /// Ticket files that do not parse, with why: skipped, so one bad file
    /// does not hide the rest (`ipr verify` fails on them).
    pub skipped: Vec<String>,
}

/// Counts for a dashboard (SPEC §6 `stats`, §12 `/stats`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub pending: usize,
    pub approved_today: usize,
    pub rejected_today: usize,
    /// Since Monday 00:00 UTC.
    pub deployed_this_week: usize,
}

/// One commit of a ticket's history, with its signature status.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub commit: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    /// `good`, `bad`, `unsigned` or `unknown-key`.
    pub signature: &'static str,
    /// Who signed (good), or why the signature is not good.
    pub signer: Option<String>,
}

impl<'s> View<'s> {
    /// The branch tip as `session`'s actor sees it, after verifying the
    /// history up to it.
    pub fn open(store: &'s Store, session: &Session) -> Result<View<'s>> {
        let snap = action::snapshot(store, session)?;
        Ok(View {
            store,
            head: snap.head,
            config: snap.config,
            actor: snap.actor.email,
            now: snap.now,
            trust: snap.trust,
        })
    }

    /// The legitimate config the view applies.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The one warning a read gives when history does not verify (reads
    /// still answer, SPEC §10a).
    pub fn warning(&self) -> Option<String> {
        self.trust.warning()
    }

    /// Approvals `ticket` needs in all.
    pub fn required_approvals(&self, ticket: &Ticket) -> u32 {
        policy::required_approvals(&self.config, ticket)
    }

    /// Every ticket the actor may view, oldest first.
    pub fn visible(&self) -> Result<Listing> {
        let mut out = Listing::default();
        for file in self.store.ticket_files(self.head)? {
            match Ticket::from_yaml(&file.bytes, &file.path) {
                Ok(t) => {
                    if policy::can_view(&self.config, &self.actor, &t) {
                        out.tickets.push(t);
                    }
                }
                Err(e) => out.skipped.push(e.message().to_string()),
            }
        }
        Ok(out)
    }

    /// The visible tickets that match `filter`.
    pub fn list(&self, filter: &Filter) -> Result<Listing> {
        let mut listing = self.visible()?;
        listing.tickets.retain(|t| self.matches(filter, t));
        Ok(listing)
    }

    fn matches(&self, f: &Filter, t: &Ticket) -> bool {
        f.state.is_none_or(|s| t.status.state == s)
            && f.tenant.as_deref().is_none_or(|x| t.metadata.tenant == x)
            && f.created_by
                .as_deref()
                .is_none_or(|x| same_email(&t.metadata.created_by, x))
            && (!f.mine || same_email(&t.metadata.created_by, &self.actor))
            && (!f.pending || self.may_review(t))
            && f.text.as_deref().is_none_or(|x| mentions(t, x))
    }

    /// What the actor may do to `t` now (SPEC §4, §5): each transition
    /// tried against every rule, nothing committed.
    pub fn allowed(&self, t: &Ticket) -> Allowed {
        let may =
            |tr: Transition| workflow::apply(t, &tr, &self.actor, &self.config, self.now).is_ok();
        Allowed {
            approve: may(Transition::Approve { comment: None }),
            // Any reason long enough: the rule is about who and when.
            reject: may(Transition::Reject {
                reason: "x".repeat(crate::model::MIN_REJECT_REASON),
            }),
            cancel: may(Transition::Cancel { reason: None }),
        }
    }

    /// Whether the actor may approve or reject `t` now.
    pub fn may_review(&self, t: &Ticket) -> bool {
        t.status.state == State::Pending
            && policy::check(&self.config, &self.actor, Capability::Review, t).is_ok()
    }

    /// Pending requests the actor may approve.
    pub fn pending_for_me(&self) -> Result<Listing> {
        self.list(&Filter {
            pending: true,
            ..Filter::default()
        })
    }

    /// The actor's own requests.
    pub fn mine(&self) -> Result<Listing> {
        self.list(&Filter {
            mine: true,
            ..Filter::default()
        })
    }

    /// What a dashboard shows, from one read of the tickets: the stats,
    /// how many requests wait for the actor, the tenants of the visible
    /// requests, and those that match `filter`.
    pub fn overview(&self, filter: &Filter) -> Result<Overview> {
        let listing = self.visible()?;
        let stats = stats_of(&listing.tickets, self.now);
        let waiting = listing
            .tickets
            .iter()
            .filter(|t| self.may_review(t))
            .count();
        let mut tenants: Vec<String> = listing
            .tickets
            .iter()
            .map(|t| t.metadata.tenant.clone())
            .collect();
        tenants.sort();
        tenants.dedup();
        let tickets = listing
            .tickets
            .into_iter()
            .filter(|t| self.matches(filter, t))
            .collect();
        Ok(Overview {
            stats,
            waiting,
            tenants,
            tickets,
            skipped: listing.skipped,
        })
    }

    /// Counts over the visible tickets, as of the session's clock.
    pub fn stats(&self) -> Result<(Stats, Listing)> {
        let listing = self.visible()?;
        let stats = stats_of(&listing.tickets, self.now);
        Ok((stats, listing))
    }

    /// One ticket, if the actor may view it (exit 3 otherwise).
    pub fn show(&self, id: RequestId) -> Result<Ticket> {
        let ticket = self.store.ticket(self.head, id)?;
        policy::check(&self.config, &self.actor, Capability::View, &ticket)?;
        Ok(ticket)
    }

    /// The commits of one ticket, newest first, with the signature status
    /// of each, judged as verify judges it.
    pub fn log(&self, id: RequestId) -> Result<Vec<LogEntry>> {
        let ticket = self.show(id)?;
        let verifier = Verifier::from_config(self.store.repo())?;
        let mut rows = Vec::new();
        for c in self.store.file_history(self.head, &ticket.path())? {
            let status = crate::verify::signature_status(self.store, &verifier, c.id)?;
            rows.push(LogEntry {
                commit: c.id.to_string(),
                at: c.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                actor: c.author.email,
                action: c
                    .action
                    .unwrap_or_else(|| format!("(not ipr) {}", c.summary)),
                signature: status.as_str(),
                signer: status.detail().map(str::to_string),
            });
        }
        Ok(rows)
    }
}

/// Pending requests; approved and rejected on `now`'s day; deployed since
/// Monday 00:00 UTC of `now`'s week.
pub fn stats_of(tickets: &[Ticket], now: DateTime<Utc>) -> Stats {
    let today = now.date_naive();
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let on_today = |t: &Option<DateTime<Utc>>| t.is_some_and(|t| t.date_naive() == today);
    let count = |f: &dyn Fn(&Ticket) -> bool| tickets.iter().filter(|t| f(t)).count();
    Stats {
        pending: count(&|t| t.status.state == State::Pending),
        approved_today: count(&|t| on_today(&t.status.approved_at)),
        rejected_today: count(&|t| on_today(&t.status.rejected_at)),
        deployed_this_week: count(&|t| {
            t.status
                .deployed_at
                .is_some_and(|d| d.date_naive() >= monday && d <= now)
        }),
    }
}

/// Whether `t` mentions `text` in its id, target, tenant, creator or
/// justification, ignoring case.
fn mentions(t: &Ticket, text: &str) -> bool {
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return true;
    }
    let target = &t.spec.target;
    [
        t.id().to_string().as_str(),
        &target.name,
        &target.version,
        &target.target_environment,
        &t.metadata.tenant,
        &t.metadata.created_by,
        &t.spec.request.justification,
    ]
    .iter()
    .any(|field| field.to_lowercase().contains(&text))
}

/// A request in a review queue, with what it still needs (`ipr list
/// --pending` and the server's `/pending`): the ticket's own keys, and
/// `needs`.
#[derive(Debug, Serialize)]
pub struct Queued<'t> {
    #[serde(flatten)]
    pub ticket: &'t Ticket,
    pub needs: crate::approvals::Needs,
}

/// `tickets` with what each still needs under `config`.
pub fn queued<'t>(config: &Config, tickets: &'t [Ticket]) -> Vec<Queued<'t>> {
    tickets
        .iter()
        .map(|ticket| Queued {
            ticket,
            needs: crate::approvals::needs(config, ticket),
        })
        .collect()
}

/// The requests at HEAD whose incident report after a break-glass deploy
/// is overdue at `now` (`breakGlass.incidentWithin` of the legitimate
/// config): warnings of rule `incident-overdue`, not violations; history
/// that was legal stays legal, however late its paperwork.
pub fn overdue_incidents(
    store: &Store,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<crate::violation::Violation>> {
    let head = store.head()?;
    let Ok(config) = crate::trust::check(store, head).and_then(|t| t.config()) else {
        return Ok(Vec::new());
    };
    if config.break_glass.is_none() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for file in store.ticket_files(head)? {
        let Ok(t) = crate::model::Ticket::from_yaml(&file.bytes, &file.path) else {
            continue;
        };
        if let Some(due) = crate::approvals::incident_overdue(&config, &t, now) {
            out.push(crate::violation::Violation {
                commit: head.map(|h| h.to_string()).unwrap_or_default(),
                file: file.path,
                rule: crate::violation::Rule::IncidentOverdue,
                message: format!(
                    "{}: the incident report of its break-glass deploy was due {}; `ipr incident {} --report URL` records it",
                    t.id(),
                    due.to_rfc3339(),
                    t.id()
                ),
            });
        }
    }
    Ok(out)
}
