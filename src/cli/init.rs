//! `ipr init`: set up a gitops repo.

use crate::action::{self, Options};
use crate::config::{Config, CONFIG_PATH};
use crate::error::{Error, Result};

use super::Ctx;

/// Create .ipr/config.yaml and requests/prod/ in the current git repo, and
/// commit the config.
///
/// The config starts with the given tenants, one admin (you, unless
/// --admin names someone else), one approval by default and two for high
/// and critical impact. Add users and roles by editing .ipr/config.yaml
/// and committing it as an admin.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A tenant requests can be filed for (repeat for several).
    #[arg(long = "tenant", value_name = "TENANT")]
    pub tenants: Vec<String>,

    /// The first admin's email [default: git config user.email].
    #[arg(long, value_name = "EMAIL")]
    pub admin: Option<String>,

    /// Sign the commit even if git config does not ask for it.
    #[arg(long)]
    pub sign: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    super::only_table(ctx, "init")?;
    let (store, session) = ctx.open()?;
    for t in &args.tenants {
        if t.trim().is_empty() || t.contains(char::is_whitespace) {
            return Err(Error::invalid(format!(
                "tenant name `{t}` must be one word"
            )));
        }
    }
    let admin = match args.admin {
        Some(a) => a,
        None => session.actor.email.clone(),
    };
    let config = Config::starter(args.tenants, Some(admin.clone()));
    let oid = action::init(
        &store,
        &session,
        &config,
        Options {
            sign: args.sign,
            ..Options::default()
        },
    )?;
    ctx.note(format!(
        "initialised ipr: committed {CONFIG_PATH} ({}) with admin {admin}",
        &oid.to_string()[..12]
    ));
    ctx.note("hint: add users under `users:` in .ipr/config.yaml, then `ipr create`");
    Ok(())
}
