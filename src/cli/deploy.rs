//! `ipr deploy`.

use crate::deploy::{self, DeployOptions, Deployed};
use crate::error::{Error, Result};
use crate::model::State;

use super::output;
use super::Ctx;

/// Deploy an approved request (or retry a failed one) through its runner,
/// and record the outcome in the ticket.
///
/// ipr commits `deploying` with the runner's job id before it waits, then
/// `deployed` or `failed`. If ipr is interrupted while waiting, the ticket
/// stays `deploying`; run `ipr deploy ID` again to resume watching the same
/// job (nothing is launched twice). The runner is --runner, else the first
/// matching `runners.rules` entry, else `runners.default`.
///
/// Refused: a request that is not approved or failed (exit 5), a
/// `scheduledDate` in the future (exit 5), approvals whose digest no longer
/// matches the spec or that are older than `approvals.expireAfter` (exit 5),
/// a freeze window (exit 3) unless an admin uses --break-glass --reason,
/// and before `approvals.waitTimer` has passed since the approval (exit 5,
/// saying when; the request can still be cancelled meanwhile).
/// Exit 8 when the runner reports failure.
///
/// With `breakGlass.admins: N` above 1, --break-glass by one admin opens
/// the break-glass deploy (a commit) and the others agree with `ipr
/// break-glass confirm ID`; the Nth admin's confirm deploys.
///
/// --due deploys every approved request you may deploy whose wait timer
/// and schedule have passed: run it from cron (or a CI schedule) with
/// `deploy.autoDeploy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(
        value_name = "ID",
        required_unless_present = "due",
        conflicts_with = "due"
    )]
    pub id: Option<String>,

    /// Deploy every approved request whose wait timer and schedule have
    /// passed (that you may deploy), one after another.
    #[arg(long, conflicts_with_all = ["break_glass", "dry_run", "no_wait"])]
    pub due: bool,

    /// Use this runner (a name under runners.definitions, or `shell`).
    #[arg(long, value_name = "NAME")]
    pub runner: Option<String>,

    /// Check every rule and print exactly what would run; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Return once the job is launched and `deploying` is committed;
    /// complete it later with `ipr record`.
    #[arg(long)]
    pub no_wait: bool,

    /// Deploy inside a freeze window or before the wait timer (admins
    /// only; recorded in history; with breakGlass.admins above 1, opens a
    /// break-glass deploy the other admins confirm).
    #[arg(long, requires = "reason")]
    pub break_glass: bool,

    /// Why glass is broken.
    #[arg(
        long,
        value_name = "TEXT",
        requires = "break_glass",
        allow_hyphen_values = true
    )]
    pub reason: Option<String>,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let (store, session) = ctx.open()?;
    let options = DeployOptions {
        runner: args.runner,
        dry_run: args.dry_run,
        no_wait: args.no_wait,
        break_glass: if args.break_glass { args.reason } else { None },
        echo: !ctx.quiet,
        commit: args.commit.options(ctx),
    };
    let Some(id) = args.id else {
        return run_due(ctx, &store, &session, &options);
    };
    let id = super::parse_id(&id)?;
    let deployed = deploy::deploy(&store, &session, id, &options, &ctx.outbox())?;
    render(ctx, id, deployed)
}

/// `--due`: each request in turn; one that fails does not stop the others.
fn run_due(
    ctx: &Ctx,
    store: &crate::store::Store,
    session: &crate::session::Session,
    options: &DeployOptions,
) -> Result<()> {
    let due = deploy::due(store, session)?;
    if due.is_empty() {
        ctx.note("no approved request is due for deploy");
        return Ok(());
    }
    let mut failed = Vec::new();
    for id in due {
        let result = deploy::deploy(store, session, id, options, &ctx.outbox())
            .and_then(|d| render(ctx, id, d));
        if let Err(e) = result {
            eprintln!("error: {id}: {}", crate::text::esc(e.message()));
            failed.push(id.to_string());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::deploy_failed(format!(
            "{} of the due deploys did not succeed: {}",
            failed.len(),
            failed.join(", ")
        )))
    }
}

/// What a deploy did, for people (and --format json/yaml: the ticket).
pub(super) fn render(ctx: &Ctx, id: crate::model::RequestId, deployed: Deployed) -> Result<()> {
    match deployed {
        Deployed::Held {
            done,
            agreed,
            needed,
        } => {
            ctx.note(format!(
                "break glass on {id}: {agreed} of {needed} admins agreed; another admin runs `ipr break-glass confirm {id}`"
            ));
            super::show::report(ctx, &done)
        }
        Deployed::DryRun { runner, plan } => {
            ctx.note(format!(
                "dry run: {id} would deploy with runner {runner}; nothing changed"
            ));
            output::print(&plan)
        }
        Deployed::Started(done) => {
            let job = done.ticket.last_entry().job_id.clone().unwrap_or_default();
            ctx.note(format!(
                "{id} is deploying (job {job}); complete it with `ipr record {id} --status successful|failed --job-id {job}`"
            ));
            super::show::report(ctx, &done)
        }
        Deployed::Finished(done) => {
            super::show::report(ctx, &done)?;
            if done.ticket.status.state == State::Failed {
                let reason = done.ticket.last_entry().error.clone().unwrap_or_default();
                return Err(Error::deploy_failed(format!(
                    "deployment of {id} failed: {}",
                    reason.lines().next().unwrap_or("")
                ))
                .with_hint(format!(
                    "`ipr show {id}` has the output; `ipr deploy {id}` retries"
                )));
            }
            Ok(())
        }
    }
}
