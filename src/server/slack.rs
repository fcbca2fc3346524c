//! The Slack app (SPEC §13): `/slack/commands` (the `/ipr` slash
//! command), `/slack/interactions` (buttons and modals) and
//! `/slack/events` (mentions of the app).
//!
//! Every request is authenticated with Slack's signing secret: `v0=` and
//! the HMAC-SHA256 of `v0:{timestamp}:{body}`, compared in constant time,
//! refused when the timestamp is more than five minutes away or the same
//! signature was taken before. A Slack user acts as the ipr user
//! `slack.users` maps them to, on the same path as the API
//! ([`super::api::acting`]), so every rule holds; the commit also carries
//! `Ipr-Slack-User`. An unmapped user can do nothing.
//!
//! Slack wants an answer within three seconds: each endpoint checks the
//! signature, answers at once, and does the work afterwards, replying
//! through the `response_url` Slack gave or the Web API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::api::acting;
use super::{ApiError, App, MAX_BODY};
use crate::config::{Config, SlackConfig};
use crate::model::{same_email, RequestId, Ticket};
use crate::notify::slack::escape;
use crate::notify::slack_app::{self, Api, RequestView};
use crate::query::{Filter, View};
use crate::session::Session;
use crate::store::Store;
use crate::workflow::Transition;

/// A request signed longer ago than this (or this far ahead) is refused.
pub const MAX_AGE_SECS: i64 = 5 * 60;
/// How many requests a list shows in Slack.
const LIST_MAX: usize = 20;
/// The most a Slack text field holds: a longer draft is not edited there.
const EDIT_MAX: usize = 3000;
/// How many drafts from text one Slack user may ask for in
/// [`ASKS_SECS`] (each is a call to the LLM).
const ASKS_MAX: usize = 10;
const ASKS_SECS: i64 = 10 * 60;
/// How long a draft from text waits for Confirm.
const DRAFT_SECS: i64 = 60 * 60;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .route("/slack/events", post(events))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            super::REQUEST_TIMEOUT,
        ))
        .with_state(app)
}

/// What the Slack endpoints remember between requests.
pub struct Memory {
    /// Signatures taken in the last five minutes, with their timestamps:
    /// the same signed request twice is a replay.
    seen: Mutex<HashMap<String, i64>>,
    /// Event ids handled (Slack sends an event again when it thinks the
    /// first delivery was missed).
    events: Mutex<HashMap<String, i64>>,
    /// Drafts from text, by id, waiting for their author's Confirm.
    drafts: Mutex<HashMap<String, Draft>>,
    /// When each Slack user last asked the LLM: each ask costs a call.
    asks: Mutex<HashMap<String, Vec<i64>>>,
    /// For the Web API and response URLs: no redirects followed.
    http: reqwest::Client,
}

/// A request drafted from text (`/ipr request`, a mention): the
/// `create -f` document, until its author confirms, edits or cancels it.
#[derive(Clone)]
pub struct Draft {
    slack_user: String,
    yaml: String,
    missing: Vec<String>,
    at: i64,
}

impl Memory {
    pub fn new() -> crate::error::Result<Memory> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("ipr/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| crate::error::Error::other(format!("Slack: HTTP client: {e}")))?;
        Ok(Memory {
            seen: Mutex::default(),
            events: Mutex::default(),
            drafts: Mutex::default(),
            asks: Mutex::default(),
            http,
        })
    }

    fn http(&self) -> reqwest::Client {
        self.http.clone()
    }

    /// Take `signature` once: false if it was taken in the last five
    /// minutes.
    fn first_time(&self, signature: &str, now: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, at| now - *at <= MAX_AGE_SECS * 2);
        seen.insert(signature.to_string(), now).is_none()
    }

    /// Count an ask of `user` at `now`: false when they asked
    /// [`ASKS_MAX`] times in the last [`ASKS_SECS`] already.
    fn may_ask(&self, user: &str, now: i64) -> bool {
        let mut asks = self.asks.lock().unwrap_or_else(|e| e.into_inner());
        asks.retain(|_, times| {
            times.retain(|t| now - *t < ASKS_SECS);
            !times.is_empty()
        });
        let times = asks.entry(user.to_string()).or_default();
        if times.len() >= ASKS_MAX {
            return false;
        }
        times.push(now);
        true
    }

    fn first_event(&self, id: &str, now: i64) -> bool {
        let mut seen = self.events.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, at| now - *at <= 3600);
        seen.insert(id.to_string(), now).is_none()
    }

    fn keep_draft(&self, draft: Draft) -> crate::error::Result<String> {
        let id = super::auth::new_token()?.replace("ipr_", "draft_");
        let mut drafts = self.drafts.lock().unwrap_or_else(|e| e.into_inner());
        let now = draft.at;
        drafts.retain(|_, d| now - d.at <= DRAFT_SECS);
        drafts.insert(id.clone(), draft);
        Ok(id)
    }

    fn draft(&self, id: &str) -> Option<Draft> {
        let drafts = self.drafts.lock().unwrap_or_else(|e| e.into_inner());
        drafts
            .get(id)
            .filter(|d| now() - d.at <= DRAFT_SECS)
            .cloned()
    }

    fn drop_draft(&self, id: &str) -> Option<Draft> {
        self.drafts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
    }

    /// Replace the draft `id` if it is still there (not filed or
    /// cancelled meanwhile).
    fn replace_draft(&self, id: &str, draft: Draft) -> bool {
        let mut drafts = self.drafts.lock().unwrap_or_else(|e| e.into_inner());
        match drafts.get_mut(id) {
            Some(d) => {
                *d = draft;
                true
            }
            None => false,
        }
    }

    /// Put back a draft whose filing failed, unless one took its place.
    fn restore_draft(&self, id: &str, draft: Draft) {
        self.drafts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id.to_string())
            .or_insert(draft);
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The config in force, once the request is known to come from Slack.
struct Authentic {
    config: Config,
    slack: SlackConfig,
}

