//! Performing an action on the gitops repo: read the committed state, apply
//! the workflow's rules, write exactly one commit.
//!
//! This is the only place that joins `store` and `workflow`; the CLI calls
//! it and never touches git itself.

use chrono::{DateTime, Datelike, Utc};
use git2::Oid;

use crate::clock;
use crate::config::{Config, CONFIG_PATH};
use crate::error::{Error, Result};
use crate::model::{RequestId, Spec, Ticket};
use crate::store::signing::Signer;
use crate::store::{Change, Identity, SignMode, Store};
use crate::workflow::{self, Transition};

/// Options every action shares.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--sign`: sign even if git config does not ask for it.
    pub sign: bool,
}

/// What an action did.
#[derive(Debug, Clone)]
pub struct Done {
    pub ticket: Ticket,
    pub commit: Oid,
    pub config: Config,
}

/// The committed state an action starts from.
pub struct Snapshot {
    pub head: Option<Oid>,
    pub config: Config,
    pub actor: Identity,
    pub now: DateTime<Utc>,
}

/// Read HEAD, config, actor and the clock, under the repository lock.
pub fn snapshot(store: &Store) -> Result<Snapshot> {
    let head = store.head()?;
    let config = store.config(head)?;
    let actor = store.identity()?;
    Ok(Snapshot {
        head,
        config,
        actor,
        now: clock::now()?,
    })
}

/// How this action's commit is signed: `--sign` or `signing.required` force
/// it, and a forced signature with no key refuses before anything is written.
fn sign_mode(store: &Store, config: &Config, options: Options) -> Result<SignMode> {
    let mode = if options.sign || config.signing.required {
        SignMode::Force
    } else {
        SignMode::Auto
    };
    if let Some(signer) = Signer::from_config(store.repo(), mode)? {
        if mode == SignMode::Force && signer.key.is_none() {
            return Err(Error::permission(
                "signing is required but git config has no user.signingkey",
            )
            .with_hint("git config user.signingkey KEY (and gpg.format ssh for ssh keys)"));
        }
    }
    Ok(mode)
}

/// `ipr create`: validate, take the next ID, commit the new ticket.
pub fn create(store: &Store, spec: Spec, tenant: &str, options: Options) -> Result<Done> {
    create_gated(store, spec, tenant, options, &|_, _, _| Ok(()))
}

/// A check of a new ticket against the committed state, run under the lock
/// just before the commit; it may refuse, or add to the ticket (policies of
/// a plan request store their warnings).
pub type Gate<'a> = &'a dyn Fn(&Store, &Snapshot, &mut Ticket) -> Result<()>;

/// [`create`], with `gate` run on the validated ticket before it is committed.
pub fn create_gated(
    store: &Store,
    spec: Spec,
    tenant: &str,
    options: Options,
    gate: Gate<'_>,
) -> Result<Done> {
    let _lock = store.lock()?;
    let snap = snapshot(store)?;
    let mode = sign_mode(store, &snap.config, options)?;
    let id = store.next_id(snap.head, snap.now.year())?;
    let mut ticket = workflow::create(spec, id, tenant, &snap.actor.email, &snap.config, snap.now)?;
    gate(store, &snap, &mut ticket)?;
    let path = ticket.path();
    store.check_clean(&path, snap.head)?;
    let commit = store.commit(&Change {
        parent: snap.head,
        path: &path,
        content: ticket.to_yaml().as_bytes(),
        action: "create",
        subject: &id.to_string(),
        actor: &snap.actor,
        time: snap.now,
        sign: mode,
    })?;
    Ok(Done {
        ticket,
        commit,
        config: snap.config,
    })
}

/// Apply one transition to the request `id` and commit it.
pub fn transition(
    store: &Store,
    id: RequestId,
    transition: &Transition,
    options: Options,
) -> Result<Done> {
    let _lock = store.lock()?;
    transition_locked(store, id, transition, options)
}

/// [`transition`] for a caller that already holds [`Store::lock`].
pub fn transition_locked(
    store: &Store,
    id: RequestId,
    transition: &Transition,
    options: Options,
) -> Result<Done> {
    let snap = snapshot(store)?;
    let mode = sign_mode(store, &snap.config, options)?;
    let current = store.ticket(snap.head, id)?;
    let next = workflow::apply(
        &current,
        transition,
        &snap.actor.email,
        &snap.config,
        snap.now,
    )?;
    let path = current.path();
    store.check_clean(&path, snap.head)?;
    let commit = store.commit(&Change {
        parent: snap.head,
        path: &path,
        content: next.to_yaml().as_bytes(),
        action: transition.verb(),
        subject: &id.to_string(),
        actor: &snap.actor,
        time: snap.now,
        sign: mode,
    })?;
    Ok(Done {
        ticket: next,
        commit,
        config: snap.config,
    })
}

/// `ipr init`: commit a first `.ipr/config.yaml`.
pub fn init(store: &Store, config: &Config, options: Options) -> Result<Oid> {
    let _lock = store.lock()?;
    let head = store.head()?;
    if store.read(head, CONFIG_PATH)?.is_some() {
        return Err(Error::other(format!(
            "{CONFIG_PATH} already exists on this branch; the repo is already set up"
        ))
        .with_hint("edit .ipr/config.yaml and commit it as an admin to change the setup"));
    }
    let actor = store.identity()?;
    let mode = sign_mode(store, config, options)?;
    store.check_clean(CONFIG_PATH, head)?;
    let oid = store.commit(&Change {
        parent: head,
        path: CONFIG_PATH,
        content: config.to_yaml().as_bytes(),
        action: "init",
        subject: CONFIG_PATH,
        actor: &actor,
        time: clock::now()?,
        sign: mode,
    })?;
    if let Some(workdir) = store.workdir() {
        std::fs::create_dir_all(workdir.join(crate::store::REQUESTS_ROOT))?;
    }
    Ok(oid)
}

/// Commit a new `.ipr/config.yaml`; only an admin of the current config may.
pub fn update_config(store: &Store, config: &Config, options: Options) -> Result<Oid> {
    let _lock = store.lock()?;
    let snap = snapshot(store)?;
    crate::policy::check_admin(&snap.config, &snap.actor.email)?;
    let mode = sign_mode(store, &snap.config, options)?;
    store.check_clean(CONFIG_PATH, snap.head)?;
    store.commit(&Change {
        parent: snap.head,
        path: CONFIG_PATH,
        content: config.to_yaml().as_bytes(),
        action: "config",
        subject: CONFIG_PATH,
        actor: &snap.actor,
        time: snap.now,
        sign: mode,
    })
}
