//! `ipr review`: the seed-compatible form of approve / reject.

use crate::action;
use crate::error::{Error, Result};
use crate::workflow::Transition;

use super::Ctx;

/// Approve or reject a pending request (same rules as `ipr approve` and
/// `ipr reject`); with --reject, --comment is the reason.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["approve", "reject"])))]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,

    /// Approve the request.
    #[arg(long)]
    pub approve: bool,

    /// Reject the request (needs --comment of at least 10 characters).
    #[arg(long)]
    pub reject: bool,

    /// Comment for an approval, reason for a rejection.
    #[arg(long, short = 'm', value_name = "TEXT", allow_hyphen_values = true)]
    pub comment: Option<String>,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let t = if args.approve {
        Transition::Approve {
            comment: args.comment,
        }
    } else {
        let reason = args.comment.ok_or_else(|| {
            Error::invalid("a rejection needs a reason")
                .with_hint("ipr review ID --reject --comment \"why this cannot ship\"")
        })?;
        Transition::Reject { reason }
    };
    let (store, session) = ctx.open()?;
    let done = action::transition(&store, &session, id, &t, args.commit.options(ctx))?;
    super::show::report(ctx, &done)
}
