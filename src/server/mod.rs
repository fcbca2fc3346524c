//! `ipr serve` (SPEC §12): the JSON API over the same engine as the CLI.
//!
//! Every request is authenticated ([`auth`]) to a user of the config in
//! force, then handled on a blocking thread with a [`Session`] for that
//! user: the same `query` reads and `action` / `request` writes the CLI
//! calls, so no rule is written twice. Commits carry the trailer
//! `Ipr-Via: server`. With a remote, writes land there first (like
//! `--push`) and reads follow the remote's branch.

pub mod api;
pub mod auth;
pub mod deploys;
pub mod metrics;
pub mod session;
pub mod slack;
pub mod ui;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::Config;
use crate::error::{Error, Kind, Result};
use crate::session::{Session, Signing};
use crate::store::{Identity, Store};

/// Bodies larger than this are refused (413).
pub const MAX_BODY: usize = 1024 * 1024;
/// A request that takes longer is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// What every handler shares.
pub struct App {
    /// The clone the server works in.
    pub repo: PathBuf,
    /// One write at a time in this process (the repository lock is the
    /// guard between processes).
    pub writes: std::sync::Mutex<()>,
    /// The server's own key: with it, commits are committed by
    /// `server.identity` and signed, vouching for their authors.
    pub signer: Option<crate::store::signing::Signer>,
    /// Deploys running in the background.
    pub jobs: deploys::Jobs,
    pub metrics: metrics::Metrics,
    /// Signs the web UI's session cookies and CSRF tokens.
    pub session_key: session::SessionKey,
    /// What the Slack endpoints remember: signatures taken, drafts.
    pub slack: slack::Memory,
}

impl App {
    /// The session a server acts in for `email`: `Ipr-Via: server`, and
    /// with the server's key, committed by `server.identity` and signed,
    /// vouching that it authenticated the author (SPEC §12).
    pub fn session_for(&self, config: &Config, email: &str) -> Result<Session> {
        let name = email.split('@').next().unwrap_or(email).to_string();
        let mut session = Session::new(Identity {
            name,
            email: email.to_string(),
        })
        .with_signing(Signing::Never)
        .with_via(crate::store::VIA_SERVER);
        if let Some(signer) = self.signer.clone() {
            let identity = config
                .server
                .as_ref()
                .and_then(|s| s.identity.clone())
                .ok_or_else(|| {
                    Error::other(
                        "server.identity is not set in .ipr/config.yaml; the server cannot sign",
                    )
                })?;
            session = session
                .with_signing(Signing::Key(signer))
                .with_committer(Identity {
                    name: "ipr server".into(),
                    email: identity,
                });
        }
        Ok(session)
    }
}

/// Bring the clone to the remote's latest state and answer the config
/// in force there.
pub fn follow_remote(store: &Store) -> Result<Config> {
    crate::sync::sync(
        store,
        &Signing::Never,
        None,
        crate::sync::SyncOptions {
            sign: false,
            no_input: true,
        },
    )?;
    crate::trust::check(store, store.head()?)?.config()
}

/// Serve on `listener` until `shutdown` resolves; in-flight requests
/// finish first.
pub async fn serve(
    repo: PathBuf,
    signer: Option<crate::store::signing::Signer>,
    session_key: session::SessionKey,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = Arc::new(App {
        repo,
        writes: std::sync::Mutex::new(()),
        signer,
        jobs: deploys::Jobs::default(),
        metrics: metrics::Metrics::default(),
        session_key,
        slack: slack::Memory::new()?,
    });
    // AWX jobs a previous server started are watched again.
    let resuming = app.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = deploys::resume_watching(&resuming) {
            eprintln!(
                "warning: deploying requests are not watched: {}",
                crate::text::esc(e.message())
            );
        }
    });
    let router = api::router(app.clone())
        .merge(ui::router(app.clone()))
        .merge(slack::router(app.clone()));
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|e| Error::other(format!("server: {e}")))?;
    // A shell or terraform job lives in this process: let it end and
    // record its outcome. An AWX job is watched again by the next server.
    let (local, _) = app.jobs.count();
    if local > 0 {
        eprintln!("waiting for {local} deploy(s) to finish");
        let app = app.clone();
        let _ = tokio::task::spawn_blocking(move || app.jobs.wait_for_local()).await;
    }
    Ok(())
}

/// SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// The HTTP status of an error kind (SPEC §12): the exit codes' cases.
pub fn status(kind: Kind) -> StatusCode {
    match kind {
        Kind::Usage => StatusCode::BAD_REQUEST,
        Kind::Permission => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict | Kind::Untrusted => StatusCode::CONFLICT,
        Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Waiting | Kind::DeployFailed => StatusCode::BAD_GATEWAY,
        Kind::Other => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The machine-readable `code` of an error body.
pub fn code(kind: Kind) -> &'static str {
    match kind {
        Kind::Usage => "bad-request",
        Kind::Permission => "forbidden",
        Kind::NotFound => "not-found",
        Kind::Conflict => "conflict",
        Kind::Untrusted => "untrusted-history",
        Kind::Invalid => "invalid",
        Kind::Waiting => "runner-waiting",
        Kind::DeployFailed => "deploy-failed",
        Kind::Other => "internal",
    }
}

/// An error as the API answers it: `{detail, code, hint}`, plus the
/// field problems of a validation error and the findings of a policy.
pub struct ApiError {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let mut body = json!({
            "detail": e.message(),
            "code": code(e.kind()),
            "hint": e.hint(),
        });
        let problems = e.problem_list();
        if !problems.is_empty() {
            body["problems"] = json!(problems
                .iter()
                .map(|p| json!({"field": p.field, "message": p.message}))
                .collect::<Vec<_>>());
        }
        let findings = e.findings();
        if !findings.is_empty() {
            body["findings"] = json!(findings.iter().map(|f| f.to_string()).collect::<Vec<_>>());
        }
        ApiError {
            status: status(e.kind()),
            body,
        }
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: json!({"detail": detail.into(), "code": code, "hint": null}),
        }
    }

    pub fn unauthorized(detail: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"ipr\""),
            );
        }
        r
    }
}
