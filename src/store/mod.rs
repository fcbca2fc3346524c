//! Tickets and config in git, read and written through git2.
//!
//! Reads come from the committed tree of the current branch, never from the
//! working tree, so what ipr acts on is what history records. Each write is
//! one commit that touches one file, built by re-writing only the trees on
//! that file's path, and the branch moves only if it still points where the
//! action started (compare-and-swap); the file in the working tree and its
//! index entry are then brought in line with the new commit.

mod allowed_signers;
pub mod cache;
pub mod history;
mod landing;
pub mod remote;
pub mod signing;

use std::fs;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use git2::{ObjectType, Repository, Tree};

use crate::config::{Config, CONFIG_PATH};
use crate::error::{Error, Remedy, Result};
use crate::model::{RequestId, Ticket};

pub use git2::Oid;
pub use signing::SignMode;

/// Root of all tickets inside the gitops repo.
pub const REQUESTS_ROOT: &str = "requests/prod";

/// Trailer keys of every ipr commit.
pub const TRAILER_ACTION: &str = "Ipr-Action";
pub const TRAILER_REQUEST: &str = "Ipr-Request";
pub const TRAILER_ACTOR: &str = "Ipr-Actor";
pub const TRAILER_VIA: &str = "Ipr-Via";
/// The `Ipr-Via` of commits `ipr serve` makes.
pub const VIA_SERVER: &str = "server";
/// The Slack user a server commit acted for (SPEC §13), beside `Ipr-Via`.
pub const TRAILER_SLACK_USER: &str = "Ipr-Slack-User";

/// Who is acting: a name and an email (git config `user.name` /
/// `user.email` in the CLI, the authenticated user in a server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

/// A gitops repository.
pub struct Store {
    repo: Repository,
}

/// One file change to commit.
pub struct Change<'a> {
    /// The commit the change was computed from; the branch must still be here.
    pub parent: Option<Oid>,
    /// Path inside the repo, `/`-separated.
    pub path: &'a str,
    pub content: &'a [u8],
    /// Verb for the subject and the `Ipr-Action` trailer.
    pub action: &'a str,
    /// What the change is about: a request ID, or `config`.
    pub subject: &'a str,
    pub actor: &'a Identity,
    pub time: DateTime<Utc>,
    /// The key that signs the commit; `None`: unsigned.
    pub signer: Option<&'a signing::Signer>,
    /// The front end that made it when not the actor's own ipr
    /// (`server`): the `Ipr-Via` trailer.
    pub via: Option<&'a str>,
    /// The Slack user id the server acted for (`Ipr-Slack-User`), when
    /// the action came from Slack.
    pub slack_user: Option<&'a str>,
    /// Who commits it when not the actor: the server's identity, which
    /// vouches for the author with its signature.
    pub committer: Option<&'a Identity>,
}

/// A ticket file found in a tree.
pub struct TicketFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl Store {
    /// Open the repository at `path`, or discover it from the current
    /// directory like git does.
    pub fn open(path: Option<&Path>) -> Result<Store> {
        let start = match path {
            Some(p) => p.to_path_buf(),
            None => std::env::current_dir()?,
        };
        if !start.exists() {
            return Err(Error::not_found(format!(
                "{}: no such directory",
                start.display()
            )));
        }
        // Without -C, open like git does: GIT_DIR, GIT_INDEX_FILE and
        // GIT_OBJECT_DIRECTORY are honoured, which hooks rely on (a
        // pre-receive hook sees pushed objects only through them).
        let opened = match path {
            None => Repository::open_from_env(),
            Some(_) => Repository::discover(&start),
        };
        let repo = opened.map_err(|_| {
            Error::not_found(format!(
                "not a git repository (or any parent up to /): {}",
                start.display()
            ))
            .with_remedy(Remedy::OpenRepo)
        })?;
        let store = Store { repo };
        store.recover()?;
        Ok(store)
    }