/// Check the signature of a Slack request against the config in force.
/// What can be refused without the repository (no or malformed headers,
/// a timestamp out of the window) is refused first.
async fn authentic(
    app: &Arc<App>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Authentic, ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let unauthorized = |why: &str| ApiError::unauthorized(why);
    let timestamp = header("x-slack-request-timestamp")
        .and_then(|t| t.trim().parse::<i64>().ok())
        .ok_or_else(|| unauthorized("X-Slack-Request-Timestamp is missing"))?;
    let signature =
        header("x-slack-signature").ok_or_else(|| unauthorized("X-Slack-Signature is missing"))?;
    let mac = signature_bytes(&signature).map_err(&unauthorized)?;
    fresh(timestamp, now()).map_err(&unauthorized)?;
    let repo = app.repo.clone();
    let config = tokio::task::spawn_blocking(move || -> crate::error::Result<Config> {
        let store = Store::open(Some(&repo))?;
        crate::trust::check(&store, store.head()?)?.config()
    })
    .await
    .map_err(|e| ApiError::from(crate::error::Error::other(format!("server: {e}"))))??;
    let Some(slack) = config.slack.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "the Slack app is not set up here (`slack:` in .ipr/config.yaml)",
        ));
    };
    let secret = crate::notify::secret(&slack.signing_secret_env, "")
        .ok()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!(
                    "{} is not set on the server (it holds the Slack signing secret)",
                    slack.signing_secret_env
                ),
            )
        })?;
    verify_signature(&secret, timestamp, body, &signature, now()).map_err(&unauthorized)?;
    // Keyed by the MAC itself: no other spelling of it is taken again.
    if !app.slack.first_time(&crate::model::hex(&mac), now()) {
        return Err(unauthorized("this request was already taken (a replay)"));
    }
    Ok(Authentic { config, slack })
}

/// The MAC of `v0=` and exactly 64 lower-case hex digits, as Slack
/// writes it.
fn signature_bytes(signature: &str) -> Result<Vec<u8>, &'static str> {
    signature
        .strip_prefix("v0=")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|h| crate::model::unhex(h, 32))
        .ok_or("X-Slack-Signature is not `v0=` and 64 hex digits")
}

/// Signed at most five minutes from `now`, either way.
fn fresh(timestamp: i64, now: i64) -> Result<(), &'static str> {
    if now.abs_diff(timestamp) > MAX_AGE_SECS as u64 {
        return Err("the request is more than five minutes old");
    }
    Ok(())
}

/// Slack's request signature: `v0=` and the hex HMAC-SHA256, keyed with
/// the signing secret, of `v0:{timestamp}:{body}`
/// (<https://api.slack.com/authentication/verifying-requests-from-slack>).
pub fn verify_signature(
    secret: &str,
    timestamp: i64,
    body: &[u8],
    signature: &str,
    now: i64,
) -> Result<(), &'static str> {
    fresh(timestamp, now)?;
    let given = signature_bytes(signature)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| "bad signing secret")?;
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| "the Slack signature does not match")
}

/// A form body as key → value.
fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// An answer only the caller sees.
fn ephemeral(text: &str) -> Value {
    json!({
        "response_type": "ephemeral",
        "replace_original": false,
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": true}}],
    })
}

fn reply(message: Value) -> Response {
    (StatusCode::OK, axum::Json(message)).into_response()
}

/// Slack took the request; the answer follows through `response_url`.
fn ack() -> Response {
    StatusCode::OK.into_response()
}

/// What an unmapped Slack user is told.
fn unmapped(slack_user: &str) -> String {
    format!(
        "You are not mapped to an ipr user, so you can do nothing here. Ask an ipr admin to add `{}: you@example.com` under `slack.users` in .ipr/config.yaml (your member id is in your Slack profile, under ⋮ → Copy member ID).",
        escape(slack_user)
    )
}

/// The ipr user `slack_user` acts as under `config` (the config in force
/// when the work is done: a mapping removed there stops working).
fn mapped(config: &Config, slack_user: &str) -> Result<String, ApiError> {
    let email = config
        .slack
        .as_ref()
        .and_then(|s| s.user_of(slack_user))
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "forbidden", unmapped(slack_user)))?;
    config
        .users
        .keys()
        .find(|u| same_email(u, email))
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "forbidden", unmapped(slack_user)))
}

/// Run `f` as the ipr user of `slack_user`, on the API's path (follow the
/// remote, lock for writes, every rule), with `Ipr-Slack-User` on the
/// commit.
async fn as_slack_user<T, F>(
    app: &Arc<App>,
    slack_user: &str,
    write: bool,
    f: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Store, &Session) -> Result<T, ApiError> + Send + 'static,
{
    let user = slack_user.to_string();
    let id = slack_user.to_string();
    acting(
        app,
        write,
        move |config| mapped(config, &user),
        move |store, session| {
            let session = session.clone().with_slack_user(&id);
            f(store, &session)
        },
    )
    .await
}

/// An error as Slack shows it to the one who caused it.
fn refusal(e: &ApiError) -> Value {
    let detail = e.body["detail"].as_str().unwrap_or("refused");
    let mut text = format!("✋ {}", escape(detail));
    if let Some(hint) = e.body["hint"].as_str() {
        text.push_str(&format!("\n_{}_", escape(hint)));
    }
    // A detail of ours may already be Slack text (the unmapped answer).
    if e.body["code"] == "forbidden" && detail.starts_with("You are not mapped") {
        text = format!("✋ {detail}");
    }
    ephemeral(&text)
}

