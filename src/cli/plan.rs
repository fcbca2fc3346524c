//! `ipr plan analyze`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::error::{Error, Kind, Result};
use crate::plan::{self, Cost, PlanConfig, PlanReport};
use crate::plan_request::{read_cost, read_json};

use super::output;
use super::{Ctx, Format};

/// Work with Terraform plans.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: PlanCommand,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    Analyze(AnalyzeArgs),
}

/// Risk report of a Terraform plan: every resource change with its risk,
/// data sources read, drift, terraform's summary line and the plan's risk.
///
/// The input is `terraform show -json` of a saved plan (`terraform plan
/// -out=tfplan && terraform show -json tfplan > plan.json`; OpenTofu's
/// `tofu show -json` too). Risk: delete or replace is high; an update of a
/// stateful type (databases, buckets, volumes, keys: `plan.statefulTypes`)
/// is medium; create-only is low. More deletions than `plan.criticalDeletes`
/// (default 5), or deleting or replacing a stateful resource, is critical.
/// Objects changed outside Terraform (`resource_drift`) are listed as drift.
///
/// Needs no repository; inside a gitops repo, `plan:` of its committed
/// `.ipr/config.yaml` sets the rules. --format markdown prints the
/// "Infrastructure Change Request" a reviewer pastes into a pull request
/// (summary, risk, planned changes, drift, rollback); json has everything.
/// With --cost, each format also shows the monthly cost infracost
/// estimated for the plan.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  terraform plan -out=tfplan && terraform show -json tfplan > plan.json
  ipr plan analyze plan.json
  ipr plan analyze plan.json --format markdown --rollback-plan \"Re-apply v1.4 (tag infra-1.4)\"
  infracost breakdown --path plan.json --format json --out-file infracost.json
  ipr plan analyze plan.json --cost infracost.json")]
pub struct AnalyzeArgs {
    /// `terraform show -json` output (`-` for stdin).
    #[arg(value_name = "PLAN.json")]
    pub plan: PathBuf,

    /// Text of the Rollback section of --format markdown.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub rollback_plan: Option<String>,

    /// Monthly cost of the plan, from infracost: the output of `infracost
    /// breakdown --path plan.json --format json --out-file infracost.json`
    /// (`-` for stdin). Shown as before → after with the change, in
    /// infracost's currency; the cost before is 0 when infracost had no
    /// baseline.
    #[arg(long, value_name = "INFRACOST.json")]
    pub cost: Option<PathBuf>,
}

/// `--format json|yaml`: the report with the cost beside its fields, one
/// object.
#[derive(serde::Serialize)]
struct Analysis<'a> {
    #[serde(flatten)]
    report: &'a PlanReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<&'a Cost>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    match args.command {
        PlanCommand::Analyze(a) => analyze(ctx, a),
    }
}

fn analyze(ctx: &Ctx, args: AnalyzeArgs) -> Result<()> {
    let cfg = plan_config(ctx)?;
    if args.plan.as_os_str() == "-" && args.cost.as_ref().is_some_and(|c| c.as_os_str() == "-") {
        return Err(Error::usage(
            "PLAN.json and --cost cannot both be read from stdin (`-`)",
        ));
    }
    let path = ctx.resolve(&args.plan);
    let json = read_json(&path)?;
    let report = plan::analyze(&json, &cfg).map_err(|e| e.context(path.display()))?;
    let cost = match &args.cost {
        Some(c) => Some(read_cost(&ctx.resolve(c))?),
        None => None,
    };
    match ctx.format {
        Format::Table => output::print(&plan::render_table(&report, cost.as_ref())),
        Format::Markdown => output::print(&plan::render_markdown(
            &report,
            args.rollback_plan.as_deref(),
            cost.as_ref(),
        )),
        f => output::print(&output::data(
            f,
            &Analysis {
                report: &report,
                cost: cost.as_ref(),
            },
        )?),
    }
}

/// `plan:` of the committed config when ipr runs in a gitops repo; the
/// defaults outside one (or in a repository without a committed config).
pub fn plan_config(ctx: &Ctx) -> Result<PlanConfig> {
    let store = match ctx.store() {
        Ok(s) => s,
        Err(e) if e.kind() == Kind::NotFound => return Ok(PlanConfig::default()),
        Err(e) => return Err(e),
    };
    crate::plan_request::plan_config(&store)
}
