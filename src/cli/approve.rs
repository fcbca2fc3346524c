//! `ipr approve`.

use crate::action;
use crate::deploy::{self, DeployOptions};
use crate::error::Result;
use crate::workflow::Transition;

use super::Ctx;

/// Approve a pending request.
///
/// Tenant admins approve requests of their tenants, admins any request,
/// and members of a group (`groups:`) the requests whose rules require
/// their group; nobody approves their own request, and each person
/// approves once. The request becomes `approved` when it has its quorum
/// (the largest of approvals.environments and approvals.impact, else
/// approvals.default) and every matching rule of approvals.rules has its
/// group's approvals ("needs 1 of dba"); an approval by a group member
/// counts toward both. Each approval records the digest of the spec it
/// approved. With deploy.autoDeploy, the approval that completes it
/// deploys at once (unless approvals.waitTimer holds it).
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
    let options = args.commit.options(ctx);
    let done = action::transition(&store, &session, id, &t, options)?;
    super::show::report(ctx, &done)?;
    let deploy = DeployOptions {
        echo: !ctx.quiet,
        commit: options,
        ..Default::default()
    };
    match deploy::auto_deploy(&store, &session, &done, &deploy, &ctx.outbox()) {
        Some(Ok(deployed)) => {
            ctx.note(format!("deploy.autoDeploy: deploying {id}"));
            super::deploy::render(ctx, id, deployed)
        }
        // The approval stands; the deploy it would start was refused
        // before anything ran (the approver may not deploy, a freeze):
        // a warning, and someone who may deploys it.
        Some(Err(e))
            if matches!(
                e.kind(),
                crate::error::Kind::Permission | crate::error::Kind::Conflict
            ) =>
        {
            eprintln!(
                "warning: deploy.autoDeploy: {id} was approved but not deployed: {}",
                crate::text::esc(e.message())
            );
            Ok(())
        }
        Some(Err(e)) => Err(e),
        None => {
            if let Some(until) = crate::approvals::wait_until(&done.config, &done.ticket) {
                if done.config.deploy.auto_deploy && session.now() < until {
                    ctx.note(format!(
                        "deploy.autoDeploy: {id} waits until {} (approvals.waitTimer); `ipr deploy --due` deploys it then",
                        until.to_rfc3339()
                    ));
                }
            }
            Ok(())
        }
    }
}
