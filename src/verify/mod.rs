//! `ipr verify`: replay the history of a branch commit by commit and report
//! every change the CLI would have refused (SPEC §10).
//!
//! Each commit is compared with each of its parents by a tree diff, so only
//! the files a commit changed are read and parsed. A changed ticket is
//! checked by inferring the transition from its new history entry and
//! re-running [`workflow::apply`] on the parent's version, under the config
//! *of the parent commit*, then comparing the result with the committed
//! file: the CLI and verify share one set of rules. A new ticket is
//! re-built with [`workflow::create`] the same way. Changes to `.ipr/` must
//! come from an admin of the parent's config; the first commit that adds a
//! config bootstraps it. With `signing.required` in the parent's config,
//! every commit that changes a ticket or `.ipr/` must carry a signature by a
//! key trusted for its author: for ssh, `.ipr/allowed_signers` as of the
//! parent commit; for openpgp, a keyring key with a uid of the author's
//! email. Signatures are checked in parallel once the walk is done.
//!
//! Merge commits are checked against each parent: a file the merge took
//! unchanged from another parent was checked on that parent's line, and
//! must only extend this parent's version of the ticket; anything else the
//! merge changed is checked as the merge author's own change.
//!
//! [`workflow::apply`]: crate::workflow::apply
//! [`workflow::create`]: crate::workflow::create

mod diff;
mod rules;
mod signatures;
mod ticket;
mod walk;

use std::collections::HashSet;

use git2::Oid;

use crate::error::{Error, Result};
use crate::store::Store;

pub use rules::{line, Report, Rule, Scope, Violation, STAGED};
pub use signatures::{signature_status, signature_status_against};
pub use walk::{start_from_tree, Ids, Legit, Start, State};

use walk::Engine;

/// Run a verification.
pub fn verify(store: &Store, scope: &Scope) -> Result<Report> {
    match scope {
        Scope::History { tip, since } => {
            let tip = match tip {
                Some(rev) => store.resolve(rev)?,
                // HEAD, detached or not: CI jobs check out a commit.
                None => match store.head_commit()? {
                    Some(h) => h,
                    None => return Ok(Report::default()),
                },
            };
            let since = since.as_deref().map(|r| store.resolve(r)).transpose()?;
            let start = since.map(|s| start_from_tree(store, s)).transpose()?;
            verify_range(store, tip, start)
        }
        Scope::Staged => {
            let mut engine = Engine::new(store, HashSet::new());
            engine.staged()?;
            engine.finish()
        }
    }
}

/// Verify the commits reachable from `tip` and not from `start` (all of
/// them without one), starting from the state `start` left.
///
/// A waiver counts only if the commit that wrote it verifies, signature
/// included, *without* that waiver: the walk starts with no waivers and is
/// made again with those granted until nothing new is granted (so a
/// waiver can never vouch for itself, e.g. by waiving the forged
/// allowed-signers file its own signature relies on).
pub fn verify_range(store: &Store, tip: Oid, start: Option<Start>) -> Result<Report> {
    let mut waivers: HashSet<Oid> = HashSet::new();
    for _ in 0..8 {
        let mut engine = Engine::new(store, waivers.clone());
        engine.history(tip, start.clone())?;
        let mut report = engine.finish()?;
        let granted = std::mem::take(&mut report.granted);
        if granted.is_subset(&waivers) {
            return Ok(report);
        }
        waivers.extend(granted);
    }
    Err(Error::other(
        "the waivers in .ipr/waivers.yaml do not settle; an admin should review them",
    ))
}
