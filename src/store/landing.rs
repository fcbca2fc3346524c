//! Moving the branch and bringing the work tree and index along, so that a
//! process killed at any moment leaves nothing a later plain `git commit`
//! could pick up by accident (SPEC §11).
//!
//! While ipr lands a commit it holds git's own `.git/index.lock`, so no git
//! command can write the index (or commit) meanwhile, and it keeps a journal
//! at `.git/ipr/landing.json` saying which commit it is landing. The branch
//! moves first (compare-and-swap); then the files are written through git's
//! filters (line endings, attributes) by a checkout that leaves the index
//! alone; then the index is rebuilt from a copy and renamed over
//! `index.lock`, which publishes it and releases the lock in one step.
//!
//! If ipr is killed on the way, `index.lock` stays (git refuses to commit
//! and says so) and the next ipr command finds the journal and finishes the
//! landing, or undoes the lock if the branch never moved. A lock without a
//! journal is git's own, and ipr names it with the command that clears it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::error::{Error, Remedy, Result};

/// What a landing in progress is doing.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    branch: String,
    old: Option<String>,
    new: String,
    paths: Vec<String>,
}

/// What ipr writes in the `index.lock` it holds while the branch moves.
const LOCK_MARKER: &[u8] = b"ipr: landing a commit (see .git/ipr/landing.json)\n";

/// Whether `index.lock` is one ipr took (or was taking when killed) and
/// never filled: empty, or holding the marker.
fn is_ipr_lock(path: &Path) -> bool {
    match fs::read(path) {
        Ok(b) => b.is_empty() || b.starts_with(LOCK_MARKER),
        Err(_) => false,
    }
}

/// `.git/index.lock`, created exclusively; removed on drop unless it was
/// renamed over the index.
struct IndexLock {
    path: PathBuf,
    released: bool,
}

