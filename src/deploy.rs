//! `ipr deploy` and `ipr record`: hand an approved request to its runner
//! and record what happens, as it happens.
//!
//! A deploy commits `deploying` (runner and job id) before it waits, so a
//! killed ipr leaves the ticket `deploying` with the job id, and running
//! `ipr deploy` again watches that job instead of launching a second one.
//! The repository lock is held while committing, never while waiting.

use crate::action::{self, Done, Options};
use crate::config::RunnerDef;
use crate::error::{Error, Remedy, Result};
use crate::model::{Action, RequestId, State, Ticket};
use crate::notify::Notifier;
use crate::runner::{self, DeployRequest, Outcome};
use crate::session::Session;
use crate::store::Store;
use crate::workflow::{self, Transition};

/// `ipr deploy` options.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// `--runner NAME`: overrides rules and default.
    pub runner: Option<String>,
    /// Print what would run; change nothing.
    pub dry_run: bool,
    /// Return after committing `deploying`.
    pub no_wait: bool,
    /// `--break-glass --reason R`: an admin deploying inside a freeze.
    pub break_glass: Option<String>,
    /// Stream the runner's output to the session's output.
    pub echo: bool,
    pub commit: Options,
}

/// What a deploy did.
#[derive(Debug)]
pub enum Deployed {
    /// `--dry-run`: the runner and exactly what it would run.
    DryRun { runner: String, plan: String },
    /// `--no-wait`: the job is running; `ipr record` completes it.
    Started(Done),
    /// The runner finished; the ticket is `deployed` or `failed`.
    Finished(Done),
    /// A break-glass deploy was opened or agreed to, and waits for more
    /// admins (`breakGlass.admins`): `agreed` of `needed` so far.
    Held {
        done: Done,
        agreed: u32,
        needed: u32,
    },
}

/// Deploy `id`, or resume watching its job if it is already `deploying`.
/// Policy `warning:`s of a terraform request go to the session's output;
/// a policy denial is the error, with its findings.
pub fn deploy(
    store: &Store,
    session: &Session,
    id: RequestId,
    options: &DeployOptions,
    notifier: &dyn Notifier,
) -> Result<Deployed> {
    let root = store
        .workdir()
        .ok_or_else(|| Error::other("deploy needs a work tree (this repository is bare)"))?
        .to_path_buf();
    let lock = store.lock()?;
    let snap = action::snapshot(store, session)?;
    // Nothing runs on history that does not verify: no runner, URL or
    // token is taken from a config an unauthorized commit wrote.
    snap.trust.check_ticket(id)?;
    let ticket = store.ticket(snap.head, id)?;

    if ticket.status.state == State::Deploying {
        drop(lock);
        return resume(store, session, &ticket, options, notifier, &root);
    }
    // Two-person break glass: the first admin opens it, and the deploy
    // waits until enough admins agreed (`ipr break-glass confirm`).
    if let Some(reason) = &options.break_glass {
        let needed = crate::approvals::break_glass_admins(&snap.config);
        let agreed = crate::approvals::break_glass_agreement(&ticket)
            .filter(|(opened, _)| opened.comment.as_deref() == Some(reason.trim()))
            .map(|(_, agreed)| agreed.len() as u32)
            .unwrap_or(0);
        if needed > 1 && agreed < needed && !options.dry_run {
            let open = Transition::BreakGlass {
                reason: reason.clone(),
            };
            let done = action::transition_locked(store, session, id, &open, options.commit)?;
            return Ok(Deployed::Held {
                done,
                agreed: 1,
                needed,
            });
        }
    }

    let name = runner::choose(&snap.config, &ticket, options.runner.as_deref());
    let def = RunnerDef::named(&snap.config, &name)?;
    let mut runner = def.build(&root, echo(session, options, &snap.config))?;
    let request = DeployRequest::from_ticket(&ticket);
    // Every rule (rights, state, schedule, digests, expiry, freeze) before
    // anything runs: the same check the commit will make.
    let probe = Transition::StartDeploy {
        runner: name.clone(),
        job_id: None,
        break_glass: options.break_glass.clone(),
    };
    workflow::apply(&ticket, &probe, &snap.actor.email, &snap.config, snap.now)?;
    // `.ipr/policies` against the approved plan (terraform requests only).
    let warnings =
        crate::plan_request::check_deploy(store, snap.head, &ticket, (&name, &def), &root)?;
    for w in &warnings {
        session.output.line(&format!("warning: {w}"));
    }
    if options.dry_run {
        return Ok(Deployed::DryRun {
            plan: runner.describe(&request),
            runner: name,
        });
    }

    let start = |job_id: &str| Transition::StartDeploy {
        runner: name.clone(),
        job_id: Some(job_id.to_string()),
        break_glass: options.break_glass.clone(),
    };
    let notify_started = |done: &Done| notifier.landed(store, &done.landed);

    if let Some(job_id) = runner.planned_job_id(&request) {
        // A local runner: record `deploying` first, then run in the foreground.
        if options.no_wait {
            return Err(Error::usage(format!(
                "runner {name} ({}) runs the job itself, in the foreground; --no-wait is for remote runners such as awx",
                def.kind()
            )));
        }
        let started =
            action::transition_locked(store, session, id, &start(&job_id), options.commit)?;
        drop(lock);
        let request = DeployRequest::from_ticket(&started.ticket);
        // `deployment-started` goes out beside the job, never before it:
        // a slow receiver must not hold up (or, interrupted, strand) a
        // deploy. The thread reads the repository through its own handle.
        let outcome = std::thread::scope(|scope| {
            let landed = started.landed.clone();
            let dir = root.clone();
            scope.spawn(move || {
                if let Ok(store) = Store::open(Some(&dir)) {
                    notifier.landed(&store, &landed);
                }
            });
            runner.launch(&request).and_then(|l| runner.wait(&l.job_id))
        });
        let outcome = outcome.or_else(|e| {
            Ok::<_, Error>(Outcome::Failed {
                reason: e.message().to_string(),
            })
        });
        return finish(store, session, id, &job_id, outcome, options, notifier);
    }

    // A remote runner: the job id exists once launched; record it at once.
    let launched = runner.launch(&request)?;
    let started =
        action::transition_locked(store, session, id, &start(&launched.job_id), options.commit)
            .map_err(|e| {
                e.context(format!(
                    "job {} was launched but could not be recorded",
                    launched.job_id
                ))
            })?;
    drop(lock);
    notify_started(&started);
    if options.no_wait {
        return Ok(Deployed::Started(started));
    }
    let outcome = runner.wait(&launched.job_id);
    finish(
        store,
        session,
        id,
        &launched.job_id,
        outcome,
        options,
        notifier,
    )
}

