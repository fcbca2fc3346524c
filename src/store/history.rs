//! Reading history, for `ipr verify` and `ipr log`: what a commit is
//! (author, times, signature), what each commit changed (a tree diff, so only changed
//! files are ever read), blobs by id, signatures, and the staged index.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use git2::{Delta, DiffOptions, FileMode, ObjectType, Oid};

use super::{Identity, Store};
use crate::error::{Error, Result};

/// A commit's signature and the payload it signs (the commit without its
/// `gpgsig` header), as `git verify-commit` checks them.
#[derive(Debug, Clone)]
pub struct Signed {
    pub signature: String,
    pub payload: String,
}

/// What `ipr verify` needs to know about a commit.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: Oid,
    pub tree: Oid,
    pub parents: Vec<Oid>,
    pub author: Identity,
    pub author_time: DateTime<Utc>,
    pub committer: Identity,
    pub committer_time: DateTime<Utc>,
    pub signed: Option<Signed>,
    /// The `Ipr-Action` trailer, if the commit has one.
    pub action: Option<String>,
    /// The `Ipr-Request` trailer, if the commit has one that is an ID.
    pub request: Option<crate::model::RequestId>,
    /// The `Ipr-Via` trailer: `server` for a commit `ipr serve` made.
    pub via: Option<String>,
}

impl CommitInfo {
    /// Made through `ipr serve` for its author: committed (and signed)
    /// by the server's identity, which vouches that it authenticated the
    /// author (SPEC §12).
    pub fn is_vouched(&self) -> bool {
        self.via.as_deref() == Some(super::VIA_SERVER)
            && !crate::model::same_email(&self.committer.email, &self.author.email)
    }

    /// Whose signature the commit must carry: the committer's when it is
    /// vouched for by `server` (the `server.identity` in force), else the
    /// author's.
    pub fn signer_email(&self, server: Option<&str>) -> &str {
        if self.is_vouched()
            && server.is_some_and(|s| crate::model::same_email(s, &self.committer.email))
        {
            &self.committer.email
        } else {
            &self.author.email
        }
    }
}

/// One file that differs between two states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDelta {
    pub path: String,
    /// Blob before; `None` when the file was added.
    pub old: Option<Oid>,
    /// Blob after; `None` when the file was deleted.
    pub new: Option<Oid>,
    /// The new entry is a regular file (not a symlink or submodule).
    pub new_is_file: bool,
}

/// The state changes are compared against: a commit's tree, or the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Tree(Oid),
    Index,
}

impl Store {
    /// The commit a revision (`main`, `HEAD~3`, an id) names.
    pub fn resolve(&self, rev: &str) -> Result<Oid> {
        let obj = self
            .repo
            .revparse_single(rev)
            .map_err(|e| Error::not_found(format!("unknown revision `{rev}`: {}", e.message())))?;
        let commit = obj
            .peel_to_commit()
            .map_err(|_| Error::not_found(format!("`{rev}` does not name a commit")))?;
        Ok(commit.id())
    }

