//! A team on many clones: `ipr sync` and actions with `--push`.
//!
//! Local ipr commits that the remote does not have are replayed one by one
//! on top of the remote branch, each re-checked by the workflow against the
//! *new* state, so plain git merges never mix two histories of one ticket.
//! A request created offline whose ID the remote took meanwhile gets the
//! next free ID. The result is pushed without force; when someone else
//! pushed first, everything is redone from the new remote state, a bounded
//! number of times. The local branch moves only after the push succeeded.

use std::collections::BTreeMap;
use std::time::Duration;

use git2::Oid;

use crate::error::{Error, Remedy, Result};
use crate::model::{RequestId, Ticket};
use crate::session::Signing;
use crate::store::remote::{self, Pushed};
use crate::store::{Change, Identity, Store};
use crate::workflow::{self, Transition};

/// How many times a push is retried after someone else pushed first.
pub const MAX_ATTEMPTS: u32 = 200;

/// What a sync (or a pushed action) did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// `remote/branch`.
    pub upstream: String,
    /// Fetch-replay-push rounds it took (1 when nobody raced us).
    pub attempts: u32,
    /// Local commits replayed on top of the remote.
    pub replayed: usize,
    /// Remote commits the local branch gained.
    pub received: usize,
    /// Whether anything was pushed.
    pub pushed: bool,
    /// The commits this process landed on the remote, oldest first.
    pub landed: Vec<Oid>,
    /// Requests created offline that got a new ID: (old, new).
    pub renumbered: Vec<(RequestId, RequestId)>,
    /// Local actions that are no longer legal on the remote's state.
    pub dropped: Vec<Dropped>,
    /// Some outgoing commits go out as they were made (a fast-forward, a
    /// config change, an import) rather than re-made by the workflow on
    /// the remote's state: they are verified before the push.
    copied: bool,
}

/// How a sync goes: `--sign`, and whether git may prompt.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncOptions {
    /// Sign replayed commits even if git config does not ask for it.
    pub sign: bool,
    /// `--no-input`: git must not prompt for credentials.
    pub no_input: bool,
}

/// A local action sync could not replay.
#[derive(Debug, Clone)]
pub struct Dropped {
    pub commit: Oid,
    pub summary: String,
    pub reason: String,
}

/// `ipr sync`. It acts for no one: replayed commits keep their authors,
/// and are signed as `signing` says.
pub fn sync(
    store: &Store,
    signing: &Signing,
    remote_name: Option<&str>,
    options: SyncOptions,
) -> Result<Report> {
    let _lock = store.lock()?;
    let (_, report) = rounds(store, signing, remote_name, options, &mut |_, _| Ok(None))?;
    Ok(report)
}

/// Adds the commit of a pushed action on top of the replayed tip.
pub(crate) type Extra<'a> = dyn FnMut(&Store, Option<Oid>) -> Result<Option<Oid>> + 'a;

/// Fetch, replay, add `extra`'s commit, push; again while the push is
/// rejected because the remote moved. Returns the landed tip.
pub(crate) fn rounds(
    store: &Store,
    signing: &Signing,
    remote_name: Option<&str>,
    options: SyncOptions,
    extra: &mut Extra<'_>,
) -> Result<(Option<Oid>, Report)> {
    let dir = store
        .workdir()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| store.repo().path().to_path_buf());
    let local = store.head()?;
    let trusted = crate::trust::check(store, local)?;
    let config = trusted.config()?;
    let up = store.upstream(remote_name, config.sync.remote.as_deref())?;
    for attempt in 1..=MAX_ATTEMPTS {
        let remote_tip = match remote::fetch(&dir, &up, options.no_input)? {
            Some(tracking) => Some(store.repo().refname_to_id(&tracking)?),
            None => None,
        };
        let (mut tip, mut report) = replay(store, signing, remote_tip, local, options)?;
        report.upstream = format!("{}/{}", up.remote, up.branch);
        report.attempts = attempt;
        if let Some(oid) = extra(store, tip)? {
            tip = Some(oid);
        }
        let Some(new) = tip else {
            return Ok((None, report));
        };
        // Refuse before pushing if landing would clobber local edits (land
        // checks again: the push takes time).
        store.check_landable(local, new)?;
        // Push nothing that verify would reject, fast-forward or not
        // (what the workflow re-made on the remote's state, and an action
        // computed there, follow the rules by construction).
        if report.copied {
            check_outgoing(store, remote_tip, new)?;
        }
        if Some(new) != remote_tip {
            match remote::push(&dir, &up, new, options.no_input)? {
                Pushed::Ok => {
                    report.pushed = true;
                    report.landed = store.commits_between(remote_tip, new)?;
                }
                Pushed::Behind => {
                    backoff(attempt);
                    continue;
                }
            }
        }
        if Some(new) != local {
            store.land(local, new, &format!("ipr: sync with {}", report.upstream))?;
        }
        return Ok((Some(new), report));
    }
    Err(Error::conflict(format!(
        "gave up after {MAX_ATTEMPTS} attempts: {} kept moving while this was pushed; nothing local was changed",
        up.remote
    ))
    .with_hint("run it again"))
}

