//! `ipr approve`.

use crate::action;
use crate::error::Result;
use crate::workflow::Transition;

use super::Ctx;

/// Approve a pending request.
///
/// Tenant admins approve requests of their tenants, admins any request;
/// nobody approves their own request, and each person approves once. The
/// request becomes `approved` when it has the approvals its impact needs
/// (approvals.default / approvals.impact in .ipr/config.yaml). Each
/// approval records the digest of the spec it approved.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,

    /// A comment recorded with the approval.
    #[arg(long, short = 'm', value_name = "TEXT", allow_hyphen_values = true)]
    pub comment: Option<String>,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let (store, session) = ctx.open()?;
    let t = Transition::Approve {
        comment: args.comment,
    };
    let done = action::transition(&store, &session, id, &t, args.commit.options(ctx))?;
    super::show::report(ctx, &done)
}
