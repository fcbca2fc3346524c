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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;

use chrono::{DateTime, Datelike, Utc};
use git2::Oid;
use serde::{Deserialize, Serialize};

use crate::config::{Config, ALLOWED_SIGNERS_PATH, CONFIG_PATH};
use crate::error::{Error, Kind, Result};
use crate::model::{same_email, Action, HistoryEntry, RequestId, Ticket};
use crate::policy;
use crate::store::history::{FileDelta, Side, Signed, TreeCache};
use crate::store::signing::{SignatureStatus, Verifier};
use crate::store::{Store, REQUESTS_ROOT};
use crate::waiver::{Waivers, WAIVERS_PATH};
use crate::workflow::{self, Refusal, Transition};

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
    granted: HashSet<Oid>,
    /// What the tip left: the legitimate `.ipr/` files and the IDs used,
    /// from which a later verification can go on.
    pub end: Option<State>,
}

/// The `.ipr/` files in force: the last versions that came from a commit
/// without violations on them (or a waived one). A commit that breaks a
/// rule never changes them, so everything after it is judged under the
/// rules it tried to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Legit {
    /// Blob of `.ipr/config.yaml`.
    pub config: Option<String>,
    /// Blob of `.ipr/allowed_signers`.
    pub signers: Option<String>,
}

/// The IDs history has used: the highest legitimately created number of
/// each year, and every other number seen above it (created out of turn).
/// An ID in either is never handed out again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ids {
    pub max: BTreeMap<i32, u32>,
    pub taken: BTreeSet<RequestId>,
}

impl Ids {
    /// The next ID of `year` that history never used and that is not a
    /// file in the tree (`exists`).
    pub fn next(&self, year: i32, exists: &dyn Fn(RequestId) -> Result<bool>) -> Result<RequestId> {
        let mut id = RequestId::new(year, self.max.get(&year).copied().unwrap_or(0)).next()?;
        while self.taken.contains(&id) || exists(id)? {
            id = id.next()?;
        }
        Ok(id)
    }

    /// Whether history used `id`.
    pub fn used(&self, id: RequestId) -> bool {
        self.taken.contains(&id) || self.max.get(&id.year).is_some_and(|m| id.number <= *m)
    }
}

/// What a verified commit left: enough to verify its descendants alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub legit: Legit,
    pub ids: Ids,
}

/// Where a verification starts: a commit taken as verified, and the
/// state it left.
#[derive(Debug, Clone)]
pub struct Start {
    pub commit: Oid,
    pub state: State,
}

/// The label of staged changes in a [`Violation`].
pub const STAGED: &str = "staged";

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
            tune_libgit2();
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
    tune_libgit2();
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

/// The state `commit`'s tree shows, taken on trust (`ipr verify --since`):
/// its `.ipr/` files and the IDs of its tickets.
pub fn start_from_tree(store: &Store, commit: Oid) -> Result<Start> {
    let tree = Side::Tree(store.tree_id(commit)?);
    let mut ids = Ids::default();
    for (year, n) in store.max_ids(Some(commit))? {
        ids.max.insert(year, n);
    }
    Ok(Start {
        commit,
        state: State {
            legit: Legit {
                config: store.blob_at(tree, CONFIG_PATH)?.map(|b| b.to_string()),
                signers: store
                    .blob_at(tree, ALLOWED_SIGNERS_PATH)?
                    .map(|b| b.to_string()),
            },
            ids,
        },
    })
}

/// libgit2 re-hashes every object it reads by default; git does not, and
/// the walk reads the changed trees of every commit (a third of the time
/// on a 10,000-commit history). Object ids are still compared as usual.
fn tune_libgit2() {
    git2::opts::strict_hash_verification(false);
}

/// The signature status of a commit for `ipr log`, judged like verify
/// judges it: against `.ipr/allowed_signers` as of the commit's first
/// parent (so a commit cannot vouch for the key that signed it).
pub fn signature_status(
    store: &Store,
    verifier: &Verifier,
    commit: Oid,
) -> Result<SignatureStatus> {
    let info = store.commit_details(commit)?;
    let allowed = match info.parents.first() {
        Some(p) => store.blob_at(Side::Tree(store.tree_id(*p)?), ALLOWED_SIGNERS_PATH)?,
        None => None,
    };
    signature_status_against(store, verifier, commit, allowed)
}

/// The signature status of a commit against the allowed-signers blob
/// `allowed` (the legitimate one, at the point of action).
pub fn signature_status_against(
    store: &Store,
    verifier: &Verifier,
    commit: Oid,
    allowed: Option<Oid>,
) -> Result<SignatureStatus> {
    let info = store.commit_details(commit)?;
    let Some(signed) = &info.signed else {
        return Ok(SignatureStatus::Unsigned);
    };
    let dir = tempfile::tempdir()?;
    let path = match allowed {
        Some(blob) => {
            let p = dir.path().join("allowed_signers");
            std::fs::write(&p, store.blob(blob)?)?;
            Some(p)
        }
        None => None,
    };
    verifier.verify(
        &signed.signature,
        &signed.payload,
        &info.author.email,
        path.as_deref(),
        info.committer_time,
    )
}

type Parsed<T> = Rc<std::result::Result<T, String>>;

/// One commit (or the index) against one of its parents.
struct Ctx<'a> {
    commit: &'a str,
    author: &'a str,
    author_time: Option<DateTime<Utc>>,
    /// The commit's `Ipr-Action` trailer.
    action: Option<&'a str>,
    /// An admin waived this commit's violations.
    waived: bool,
    new: Side,
    /// The legitimate config of the parent; `None` before the first config.
    config: Option<Rc<Config>>,
    /// Trees of the other parents of a merge.
    others: &'a [Side],
}

