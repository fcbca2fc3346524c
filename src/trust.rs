//! Acting only on verified history (SPEC §10a).
//!
//! Before ipr writes, it verifies the commits of the branch it has not
//! verified yet on this clone, going on from the last verified point it
//! remembers under `.git/ipr/`, and refuses what history does not support:
//! a violation in a commit that touched `.ipr/` refuses every action (ipr
//! never uses users, roles, runners or signing rules an unauthorized commit
//! wrote), a violation in a ticket refuses every action on that ticket.
//! Read commands still answer, with one warning.
//!
//! The remembered point is a commit id, the violations found up to it and
//! the state it left ([`verify::State`]: the legitimate `.ipr/` blobs and the
//! IDs history used). It is used only when that commit is an ancestor of
//! the tip being checked; otherwise, or when it is missing or unreadable,
//! the whole branch is verified again.

use std::path::PathBuf;

use git2::Oid;
use serde::{Deserialize, Serialize};

use crate::config::{Config, CONFIG_PATH};
use crate::error::{Error, Remedy, Result};
use crate::model::RequestId;
use crate::store::history::Side;
use crate::store::signing::{SignatureStatus, Verifier};
use crate::store::Store;
use crate::verify::{self, Start, Violation};
use crate::waiver::WAIVERS_PATH;

/// How many verified points a clone remembers (the local branch, the
/// remote's tip during `--push`, ...).
const POINTS: usize = 8;
const CACHE_VERSION: u32 = 1;

/// What is known about the history up to `tip`.
#[derive(Debug, Clone)]
pub struct Trusted {
    pub tip: Option<Oid>,
    /// Unwaived violations in the history up to `tip`, oldest first.
    pub violations: Vec<Violation>,
    pub state: verify::State,
    /// The legitimate config at `tip` (see [`verify::Legit`]).
    config: Option<Config>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Point {
    commit: String,
    state: verify::State,
    violations: Vec<Violation>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    version: u32,
    points: Vec<Point>,
}

fn cache_path(store: &Store) -> PathBuf {
    store.repo().path().join("ipr").join("verified.json")
}

fn load(store: &Store) -> Cache {
    std::fs::read(cache_path(store))
        .ok()
        .and_then(|b| serde_json::from_slice::<Cache>(&b).ok())
        .filter(|c| c.version == CACHE_VERSION)
        .unwrap_or_default()
}

fn save(store: &Store, cache: &Cache) {
    // The cache only saves time: failing to write it, or losing it in a
    // crash, changes no result, so it is renamed into place unsynced.
    let path = cache_path(store);
    let Ok(bytes) = serde_json::to_vec(cache) else {
        return;
    };
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
        if std::io::Write::write_all(&mut tmp, &bytes).is_ok() {
            let _ = tmp.persist(&path);
        }
    }
}

/// Verify the history up to `tip`, from the newest remembered point that
/// is an ancestor of it, and remember the result.
pub fn check(store: &Store, tip: Option<Oid>) -> Result<Trusted> {
    let Some(tip) = tip else {
        return Ok(Trusted {
            tip: None,
            violations: Vec::new(),
            state: verify::State::default(),
            config: None,
        });
    };
    let cache = load(store);
    let repo = store.repo();
    let waivers_at = |c: Oid| -> Result<Option<Oid>> {
        store.blob_at(Side::Tree(store.tree_id(c)?), WAIVERS_PATH)
    };
    let tip_waivers = waivers_at(tip)?;
    let mut start: Option<(Start, Vec<Violation>)> = None;
    for p in &cache.points {
        let Ok(commit) = Oid::from_str(&p.commit) else {
            continue;
        };
        if repo.find_commit(commit).is_err() {
            continue;
        }
        let usable = commit == tip || repo.graph_descendant_of(tip, commit).unwrap_or(false);
        // A waiver added since changes how earlier commits are judged.
        if usable && waivers_at(commit)? == tip_waivers {
            start = Some((
                Start {
                    commit,
                    state: p.state.clone(),
                },
                p.violations.clone(),
            ));
            break;
        }
    }
    let (violations, state) = match start {
        Some((s, known)) if s.commit == tip => (known, s.state),
        Some((s, mut known)) => {
            let report = verify::verify_range(store, tip, Some(s))?;
            known.extend(report.violations);
            (known, report.end.unwrap_or_default())
        }
        None => {
            let report = verify::verify_range(store, tip, None)?;
            (report.violations, report.end.unwrap_or_default())
        }
    };
    let config = match &state.legit.config {
        Some(blob) => {
            let oid = Oid::from_str(blob).map_err(|e| Error::other(e.to_string()))?;
            Some(Config::from_yaml(&store.blob(oid)?, CONFIG_PATH)?)
        }
        None => None,
    };
    let known = cache
        .points
        .first()
        .is_some_and(|p| p.commit == tip.to_string());
    if !known {
        remember(
            store,
            cache,
            Point {
                commit: tip.to_string(),
                state: state.clone(),
                violations: violations.clone(),
            },
        );
    }
    Ok(Trusted {
        tip: Some(tip),
        violations,
        state,
        config,
    })
}

/// Put `point` first among the remembered points.
fn remember(store: &Store, mut cache: Cache, point: Point) {
    cache.version = CACHE_VERSION;
    cache.points.retain(|p| p.commit != point.commit);
    cache.points.insert(0, point);
    cache.points.truncate(POINTS);
    save(store, &cache);
}

