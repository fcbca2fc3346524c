//! The rule catalogue: what a violation breaks, and what a verification
//! reports.

use std::collections::HashSet;

use git2::Oid;

use super::walk::State;

pub use crate::violation::{Rule, Violation};

/// What to check.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Commits reachable from `tip` (default: HEAD) and not
    /// from `since`; `since`'s tree is trusted as the starting state.
    History {
        tip: Option<String>,
        since: Option<String>,
    },
    /// The index against HEAD (and a merge in progress), as the commit
    /// about to be made; for the pre-commit hook. Signatures and times
    /// cannot be checked before the commit exists.
    Staged,
}

/// The result of a verification.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Commits walked.
    pub commits: usize,
    /// Ticket changes (creations and transitions) checked.
    pub transitions: usize,
    /// Signatures checked.
    pub signatures: usize,
    /// In history order.
    pub violations: Vec<Violation>,
    /// Violations of commits an admin waived (`.ipr/waivers.yaml`).
    pub waived: Vec<Violation>,
    /// Waivers written by commits that verify.
    pub(super) granted: HashSet<Oid>,
    /// What the tip left: the legitimate `.ipr/` files and the IDs used,
    /// from which a later verification can go on.
    pub end: Option<State>,
}

/// The label of staged changes in a [`Violation`].
pub const STAGED: &str = "staged";

/// The line `ipr verify` prints for a violation.
pub fn line(v: &Violation) -> String {
    format!("{} {}: {}: {}", short(&v.commit), v.file, v.rule, v.message)
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_kebab_case_and_documented() {
        let docs = include_str!("../../docs/verify.md");
        let mut seen = HashSet::new();
        for r in Rule::ALL {
            let id = r.as_str();
            assert!(seen.insert(id), "{id} twice");
            assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
            assert!(
                docs.contains(&format!("`{id}`")),
                "docs/verify.md does not list `{id}`"
            );
        }
    }
}