struct SigJob {
    seq: usize,
    commit: String,
    file: String,
    email: String,
    time: DateTime<Utc>,
    signed: Option<Signed>,
    allowed_signers: Option<Oid>,
}

/// The legitimate `.ipr/` files after a commit (see [`Legit`]).
#[derive(Clone, Default)]
struct LegitFiles {
    config_blob: Option<Oid>,
    config: Option<Rc<Config>>,
    signers: Option<Oid>,
}

struct Engine<'s> {
    store: &'s Store,
    /// The legitimate `.ipr/` files after each commit walked.
    legit: HashMap<Oid, Rc<LegitFiles>>,
    config_blobs: HashMap<Oid, Parsed<Rc<Config>>>,
    tickets: HashMap<Oid, Parsed<Ticket>>,
    trees: TreeCache,
    seq: usize,
    found: Vec<(usize, Violation)>,
    jobs: Vec<SigJob>,
    report: Report,
    ids: Ids,
    /// Commits whose violations are waived (candidates: see `granted`).
    waivers: HashSet<Oid>,
    /// Waivers that commits without violations on `.ipr/waivers.yaml`
    /// wrote, by the commit (signatures are checked at the end).
    granted: Vec<(String, HashSet<Oid>)>,
    waived: Vec<(usize, Violation)>,
    tip: Option<Oid>,
}

fn is_ticket_path(path: &str) -> bool {
    path.strip_prefix(REQUESTS_ROOT)
        .is_some_and(|r| r.starts_with('/'))
}

