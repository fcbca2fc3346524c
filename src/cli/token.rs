//! `ipr token`.

use crate::error::Result;
use crate::server::auth;

use super::{output, Ctx};

/// API tokens for `ipr serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make a new random token for EMAIL: prints the token (give it to
    /// that person; it is shown once and stored nowhere) and the line an
    /// admin adds under `server.tokens` in .ipr/config.yaml, which holds
    /// only its SHA-256.
    New {
        /// The user the token acts as (a key of `users:`).
        #[arg(value_name = "EMAIL")]
        email: String,
    },
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    super::only_table(ctx, "token")?;
    match args.command {
        Command::New { email } => {
            let token = auth::new_token()?;
            output::print(&token)?;
            ctx.note(format!(
                "add under `server.tokens:` in .ipr/config.yaml (an admin commits it):\n    \"{}\": {}",
                auth::token_hash(&token),
                email.trim()
            ));
            Ok(())
        }
    }
}