/// `ipr break-glass confirm`: agree to the open break-glass deploy of
/// `id`; the admin whose agreement completes `breakGlass.admins` deploys.
pub fn confirm_break_glass(
    store: &Store,
    session: &Session,
    id: RequestId,
    options: &DeployOptions,
    notifier: &dyn Notifier,
) -> Result<Deployed> {
    let done = action::transition(
        store,
        session,
        id,
        &Transition::ConfirmBreakGlass,
        options.commit,
    )?;
    let needed = crate::approvals::break_glass_admins(&done.config);
    let Some((opened, agreed)) = crate::approvals::break_glass_agreement(&done.ticket) else {
        return Err(Error::other(format!(
            "{id}: the break-glass request vanished"
        )));
    };
    let agreed_n = agreed.len() as u32;
    if agreed_n < needed {
        return Ok(Deployed::Held {
            done,
            agreed: agreed_n,
            needed,
        });
    }
    let reason = opened.comment.clone();
    notifier.landed(store, &done.landed);
    let options = DeployOptions {
        break_glass: reason,
        ..options.clone()
    };
    deploy(store, session, id, &options, notifier)
}

/// `deploy.autoDeploy`: the approval that made the request `approved`
/// deploys it at once, as the approver (the seed's "approval triggers
/// AWX"). `None` when it does not apply: auto-deploy is off, the request
/// is still pending, or a wait timer holds it (then `ipr deploy --due`
/// deploys it once the wait has passed).
pub fn auto_deploy(
    store: &Store,
    session: &Session,
    approved: &Done,
    options: &DeployOptions,
    notifier: &dyn Notifier,
) -> Option<Result<Deployed>> {
    let t = &approved.ticket;
    if !approved.config.deploy.auto_deploy || t.status.state != State::Approved {
        return None;
    }
    if crate::approvals::wait_until(&approved.config, t).is_some_and(|until| session.now() < until)
    {
        return None;
    }
    Some(deploy(store, session, t.id(), options, notifier))
}

/// The approved requests `session`'s actor may deploy now: every gate of
/// a deploy passes, the wait timer and the schedule included (`ipr deploy
/// --due`, for cron or the server). Failed ones are left to a person.
pub fn due(store: &Store, session: &Session) -> Result<Vec<RequestId>> {
    let snap = action::snapshot(store, session)?;
    let mut out = Vec::new();
    for t in store.tickets_where(snap.head, |s| s.state == State::Approved)? {
        if t.status.state != State::Approved || snap.trust.check_ticket(t.id()).is_err() {
            continue;
        }
        let probe = Transition::StartDeploy {
            runner: String::new(),
            job_id: None,
            break_glass: None,
        };
        if workflow::apply(&t, &probe, &snap.actor.email, &snap.config, snap.now).is_ok() {
            out.push(t.id());
        }
    }
    Ok(out)
}

