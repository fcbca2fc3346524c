//! `ipr log`.

use serde::Serialize;

use crate::action;
use crate::error::Result;
use crate::policy::{self, Capability};
use crate::store::signing::Verifier;
use crate::verify;

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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    commit: String,
    at: String,
    actor: String,
    action: String,
    signature: &'static str,
    /// Who signed (good), or why the signature is not good.
    signer: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let id = super::parse_id(&args.id)?;
    let store = ctx.store()?;
    let snap = action::snapshot(&store)?;
    ctx.warn_unverified(&snap.trust);
    let ticket = store.ticket(snap.head, id)?;
    policy::check(&snap.config, &snap.actor.email, Capability::View, &ticket)?;
    let verifier = Verifier::from_config(store.repo())?;
    let mut rows: Vec<Row> = Vec::new();
    for c in store.file_history(snap.head, &ticket.path())? {
        let status = verify::signature_status(&store, &verifier, c.id)?;
        rows.push(Row {
            commit: c.id.to_string(),
            at: c.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            actor: c.author.email,
            action: c
                .action
                .unwrap_or_else(|| format!("(not ipr) {}", c.summary)),
            signature: status.as_str(),
            signer: status.detail().map(str::to_string),
        });
    }
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