const HELP: &str = "*ipr in Slack*\n\
`/ipr list` the requests you can see (newest first)\n\
`/ipr pending` the requests waiting for your approval\n\
`/ipr show ID` one request, with its timeline\n\
`/ipr approve ID [comment]` approve, as your ipr user\n\
`/ipr reject ID reason` reject (a reason of at least 10 characters)\n\
`/ipr request TEXT` draft a request from plain language; nothing is filed until you press Confirm\n\
`/ipr help` this text";

/// A parsed `/ipr` command.
#[derive(Debug, PartialEq)]
enum Command {
    Help,
    List,
    Pending,
    Show(RequestId),
    Approve(RequestId, Option<String>),
    Reject(RequestId, String),
    Request(String),
}

fn parse_command(text: &str) -> Result<Command, String> {
    let text = text.trim();
    let (word, rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(w, r)| (w, r.trim()));
    let id_and_rest = |usage: &str| -> Result<(RequestId, String), String> {
        let (id, rest) = rest
            .split_once(char::is_whitespace)
            .map_or((rest, ""), |(i, r)| (i, r.trim()));
        if id.is_empty() {
            return Err(format!("usage: `{usage}`"));
        }
        let id = id
            .parse::<RequestId>()
            .map_err(|_| format!("`{}` is not a request ID (like PR-2026-0001)", escape(id)))?;
        Ok((id, rest.to_string()))
    };
    match word.to_ascii_lowercase().as_str() {
        "" | "help" => Ok(Command::Help),
        "list" => Ok(Command::List),
        "pending" => Ok(Command::Pending),
        "show" => id_and_rest("/ipr show ID").map(|(id, _)| Command::Show(id)),
        "approve" => id_and_rest("/ipr approve ID [comment]")
            .map(|(id, c)| Command::Approve(id, Some(c).filter(|c| !c.is_empty()))),
        "reject" => {
            let (id, reason) = id_and_rest("/ipr reject ID reason")?;
            if reason.is_empty() {
                return Err("usage: `/ipr reject ID reason` (say why)".into());
            }
            Ok(Command::Reject(id, reason))
        }
        "request" if rest.is_empty() => {
            Err("usage: `/ipr request TEXT`, e.g. `/ipr request promote payment-api 2.1.0 to prod for tenant-finance, fixes the timeouts`".into())
        }
        "request" => Ok(Command::Request(rest.to_string())),
        other => Err(format!("unknown command `{}`", escape(other))),
    }
}

async fn commands(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let slack = match authentic(&app, &headers, &body).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let form = form(&body);
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let user = get("user_id");
    let response_url = get("response_url");
    if slack.slack.user_of(&user).is_none() {
        return reply(ephemeral(&unmapped(&user)));
    }
    let command = match parse_command(&get("text")) {
        Ok(Command::Help) => return reply(ephemeral(HELP)),
        Ok(c) => c,
        Err(why) => return reply(ephemeral(&format!("{why}\n\n{HELP}"))),
    };
    let Some(response_url) = checked_response_url(&slack.slack, &response_url) else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "response_url is missing or not Slack's",
        )
        .into_response();
    };
    tokio::spawn(async move {
        let answer = run_command(&app, &user, command).await;
        let message = answer.unwrap_or_else(|e| refusal(&e));
        answer_to(&app, &response_url, &message).await;
    });
    ack()
}

fn warn(what: &str, e: &crate::error::Error) {
    eprintln!("warning: {what}: {}", crate::text::esc(e.message()));
}

/// The `response_url` of a signed payload, if it points where Slack's
/// do: `https://hooks.slack.com/` with Slack's API, or the origin of
/// `slack.apiUrl` with another.
fn checked_response_url(slack: &SlackConfig, url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let ok = match &slack.api_url {
        None => parsed.scheme() == "https" && parsed.host_str() == Some("hooks.slack.com"),
        Some(api) => parsed.origin() == api.origin(),
    };
    ok.then(|| url.to_string())
}

/// The lines of a list, newest first.
fn list_message(title: &str, tickets: &[Ticket], config: &Config, pending: bool) -> Value {
    if tickets.is_empty() {
        return ephemeral(&format!("*{title}*: none"));
    }
    let mut lines: Vec<String> = tickets
        .iter()
        .rev()
        .take(LIST_MAX)
        .map(|t| {
            let needs = crate::approvals::needs(config, t);
            let mut line = slack_app::list_line(t, (needs.have, needs.quorum));
            if pending && !needs.missing.is_empty() {
                line.push_str(&format!(" · needs {}", escape(&needs.missing.join(", "))));
            }
            line
        })
        .collect();
    if tickets.len() > LIST_MAX {
        lines.push(format!(
            "_and {} more: `ipr list` or the web UI shows them all_",
            tickets.len() - LIST_MAX
        ));
    }
    let text = format!("*{title}* ({})\n{}", tickets.len(), lines.join("\n"));
    ephemeral(&slack_app_cut(&text))
}

fn slack_app_cut(text: &str) -> String {
    crate::notify::slack::cut(text, crate::notify::slack::TEXT_MAX)
}

/// The request as `/ipr show` shows it, with buttons when the caller
/// may review it.
fn view_of<'a>(view: &View<'_>, t: &'a Ticket, full: bool) -> RequestView<'a> {
    let needs = crate::approvals::needs(view.config(), t);
    RequestView {
        ticket: t,
        approvals: (needs.have, needs.quorum),
        missing: needs.missing,
        url: request_url(view.config(), t),
        full,
    }
}

fn request_url(config: &Config, t: &Ticket) -> Option<String> {
    config
        .server
        .as_ref()
        .and_then(|s| s.url.as_ref())
        .map(|u| {
            format!(
                "{}/requests/{}",
                u.as_str().trim_end_matches('/'),
                t.metadata.id
            )
        })
}

