//! `ipr log`.

use crate::error::Result;
use crate::query::View;

use super::output;
use super::{Ctx, Format};

/// Show the commits of one request, newest first: who acted, what they
/// did, when, and the signature status of each commit.
///
/// The signature is `good` (a valid signature by a key trusted for the
/// commit's author), `bad` (it does not verify), `unsigned`, or
/// `unknown key` (valid, but by a key not trusted for the author). ssh keys
/// are trusted through .ipr/allowed_signers as of the commit's parent, as
/// `ipr verify` judges them; openpgp keys through your keyring.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request, e.g. PR-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let (store, session) = ctx.open()?;
    let view = View::open(&store, &session)?;
    ctx.warn_view(&view, &[]);
    let rows = view.log(id)?;
    match ctx.format {
        Format::Table => output::print(&output::table(
            &["COMMIT", "DATE", "ACTOR", "ACTION", "SIGNATURE"],
            rows.iter()
                .map(|r| {
                    vec![
                        r.commit[..12].to_string(),
                        r.at.clone(),
                        r.actor.clone(),
                        r.action.clone(),
                        match (r.signature, &r.signer) {
                            ("good", Some(s)) => format!("good: {s}"),
                            ("unknown-key", _) => "unknown key".to_string(),
                            (other, _) => other.to_string(),
                        },
                    ]
                })
                .collect(),
        )),
        f => output::print(&output::data(f, &rows)?),
    }
}
