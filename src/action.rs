//! Performing an action on the gitops repo: read the committed state, apply
//! the workflow's rules, write exactly one commit.
//!
//! This is the only place that joins `store` and `workflow`; the CLI calls
//! it and never touches git itself.

use chrono::{DateTime, Datelike, Utc};
use git2::Oid;

use crate::config::{Config, CONFIG_PATH};
use crate::error::{Error, Result};
use crate::model::{RequestId, Spec, Ticket};
use crate::session::Session;
use crate::store::signing::Signer;
use crate::store::{Change, Identity, Store};
use crate::sync;
use crate::trust::{self, Trusted};
use crate::workflow::{self, Transition};

/// Options every action shares.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--sign`: sign even if git config does not ask for it.
    pub sign: bool,
    /// `--push`: fetch, act on the remote's latest state, push (retrying
    /// when someone else pushed first). `sync.autoPush` turns it on.
    pub push: bool,
    /// `--no-input`: git must not prompt for credentials either.
    pub no_input: bool,
}

impl Options {
    /// What a `--push` round of this action needs of them.
    pub fn sync(&self) -> sync::SyncOptions {
        sync::SyncOptions {
            sign: self.sign,
            no_input: self.no_input,
        }
    }
}

/// What an action did.
#[derive(Debug, Clone)]
pub struct Done {
    pub ticket: Ticket,
    pub commit: Oid,
    pub config: Config,
    /// With `--push`: where it went and how many tries it took.
    pub pushed: Option<crate::sync::Report>,
    /// The commits this action landed, oldest first: its own, and with
    /// `--push` the local commits replayed before it. Events come from these
    /// ([`crate::events`]).
    pub landed: Vec<Oid>,
}

/// The committed state an action starts from.
pub struct Snapshot {
    pub head: Option<Oid>,
    /// The legitimate config at `head` (SPEC §10a).
    pub config: Config,
    pub actor: Identity,
    pub now: DateTime<Utc>,
    /// What verifying the history up to `head` found.
    pub trust: Trusted,
}

/// Read HEAD and its legitimate config, with the session's actor and
/// clock, under the repository lock.
pub fn snapshot(store: &Store, session: &Session) -> Result<Snapshot> {
    snapshot_at(store, session, store.head()?)
}

/// The state as committed at `at`, after verifying the history up to it.
pub fn snapshot_at(store: &Store, session: &Session, at: Option<Oid>) -> Result<Snapshot> {
    let trust = trust::check(store, at)?;
    Ok(Snapshot {
        head: at,
        config: trust.config()?,
        actor: session.actor.clone(),
        now: session.now(),
        trust,
    })
}

/// Who signs this action's commit: `--sign` or `signing.required` force
/// it, and a forced signature with no key refuses before anything is written.
pub(crate) fn signer(
    store: &Store,
    session: &Session,
    config: &Config,
    sign: bool,
) -> Result<Option<Signer>> {
    session.signer(store, sign || config.signing.required)
}

/// A ticket change computed from a snapshot, not yet committed.
pub struct Planned {
    pub ticket: Ticket,
    pub verb: &'static str,
}

impl Planned {
    /// The commit that records it on top of `snap.head`.
    pub(crate) fn build(
        &self,
        store: &Store,
        session: &Session,
        snap: &Snapshot,
        sign: bool,
    ) -> Result<Oid> {
        let signer = signer(store, session, &snap.config, sign)?;
        let path = self.ticket.path();
        let oid = store.build_commit(&Change {
            parent: snap.head,
            path: &path,
            content: self.ticket.to_yaml().as_bytes(),
            action: self.verb,
            subject: &self.ticket.id().to_string(),
            actor: &snap.actor,
            time: snap.now,
            signer: signer.as_ref(),
            via: session.via.as_deref(),
            slack_user: session.slack_user.as_deref(),
            committer: session.committer.as_ref(),
        })?;
        trust::check_signed_by(store, &snap.trust, &snap.config, oid, &snap.actor.email)?;
        Ok(oid)
    }
}

/// Compute a change from the committed state and record it: one local
/// commit, or with `--push` (or `sync.autoPush`) on the remote's latest
/// state, pushed before the local branch moves. The caller holds the lock.
pub fn perform(
    store: &Store,
    session: &Session,
    options: Options,
    compute: &mut dyn FnMut(&Snapshot) -> Result<Planned>,
) -> Result<Done> {
    let local = snapshot(store, session)?;
    if options.push || local.config.sync.auto_push {
        return push_action(store, session, options, compute);
    }
    let planned = compute(&local)?;
    let commit = planned.build(store, session, &local, options.sign)?;
    store.land(
        local.head,
        commit,
        &format!("ipr: {} {}", planned.verb, planned.ticket.id()),
    )?;
    Ok(Done {
        ticket: planned.ticket,
        commit,
        config: local.config,
        pushed: None,
        landed: vec![commit],
    })
}

