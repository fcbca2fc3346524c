//! `ipr comment`.

use crate::action;
use crate::error::Result;
use crate::workflow::Transition;

use super::Ctx;

/// Comment on a request: a `commented` history entry, in any state, that
/// changes nothing else.
///
/// Anyone who can view the request may comment; reviewers ask questions
/// here, requesters answer. `ipr show` has comments in its timeline, and
/// notifications send them as `request-commented`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  ipr comment PR-2026-0042 --message \"Is the 3DS2 flag off by default?\"")]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,

    /// The comment.
    #[arg(long, short = 'm', value_name = "TEXT", allow_hyphen_values = true)]
    pub message: String,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let (store, session) = ctx.open()?;
    let t = Transition::Comment {
        message: args.message,
    };
    let done = action::transition(&store, &session, id, &t, args.commit.options(ctx))?;
    super::show::report(ctx, &done)
}
