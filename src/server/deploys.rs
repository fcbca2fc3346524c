//! Deploys the server runs (SPEC §12): `POST /deploy` answers 202 once
//! `deploying` is committed and the job runs on in the background; AWX
//! jobs are watched again when the server starts; AWX's job-complete
//! webhook records an outcome once.

use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::api::{as_caller, body, caller, id_of, json, options, outbox};
use super::{ApiError, App};
use crate::deploy::{self, DeployOptions, Deployed, JobRecord};
use crate::error::{Error, Kind, Result};
use crate::model::{RequestId, Ticket};
use crate::notify::Notifier;
use crate::runner::Outcome;
use crate::store::{Oid, Store};

type Answer = std::result::Result<Response, ApiError>;

/// The deploys running in this process. Those of a runner that cannot be
/// watched from elsewhere (shell, terraform) hold a shutdown until they
/// end; AWX jobs are watched again by the next server.
#[derive(Default)]
pub struct Jobs {
    running: Mutex<Running>,
    ended: Condvar,
}

#[derive(Default)]
struct Running {
    local: usize,
    remote: usize,
}

/// One running deploy; counted out when dropped.
struct Job {
    app: Arc<App>,
    local: bool,
}

impl Jobs {
    fn start(app: &Arc<App>, local: bool) -> Job {
        let mut r = app.jobs.running.lock().unwrap_or_else(|e| e.into_inner());
        if local {
            r.local += 1;
        } else {
            r.remote += 1;
        }
        app.metrics.deploys_running.inc();
        Job {
            app: app.clone(),
            local,
        }
    }

    /// How many deploys run now: (local, remote).
    pub fn count(&self) -> (usize, usize) {
        let r = self.running.lock().unwrap_or_else(|e| e.into_inner());
        (r.local, r.remote)
    }