/// An action with `--push`: computed on the remote's latest state (with
/// local unpushed commits replayed first), pushed, then landed locally.
/// An action that is illegal on that state fails and leaves nothing behind.
fn push_action(
    store: &Store,
    session: &Session,
    options: Options,
    compute: &mut dyn FnMut(&Snapshot) -> Result<Planned>,
) -> Result<Done> {
    let mut last: Option<(Planned, crate::config::Config)> = None;
    let (tip, report) = sync::rounds(
        store,
        &session.signing,
        None,
        options.sync(),
        &mut |store, base| {
            let snap = snapshot_at(store, session, base)?;
            let planned = compute(&snap)?;
            let oid = planned.build(store, session, &snap, options.sign)?;
            last = Some((planned, snap.config.clone()));
            Ok(Some(oid))
        },
    )?;
    let (planned, config) = last.expect("the action was computed");
    Ok(Done {
        ticket: planned.ticket,
        commit: tip.expect("an action makes a commit"),
        config,
        landed: report.landed.clone(),
        pushed: Some(report),
    })
}

/// `ipr create`: validate, take the next ID, commit the new ticket.
pub fn create(
    store: &Store,
    session: &Session,
    spec: Spec,
    tenant: &str,
    options: Options,
) -> Result<Done> {
    create_gated(store, session, spec, tenant, options, &|_, _, _| Ok(()))
}

/// A check of a new ticket against the committed state, run under the lock
/// just before the commit; it may refuse, or add to the ticket (policies of
/// a plan request store their warnings).
pub type Gate<'a> = &'a dyn Fn(&Store, &Snapshot, &mut Ticket) -> Result<()>;

/// [`create`], with `gate` run on the validated ticket before it is committed.
pub fn create_gated(
    store: &Store,
    session: &Session,
    spec: Spec,
    tenant: &str,
    options: Options,
    gate: Gate<'_>,
) -> Result<Done> {
    let _lock = store.lock()?;
    let mut spec = spec;
    spec.normalize();
    perform(store, session, options, &mut |snap| {
        snap.trust.check_any()?;
        // An ID no commit ever used and no file holds: nothing is overwritten.
        let id = snap.trust.next_id(store, snap.now.year())?;
        let mut spec = spec.clone();
        let before = staged_predecessor(store, snap, &mut spec)?;
        let mut ticket =
            workflow::create(spec, id, tenant, &snap.actor.email, &snap.config, snap.now)?;
        workflow::check_staged(&ticket.spec, &snap.config, before.as_ref())?;
        gate(store, snap, &mut ticket)?;
        Ok(Planned {
            ticket,
            verb: "create",
        })
    })
}

/// The deployed request a new one is staged after (SPEC §4a,
/// `approvals.requireStaged`): the one `spec.promotedFrom` names, or else
/// the latest deployment of the same target name and version to the
/// previous environment, which `spec.promotedFrom` then records.
fn staged_predecessor(store: &Store, snap: &Snapshot, spec: &mut Spec) -> Result<Option<Ticket>> {
    if let Some(id) = spec.promoted_from {
        return match store.ticket(snap.head, id) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == crate::error::Kind::NotFound => Err(Error::not_found(format!(
                "spec.promotedFrom: {id} does not exist on this branch"
            ))),
            Err(e) => Err(e),
        };
    }
    let Some(env) =
        crate::approvals::previous_environment(&snap.config, &spec.target.target_environment)
    else {
        return Ok(None);
    };
    let mut found: Option<Ticket> = None;
    let target = &spec.target;
    let nominees = store.tickets_where(snap.head, |s| {
        s.state == crate::model::State::Deployed
            && s.name == target.name
            && s.version == target.version
            && s.target_environment == env
    })?;
    for t in nominees {
        if crate::approvals::is_stage_of(&t, &spec.target, env)
            && snap.trust.check_ticket(t.id()).is_ok()
        {
            found = Some(t);
        }
    }
    if let Some(t) = &found {
        spec.promoted_from = Some(t.id());
    }
    Ok(found)
}

