//! Where events go (SPEC §9), through one interface. Events come from
//! landed history ([`crate::events`]); delivery to Slack, webhooks, email
//! and Kafka plugs in behind [`Notifier`]. A failed delivery is a warning,
//! never a lost transition, so `notify` cannot fail.

use std::sync::Mutex;

use git2::Oid;

use crate::events::{self, Event, EventKind};
use crate::store::Store;

/// Where events go.
pub trait Notifier: Send + Sync {
    fn notify(&self, event: &Event);
}

/// Delivers nowhere: no notification targets are configured.
pub struct Silent;

impl Notifier for Silent {
    fn notify(&self, _event: &Event) {}
}

/// Keeps events in memory, for callers (and tests) that inspect them.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<Event>>,
}

impl Notifier for Recorder {
    fn notify(&self, event: &Event) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event.clone());
        }
    }
}

impl Recorder {
    pub fn kinds(&self) -> Vec<EventKind> {
        self.events
            .lock()
            .map(|e| e.iter().map(|e| e.kind).collect())
            .unwrap_or_default()
    }
}

/// Hand the events of the commits a process landed to `notifier`. Reading
/// them is best effort: the transitions are committed whatever happens.
pub fn landed(store: &Store, notifier: &dyn Notifier, commits: &[Oid]) {
    if let Ok(events) = events::of_commits(store, commits) {
        for event in &events {
            notifier.notify(event);
        }
    }
}
