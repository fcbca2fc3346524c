//! `ipr incident`.

use crate::action;
use crate::error::Result;
use crate::workflow::Transition;

use super::Ctx;

/// Record the incident report that follows a break-glass deploy.
///
/// With `breakGlass.incidentWithin` (e.g. 48h), a report is due that long
/// after a break-glass deploy; until it is recorded, `ipr list` and `ipr
/// verify` flag the request as overdue. Anyone who may deploy the request
/// records it.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  ipr incident PR-2026-0042 --report https://wiki.example.com/incidents/2026-117")]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,

    /// Where the report is (an http(s) URL).
    #[arg(long, value_name = "URL")]
    pub report: String,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let (store, session) = ctx.open()?;
    let t = Transition::Incident {
        report: args.report,
    };
    let done = action::transition(&store, &session, id, &t, args.commit.options(ctx))?;
    super::show::report(ctx, &done)
}
