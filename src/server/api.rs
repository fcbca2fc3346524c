//! The routes of SPEC §12's table, each a thin call into the engine.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{auth, ApiError, App, MAX_BODY, REQUEST_TIMEOUT};
use crate::action::{self, Done, Options};
use crate::error::Error;
use crate::model::{RequestId, State as TicketState};
use crate::notify::Notifier;
use crate::query::{Filter, View};
use crate::request::{self, NewRequest};
use crate::session::Session;
use crate::store::Store;
use crate::workflow::Transition;

type Answer = std::result::Result<Response, ApiError>;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/openapi.json", get(openapi))
        .route("/v1/requests/prod", get(list).post(create))
        .route("/v1/requests/prod/my", get(my))
        .route("/v1/requests/prod/pending", get(pending))
        .route("/v1/requests/prod/stats", get(stats))
        .route("/v1/requests/prod/{id}", get(show))
        .route("/v1/requests/prod/{id}/log", get(log))
        .route("/v1/requests/prod/{id}/approve", post(approve))
        .route("/v1/requests/prod/{id}/reject", post(reject))
        .route("/v1/requests/prod/{id}/cancel", post(cancel))
        .route(
            "/v1/requests/prod/{id}/deploy",
            post(super::deploys::deploy),
        )
        .route(
            "/webhooks/awx/job-complete",
            post(super::deploys::awx_job_complete),
        )
        .route("/metrics", get(super::metrics::serve))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
        })
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            super::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(app)
}

/// The OpenAPI 3 document of what is served (`tests/server.rs` checks
/// that it names every route and that every route it names is served).
pub const OPENAPI: &str = include_str!("openapi.json");

/// Every route the router serves: (method, path).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/openapi.json"),
    ("get", "/v1/requests/prod"),
    ("post", "/v1/requests/prod"),
    ("get", "/v1/requests/prod/my"),
    ("get", "/v1/requests/prod/pending"),
    ("get", "/v1/requests/prod/stats"),
    ("get", "/v1/requests/prod/{id}"),
    ("get", "/v1/requests/prod/{id}/log"),
    ("post", "/v1/requests/prod/{id}/approve"),
    ("post", "/v1/requests/prod/{id}/reject"),
    ("post", "/v1/requests/prod/{id}/cancel"),
    ("post", "/v1/requests/prod/{id}/deploy"),
    ("post", "/webhooks/awx/job-complete"),
    ("get", "/metrics"),
];

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Errors axum or tower answer themselves (a body too large, a timeout,
/// a wrong method) get the API's JSON error body too.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, detail) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "the body is over 1 MiB"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "this endpoint does not take that method",
        ),
        _ => ("bad-request", "the request could not be read"),
    };
    ApiError::new(status, code, detail).into_response()
}

/// A read's answer, with the `Ipr-Warning` header when history does not
/// verify (the CLI's `warning:` line).
fn read_answer<T: Serialize>(view: &View<'_>, value: &T) -> Response {
    let mut r = json(StatusCode::OK, value);
    if let Some(w) = view.warning() {
        let ascii: String = w
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        if let Ok(v) = ascii.parse() {
            r.headers_mut().insert("ipr-warning", v);
        }
    }
    r
}

/// Who calls, from where.
pub(super) struct Caller {
    peer: SocketAddr,
    headers: HeaderMap,
}

/// Open the clone (following the remote's branch, if there is one),
/// authenticate, and run `f` for the caller on a blocking thread.
pub(super) async fn as_caller<T, F>(
    app: &Arc<App>,
    caller: Caller,
    write: bool,
    f: F,
) -> std::result::Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Store, &Session) -> std::result::Result<T, ApiError> + Send + 'static,
{
    if write {
        json_body(&caller.headers)?;
    }
    let authenticate = move |config: &crate::config::Config| {
        auth::user_of(config, &caller.headers, caller.peer.ip())
    };
    acting(app, write, authenticate, f).await
}

