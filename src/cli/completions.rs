//! `ipr completions`.

use clap_complete::Shell;

use crate::error::Result;

use super::Ctx;

/// Print a shell completion script.
///
/// bash: `ipr completions bash > ~/.local/share/bash-completion/completions/ipr`;
/// zsh: `ipr completions zsh > ~/.zfunc/_ipr`;
/// fish: `ipr completions fish > ~/.config/fish/completions/ipr.fish`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut cmd = super::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ipr", &mut out);
    String::from_utf8(out).expect("completions are UTF-8")
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    super::only_table(ctx, "completions")?;
    super::output::print(&script(args.shell))
}
