//! The history walk: commit by commit, each against each of its parents,
//! keeping the legitimate `.ipr/` files and the IDs used as it goes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use chrono::{DateTime, Utc};
use git2::Oid;
use serde::{Deserialize, Serialize};

use super::rules::{Report, Rule, Violation, STAGED};
use super::signatures::SigJob;
use crate::config::{Config, ALLOWED_SIGNERS_PATH, CONFIG_PATH};
use crate::error::{Error, Result};
use crate::model::{same_email, RequestId, Ticket};
use crate::policy;
use crate::store::history::{FileDelta, Side, TreeCache};
use crate::store::{Store, REQUESTS_ROOT};
use crate::waiver::{Waivers, WAIVERS_PATH};

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

pub(super) type Parsed<T> = Rc<std::result::Result<T, String>>;

/// One commit (or the index) against one of its parents.
pub(super) struct Ctx<'a> {
    pub(super) commit: &'a str,
    pub(super) author: &'a str,
    pub(super) author_time: Option<DateTime<Utc>>,
    /// The commit's `Ipr-Action` trailer.
    pub(super) action: Option<&'a str>,
    /// An admin waived this commit's violations.
    pub(super) waived: bool,
    pub(super) new: Side,
    /// The legitimate config of the parent; `None` before the first config.
    pub(super) config: Option<Rc<Config>>,
    /// Trees of the other parents of a merge.
    pub(super) others: &'a [Side],
}

/// The legitimate `.ipr/` files after a commit (see [`Legit`]).
#[derive(Clone, Default)]
struct LegitFiles {
    config_blob: Option<Oid>,
    config: Option<Rc<Config>>,
    signers: Option<Oid>,
}

pub(super) struct Engine<'s> {
    pub(super) store: &'s Store,
    /// The legitimate `.ipr/` files after each commit walked.
    legit: HashMap<Oid, Rc<LegitFiles>>,
    config_blobs: HashMap<Oid, Parsed<Rc<Config>>>,
    pub(super) tickets: HashMap<Oid, Parsed<Ticket>>,
    trees: TreeCache,
    seq: usize,
    pub(super) found: Vec<(usize, Violation)>,
    pub(super) jobs: Vec<SigJob>,
    pub(super) report: Report,
    pub(super) ids: Ids,
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

fn oid_of(s: &Option<String>) -> Result<Option<Oid>> {
    s.as_deref()
        .map(|s| Oid::from_str(s).map_err(|e| Error::other(format!("bad object id `{s}`: {e}"))))
        .transpose()
}

impl<'s> Engine<'s> {
    pub(super) fn new(store: &'s Store, waivers: HashSet<Oid>) -> Self {
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

    pub(super) fn violation(
        &mut self,
        ctx: &Ctx<'_>,
        file: &str,
        rule: Rule,
        message: impl Into<String>,
    ) {
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

    pub(super) fn history(&mut self, tip: Oid, start: Option<Start>) -> Result<()> {
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
            // The server identity and allowed signers in force at the
            // first parent: who may commit for someone else (SPEC §12).
            let mut vouching: Option<(Option<String>, Option<Oid>)> = None;
            let mut vouched_by: Option<String> = None;
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
                if vouching.is_none() {
                    let server = legit
                        .config
                        .as_ref()
                        .and_then(|c| c.server.as_ref())
                        .and_then(|s| s.identity.clone());
                    vouching = Some((server, legit.signers));
                }
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
                    let (server, signers) = vouching.clone().unwrap_or((None, None));
                    let by_server = info.is_vouched()
                        && server
                            .as_deref()
                            .is_some_and(|s| same_email(s, &info.committer.email));
                    if by_server && !file.starts_with(".ipr/") {
                        // The server vouches for the author with its own
                        // signature, whatever signing.required says.
                        needs_signature = Some((signers, file.clone()));
                        vouched_by = server;
                    } else {
                        self.found.push((
                            seq,
                            Violation {
                                commit: label.clone(),
                                file: file.clone(),
                                rule: Rule::CommitterMismatch,
                                message: format!(
                                    "authored by {} but committed by {}; each person commits their own actions (only server.identity may commit for someone, through ipr serve, signed, and never a change of .ipr/)",
                                    info.author.email, info.committer.email
                                ),
                            },
                        ));
                    }
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
                    email: info.signer_email(vouched_by.as_deref()).to_string(),
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
        // Only a commit that writes a file can make it legitimate: one that
        // merely carries an unauthorized version forward never does.
        let (parent_config, parent_signers) = match trees[0] {
            Some(t) => (
                self.blob_at(Side::Tree(t), CONFIG_PATH)?,
                self.blob_at(Side::Tree(t), ALLOWED_SIGNERS_PATH)?,
            ),
            None => (None, None),
        };
        let mut next = (*base).clone();
        if config_blob != base.config_blob {
            if let Some(side) = sides.iter().find(|l| l.config_blob == config_blob) {
                next.config_blob = side.config_blob;
                next.config = side.config.clone();
            } else if let (Some(blob), false, true) = (
                config_blob,
                bad.contains(CONFIG_PATH),
                config_blob != parent_config,
            ) {
                if let Ok(config) = &*self.config(blob)? {
                    next.config_blob = Some(blob);
                    next.config = Some(config.clone());
                }
            }
        }
        if signers != base.signers
            && (sides.iter().any(|l| l.signers == signers)
                || (!bad.contains(ALLOWED_SIGNERS_PATH) && signers != parent_signers))
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

    pub(super) fn staged(&mut self) -> Result<()> {
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
    pub(super) fn blob_at(&mut self, side: Side, path: &str) -> Result<Option<Oid>> {
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
    pub(super) fn dirs_at(&mut self, side: Side, dir: &str) -> Result<Vec<String>> {
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

    pub(super) fn ticket(&mut self, blob: Oid, path: &str) -> Result<Parsed<Ticket>> {
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

    /// Check the collected signatures (in parallel: each is a process) and
    /// put the violations in history order.
    pub(super) fn finish(mut self) -> Result<Report> {
        self.check_collected_signatures()?;
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