/// Refuse to push commits (those of `new` the remote lacks) that do not
/// verify.
fn check_outgoing(store: &Store, remote_tip: Option<Oid>, new: Oid) -> Result<()> {
    if Some(new) == remote_tip {
        return Ok(());
    }
    let trusted = crate::trust::check(store, Some(new))?;
    if trusted.violations.is_empty() {
        return Ok(());
    }
    let outgoing: std::collections::HashSet<String> = store
        .commits_between(remote_tip, new)?
        .into_iter()
        .map(|c| c.to_string())
        .collect();
    match trusted
        .violations
        .iter()
        .find(|v| outgoing.contains(&v.commit))
    {
        Some(v) => Err(Error::untrusted(format!(
            "refusing to push: commit {} ({}) breaks {}: {}",
            &v.commit[..12.min(v.commit.len())],
            v.file,
            v.rule,
            v.message
        ))
        .with_remedy(Remedy::UndoOutgoing)
        .with_detail(crate::error::Detail::Untrusted(Box::new(v.clone())))),
        None => Ok(()),
    }
}

/// Replay the local commits the remote lacks on top of `remote_tip`.
/// Returns the new tip (not yet on any branch) and what happened.
fn replay(
    store: &Store,
    signing: &Signing,
    remote_tip: Option<Oid>,
    local: Option<Oid>,
    options: SyncOptions,
) -> Result<(Option<Oid>, Report)> {
    let mut report = Report::default();
    let (Some(local), Some(remote)) = (local, remote_tip) else {
        if let (None, Some(remote)) = (local, remote_tip) {
            report.received = store.commits_between(None, remote)?.len();
        }
        report.copied = local.is_some();
        return Ok((local.or(remote_tip), report));
    };
    let base = store.merge_base(local, remote)?;
    if base == Some(local) {
        report.received = store.commits_between(Some(local), remote)?.len();
        return Ok((Some(remote), report));
    }
    if base == Some(remote) {
        report.copied = true;
        return Ok((Some(local), report));
    }
    report.received = store.commits_between(base, remote)?.len();
    let remote_changed = match base {
        Some(b) => Some(store.changed_paths(Some(b), Some(remote))?),
        None => None,
    };
    let moved_on_remote = |path: &str| {
        remote_changed
            .as_ref()
            .is_none_or(|c| c.iter().any(|p| p == path))
    };
    let mut tip = remote;
    let trusted = crate::trust::check(store, Some(remote))?;
    trusted.check_any()?;
    let mut ids: BTreeMap<RequestId, RequestId> = BTreeMap::new();
    for oid in store.commits_between(Some(remote), local)? {
        let (parents, info) = store.commit_info(oid)?;
        let short = &oid.to_string()[..12];
        let Some(verb) = info.action.clone().filter(|_| parents.len() == 1) else {
            return Err(Error::conflict(format!(
                "local commit {short} ({}) is not an ipr action; sync replays only ipr commits",
                info.summary
            ))
            .with_remedy(Remedy::SyncAfter {
                first: "push or rebase it with git first",
            }));
        };
        let changed = store.changed_paths(Some(parents[0]), Some(oid))?;
        let [path] = changed.as_slice() else {
            return Err(Error::conflict(format!(
                "local commit {short} ({}) changes {} files; an ipr action changes one",
                info.summary,
                changed.len()
            )));
        };
        let actor = Identity {
            name: info.author.name.clone(),
            email: info.author.email.clone(),
        };
        let config = trusted.config()?;
        let (path, content, subject) = if path.starts_with(".ipr/") {
            // Config and waivers are replayed as they are, by an admin, when
            // the remote did not change the same file.
            if moved_on_remote(path) {
                return Err(Error::conflict(format!(
                    "{path} changed both here ({short}) and on the remote; ipr will not merge it"
                ))
                .with_remedy(Remedy::SyncAfter {
                    first: "merge the change by hand with git",
                }));
            }
            crate::policy::check_admin(&config, &actor.email)?;
            report.copied = true;
            let content = store.read(Some(oid), path)?.unwrap_or_default();
            let subject = info
                .summary
                .strip_prefix(&format!("ipr: {verb} "))
                .unwrap_or(path)
                .to_string();
            (path.clone(), content, subject)
        } else if verb == "import" {
            // An import is replayed unchanged, unless its ID was taken.
            let content = store.read(Some(oid), path)?.unwrap_or_default();
            let t = Ticket::from_yaml(&content, path)?;
            let taken = trusted.state.ids.used(t.id()) || store.id_exists(Some(tip), t.id())?;
            if taken {
                report.dropped.push(Dropped {
                    commit: oid,
                    summary: info.summary.clone(),
                    reason: format!("{} exists on the remote; IDs are never reused", t.id()),
                });
                continue;
            }
            crate::policy::check_admin(&config, &actor.email)?;
            report.copied = true;
            (path.clone(), content, t.id().to_string())
        } else {
            match replay_ticket(
                store,
                &trusted,
                tip,
                parents[0],
                oid,
                path,
                &mut ids,
                &mut report,
            ) {
                Ok(t) => (t.path(), t.to_yaml().into_bytes(), t.id().to_string()),
                Err(e) => {
                    report.dropped.push(Dropped {
                        commit: oid,
                        summary: info.summary.clone(),
                        reason: e.message().to_string(),
                    });
                    continue;
                }
            }
        };
        // Replayed commits are this clone's own actions, signed again as
        // this clone signs.
        let signer = signing.signer(store, options.sign || config.signing.required)?;
        tip = store.build_commit(&Change {
            parent: Some(tip),
            path: &path,
            content: &content,
            action: &verb,
            subject: &subject,
            actor: &actor,
            time: info.time,
            signer: signer.as_ref(),
            via: None,
            slack_user: None,
            committer: None,
        })?;
        crate::trust::check_signed_by(store, &trusted, &config, tip, &actor.email)?;
        report.replayed += 1;
    }
    Ok((Some(tip), report))
}