    /// Author, times, parents, tree and signature of a commit.
    pub fn commit_details(&self, id: Oid) -> Result<CommitInfo> {
        let commit = self.repo.find_commit(id)?;
        let author = commit.author();
        let committer = commit.committer();
        let committer_when = committer.when();
        let time = |t: git2::Time| DateTime::from_timestamp(t.seconds(), 0).unwrap_or_default();
        let signed = match self.repo.extract_signature(&id, None) {
            Ok((sig, data)) => Some(Signed {
                signature: String::from_utf8_lossy(&sig).into_owned(),
                payload: String::from_utf8_lossy(&data).into_owned(),
            }),
            Err(e) if e.code() == git2::ErrorCode::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        Ok(CommitInfo {
            id,
            tree: commit.tree_id(),
            parents: commit.parent_ids().collect(),
            author: Identity {
                name: author.name().unwrap_or("").to_string(),
                email: author.email().unwrap_or("").to_string(),
            },
            author_time: time(author.when()),
            committer: Identity {
                name: committer.name().unwrap_or("").to_string(),
                email: committer.email().unwrap_or("").to_string(),
            },
            committer_time: time(committer_when),
            signed,
            action: super::action_trailer(commit.message().unwrap_or("")),
            request: super::trailer(commit.message().unwrap_or(""), super::TRAILER_REQUEST)
                .and_then(|r| r.parse().ok()),
            via: super::trailer(commit.message().unwrap_or(""), super::TRAILER_VIA),
        })
    }

    /// The commit HEAD points at, detached or not; `None` on an unborn branch.
    pub fn head_commit(&self) -> Result<Option<Oid>> {
        match self.repo.head() {
            Ok(h) => Ok(Some(h.peel_to_commit()?.id())),
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The tree of a commit.
    pub fn tree_id(&self, commit: Oid) -> Result<Oid> {
        Ok(self.repo.find_commit(commit)?.tree_id())
    }

    /// The first parent of a commit, if it has one.
    pub fn first_parent(&self, commit: Oid) -> Result<Option<Oid>> {
        Ok(self.repo.find_commit(commit)?.parent_ids().next())
    }

    /// Files that differ from `old` (a tree; `None` = empty) to `new`.
    /// Only subtrees whose ids differ are descended into.
    pub fn diff(&self, old: Option<Oid>, new: Side) -> Result<Vec<FileDelta>> {
        let old = old.map(|t| self.repo.find_tree(t)).transpose()?;
        let mut opts = DiffOptions::new();
        opts.skip_binary_check(true).include_typechange(true);
        let diff = match new {
            Side::Tree(t) => {
                let new = self.repo.find_tree(t)?;
                self.repo
                    .diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut opts))?
            }
            Side::Index => {
                let index = self.repo.index()?;
                self.repo
                    .diff_tree_to_index(old.as_ref(), Some(&index), Some(&mut opts))?
            }
        };
        let mut out = Vec::new();
        for d in diff.deltas() {
            let path = |f: &git2::DiffFile<'_>| {
                f.path()
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default()
            };
            let present = |f: &git2::DiffFile<'_>| !f.id().is_zero();
            let (old_f, new_f) = (d.old_file(), d.new_file());
            let blob = |f: &git2::DiffFile<'_>| {
                matches!(
                    f.mode(),
                    FileMode::Blob | FileMode::BlobExecutable | FileMode::BlobGroupWritable
                )
            };
            match d.status() {
                Delta::Added
                | Delta::Deleted
                | Delta::Modified
                | Delta::Typechange
                | Delta::Renamed
                | Delta::Copied => {}
                _ => continue,
            }
            let p = if present(&new_f) {
                path(&new_f)
            } else {
                path(&old_f)
            };
            out.push(FileDelta {
                path: p,
                old: present(&old_f).then(|| old_f.id()),
                new: present(&new_f).then(|| new_f.id()),
                new_is_file: blob(&new_f),
            });
        }
        Ok(out)
    }

    /// The content of a blob.
    pub fn blob(&self, id: Oid) -> Result<Vec<u8>> {
        Ok(self.repo.find_blob(id)?.content().to_vec())
    }

    /// The blob at `path` in a tree or the index, if there is one.
    pub fn blob_at(&self, side: Side, path: &str) -> Result<Option<Oid>> {
        match side {
            Side::Tree(t) => {
                let tree = self.repo.find_tree(t)?;
                match tree.get_path(Path::new(path)) {
                    Ok(e) if e.kind() == Some(ObjectType::Blob) => Ok(Some(e.id())),
                    Ok(_) => Ok(None),
                    Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
                    Err(e) => Err(e.into()),
                }
            }
            Side::Index => Ok(self
                .repo
                .index()?
                .get_path(Path::new(path), 0)
                .map(|e| e.id)),
        }
    }

    /// Names of the directories directly under `dir` in a tree or the index.
    pub fn dirs_at(&self, side: Side, dir: &str) -> Result<Vec<String>> {
        match side {
            Side::Tree(t) => super::subtrees(&self.repo, &self.repo.find_tree(t)?, dir),
            Side::Index => {
                let prefix = format!("{dir}/");
                let mut names: Vec<String> = self
                    .repo
                    .index()?
                    .iter()
                    .filter_map(|e| {
                        let p = String::from_utf8_lossy(&e.path).into_owned();
                        let rest = p.strip_prefix(&prefix)?.to_string();
                        let (name, _) = rest.split_once('/')?;
                        Some(name.to_string())
                    })
                    .collect();
                names.dedup();
                Ok(names)
            }
        }
    }

    /// The commits a merge in progress (`git merge` stopped for a commit)
    /// will add as further parents.
    pub fn merge_heads(&self) -> Result<Vec<Oid>> {
        let path = self.repo.path().join("MERGE_HEAD");
        match std::fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Oid::from_str(l.trim()).map_err(Error::from))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::other(format!("{}: {e}", path.display()))),
        }
    }

    /// Where git runs hooks from: `core.hooksPath`, else `.git/hooks` of
    /// the main repository (shared by its worktrees).
    pub fn hooks_dir(&self) -> Result<PathBuf> {
        let cfg = self.repo.config()?;
        if let Ok(p) = cfg.get_path("core.hooksPath") {
            if p.is_absolute() {
                return Ok(p);
            }
            let base = self.repo.workdir().unwrap_or_else(|| self.repo.path());
            return Ok(base.join(p));
        }
        Ok(self.repo.commondir().join("hooks"))
    }
}

/// One entry of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub name: String,
    pub id: Oid,
    /// 0o040000 tree, 0o100644/0o100755 file, 0o120000 symlink, 0o160000 submodule.
    pub mode: i32,
}

impl TreeEntry {
    pub fn is_tree(&self) -> bool {
        self.mode == 0o040000
    }
    pub fn is_file(&self) -> bool {
        matches!(self.mode, 0o100644 | 0o100755 | 0o100664)
    }
}

