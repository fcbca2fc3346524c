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
use crate::model::{same_email, RequestId, State, Summary, Ticket};
use crate::policy::{self, Capability};
use crate::session::Session;
use crate::store::cache::{CachedTicket, JsonReader};
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
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
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
        self.list(&Filter::default())
    }

    /// The visible tickets that match `filter`.
    pub fn list(&self, filter: &Filter) -> Result<Listing> {
        let mut tickets = Vec::new();
        let skipped = self.each_listed(filter, |v| {
            tickets.push(v.into_ticket()?);
            Ok(())
        })?;
        Ok(Listing { tickets, skipped })
    }

    /// Call `each` with every visible ticket that matches `filter`, oldest
    /// first, from the summary cache (SPEC §14): a ticket is decoded only
    /// when a rule needs more than its summary or `each` asks for it.
    /// Returns the ticket files that do not parse.
    pub fn each_listed(
        &self,
        filter: &Filter,
        mut each: impl FnMut(Visible<'_, '_>) -> Result<()>,
    ) -> Result<Vec<String>> {
        self.each_visible(|mut v| {
            if !self.matches(filter, v.summary) {
                return Ok(());
            }
            if filter.pending && !self.may_review(v.ticket()?) {
                return Ok(());
            }
            each(v)
        })
    }

    /// Call `each` with every ticket the actor may view, oldest first;
    /// returns the ticket files that do not parse.
    fn each_visible(
        &self,
        mut each: impl FnMut(Visible<'_, '_>) -> Result<()>,
    ) -> Result<Vec<String>> {
        let cached = self.store.cached_tickets(self.head)?;
        let mut reader = cached.json();
        // Only a member of a rule's group may view more than the role
        // table says, and only that needs the whole ticket.
        let by_group = crate::approvals::in_rule_group(&self.config, &self.actor);
        let mut skipped = Vec::new();
        for entry in cached.entries() {
            let entry = &entry?;
            let summary = match &entry.summary {
                Ok(s) => s,
                Err(why) => {
                    skipped.push(why.clone());
                    continue;
                }
            };
            let mut v = Visible {
                summary,
                entry,
                reader: &mut reader,
                ticket: None,
            };
            let seen = policy::role_may_view(
                &self.config,
                &self.actor,
                &summary.tenant,
                &summary.created_by,
            ) || (by_group && policy::can_view(&self.config, &self.actor, v.ticket()?));
            if seen {
                each(v)?;
            }
        }
        Ok(skipped)
    }

    /// Whether `s` matches `f`, but for `pending`'s review rights (which
    /// need the whole ticket: [`View::may_review`]).
    fn matches(&self, f: &Filter, s: &Summary) -> bool {
        f.state.is_none_or(|x| s.state == x)
            && f.tenant.as_deref().is_none_or(|x| s.tenant == x)
            && f.created_by
                .as_deref()
                .is_none_or(|x| same_email(&s.created_by, x))
            && (!f.mine || same_email(&s.created_by, &self.actor))
            && (!f.pending || s.state == State::Pending)
            && f.text.as_deref().is_none_or(|x| mentions(s, x))
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
        let mut stats = Stats::default();
        let mut waiting = 0;
        let mut tenants = std::collections::BTreeSet::new();
        let mut tickets = Vec::new();
        let skipped = self.each_visible(|mut v| {
            stats.count(v.summary, self.now);
            tenants.insert(v.summary.tenant.clone());
            if v.summary.state == State::Pending && self.may_review(v.ticket()?) {
                waiting += 1;
            }
            if self.matches(filter, v.summary) && (!filter.pending || self.may_review(v.ticket()?))
            {
                tickets.push(v.into_ticket()?);
            }
            Ok(())
        })?;
        Ok(Overview {
            stats,
            waiting,
            tenants: tenants.into_iter().collect(),
            tickets,
            skipped,
        })
    }

    /// Counts over the visible tickets, as of the session's clock, and the
    /// ticket files that do not parse.
    pub fn stats(&self) -> Result<(Stats, Vec<String>)> {
        let mut stats = Stats::default();
        let skipped = self.each_visible(|v| {
            stats.count(v.summary, self.now);
            Ok(())
        })?;
        Ok((stats, skipped))
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

impl Stats {
    /// Count `s`: pending; approved and rejected on `now`'s day; deployed
    /// since Monday 00:00 UTC of `now`'s week.
    fn count(&mut self, s: &Summary, now: DateTime<Utc>) {
        let today = now.date_naive();
        let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
        let on_today = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t.date_naive() == today);
        self.pending += usize::from(s.state == State::Pending);
        self.approved_today += usize::from(on_today(s.approved_at));
        self.rejected_today += usize::from(on_today(s.rejected_at));
        self.deployed_this_week += usize::from(
            s.deployed_at
                .is_some_and(|d| d.date_naive() >= monday && d <= now),
        );
    }
}

/// Whether `s` mentions `text` in its id, target, tenant, creator or
/// justification, ignoring case.
fn mentions(s: &Summary, text: &str) -> bool {
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return true;
    }
    [
        s.id.to_string().as_str(),
        &s.name,
        &s.version,
        &s.target_environment,
        &s.tenant,
        &s.created_by,
        &s.justification,
    ]
    .iter()
    .any(|field| field.to_lowercase().contains(&text))
}

/// A ticket the actor may view, from the summary cache: its summary, and
/// the ticket itself or its JSON, read when asked for.
pub struct Visible<'a, 'r> {
    pub summary: &'a Summary,
    entry: &'a CachedTicket,
    reader: &'a mut JsonReader<'r>,
    ticket: Option<Ticket>,
}

impl Visible<'_, '_> {
    /// The whole ticket.
    pub fn ticket(&mut self) -> Result<&Ticket> {
        if self.ticket.is_none() {
            self.ticket = Some(self.reader.ticket(self.entry)?);
        }
        Ok(self.ticket.as_ref().expect("just decoded"))
    }

    pub fn into_ticket(mut self) -> Result<Ticket> {
        self.ticket()?;
        Ok(self.ticket.take().expect("just decoded"))
    }

    /// The ticket as an element of `ipr list --format json`'s array.
    pub fn json(&mut self) -> Result<&[u8]> {
        self.reader.get(self.entry)
    }
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
    let cached = store.cached_tickets(head)?;
    let mut reader = cached.json();
    for entry in cached.entries() {
        let entry = entry?;
        if !entry.summary.as_ref().is_ok_and(|s| s.break_glass) {
            continue;
        }
        let t = reader.ticket(&entry)?;
        if let Some(due) = crate::approvals::incident_overdue(&config, &t, now) {
            out.push(crate::violation::Violation {
                commit: head.map(|h| h.to_string()).unwrap_or_default(),
                file: entry.path.clone(),
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
