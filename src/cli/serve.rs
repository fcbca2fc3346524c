//! `ipr serve`.

use std::io::Write;
use std::net::SocketAddr;

use crate::error::{Error, Result};

use super::Ctx;

/// Serve the JSON API of this clone over HTTP (SPEC §12).
///
/// Requests authenticate with `Authorization: Bearer TOKEN`, a token
/// whose SHA-256 is under `server.tokens` in .ipr/config.yaml (`ipr token
/// new EMAIL` makes one), or with `server.trustedHeader` from an address
/// in `server.trustedProxies`. Every rule of the CLI applies to the
/// authenticated user; commits are theirs, with the trailer
/// `Ipr-Via: server`. With a git remote, every write lands on the remote
/// first (like --push) and reads follow the remote's branch.
///
/// Endpoints: GET /v1/requests/prod (?state=&tenant=&createdBy=),
/// /v1/requests/prod/my, /pending, /stats, /{id}, /{id}/log; POST
/// /v1/requests/prod (the `create -f` document as JSON), /{id}/approve
/// {comment?}, /{id}/reject {reason}, /{id}/cancel {reason?}; GET
/// /healthz. Errors are `{"detail", "code", "hint"}` with 400, 401, 403,
/// 404, 409, 422 or 502. With `slack:` in the config, the Slack app's
/// POST /slack/commands, /slack/interactions and /slack/events are served
/// too, each checked against Slack's signing secret (SPEC §13). SIGTERM
/// or Ctrl-C stops it after the requests in flight.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0: any free port; the address is
    /// printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The server's own ssh signing key (a private key file, or a public
    /// one whose key is in ssh-agent). With it, the server's commits are
    /// committed by `server.identity` and signed, and `ipr verify`
    /// accepts them when .ipr/allowed_signers lists that key for
    /// `server.identity`. Without it, commits are the user's, unsigned.
    #[arg(long, value_name = "PATH", env = "IPR_SERVER_SIGNING_KEY")]
    pub signing_key: Option<std::path::PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    super::only_table(ctx, "serve")?;
    let store = ctx.store()?;
    let repo = store
        .workdir()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| store.repo().path().to_path_buf());
    // The config must be there and verify before anyone is served.
    let config = crate::trust::check(&store, store.head()?)?.config()?;
    drop(store);
    let signer = match args.signing_key {
        Some(path) => {
            if config
                .server
                .as_ref()
                .and_then(|s| s.identity.as_ref())
                .is_none()
            {
                return Err(Error::invalid(
                    "--signing-key needs server.identity in .ipr/config.yaml (the committer the key signs as)",
                ));
            }
            let path = ctx.resolve(&path);
            if !path.exists() {
                return Err(Error::not_found(format!(
                    "{}: no such key file",
                    path.display()
                )));
            }
            Some(crate::store::signing::Signer {
                format: crate::store::signing::Format::Ssh,
                program: "ssh-keygen".into(),
                key: Some(path.display().to_string()),
            })
        }
        None => None,
    };
    run_server(repo, args.listen, signer, |addr| {
        // The first line says where: scripts and tests read it.
        let mut err = std::io::stderr();
        let _ = writeln!(err, "listening on http://{addr}");
        let _ = err.flush();
    })
}

/// Serve `repo` on `listen` until SIGTERM or Ctrl-C; `listening` is told
/// the address once the port is open.
pub fn run_server(
    repo: std::path::PathBuf,
    listen: SocketAddr,
    signer: Option<crate::store::signing::Signer>,
    listening: impl FnOnce(SocketAddr),
) -> Result<()> {
    // Several servers behind one load balancer share IPR_SESSION_KEY so
    // that each accepts the others' web sessions.
    let session_key = match std::env::var("IPR_SESSION_KEY") {
        Ok(secret) if !secret.is_empty() => {
            crate::server::session::SessionKey::from_secret(&secret)?
        }
        _ => crate::server::session::SessionKey::random()?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::other(format!("server: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Error::other(format!("cannot listen on {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::other(format!("server: {e}")))?;
        listening(addr);
        crate::server::serve(
            repo,
            signer,
            session_key,
            listener,
            crate::server::shutdown_signal(),
        )
        .await
    })
}
