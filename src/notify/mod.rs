//! Where events go (SPEC §9): one sender per target kind, behind one
//! [`send`]. Which events are still to be delivered, and recording what
//! was, is the engine's business ([`crate::outbox`]); this module only
//! turns one event into a Slack message, a signed webhook, an email or a
//! Kafka record, and hands it over.
//!
//! A sender never returns a secret: errors are worded here, and the
//! caller scrubs them once more with [`crate::secrets::Secrets`].

pub mod cloudevent;
pub mod email;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod slack;
pub mod slack_app;
pub mod webhook;

use std::sync::Mutex;

use git2::Oid;
use serde::Serialize;

use crate::config::Notification;
use crate::error::{Error, Result};
use crate::events::{self, Event, EventKind};
use crate::model::{Action, Ticket};
use crate::store::Store;

pub use email::Templates;

/// Told when commits landed on the shared branch, so that their events
/// go out (SPEC §9: the process that lands a transition delivers it).
pub trait Notifier: Send + Sync {
    fn landed(&self, store: &Store, commits: &[Oid]);
}

/// Delivers nowhere.
pub struct Silent;

impl Notifier for Silent {
    fn landed(&self, _store: &Store, _commits: &[Oid]) {}
}

/// Keeps the events of landed commits in memory, for callers (and tests)
/// that inspect them.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<Event>>,
}

impl Notifier for Recorder {
    fn landed(&self, store: &Store, commits: &[Oid]) {
        if let (Ok(new), Ok(mut events)) = (events::of_commits(store, commits), self.events.lock())
        {
            events.extend(new);
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

/// One event as every target shows it: the event and the facts a reader
/// needs that the ticket alone does not give.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    #[serde(skip)]
    pub event: Event,
    /// CloudEvents `source`: the same from every clone.
    pub source: String,
    /// The request's page on `ipr serve` (`server.url`), if there is one.
    pub url: Option<String>,
    /// Distinct approvals so far, and how many the request needs.
    pub approvals: (u32, u32),
    /// Whom an email about it goes to (SPEC §9 audiences).
    pub recipients: Vec<String>,
}

impl Message {
    pub fn ticket(&self) -> &Ticket {
        &self.event.ticket
    }

    /// `payment-api 2.1.0 -> prod`.
    pub fn target(&self) -> String {
        let t = &self.ticket().spec.target;
        format!("{} {} -> {}", t.name, t.version, t.target_environment)
    }

    /// What happened, in a word or two: `approved`, `deploy failed`.
    pub fn verb(&self) -> &'static str {
        match self.event.kind {
            EventKind::RequestCreated => "created",
            EventKind::RequestApproved if self.approvals.0 < self.approvals.1 => "approval",
            EventKind::RequestApproved => "approved",
            EventKind::RequestRejected => "rejected",
            EventKind::RequestCancelled => "cancelled",
            EventKind::RequestCommented => "comment",
            EventKind::DeploymentStarted => "deploying",
            EventKind::DeploymentSucceeded => "deployed",
            EventKind::DeploymentFailed => "deploy failed",
        }
    }

    /// `PR-2026-0001 approved: payment-api 2.1.0 -> prod`: a line a person
    /// can sort by (email subject, Slack notification text).
    pub fn headline(&self) -> String {
        format!("{} {}: {}", self.event.request, self.verb(), self.target())
    }

    /// The reason or error the event carries: a rejection's reason, a
    /// failed deploy's error, a cancellation's or approval's comment, a
    /// break-glass reason.
    pub fn reason(&self) -> Option<String> {
        let e = self.event.entry();
        let text = match e.action {
            Action::Failed => e.error.clone().or_else(|| e.comment.clone()),
            Action::Deploying => e
                .break_glass
                .as_ref()
                .map(|r| format!("break glass: {r}"))
                .or_else(|| e.comment.clone()),
            Action::Rejected => e
                .comment
                .clone()
                .or_else(|| self.ticket().status.rejection_reason.clone()),
            _ => e.comment.clone(),
        };
        text.filter(|t| !t.trim().is_empty())
    }

    /// `approvals 1/2`.
    pub fn approvals_text(&self) -> String {
        format!("{}/{}", self.approvals.0, self.approvals.1)
    }
}

/// What sending to targets shares: a runtime for the async clients (never
/// nested in a caller's) and one HTTP client.
pub struct Transport {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    /// Where a target keeps what it needs between deliveries in this
    /// clone (the Slack app: which message announced which request).
    state: Option<std::path::PathBuf>,
}

impl Transport {
    pub fn new() -> Result<Transport> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::other(format!("notifications: tokio runtime: {e}")))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("ipr/", env!("CARGO_PKG_VERSION")))
            // A webhook URL must not send ipr on to somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::other(format!("notifications: HTTP client: {e}")))?;
        Ok(Transport {
            runtime,
            http,
            state: None,
        })
    }

    /// Keep targets' state under `dir` (`.git/ipr/notify`).
    pub fn with_state(mut self, dir: std::path::PathBuf) -> Transport {
        self.state = Some(dir);
        self
    }

    pub(crate) fn block_on<F>(&self, future: F) -> F::Output
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        crate::runner::block_on(&self.runtime, future)
    }
}