impl IndexLock {
    fn acquire(git_dir: &Path) -> Result<IndexLock> {
        let path = git_dir.join("index.lock");
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                // Marked, so recovery only ever removes a lock of ipr's.
                let _ = f.write_all(LOCK_MARKER);
                Ok(IndexLock {
                    path,
                    released: false,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(stale_index_lock(&path)),
            Err(e) => Err(Error::other(format!("{}: {e}", path.display()))),
        }
    }

    /// Take over a lock a killed ipr left (the journal says it was ours).
    fn adopt(git_dir: &Path) -> Result<IndexLock> {
        let path = git_dir.join("index.lock");
        if !path.exists() {
            return IndexLock::acquire(git_dir);
        }
        Ok(IndexLock {
            path,
            released: false,
        })
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        if !self.released {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn stale_index_lock(path: &Path) -> Error {
    Error::conflict(format!(
        "{} exists: a git command is running in this repository, or one was killed",
        path.display()
    ))
    .with_hint(format!(
        "if no git command is running, remove it: rm {}",
        path.display()
    ))
}

impl Store {
    fn journal_path(&self) -> PathBuf {
        self.repo.path().join("ipr").join("landing.json")
    }

    fn scratch_dir(&self) -> PathBuf {
        self.repo.path().join("ipr").join("tmp")
    }

    /// Move the current branch from `old` to `new` (only if it is still at
    /// `old`), then bring every file that differs between the two into the
    /// working tree and index. Uncommitted edits to those files refuse the
    /// move before anything changes.
    pub fn land(&self, old: Option<Oid>, new: Oid, log: &str) -> Result<()> {
        let branch = self.branch()?;
        let changed = self.check_landable(old, new)?;
        let git_dir = self.repo.path().to_path_buf();
        let journal = Journal {
            branch: branch.clone(),
            old: old.map(|o| o.to_string()),
            new: new.to_string(),
            paths: changed.clone(),
        };
        let lock = match self.repo.workdir() {
            Some(_) => {
                // The journal first: whatever moment ipr dies at, the next
                // command knows what it was doing.
                let bytes =
                    serde_json::to_vec(&journal).map_err(|e| Error::other(e.to_string()))?;
                write_synced(&self.journal_path(), &bytes)?;
                match IndexLock::acquire(&git_dir) {
                    Ok(lock) => Some(lock),
                    Err(e) => {
                        let _ = fs::remove_file(self.journal_path());
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        let moved = match old {
            Some(old) => self.repo.reference_matching(&branch, new, true, old, log),
            None => self.repo.reference(&branch, new, false, log),
        };
        if let Err(e) = moved {
            let _ = fs::remove_file(self.journal_path());
            let ref_lock = git_dir.join(format!("{branch}.lock"));
            if e.code() == git2::ErrorCode::Locked || ref_lock.exists() {
                return Err(Error::conflict(format!(
                    "{} exists: a git command is moving {branch}, or one was killed; nothing was changed",
                    ref_lock.display()
                ))
                .with_hint(format!(
                    "if no git command is running, remove it: rm {}",
                    ref_lock.display()
                )));
            }
            return Err(Error::conflict(format!(
                "{branch} moved while this action was being made ({}); nothing was changed",
                e.message()
            ))
            .with_hint("run the command again"));
        }
        if let Some(mut lock) = lock {
            if let Err(e) = self.finish_landing(new, &changed, &mut lock) {
                // The branch moved but the index is behind: keep git locked
                // out until an ipr command finishes the landing.
                lock.released = true;
                return Err(e.with_remedy(Remedy::FinishLanding));
            }
            let _ = fs::remove_file(self.journal_path());
        }
        Ok(())
    }

    /// Finish or undo a landing that a killed ipr left half done. Runs at
    /// the start of every command; does nothing while another ipr process
    /// holds the repository lock (the landing is its own, in progress).
    pub fn recover(&self) -> Result<()> {
        let path = self.journal_path();
        if !path.exists() || self.repo.workdir().is_none() {
            return Ok(());
        }
        let Some(_guard) = self.try_lock()? else {
            return Ok(());
        };
        let journal: Option<Journal> = fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let git_dir = self.repo.path().to_path_buf();
        if let Some(j) = journal {
            // A branch lock left by the kill (libgit2 was moving it) is ours
            // too; the branch is at the old or the new commit either way.
            if j.branch.starts_with("refs/heads/") && !j.branch.contains("..") {
                let _ = fs::remove_file(git_dir.join(format!("{}.lock", j.branch)));
            }
            let tip = self.repo.refname_to_id(&j.branch).ok();
            let new = Oid::from_str(&j.new).ok();
            if let (Some(tip), true) = (tip, tip.is_some() && tip == new) {
                let mut lock = IndexLock::adopt(&git_dir)?;
                if let Err(e) = self.finish_landing(tip, &j.paths, &mut lock) {
                    lock.released = true;
                    return Err(e);
                }
            } else {
                // The branch never moved: at most the lock is left.
                let lock = git_dir.join("index.lock");
                if is_ipr_lock(&lock) {
                    let _ = fs::remove_file(lock);
                }
            }
        }
        let _ = fs::remove_dir_all(self.scratch_dir());
        fs::remove_file(&path).map_err(|e| Error::other(format!("{}: {e}", path.display())))?;
        Ok(())
    }

    /// Write `paths` as committed at `at` into the work tree (through git's
    /// filters) and the index, then publish the index by renaming it over
    /// the lock.
    fn finish_landing(&self, at: Oid, paths: &[String], lock: &mut IndexLock) -> Result<()> {
        let Some(workdir) = self.repo.workdir() else {
            return Ok(());
        };
        if paths.is_empty() {
            return Ok(());
        }
        let commit = self.repo.find_commit(at)?;
        let tree = commit.tree()?;
        let mut present = Vec::new();
        for path in paths {
            match tree.get_path(Path::new(path)) {
                Ok(e) if e.kind() == Some(ObjectType::Blob) => present.push(path.clone()),
                _ => match fs::remove_file(workdir.join(path)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::other(format!("{path}: {e}"))),
                },
            }
        }
        if !present.is_empty() {
            let mut co = git2::build::CheckoutBuilder::new();
            // 0666 and 0777 as git uses them: the process umask decides.
            co.force()
                .update_index(false)
                .disable_pathspec_match(true)
                .file_perm(0o666)
                .dir_perm(0o777);
            for p in &present {
                co.path(p);
            }
            self.repo
                .checkout_tree(tree.as_object(), Some(&mut co))
                .map_err(|e| Error::other(format!("writing the work tree: {}", e.message())))?;
        }

        // The new index: a copy of the current one with these entries
        // replaced, renamed over index.lock.
        let scratch = self.scratch_dir();
        let _ = fs::remove_dir_all(&scratch);
        fs::create_dir_all(&scratch)?;
        let copy = scratch.join("index");
        let current = self.repo.path().join("index");
        if current.exists() {
            fs::copy(&current, &copy)?;
        }
        let mut index = git2::Index::open(&copy)?;
        for path in paths {
            match tree.get_path(Path::new(path)) {
                Ok(e) if e.kind() == Some(ObjectType::Blob) => {
                    let meta = fs::symlink_metadata(workdir.join(path))?;
                    index.add(&index_entry(path, e.id(), e.filemode() as u32, &meta))?;
                }
                _ => {
                    let _ = index.remove_path(Path::new(path));
                }
            }
        }
        index.write()?;
        let target = self.repo.path().join("index");
        fs::rename(&copy, &lock.path)?;
        fs::rename(&lock.path, &target)?;
        lock.released = true;
        Ok(())
    }

    /// The repository lock if no other ipr process holds it.
    fn try_lock(&self) -> Result<Option<fs::File>> {
        self.try_lock_named("ipr.lock")
    }
}

/// An index entry for a file just written, with its stat data so that git
/// sees it unchanged.
fn index_entry(path: &str, id: Oid, mode: u32, meta: &fs::Metadata) -> git2::IndexEntry {
    use std::os::unix::fs::MetadataExt;
    let time = |secs: i64, nanos: i64| git2::IndexTime::new(secs as i32, nanos as u32);
    git2::IndexEntry {
        ctime: time(meta.ctime(), meta.ctime_nsec()),
        mtime: time(meta.mtime(), meta.mtime_nsec()),
        dev: meta.dev() as u32,
        ino: meta.ino() as u32,
        mode,
        uid: meta.uid(),
        gid: meta.gid(),
        file_size: meta.size() as u32,
        id,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

/// Write a small file and make it durable before going on.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut f =
        fs::File::create(path).map_err(|e| Error::other(format!("{}: {e}", path.display())))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}
