//! `ipr cancel`.

use crate::action;
use crate::error::Result;
use crate::workflow::Transition;

use super::Ctx;

/// Cancel a pending or approved request.
///
/// A devops engineer cancels their own requests, a tenant admin any
/// request of their tenant, an admin any request.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,

    /// Why it is cancelled.
    #[arg(long, short = 'r', value_name = "TEXT", allow_hyphen_values = true)]
    pub reason: Option<String>,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let (store, session) = ctx.open()?;
    let t = Transition::Cancel {
        reason: args.reason,
    };
    let done = action::transition(&store, &session, id, &t, args.commit.options(ctx))?;
    super::show::report(ctx, &done)
}