/// Remember `commit` as verified, trusting its tree the way
/// `ipr verify --since COMMIT` does, without walking the history before it.
/// For benchmarks of the check that follows a remembered point; nothing in
/// ipr calls it.
#[doc(hidden)]
pub fn remember_tree_as_verified(store: &Store, commit: Oid) -> Result<()> {
    let start = verify::start_from_tree(store, commit)?;
    remember(
        store,
        load(store),
        Point {
            commit: commit.to_string(),
            state: start.state,
            violations: Vec::new(),
        },
    );
    Ok(())
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

fn refusal(v: &Violation, what: String) -> Error {
    Error::untrusted(format!(
        "{what}: commit {} ({}) breaks {}: {}",
        short(&v.commit),
        v.file,
        v.rule,
        v.message
    ))
    .with_remedy(Remedy::ResolveViolation {
        commit: short(&v.commit).to_string(),
    })
    .with_detail(crate::error::Detail::Untrusted(Box::new(v.clone())))
}

impl Trusted {
    /// The legitimate config at the tip.
    pub fn config(&self) -> Result<Config> {
        self.config.clone().ok_or_else(|| {
            Error::not_found(format!(
                "{CONFIG_PATH} is not committed on this branch; this is not an ipr gitops repo yet"
            ))
            .with_remedy(Remedy::Init)
        })
    }

    /// The first violation in a commit that touched `.ipr/`.
    pub fn config_violation(&self) -> Option<&Violation> {
        self.violations.iter().find(|v| v.file.starts_with(".ipr/"))
    }

    /// The first violation on the ticket of `id`.
    pub fn ticket_violation(&self, id: RequestId) -> Option<&Violation> {
        let name = format!("{id}.yaml");
        self.violations
            .iter()
            .find(|v| v.file.rsplit('/').next() == Some(name.as_str()))
    }

    /// Refuse every action while a commit that touched `.ipr/` does not
    /// verify.
    pub fn check_any(&self) -> Result<()> {
        match self.config_violation() {
            Some(v) => Err(refusal(
                v,
                format!("refusing to act: {} does not verify", v.file),
            )),
            None => Ok(()),
        }
    }

    /// Refuse an action on `id` while its history, or `.ipr/`, does not verify.
    pub fn check_ticket(&self, id: RequestId) -> Result<()> {
        self.check_any()?;
        match self.ticket_violation(id) {
            Some(v) => Err(refusal(
                v,
                format!("refusing to act on {id}: its history does not verify"),
            )),
            None => Ok(()),
        }
    }

    /// The one warning a read command prints when history does not verify.
    pub fn warning(&self) -> Option<String> {
        let first = self.violations.first()?;
        let n = self.violations.len();
        Some(format!(
            "this branch's history does not verify ({n} violation{}, the first in commit {} on {}: {}); actions on what they touch are refused until an admin resolves them (`ipr verify` lists them)",
            if n == 1 { "" } else { "s" },
            short(&first.commit),
            first.file,
            first.rule
        ))
    }

    /// The next ID of `year`: never one history used, never a file in
    /// the tree at the tip.
    pub fn next_id(&self, store: &Store, year: i32) -> Result<RequestId> {
        self.state
            .ids
            .next(year, &|id| store.id_exists(self.tip, id))
    }
}

/// With `signing.required`, refuse a commit whose signature the
/// legitimate `.ipr/allowed_signers` does not map to `actor`: checked on
/// the commit object before any branch points at it.
pub fn check_signed_by(
    store: &Store,
    trusted: &Trusted,
    config: &Config,
    commit: Oid,
    actor: &str,
) -> Result<()> {
    let info = store.commit_details(commit)?;
    let vouched = !crate::model::same_email(&info.committer.email, &info.author.email);
    let server = config.server.as_ref().and_then(|s| s.identity.as_deref());
    if vouched
        && (!info.is_vouched()
            || !server.is_some_and(|s| crate::model::same_email(s, &info.committer.email)))
    {
        return Err(Error::permission(format!(
            "{} may not commit for {actor}: only server.identity may, through ipr serve; nothing was committed",
            info.committer.email
        )));
    }
    if !config.signing.required && !vouched {
        return Ok(());
    }
    let actor = info.signer_email(server).to_string();
    let actor = actor.as_str();
    let verifier = Verifier::from_config(store.repo())?;
    // The allowed signers in force, never a version an unauthorized commit wrote.
    let allowed = trusted
        .state
        .legit
        .signers
        .as_deref()
        .map(Oid::from_str)
        .transpose()
        .map_err(|e| Error::other(e.to_string()))?;
    match verify::signature_status_against(store, &verifier, commit, allowed, server)? {
        SignatureStatus::Good { .. } => Ok(()),
        SignatureStatus::Unsigned => Err(Error::permission(
            "signing.required: this action's commit would not be signed",
        )
        .with_hint("git config user.signingkey KEY (and gpg.format ssh for ssh keys)")),
        SignatureStatus::UnknownKey { key } => Err(Error::permission(format!(
            "signing.required: your signing key {key} is not trusted for {actor}; nothing was committed"
        ))
        .with_hint(
            "act as yourself (git config user.email) with your own key; an admin lists keys in .ipr/allowed_signers",
        )),
        SignatureStatus::Bad { reason } => Err(Error::permission(format!(
            "signing.required: the signature does not verify ({reason}); nothing was committed"
        ))),
    }
}