async fn run_command(app: &Arc<App>, user: &str, command: Command) -> Result<Value, ApiError> {
    match command {
        Command::Help => Ok(ephemeral(HELP)),
        Command::List => {
            as_slack_user(app, user, false, |store, session| {
                let view = View::open(store, session)?;
                let tickets = view.list(&Filter::default())?.tickets;
                Ok(list_message(
                    "Requests you can see",
                    &tickets,
                    view.config(),
                    false,
                ))
            })
            .await
        }
        Command::Pending => {
            as_slack_user(app, user, false, |store, session| {
                let view = View::open(store, session)?;
                let tickets = view.pending_for_me()?.tickets;
                Ok(list_message(
                    "Waiting for your approval",
                    &tickets,
                    view.config(),
                    true,
                ))
            })
            .await
        }
        Command::Show(id) => {
            as_slack_user(app, user, false, move |store, session| {
                let view = View::open(store, session)?;
                let t = view.show(id)?;
                let allowed = view.allowed(&t);
                let rv = view_of(&view, &t, true);
                let mut message = rv.message(None);
                if !(allowed.approve || allowed.reject) {
                    strip_buttons(&mut message);
                }
                message["response_type"] = json!("ephemeral");
                Ok(message)
            })
            .await
        }
        Command::Approve(id, comment) => {
            transition(app, user, id, Transition::Approve { comment }).await
        }
        Command::Reject(id, reason) => {
            transition(app, user, id, Transition::Reject { reason }).await
        }
        Command::Request(text) => draft_from_text(app, user, &text).await,
    }
}

fn strip_buttons(message: &mut Value) {
    if let Some(blocks) = message["blocks"].as_array_mut() {
        blocks.retain(|b| b["type"] != "actions");
    }
}

/// Approve or reject as the mapped user; the answer shows the request as
/// it now is, and who acted, to the channel.
async fn transition(
    app: &Arc<App>,
    user: &str,
    id: RequestId,
    t: Transition,
) -> Result<Value, ApiError> {
    let server = app.clone();
    let who = user.to_string();
    as_slack_user(app, user, true, move |store, session| {
        let mut message = acted_message(&server, store, session, id, &t, &who)?;
        strip_buttons(&mut message);
        // To the one who acted only: the channel may hold people who
        // may not view this tenant's requests.
        message["response_type"] = json!("ephemeral");
        message["replace_original"] = json!(false);
        Ok(message)
    })
    .await
}

/// Act as the session's user ([`super::api::act`]); the request as it
/// now is, with who acted under it (and its buttons while pending).
fn acted_message(
    server: &Arc<App>,
    store: &Store,
    session: &Session,
    id: RequestId,
    t: &Transition,
    slack_user: &str,
) -> Result<Value, ApiError> {
    let done = super::api::act(server, store, session, id, t)?;
    let view = View::open(store, session)?;
    let outcome = outcome_line(t, &session.actor.email, slack_user, &done.ticket);
    Ok(view_of(&view, &done.ticket, false).message(Some(&outcome)))
}

/// `✅ approved by jean.dupont@example.com (<@U012AB3CD>); now approved`.
fn outcome_line(t: &Transition, email: &str, slack_user: &str, ticket: &Ticket) -> String {
    let (mark, verb, said) = match t {
        Transition::Approve { comment } => ("✅", "approved", comment.clone()),
        Transition::Reject { reason } => ("❌", "rejected", Some(reason.clone())),
        Transition::Cancel { reason } => ("🚫", "cancelled", reason.clone()),
        _ => ("•", "acted on", None),
    };
    let now = match ticket.status.state {
        crate::model::State::Pending => "still pending".to_string(),
        s => format!("now {}", s.as_str()),
    };
    let mut line = format!(
        "{mark} {verb} by {} (<@{}>); {now}",
        escape(email),
        escape(slack_user),
    );
    if let Some(said) = said.filter(|s| !s.trim().is_empty()) {
        line.push_str(&format!(": {}", escape(&said.replace('\n', " "))));
    }
    line
}

async fn interactions(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let slack = match authentic(&app, &headers, &body).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let payload: Value = match form(&body)
        .get("payload")
        .and_then(|p| serde_json::from_str(p).ok())
    {
        Some(p) => p,
        None => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "the body has no JSON `payload`",
            )
            .into_response()
        }
    };
    let user = payload["user"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    match payload["type"].as_str() {
        Some("block_actions") => block_action(app, slack, user, payload),
        Some("view_submission") => view_submission(app, slack, user, payload).await,
        // Closing a modal, and anything else Slack may send, needs nothing.
        _ => ack(),
    }
}

/// Where a clicked message is: its channel, `ts` and `response_url`.
struct Clicked {
    channel: String,
    ts: String,
    response_url: Option<String>,
    /// An answer only the clicker sees (`/ipr show`): replaced through
    /// `response_url`, as `chat.update` cannot reach it.
    ephemeral: bool,
}

fn block_action(app: Arc<App>, slack: Authentic, user: String, payload: Value) -> Response {
    let action = &payload["actions"][0];
    let action_id = action["action_id"].as_str().unwrap_or_default().to_string();
    let value = action["value"].as_str().unwrap_or_default().to_string();
    let clicked = Clicked {
        channel: payload["container"]["channel_id"]
            .as_str()
            .or(payload["channel"]["id"].as_str())
            .unwrap_or_default()
            .to_string(),
        ts: payload["container"]["message_ts"]
            .as_str()
            .or(payload["message"]["ts"].as_str())
            .unwrap_or_default()
            .to_string(),
        response_url: payload["response_url"]
            .as_str()
            .and_then(|u| checked_response_url(&slack.slack, u)),
        ephemeral: payload["container"]["is_ephemeral"].as_bool() == Some(true),
    };
    let trigger = payload["trigger_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    tokio::spawn(async move {
        let http = app.slack.http();
        let answer = if slack.slack.user_of(&user).is_none() {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                unmapped(&user),
            ))
        } else {
            match action_id.as_str() {
                slack_app::APPROVE => match value.parse::<RequestId>() {
                    Ok(id) => {
                        clicked_transition(
                            &app,
                            &slack,
                            &user,
                            id,
                            Transition::Approve { comment: None },
                            &clicked,
                        )
                        .await
                    }
                    Err(_) => Err(bad_value()),
                },
                slack_app::REJECT => match value.parse::<RequestId>() {
                    Ok(id) => open_reject(&app, &slack, &trigger, id, &clicked).await,
                    Err(_) => Err(bad_value()),
                },
                slack_app::CONFIRM => confirm_draft(&app, &user, &value, &clicked).await,
                slack_app::EDIT => open_edit(&app, &slack, &user, &value, &trigger, &clicked).await,
                slack_app::CANCEL => cancel_draft(&app, &user, &value, &clicked).await,
                _ => Ok(()),
            }
        };
        if let Err(e) = answer {
            tell(&http, &slack, &user, &clicked, refusal(&e)).await;
        }
    });
    ack()
}