/// `ipr promote`: file the next-stage request for a deployed one: the same
/// target, tenant and request text, from its environment to `to`, with
/// `spec.promotedFrom` naming it (SPEC §4a).
pub fn promote(
    store: &Store,
    session: &Session,
    from: RequestId,
    to: &str,
    options: Options,
) -> Result<Done> {
    let to = crate::model::normalize_environment(to);
    let (spec, tenant) = {
        let _lock = store.lock()?;
        let snap = snapshot(store, session)?;
        snap.trust.check_ticket(from)?;
        let before = store.ticket(snap.head, from)?;
        crate::policy::check(
            &snap.config,
            &snap.actor.email,
            crate::policy::Capability::View,
            &before,
        )?;
        if before.status.state != crate::model::State::Deployed {
            return Err(Error::conflict(format!(
                "cannot promote {from}: it is {} (only deployed requests can be promoted)",
                before.status.state
            )));
        }
        if before.spec.target.kind == crate::model::TargetType::Terraform {
            return Err(Error::invalid(format!(
                "{from} is a terraform request: its plan was made for {}; file a new plan for {to} with `ipr create --plan`",
                before.spec.target.target_environment
            )));
        }
        if before.spec.target.target_environment == to {
            return Err(Error::invalid(format!(
                "{from} is already deployed to {to}; promote it to the next environment"
            )));
        }
        let mut spec = before.spec.clone();
        spec.target.source_environment = before.spec.target.target_environment.clone();
        spec.target.target_environment = to.clone();
        spec.request.scheduled_date = None;
        spec.promoted_from = Some(from);
        (spec, before.metadata.tenant.clone())
    };
    create(store, session, spec, &tenant, options)
}

/// Apply one transition to the request `id` and commit it.
pub fn transition(
    store: &Store,
    session: &Session,
    id: RequestId,
    transition: &Transition,
    options: Options,
) -> Result<Done> {
    let _lock = store.lock()?;
    transition_locked(store, session, id, transition, options)
}

/// [`transition`] for a caller that already holds [`Store::lock`].
pub fn transition_locked(
    store: &Store,
    session: &Session,
    id: RequestId,
    transition: &Transition,
    options: Options,
) -> Result<Done> {
    perform(store, session, options, &mut |snap| {
        snap.trust.check_ticket(id)?;
        let current = store.ticket(snap.head, id)?;
        let ticket = workflow::apply(
            &current,
            transition,
            &snap.actor.email,
            &snap.config,
            snap.now,
        )?;
        Ok(Planned {
            ticket,
            verb: transition.verb(),
        })
    })
}

/// `ipr init`: commit a first `.ipr/config.yaml`.
pub fn init(store: &Store, session: &Session, config: &Config, options: Options) -> Result<Oid> {
    let _lock = store.lock()?;
    let head = store.head()?;
    if store.read(head, CONFIG_PATH)?.is_some() {
        return Err(Error::other(format!(
            "{CONFIG_PATH} already exists on this branch; the repo is already set up"
        ))
        .with_hint("edit .ipr/config.yaml and commit it as an admin to change the setup"));
    }
    let signer = signer(store, session, config, options.sign)?;
    let oid = store.commit(&Change {
        parent: head,
        path: CONFIG_PATH,
        content: config.to_yaml().as_bytes(),
        action: "init",
        subject: CONFIG_PATH,
        actor: &session.actor,
        time: session.now(),
        signer: signer.as_ref(),
        via: session.via.as_deref(),
        slack_user: session.slack_user.as_deref(),
        committer: session.committer.as_ref(),
    })?;
    if let Some(workdir) = store.workdir() {
        std::fs::create_dir_all(workdir.join(crate::store::REQUESTS_ROOT))?;
    }
    Ok(oid)
}

/// Commit a new `.ipr/config.yaml`; only an admin of the current config may.
pub fn update_config(
    store: &Store,
    session: &Session,
    config: &Config,
    options: Options,
) -> Result<Oid> {
    let _lock = store.lock()?;
    let snap = snapshot(store, session)?;
    snap.trust.check_any()?;
    crate::policy::check_admin(&snap.config, &snap.actor.email)?;
    commit_ipr_file(
        store,
        session,
        &snap,
        CONFIG_PATH,
        config.to_yaml().as_bytes(),
        "config",
        CONFIG_PATH,
        options,
    )
}

/// Commit one file under `.ipr/` as an admin action of `snap.actor`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn commit_ipr_file(
    store: &Store,
    session: &Session,
    snap: &Snapshot,
    path: &str,
    content: &[u8],
    action: &str,
    subject: &str,
    options: Options,
) -> Result<Oid> {
    let signer = signer(store, session, &snap.config, options.sign)?;
    let change = Change {
        parent: snap.head,
        path,
        content,
        action,
        subject,
        actor: &snap.actor,
        time: snap.now,
        signer: signer.as_ref(),
        via: session.via.as_deref(),
        slack_user: session.slack_user.as_deref(),
        committer: session.committer.as_ref(),
    };
    let oid = store.build_commit(&change)?;
    trust::check_signed_by(store, &snap.trust, &snap.config, oid, &snap.actor.email)?;
    store.land(snap.head, oid, &format!("ipr: {action} {subject}"))?;
    Ok(oid)
}