/// Run `f` on a blocking thread for the user `authenticate` finds in the
/// config in force, in the server's session for them (the one path of
/// the API and the web UI).
pub(super) async fn acting<T, A, F>(
    app: &Arc<App>,
    write: bool,
    authenticate: A,
    f: F,
) -> std::result::Result<T, ApiError>
where
    T: Send + 'static,
    A: Fn(&crate::config::Config) -> std::result::Result<String, ApiError> + Send + 'static,
    F: FnOnce(&Store, &Session) -> std::result::Result<T, ApiError> + Send + 'static,
{
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let store = Store::open(Some(&app.repo))?;
        // Who calls, first, against the config this clone verified: an
        // unauthenticated request costs no fetch and takes no lock.
        let config = crate::trust::check(&store, store.head()?)?.config()?;
        authenticate(&config)?;
        // One write at a time in this process, held by the thread doing
        // it (a request that times out does not free it early).
        let _guard = if write {
            Some(app.writes.lock().unwrap_or_else(|e| e.into_inner()))
        } else {
            None
        };
        // Reads see the remote's latest state, and who may call is
        // decided by the remote's config (a token just revoked there
        // stops working here); a write then acts like `--push`.
        let config = if store.has_remotes() {
            super::follow_remote(&store)?
        } else {
            config
        };
        let email = authenticate(&config)?;
        let session = app.session_for(&config, &email)?;
        f(&store, &session)
    })
    .await
    .map_err(|e| ApiError::from(Error::other(format!("server: {e}"))))?
}

/// Writes take JSON only: a browser cannot send that across sites without
/// a preflight, so another web page cannot make a user's browser act.
fn json_body(headers: &HeaderMap) -> std::result::Result<(), ApiError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the body as Content-Type: application/json",
        ))
    }
}

pub(super) fn options(store: &Store) -> Options {
    Options {
        sign: false,
        push: store.has_remotes(),
        no_input: true,
    }
}

/// After a write landed: its events go out (SPEC §9), warnings to the
/// server's log.
pub(super) fn delivered(store: &Store, done: &Done) {
    outbox().landed(store, &done.landed);
}

/// The notifier of everything the server lands: events go out at once
/// (SPEC §9), warnings to the server's log.
pub(super) fn outbox() -> crate::outbox::Outbox<'static> {
    crate::outbox::Outbox {
        options: crate::outbox::Options {
            no_input: true,
            ..Default::default()
        },
        warnings: &crate::session::Stderr,
    }
}

pub(super) fn id_of(text: &str) -> std::result::Result<RequestId, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no request {text}"),
        )
    })
}

/// A JSON body, or none at all when every field is optional.
pub(super) fn body<T: DeserializeOwned + Default>(
    bytes: &Bytes,
    empty_ok: bool,
) -> std::result::Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) && empty_ok {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            format!("malformed body: {e}"),
        )
    })
}

pub(super) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    (status, Json(value)).into_response()
}

pub(super) fn caller(ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap) -> Caller {
    Caller { peer, headers }
}

/// `?state=&tenant=&createdBy=`; anything else is a 400.
fn filter(q: &HashMap<String, String>) -> std::result::Result<Filter, ApiError> {
    let mut f = Filter::default();
    for (k, v) in q {
        match k.as_str() {
            "state" => {
                f.state = Some(v.parse::<TicketState>().map_err(|e| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad-request",
                        e.message().to_string(),
                    )
                })?)
            }
            "tenant" => f.tenant = Some(v.clone()),
            "createdBy" => f.created_by = Some(v.clone()),
            "q" => f.text = Some(v.clone()),
            other => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad-request",
                    format!("unknown query parameter `{other}` (state, tenant, createdBy, q)"),
                ))
            }
        }
    }
    Ok(f)
}

async fn list(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let f = filter(&q)?;
    as_caller(&app, caller(info, headers), false, move |store, session| {
        let view = View::open(store, session)?;
        Ok(read_answer(&view, &view.list(&f)?.tickets))
    })
    .await
}