fn bad_value() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad-request",
        "the button carries no request ID",
    )
}

/// Show `message` to `user` only: through the click's `response_url`,
/// else as an ephemeral message in the channel.
async fn tell(http: &reqwest::Client, slack: &Authentic, user: &str, at: &Clicked, message: Value) {
    let sent = match &at.response_url {
        Some(url) => slack_app::respond(http, url, &message).await,
        None => match bot(http, &slack.slack) {
            Ok(api) => api.post_ephemeral(&at.channel, user, &message).await,
            Err(e) => Err(e),
        },
    };
    if let Err(e) = sent {
        warn("a Slack answer was not delivered", &e);
    }
}

/// Answer through `response_url`; a failure goes to the server's log.
async fn answer_to(app: &App, response_url: &str, message: &Value) {
    if let Err(e) = slack_app::respond(&app.slack.http(), response_url, message).await {
        warn("a Slack answer was not delivered", &e);
    }
}

fn bot(http: &reqwest::Client, slack: &SlackConfig) -> crate::error::Result<Api> {
    Api::new(&slack.api_base(), &slack.bot_token_env, http.clone())
}

/// Approve (or reject, from the modal) a request whose message was
/// clicked; the message is updated with the outcome and who acted.
async fn clicked_transition(
    app: &Arc<App>,
    slack: &Authentic,
    user: &str,
    id: RequestId,
    t: Transition,
    at: &Clicked,
) -> Result<(), ApiError> {
    let who = user.to_string();
    let server = app.clone();
    let message = as_slack_user(app, user, true, move |store, session| {
        acted_message(&server, store, session, id, &t, &who)
    })
    .await?;
    let http = app.slack.http();
    let updated = if at.ephemeral {
        let mut message = message;
        message["replace_original"] = json!(true);
        match &at.response_url {
            Some(url) => slack_app::respond(&http, url, &message).await,
            None => Ok(()),
        }
    } else if at.channel.is_empty() || at.ts.is_empty() {
        Ok(())
    } else {
        match bot(&http, &slack.slack) {
            Ok(api) => api.update(&at.channel, &at.ts, &message).await,
            Err(e) => Err(e),
        }
    };
    if let Err(e) = updated {
        warn("the Slack message was not updated", &e);
    }
    Ok(())
}

/// The modal that asks for a rejection's reason.
async fn open_reject(
    app: &Arc<App>,
    slack: &Authentic,
    trigger: &str,
    id: RequestId,
    at: &Clicked,
) -> Result<(), ApiError> {
    let metadata = json!({
        "id": id.to_string(),
        "channel": at.channel,
        "ts": at.ts,
        "response_url": at.response_url,
        "ephemeral": at.ephemeral,
    });
    let view = json!({
        "type": "modal",
        "callback_id": "ipr-reject",
        "private_metadata": metadata.to_string(),
        "title": {"type": "plain_text", "text": "Reject request"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("Reject *{id}*? The requester sees your reason.")}},
            {"type": "input", "block_id": "reason",
             "label": {"type": "plain_text", "text": "Reason"},
             "element": {"type": "plain_text_input", "action_id": "reason", "multiline": true,
                         "min_length": crate::model::MIN_REJECT_REASON}},
        ]
    });
    let http = app.slack.http();
    bot(&http, &slack.slack)?.open_view(trigger, &view).await?;
    Ok(())
}

async fn view_submission(
    app: Arc<App>,
    slack: Authentic,
    user: String,
    payload: Value,
) -> Response {
    let view = &payload["view"];
    let metadata: Value = view["private_metadata"]
        .as_str()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or(Value::Null);
    let values = &view["state"]["values"];
    match view["callback_id"].as_str() {
        Some("ipr-reject") => {
            let reason = values["reason"]["reason"]["value"]
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_string();
            if crate::model::visible_len(&reason) < crate::model::MIN_REJECT_REASON {
                return reply(json!({
                    "response_action": "errors",
                    "errors": {"reason": format!("Say why in at least {} characters.", crate::model::MIN_REJECT_REASON)}
                }));
            }
            let Some(id) = metadata["id"]
                .as_str()
                .and_then(|i| i.parse::<RequestId>().ok())
            else {
                return ack();
            };
            let clicked = Clicked {
                channel: metadata["channel"].as_str().unwrap_or_default().to_string(),
                ts: metadata["ts"].as_str().unwrap_or_default().to_string(),
                response_url: metadata["response_url"]
                    .as_str()
                    .and_then(|u| checked_response_url(&slack.slack, u)),
                ephemeral: metadata["ephemeral"].as_bool() == Some(true),
            };
            tokio::spawn(async move {
                let http = app.slack.http();
                let t = Transition::Reject { reason };
                if let Err(e) = clicked_transition(&app, &slack, &user, id, t, &clicked).await {
                    tell(&http, &slack, &user, &clicked, refusal(&e)).await;
                }
            });
            ack()
        }
        Some("ipr-draft-edit") => edit_submitted(app, slack, user, metadata, values).await,
        _ => ack(),
    }
}

