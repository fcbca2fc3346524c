//! `ipr break-glass`.

use clap::Subcommand;

use crate::deploy::{self, DeployOptions};
use crate::error::Result;

use super::Ctx;

/// Two-person break glass: agree to another admin's break-glass deploy.
///
/// With `breakGlass.admins: N` above 1, `ipr deploy ID --break-glass
/// --reason R` by one admin opens a break-glass deploy; it runs only once N
/// distinct admins agreed. Each agreement is a commit.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: BreakGlassCommand,
}

#[derive(Debug, Subcommand)]
pub enum BreakGlassCommand {
    Confirm(ConfirmArgs),
}

/// Agree to the open break-glass deploy of a request; the agreement that
/// completes breakGlass.admins deploys it at once, as you.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  ipr break-glass confirm PR-2026-0042")]
pub struct ConfirmArgs {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,

    /// Use this runner (a name under runners.definitions, or `shell`).
    #[arg(long, value_name = "NAME")]
    pub runner: Option<String>,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    match args.command {
        BreakGlassCommand::Confirm(a) => confirm(ctx, a),
    }
}

fn confirm(ctx: &Ctx, args: ConfirmArgs) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let (store, session) = ctx.open()?;
    let options = DeployOptions {
        runner: args.runner,
        echo: !ctx.quiet,
        commit: args.commit.options(ctx),
        ..Default::default()
    };
    let deployed = deploy::confirm_break_glass(&store, &session, id, &options, &ctx.outbox())?;
    super::deploy::render(ctx, id, deployed)
}