/// Where a runner's output goes: the session's output, scrubbed of the
/// config's secrets, when the caller asked for it.
fn echo(
    session: &Session,
    options: &DeployOptions,
    config: &crate::config::Config,
) -> runner::process::Echo {
    options.echo.then(|| runner::process::Sink {
        output: session.output.clone(),
        secrets: std::sync::Arc::new(crate::secrets::Secrets::from_config(config)),
    })
}

/// Watch the job a `deploying` ticket records.
fn resume(
    store: &Store,
    session: &Session,
    ticket: &Ticket,
    options: &DeployOptions,
    notifier: &dyn Notifier,
    root: &std::path::Path,
) -> Result<Deployed> {
    let id = ticket.id();
    let entry = ticket
        .status
        .history
        .iter()
        .rev()
        .find(|e| e.action == Action::Deploying)
        .ok_or_else(|| Error::invalid(format!("{id} is deploying but has no deploying entry")))?;
    let name = entry.runner.clone().unwrap_or_default();
    let job_id = entry.job_id.clone().ok_or_else(|| {
        Error::conflict(format!("{id} is deploying but records no job id to watch")).with_remedy(
            Remedy::RecordOutcome {
                id: None,
                job: None,
                first: None,
            },
        )
    })?;
    if let Some(asked) = &options.runner {
        if *asked != name {
            return Err(Error::conflict(format!(
                "{id} is already deploying with runner {name} (job {job_id}), not {asked}"
            )));
        }
    }
    let snap = action::snapshot(store, session)?;
    snap.trust.check_ticket(id)?;
    crate::policy::check(
        &snap.config,
        &snap.actor.email,
        crate::policy::Capability::Deploy,
        ticket,
    )?;
    let def = RunnerDef::named(&snap.config, &name)?;
    let mut runner = def.build(root, echo(session, options, &snap.config))?;
    if options.dry_run {
        return Ok(Deployed::DryRun {
            plan: format!("resume watching job {job_id} (runner {name}); nothing is launched\n"),
            runner: name,
        });
    }
    if !runner.can_resume() {
        return Err(Error::conflict(format!(
            "{id} is deploying job {job_id} with runner {name}, which cannot watch a job that another ipr process started"
        ))
        .with_remedy(Remedy::RecordOutcome {
            id: Some(id.to_string()),
            job: Some(job_id.clone()),
            first: Some("check what the job did"),
        }));
    }
    if options.no_wait {
        return Err(Error::conflict(format!(
            "{id} is already deploying (job {job_id}); --no-wait has nothing to start"
        )));
    }
    let outcome = runner.wait(&job_id);
    finish(store, session, id, &job_id, outcome, options, notifier)
}

/// Record the outcome of `job_id`. Only an outcome the runner reported is
/// recorded: any error while watching (refused credentials, a job AWX no
/// longer shows, a lost connection, a timeout) leaves the ticket
/// `deploying`, so the job is resumed and never launched a second time.
fn finish(
    store: &Store,
    session: &Session,
    id: RequestId,
    job_id: &str,
    outcome: Result<Outcome>,
    options: &DeployOptions,
    notifier: &dyn Notifier,
) -> Result<Deployed> {
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            return Err(Error::waiting(format!(
                "job {job_id} was launched and may still be running; watching it failed: {}",
                e.message()
            ))
            .with_remedy(Remedy::ResumeWatching {
                id: id.to_string(),
                job: job_id.to_string(),
            })
            .with_source(e))
        }
    };
    let done = record_outcome(
        store,
        session,
        id,
        job_id,
        &outcome,
        options.commit,
        notifier,
    )?;
    Ok(Deployed::Finished(done))
}