async fn events(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let slack = match authentic(&app, &headers, &body).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "the body is not JSON",
        )
        .into_response();
    };
    match event["type"].as_str() {
        Some("url_verification") => reply(json!({"challenge": event["challenge"]})),
        Some("event_callback") => {
            let id = event["event_id"].as_str().unwrap_or_default();
            if !id.is_empty() && !app.slack.first_event(id, now()) {
                return ack();
            }
            let e = &event["event"];
            if e["type"] == "app_mention" && e["bot_id"].is_null() {
                let user = e["user"].as_str().unwrap_or_default().to_string();
                let channel = e["channel"].as_str().unwrap_or_default().to_string();
                let text = without_mentions(e["text"].as_str().unwrap_or_default());
                tokio::spawn(mentioned(app, slack, user, channel, text));
            }
            ack()
        }
        _ => ack(),
    }
}

/// The text of a mention without `<@U…>` mentions of the app.
fn without_mentions(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<@") {
        out.push_str(&rest[..start]);
        match rest[start..].find('>') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

async fn mentioned(app: Arc<App>, slack: Authentic, user: String, channel: String, text: String) {
    let http = app.slack.http();
    let at = Clicked {
        channel: channel.clone(),
        ts: String::new(),
        response_url: None,
        ephemeral: true,
    };
    let message = if slack.slack.user_of(&user).is_none() {
        ephemeral(&unmapped(&user))
    } else if text.is_empty() {
        ephemeral(&format!(
            "Tell me what to promote, e.g. _promote payment-api 2.1.0 to prod for tenant-finance, fixes the timeouts_.\n\n{HELP}"
        ))
    } else {
        draft_from_text(&app, &user, &text)
            .await
            .unwrap_or_else(|e| refusal(&e))
    };
    tell(&http, &slack, &user, &at, message).await;
}

/// Ask the LLM for a `create -f` document from `text`, keep it as a
/// draft of `user`, and show it with Confirm, Edit and Cancel. Nothing is
/// filed here.
async fn draft_from_text(app: &Arc<App>, user: &str, text: &str) -> Result<Value, ApiError> {
    if !app.slack.may_ask(user, now()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            format!(
                "You asked for {ASKS_MAX} drafts in the last {} minutes; wait a little, or file with `ipr create`.",
                ASKS_SECS / 60
            ),
        ));
    }
    let text = text.to_string();
    let (yaml, missing, problems) = as_slack_user(app, user, false, move |store, session| {
        let view = View::open(store, session)?;
        let config = view.config();
        let draft = crate::draft::draft(config, &session.actor.email, &text)?;
        let missing: Vec<String> = draft.missing().iter().map(|m| m.to_string()).collect();
        let problems = if missing.is_empty() {
            draft
                .check(config, &session.actor.email)
                .err()
                .map(|e| problem_text(&e))
        } else {
            None
        };
        Ok((draft.yaml(), missing, problems))
    })
    .await?;
    let draft = Draft {
        slack_user: user.to_string(),
        yaml,
        missing,
        at: now(),
    };
    let id = app.slack.keep_draft(draft.clone())?;
    Ok(draft_message(&id, &draft, problems.as_deref()))
}

/// An error with its field problems, one per line.
fn problem_text(e: &crate::error::Error) -> String {
    let mut lines = vec![e.message().to_string()];
    for p in e.problem_list() {
        lines.push(format!("• {}", p.message));
    }
    lines.dedup();
    lines.join("\n")
}

/// A draft as its author sees it: the document, what is missing, and the
/// buttons (Confirm only when nothing is missing or wrong).
fn draft_message(id: &str, draft: &Draft, problems: Option<&str>) -> Value {
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": "Draft request: nothing is filed until you confirm"}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "verbatim": true,
            "text": slack_app_cut(&format!("```{}```", escape(&draft.yaml)))}}),
    ];
    if !draft.missing.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "verbatim": true,
            "text": format!("*Missing* (your text did not say; ipr does not guess): {}\nPress *Edit* to add them.",
                escape(&draft.missing.join(", ")))}}));
    }
    if let Some(p) = problems {
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "verbatim": true,
            "text": slack_app_cut(&format!("*To fix before filing*\n{}", escape(p)))}}),
        );
    }
    // Confirm only what its author could read whole.
    let shown_whole =
        format!("```{}```", escape(&draft.yaml)).chars().count() <= crate::notify::slack::TEXT_MAX;
    if !shown_whole {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "verbatim": true,
            "text": "*Too long to show here in full*, so it cannot be confirmed in Slack: shorten it with *Edit*, or file it with `ipr create -f`."}}));
    }
    let mut buttons = Vec::new();
    let complete = crate::request::NewRequest::from_yaml(draft.yaml.as_bytes(), "the draft").ok();
    if let Some(doc) =
        complete.filter(|_| draft.missing.is_empty() && problems.is_none() && shown_whole)
    {
        // Slack asks once more, with what is attested, before the click
        // counts.
        buttons.push(json!({"type": "button", "action_id": slack_app::CONFIRM, "style": "primary",
            "value": id, "text": {"type": "plain_text", "text": "Confirm"},
            "confirm": {
                "title": {"type": "plain_text", "text": "File this request as you?"},
                "text": {"type": "plain_text", "text": crate::notify::slack::cut(&doc.summary(), 300)},
                "confirm": {"type": "plain_text", "text": "File it"},
                "deny": {"type": "plain_text", "text": "Not yet"},
            }}));
    }
    buttons.push(
        json!({"type": "button", "action_id": slack_app::EDIT, "value": id,
        "text": {"type": "plain_text", "text": "Edit"}}),
    );
    buttons.push(
        json!({"type": "button", "action_id": slack_app::CANCEL, "value": id,
        "text": {"type": "plain_text", "text": "Cancel"}}),
    );
    blocks.push(json!({"type": "actions", "block_id": "ipr-draft", "elements": buttons}));
    json!({
        "response_type": "ephemeral",
        "replace_original": true,
        "text": "Draft request: nothing is filed until you confirm",
        "blocks": blocks,
    })
}

