//! Events ipr emits (SPEC §9), through one interface. Delivery to Slack,
//! webhooks and email plugs in behind [`Notifier`]; a failed delivery is a
//! warning, never a lost transition, so `notify` cannot fail.

use serde::Serialize;

use crate::model::Ticket;

/// The event names of SPEC §9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    RequestCreated,
    RequestApproved,
    RequestRejected,
    DeploymentStarted,
    DeploymentSucceeded,
    DeploymentFailed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RequestCreated => "request-created",
            EventKind::RequestApproved => "request-approved",
            EventKind::RequestRejected => "request-rejected",
            EventKind::DeploymentStarted => "deployment-started",
            EventKind::DeploymentSucceeded => "deployment-succeeded",
            EventKind::DeploymentFailed => "deployment-failed",
        }
    }
}

/// One event: what happened, to which request, by whom.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event: EventKind,
    pub request_id: String,
    pub tenant: String,
    pub target: String,
    pub actor: String,
    pub state: String,
    /// Job id, error, or other detail of the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Event {
    pub fn new(event: EventKind, ticket: &Ticket, actor: &str, detail: Option<String>) -> Event {
        let t = &ticket.spec.target;
        Event {
            event,
            request_id: ticket.id().to_string(),
            tenant: ticket.metadata.tenant.clone(),
            target: format!("{} {}", t.name, t.version),
            actor: actor.to_string(),
            state: ticket.status.state.to_string(),
            detail,
        }
    }
}

/// Where events go.
pub trait Notifier {
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
    pub events: std::sync::Mutex<Vec<Event>>,
}

impl Notifier for Recorder {
    fn notify(&self, event: &Event) {
        self.events
            .lock()
            .expect("no panics while locked")
            .push(event.clone());
    }
}

impl Recorder {
    pub fn kinds(&self) -> Vec<EventKind> {
        self.events
            .lock()
            .expect("no panics while locked")
            .iter()
            .map(|e| e.event)
            .collect()
    }
}