/// The ticket a local commit made, re-made on the state at `tip`.
#[allow(clippy::too_many_arguments)]
fn replay_ticket(
    store: &Store,
    trusted: &crate::trust::Trusted,
    tip: Oid,
    parent: Oid,
    commit: Oid,
    path: &str,
    ids: &mut BTreeMap<RequestId, RequestId>,
    report: &mut Report,
) -> Result<Ticket> {
    let new = Ticket::from_yaml(&store.read(Some(commit), path)?.unwrap_or_default(), path)?;
    let config = trusted.config()?;
    let Some(old) = store.read(Some(parent), path)? else {
        let mut id = new.id();
        let taken = trusted.state.ids.used(id)
            || store.id_exists(Some(tip), id)?
            || store.read(Some(tip), &new.path())?.is_some();
        if taken {
            let fresh = trusted
                .state
                .ids
                .next(id.year, &|id| store.id_exists(Some(tip), id))?;
            ids.insert(id, fresh);
            report.renumbered.push((id, fresh));
            id = fresh;
        }
        let m = &new.metadata;
        return workflow::create(
            new.spec.clone(),
            id,
            &m.tenant,
            &m.created_by,
            &config,
            m.created_at,
        );
    };
    let old = Ticket::from_yaml(&old, path)?;
    let id = ids.get(&old.id()).copied().unwrap_or(old.id());
    trusted.check_ticket(id)?;
    let current = store.ticket(Some(tip), id)?;
    if new.status.history.len() != old.status.history.len() + 1 {
        return Err(Error::invalid(format!(
            "{path}: the local commit is not one ipr transition"
        )));
    }
    let entry = new.last_entry();
    let t = Transition::from_entry(entry)
        .ok_or_else(|| Error::invalid(format!("{path}: a second `created` entry")))?;
    workflow::apply(&current, &t, &entry.by, &config, entry.at)
}

/// Wait before the next round: a random time up to an exponentially
/// growing bound (full jitter), so racing clones spread out.
fn backoff(attempt: u32) {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let bound_ms = (20u64 << attempt.min(6)).min(1000);
    std::thread::sleep(Duration::from_millis(h.finish() % bound_ms + 1));
}