/// The draft `id` of `user`, or why they cannot use it.
fn own_draft(app: &App, user: &str, id: &str) -> Result<Draft, ApiError> {
    let draft = app.slack.draft(id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "This draft has expired or was already used; ask again with `/ipr request TEXT`.",
        )
    })?;
    if draft.slack_user != user {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Only the person who asked for this draft can confirm, edit or cancel it.",
        ));
    }
    Ok(draft)
}

/// Confirm: file the draft as its author (every rule of `ipr create`).
async fn confirm_draft(app: &Arc<App>, user: &str, id: &str, at: &Clicked) -> Result<(), ApiError> {
    own_draft(app, user, id)?;
    // Taken before filing: a second click cannot file it twice.
    let Some(draft) = app.slack.drop_draft(id) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "This draft is being filed already.",
        ));
    };
    let yaml = draft.yaml.clone();
    let who = user.to_string();
    let filed = as_slack_user(app, user, true, move |store, session| {
        let doc = crate::request::NewRequest::from_yaml(yaml.as_bytes(), "the draft")?
            .without_local_files()?;
        let done = super::api::file(store, session, doc.spec(), doc.tenant.as_deref())?;
        let view = View::open(store, session)?;
        let line = format!(
            "📝 filed by {} (<@{}>) from a draft they confirmed",
            escape(&session.actor.email),
            escape(&who)
        );
        let mut message = view_of(&view, &done.ticket, false).message(Some(&line));
        strip_buttons(&mut message);
        message["replace_original"] = json!(true);
        Ok(message)
    })
    .await;
    let message = match filed {
        Ok(m) => m,
        Err(e) => {
            // Still the author's to fix or cancel.
            app.slack.restore_draft(id, draft);
            return Err(e);
        }
    };
    if let Some(url) = &at.response_url {
        answer_to(app, url, &message).await;
    }
    Ok(())
}

async fn cancel_draft(app: &Arc<App>, user: &str, id: &str, at: &Clicked) -> Result<(), ApiError> {
    own_draft(app, user, id)?;
    app.slack.drop_draft(id);
    if let Some(url) = &at.response_url {
        let message = json!({"replace_original": true, "text": "Cancelled: nothing was filed."});
        answer_to(app, url, &message).await;
    }
    Ok(())
}

/// Edit: a modal with the document, to complete or correct it.
async fn open_edit(
    app: &Arc<App>,
    slack: &Authentic,
    user: &str,
    id: &str,
    trigger: &str,
    at: &Clicked,
) -> Result<(), ApiError> {
    let draft = own_draft(app, user, id)?;
    if draft.yaml.chars().count() > EDIT_MAX {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "This draft is too long to edit in Slack (a text field holds 3,000 characters); file it with `ipr create -f` instead.",
        ));
    }
    let hint = if draft.missing.is_empty() {
        "Correct the request; it is checked again when you save.".to_string()
    } else {
        format!("Add what is missing: {}.", draft.missing.join(", "))
    };
    let view = json!({
        "type": "modal",
        "callback_id": "ipr-draft-edit",
        "private_metadata": json!({"draft": id, "response_url": at.response_url}).to_string(),
        "title": {"type": "plain_text", "text": "Edit draft request"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [
            {"type": "section", "text": {"type": "plain_text", "text": hint}},
            {"type": "input", "block_id": "yaml",
             "label": {"type": "plain_text", "text": "Request (the `ipr create -f` document)"},
             "element": {"type": "plain_text_input", "action_id": "yaml", "multiline": true,
                         "max_length": EDIT_MAX, "initial_value": draft.yaml}},
        ]
    });
    let http = app.slack.http();
    bot(&http, &slack.slack)?.open_view(trigger, &view).await?;
    Ok(())
}

/// A saved Edit: the document is read and checked as `ipr create -f`
/// reads it; problems go back into the modal, else the draft message
/// shows the new document.
/// `yaml` read as `ipr create -f` reads it, and checked as a new request
/// of the ipr user of `slack_user`.
fn check_document(config: &Config, slack_user: &str, yaml: &str) -> crate::error::Result<()> {
    let actor = mapped(config, slack_user)
        .map_err(|e| crate::error::Error::permission(e.body["detail"].as_str().unwrap_or("")))?;
    let doc = crate::request::NewRequest::from_yaml(yaml.as_bytes(), "the request")?
        .without_local_files()?;
    let tenant = doc
        .tenant
        .clone()
        .or_else(|| crate::request::default_tenant(config, &actor))
        .ok_or_else(|| crate::error::Error::invalid("say which tenant: `tenant:`"))?;
    crate::workflow::validate_new(&doc.spec(), &tenant, config)
}