    /// Block until no local job runs.
    pub fn wait_for_local(&self) {
        let mut r = self.running.lock().unwrap_or_else(|e| e.into_inner());
        while r.local > 0 {
            r = self.ended.wait(r).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        let mut r = self
            .app
            .jobs
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if self.local {
            r.local -= 1;
        } else {
            r.remote -= 1;
        }
        self.app.metrics.deploys_running.dec();
        self.app.jobs.ended.notify_all();
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DeployBody {
    runner: Option<String>,
    dry_run: Option<bool>,
}

/// What the deploy thread tells the request waiting for it.
enum Deploying {
    /// `deploying` is committed: the job runs on.
    Started(Box<Ticket>),
    /// It ended before that: a refusal, or the dry run's plan.
    Ended(Box<Result<Deployed>>),
}

/// The deploy thread's notifier: says when `deploying` landed, and
/// delivers the events of everything that lands (SPEC §9).
struct Announcer {
    id: RequestId,
    started: Mutex<Option<std::sync::mpsc::Sender<Deploying>>>,
}

impl Notifier for Announcer {
    fn landed(&self, store: &Store, commits: &[Oid]) {
        let tx = self.started.lock().ok().and_then(|mut t| t.take());
        if let Some(tx) = tx {
            if let Ok(ticket) = store.ticket(commits.last().copied(), self.id) {
                let _ = tx.send(Deploying::Started(Box::new(ticket)));
            }
        }
        outbox().landed(store, commits);
    }
}

/// `POST /v1/requests/prod/{id}/deploy`: every rule of `ipr deploy`, then
/// 202 with the ticket once `deploying` is committed; the server watches
/// the job and records `deployed` or `failed`. `dryRun` answers 200 with
/// what would run.
pub async fn deploy(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Answer {
    let id = id_of(&id)?;
    let b: DeployBody = body(&bytes, true)?;
    let server = app.clone();
    as_caller(&app, caller(info, headers), true, move |store, session| {
        let dir = store
            .workdir()
            .ok_or_else(|| Error::other("deploys need a clone with a work tree"))?
            .to_path_buf();
        let local = !runs_elsewhere(store, id, b.runner.as_deref())?;
        let options = DeployOptions {
            runner: b.runner,
            dry_run: b.dry_run.unwrap_or(false),
            commit: options(store),
            ..Default::default()
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let announcer = Announcer {
            id,
            started: Mutex::new(Some(tx.clone())),
        };
        let session = session.clone();
        let job = Jobs::start(&server, local);
        std::thread::spawn(move || {
            let _job = job;
            let result = Store::open(Some(&dir))
                .and_then(|store| deploy::deploy(&store, &session, id, &options, &announcer));
            log_outcome(id, &result);
            let _ = tx.send(Deploying::Ended(Box::new(result)));
        });
        let ended = match rx.recv() {
            Ok(Deploying::Started(ticket)) => return Ok(json(StatusCode::ACCEPTED, &ticket)),
            Ok(Deploying::Ended(ended)) => *ended,
            Err(_) => return Err(Error::other("the deploy ended without an answer").into()),
        };
        match ended {
            Ok(Deployed::DryRun { runner, plan }) => Ok(json(
                StatusCode::OK,
                &json!({"dryRun": true, "runner": runner, "plan": plan}),
            )),
            Ok(
                Deployed::Started(done) | Deployed::Finished(done) | Deployed::Held { done, .. },
            ) => Ok(json(StatusCode::OK, &done.ticket)),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// Whether the job of this deploy can be watched by another process
/// (an AWX job), so a shutdown need not wait for it.
fn runs_elsewhere(store: &Store, id: RequestId, asked: Option<&str>) -> Result<bool> {
    let head = store.head()?;
    let config = crate::trust::check(store, head)?.config()?;
    let ticket = store.ticket(head, id)?;
    let name = crate::runner::choose(&config, &ticket, asked);
    Ok(crate::config::RunnerDef::named(&config, &name).is_ok_and(|d| d.can_resume()))
}

/// The server's log line for a background deploy that did not end well.
fn log_outcome(id: RequestId, result: &Result<Deployed>) {
    if let Err(e) = result {
        eprintln!("deploy {id}: {}", crate::text::esc(e.message()));
    }
}

/// When the server starts: watch again every AWX job a `deploying`
/// request records, acting for the user who started it.
pub fn resume_watching(app: &Arc<App>) -> Result<usize> {
    let store = Store::open(Some(&app.repo))?;
    let config = if store.has_remotes() {
        super::follow_remote(&store)?
    } else {
        crate::trust::check(&store, store.head()?)?.config()?
    };
    let jobs = deploy::resumable(&store, store.head()?, &config)?;
    let count = jobs.len();
    for (id, deployer) in jobs {
        let session = app.session_for(&config, &deployer)?;
        let options = DeployOptions {
            commit: options(&store),
            ..Default::default()
        };
        let dir = app.repo.clone();
        let job = Jobs::start(app, false);
        eprintln!("deploy {id}: watching its job again");
        std::thread::spawn(move || {
            let _job = job;
            let result = Store::open(Some(&dir))
                .and_then(|store| deploy::deploy(&store, &session, id, &options, &outbox()));
            log_outcome(id, &result);
        });
    }
    Ok(count)
}

/// The part of AWX's webhook notification body that matters here (AWX
/// sends the job: `id`, `status`, `name`, `url`, ...).
#[derive(Debug, Deserialize)]
struct AwxNotification {
    id: u64,
    status: String,
}

/// `POST /webhooks/awx/job-complete`: AWX says a job ended. Authenticated
/// by the shared secret of `server.awxWebhookSecretEnv` (as a bearer
/// token, the password of basic auth, or `X-Ipr-Webhook-Secret`); records
/// `deployed` or `failed` for the request deploying that job, once: a
/// repeat answers 200 with `recorded: false`, a job no request deploys or
/// an outcome other than the one recorded answers 409.
pub async fn awx_job_complete(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Answer {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let store = Store::open(Some(&app.repo))?;
        let local = crate::trust::check(&store, store.head()?)?.config()?;
        // The secret first: an unauthenticated call costs no fetch.
        check_secret(&local, &headers)?;
        let note: AwxNotification = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                format!("malformed AWX notification: {e}"),
            )
        })?;
        if note.status.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "malformed AWX notification: `status` is empty",
            ));
        }
        let succeeded = match note.status.as_str() {
            "successful" => true,
            "failed" | "error" | "canceled" => false,
            other => {
                return Ok(json(
                    StatusCode::ACCEPTED,
                    &json!({"recorded": false, "detail": format!(
                        "job {} is {}; nothing is recorded until it ends",
                        note.id,
                        crate::text::esc(other)
                    )}),
                ))
            }
        };
        let _guard = app.writes.lock().unwrap_or_else(|e| e.into_inner());
        let config = if store.has_remotes() {
            super::follow_remote(&store)?
        } else {
            local
        };
        check_secret(&config, &headers)?;
        let job_id = format!("{}{}", crate::runner::awx::JOB_PREFIX, note.id);
        let record = |store: &Store| -> Result<Option<JobRecord>> {
            let mut found = deploy::job_records(store, store.head()?, &config, "awx", &job_id)?;
            if found.len() > 1 {
                return Err(Error::conflict(format!(
                    "more than one request deploys {job_id}; record the outcome with `ipr record`"
                )));
            }
            Ok(found.pop())
        };
        let recorded = |ticket: &Ticket, was: bool| -> Answer {
            if was == succeeded {
                Ok(json(
                    StatusCode::OK,
                    &json!({"recorded": false, "ticket": ticket}),
                ))
            } else {
                Err(Error::conflict(format!(
                    "{} recorded job {job_id} as {}; AWX now says {}",
                    ticket.id(),
                    if was { "deployed" } else { "failed" },
                    note.status
                ))
                .into())
            }
        };
        match record(&store)? {
            None => Err(Error::conflict(format!("no request deploys {job_id}")).into()),
            Some(JobRecord::Recorded {
                ticket,
                succeeded: was,
            }) => recorded(&ticket, was),
            Some(JobRecord::Running { ticket, deployer }) => {
                let session = app.session_for(&config, &deployer)?;
                let outcome = if succeeded {
                    Outcome::Succeeded {
                        deployment_id: Some(job_id.clone()),
                    }
                } else {
                    Outcome::Failed {
                        reason: format!("AWX job {} ended {}", note.id, note.status),
                    }
                };
                let id = ticket.id();
                match deploy::record_outcome(
                    &store,
                    &session,
                    id,
                    &job_id,
                    &outcome,
                    options(&store),
                    &outbox(),
                ) {
                    Ok(done) => Ok(json(
                        StatusCode::OK,
                        &json!({"recorded": true, "ticket": done.ticket}),
                    )),
                    // The server's own watcher (or another server) may have
                    // recorded it a moment before.
                    Err(e) if e.kind() == Kind::Conflict => match record(&store)? {
                        Some(JobRecord::Recorded {
                            ticket,
                            succeeded: was,
                        }) => recorded(&ticket, was),
                        _ => Err(e.into()),
                    },
                    Err(e) => Err(e.into()),
                }
            }
        }
    })
    .await
    .map_err(|e| ApiError::from(Error::other(format!("server: {e}"))))?
}

/// The shared secret of AWX's webhook, compared as digests so the time
/// taken says nothing about how much of it matched.
fn check_secret(
    config: &crate::config::Config,
    headers: &HeaderMap,
) -> std::result::Result<(), ApiError> {
    let Some(env) = config
        .server
        .as_ref()
        .and_then(|s| s.awx_webhook_secret_env.as_deref())
    else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "the AWX webhook is off: set server.awxWebhookSecretEnv in .ipr/config.yaml",
        ));
    };
    let secret = std::env::var(env).unwrap_or_default();
    if secret.is_empty() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-configured",
            format!("the AWX webhook's secret is not set: the server's environment has no {env}"),
        ));
    }
    let given = offered_secret(headers)
        .ok_or_else(|| ApiError::unauthorized("the AWX webhook needs its shared secret"))?;
    if Sha256::digest(given.as_bytes()) == Sha256::digest(secret.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("wrong secret for the AWX webhook"))
    }
}

