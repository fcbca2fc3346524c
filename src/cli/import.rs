//! `ipr import`.

use crate::error::{Error, Result};
use crate::recover::{self, ImportFile};

use super::{output, Ctx, Format};

/// Commit tickets from another system, unchanged (admins only).
///
/// Each FILE is a ticket in the seed format (SPEC §2). It is committed
/// byte for byte at `requests/prod/YYYY/MM/ID.yaml` of its metadata, one
/// commit per ticket with `Ipr-Action: import`, in ID order. A ticket whose
/// ID exists, or ever existed, on the branch is refused; every file is
/// checked before the first commit. `ipr verify` accepts imports by admins.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ipr import exported/PR-2024-0003.yaml exported/PR-2024-0004.yaml"
)]
pub struct Args {
    /// Ticket files to import.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<std::path::PathBuf>,

    /// Sign the commits even if git config does not ask for it.
    #[arg(long)]
    pub sign: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let (store, session) = ctx.open()?;
    let mut files = Vec::new();
    for path in &args.files {
        let full = ctx.resolve(path);
        let name = path.display().to_string();
        let meta =
            std::fs::metadata(&full).map_err(|e| Error::not_found(format!("{name}: {e}")))?;
        if meta.len() as usize > crate::model::MAX_TICKET_BYTES {
            return Err(Error::invalid(format!(
                "{name}: file is too large for a ticket"
            )));
        }
        let bytes = std::fs::read(&full).map_err(|e| Error::other(format!("{name}: {e}")))?;
        files.push(ImportFile { name, bytes });
    }
    let options = crate::action::Options {
        sign: args.sign,
        push: false,
        no_input: ctx.no_input,
    };
    let done = recover::import(&store, &session, &files, options)?;
    match ctx.format {
        Format::Json | Format::Yaml => {
            let tickets: Vec<_> = done.iter().map(|(t, _)| t).collect();
            output::print(&output::data(ctx.format, &tickets)?)
        }
        _ => {
            for (t, commit) in &done {
                ctx.note(format!(
                    "imported {} in {} ({})",
                    t.id(),
                    t.path(),
                    &commit.to_string()[..12]
                ));
            }
            let ids: Vec<String> = done.iter().map(|(t, _)| t.id().to_string()).collect();
            output::print(&ids.join("\n"))
        }
    }
}
