//! `ipr record`: the outcome of an asynchronous deploy.

use crate::deploy;
use crate::error::{Error, Result};
use crate::runner::Outcome;

use super::Ctx;

/// Record the outcome of a deploy started with `ipr deploy --no-wait`
/// (from an AWX notification webhook, a CI callback, or by hand).
///
/// The request must be `deploying` and --job-id must be the job its
/// deploying entry recorded.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,

    /// How the job ended.
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Status,

    /// The job id the deploying entry recorded.
    #[arg(long, value_name = "JOB")]
    pub job_id: String,

    /// What went wrong (with --status failed).
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub error: Option<String>,

    /// Deployment id to record (with --status successful).
    #[arg(long, value_name = "ID")]
    pub deployment_id: Option<String>,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Status {
    Successful,
    Failed,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let outcome = match args.status {
        Status::Successful => {
            if args.error.is_some() {
                return Err(Error::usage("--error goes with --status failed"));
            }
            Outcome::Succeeded {
                deployment_id: args.deployment_id,
            }
        }
        Status::Failed => Outcome::Failed {
            reason: args
                .error
                .unwrap_or_else(|| "reported failed with ipr record".into()),
        },
    };
    let (store, session) = ctx.open()?;
    let done = deploy::record_outcome(
        &store,
        &session,
        id,
        &args.job_id,
        &outcome,
        args.commit.options(ctx),
        &ctx.outbox(),
    )?;
    super::show::report(ctx, &done)
}
