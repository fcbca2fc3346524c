//! The signature checks: `signing.required` commits, checked in parallel
//! once the walk is done, and the status `ipr log` shows.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use git2::Oid;

use super::rules::{Rule, Violation};
use super::walk::Engine;
use crate::config::ALLOWED_SIGNERS_PATH;
use crate::error::Result;
use crate::store::history::{Side, Signed};
use crate::store::signing::{SignatureStatus, Verifier};
use crate::store::Store;

/// The signature status of a commit for `ipr log`, judged like verify
/// judges it: against `.ipr/allowed_signers` as of the commit's first
/// parent (so a commit cannot vouch for the key that signed it).
pub fn signature_status(
    store: &Store,
    verifier: &Verifier,
    commit: Oid,
) -> Result<SignatureStatus> {
    let info = store.commit_details(commit)?;
    let (allowed, server) = match info.parents.first() {
        Some(p) => (
            store.blob_at(Side::Tree(store.tree_id(*p)?), ALLOWED_SIGNERS_PATH)?,
            store
                .config(Some(*p))
                .ok()
                .and_then(|c| c.server.and_then(|s| s.identity)),
        ),
        None => (None, None),
    };
    signature_status_against(store, verifier, commit, allowed, server.as_deref())
}

/// The signature status of a commit against the allowed-signers blob
/// `allowed` (the legitimate one, at the point of action); `server` is the
/// `server.identity` in force, which may sign for an author (SPEC §12).
pub fn signature_status_against(
    store: &Store,
    verifier: &Verifier,
    commit: Oid,
    allowed: Option<Oid>,
    server: Option<&str>,
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
        info.signer_email(server),
        path.as_deref(),
        info.committer_time,
    )
}

pub(super) struct SigJob {
    pub(super) seq: usize,
    pub(super) commit: String,
    pub(super) file: String,
    pub(super) email: String,
    pub(super) time: DateTime<Utc>,
    pub(super) signed: Option<Signed>,
    pub(super) allowed_signers: Option<Oid>,
}

impl Engine<'_> {
    /// Check the signatures the walk collected (in parallel: ssh ones
    /// in-process, openpgp ones each a gpg process) and record the
    /// violations they give.
    pub(super) fn check_collected_signatures(&mut self) -> Result<()> {
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
                        "not signed, and the parent's config has signing.required (or it was committed for its author by the server, which must sign)".to_string(),
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
        Ok(())
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
