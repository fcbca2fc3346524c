//! `ipr promote`.

use crate::action;
use crate::error::Result;

use super::output;
use super::{Ctx, Format};

/// File the next-stage request for a deployed one.
///
/// The new request has the same target (type, name, version), tenant and
/// request text; its source environment is where the deployed one went,
/// its target `--to`, and `spec.promotedFrom` names the deployed request.
/// With `approvals.requireStaged`, a request for an environment needs
/// exactly this: the same name and version deployed in the environment
/// listed before it. Prints the new ID.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  ipr promote PR-2026-0041 --to prod")]
pub struct Args {
    /// The deployed request, e.g. PR-2026-0041.
    #[arg(value_name = "ID")]
    pub id: String,

    /// The environment to promote to.
    #[arg(long, value_name = "ENV")]
    pub to: String,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let (store, session) = ctx.open()?;
    let done = action::promote(&store, &session, id, &args.to, args.commit.options(ctx))?;
    if let Some(pushed) = &done.pushed {
        super::sync::describe(ctx, pushed);
    }
    let t = &done.ticket;
    match ctx.format {
        Format::Table => {
            ctx.note(format!(
                "promoted {id} to {}: created {} ({})",
                t.spec.target.target_environment,
                t.id(),
                super::create::needs_line(t, &done.config)
            ));
            output::print(&t.id().to_string())
        }
        f => output::print(&output::data(f, t)?),
    }
}
