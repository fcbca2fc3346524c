//! `ipr stats`.

use crate::error::Result;
use crate::query::View;

use super::output;
use super::{Ctx, Format};

/// Counts for a dashboard: pending requests, approved and rejected today,
/// deployed this week (since Monday 00:00 UTC), over the requests you can see.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(ctx: &Ctx, _args: Args) -> Result<()> {
    let (store, session) = ctx.open()?;
    let view = View::open(&store, &session)?;
    let (stats, skipped) = view.stats()?;
    ctx.warn_view(&view, &skipped);
    match ctx.format {
        Format::Table => output::print(&output::table(
            &[
                "PENDING",
                "APPROVED TODAY",
                "REJECTED TODAY",
                "DEPLOYED THIS WEEK",
            ],
            vec![vec![
                stats.pending.to_string(),
                stats.approved_today.to_string(),
                stats.rejected_today.to_string(),
                stats.deployed_this_week.to_string(),
            ]],
        )),
        f => output::print(&output::data(f, &stats)?),
    }
}
