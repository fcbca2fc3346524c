//! `ipr stats`.

use chrono::{Datelike, Duration, Utc};
use serde::Serialize;

use crate::action;
use crate::error::Result;
use crate::model::State;

use super::output;
use super::{Ctx, Format};

/// Counts for a dashboard: pending requests, approved and rejected today,
/// deployed this week (since Monday 00:00 UTC), over the requests you can see.
#[derive(Debug, clap::Args)]
pub struct Args {}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub pending: usize,
    pub approved_today: usize,
    pub rejected_today: usize,
    pub deployed_this_week: usize,
}

pub fn run(ctx: &Ctx, _args: Args) -> Result<()> {
    let store = ctx.store()?;
    let snap = action::snapshot(&store)?;
    ctx.warn_unverified(&snap.trust);
    let tickets = super::list::load_visible(ctx, &store, &snap)?;
    let today = snap.now.date_naive();
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let on_today = |t: &Option<chrono::DateTime<Utc>>| t.is_some_and(|t| t.date_naive() == today);
    let stats = Stats {
        pending: tickets
            .iter()
            .filter(|t| t.status.state == State::Pending)
            .count(),
        approved_today: tickets
            .iter()
            .filter(|t| on_today(&t.status.approved_at))
            .count(),
        rejected_today: tickets
            .iter()
            .filter(|t| on_today(&t.status.rejected_at))
            .count(),
        deployed_this_week: tickets
            .iter()
            .filter(|t| {
                t.status
                    .deployed_at
                    .is_some_and(|d| d.date_naive() >= monday && d <= snap.now)
            })
            .count(),
    };
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
