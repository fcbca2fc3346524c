//! The rule catalogue of `ipr verify` (SPEC §10, §10a) and the violation
//! record: plain data, at the bottom of the layers, so that an error can
//! carry the violation that refused an action (`crate::error::Detail`)
//! and the verify walk (`crate::verify`) can report it.

use serde::{Deserialize, Serialize};

macro_rules! rules {
    ($($variant:ident = $id:literal: $doc:literal,)+) => {
        /// The rule a violation breaks. The kebab-case ids are stable: CI
        /// jobs may match on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule { $(#[doc = $doc] $variant),+ }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),+];

            /// The stable id, e.g. `self-approval`.
            pub fn as_str(self) -> &'static str {
                match self { $(Rule::$variant => $id),+ }
            }

            /// One line on what the rule checks.
            pub fn description(self) -> &'static str {
                match self { $(Rule::$variant => $doc),+ }
            }
        }
    };
}

rules! {
    Parse = "parse": "a ticket or .ipr/config.yaml does not parse or validate (or is not a regular file)",
    WrongPath = "wrong-path": "a ticket is not at requests/prod/YYYY/MM/ID.yaml of its metadata",
    DuplicateId = "duplicate-id": "two ticket files carry the same request ID",
    NoConfig = "no-config": "a ticket changed while the parent commit had no valid .ipr/config.yaml",
    ConfigDeleted = "config-deleted": ".ipr/config.yaml was deleted",
    ConfigNotAdmin = "config-not-admin": "a file under .ipr/ was changed by someone who is not an admin in the parent's config",
    CreateMismatch = "create-mismatch": "a new ticket differs from what `ipr create` writes (apiVersion, metadata)",
    Validation = "validation": "a new request fails the checks of `ipr create` (justification, pre-checks, tenant, ...)",
    IllegalTransition = "illegal-transition": "a history entry is not a transition SPEC §5 allows from the current state",
    HistoryRewritten = "history-rewritten": "existing history entries were changed or removed",
    MultipleTransitions = "multiple-transitions": "one commit appends more than one history entry",
    MetadataChanged = "metadata-changed": "apiVersion, kind or metadata changed after creation",
    SpecChanged = "spec-changed": "spec changed after creation",
    StatusMismatch = "status-mismatch": "status differs from what replaying the transition gives",
    AuthorMismatch = "author-mismatch": "the commit author's email is not the `by` of the new history entry",
    TimeMismatch = "time-mismatch": "the new history entry's `at` is not the commit's author time",
    NoRole = "no-role": "the actor did not hold the role for the tenant under the parent's config",
    NotPermitted = "not-permitted": "the transition was refused for another reason (exit 3 in the CLI)",
    SelfApproval = "self-approval": "the requester approved or rejected their own request",
    DuplicateApproval = "duplicate-approval": "the same person approved twice",
    Quorum = "quorum": "the request became approved before it had the approvals its impact needs",
    RejectReason = "reject-reason": "a rejection without a reason of at least 10 characters",
    DigestMismatch = "digest-mismatch": "an approval's digest is not the digest of the spec it approved",
    Unsigned = "unsigned": "signing.required, and the commit is not signed",
    UntrustedSignature = "untrusted-signature": "signing.required, and the key is not trusted for the author",
    BadSignature = "bad-signature": "the commit's signature does not verify",
    TicketDeleted = "ticket-deleted": "a ticket file was deleted",
    TicketRenamed = "ticket-renamed": "a ticket file was moved or renamed",
    MergeConflict = "merge-conflict": "a merge keeps one side's ticket, which does not extend the other side's",
    IdNotNext = "id-not-next": "a new request's ID is not the next free one of its year (IDs are never reused or skipped)",
    CommitterMismatch = "committer-mismatch": "a transition commit was committed by someone other than its author",
    ImportNotAdmin = "import-not-admin": "tickets were imported (`Ipr-Action: import`) by someone who is not an admin",
    GroupApproval = "group-approval": "the request became approved without the approvals a rule of approvals.rules requires from its group",
    AutoApprove = "auto-approve": "a request was approved at create by `system` although no rule in force allowed it (approvals.autoApprove, or a quorum of 0)",
    WaitTimer = "wait-timer": "a deploy started before approvals.waitTimer had passed since the request was approved",
    BreakGlass = "break-glass": "a break-glass step without the distinct admins breakGlass.admins asks for, or by someone who is not an admin",
    NotStaged = "not-staged": "approvals.requireStaged, and the request's target was not deployed in the previous environment (spec.promotedFrom)",
    IncidentOverdue = "incident-overdue": "a warning, not a violation: the incident report of a break-glass deploy is later than breakGlass.incidentWithin",
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Rule::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown rule `{s}`")))
    }
}

/// One thing the CLI would have refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Violation {
    /// Full commit id, or `staged` for `ipr verify --staged`.
    pub commit: String,
    /// The file, `/`-separated from the repository root.
    pub file: String,
    pub rule: Rule,
    pub message: String,
}
