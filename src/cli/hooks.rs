//! `ipr hooks`.

use crate::error::Result;
use crate::hooks;

use super::output;
use super::Ctx;

/// Git hooks that run `ipr verify`.
///
/// `ipr hooks install` writes a pre-commit hook into this clone: it runs
/// `ipr verify --staged`, so a hand-made commit that ipr would have refused
/// (an illegal transition, an approval by the requester, an edited spec, a
/// config change by a non-admin) fails before it is made. It then prints a
/// pre-receive hook for the server, which runs `ipr verify` on each pushed
/// range; `ipr hooks pre-receive` prints only that.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: HooksCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum HooksCommand {
    /// Install the pre-commit hook and print the server's pre-receive hook.
    Install(InstallArgs),
    /// Print the pre-receive hook for the server's bare repository.
    PreReceive,
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// Replace a pre-commit hook that ipr did not write.
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    super::only_table(ctx, "hooks")?;
    match args.command {
        HooksCommand::Install(a) => {
            let store = ctx.store()?;
            let path = hooks::install(&store, a.force)?;
            ctx.note(format!(
                "installed {}: commits run `ipr verify --staged`",
                path.display()
            ));
            if ctx.quiet {
                return Ok(());
            }
            ctx.note("on the server, install this as hooks/pre-receive (also: `ipr hooks pre-receive`):\n");
            output::print(&hooks::pre_receive_script())
        }
        HooksCommand::PreReceive => output::print(&hooks::pre_receive_script()),
    }
}
