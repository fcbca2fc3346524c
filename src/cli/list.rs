//! `ipr list`.

use crate::action;
use crate::error::Result;
use crate::model::{State, Ticket};
use crate::policy::{self, Capability};

use super::output;
use super::{Ctx, Format};

/// List the requests you can see, oldest first.
///
/// Devops engineers see their own requests, tenant admins and viewers
/// their tenants', admins all. Filters combine (all must match).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only requests in this state.
    #[arg(long, value_enum, value_name = "STATE")]
    pub state: Option<State>,

    /// Only requests of this tenant.
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,

    /// Only requests created by this email.
    #[arg(long, value_name = "EMAIL")]
    pub created_by: Option<String>,

    /// Only requests you created.
    #[arg(long)]
    pub mine: bool,

    /// Only pending requests you may approve (your review queue).
    #[arg(long)]
    pub pending: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let snap = action::snapshot(&store)?;
    ctx.warn_unverified(&snap.trust);
    let me = snap.actor.email.as_str();
    let all = load_visible(ctx, &store, &snap)?;
    let shown: Vec<&Ticket> = all
        .iter()
        .filter(|t| args.state.is_none_or(|s| t.status.state == s))
        .filter(|t| {
            args.tenant
                .as_deref()
                .is_none_or(|x| t.metadata.tenant == x)
        })
        .filter(|t| {
            args.created_by
                .as_deref()
                .is_none_or(|x| crate::model::same_email(&t.metadata.created_by, x))
        })
        .filter(|t| !args.mine || crate::model::same_email(&t.metadata.created_by, me))
        .filter(|t| {
            !args.pending
                || (t.status.state == State::Pending
                    && policy::check(&snap.config, me, Capability::Review, t).is_ok())
        })
        .collect();
    match ctx.format {
        Format::Table => {
            if shown.is_empty() {
                ctx.note("no requests match");
                return Ok(());
            }
            let rows = shown
                .iter()
                .map(|t| {
                    let s = &t.spec.target;
                    vec![
                        t.id().to_string(),
                        t.status.state.to_string(),
                        t.metadata.tenant.clone(),
                        format!("{} {}", s.name, s.version),
                        format!("{} -> {}", s.source_environment, s.target_environment),
                        t.spec.request.impact_assessment.to_string(),
                        format!(
                            "{}/{}",
                            t.approvers().len(),
                            policy::required_approvals(&snap.config, t)
                        ),
                        t.metadata.created_by.clone(),
                        t.metadata.created_at.format("%Y-%m-%d").to_string(),
                    ]
                })
                .collect();
            output::print(&output::table(
                &[
                    "ID",
                    "STATE",
                    "TENANT",
                    "TARGET",
                    "ENVS",
                    "IMPACT",
                    "APPROVALS",
                    "CREATED BY",
                    "CREATED",
                ],
                rows,
            ))
        }
        f => output::print(&output::data(f, &shown)?),
    }
}

/// Every ticket the actor may view. A file that does not parse is reported
/// on stderr and skipped, so one bad file does not hide the rest
/// (`ipr verify` fails on it).
pub fn load_visible(
    ctx: &Ctx,
    store: &crate::store::Store,
    snap: &action::Snapshot,
) -> Result<Vec<Ticket>> {
    let mut out = Vec::new();
    for file in store.ticket_files(snap.head)? {
        match Ticket::from_yaml(&file.bytes, &file.path) {
            Ok(t) => {
                if policy::can_view(&snap.config, &snap.actor.email, &t) {
                    out.push(t);
                }
            }
            Err(e) => {
                if !ctx.quiet {
                    eprintln!("warning: skipping {}", e.message());
                }
            }
        }
    }
    Ok(out)
}