    /// Create a repository at `dir` whose first branch is `branch`.
    pub fn init(dir: &Path, branch: &str) -> Result<Store> {
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head(branch);
        let repo = Repository::init_opts(dir, &opts)?;
        Ok(Store { repo })
    }

    /// Set `user.name` and `user.email` in the repository's own git config.
    pub fn set_local_identity(&self, name: &str, email: &str) -> Result<()> {
        let mut cfg = self.repo.config()?.open_level(git2::ConfigLevel::Local)?;
        cfg.set_str("user.email", email)?;
        cfg.set_str("user.name", name)?;
        Ok(())
    }

    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// The working tree root, if the repository has one.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// Full name of the current branch (`refs/heads/main`).
    pub fn branch(&self) -> Result<String> {
        if self.repo.head_detached().unwrap_or(false) {
            return Err(Error::other("HEAD is detached; ipr commits to a branch")
                .with_hint("check out a branch first, e.g. `git switch main`"));
        }
        let head = self.repo.find_reference("HEAD")?;
        match head.symbolic_target().ok().flatten() {
            Some(name) => Ok(name.to_string()),
            None => Err(Error::other("HEAD does not name a branch")),
        }
    }

    /// The commit at the tip of the current branch; `None` on an unborn branch.
    pub fn head(&self) -> Result<Option<Oid>> {
        let branch = self.branch()?;
        match self.repo.refname_to_id(&branch) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Where the current branch syncs: `remote` if given, else the branch's
    /// upstream, else `fallback` (config `sync.remote`), else `origin`.
    pub fn upstream(
        &self,
        remote: Option<&str>,
        fallback: Option<&str>,
    ) -> Result<remote::Upstream> {
        let branch = self.branch()?;
        let short = branch
            .strip_prefix("refs/heads/")
            .unwrap_or(&branch)
            .to_string();
        let cfg = self.repo.config()?;
        let tracked = cfg.get_string(&format!("branch.{short}.remote")).ok();
        let merge = cfg
            .get_string(&format!("branch.{short}.merge"))
            .ok()
            .and_then(|m| m.strip_prefix("refs/heads/").map(str::to_string));
        let name = remote
            .map(str::to_string)
            .or_else(|| tracked.clone().filter(|r| r != "."))
            .or_else(|| fallback.map(str::to_string))
            .unwrap_or_else(|| "origin".to_string());
        if self.repo.find_remote(&name).is_err() {
            return Err(Error::not_found(format!("no git remote named `{name}`"))
                .with_hint("add one with `git remote add origin URL`, or pass --remote NAME"));
        }
        let branch = match (&tracked, merge) {
            (Some(t), Some(m)) if *t == name => m,
            _ => short,
        };
        Ok(remote::Upstream {
            remote: name,
            branch,
        })
    }

    /// Commits reachable from `tip` and from none of `hidden`, oldest first.
    pub fn commits_hiding(&self, tip: Oid, hidden: &[Oid]) -> Result<Vec<Oid>> {
        let mut walk = self.repo.revwalk()?;
        walk.push(tip)?;
        for h in hidden {
            walk.hide(*h)?;
        }
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
        walk.map(|r| r.map_err(Error::from)).collect()
    }

    /// Whether `commit` is a commit and `tip` or one of its ancestors.
    pub fn is_ancestor(&self, commit: Oid, tip: Oid) -> bool {
        self.repo.find_commit(commit).is_ok()
            && (commit == tip || self.repo.graph_descendant_of(tip, commit).unwrap_or(false))
    }

    /// The commit a reference (`refs/ipr/...`) points at, if it exists.
    pub fn reference(&self, name: &str) -> Result<Option<Oid>> {
        match self.repo.refname_to_id(name) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Point reference `name` at `oid` (creating it), with a reflog line.
    pub fn set_reference(&self, name: &str, oid: Oid, log: &str) -> Result<()> {
        self.repo.reference(name, oid, true, log)?;
        Ok(())
    }

    /// The URL of remote `name`, with any user name or password removed.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        let remote = self.repo.find_remote(name).ok()?;
        let url = remote.url().ok()?.to_string();
        match url::Url::parse(&url) {
            Ok(mut u) if u.scheme() != "file" => {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                Some(u.to_string())
            }
            _ => Some(url),
        }
    }

    /// Whether the repository has any git remote.
    pub fn has_remotes(&self) -> bool {
        self.repo.remotes().map(|r| !r.is_empty()).unwrap_or(false)
    }

    /// Commits reachable from `tip` but not from `base`, oldest first.
    pub fn commits_between(&self, base: Option<Oid>, tip: Oid) -> Result<Vec<Oid>> {
        let mut walk = self.repo.revwalk()?;
        walk.push(tip)?;
        if let Some(b) = base {
            walk.hide(b)?;
        }
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
        walk.map(|r| r.map_err(Error::from)).collect()
    }

    /// The merge base of two commits, if they share history.
    pub fn merge_base(&self, a: Oid, b: Oid) -> Result<Option<Oid>> {
        match self.repo.merge_base(a, b) {
            Ok(o) => Ok(Some(o)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Parents, author, time and `Ipr-Action` of a commit.
    pub fn commit_info(&self, oid: Oid) -> Result<(Vec<Oid>, FileCommit)> {
        let c = self.repo.find_commit(oid)?;
        Ok((c.parent_ids().collect(), self.describe_commit(&c)?))
    }

    /// The acting user from git config.
    pub fn identity(&self) -> Result<Identity> {
        let cfg = self.repo.config()?;
        let email = cfg
            .get_string("user.email")
            .ok()
            .filter(|s| !s.trim().is_empty());
        let Some(email) = email else {
            return Err(Error::not_found(
                "git config user.email is not set; ipr acts as that user",
            )
            .with_hint("git config user.email you@example.com"));
        };
        let name = cfg
            .get_string("user.name")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| email.clone());
        Ok(Identity {
            name,
            email: email.trim().to_string(),
        })
    }

    fn tree_at(&self, at: Option<Oid>) -> Result<Option<Tree<'_>>> {
        match at {
            None => Ok(None),
            Some(oid) => Ok(Some(self.repo.find_commit(oid)?.tree()?)),
        }
    }

    /// The bytes of a file in the commit `at`, if it has it.
    pub fn read(&self, at: Option<Oid>, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(tree) = self.tree_at(at)? else {
            return Ok(None);
        };
        read_in_tree(&self.repo, &tree, path)
    }

    /// The files directly under `dir` at `at` whose name ends with
    /// `suffix`, sorted by name (e.g. `.ipr/policies/*.rego`).
    pub fn files_in(&self, at: Option<Oid>, dir: &str, suffix: &str) -> Result<Vec<TicketFile>> {
        let Some(tree) = self.tree_at(at)? else {
            return Ok(Vec::new());
        };
        let Some(t) = subtree(&self.repo, &tree, dir)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for entry in t.iter() {
            let Ok(name) = entry.name() else { continue };
            if entry.kind() == Some(ObjectType::Blob) && name.ends_with(suffix) {
                out.push(TicketFile {
                    path: format!("{dir}/{name}"),
                    bytes: self.repo.find_blob(entry.id())?.content().to_vec(),
                });
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// `.ipr/config.yaml` as committed at `at`.
    pub fn config(&self, at: Option<Oid>) -> Result<Config> {
        match self.read(at, CONFIG_PATH)? {
            Some(bytes) => Config::from_yaml(&bytes, CONFIG_PATH),
            None => Err(Error::not_found(format!(
                "{CONFIG_PATH} is not committed on this branch; this is not an ipr gitops repo yet"
            ))
            .with_remedy(Remedy::Init)),
        }
    }

    /// The ticket with this ID at `at`.
    pub fn ticket(&self, at: Option<Oid>, id: RequestId) -> Result<Ticket> {
        let Some(tree) = self.tree_at(at)? else {
            return Err(not_found(id));
        };
        let year = format!("{REQUESTS_ROOT}/{:04}", id.year);
        let name = format!("{id}.yaml");
        for month in subtrees(&self.repo, &tree, &year)? {
            let path = format!("{year}/{month}/{name}");
            if let Some(bytes) = read_in_tree(&self.repo, &tree, &path)? {
                let ticket = Ticket::from_yaml(&bytes, &path)?;
                if ticket.id() != id {
                    return Err(Error::invalid(format!(
                        "{path}: metadata.id is {}, not {id}",
                        ticket.id()
                    )));
                }
                return Ok(ticket);
            }
        }
        Err(not_found(id))
    }

    /// Every ticket file at `at`, in path order (so by year, month, number).
    pub fn ticket_files(&self, at: Option<Oid>) -> Result<Vec<TicketFile>> {
        let Some(tree) = self.tree_at(at)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for year in subtrees(&self.repo, &tree, REQUESTS_ROOT)? {
            let ydir = format!("{REQUESTS_ROOT}/{year}");
            for month in subtrees(&self.repo, &tree, &ydir)? {
                let mdir = format!("{ydir}/{month}");
                let Some(t) = subtree(&self.repo, &tree, &mdir)? else {
                    continue;
                };
                for entry in t.iter() {
                    let Ok(name) = entry.name() else { continue };
                    if entry.kind() != Some(ObjectType::Blob) || !name.ends_with(".yaml") {
                        continue;
                    }
                    let blob = self.repo.find_blob(entry.id())?;
                    out.push(TicketFile {
                        path: format!("{mdir}/{name}"),
                        bytes: blob.content().to_vec(),
                    });
                }
            }
        }
        out.sort_by_key(|f| natural_key(&f.path));
        Ok(out)
    }

    /// The highest request number of each year among the ticket files at
    /// `at` (by file name; names that are not IDs are skipped).
    pub fn max_ids(&self, at: Option<Oid>) -> Result<std::collections::BTreeMap<i32, u32>> {
        let mut out = std::collections::BTreeMap::new();
        let Some(tree) = self.tree_at(at)? else {
            return Ok(out);
        };
        for year in subtrees(&self.repo, &tree, REQUESTS_ROOT)? {
            let Ok(y) = year.parse::<i32>() else { continue };
            let ydir = format!("{REQUESTS_ROOT}/{year}");
            for month in subtrees(&self.repo, &tree, &ydir)? {
                if let Some(t) = subtree(&self.repo, &tree, &format!("{ydir}/{month}"))? {
                    for entry in t.iter() {
                        let id = entry
                            .name()
                            .ok()
                            .and_then(|n| n.strip_suffix(".yaml"))
                            .and_then(|n| n.parse::<RequestId>().ok());
                        if let Some(id) = id.filter(|id| id.year == y) {
                            let m = out.entry(y).or_insert(0);
                            *m = id.number.max(*m);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether a ticket file of `id` exists at `at`, in any month folder of
    /// its year.
    pub fn id_exists(&self, at: Option<Oid>, id: RequestId) -> Result<bool> {
        let Some(tree) = self.tree_at(at)? else {
            return Ok(false);
        };
        let year = format!("{REQUESTS_ROOT}/{:04}", id.year);
        for month in subtrees(&self.repo, &tree, &year)? {
            if subtree(&self.repo, &tree, &format!("{year}/{month}"))?
                .is_some_and(|t| t.get_name(&format!("{id}.yaml")).is_some())
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Hold the repository's ipr lock for the life of the returned guard, so
    /// two ipr processes on one clone take turns (released if killed).
    pub fn lock(&self) -> Result<fs::File> {
        self.lock_named("ipr.lock")
    }

    /// The lock on `.git/<name>` if no other process holds it.
    pub fn try_lock_named(&self, name: &str) -> Result<Option<fs::File>> {
        let (path, file) = self.lock_file(name)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(Error::other(format!(
                "{}: cannot lock: {e}",
                path.display()
            ))),
        }
    }

    /// An exclusive lock on `.git/<name>`, held until the file is dropped;
    /// waits for another process that holds it.
    pub fn lock_named(&self, name: &str) -> Result<fs::File> {
        let (path, file) = self.lock_file(name)?;
        file.lock()
            .map_err(|e| Error::other(format!("{}: cannot lock: {e}", path.display())))?;
        Ok(file)
    }

    /// `.git/<name>`, opened (created if need be) to lock.
    fn lock_file(&self, name: &str) -> Result<(std::path::PathBuf, fs::File)> {
        let path = self.repo.path().join(name);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::other(format!("{}: {e}", path.display())))?;
        Ok((path, file))
    }

    /// Refuse to overwrite uncommitted edits to the file a change will write.
    ///
    /// Compared the way `git status` compares (through git's filters), so a
    /// checkout with `core.autocrlf` or `eol` attributes is clean. `at` is
    /// the commit the change was computed from: the branch tip, HEAD.
    pub fn check_clean(&self, path: &str, at: Option<Oid>) -> Result<()> {
        if self.repo.workdir().is_none() {
            return Ok(());
        }
        // (If the branch moved away from `at`, the compare-and-swap of the
        // landing refuses anyway.)
        let _ = at;
        let status = match self.repo.status_file(Path::new(path)) {
            Ok(s) => s,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let dirty = git2::Status::INDEX_NEW
            | git2::Status::INDEX_MODIFIED
            | git2::Status::INDEX_RENAMED
            | git2::Status::INDEX_TYPECHANGE
            | git2::Status::WT_NEW
            | git2::Status::WT_MODIFIED
            | git2::Status::WT_RENAMED
            | git2::Status::WT_TYPECHANGE
            | git2::Status::CONFLICTED;
        if !status.intersects(dirty) {
            return Ok(());
        }
        Err(Error::other(format!(
            "{path} has local changes that are not committed; ipr will not overwrite them"
        ))
        .with_hint(format!(
            "commit them, or discard them with `git restore --staged --worktree {path}`"
        )))
    }

    /// Make one commit that sets `change.path` to `change.content`, move the
    /// branch to it if it is still at `change.parent`, and update that file in
    /// the working tree and index.
    pub fn commit(&self, change: &Change<'_>) -> Result<Oid> {
        let oid = self.build_commit(change)?;
        self.land(
            change.parent,
            oid,
            &format!("ipr: {} {}", change.action, change.subject),
        )?;
        Ok(oid)
    }

    /// Write the commit object of `change` on top of `change.parent`
    /// (signed if asked), without moving any branch.
    pub fn build_commit(&self, change: &Change<'_>) -> Result<Oid> {
        check_repo_path(change.path)?;
        let parent = match change.parent {
            Some(oid) => Some(self.repo.find_commit(oid)?),
            None => None,
        };
        let base = match &parent {
            Some(c) => Some(c.tree()?),
            None => None,
        };
        let blob = self.repo.blob(change.content)?;
        let parts: Vec<&str> = change.path.split('/').collect();
        let tree_id = write_path(&self.repo, base.as_ref(), &parts, blob)?;
        let tree = self.repo.find_tree(tree_id)?;

        let when = git2::Time::new(change.time.timestamp(), 0);
        let sig = git2::Signature::new(&change.actor.name, &change.actor.email, &when)?;
        let by = change.committer.unwrap_or(change.actor);
        let committer_sig = git2::Signature::new(&by.name, &by.email, &when)?;
        let message = commit_message(
            change.action,
            change.subject,
            &change.actor.email,
            change.via,
            change.slack_user,
        );
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let buffer =
            self.repo
                .commit_create_buffer(&sig, &committer_sig, &message, &tree, &parents)?;
        let buffer = std::str::from_utf8(&buffer)
            .map_err(|_| Error::other("commit buffer is not UTF-8"))?
            .to_string();
        let committer = format!("{} <{}>", by.name, by.email);
        Ok(match change.signer {
            Some(signer) => {
                let signature = signer.sign(&buffer, &committer)?;
                self.repo.commit_signed(&buffer, &signature, None)?
            }
            None => self
                .repo
                .odb()?
                .write(ObjectType::Commit, buffer.as_bytes())?,
        })
    }

    /// Refuse (before anything changes) if moving from `old` to `new` would
    /// overwrite uncommitted edits; returns the paths that would change.
    pub fn check_landable(&self, old: Option<Oid>, new: Oid) -> Result<Vec<String>> {
        let changed = self.changed_paths(old, Some(new))?;
        for path in &changed {
            self.check_clean(path, old)?;
        }
        Ok(changed)
    }

    /// Paths whose blob differs between two commits (added, changed, removed).
    pub fn changed_paths(&self, from: Option<Oid>, to: Option<Oid>) -> Result<Vec<String>> {
        let a = self.tree_at(from)?;
        let b = self.tree_at(to)?;
        let diff = self.repo.diff_tree_to_tree(a.as_ref(), b.as_ref(), None)?;
        let mut out = Vec::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(p) = file.path().and_then(|p| p.to_str()) {
                    if !out.iter().any(|x: &String| x == p) {
                        out.push(p.to_string());
                    }
                }
            }
        }
        Ok(out)
    }
}

fn not_found(id: RequestId) -> Error {
    Error::not_found(format!("no request {id} on this branch")).with_remedy(Remedy::ListRequests)
}

/// The commit message of an ipr action, with its trailers. `subject` is a
/// request ID (which gets an `Ipr-Request` trailer) or a file path.
pub fn commit_message(
    action: &str,
    subject: &str,
    actor: &str,
    via: Option<&str>,
    slack_user: Option<&str>,
) -> String {
    let request = match subject.parse::<RequestId>() {
        Ok(id) => format!("{TRAILER_REQUEST}: {id}\n"),
        Err(_) => String::new(),
    };
    let via = match via {
        Some(v) => format!("{TRAILER_VIA}: {v}\n"),
        None => String::new(),
    };
    // An id goes into a trailer only as Slack spells ids: it cannot
    // break the line.
    let slack = match slack_user.filter(|u| crate::config::is_slack_user_id(u)) {
        Some(u) => format!("{TRAILER_SLACK_USER}: {u}\n"),
        None => String::new(),
    };
    format!("ipr: {action} {subject}\n\n{TRAILER_ACTION}: {action}\n{request}{TRAILER_ACTOR}: {actor}\n{via}{slack}")
}

/// The value of a commit message's `Ipr-Action` trailer.
pub fn action_trailer(message: &str) -> Option<String> {
    trailer(message, TRAILER_ACTION)
}

/// The value of the trailer `key` of a commit message.
pub fn trailer(message: &str, key: &str) -> Option<String> {
    message.lines().find_map(|l| {
        l.strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    })
}

/// Paths ipr writes are plain relative paths with no `.`/`..` parts.
fn check_repo_path(path: &str) -> Result<()> {
    let ok = !path.is_empty()
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != ".." && !p.contains('\\'));
    if ok && !path.starts_with(".git/") {
        Ok(())
    } else {
        Err(Error::invalid(format!("refusing to write path `{path}`")))
    }
}

fn subtree<'r>(repo: &'r Repository, tree: &Tree<'r>, path: &str) -> Result<Option<Tree<'r>>> {
    match tree.get_path(Path::new(path)) {
        Ok(entry) if entry.kind() == Some(ObjectType::Tree) => {
            Ok(Some(repo.find_tree(entry.id())?))
        }
        Ok(_) => Ok(None),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Names of the directories directly under `path`, sorted.
fn subtrees(repo: &Repository, tree: &Tree<'_>, path: &str) -> Result<Vec<String>> {
    let Some(t) = subtree(repo, tree, path)? else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = t
        .iter()
        .filter(|e| e.kind() == Some(ObjectType::Tree))
        .filter_map(|e| e.name().ok().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

fn read_in_tree(repo: &Repository, tree: &Tree<'_>, path: &str) -> Result<Option<Vec<u8>>> {
    match tree.get_path(Path::new(path)) {
        Ok(entry) if entry.kind() == Some(ObjectType::Blob) => {
            Ok(Some(repo.find_blob(entry.id())?.content().to_vec()))
        }
        Ok(_) => Ok(None),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Insert `blob` at `parts` under `base`, re-writing only the trees on the
/// path; returns the new root tree.
fn write_path(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    parts: &[&str],
    blob: Oid,
) -> Result<Oid> {
    let mut builder = repo.treebuilder(base)?;
    let (first, rest) = parts.split_first().expect("path has at least one part");
    if rest.is_empty() {
        builder.insert(first, blob, 0o100644)?;
    } else {
        let sub = match base.and_then(|t| t.get_name(first)) {
            Some(entry) if entry.kind() == Some(ObjectType::Tree) => {
                Some(repo.find_tree(entry.id())?)
            }
            Some(_) => {
                return Err(Error::other(format!(
                    "`{first}` is a file in the repository, expected a directory"
                )))
            }
            None => None,
        };
        let id = write_path(repo, sub.as_ref(), rest, blob)?;
        builder.insert(first, id, 0o040000)?;
    }
    Ok(builder.write()?)
}

/// Write through a temporary file in the same directory and rename, so a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, content: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(content)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| Error::other(format!("{}: {}", path.display(), e.error)))?;
    Ok(())
}

/// Sort key that orders PR-2026-9999 before PR-2026-10000.
fn natural_key(path: &str) -> (String, usize, String) {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    (dir.to_string(), name.len(), name.to_string())
}

/// One commit that changed a file.
#[derive(Debug, Clone)]
pub struct FileCommit {
    pub id: Oid,
    pub author: Identity,
    pub time: DateTime<Utc>,
    pub summary: String,
    /// The `Ipr-Action` trailer, if the commit has one.
    pub action: Option<String>,
    /// The signature and signed payload, if the commit is signed.
    pub signature: Option<(String, String)>,
}

impl Store {
    /// Commits reachable from `at` that changed `path`, newest first.
    pub fn file_history(&self, at: Option<Oid>, path: &str) -> Result<Vec<FileCommit>> {
        let Some(head) = at else {
            return Ok(Vec::new());
        };
        let mut walk = self.repo.revwalk()?;
        walk.push(head)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
        let entry_of = |tree: &Tree<'_>| tree.get_path(Path::new(path)).ok().map(|e| e.id());
        let mut out = Vec::new();
        for oid in walk {
            let commit = self.repo.find_commit(oid?)?;
            let mine = entry_of(&commit.tree()?);
            let before = match commit.parent(0) {
                Ok(p) => entry_of(&p.tree()?),
                Err(_) => None,
            };
            if mine == before {
                continue;
            }
            out.push(self.describe_commit(&commit)?);
        }
        Ok(out)
    }

    fn describe_commit(&self, commit: &git2::Commit<'_>) -> Result<FileCommit> {
        let author = commit.author();
        let action = action_trailer(commit.message().unwrap_or(""));
        let signature = self
            .repo
            .extract_signature(&commit.id(), None)
            .ok()
            .and_then(|(sig, data)| {
                Some((
                    std::str::from_utf8(&sig).ok()?.to_string(),
                    std::str::from_utf8(&data).ok()?.to_string(),
                ))
            });
        Ok(FileCommit {
            id: commit.id(),
            author: Identity {
                name: author.name().unwrap_or("").to_string(),
                email: author.email().unwrap_or("").to_string(),
            },
            time: DateTime::from_timestamp(author.when().seconds(), 0).unwrap_or_default(),
            summary: commit.summary().ok().flatten().unwrap_or("").to_string(),
            action,
            signature,
        })
    }
}