async fn my(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Answer {
    as_caller(&app, caller(info, headers), false, |store, session| {
        let view = View::open(store, session)?;
        Ok(read_answer(&view, &view.mine()?.tickets))
    })
    .await
}

async fn pending(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Answer {
    as_caller(&app, caller(info, headers), false, |store, session| {
        let view = View::open(store, session)?;
        let listing = view.pending_for_me()?;
        Ok(read_answer(
            &view,
            &crate::query::queued(view.config(), &listing.tickets),
        ))
    })
    .await
}

async fn stats(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Answer {
    as_caller(&app, caller(info, headers), false, |store, session| {
        Ok(json(
            StatusCode::OK,
            &View::open(store, session)?.stats()?.0,
        ))
    })
    .await
}

async fn show(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let id = id_of(&id)?;
    as_caller(&app, caller(info, headers), false, move |store, session| {
        let view = View::open(store, session)?;
        Ok(read_answer(&view, &view.show(id)?))
    })
    .await
}

async fn log(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let id = id_of(&id)?;
    as_caller(&app, caller(info, headers), false, move |store, session| {
        Ok(json(StatusCode::OK, &View::open(store, session)?.log(id)?))
    })
    .await
}

async fn create(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Answer {
    let doc: NewRequest = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            format!("malformed body: {e}"),
        )
    })?;
    let doc = doc.without_local_files()?;
    as_caller(&app, caller(info, headers), true, move |store, session| {
        let done = file(store, session, doc.spec(), doc.tenant.as_deref())?;
        let mut r = json(StatusCode::CREATED, &done.ticket);
        if let Ok(v) = format!("/v1/requests/prod/{}", done.ticket.id()).parse() {
            r.headers_mut().insert(header::LOCATION, v);
        }
        Ok(r)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    comment: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: Option<String>,
}

async fn approve(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Answer {
    let id = id_of(&id)?;
    let b: ApproveBody = body(&bytes, true)?;
    transition(
        app,
        caller(info, headers),
        id,
        Transition::Approve { comment: b.comment },
    )
    .await
}

async fn reject(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Answer {
    let id = id_of(&id)?;
    let b: ReasonBody = body(&bytes, true)?;
    let t = Transition::Reject {
        reason: b.reason.unwrap_or_default(),
    };
    transition(app, caller(info, headers), id, t).await
}

async fn cancel(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Answer {
    let id = id_of(&id)?;
    let b: ReasonBody = body(&bytes, true)?;
    transition(
        app,
        caller(info, headers),
        id,
        Transition::Cancel { reason: b.reason },
    )
    .await
}

async fn transition(app: Arc<App>, caller: Caller, id: RequestId, t: Transition) -> Answer {
    let server = app.clone();
    as_caller(&app, caller, true, move |store, session| {
        let done = act(&server, store, session, id, &t)?;
        Ok(json(StatusCode::OK, &done.ticket))
    })
    .await
}

/// File a request as the session's user, for every front end of the
/// server (without a plan: plan files are the CLI's), and send its events.
pub(super) fn file(
    store: &Store,
    session: &Session,
    spec: crate::model::Spec,
    tenant: Option<&str>,
) -> crate::error::Result<Done> {
    let done = request::create(store, session, spec, tenant, None, options(store))?;
    delivered(store, &done);
    Ok(done)
}

/// Approve, reject or cancel as the session's user, for every front end
/// of the server: the events go out, and an approval that completes the
/// quorum deploys when `deploy.autoDeploy` says so.
pub(super) fn act(
    server: &Arc<App>,
    store: &Store,
    session: &Session,
    id: RequestId,
    t: &Transition,
) -> crate::error::Result<Done> {
    let done = action::transition(store, session, id, t, options(store))?;
    delivered(store, &done);
    if matches!(t, Transition::Approve { .. }) {
        super::deploys::auto_deploy(server, store, session, &done);
    }
    Ok(done)
}
