//! The Slack app's side of notifications (SPEC §13): the Web API calls
//! the app makes (`chat.postMessage`, `chat.update`, `chat.postEphemeral`,
//! `views.open`, and answers to a `response_url`), and the Block Kit
//! messages that show a request, with Approve and Reject buttons while it
//! is pending.
//!
//! The bot token comes from the environment variable `slack.botTokenEnv`
//! names and appears in no message, error or log. Every text from a
//! ticket is escaped ([`super::slack::escape`]) and `verbatim`, so a
//! ticket cannot mention `@channel` or forge a link.

use std::time::Duration;

use serde_json::{json, Value};

use super::slack::{cut, escape, field, mrkdwn, HEADER_MAX, TEXT_MAX};
use super::{http_error, secret, Message, Sent, Transport};
use crate::config::notifications::SlackAppTarget;
use crate::error::{Error, Result};
use crate::model::{State, Ticket};

/// `action_id`s of the buttons the app posts.
pub const APPROVE: &str = "ipr-approve";
pub const REJECT: &str = "ipr-reject";
pub const CONFIRM: &str = "ipr-draft-confirm";
pub const EDIT: &str = "ipr-draft-edit";
pub const CANCEL: &str = "ipr-draft-cancel";

/// How long a Web API call may take.
pub const API_TIMEOUT: Duration = Duration::from_secs(10);

/// The Slack Web API with the bot's token.
#[derive(Clone)]
pub struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    /// The API at `base` (no trailing `/`) with the token held by the
    /// environment variable `token_env`.
    pub fn new(base: &str, token_env: &str, http: reqwest::Client) -> Result<Api> {
        Ok(Api {
            base: base.trim_end_matches('/').to_string(),
            token: secret(token_env, "Slack bot token")?,
            http,
        })
    }

    /// Call the Web API `method` with a JSON body; Slack answers
    /// `{"ok": true, ...}` or `{"ok": false, "error": "channel_not_found"}`.
    pub async fn call(&self, method: &str, body: &Value) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .bearer_auth(&self.token)
            .timeout(API_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(|e| http_error(e, API_TIMEOUT))?;
        let status = response.status();
        let answer: Value = response.json().await.map_err(|_| {
            Error::other(format!("Slack's {method} answered {status} without JSON"))
        })?;
        if answer["ok"].as_bool() == Some(true) {
            Ok(answer)
        } else {
            let why = answer["error"].as_str().unwrap_or("no reason given");
            Err(Error::other(format!(
                "Slack's {method} refused: {}",
                super::snippet(why)
            )))
        }
    }

    /// Post `message` (`{text, blocks}`) in `channel`; answers its `ts`.
    pub async fn post_message(&self, channel: &str, message: &Value) -> Result<String> {
        let mut body = message.clone();
        body["channel"] = json!(channel);
        let answer = self.call("chat.postMessage", &body).await?;
        Ok(answer["ts"].as_str().unwrap_or_default().to_string())
    }

    /// Replace the message `ts` of `channel` with `message`.
    pub async fn update(&self, channel: &str, ts: &str, message: &Value) -> Result<()> {
        let mut body = message.clone();
        body["channel"] = json!(channel);
        body["ts"] = json!(ts);
        self.call("chat.update", &body).await.map(|_| ())
    }

    /// A message only `user` sees, in `channel`.
    pub async fn post_ephemeral(&self, channel: &str, user: &str, message: &Value) -> Result<()> {
        let mut body = message.clone();
        body["channel"] = json!(channel);
        body["user"] = json!(user);
        self.call("chat.postEphemeral", &body).await.map(|_| ())
    }

    /// Open the modal `view` for the click or command of `trigger_id`.
    pub async fn open_view(&self, trigger_id: &str, view: &Value) -> Result<()> {
        self.call(
            "views.open",
            &json!({"trigger_id": trigger_id, "view": view}),
        )
        .await
        .map(|_| ())
    }
}

/// Answer through a `response_url` Slack gave with a command or a click
/// (no token: the URL itself is the permission, valid for 30 minutes).
pub async fn respond(http: &reqwest::Client, response_url: &str, message: &Value) -> Result<()> {
    let response = http
        .post(response_url)
        .timeout(API_TIMEOUT)
        .json(message)
        .send()
        .await
        .map_err(|e| http_error(e, API_TIMEOUT))?;
    match super::answer(response, "Slack").await? {
        Sent::Delivered { .. } => Ok(()),
        Sent::Rejected(why) => Err(Error::other(why)),
    }
}

