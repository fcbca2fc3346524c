//! `ipr policy test`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::error::{Error, Kind, Result};
use crate::plan_request::POLICIES_DIR;
use crate::rego::test::{self, Expect};

use super::output;
use super::{Ctx, Format};

/// Policy as code: the Rego policies of `.ipr/policies` that every
/// terraform request must pass.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    Test(TestArgs),
}

/// Run each policy against its fixture plans.
///
/// Every `<rule>.rego` in DIR that declares `deny` or `warn` needs a folder
/// `<rule>/` beside it with at least one `pass*.json`, which must draw no
/// `deny` from the rule's package, and one `fail*.json`, which must draw at
/// least one. A fixture is `terraform show -json` output (evaluated with a
/// sample pending terraform request as `input.request`), or a whole input
/// document `{"plan": …, "request": …}`. All .rego files of DIR are loaded
/// together, so a policy may import a library beside it; give each policy
/// its own package.
///
/// Reads the files on disk, so policies can be tested before they are
/// committed (create and deploy use the committed ones). Exit 1 when a test
/// fails or a policy lacks fixtures, 6 when a policy or fixture is broken.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Folder of policies [default: .ipr/policies of the repository].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    match args.command {
        PolicyCommand::Test(a) => run_tests(ctx, a),
    }
}

fn run_tests(ctx: &Ctx, args: TestArgs) -> Result<()> {
    let dir = match &args.dir {
        Some(d) => ctx.resolve(d),
        None => {
            let store = ctx.store().map_err(|e| match e.kind() {
                Kind::NotFound => e.with_hint(format!(
                    "give the folder of policies: `ipr policy test DIR` (in a gitops repo it is {POLICIES_DIR})"
                )),
                _ => e,
            })?;
            crate::plan_request::policies_dir(&store)?
        }
    };
    let report = test::run(&dir)?;
    match ctx.format {
        Format::Table => {
            let mut text = String::new();
            for c in &report.cases {
                let file = std::path::Path::new(&c.fixture)
                    .file_name()
                    .map(|f| f.to_string_lossy().to_string())
                    .unwrap_or_default();
                let rule = std::path::Path::new(&c.policy)
                    .file_stem()
                    .map(|f| f.to_string_lossy().to_string())
                    .unwrap_or_default();
                let status = if c.passed { "ok  " } else { "FAIL" };
                let detail = match (c.expect, c.deny.is_empty()) {
                    (Expect::Fail, false) => format!("denied: {}", c.deny.join("; ")),
                    (Expect::Fail, true) => "expected a deny, got none".to_string(),
                    (Expect::Pass, true) => "no deny".to_string(),
                    (Expect::Pass, false) => {
                        format!("expected no deny, got: {}", c.deny.join("; "))
                    }
                };
                text.push_str(&format!("{status}  {rule}  {file}  {detail}\n"));
                for w in &c.warn {
                    text.push_str(&format!("      warn: {w}\n"));
                }
            }
            for p in &report.problems {
                text.push_str(&format!("problem: {p}\n"));
            }
            text.push_str(&format!(
                "{} passed, {} failed\n",
                report.passed(),
                report.failed()
            ));
            output::print(&text)?;
        }
        f => output::print(&output::data(f, &report)?)?,
    }
    if report.ok() {
        return Ok(());
    }
    let mut why = Vec::new();
    if report.failed() > 0 {
        why.push(format!(
            "{} of {} policy tests failed",
            report.failed(),
            report.cases.len()
        ));
    }
    if !report.problems.is_empty() {
        why.push(format!(
            "{} missing fixture{} (a pass*.json and a fail*.json per policy)",
            report.problems.len(),
            if report.problems.len() == 1 { "" } else { "s" }
        ));
    }
    Err(Error::other(why.join("; ")).with_hint(
        "a fail*.json fixture must be denied by its policy, a pass*.json one must not be",
    ))
}
