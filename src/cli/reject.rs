//! `ipr reject`.

use crate::action;
use crate::error::Result;
use crate::workflow::Transition;

use super::Ctx;

/// Reject a pending request; one rejection ends it.
///
/// The same people who may approve may reject. The reason (at least 10
/// characters) is recorded in the ticket and shown to the requester.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,

    /// Why it is rejected (at least 10 characters).
    #[arg(long, short = 'r', value_name = "TEXT", allow_hyphen_values = true)]
    pub reason: String,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let (store, session) = ctx.open()?;
    let t = Transition::Reject {
        reason: args.reason,
    };
    let done = action::transition(&store, &session, id, &t, args.commit.options(ctx))?;
    super::show::report(ctx, &done)
}