/// What a request shows in Slack: what `ipr show` shows, in Block Kit.
pub struct RequestView<'a> {
    pub ticket: &'a Ticket,
    /// Distinct approvals so far, and the quorum.
    pub approvals: (u32, u32),
    /// What it still needs, for people (`1 of dba`).
    pub missing: Vec<String>,
    /// The request's page on `ipr serve`, when `server.url` is set.
    pub url: Option<String>,
    /// With the justification, release notes, rollback plan, pre-checks
    /// and timeline (`/ipr show`), or the facts only (announcements).
    pub full: bool,
}

/// One line for a list: `PR-2026-0001 pending payment-api 2.1.0 staging → prod …`.
pub fn list_line(t: &Ticket, approvals: (u32, u32)) -> String {
    let s = &t.spec.target;
    format!(
        "`{}` *{}* {} {} {} → {} · {} · {} · {}/{}",
        t.metadata.id,
        t.status.state.as_str(),
        escape(&s.name),
        escape(&s.version),
        escape(&s.source_environment),
        escape(&s.target_environment),
        escape(&t.metadata.tenant),
        t.spec.request.impact_assessment.as_str(),
        approvals.0,
        approvals.1
    )
}

impl RequestView<'_> {
    /// The blocks, without buttons.
    pub fn blocks(&self) -> Vec<Value> {
        let t = self.ticket;
        let s = &t.spec.target;
        let mut blocks = vec![
            json!({
                "type": "header",
                "text": {"type": "plain_text", "text": cut(&format!("{} {} {} → {}",
                    t.metadata.id, s.name, s.version, s.target_environment), HEADER_MAX)}
            }),
            json!({
                "type": "section",
                "fields": [
                    field("Type", s.kind.as_str()),
                    field("Environments", &format!("{} → {}", s.source_environment, s.target_environment)),
                    field("Tenant", &t.metadata.tenant),
                    field("Impact", t.spec.request.impact_assessment.as_str()),
                    field("State", t.status.state.as_str()),
                    field("Approvals", &self.approvals_text()),
                    field("Requested by", &t.metadata.created_by),
                    field("Created", &t.metadata.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
                ]
            }),
        ];
        let r = &t.spec.request;
        let mut texts = vec![("Justification", Some(r.justification.clone()))];
        if self.full {
            texts.push(("Release notes", r.release_notes.clone()));
            texts.push(("Rollback plan", Some(r.rollback_plan.clone())));
            if let Some(when) = r.scheduled_date {
                texts.push(("Scheduled", Some(when.to_rfc3339())));
            }
            let p = &t.spec.pre_checks;
            let mark = |b: bool| if b { "✅" } else { "⬜" };
            texts.push((
                "Pre-checks",
                Some(format!(
                    "{} staging tests  {} security scan  {} performance tests\nevidence: {}",
                    mark(p.staging_tests_passed),
                    mark(p.security_scan_passed),
                    mark(p.performance_tests_passed),
                    p.test_evidence_url
                )),
            ));
            if let Some(plan) = &t.spec.plan {
                texts.push((
                    "Plan",
                    Some(format!("{} (risk {})", plan.summary, plan.risk)),
                ));
            }
        }
        for (label, text) in texts {
            if let Some(text) = text.filter(|x| !x.trim().is_empty()) {
                blocks.push(json!({
                    "type": "section",
                    "text": mrkdwn(cut(&format!("*{label}*\n{}", escape(&text)), TEXT_MAX))
                }));
            }
        }
        if self.full {
            let lines: Vec<String> = t
                .status
                .history
                .iter()
                .map(|e| {
                    let mut line = format!(
                        "{} *{}* by {}",
                        e.at.format("%Y-%m-%d %H:%M"),
                        e.action.as_str(),
                        escape(&e.by)
                    );
                    if let Some(c) = e.comment.as_ref().or(e.error.as_ref()) {
                        line.push_str(&format!(": {}", escape(&c.replace('\n', " "))));
                    }
                    line
                })
                .collect();
            blocks.push(json!({
                "type": "section",
                "text": mrkdwn(cut(&format!("*Timeline*\n{}", lines.join("\n")), TEXT_MAX))
            }));
        }
        if !self.missing.is_empty() && t.status.state == State::Pending {
            blocks.push(json!({
                "type": "context",
                "elements": [mrkdwn(format!("needs {}", escape(&self.missing.join(", "))))]
            }));
        }
        if let Some(url) = &self.url {
            blocks.push(json!({
                "type": "context",
                "elements": [mrkdwn(format!("<{url}|Open {} in ipr>", t.metadata.id))]
            }));
        }
        blocks
    }

    fn approvals_text(&self) -> String {
        format!("{}/{}", self.approvals.0, self.approvals.1)
    }

    /// The message: the request, and Approve and Reject buttons while it
    /// is pending; `outcome` (who did what) under it.
    pub fn message(&self, outcome: Option<&str>) -> Value {
        let t = self.ticket;
        let mut blocks = self.blocks();
        if let Some(o) = outcome {
            blocks.push(json!({"type": "context", "elements": [mrkdwn(o.to_string())]}));
        }
        if t.status.state == State::Pending {
            blocks.push(buttons(&t.metadata.id.to_string()));
        }
        let s = &t.spec.target;
        json!({
            "text": escape(&format!("{} {}: {} {} → {}", t.metadata.id, t.status.state.as_str(),
                s.name, s.version, s.target_environment)),
            "blocks": blocks,
        })
    }
}

