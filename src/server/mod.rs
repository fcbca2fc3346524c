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

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{Error, Kind, Result};

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
}

/// Serve on `listener` until `shutdown` resolves; in-flight requests
/// finish first.
pub async fn serve(
    repo: PathBuf,
    signer: Option<crate::store::signing::Signer>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = Arc::new(App {
        repo,
        writes: std::sync::Mutex::new(()),
        signer,
    });
    let router = api::router(app);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|e| Error::other(format!("server: {e}")))
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