/// The secret a caller offers: `X-Ipr-Webhook-Secret`, a bearer token, or
/// the password of basic auth (what AWX's webhook notification type can send).
fn offered_secret(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-ipr-webhook-secret") {
        return v.to_str().ok().map(str::to_string);
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = auth.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        return text
            .split_once(':')
            .map(|(_, password)| password.to_string());
    }
    None
}

/// `deploy.autoDeploy` through the server: the approval that made the
/// request `approved` starts its deploy in the background, as the
/// approver, exactly as `ipr approve` does (SPEC §4a); a wait timer leaves
/// it to `ipr deploy --due`. The deploy takes the repository lock after
/// the approval's request releases it.
pub(super) fn auto_deploy(
    app: &Arc<App>,
    store: &Store,
    session: &crate::session::Session,
    done: &crate::action::Done,
) {
    let t = &done.ticket;
    if !done.config.deploy.auto_deploy || t.status.state != crate::model::State::Approved {
        return;
    }
    if crate::approvals::wait_until(&done.config, t).is_some_and(|u| session.now() < u) {
        return;
    }
    let Some(dir) = store.workdir().map(|d| d.to_path_buf()) else {
        return;
    };
    let id = t.id();
    let local = !runs_elsewhere(store, id, None).unwrap_or(false);
    let options = DeployOptions {
        commit: options(store),
        ..Default::default()
    };
    let session = session.clone();
    let job = Jobs::start(app, local);
    std::thread::spawn(move || {
        let _job = job;
        let result = Store::open(Some(&dir))
            .and_then(|store| deploy::deploy(&store, &session, id, &options, &outbox()));
        log_outcome(id, &result);
    });
}
