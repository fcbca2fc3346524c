//! `ipr drift`.

use std::path::PathBuf;

use serde::Serialize;

use crate::drift::{self, DriftRequest, Filed};
use crate::error::Result;
use crate::model::{parse_url, Impact, PreChecks};
use crate::plan::Drift;
use crate::plan_request::PlanInput;

use super::output;
use super::{Ctx, Format};

/// Find objects changed outside Terraform; with --create, open a request
/// that records them.
///
/// Runs `terraform plan -refresh-only -detailed-exitcode` in the terraform
/// runner's working directory (binary and workdir of the terraform
/// definition under `runners.definitions`, or --runner), then `terraform
/// show -json` of that plan, and lists its `resource_drift`. Nothing is
/// applied and nothing is written to the working directory. With --plan,
/// ipr reads a plan's JSON instead and runs nothing (every saved plan
/// carries `resource_drift`; `terraform plan -refresh-only -out=drift.tfplan
/// && terraform show -json drift.tfplan` makes one that shows only drift).
///
/// --create opens a terraform request for stack --name whose target version
/// is `drift`, listing the drifted objects in its release notes, with the
/// drift plan as `spec.plan` (and --plan-file as its saved plan, so that the
/// request can be deployed). While such a request of the stack is open (not
/// deployed, rejected or cancelled), --create prints its ID and opens none.
/// Pre-checks and evidence are given as for `ipr create`. Exit 0 whether
/// or not there is drift; `--format json` has the list.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example (a nightly CI job):
  ipr drift --create --name network --tenant tenant-finance \\
    --staging-tests-passed --security-scan-passed --evidence-url \"$CI_JOB_URL\"")]
pub struct Args {
    /// Read this `terraform show -json` output instead of running terraform.
    #[arg(long, value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,

    /// The saved plan of --plan, recorded in the request (with --create).
    #[arg(long, value_name = "FILE", requires_all = ["plan", "create"])]
    pub plan_file: Option<PathBuf>,

    /// The terraform runner to run [default: the only terraform definition].
    #[arg(long, value_name = "NAME", conflicts_with = "plan")]
    pub runner: Option<String>,

    /// Open a request recording the drift (once per stack while it is open).
    #[arg(long, requires_all = ["name", "evidence_url"])]
    pub create: bool,

    /// The stack: target name of the drift request.
    #[arg(long, value_name = "NAME", requires = "create")]
    pub name: Option<String>,

    /// Tenant of the request [default: your only tenant].
    #[arg(long, value_name = "TENANT", requires = "create")]
    pub tenant: Option<String>,

    /// Source environment of the request.
    #[arg(long, value_name = "ENV", default_value = "live")]
    pub source_env: String,

    /// Environment that drifted.
    #[arg(long, value_name = "ENV", default_value = "prod")]
    pub target_env: String,

    /// Impact, at least the plan's risk [default: the plan's risk].
    #[arg(long, value_name = "IMPACT", value_enum, requires = "create")]
    pub impact: Option<Impact>,

    /// How to undo the change [default: a note that nothing is to roll back].
    #[arg(
        long,
        value_name = "TEXT",
        requires = "create",
        allow_hyphen_values = true
    )]
    pub rollback_plan: Option<String>,

    /// Staging tests passed (required to create).
    #[arg(long, requires = "create")]
    pub staging_tests_passed: bool,

    /// Security scan passed (required to create).
    #[arg(long, requires = "create")]
    pub security_scan_passed: bool,

    /// Performance tests passed.
    #[arg(long, requires = "create")]
    pub performance_tests_passed: bool,

    /// http(s) URL of the evidence (e.g. the CI job that found the drift).
    #[arg(long, value_name = "URL", requires = "create")]
    pub evidence_url: Option<String>,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

/// `--format json` output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    summary: &'a str,
    drift: &'a [Drift],
    /// The drift request opened, or the open one found.
    request: Option<String>,
    created: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let input = match &args.plan {
        Some(path) => {
            let cfg = super::plan::plan_config(ctx)?;
            let file = args.plan_file.as_ref().map(|p| ctx.resolve(p));
            PlanInput::load(&ctx.resolve(path), file.as_deref(), &cfg)?
        }
        None => {
            let (store, _) = ctx.open()?;
            drift::detect_in_repo(&store, args.runner.as_deref())?
        }
    };
    let drifted = &input.report.drift;
    let (request, created) = if args.create && !drifted.is_empty() {
        create(ctx, &args, &input)?
    } else {
        (None, false)
    };
    match ctx.format {
        Format::Table => {
            let mut text = String::new();
            if drifted.is_empty() {
                text.push_str("No drift: no object changed outside Terraform.\n");
                if args.create {
                    ctx.note("no drift, so no request was opened");
                }
            } else {
                let rows = drifted
                    .iter()
                    .map(|d| vec![d.address.clone(), d.action.to_string()])
                    .collect();
                text.push_str(&output::table(
                    &["ADDRESS", "CHANGED OUTSIDE TERRAFORM"],
                    rows,
                ));
                text.push_str(&format!(
                    "{} object{} drifted.\n",
                    drifted.len(),
                    if drifted.len() == 1 { "" } else { "s" }
                ));
            }
            if let Some(id) = &request {
                if ctx.quiet {
                    text = format!("{id}\n");
                } else {
                    text.push_str(&format!("Request: {id}\n"));
                }
            }
            output::print(&text)
        }
        f => output::print(&output::data(
            f,
            &Report {
                summary: &input.report.summary.line,
                drift: drifted,
                request,
                created,
            },
        )?),
    }
}

/// Open the drift request, or find the open one.
fn create(ctx: &Ctx, args: &Args, input: &PlanInput) -> Result<(Option<String>, bool)> {
    let name = args
        .name
        .clone()
        .expect("clap requires --name with --create");
    let (store, session) = ctx.open()?;
    let evidence = args
        .evidence_url
        .as_deref()
        .expect("clap requires --evidence-url");
    let req = DriftRequest {
        name: name.clone(),
        source_env: args.source_env.clone(),
        target_env: args.target_env.clone(),
        impact: args.impact,
        rollback_plan: args.rollback_plan.clone(),
        pre_checks: PreChecks {
            staging_tests_passed: args.staging_tests_passed,
            security_scan_passed: args.security_scan_passed,
            performance_tests_passed: args.performance_tests_passed,
            test_evidence_url: parse_url(evidence, "--evidence-url")?,
        },
    };
    let options = args.commit.options(ctx);
    let done = match drift::file_request(
        &store,
        &session,
        &req,
        input,
        args.tenant.as_deref(),
        options,
    )? {
        Filed::Open(open) => {
            ctx.note(format!(
                "{} is already open ({}) for drift on {name}; no new request",
                open.id(),
                open.status.state
            ));
            return Ok((Some(open.id().to_string()), false));
        }
        Filed::Created(done) => done,
    };
    let t = &done.ticket;
    let need = crate::policy::required_approvals(&done.config, t);
    ctx.note(format!(
        "created {} for drift on {name} ({need} approval{} needed) in {}",
        t.id(),
        if need == 1 { "" } else { "s" },
        t.path()
    ));
    for w in t.spec.plan.iter().flat_map(|p| &p.warnings) {
        ctx.note(format!("warning: {w}"));
    }
    Ok((Some(t.id().to_string()), true))
}