/// Approve and Reject, for the request `id`.
pub fn buttons(id: &str) -> Value {
    json!({
        "type": "actions",
        "block_id": "ipr-review",
        "elements": [
            {"type": "button", "action_id": APPROVE, "style": "primary", "value": id,
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": REJECT, "style": "danger", "value": id,
             "text": {"type": "plain_text", "text": "Reject"}},
        ]
    })
}

/// Announce a new request in `target.channel` with its buttons, and
/// update that message when something happens to the request (when this
/// clone announced it: the message's id is kept in the transport's state).
pub fn send(
    transport: &Transport,
    target: &SlackAppTarget,
    timeout: Duration,
    m: &Message,
) -> Result<Sent> {
    let created = m.event.kind == crate::events::EventKind::RequestCreated;
    let id = m.event.request.to_string();
    let record = transport
        .state
        .as_ref()
        .map(|dir| dir.join("slack-app").join(&id));
    let announced: Option<Announced> = match (&record, created) {
        (Some(path), false) => std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok()),
        _ => None,
    };
    if !created && announced.is_none() {
        // Announced by another clone, or before the app was set up.
        return Ok(Sent::ok());
    }
    let api = Api::new(
        &target.api_base,
        &target.bot_token_env,
        transport.http.clone(),
    )?;
    let view = RequestView {
        ticket: m.ticket(),
        approvals: m.approvals,
        missing: Vec::new(),
        url: m.url.clone(),
        full: false,
    };
    let message = view.message(Some(&outcome(m)));
    let channel = target.channel.clone();
    let sent = transport.block_on(async move {
        let call = async {
            match announced {
                Some(a) => api.update(&a.channel, &a.ts, &message).await.map(|_| None),
                None => api.post_message(&channel, &message).await.map(Some),
            }
        };
        match tokio::time::timeout(timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(Error::other(format!(
                "no answer within {}",
                humantime::format_duration(timeout)
            ))),
        }
    })?;
    if let (Some(ts), Some(path)) = (sent, record) {
        let a = Announced {
            channel: target.channel.clone(),
            ts,
        };
        // Losing this only means later events do not update the message.
        let _ = write_atomically(&path, &serde_json::to_vec(&a).unwrap_or_default());
    }
    Ok(Sent::ok())
}

/// Which message announced a request.
#[derive(serde::Serialize, serde::Deserialize)]
struct Announced {
    channel: String,
    ts: String,
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(path);
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map(|_| ()).map_err(|e| e.error)
}

/// Who did what, under the request: `✅ approved by jean.dupont@example.com`.
fn outcome(m: &Message) -> String {
    use crate::events::EventKind::*;
    let mark = match m.event.kind {
        RequestCreated => "📝",
        RequestApproved | DeploymentSucceeded => "✅",
        RequestRejected | DeploymentFailed => "❌",
        RequestCancelled => "🚫",
        RequestCommented => "💬",
        DeploymentStarted => "🚀",
    };
    let verb = match m.event.kind {
        RequestCreated => "filed",
        RequestApproved => "approved",
        RequestCommented => "commented",
        _ => m.verb(),
    };
    let mut line = format!("{mark} {verb} by {}", escape(&m.event.entry().by));
    if let Some(reason) = m.reason() {
        line.push_str(&format!(": {}", escape(&reason.replace('\n', " "))));
    }
    line
}
