//! `ipr log`.

use serde::Serialize;

use crate::action;
use crate::error::Result;
use crate::policy::{self, Capability};

use super::output;
use super::{Ctx, Format};

/// Show the commits of one request, newest first: who acted, what they
/// did, when, and whether the commit is signed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    commit: String,
    at: String,
    actor: String,
    action: String,
    signature: &'static str,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let store = ctx.store()?;
    let snap = action::snapshot(&store)?;
    let ticket = store.ticket(snap.head, id)?;
    policy::check(&snap.config, &snap.actor.email, Capability::View, &ticket)?;
    let rows: Vec<Row> = store
        .file_history(snap.head, &ticket.path())?
        .into_iter()
        .map(|c| Row {
            commit: c.id.to_string(),
            at: c.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            actor: c.author.email,
            action: c
                .action
                .unwrap_or_else(|| format!("(not ipr) {}", c.summary)),
            signature: if c.signature.is_some() {
                "signed"
            } else {
                "unsigned"
            },
        })
        .collect();
    match ctx.format {
        Format::Table => output::print(&output::table(
            &["COMMIT", "DATE", "ACTOR", "ACTION", "SIGNATURE"],
            rows.iter()
                .map(|r| {
                    vec![
                        r.commit[..12].to_string(),
                        r.at.clone(),
                        r.actor.clone(),
                        r.action.clone(),
                        r.signature.to_string(),
                    ]
                })
                .collect(),
        )),
        f => output::print(&output::data(f, &rows)?),
    }
}