fn is_ipr_path(path: &str) -> bool {
    path.starts_with(".ipr/") || is_ticket_path(path)
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

fn oid_of(s: &Option<String>) -> Result<Option<Oid>> {
    s.as_deref()
        .map(|s| Oid::from_str(s).map_err(|e| Error::other(format!("bad object id `{s}`: {e}"))))
        .transpose()
}

impl<'s> Engine<'s> {
    fn new(store: &'s Store, waivers: HashSet<Oid>) -> Self {
        Engine {
            store,
            legit: HashMap::new(),
            config_blobs: HashMap::new(),
            tickets: HashMap::new(),
            trees: TreeCache::default(),
            seq: 0,
            found: Vec::new(),
            jobs: Vec::new(),
            report: Report::default(),
            ids: Ids::default(),
            waivers,
            granted: Vec::new(),
            waived: Vec::new(),
            tip: None,
        }
    }

    fn violation(&mut self, ctx: &Ctx<'_>, file: &str, rule: Rule, message: impl Into<String>) {
        self.found.push((
            self.seq,
            Violation {
                commit: ctx.commit.to_string(),
                file: file.to_string(),
                rule,
                message: message.into(),
            },
        ));
    }

    fn history(&mut self, tip: Oid, start: Option<Start>) -> Result<()> {
        self.tip = Some(tip);
        let since = start.as_ref().map(|s| s.commit);
        if let Some(start) = start {
            let config_blob = oid_of(&start.state.legit.config)?;
            let config = match config_blob {
                Some(b) => (*self.config(b)?).clone().ok(),
                None => None,
            };
            self.legit.insert(
                start.commit,
                Rc::new(LegitFiles {
                    config_blob,
                    config,
                    signers: oid_of(&start.state.legit.signers)?,
                }),
            );
            self.ids = start.state.ids;
        }
        let commits = self.store.commits_between(since, tip)?;
        for (seq, id) in commits.into_iter().enumerate() {
            self.seq = seq;
            self.report.commits += 1;
            let mark = self.found.len();
            let info = self.store.commit_details(id)?;
            let label = id.to_string();
            let waived = self.waivers.contains(&id);
            let parents: Vec<Option<Oid>> = if info.parents.is_empty() {
                vec![None]
            } else {
                info.parents.iter().copied().map(Some).collect()
            };
            let trees = self.trees_of(&parents)?;
            let mut needs_signature: Option<(Option<Oid>, String)> = None;
            let mut own_file: Option<String> = None;
            for (i, parent) in parents.iter().enumerate() {
                let deltas = self.ipr_deltas(trees[i], Side::Tree(info.tree))?;
                if deltas.is_empty() {
                    continue;
                }
                let others = other_sides(&trees, i);
                let legit = self.legit_of(*parent)?;
                let ctx = Ctx {
                    commit: &label,
                    author: &info.author.email,
                    author_time: Some(info.author_time),
                    action: info.action.as_deref(),
                    waived,
                    new: Side::Tree(info.tree),
                    config: legit.config.clone(),
                    others: &others,
                };
                let own = self.check(&ctx, &deltas)?;
                if own_file.is_none() {
                    own_file.clone_from(&own);
                }
                let required = legit.config.as_ref().is_some_and(|c| c.signing.required);
                if let (Some(file), true, None) = (own, required, &needs_signature) {
                    needs_signature = Some((legit.signers, file));
                }
            }
            if let Some(file) = &own_file {
                if !same_email(&info.committer.email, &info.author.email) {
                    self.found.push((
                        seq,
                        Violation {
                            commit: label.clone(),
                            file: file.clone(),
                            rule: Rule::CommitterMismatch,
                            message: format!(
                                "authored by {} but committed by {}; each person commits their own actions",
                                info.author.email, info.committer.email
                            ),
                        },
                    ));
                }
            }
            if waived {
                let mine: Vec<(usize, Violation)> = self.found.drain(mark..).collect();
                self.waived.extend(mine);
            } else if let Some((allowed_signers, file)) = needs_signature {
                self.jobs.push(SigJob {
                    seq,
                    commit: label.clone(),
                    file,
                    email: info.author.email.clone(),
                    time: info.committer_time,
                    signed: info.signed.clone(),
                    allowed_signers,
                });
            }
            let bad: HashSet<String> = self.found[mark.min(self.found.len())..]
                .iter()
                .map(|(_, v)| v.file.clone())
                .collect();
            let next = self.legit_after(id, &parents, info.tree, &trees, &bad)?;
            self.legit.insert(id, next);
        }
        Ok(())
    }

    /// The legitimate `.ipr/` files after a commit with tree `tree`, given
    /// the files that drew violations in it: a file changes only through a
    /// commit without violations on it.
    fn legit_after(
        &mut self,
        commit: Oid,
        parents: &[Option<Oid>],
        tree: Oid,
        trees: &[Option<Oid>],
        bad: &HashSet<String>,
    ) -> Result<Rc<LegitFiles>> {
        let base = self.legit_of(parents[0])?;
        let mut sides = Vec::new();
        for p in parents {
            sides.push(self.legit_of(*p)?);
        }
        let config_blob = self.blob_at(Side::Tree(tree), CONFIG_PATH)?;
        let signers = self.blob_at(Side::Tree(tree), ALLOWED_SIGNERS_PATH)?;
        let mut next = (*base).clone();
        if config_blob != base.config_blob {
            if let Some(side) = sides.iter().find(|l| l.config_blob == config_blob) {
                next.config_blob = side.config_blob;
                next.config = side.config.clone();
            } else if let (Some(blob), false) = (config_blob, bad.contains(CONFIG_PATH)) {
                if let Ok(config) = &*self.config(blob)? {
                    next.config_blob = Some(blob);
                    next.config = Some(config.clone());
                }
            }
        }
        if signers != base.signers
            && (sides.iter().any(|l| l.signers == signers) || !bad.contains(ALLOWED_SIGNERS_PATH))
        {
            next.signers = signers;
        }
        // Waivers written by a commit that verifies are granted.
        let waivers = self.blob_at(Side::Tree(tree), WAIVERS_PATH)?;
        let before = match trees[0] {
            Some(t) => self.blob_at(Side::Tree(t), WAIVERS_PATH)?,
            None => None,
        };
        if waivers != before && !bad.contains(WAIVERS_PATH) {
            if let Some(blob) = waivers {
                if let Ok(w) = Waivers::from_yaml(&self.store.blob(blob)?) {
                    self.granted.push((commit.to_string(), w.commits()));
                }
            }
        }
        Ok(Rc::new(next))
    }

    /// The legitimate `.ipr/` files after `commit`. For a commit the walk
    /// did not reach (the starting point of `--since`, the pre-commit
    /// hook's HEAD) they are taken from its tree: the last config that
    /// parses on its first-parent line.
    fn legit_of(&mut self, commit: Option<Oid>) -> Result<Rc<LegitFiles>> {
        let Some(commit) = commit else {
            return Ok(Rc::new(LegitFiles::default()));
        };
        if let Some(l) = self.legit.get(&commit) {
            return Ok(l.clone());
        }
        let signers = self.blob_at(
            Side::Tree(self.store.tree_id(commit)?),
            ALLOWED_SIGNERS_PATH,
        )?;
        let mut cur = Some(commit);
        let mut found = LegitFiles {
            signers,
            ..LegitFiles::default()
        };
        while let Some(c) = cur {
            let tree = self.store.tree_id(c)?;
            if let Some(blob) = self.blob_at(Side::Tree(tree), CONFIG_PATH)? {
                if let Ok(config) = &*self.config(blob)? {
                    found.config_blob = Some(blob);
                    found.config = Some(config.clone());
                    break;
                }
            }
            cur = self.store.first_parent(c)?;
        }
        let found = Rc::new(found);
        self.legit.insert(commit, found.clone());
        Ok(found)
    }

    fn staged(&mut self) -> Result<()> {
        let head = self.store.head_commit()?;
        let mut parents: Vec<Option<Oid>> = vec![head];
        if head.is_some() {
            parents.extend(self.store.merge_heads()?.into_iter().map(Some));
        }
        let trees = self.trees_of(&parents)?;
        let author = match std::env::var("GIT_AUTHOR_EMAIL") {
            Ok(e) if !e.trim().is_empty() => e.trim().to_string(),
            _ => self.store.identity()?.email,
        };
        if let Some(h) = head {
            self.ids = start_from_tree(self.store, h)?.state.ids;
        }
        self.report.commits = 1;
        for (i, parent) in parents.iter().enumerate() {
            let deltas = self.ipr_deltas(trees[i], Side::Index)?;
            if deltas.is_empty() {
                continue;
            }
            let others = other_sides(&trees, i);
            let config = self.legit_of(*parent)?.config.clone();
            let ctx = Ctx {
                commit: STAGED,
                author: &author,
                author_time: None,
                action: None,
                waived: false,
                new: Side::Index,
                config,
                others: &others,
            };
            self.check(&ctx, &deltas)?;
        }
        Ok(())
    }

    /// The root tree of each parent (`None` for a root commit's missing parent).
    fn trees_of(&self, parents: &[Option<Oid>]) -> Result<Vec<Option<Oid>>> {
        parents
            .iter()
            .map(|p| p.map(|p| self.store.tree_id(p)).transpose())
            .collect()
    }

    fn ipr_deltas(&mut self, old: Option<Oid>, new: Side) -> Result<Vec<FileDelta>> {
        match new {
            Side::Tree(t) => {
                self.store
                    .diff_trees(&mut self.trees, old, t, &[".ipr", REQUESTS_ROOT])
            }
            Side::Index => {
                let mut deltas = self.store.diff(old, new)?;
                deltas.retain(|d| is_ipr_path(&d.path));
                Ok(deltas)
            }
        }
    }

    /// The blob at `path` in a tree (read through the tree cache) or the index.
    fn blob_at(&mut self, side: Side, path: &str) -> Result<Option<Oid>> {
        match side {
            Side::Tree(t) => Ok(self
                .store
                .entry_at(&mut self.trees, t, path)?
                .filter(|e| !e.is_tree())
                .map(|e| e.id)),
            Side::Index => self.store.blob_at(side, path),
        }
    }

    /// Directories directly under `dir` in a tree or the index.
    fn dirs_at(&mut self, side: Side, dir: &str) -> Result<Vec<String>> {
        match side {
            Side::Tree(t) => {
                let Some(e) = self.store.entry_at(&mut self.trees, t, dir)? else {
                    return Ok(Vec::new());
                };
                if !e.is_tree() {
                    return Ok(Vec::new());
                }
                let entries = self.store.tree_entries(&mut self.trees, e.id)?;
                Ok(entries
                    .iter()
                    .filter(|e| e.is_tree())
                    .map(|e| e.name.clone())
                    .collect())
            }
            Side::Index => self.store.dirs_at(side, dir),
        }
    }

    fn config(&mut self, blob: Oid) -> Result<Parsed<Rc<Config>>> {
        if let Some(c) = self.config_blobs.get(&blob) {
            return Ok(c.clone());
        }
        let bytes = self.store.blob(blob)?;
        let parsed = Rc::new(
            Config::from_yaml(&bytes, CONFIG_PATH)
                .map(Rc::new)
                .map_err(|e| e.message().to_string()),
        );
        self.config_blobs.insert(blob, parsed.clone());
        Ok(parsed)
    }

    fn ticket(&mut self, blob: Oid, path: &str) -> Result<Parsed<Ticket>> {
        if let Some(t) = self.tickets.get(&blob) {
            return Ok(t.clone());
        }
        let bytes = self.store.blob(blob)?;
        let parsed = Rc::new(Ticket::from_yaml(&bytes, path).map_err(|e| e.message().to_string()));
        self.tickets.insert(blob, parsed.clone());
        Ok(parsed)
    }

    /// Check the changes of one commit against one parent. Returns the
    /// first file the commit itself changed (not taken from another parent
    /// of a merge), which decides whether a signature is needed.
    fn check(&mut self, ctx: &Ctx<'_>, deltas: &[FileDelta]) -> Result<Option<String>> {
        // In ID order (PR-2026-9999 before PR-2026-10000), so the tickets
        // of one commit take their IDs in turn.
        let mut deltas = deltas.to_vec();
        deltas.sort_by(|a, b| {
            let key = |p: &str| {
                let (dir, name) = p.rsplit_once('/').unwrap_or(("", p));
                (dir.to_string(), name.len(), name.to_string())
            };
            key(&a.path).cmp(&key(&b.path))
        });
        let deltas = &deltas[..];
        // A deleted ticket and an added one with the same name or content
        // are one rename.
        let tickets =
            |d: &&FileDelta| is_ticket_path(&d.path) && !basename(&d.path).starts_with('.');
        let deleted: Vec<&FileDelta> = deltas
            .iter()
            .filter(tickets)
            .filter(|d| d.new.is_none())
            .collect();
        let mut renamed_from: HashMap<&str, &str> = HashMap::new();
        let mut moved: HashSet<&str> = HashSet::new();
        for a in deltas.iter().filter(tickets).filter(|d| d.old.is_none()) {
            let source = deleted.iter().find(|d| {
                !moved.contains(d.path.as_str())
                    && (basename(&d.path) == basename(&a.path) || d.old == a.new)
            });
            if let Some(d) = source {
                moved.insert(&d.path);
                renamed_from.insert(&a.path, &d.path);
            }
        }

        let mut own = None;
        for d in deltas {
            let path = d.path.as_str();
            if is_ticket_path(path) && basename(path).starts_with('.') {
                continue;
            }
            let mut inherited = false;
            if let Some(new) = d.new {
                for side in ctx.others {
                    if self.blob_at(*side, path)? == Some(new) {
                        inherited = true;
                        break;
                    }
                }
            }
            if !inherited && own.is_none() {
                own = Some(path.to_string());
            }
            if !is_ticket_path(path) {
                self.check_ipr_file(ctx, d, inherited)?;
                continue;
            }
            if d.new.is_some() && !d.new_is_file {
                self.violation(
                    ctx,
                    path,
                    Rule::Parse,
                    "not a regular file (a symlink or submodule)",
                );
                continue;
            }
            self.report.transitions += 1;
            if moved.contains(path) {
                continue;
            }
            if let Some(from) = renamed_from.get(path) {
                self.violation(
                    ctx,
                    path,
                    Rule::TicketRenamed,
                    format!("moved from {from}; a ticket stays where it was created"),
                );
                continue;
            }
            match (d.old, d.new) {
                (Some(_), None) => self.violation(
                    ctx,
                    path,
                    Rule::TicketDeleted,
                    "deleted; tickets are never deleted (cancel the request instead)",
                ),
                (None, Some(new)) => self.created(ctx, path, new, inherited)?,
                (Some(old), Some(new)) => self.changed(ctx, path, old, new, inherited)?,
                (None, None) => {}
            }
        }
        Ok(own)
    }

    fn check_ipr_file(&mut self, ctx: &Ctx<'_>, d: &FileDelta, inherited: bool) -> Result<()> {
        let path = d.path.as_str();
        if path == CONFIG_PATH {
            match d.new {
                None => self.violation(
                    ctx,
                    path,
                    Rule::ConfigDeleted,
                    "deleted; ipr needs it (the previous config stays in force)",
                ),
                Some(_) if !d.new_is_file => {
                    self.violation(ctx, path, Rule::Parse, "not a regular file")
                }
                Some(blob) => {
                    if let Err(message) = &*self.config(blob)? {
                        let message = message.clone();
                        self.violation(ctx, path, Rule::Parse, message);
                    }
                }
            }
        }
        if inherited {
            return Ok(());
        }
        // No config before this commit: this is the bootstrap.
        if let Some(config) = &ctx.config {
            if let Err(e) = policy::check_admin(config, ctx.author) {
                self.violation(
                    ctx,
                    path,
                    Rule::ConfigNotAdmin,
                    format!("changed by {}: {}", ctx.author, e.message()),
                );
            }
        }
        Ok(())
    }

    fn check_path(&mut self, ctx: &Ctx<'_>, path: &str, t: &Ticket) {
        let expected = t.path();
        if path != expected {
            self.violation(
                ctx,
                path,
                Rule::WrongPath,
                format!(
                    "holds {} created {}; it belongs at {expected}",
                    t.id(),
                    t.metadata.created_at.format("%Y-%m-%d")
                ),
            );
        }
    }

    fn check_duplicate(&mut self, ctx: &Ctx<'_>, path: &str, t: &Ticket) -> Result<()> {
        let id = t.id();
        let mut years = vec![id.year, t.metadata.created_at.year()];
        years.dedup();
        for year in years {
            let dir = format!("{REQUESTS_ROOT}/{year:04}");
            for month in self.dirs_at(ctx.new, &dir)? {
                let other = format!("{dir}/{month}/{id}.yaml");
                if other != path && self.blob_at(ctx.new, &other)?.is_some() {
                    self.violation(
                        ctx,
                        path,
                        Rule::DuplicateId,
                        format!("{id} is also {other}"),
                    );
                }
            }
        }
        Ok(())
    }

    /// The commit's author must be the entry's actor, at the entry's time.
    fn check_actor(&mut self, ctx: &Ctx<'_>, path: &str, e: &HistoryEntry) {
        if !same_email(&e.by, ctx.author) {
            self.violation(
                ctx,
                path,
                Rule::AuthorMismatch,
                format!(
                    "the `{}` entry is by {}, but the commit's author is {}",
                    e.action, e.by, ctx.author
                ),
            );
        }
        if let Some(at) = ctx.author_time {
            if e.at != at {
                self.violation(
                    ctx,
                    path,
                    Rule::TimeMismatch,
                    format!(
                        "the `{}` entry is at {}, but the commit was authored at {}",
                        e.action,
                        e.at.to_rfc3339(),
                        at.to_rfc3339()
                    ),
                );
            }
        }
    }

    /// A new ID is the next free one of its year (an import: one never
    /// used); either way it is used from now on.
    fn check_id(&mut self, ctx: &Ctx<'_>, path: &str, id: RequestId, import: bool) {
        let max = self.ids.max.get(&id.year).copied().unwrap_or(0);
        let expected = self.ids.next(id.year, &|_| Ok(false)).ok();
        let fine = if import {
            !self.ids.used(id)
        } else {
            expected == Some(id)
        };
        if fine || ctx.waived {
            if id.number > max {
                self.ids.max.insert(id.year, id.number);
            }
            return;
        }
        let message = if import {
            format!("imports {id}, an ID this branch has used before; IDs are never reused")
        } else {
            match expected {
                Some(next) => format!(
                    "creates {id}, but the next free ID was {next}; IDs are never reused or skipped"
                ),
                None => format!("creates {id}, but no IDs are left in {}", id.year),
            }
        };
        self.violation(ctx, path, Rule::IdNotNext, message);
        self.ids.taken.insert(id);
    }

    /// A ticket brought from another system (`ipr import`): taken as it
    /// is, from an admin, for a tenant the config knows.
    fn imported(&mut self, ctx: &Ctx<'_>, path: &str, t: &Ticket) -> Result<()> {
        let Some(config) = ctx.config.clone() else {
            return self.no_config(ctx, path);
        };
        if let Err(e) = policy::check_admin(&config, ctx.author) {
            self.violation(
                ctx,
                path,
                Rule::ImportNotAdmin,
                format!("imported by {}: {}", ctx.author, e.message()),
            );
        }
        if !config.tenants.contains(&t.metadata.tenant) {
            self.violation(
                ctx,
                path,
                Rule::Validation,
                format!(
                    "imports a request of tenant `{}`, which is not in .ipr/config.yaml",
                    t.metadata.tenant
                ),
            );
        }
        Ok(())
    }

    fn created(&mut self, ctx: &Ctx<'_>, path: &str, blob: Oid, inherited: bool) -> Result<()> {
        let parsed = self.ticket(blob, path)?;
        let t = match &*parsed {
            Ok(t) => t,
            Err(message) => {
                self.violation(ctx, path, Rule::Parse, message.clone());
                return Ok(());
            }
        };
        // Two lines of history may each have created this ID.
        self.check_duplicate(ctx, path, t)?;
        if inherited {
            return Ok(());
        }
        self.check_path(ctx, path, t);
        let import = ctx.action == Some("import");
        self.check_id(ctx, path, t.id(), import);
        if import {
            return self.imported(ctx, path, t);
        }
        let history = &t.status.history;
        if history.len() != 1 || history[0].action != Action::Created {
            let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
            self.violation(
                ctx,
                path,
                Rule::IllegalTransition,
                format!(
                    "a new request has exactly one history entry, `created`; this one has [{}]",
                    actions.join(", ")
                ),
            );
            return Ok(());
        }
        let entry = &history[0];
        self.check_actor(ctx, path, entry);
        let Some(config) = ctx.config.clone() else {
            return self.no_config(ctx, path);
        };
        let rebuilt = workflow::create(
            t.spec.clone(),
            t.id(),
            &t.metadata.tenant,
            &entry.by,
            &config,
            entry.at,
        );
        let expected = match rebuilt {
            Ok(x) => x,
            Err(e) => {
                let rule = rule_of(&e, Rule::Validation);
                self.violation(ctx, path, rule, e.message());
                return Ok(());
            }
        };
        let mut problems = Vec::new();
        if t.api_version != expected.api_version {
            problems.push(format!(
                "apiVersion is {}, new requests get {} from the config",
                t.api_version, expected.api_version
            ));
        }
        problems.extend(differences(
            "metadata",
            &expected.metadata,
            &t.metadata,
            "the created entry gives",
        ));
        if t.id().year != t.metadata.created_at.year() {
            problems.push(format!(
                "{} was created in {}, so its ID must be of that year",
                t.id(),
                t.metadata.created_at.year()
            ));
        }
        if !problems.is_empty() {
            self.violation(ctx, path, Rule::CreateMismatch, problems.join("; "));
        }
        let status = differences("status", &expected.status, &t.status, "`create` gives");
        if !status.is_empty() {
            self.violation(ctx, path, Rule::StatusMismatch, status.join("; "));
        }
        Ok(())
    }

    fn changed(
        &mut self,
        ctx: &Ctx<'_>,
        path: &str,
        old: Oid,
        new: Oid,
        inherited: bool,
    ) -> Result<()> {
        let new_parsed = self.ticket(new, path)?;
        let new_t = match &*new_parsed {
            Ok(t) => t,
            Err(message) => {
                self.violation(ctx, path, Rule::Parse, message.clone());
                return Ok(());
            }
        };
        let old_parsed = self.ticket(old, path)?;
        if ctx.others.is_empty() {
            // Linear history never needs this version again.
            self.tickets.remove(&old);
        }
        let Ok(old_t) = &*old_parsed else {
            self.violation(
                ctx,
                path,
                Rule::IllegalTransition,
                "the previous version does not parse, so this change cannot be checked",
            );
            return Ok(());
        };
        if !inherited {
            self.check_path(ctx, path, new_t);
            let mut meta = Vec::new();
            if old_t.api_version != new_t.api_version {
                meta.push(format!(
                    "apiVersion: {} (was {})",
                    new_t.api_version, old_t.api_version
                ));
            }
            if old_t.kind != new_t.kind {
                meta.push(format!("kind: {} (was {})", new_t.kind, old_t.kind));
            }
            meta.extend(differences(
                "metadata",
                &old_t.metadata,
                &new_t.metadata,
                "was",
            ));
            if !meta.is_empty() {
                self.violation(ctx, path, Rule::MetadataChanged, meta.join("; "));
            }
            let spec = differences("spec", &old_t.spec, &new_t.spec, "was");
            if !spec.is_empty() {
                self.violation(ctx, path, Rule::SpecChanged, spec.join("; "));
            }
        }
        let (oh, nh) = (&old_t.status.history, &new_t.status.history);
        if nh.len() < oh.len() || nh[..oh.len()] != oh[..] {
            let (rule, message) = if inherited {
                (
                    Rule::MergeConflict,
                    "the merge keeps another parent's version, which does not extend this \
                     parent's history (concurrent changes to one request: redo one of them \
                     on top of the other instead of merging)"
                        .to_string(),
                )
            } else {
                let n = oh
                    .iter()
                    .zip(nh.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(nh.len().min(oh.len()));
                let e = &oh[n];
                (
                    Rule::HistoryRewritten,
                    format!(
                        "history entry {} (`{}` by {} at {}) was changed or removed",
                        n + 1,
                        e.action,
                        e.by,
                        e.at.to_rfc3339()
                    ),
                )
            };
            self.violation(ctx, path, rule, message);
            return Ok(());
        }
        if inherited {
            // Taken from another parent, where it was checked; it extends
            // this parent's version, which is all a merge may do.
            return Ok(());
        }
        let appended = &nh[oh.len()..];
        if appended.is_empty() {
            let status = differences("status", &old_t.status, &new_t.status, "was");
            if !status.is_empty() {
                self.violation(
                    ctx,
                    path,
                    Rule::StatusMismatch,
                    format!("changed without a history entry: {}", status.join("; ")),
                );
            }
            return Ok(());
        }
        if appended.len() > 1 {
            let actions: Vec<&str> = appended.iter().map(|e| e.action.as_str()).collect();
            self.violation(
                ctx,
                path,
                Rule::MultipleTransitions,
                format!(
                    "appends {} history entries [{}]; each transition is its own commit",
                    appended.len(),
                    actions.join(", ")
                ),
            );
        }
        let Some(config) = ctx.config.clone() else {
            return self.no_config(ctx, path);
        };
        let mut cur = old_t.clone();
        let mut last = None;
        for e in appended {
            self.check_actor(ctx, path, e);
            let Some(t) = Transition::from_entry(e) else {
                self.violation(
                    ctx,
                    path,
                    Rule::IllegalTransition,
                    "a `created` entry can only start a history",
                );
                return Ok(());
            };
            match workflow::apply(&cur, &t, &e.by, &config, e.at) {
                Ok(next) => cur = next,
                Err(err) => {
                    let rule = rule_of(&err, Rule::IllegalTransition);
                    self.violation(ctx, path, rule, format!("{}: {}", e.by, err.message()));
                    return Ok(());
                }
            }
            last = Some(t);
        }
        let t = last.expect("at least one entry was appended");
        self.compare(ctx, path, &config, &cur, new_t, &t);
        Ok(())
    }

    /// Compare the replayed ticket with the committed one.
    fn compare(
        &mut self,
        ctx: &Ctx<'_>,
        path: &str,
        config: &Config,
        expected: &Ticket,
        actual: &Ticket,
        t: &Transition,
    ) {
        let (x, a) = (&expected.status, &actual.status);
        if x == a {
            return;
        }
        let (xe, ae) = (expected.last_entry(), actual.last_entry());
        let mut skip: Vec<String> = Vec::new();
        if xe.digest != ae.digest {
            let n = a.history.len();
            skip.push(format!("status.history[{}].digest", n - 1));
            self.violation(
                ctx,
                path,
                Rule::DigestMismatch,
                format!(
                    "the `{}` entry has digest {}, but the spec it approves has {}",
                    ae.action,
                    ae.digest.as_deref().unwrap_or("null"),
                    xe.digest.as_deref().unwrap_or("null"),
                ),
            );
        }
        let is_approve = matches!(t, Transition::Approve { .. });
        if is_approve && a.state == crate::model::State::Approved && x.state != a.state {
            skip.extend(
                ["status.state", "status.approvedBy", "status.approvedAt"].map(String::from),
            );
            self.violation(
                ctx,
                path,
                Rule::Quorum,
                format!(
                    "approved with {} of the {} approvals a {} impact request needs",
                    expected.approvers().len(),
                    policy::required_approvals(config, expected),
                    expected.spec.request.impact_assessment
                ),
            );
        }
        let rest: Vec<String> = differences("status", x, a, &format!("`{}` gives", t.verb()))
            .into_iter()
            .filter(|d| !skip.iter().any(|s| d.starts_with(&format!("{s}:"))))
            .collect();
        if !rest.is_empty() {
            self.violation(ctx, path, Rule::StatusMismatch, rest.join("; "));
        }
    }

    fn no_config(&mut self, ctx: &Ctx<'_>, path: &str) -> Result<()> {
        self.violation(
            ctx,
            path,
            Rule::NoConfig,
            "the parent commit has no valid .ipr/config.yaml, so nobody may change tickets",
        );
        Ok(())
    }

    /// Check the collected signatures (in parallel: each is a process) and
    /// put the violations in history order.
    fn finish(mut self) -> Result<Report> {
        let jobs = std::mem::take(&mut self.jobs);
        if !jobs.is_empty() {
            let verifier = Verifier::from_config(self.store.repo())?;
            let dir = tempfile::tempdir()?;
            let mut files: HashMap<Oid, PathBuf> = HashMap::new();
            for job in &jobs {
                if let Some(blob) = job.allowed_signers {
                    if let std::collections::hash_map::Entry::Vacant(v) = files.entry(blob) {
                        let p = dir.path().join(format!("allowed_signers-{blob}"));
                        std::fs::write(&p, self.store.blob(blob)?)?;
                        v.insert(p);
                    }
                }
            }
            let statuses = check_signatures(&verifier, &jobs, &files)?;
            self.report.signatures = jobs.len();
            for (job, status) in jobs.iter().zip(statuses) {
                let (rule, message) = match status {
                    SignatureStatus::Good { .. } => continue,
                    SignatureStatus::Unsigned => (
                        Rule::Unsigned,
                        "not signed, and the parent's config has signing.required".to_string(),
                    ),
                    SignatureStatus::UnknownKey { key } => (
                        Rule::UntrustedSignature,
                        format!("signed with {key}; it is not trusted for {}", job.email),
                    ),
                    SignatureStatus::Bad { reason } => (Rule::BadSignature, reason),
                };
                self.found.push((
                    job.seq,
                    Violation {
                        commit: job.commit.clone(),
                        file: job.file.clone(),
                        rule,
                        message,
                    },
                ));
            }
        }
        self.found.sort_by_key(|(seq, _)| *seq);
        let mut seen = HashSet::new();
        self.report.violations = std::mem::take(&mut self.found)
            .into_iter()
            .map(|(_, v)| v)
            .filter(|v| seen.insert(v.clone()))
            .collect();
        let bad: HashSet<&str> = self
            .report
            .violations
            .iter()
            .map(|v| v.commit.as_str())
            .collect();
        self.report.granted = std::mem::take(&mut self.granted)
            .into_iter()
            .filter(|(c, _)| !bad.contains(c.as_str()))
            .flat_map(|(_, w)| w)
            .collect();
        self.waived.sort_by_key(|(seq, _)| *seq);
        self.report.waived = std::mem::take(&mut self.waived)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        if let Some(tip) = self.tip {
            let legit = self.legit_of(Some(tip))?;
            self.report.end = Some(State {
                legit: Legit {
                    config: legit.config_blob.map(|b| b.to_string()),
                    signers: legit.signers.map(|b| b.to_string()),
                },
                ids: std::mem::take(&mut self.ids),
            });
        }
        Ok(self.report)
    }
}

fn check_signatures(
    verifier: &Verifier,
    jobs: &[SigJob],
    files: &HashMap<Oid, PathBuf>,
) -> Result<Vec<SignatureStatus>> {
    let one = |job: &SigJob| -> Result<SignatureStatus> {
        let Some(signed) = &job.signed else {
            return Ok(SignatureStatus::Unsigned);
        };
        let allowed = job.allowed_signers.and_then(|b| files.get(&b));
        verifier.verify(
            &signed.signature,
            &signed.payload,
            &job.email,
            allowed.map(|p| p.as_path()),
            job.time,
        )
    };
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16)
        .min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Result<SignatureStatus>>> = (0..jobs.len()).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let r = one(job);
                slots.lock().expect("not poisoned")[i] = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

/// The rule a refusal of `workflow` or `policy` breaks.
fn rule_of(e: &Error, default: Rule) -> Rule {
    match e.refusal() {
        Some(Refusal::NoRole) => Rule::NoRole,
        Some(Refusal::SelfApproval) => Rule::SelfApproval,
        Some(Refusal::DuplicateApproval) => Rule::DuplicateApproval,
        Some(Refusal::IllegalTransition) => Rule::IllegalTransition,
        Some(Refusal::RejectReason) => Rule::RejectReason,
        None => match e.kind() {
            Kind::Permission => Rule::NotPermitted,
            Kind::Invalid => Rule::Validation,
            _ => default,
        },
    }
}

/// `key.path: actual (label expected)` for each leaf that differs.
fn differences<T: Serialize>(root: &str, expected: &T, actual: &T, label: &str) -> Vec<String> {
    let x = serde_json::to_value(expected).unwrap_or_default();
    let a = serde_json::to_value(actual).unwrap_or_default();
    let mut out = Vec::new();
    diff_values(root, &x, &a, label, &mut out);
    out
}

fn diff_values(
    at: &str,
    x: &serde_json::Value,
    a: &serde_json::Value,
    label: &str,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    if x == a {
        return;
    }
    match (x, a) {
        (Value::Object(xm), Value::Object(am)) => {
            let mut keys: Vec<&String> = xm.keys().chain(am.keys()).collect();
            keys.dedup();
            let mut seen = HashSet::new();
            for k in keys {
                if !seen.insert(k) {
                    continue;
                }
                let null = Value::Null;
                diff_values(
                    &format!("{at}.{k}"),
                    xm.get(k).unwrap_or(&null),
                    am.get(k).unwrap_or(&null),
                    label,
                    out,
                );
            }
        }
        (Value::Array(xs), Value::Array(as_)) if xs.len() == as_.len() => {
            for (i, (xv, av)) in xs.iter().zip(as_).enumerate() {
                diff_values(&format!("{at}[{i}]"), xv, av, label, out);
            }
        }
        _ => {
            let show = |v: &Value| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push(format!("{at}: {} ({label} {})", show(a), show(x)));
        }
    }
}

/// The line `ipr verify` prints for a violation.
pub fn line(v: &Violation) -> String {
    format!("{} {}: {}: {}", short(&v.commit), v.file, v.rule, v.message)
}

/// The trees of every parent but the `i`-th: a merge is checked against
/// each parent, and the others tell which side a change came from.
fn other_sides(trees: &[Option<Oid>], i: usize) -> Vec<Side> {
    trees
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .filter_map(|(_, t)| t.map(Side::Tree))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RequestId, Spec};

    fn spec() -> Spec {
        serde_yaml_ng::from_str(
            "target: {type: api, name: payment-api, version: '2.1.0', sourceEnvironment: staging, targetEnvironment: prod}
request: {justification: New PCI-DSS compliant payment flow, releaseNotes: null, impactAssessment: low, rollbackPlan: revert, scheduledDate: null}
preChecks: {stagingTestsPassed: true, securityScanPassed: true, performanceTestsPassed: true, testEvidenceUrl: 'https://ci.example.com/1'}",
        )
        .unwrap()
    }

    fn config() -> Config {
        Config::from_yaml(
            b"tenants: [fin]
users:
  dev@x.com: {role: devops, tenants: [fin]}
  ta@x.com: {role: tenant-admin, tenants: [fin]}
",
            "test",
        )
        .unwrap()
    }

    /// Replaying what `apply` wrote gives back the same transition, so
    /// verify re-runs exactly the action the CLI took.
    #[test]
    fn from_entry_inverts_apply() {
        let c = config();
        let now = Utc::now();
        let t =
            workflow::create(spec(), RequestId::new(2026, 1), "fin", "dev@x.com", &c, now).unwrap();
        let cases = [
            Transition::Approve {
                comment: Some("fine".into()),
            },
            Transition::Approve { comment: None },
            Transition::Reject {
                reason: "not before the freeze".into(),
            },
            Transition::Cancel {
                reason: Some("superseded".into()),
            },
        ];
        for tr in cases {
            let next = workflow::apply(&t, &tr, "ta@x.com", &c, now).unwrap();
            let back = Transition::from_entry(next.last_entry()).unwrap();
            assert_eq!(back, tr);
            let again = workflow::apply(&t, &back, "ta@x.com", &c, now).unwrap();
            assert_eq!(again, next);
        }
        let mut approved = workflow::apply(
            &t,
            &Transition::Approve { comment: None },
            "ta@x.com",
            &c,
            now,
        )
        .unwrap();
        for tr in [
            Transition::StartDeploy {
                runner: "shell".into(),
                job_id: Some("42".into()),
                break_glass: None,
            },
            Transition::Fail {
                job_id: Some("42".into()),
                error: "exit 1".into(),
            },
            Transition::StartDeploy {
                runner: "shell".into(),
                job_id: Some("43".into()),
                break_glass: Some("outage".into()),
            },
            Transition::Succeed {
                job_id: Some("43".into()),
                deployment_id: Some("d-1".into()),
            },
        ] {
            let next = workflow::apply(&approved, &tr, "dev@x.com", &c, now).unwrap();
            assert_eq!(Transition::from_entry(next.last_entry()).unwrap(), tr);
            approved = next;
        }
        assert_eq!(Transition::from_entry(&t.status.history[0]), None);
    }

    #[test]
    fn rule_ids_are_unique_kebab_case_and_documented() {
        let docs = include_str!("../docs/verify.md");
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

    #[test]
    fn refusals_map_to_their_rules() {
        let c = config();
        let now = Utc::now();
        let t =
            workflow::create(spec(), RequestId::new(2026, 1), "fin", "ta@x.com", &c, now).unwrap();
        let approve = Transition::Approve { comment: None };
        let own = workflow::apply(&t, &approve, "ta@x.com", &c, now).unwrap_err();
        assert_eq!(rule_of(&own, Rule::IllegalTransition), Rule::SelfApproval);
        let dev = workflow::apply(&t, &approve, "dev@x.com", &c, now).unwrap_err();
        assert_eq!(rule_of(&dev, Rule::IllegalTransition), Rule::NoRole);
        let short = Transition::Reject {
            reason: "no".into(),
        };
        let mut other = t.clone();
        other.metadata.created_by = "dev@x.com".into();
        let e = workflow::apply(&other, &short, "ta@x.com", &c, now).unwrap_err();
        assert_eq!(rule_of(&e, Rule::IllegalTransition), Rule::RejectReason);
    }
}