async fn edit_submitted(
    app: Arc<App>,
    slack: Authentic,
    user: String,
    metadata: Value,
    values: &Value,
) -> Response {
    let yaml = values["yaml"]["yaml"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(id) = metadata["draft"].as_str().map(str::to_string) else {
        return ack();
    };
    let draft = match own_draft(&app, &user, &id) {
        Ok(d) => d,
        Err(e) => {
            return reply(json!({"response_action": "errors",
                "errors": {"yaml": e.body["detail"].as_str().unwrap_or("refused")}}))
        }
    };
    // Checked against the config this clone verified, without following
    // the remote: Slack waits three seconds for this answer. Confirm
    // files through every rule, under the remote's config.
    let checked = check_document(&slack.config, &user, &yaml).map_err(ApiError::from);
    if let Err(e) = checked {
        let text = e.body["detail"].as_str().unwrap_or("refused").to_string();
        let mut all = vec![text];
        if let Some(problems) = e.body["problems"].as_array() {
            all.extend(
                problems
                    .iter()
                    .filter_map(|p| p["message"].as_str().map(str::to_string)),
            );
        }
        all.dedup();
        return reply(json!({"response_action": "errors",
            "errors": {"yaml": crate::notify::slack::cut(&all.join("; "), 2000)}}));
    }
    let updated = Draft {
        yaml,
        missing: Vec::new(),
        at: now(),
        ..draft
    };
    if !app.slack.replace_draft(&id, updated.clone()) {
        return reply(json!({"response_action": "errors",
            "errors": {"yaml": "This draft was filed or cancelled meanwhile."}}));
    }
    let response_url = metadata["response_url"].as_str().map(str::to_string);
    let message = draft_message(&id, &updated, None);
    tokio::spawn(async move {
        if let Some(url) = response_url {
            answer_to(&app, &url, &message).await;
        }
    });
    reply(json!({"response_action": "clear"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_as_the_help_teaches() {
        let id: RequestId = "PR-2026-0001".parse().unwrap();
        assert_eq!(parse_command(""), Ok(Command::Help));
        assert_eq!(parse_command(" Pending "), Ok(Command::Pending));
        assert_eq!(parse_command("show PR-2026-0001"), Ok(Command::Show(id)));
        assert_eq!(
            parse_command("approve PR-2026-0001   looks good to me"),
            Ok(Command::Approve(id, Some("looks good to me".into())))
        );
        assert_eq!(
            parse_command("approve PR-2026-0001"),
            Ok(Command::Approve(id, None))
        );
        assert_eq!(
            parse_command("reject PR-2026-0001 no rollback plan"),
            Ok(Command::Reject(id, "no rollback plan".into()))
        );
        assert!(parse_command("reject PR-2026-0001").is_err());
        assert!(parse_command("approve").unwrap_err().contains("usage"));
        assert!(parse_command("approve <!channel>")
            .unwrap_err()
            .contains("&lt;!channel&gt;"));
        assert!(parse_command("request").is_err());
        assert_eq!(
            parse_command("request ship it"),
            Ok(Command::Request("ship it".into()))
        );
        assert!(parse_command("deploy all").unwrap_err().contains("unknown"));
    }

    #[test]
    fn each_user_may_ask_for_so_many_drafts_in_ten_minutes() {
        let memory = Memory::new().unwrap();
        for _ in 0..ASKS_MAX {
            assert!(memory.may_ask("U1", 1000));
        }
        assert!(!memory.may_ask("U1", 1000 + ASKS_SECS - 1));
        assert!(memory.may_ask("U2", 1000), "another user is not held up");
        assert!(
            memory.may_ask("U1", 1000 + ASKS_SECS),
            "the window moves on"
        );
    }

    #[test]
    fn a_mention_is_its_text_without_the_mentions() {
        assert_eq!(
            without_mentions("<@U0BOT> promote x to prod"),
            "promote x to prod"
        );
        assert_eq!(
            without_mentions("hey <@U0BOT|ipr>, ship <@U1> it"),
            "hey , ship  it"
        );
        assert_eq!(without_mentions("<@U0BOT"), "");
    }

    #[test]
    fn answers_go_only_where_slack_sends_them() {
        let mut slack: SlackConfig =
            serde_yaml_ng::from_str("signingSecretEnv: S\nbotTokenEnv: T\n").unwrap();
        let ok = "https://hooks.slack.com/commands/T1/2/abc";
        assert!(checked_response_url(&slack, ok).is_some());
        for bad in [
            "http://hooks.slack.com/commands/T1/2/abc",
            "https://hooks.slack.com.evil.example/x",
            "https://169.254.169.254/latest/meta-data",
            "not a url",
        ] {
            assert!(checked_response_url(&slack, bad).is_none(), "{bad}");
        }
        slack.api_url = Some("http://127.0.0.1:9999/api".parse().unwrap());
        assert!(checked_response_url(&slack, "http://127.0.0.1:9999/hooks/1").is_some());
        assert!(checked_response_url(&slack, ok).is_none());
    }

    #[test]
    fn signatures_are_checked_with_the_secret_the_time_and_the_body() {
        let body = b"token=x&user_id=U1&text=help";
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(b"v0:1765000000:");
        mac.update(body);
        let good = format!("v0={}", crate::model::hex(&mac.finalize().into_bytes()));
        assert_eq!(
            verify_signature("secret", 1765000000, body, &good, 1765000000 + 300),
            Ok(())
        );
        assert!(verify_signature("secret", 1765000000, body, &good, 1765000000 + 301).is_err());
        assert!(verify_signature("secret", 1765000000, body, &good, 1765000000 - 301).is_err());
        assert!(verify_signature("other", 1765000000, body, &good, 1765000000).is_err());
        assert!(verify_signature("secret", 1765000000, b"token=x", &good, 1765000000).is_err());
        assert!(verify_signature("secret", 1765000000, body, &good[3..], 1765000000).is_err());
        assert!(verify_signature("secret", 1765000000, body, "v0=zz", 1765000000).is_err());
        // Another spelling of the same MAC is not taken.
        let upper = format!("v0={}", good[3..].to_uppercase());
        assert!(verify_signature("secret", 1765000000, body, &upper, 1765000000).is_err());
        let spaced = format!("v0= {}", &good[3..]);
        assert!(verify_signature("secret", 1765000000, body, &spaced, 1765000000).is_err());
        // A timestamp far away cannot overflow the window check.
        assert!(verify_signature("secret", i64::MIN, body, &good, 1765000000).is_err());
        assert!(verify_signature("secret", i64::MAX, body, &good, -1).is_err());
    }
}
