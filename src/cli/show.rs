//! `ipr show`: the detail view of one request.

use std::fmt::Write;

use crate::action::Done;
use crate::config::Config;
use crate::error::Result;
use crate::model::{State, Ticket};
use crate::policy;
use crate::query::View;
use crate::workflow;

use super::output::esc;
use super::output::{self, time};
use super::{Ctx, Format};

/// Show one request: target, justification, release notes, impact,
/// rollback plan, pre-checks and its timeline.
///
/// With --format json or yaml, print the ticket itself.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let (store, session) = ctx.open()?;
    let view = View::open(&store, &session)?;
    ctx.warn_view(&view, &[]);
    let ticket = view.show(id)?;
    match ctx.format {
        Format::Table => output::print(&detail(&ticket, view.config(), session.now())),
        f => output::print(&output::data(f, &ticket)?),
    }
}

/// After an action: the ticket as data, or one line saying where it stands.
pub fn report(ctx: &Ctx, done: &Done) -> Result<()> {
    if let Some(pushed) = &done.pushed {
        super::sync::describe(ctx, pushed);
    }
    let t = &done.ticket;
    match ctx.format {
        Format::Table => {
            let commit = &done.commit.to_string()[..12];
            let entry = t.last_entry();
            let mut line = format!(
                "{} {} by {} ({commit})",
                t.id(),
                entry.action,
                esc(&entry.by)
            );
            let needs = crate::approvals::needs(&done.config, t);
            if t.status.state == State::Pending
                && entry.action == crate::model::Action::Approved
                && needs.groups.iter().all(|g| g.have >= g.count)
            {
                let missing = workflow::approvals_missing(t, &done.config);
                let _ = write!(
                    line,
                    "; still pending: {missing} more approval{} needed",
                    if missing == 1 { "" } else { "s" }
                );
            } else if t.status.state == State::Pending
                && entry.action == crate::model::Action::Approved
            {
                let _ = write!(
                    line,
                    "; still pending: needs {}",
                    needs.missing.join(" and ")
                );
            } else {
                let _ = write!(line, "; now {}", t.status.state);
            }
            if ctx.quiet {
                output::print(&t.id().to_string())
            } else {
                output::print(&line)
            }
        }
        f => output::print(&output::data(f, t)?),
    }
}

fn indent(text: &str) -> String {
    output::esc_block(text)
}

fn check(b: bool) -> &'static str {
    if b {
        "[x]"
    } else {
        "[ ]"
    }
}