/// Commit `deployed` or `failed` for the job the ticket records.
pub fn record_outcome(
    store: &Store,
    session: &Session,
    id: RequestId,
    job_id: &str,
    outcome: &Outcome,
    options: Options,
    notifier: &dyn Notifier,
) -> Result<Done> {
    let _lock = store.lock()?;
    let snap = action::snapshot(store, session)?;
    snap.trust.check_ticket(id)?;
    let ticket = store.ticket(snap.head, id)?;
    if ticket.status.state == State::Deploying {
        let recorded = ticket
            .status
            .history
            .iter()
            .rev()
            .find(|e| e.action == Action::Deploying)
            .and_then(|e| e.job_id.as_deref());
        if recorded != Some(job_id) {
            return Err(Error::conflict(format!(
                "{id} is deploying job {}, not {job_id}",
                recorded.unwrap_or("(none)")
            ))
            .with_remedy(Remedy::RecordedJobId));
        }
    }
    let t = match outcome {
        Outcome::Succeeded { deployment_id } => Transition::Succeed {
            job_id: Some(job_id.to_string()),
            deployment_id: deployment_id.clone(),
        },
        Outcome::Failed { reason } => Transition::Fail {
            job_id: Some(job_id.to_string()),
            // Whatever the runner printed is scrubbed of the secrets the
            // config names before it reaches the ticket.
            error: bounded(&crate::secrets::Secrets::from_config(&snap.config).scrub(reason)),
        },
    };
    let done = action::transition_locked(store, session, id, &t, options)?;
    notifier.landed(store, &done.landed);
    Ok(done)
}

/// A failure reason cut to a bounded size (the end is kept: it says why).
fn bounded(reason: &str) -> String {
    let max = runner::process::MAX_REASON_BYTES;
    if reason.len() <= max {
        return reason.to_string();
    }
    let mut cut = reason.len() - max;
    while !reason.is_char_boundary(cut) {
        cut += 1;
    }
    format!("…{}", &reason[cut..])
}

/// What history says about one job of a runner kind (an AWX job a
/// webhook reports on, say).
#[derive(Debug)]
pub enum JobRecord {
    /// `ticket` is deploying the job; `deployer` started it.
    Running {
        ticket: Box<Ticket>,
        deployer: String,
    },
    /// The outcome is recorded: `deployed` when `succeeded`, else `failed`.
    Recorded {
        ticket: Box<Ticket>,
        succeeded: bool,
    },
}

/// Every request at `at` that deployed `job_id` with a runner of `kind`
/// (as `config` defines its runners), and what became of the job.
pub fn job_records(
    store: &Store,
    at: Option<crate::store::Oid>,
    config: &crate::config::Config,
    kind: &str,
    job_id: &str,
) -> Result<Vec<JobRecord>> {
    let mut out = Vec::new();
    // Only a request that reached `deploying` has a job (SPEC §5: it is
    // then deploying, deployed or failed); the cache nominates those and
    // each is read from git.
    let ever_deployed = |s: &crate::model::Summary| {
        matches!(s.state, State::Deploying | State::Deployed | State::Failed)
    };
    for ticket in store.tickets_where(at, ever_deployed)? {
        let history = &ticket.status.history;
        let Some(start) = history.iter().position(|e| {
            e.action == Action::Deploying
                && e.job_id.as_deref() == Some(job_id)
                && e.runner
                    .as_deref()
                    .and_then(|r| RunnerDef::named(config, r).ok())
                    .is_some_and(|d| d.kind() == kind)
        }) else {
            continue;
        };
        let deployer = history[start].by.clone();
        let outcome = history[start + 1..]
            .iter()
            .find(|e| {
                matches!(e.action, Action::Deployed | Action::Failed)
                    && e.job_id.as_deref() == Some(job_id)
            })
            .map(|e| e.action == Action::Deployed);
        let last_start = history.iter().rposition(|e| e.action == Action::Deploying);
        match outcome {
            Some(succeeded) => out.push(JobRecord::Recorded {
                ticket: Box::new(ticket),
                succeeded,
            }),
            None if ticket.status.state == State::Deploying && last_start == Some(start) => out
                .push(JobRecord::Running {
                    ticket: Box::new(ticket),
                    deployer,
                }),
            None => {}
        }
    }
    Ok(out)
}

/// The `deploying` requests whose runner can watch a job another process
/// started (AWX): a server resumes watching them when it starts.
pub fn resumable(
    store: &Store,
    at: Option<crate::store::Oid>,
    config: &crate::config::Config,
) -> Result<Vec<(RequestId, String)>> {
    let mut out = Vec::new();
    for ticket in store.tickets_where(at, |s| s.state == State::Deploying)? {
        if ticket.status.state != State::Deploying {
            continue;
        }
        let Some(entry) = ticket
            .status
            .history
            .iter()
            .rev()
            .find(|e| e.action == Action::Deploying)
        else {
            continue;
        };
        let remote = entry
            .runner
            .as_deref()
            .and_then(|r| RunnerDef::named(config, r).ok())
            .is_some_and(|d| d.can_resume());
        if remote && entry.job_id.is_some() {
            out.push((ticket.id(), entry.by.clone()));
        }
    }
    Ok(out)
}
