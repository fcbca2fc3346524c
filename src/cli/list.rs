//! `ipr list`.

use crate::error::Result;
use crate::model::State;
use crate::query::{Filter, View};

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

    /// Only pending requests you may approve (your review queue), with
    /// what each still needs ("1 approval, 1 of dba"; in JSON, `needs`).
    #[arg(long)]
    pub pending: bool,

    /// Only requests whose id, target, tenant, creator or justification
    /// holds this text (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let (store, session) = ctx.open()?;
    let view = View::open(&store, &session)?;
    let filter = Filter {
        state: args.state,
        tenant: args.tenant,
        created_by: args.created_by,
        mine: args.mine,
        pending: args.pending,
        text: args.search,
    };
    let now = session.now();
    if ctx.format == Format::Json {
        // Straight from the summary cache to stdout, one request at a
        // time: each ticket's JSON is kept as this prints it, so only the
        // review queue, which adds `needs`, parses tickets (SPEC §14).
        let mut out = output::JsonArray::stdout();
        let skipped = view.each_listed(&filter, |mut v| {
            if v.summary.break_glass {
                warn_incident(&view, v.ticket()?, now);
            }
            if args.pending {
                let ticket = v.ticket()?;
                let queued = crate::query::Queued {
                    ticket,
                    needs: crate::approvals::needs(view.config(), ticket),
                };
                out.element(&crate::store::cache::array_element(&queued))
            } else {
                out.element(v.json()?)
            }
        })?;
        out.finish()?;
        ctx.warn_view(&view, &skipped);
        return Ok(());
    }
    let listing = view.list(&filter)?;
    ctx.warn_view(&view, &listing.skipped);
    let shown = &listing.tickets;
    for t in shown {
        warn_incident(&view, t, now);
    }
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
                    let mut row = vec![
                        t.id().to_string(),
                        t.status.state.to_string(),
                        t.metadata.tenant.clone(),
                        format!("{} {}", s.name, s.version),
                        format!("{} -> {}", s.source_environment, s.target_environment),
                        t.spec.request.impact_assessment.to_string(),
                        format!("{}/{}", t.approvers().len(), view.required_approvals(t)),
                        t.metadata.created_by.clone(),
                        t.metadata.created_at.format("%Y-%m-%d").to_string(),
                    ];
                    if args.pending {
                        let needs = crate::approvals::needs(view.config(), t);
                        row.push(needs.missing.join(", "));
                    }
                    row
                })
                .collect();
            let mut header = vec![
                "ID",
                "STATE",
                "TENANT",
                "TARGET",
                "ENVS",
                "IMPACT",
                "APPROVALS",
                "CREATED BY",
                "CREATED",
            ];
            if args.pending {
                header.push("NEEDS");
            }
            output::print(&output::table(&header, rows))
        }
        f if args.pending => output::print(&output::data(
            f,
            &crate::query::queued(view.config(), shown),
        )?),
        f => output::print(&output::data(f, shown)?),
    }
}

/// The warning of a request whose incident report is overdue.
fn warn_incident(view: &View<'_>, t: &crate::model::Ticket, now: chrono::DateTime<chrono::Utc>) {
    if let Some(due) = crate::approvals::incident_overdue(view.config(), t, now) {
        eprintln!(
            "warning: {}: the incident report of its break-glass deploy was due {} (breakGlass.incidentWithin); record it with `ipr incident {} --report URL`",
            t.id(),
            due.to_rfc3339(),
            t.id()
        );
    }
}