/// The human detail view, modelled on the seed's detail page.
pub fn detail(t: &Ticket, config: &Config, now: chrono::DateTime<chrono::Utc>) -> String {
    let s = &t.spec;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}  {} {}  {} -> {}",
        t.id(),
        esc(&s.target.name),
        esc(&s.target.version),
        esc(&s.target.source_environment),
        esc(&s.target.target_environment)
    );
    let need = policy::required_approvals(config, t);
    let _ = writeln!(
        o,
        "State:      {} ({}/{need} approvals)",
        t.status.state,
        t.approvers().len()
    );
    if t.status.state == State::Pending {
        let missing = crate::approvals::needs(config, t).missing;
        if !missing.is_empty() {
            let _ = writeln!(o, "Needs:      {}", esc(&missing.join(", ")));
        }
    }
    if t.status.state == State::Approved {
        if let Some(until) = crate::approvals::wait_until(config, t).filter(|u| now < *u) {
            let _ = writeln!(
                o,
                "Waits:      until {} (approvals.waitTimer)",
                time(&until)
            );
        }
    }
    if let Some(due) = crate::approvals::incident_due(config, t) {
        let late = if due < now { "OVERDUE since" } else { "due" };
        let _ = writeln!(o, "Incident:   report {late} {} (ipr incident)", time(&due));
    }
    let _ = writeln!(o, "Type:       {}", s.target.kind);
    let _ = writeln!(o, "Tenant:     {}", esc(&t.metadata.tenant));
    let _ = writeln!(
        o,
        "Created:    {} by {}",
        time(&t.metadata.created_at),
        esc(&t.metadata.created_by)
    );
    let scheduled = s
        .request
        .scheduled_date
        .map(|d| d.to_rfc3339())
        .unwrap_or_else(|| "ASAP".into());
    let _ = writeln!(o, "Scheduled:  {scheduled}");
    let _ = writeln!(o, "Impact:     {}", s.request.impact_assessment);
    if let Some(by) = &t.status.approved_by {
        let at = t.status.approved_at.as_ref().map(time).unwrap_or_default();
        let _ = writeln!(o, "Approved:   {at} by {}", esc(by));
    }
    if let Some(by) = &t.status.rejected_by {
        let at = t.status.rejected_at.as_ref().map(time).unwrap_or_default();
        let _ = writeln!(o, "Rejected:   {at} by {}", esc(by));
    }
    if let Some(at) = &t.status.deployed_at {
        let _ = writeln!(o, "Deployed:   {}", time(at));
    }
    if let Some(from) = &s.promoted_from {
        let _ = writeln!(o, "Promotes:   {from}");
    }
    if let Some(plan) = &s.plan {
        let _ = writeln!(o, "Plan:       {} (risk {})", esc(&plan.summary), plan.risk);
        let _ = writeln!(o, "Plan JSON:  {}", esc(&plan.json_sha256));
        let file = plan.file_sha256.as_deref().unwrap_or("none recorded");
        let _ = writeln!(o, "Plan file:  {}", esc(file));
        if let Some(cost) = &plan.cost {
            let _ = writeln!(o, "Cost:       {}", esc(&cost.to_string()));
        }
    }

    let _ = write!(o, "\nJustification\n{}", indent(&s.request.justification));
    if let Some(notes) = s
        .request
        .release_notes
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        let _ = write!(o, "\nRelease notes\n{}", indent(notes));
    }
    let _ = write!(o, "\nRollback plan\n{}", indent(&s.request.rollback_plan));
    if let Some(plan) = s.plan.as_ref().filter(|p| !p.warnings.is_empty()) {
        let list: String = plan
            .warnings
            .iter()
            .map(|w| format!("- {}\n", esc(w)))
            .collect();
        let _ = write!(o, "\nPolicy warnings\n{}", indent(&list));
    }
    if let Some(reason) = &t.status.rejection_reason {
        let _ = write!(o, "\nRejection reason\n{}", indent(reason));
    }
    let p = &s.pre_checks;
    let _ = write!(
        o,
        "\nPre-checks\n  {} staging tests passed\n  {} security scan passed\n  {} performance tests passed\n  evidence: {}\n",
        check(p.staging_tests_passed),
        check(p.security_scan_passed),
        check(p.performance_tests_passed),
        p.test_evidence_url
    );

    let _ = writeln!(o, "\nTimeline");
    let width = t
        .status
        .history
        .iter()
        .map(|e| e.action.as_str().len())
        .max()
        .unwrap_or(0);
    for e in &t.status.history {
        let _ = write!(
            o,
            "  {}  {:<width$}  {}",
            time(&e.at),
            e.action.as_str(),
            esc(&e.by)
        );
        let mut extras = Vec::new();
        if let Some(r) = &e.runner {
            extras.push(format!("runner {}", esc(r)));
        }
        if let Some(j) = &e.job_id {
            extras.push(format!("job {}", esc(j)));
        }
        if let Some(d) = &e.deployment_id {
            extras.push(format!("deployment {}", esc(d)));
        }
        if let Some(b) = &e.break_glass {
            extras.push(format!("BREAK-GLASS: {}", esc(b)));
        }
        if let Some(r) = &e.report {
            extras.push(format!("report {}", esc(r)));
        }
        if !extras.is_empty() {
            let _ = write!(o, "  ({})", extras.join(", "));
        }
        if let Some(c) = &e.comment {
            let _ = write!(o, "  \"{}\"", esc(c));
        }
        if let Some(err) = &e.error {
            let _ = write!(
                o,
                "\n      error: {}",
                esc(err.lines().next().unwrap_or(""))
            );
        }
        o.push('\n');
    }
    o
}
