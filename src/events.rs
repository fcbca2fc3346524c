//! The events of SPEC §9, derived from landed history.
//!
//! An event is never built from what a process meant to do, only from a
//! transition commit that landed on the branch: its `Ipr-Action` and
//! `Ipr-Request` trailers say it is an ipr transition of a request, and the
//! history entries it added to the ticket say what happened. So the acting
//! CLI, `sync` (whose replays land as new commits), `ipr notify` (for
//! commits pushed by plain git) and a server all derive the same events,
//! and each event's [`Event::id`] is the same in every clone and on every
//! retry: the commit id and the history entry's position.

use chrono::{DateTime, Utc};
use git2::Oid;

use crate::error::Result;
pub use crate::model::EventKind;
use crate::model::{HistoryEntry, RequestId, Ticket};
use crate::store::Store;

/// One event: a history entry that a landed commit added to a ticket.
#[derive(Debug, Clone)]
pub struct Event {
    /// Stable and unique: `<commit id>.<history index>`.
    pub id: String,
    pub kind: EventKind,
    pub request: RequestId,
    /// The commit that recorded it.
    pub commit: Oid,
    /// The history entry's `by`.
    pub actor: String,
    /// The history entry's `at`.
    pub time: DateTime<Utc>,
    /// The ticket as that commit left it.
    pub ticket: Ticket,
    /// The position of the entry in `status.history`.
    pub index: usize,
}

impl Event {
    /// The history entry the event is about.
    pub fn entry(&self) -> &HistoryEntry {
        &self.ticket.status.history[self.index]
    }
}

/// The events of one commit: none unless it is an ipr transition of a
/// request (trailers `Ipr-Action` and `Ipr-Request`, one parent); one per
/// history entry it added to that request's ticket. Imports bring history
/// from elsewhere and are no events.
pub fn of_commit(store: &Store, commit: Oid) -> Result<Vec<Event>> {
    let info = store.commit_details(commit)?;
    let (Some(action), Some(request)) = (info.action.as_deref(), info.request) else {
        return Ok(Vec::new());
    };
    if action == "import" || info.parents.len() != 1 {
        return Ok(Vec::new());
    }
    let ticket = match store.ticket(Some(commit), request) {
        Ok(t) => t,
        // A commit whose ticket does not read is verify's business.
        Err(_) => return Ok(Vec::new()),
    };
    let before = store
        .ticket(Some(info.parents[0]), request)
        .map(|t| t.status.history.len())
        .unwrap_or(0);
    let history = &ticket.status.history;
    if before > history.len() {
        return Ok(Vec::new());
    }
    Ok((before..history.len())
        .filter_map(|index| {
            let entry = &history[index];
            Some(Event {
                id: format!("{commit}.{index}"),
                kind: EventKind::of(entry.action)?,
                request,
                commit,
                actor: entry.by.clone(),
                time: entry.at,
                ticket: ticket.clone(),
                index,
            })
        })
        .collect())
}

/// The events of the commits reachable from `tip` and not from `base`,
/// oldest first.
pub fn between(store: &Store, base: Option<Oid>, tip: Oid) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    for commit in store.commits_between(base, tip)? {
        out.extend(of_commit(store, commit)?);
    }
    Ok(out)
}

/// The events of `commits`, in that order.
pub fn of_commits(store: &Store, commits: &[Oid]) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    for &commit in commits {
        out.extend(of_commit(store, commit)?);
    }
    Ok(out)
}