/// How a delivery ended, when it did not fail in a way worth retrying.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// The receiver took it (for email: at least one recipient did, and
    /// `warnings` name those refused for good).
    Delivered { warnings: Vec<String> },
    /// The receiver refused this event for good (an HTTP 400, 413, 415 or
    /// 422 answer; every recipient unknown): retrying cannot help, and it
    /// must not hold up the events after it.
    Rejected(String),
}

impl Sent {
    pub fn ok() -> Sent {
        Sent::Delivered {
            warnings: Vec::new(),
        }
    }
}

/// Deliver `message` to `target`. An error is worth retrying (the
/// receiver is down, slow, misconfigured); it says what failed and holds
/// no secret.
pub fn send(
    transport: &Transport,
    target: &Notification,
    message: &Message,
    templates: &Templates,
) -> Result<Sent> {
    match target {
        Notification::Slack(t) => slack::send(transport, t, target.timeout(), message),
        Notification::SlackApp(t) => slack_app::send(transport, t, target.timeout(), message),
        Notification::Webhook(t) => webhook::send(transport, t, target.timeout(), message),
        Notification::Email(t) => email::send(t, target.timeout(), message, templates),
        #[cfg(feature = "kafka")]
        Notification::Kafka(t) => kafka::send(transport, t, target.timeout(), message),
        #[cfg(not(feature = "kafka"))]
        Notification::Kafka(_) => Err(Error::other(
            "this ipr was built without Kafka support (cargo feature `kafka`)",
        )),
    }
}

/// The value of the environment variable `name` that config names for a
/// secret; the error names the variable, never a value.
pub(crate) fn secret(name: &str, what: &str) -> Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(Error::other(format!(
            "{name} is not set (it holds the {what})"
        ))),
    }
}

/// An HTTP failure worded without its URL (a Slack webhook URL is a
/// credential).
pub(crate) fn http_error(e: reqwest::Error, timeout: std::time::Duration) -> Error {
    if e.is_timeout() {
        return Error::other(format!(
            "no answer within {}",
            humantime::format_duration(timeout)
        ));
    }
    let e = e.without_url();
    // The innermost cause says what happened ("Connection refused");
    // reqwest's and hyper's wrappers around it do not.
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if e.is_connect() {
        Error::other(format!("cannot connect: {cause}"))
    } else {
        Error::other(cause)
    }
}

/// An HTTP answer: success, a refusal of this payload for good, or a
/// failure to retry.
pub(crate) async fn answer(response: reqwest::Response, who: &str) -> Result<Sent> {
    let status = response.status();
    if status.is_success() {
        return Ok(Sent::ok());
    }
    let text = response.text().await.unwrap_or_default();
    let said = format!("{who} answered {status}: {}", snippet(&text));
    match status.as_u16() {
        400 | 413 | 415 | 422 => Ok(Sent::Rejected(said)),
        _ => Err(Error::other(said)),
    }
}

/// The first line of a receiver's answer, short enough for a warning.
pub(crate) fn snippet(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    // A receiver's text goes to a terminal: no control characters.
    let mut s: String = line.chars().filter(|c| !c.is_control()).take(200).collect();
    if line.chars().count() > 200 {
        s.push('…');
    }
    s
}
