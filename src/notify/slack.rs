//! `kind: slack`: a Block Kit message through a Slack incoming webhook
//! (<https://api.slack.com/messaging/webhooks>). The webhook URL is a
//! credential: it comes from the environment variable config names and
//! appears in no message, error or log.
//!
//! Slack answers `200 ok`, or an HTTP error with a code in the body
//! (`invalid_blocks`, `no_service`, `channel_is_archived`, ...).

use std::time::Duration;

use serde_json::{json, Value};

use super::{http_error, secret, Message, Sent, Transport};
use crate::config::SlackTarget;
use crate::error::{Error, Result};

/// Slack's limits: header text 150 characters, a field 2000, a section
/// text 3000.
pub(crate) const HEADER_MAX: usize = 150;
const FIELD_MAX: usize = 2000;
pub(crate) const TEXT_MAX: usize = 3000;

/// Text for a `mrkdwn` object: `&`, `<` and `>` are the characters Slack
/// asks to escape, so a ticket cannot mention `<!channel>` or forge a link.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}

pub(crate) fn field(label: &str, value: &str) -> Value {
    mrkdwn(cut(&format!("*{label}*\n{}", escape(value)), FIELD_MAX))
}

/// A `mrkdwn` text object that Slack shows as written: `verbatim` keeps
/// it from turning `@here`, `#channel` or a bare URL in a ticket into a
/// mention or a link.
pub(crate) fn mrkdwn(text: String) -> Value {
    json!({"type": "mrkdwn", "text": text, "verbatim": true})
}

/// The message: header, the request's facts, the reason or error, the
/// event's id and commit, and a button to the request when `server.url` is
/// set.
pub fn message(m: &Message) -> Value {
    let t = m.ticket();
    let entry = m.event.entry();
    let mut blocks = vec![
        json!({
            "type": "header",
            "text": {"type": "plain_text", "text": cut(&format!("{} {}", m.event.request, m.verb()), HEADER_MAX)}
        }),
        json!({
            "type": "section",
            "fields": [
                field("Target", &m.target().replace(" -> ", " → ")),
                field("Tenant", &t.metadata.tenant),
                field("Impact", t.spec.request.impact_assessment.as_str()),
                field("State", t.status.state.as_str()),
                field("Approvals", &m.approvals_text()),
                field(by_label(m), &entry.by),
            ]
        }),
    ];
    if let Some(reason) = m.reason() {
        let label = if m.event.kind == crate::events::EventKind::DeploymentFailed {
            "Error"
        } else {
            "Reason"
        };
        blocks.push(json!({
            "type": "section",
            "text": mrkdwn(cut(&format!("*{label}*\n{}", escape(&reason)), TEXT_MAX))
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [mrkdwn(format!("{} · requested by {} · commit `{:.8}`",
                m.event.kind, escape(&t.metadata.created_by), m.event.commit.to_string()))]
    }));
    if let Some(url) = &m.url {
        blocks.push(json!({
            "type": "actions",
            "elements": [{
                "type": "button",
                "action_id": "open-request",
                "text": {"type": "plain_text", "text": format!("Open {}", m.event.request)},
                "url": url,
            }]
        }));
    }
    json!({ "text": escape(&m.headline()), "blocks": blocks })
}

fn by_label(m: &Message) -> &'static str {
    use crate::events::EventKind::*;
    match m.event.kind {
        RequestCreated => "Requested by",
        RequestApproved => "Approved by",
        RequestRejected => "Rejected by",
        RequestCancelled => "Cancelled by",
        RequestCommented => "Comment by",
        DeploymentStarted | DeploymentSucceeded | DeploymentFailed => "Deployed by",
    }
}

pub fn send(
    transport: &Transport,
    target: &SlackTarget,
    timeout: Duration,
    m: &Message,
) -> Result<Sent> {
    let url = secret(&target.webhook_url_env, "Slack incoming-webhook URL")?;
    let url = reqwest::Url::parse(&url).map_err(|_| {
        Error::other(format!(
            "{} does not hold a URL (expected https://hooks.slack.com/services/...)",
            target.webhook_url_env
        ))
    })?;
    if url.scheme() != "https" && !url.host_str().is_some_and(crate::model::is_loopback) {
        return Err(Error::other(format!(
            "{} does not hold an https URL",
            target.webhook_url_env
        )));
    }
    let body = message(m);
    let request = transport.http.post(url).timeout(timeout).json(&body);
    transport.block_on(async move {
        let response = request.send().await.map_err(|e| http_error(e, timeout))?;
        super::answer(response, "Slack").await
    })
}
