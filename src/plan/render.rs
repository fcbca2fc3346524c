//! Text renderings of a [`PlanReport`]: a terminal table, and the Markdown
//! "Infrastructure Change Request" a reviewer pastes into a pull request.
//! Both leave out plain no-ops; `--format json` has everything.

use std::fmt::Write as _;

use comfy_table::{presets, Table};

use super::cost::{amount, signed_amount};
use super::{Cost, PlanReport, ResourceChange};
use crate::text::esc;

/// The terminal view: the changes table, reads, drift, the summary line,
/// the monthly cost when `cost` is given, and the risk with its reasons. No
/// colors; the caller decides about those.
pub fn render_table(report: &PlanReport, cost: Option<&Cost>) -> String {
    let mut out = String::new();
    let changes: Vec<&ResourceChange> = report.resources.iter().filter(|r| r.is_change()).collect();
    if !changes.is_empty() {
        let mut table = Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .set_header(["Address", "Action", "Risk", "Reason"]);
        for r in changes {
            table.add_row([
                esc(&r.address),
                r.display_action().to_string(),
                r.risk.as_str().to_string(),
                esc(&r.reason),
            ]);
        }
        writeln!(out, "{table}").unwrap();
    }
    if !report.reads.is_empty() {
        out.push_str("\nData sources read during apply:\n");
        for d in &report.reads {
            match d.reason.as_str() {
                "" => writeln!(out, "  {}", esc(&d.address)).unwrap(),
                why => writeln!(out, "  {} ({})", esc(&d.address), esc(why)).unwrap(),
            }
        }
    }
    if !report.drift.is_empty() {
        out.push_str("\nChanged outside Terraform (drift):\n");
        for d in &report.drift {
            writeln!(out, "  {} {}", esc(&d.address), esc(&d.action.to_string())).unwrap();
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    if report.errored {
        out.push_str("Terraform reported errors while planning: this plan cannot be applied.\n");
    }
    writeln!(out, "{}", esc(&report.summary.line)).unwrap();
    if let Some(cost) = cost {
        writeln!(out, "Cost: {}", esc(&cost.to_string())).unwrap();
    }
    writeln!(out, "Risk: {}", report.risk).unwrap();
    for reason in &report.reasons {
        writeln!(out, "  - {}", esc(reason)).unwrap();
    }
    out
}

/// Placeholder in the Rollback section when the caller has no rollback plan.
pub const ROLLBACK_PLACEHOLDER: &str =
    "_To be completed by the requester: how to undo this change, and how long it takes._";

/// The Markdown a reviewer pastes into a pull request: title, summary, risk
/// with reasons, the monthly cost (only when `cost` is given), planned
/// changes, data-source reads, drift and a Rollback section holding
/// `rollback` (or a placeholder to fill in).
pub fn render_markdown(report: &PlanReport, rollback: Option<&str>, cost: Option<&Cost>) -> String {
    let s = &report.summary;
    let mut md = String::new();
    md.push_str("# Infrastructure Change Request\n\n");

    md.push_str("## Summary\n\n");
    writeln!(md, "**{}**\n", s.line).unwrap();
    md.push_str("| Add | Change | Destroy | Replace | Import | Forget | Move | Read | Drift |\n");
    md.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    writeln!(
        md,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        s.add, s.change, s.destroy, s.replace, s.import, s.forget, s.moves, s.read, s.drift
    )
    .unwrap();
    let terraform = report.terraform_version.as_deref().unwrap_or("unknown");
    writeln!(
        md,
        "Terraform {}, plan format {}.",
        text(terraform),
        text(&report.format_version)
    )
    .unwrap();
    if report.errored {
        md.push_str("\n> **Warning:** Terraform reported errors while planning; this plan cannot be applied.\n");
    }

    writeln!(md, "\n## Risk: {}\n", report.risk.as_str().to_uppercase()).unwrap();
    for reason in &report.reasons {
        writeln!(md, "- {}", text(reason)).unwrap();
    }

    if let Some(cost) = cost {
        md.push_str("\n## Cost\n\n");
        md.push_str(
            "| Monthly before | Monthly after | Change | Currency |\n|---:|---:|---:|---|\n",
        );
        writeln!(
            md,
            "| {} | {} | {} | {} |",
            amount(cost.monthly_before),
            amount(cost.monthly_after),
            signed_amount(cost.increase()),
            text(&cost.currency)
        )
        .unwrap();
        md.push_str("\nMonthly estimate by infracost.\n");
    }

    md.push_str("\n## Planned changes\n\n");
    let changes: Vec<&ResourceChange> = report.resources.iter().filter(|r| r.is_change()).collect();
    if changes.is_empty() {
        md.push_str("_No resource changes._\n");
    } else {
        md.push_str("| Address | Action | Risk | Reason |\n|---|---|---|---|\n");
        for r in changes {
            let risk = match r.risk {
                crate::model::Impact::Low => r.risk.as_str().to_owned(),
                other => format!("**{other}**"),
            };
            writeln!(
                md,
                "| {} | {} | {risk} | {} |",
                code(&r.address),
                r.display_action(),
                text(&r.reason)
            )
            .unwrap();
        }
    }

    if !report.reads.is_empty() {
        md.push_str("\n## Data sources read during apply\n\n| Address | Reason |\n|---|---|\n");
        for d in &report.reads {
            writeln!(md, "| {} | {} |", code(&d.address), text(&d.reason)).unwrap();
        }
    }

    md.push_str("\n## Drift (changed outside Terraform)\n\n");
    if report.drift.is_empty() {
        md.push_str("_No drift detected._\n");
    } else {
        md.push_str("| Address | Action |\n|---|---|\n");
        for d in &report.drift {
            writeln!(md, "| {} | {} |", code(&d.address), d.action).unwrap();
        }
    }

    md.push_str("\n## Rollback\n\n");
    match rollback.map(str::trim).filter(|r| !r.is_empty()) {
        Some(plan) => writeln!(md, "{plan}").unwrap(),
        None => writeln!(md, "{ROLLBACK_PLACEHOLDER}").unwrap(),
    }
    md
}

/// A table cell holding plan text: no line breaks, no pipes, no HTML.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A code span for an address, which (through for_each keys) may hold any
/// character, backticks and pipes included.
fn code(s: &str) -> String {
    let flat = s.replace(['\r', '\n'], " ").replace('|', "\\|");
    let longest_run = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest_run == 0 {
        return format!("`{flat}`");
    }
    let fence = "`".repeat(longest_run + 1);
    format!("{fence} {flat} {fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_escaped() {
        assert_eq!(code("aws_s3_bucket.b"), "`aws_s3_bucket.b`");
        assert_eq!(code(r#"x.y["a|b"]"#), r#"`x.y["a\|b"]`"#);
        assert_eq!(code("x.y[\"a`b\"]"), "`` x.y[\"a`b\"] ``");
        assert_eq!(text("a|b <script>\nc"), "a\\|b &lt;script&gt; c");
    }

    /// A resource address from a plan can carry escape sequences (for_each
    /// keys are any string): the terminal table shows them escaped.
    #[test]
    fn control_characters_in_plan_tables_are_escaped() {
        let plan = r#"{"format_version":"1.2","resource_changes":[{"address":"aws_s3_bucket.b[\"x\u001b[2K\rforged\"]","mode":"managed","type":"aws_s3_bucket","name":"b","change":{"actions":["create"],"before":null,"after":{}}}]}"#;
        let report =
            crate::plan::analyze(plan.as_bytes(), &crate::plan::PlanConfig::default()).unwrap();
        let table = render_table(&report, None);
        assert!(
            !table.contains('\u{1b}') && !table.contains('\r'),
            "{table}"
        );
        assert!(table.contains("\\u{1b}[2K\\rforged"), "{table}");
    }
}