/// Parsed trees by id, so a walk reads each tree object once: the tree a
/// commit writes is the tree its child diffs against.
#[derive(Debug, Default)]
pub struct TreeCache {
    trees: std::collections::HashMap<Oid, std::rc::Rc<[TreeEntry]>>,
}

/// Trees kept before the cache starts over (a walk touches about ten per
/// commit, and a month of tickets is one tree).
const TREE_CACHE_LIMIT: usize = 1024;

impl Store {
    /// The entries of a tree, sorted by name.
    pub fn tree_entries(&self, cache: &mut TreeCache, id: Oid) -> Result<std::rc::Rc<[TreeEntry]>> {
        if let Some(t) = cache.trees.get(&id) {
            return Ok(t.clone());
        }
        let tree = self.repo.find_tree(id)?;
        let mut entries: Vec<TreeEntry> = tree
            .iter()
            .map(|e| TreeEntry {
                name: String::from_utf8_lossy(e.name_bytes()).into_owned(),
                id: e.id(),
                mode: e.filemode(),
            })
            .collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let entries: std::rc::Rc<[TreeEntry]> = entries.into();
        if cache.trees.len() >= TREE_CACHE_LIMIT {
            cache.trees.clear();
        }
        cache.trees.insert(id, entries.clone());
        Ok(entries)
    }

    /// The entry at `path` (`/`-separated) under the tree `root`.
    pub fn entry_at(
        &self,
        cache: &mut TreeCache,
        root: Oid,
        path: &str,
    ) -> Result<Option<TreeEntry>> {
        let mut tree = root;
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            let entries = self.tree_entries(cache, tree)?;
            let Ok(i) = entries.binary_search_by(|e| e.name.as_str().cmp(part)) else {
                return Ok(None);
            };
            let e = &entries[i];
            if parts.peek().is_none() {
                return Ok(Some(e.clone()));
            }
            if !e.is_tree() {
                return Ok(None);
            }
            tree = e.id;
        }
        Ok(None)
    }

    /// Files that differ between two root trees (`old` `None` = empty),
    /// under the directories `roots` only. Subtrees with equal ids are
    /// skipped without being read, and each tree is read once per walk.
    pub fn diff_trees(
        &self,
        cache: &mut TreeCache,
        old: Option<Oid>,
        new: Oid,
        roots: &[&str],
    ) -> Result<Vec<FileDelta>> {
        let mut out = Vec::new();
        for root in roots {
            let dir = |s: &Store, c: &mut TreeCache, t: Option<Oid>| -> Result<Option<Oid>> {
                match t {
                    Some(t) => Ok(s
                        .entry_at(c, t, root)?
                        .filter(|e| e.is_tree())
                        .map(|e| e.id)),
                    None => Ok(None),
                }
            };
            let (a, b) = (dir(self, cache, old)?, dir(self, cache, Some(new))?);
            self.diff_dirs(cache, root, a, b, &mut out)?;
        }
        Ok(out)
    }

    fn diff_dirs(
        &self,
        cache: &mut TreeCache,
        prefix: &str,
        old: Option<Oid>,
        new: Option<Oid>,
        out: &mut Vec<FileDelta>,
    ) -> Result<()> {
        if old == new {
            return Ok(());
        }
        let empty: std::rc::Rc<[TreeEntry]> = Vec::new().into();
        let a = match old {
            Some(t) => self.tree_entries(cache, t)?,
            None => empty.clone(),
        };
        let b = match new {
            Some(t) => self.tree_entries(cache, t)?,
            None => empty,
        };
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let order = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) => x.name.cmp(&y.name),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            let (x, y) = match order {
                std::cmp::Ordering::Less => (a.get(i), None),
                std::cmp::Ordering::Greater => (None, b.get(j)),
                std::cmp::Ordering::Equal => (a.get(i), b.get(j)),
            };
            if x.is_some() {
                i += 1;
            }
            if y.is_some() {
                j += 1;
            }
            if let (Some(x), Some(y)) = (x, y) {
                if x.id == y.id && x.mode == y.mode {
                    continue;
                }
            }
            let name = x.or(y).map(|e| e.name.as_str()).unwrap_or_default();
            let path = format!("{prefix}/{name}");
            let sub = |e: Option<&TreeEntry>| e.filter(|e| e.is_tree()).map(|e| e.id);
            fn leaf(e: Option<&TreeEntry>) -> Option<&TreeEntry> {
                e.filter(|e| !e.is_tree())
            }
            let (xt, yt) = (sub(x), sub(y));
            if xt.is_some() || yt.is_some() {
                self.diff_dirs(cache, &path, xt, yt, out)?;
            }
            let (xl, yl) = (leaf(x), leaf(y));
            if xl.is_some() || yl.is_some() {
                out.push(FileDelta {
                    path,
                    // Only a regular file has content to compare with.
                    old: xl.filter(|e| e.is_file()).map(|e| e.id),
                    new: yl.map(|e| e.id),
                    new_is_file: yl.is_some_and(|e| e.is_file()),
                });
            }
        }
        Ok(())
    }
}
