//! `ipr waive`.

use serde_json::json;

use crate::error::Result;
use crate::recover;
use crate::verify;

use super::{output, Ctx, Format};

/// Accept the violations of one commit (admins only).
///
/// When a commit breaks a rule, ipr refuses to act on what it touched: a
/// bad commit under `.ipr/` stops every action, a bad ticket change every
/// action on that ticket. After reviewing it (and reverting what should not
/// stand), an admin records in `.ipr/waivers.yaml` that the commit is
/// accepted. `ipr verify` then lists its violations as waived, exits 0,
/// and judges later commits from the state that commit left. The waiver is
/// itself an ordinary, audited commit.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ipr verify\n  ipr waive 1a2b3c4d5e6f --reason \"config fix reviewed with the platform team\""
)]
pub struct Args {
    /// The commit to accept (an id or any revision `git rev-parse` takes).
    #[arg(value_name = "COMMIT")]
    pub commit: String,

    /// Why it is accepted (at least 10 characters); kept in the waiver.
    #[arg(long, short = 'r', value_name = "TEXT", allow_hyphen_values = true)]
    pub reason: String,

    /// Sign the commit even if git config does not ask for it.
    #[arg(long)]
    pub sign: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let (store, session) = ctx.open()?;
    let options = crate::action::Options {
        sign: args.sign,
        push: false,
        no_input: ctx.no_input,
    };
    let done = recover::waive(&store, &session, &args.commit, &args.reason, options)?;
    let target = done.target.to_string();
    match ctx.format {
        Format::Json | Format::Yaml => output::print(&output::data(
            ctx.format,
            &json!({
                "commit": target,
                "waiver": done.commit.to_string(),
                "violations": done.violations,
            }),
        )?),
        _ => {
            for v in &done.violations {
                ctx.note(format!("waived: {}", output::esc(&verify::line(v))));
            }
            ctx.note(format!(
                "waived {} ({} violation{}) in {} ({})",
                &target[..12],
                done.violations.len(),
                if done.violations.len() == 1 { "" } else { "s" },
                crate::waiver::WAIVERS_PATH,
                &done.commit.to_string()[..12]
            ));
            if ctx.quiet {
                output::print(&target)
            } else {
                Ok(())
            }
        }
    }
}
