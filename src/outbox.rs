//! Delivering events at least once (SPEC §9), and remembering what was
//! delivered so that no clone delivers it again.
//!
//! What was delivered to a target is a git ref, `refs/ipr/notified/<target>`,
//! pointing at the last commit of the shared branch whose events reached
//! that target. The shared branch's history is linear, so every commit
//! after it is undelivered, in order. With a remote, the ref lives on the
//! remote too: it is fetched before delivering and pushed (never forced)
//! after, so a clone that comes later sees what another delivered, and a
//! ref can only move forward. A target with no ref yet starts after the
//! commit that added it to the config: adding a target does not replay
//! history.
//!
//! Delivery to a target stops at its first failure and leaves the ref
//! there: the next run (`ipr notify`, or the next action that lands)
//! retries from that event, so nothing is lost and order is kept. Event
//! ids are stable, so a receiver can drop what it already has when a
//! crash between sending and recording makes ipr send it twice.
//!
//! Events of a commit that breaks a verify rule (SPEC §10a) are never
//! delivered: a hand edit cannot announce an approval that did not happen.

use std::collections::BTreeMap;

use git2::Oid;
use serde::Serialize;

use crate::config::{Config, Notification, CONFIG_PATH};
use crate::error::{Error, Result};
use crate::events::{self, Event, EventKind};
use crate::model::same_email;
use crate::notify::{self, Message, Notifier, Templates, Transport};
use crate::policy::{self, Capability};
use crate::secrets::Secrets;
use crate::store::remote;
use crate::store::Store;
use crate::trust::{self, Trusted};

/// Where what was delivered to a target is recorded.
pub const REF_PREFIX: &str = "refs/ipr/notified/";

/// How a delivery run goes.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Say what would be delivered; send and record nothing.
    pub dry_run: bool,
    /// Only these targets (by name); empty: all.
    pub targets: Vec<String>,
    /// The remote whose branch is the shared one (default: the branch's
    /// upstream, `sync.remote`, `origin`).
    pub remote: Option<String>,
    /// git must not prompt for credentials.
    pub no_input: bool,
}

/// One event for one target.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub target: String,
    pub kind: String,
    pub event: String,
    #[serde(rename = "type")]
    pub event_type: EventKind,
    pub request: String,
    pub commit: String,
    /// Why it was not delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a delivery run did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `origin/main`, or the local branch when there is no remote.
    pub branch: String,
    pub delivered: Vec<Item>,
    /// With `--dry-run`: what would be delivered.
    pub pending: Vec<Item>,
    /// The first failure of each failing target; later events of that
    /// target wait behind it.
    pub failed: Vec<Item>,
    /// Events that wait behind a failure, per target.
    pub waiting: BTreeMap<String, usize>,
    /// Other things the operator should know (a template that did not
    /// render, a commit whose events are withheld).
    pub warnings: Vec<String>,
}

impl Report {
    /// The warning lines of a run: one per failed target and per warning.
    pub fn warning_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.warnings.clone();
        for f in &self.failed {
            let waiting = self.waiting.get(&f.target).copied().unwrap_or(0);
            let behind = if waiting > 0 {
                format!(" ({waiting} more wait behind it)")
            } else {
                String::new()
            };
            out.push(format!(
                "notification {} ({}): {} {} not delivered: {}{behind}; `ipr notify` retries it",
                f.target,
                f.kind,
                f.event_type,
                f.request,
                f.error.as_deref().unwrap_or("failed")
            ));
        }
        out
    }
}

/// The shared branch: its tip, and where it lives.
struct Shared {
    tip: Oid,
    /// The remote, when the branch is a remote's.
    remote: Option<String>,
    name: String,
}

/// `ipr notify`: deliver whatever the shared branch holds that its targets
/// did not get yet. With a remote, the remote's branch is fetched first.
pub fn deliver(store: &Store, options: &Options) -> Result<Report> {
    let local = store.head()?;
    let trusted = trust::check(store, local)?;
    let config = trusted.config()?;
    let shared = match upstream(store, &config, options)? {
        None => match local {
            Some(tip) => Shared {
                tip,
                remote: None,
                name: short_branch(store)?,
            },
            None => return Ok(Report::default()),
        },
        Some(up) => {
            let dir = git_dir(store);
            let Some(tracking) = remote::fetch(&dir, &up, options.no_input)? else {
                return Ok(Report::default());
            };
            Shared {
                tip: store.repo().refname_to_id(&tracking)?,
                remote: Some(up.remote.clone()),
                name: format!("{}/{}", up.remote, up.branch),
            }
        }
    };
    run(store, options, shared)
}

/// After an action landed commits: deliver, if they are on the shared
/// branch. With a remote that is so only when the local branch is where
/// the remote's is (after `--push` or `sync`); a local commit waits for
/// `ipr sync`, which delivers it when it lands.
pub fn after_landing(store: &Store, options: &Options) -> Result<Report> {
    let Some(local) = store.head()? else {
        return Ok(Report::default());
    };
    let trusted = trust::check(store, Some(local))?;
    let config = trusted.config()?;
    if config.notifications.is_empty() {
        return Ok(Report::default());
    }
    let shared = match upstream(store, &config, options)? {
        None => Shared {
            tip: local,
            remote: None,
            name: short_branch(store)?,
        },
        Some(up) => {
            let tracking = format!("refs/remotes/{}/{}", up.remote, up.branch);
            if store.reference(&tracking)? != Some(local) {
                return Ok(Report::default());
            }
            Shared {
                tip: local,
                remote: Some(up.remote.clone()),
                name: format!("{}/{}", up.remote, up.branch),
            }
        }
    };
    run(store, options, shared)
}

/// The upstream to deliver from, or `None` when the local branch is the
/// shared one (a repository with no remote).
fn upstream(store: &Store, config: &Config, options: &Options) -> Result<Option<remote::Upstream>> {
    if options.remote.is_none() && !store.has_remotes() {
        return Ok(None);
    }
    store
        .upstream(options.remote.as_deref(), config.sync.remote.as_deref())
        .map(Some)
}

fn short_branch(store: &Store) -> Result<String> {
    let b = store.branch()?;
    Ok(b.strip_prefix("refs/heads/").unwrap_or(&b).to_string())
}

fn git_dir(store: &Store) -> std::path::PathBuf {
    store
        .workdir()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| store.repo().path().to_path_buf())
}

fn run(store: &Store, options: &Options, shared: Shared) -> Result<Report> {
    let trusted = trust::check(store, Some(shared.tip))?;
    let config = trusted.config()?;
    let mut report = Report {
        branch: shared.name.clone(),
        ..Report::default()
    };
    for name in &options.targets {
        if !config.notifications.iter().any(|n| n.name() == name) {
            return Err(Error::not_found(format!(
                "no notification target named `{name}` in {CONFIG_PATH}"
            )));
        }
    }
    let targets: Vec<&Notification> = config
        .notifications
        .iter()
        .filter(|n| options.targets.is_empty() || options.targets.iter().any(|t| t == n.name()))
        .collect();
    if targets.is_empty() {
        return Ok(report);
    }
    // One delivery at a time in a clone: a second waits, then sees what
    // the first recorded.
    let _lock = if options.dry_run {
        None
    } else {
        Some(store.lock_named("ipr-notify.lock")?)
    };
    let dir = git_dir(store);
    if let Some(remote) = &shared.remote {
        remote::fetch_refs(
            &dir,
            remote,
            &format!("{REF_PREFIX}*"),
            &format!("refs/ipr/remotes/{remote}/notified/*"),
            options.no_input,
        )?;
    }

    let ctx = Context::new(store, &config, &trusted, &shared)?;
    let transport = if options.dry_run {
        None
    } else {
        Some(Transport::new()?)
    };
    let mut moved: Vec<(Oid, String)> = Vec::new();
    let mut withheld: Vec<Oid> = Vec::new();
    for target in targets {
        let name = target.name();
        let local_ref = format!("{REF_PREFIX}{name}");
        let mut hidden: Vec<Oid> = Vec::new();
        hidden.extend(store.reference(&local_ref)?);
        if let Some(remote) = &shared.remote {
            hidden.extend(store.reference(&format!("refs/ipr/remotes/{remote}/notified/{name}"))?);
        }
        if hidden.is_empty() {
            hidden.extend(added_at(store, shared.tip, name)?);
        }
        let commits = store.commits_hiding(shared.tip, &hidden)?;
        let mut reached: Option<Oid> = None;
        let mut failed = false;
        for commit in commits {
            if trusted
                .violations
                .iter()
                .any(|v| v.commit == commit.to_string())
            {
                if !withheld.contains(&commit) {
                    withheld.push(commit);
                }
                if !failed {
                    reached = Some(commit);
                }
                continue;
            }
            let events: Vec<Event> = events::of_commit(store, commit)?
                .into_iter()
                .filter(|e| target.filter().wants(e.kind, &e.ticket))
                .collect();
            for event in events {
                let item = |error: Option<String>| Item {
                    target: name.to_string(),
                    kind: target.kind().to_string(),
                    event: event.id.clone(),
                    event_type: event.kind,
                    request: event.request.to_string(),
                    commit: event.commit.to_string(),
                    error,
                };
                if failed {
                    *report.waiting.entry(name.to_string()).or_default() += 1;
                    continue;
                }
                let Some(transport) = &transport else {
                    report.pending.push(item(None));
                    continue;
                };
                let message = ctx.message(target, event.clone());
                match notify::send(transport, target, &message, &ctx.templates) {
                    Ok(()) => report.delivered.push(item(None)),
                    Err(e) => {
                        failed = true;
                        let text = ctx.secrets.scrub(&e.to_string());
                        report.failed.push(item(Some(text)));
                    }
                }
            }
            if !failed {
                reached = Some(commit);
            }
        }
        if let (Some(at), false) = (reached, options.dry_run) {
            store.set_reference(&local_ref, at, &format!("ipr notify: delivered to {name}"))?;
            moved.push((at, local_ref));
        }
    }
    for commit in withheld {
        report.warnings.push(format!(
            "events of commit {:.8} are not delivered: it breaks a verify rule (see `ipr verify`)",
            commit.to_string()
        ));
    }
    report.warnings.extend(ctx.templates.take_problems());
    if let (Some(remote), false) = (&shared.remote, moved.is_empty()) {
        // Record on the remote what was delivered, for every other clone.
        // A ref the remote holds further along stays: it only moves forward.
        let again = "; another clone may deliver these events again";
        match remote::push_refs(&dir, remote, &moved, options.no_input) {
            Ok(refused) => report
                .warnings
                .extend(refused.into_iter().map(|(name, why)| {
                    format!("delivered, but {remote} refused to record it in {name} ({why}){again}")
                })),
            Err(e) => report.warnings.push(format!(
                "delivered, but could not record that on {remote} ({}){again}",
                e.message()
            )),
        }
    }
    Ok(report)
}

/// The commit that added target `name` to the config: the oldest of the
/// unbroken run of first-parent commits, ending at `tip`, whose config
/// names it. `None` when the root commit already did (deliver everything).
fn added_at(store: &Store, tip: Oid, name: &str) -> Result<Option<Oid>> {
    let mut at = tip;
    let mut blob: Option<Oid> = None;
    let mut names = true;
    loop {
        let b = store.blob_at(
            crate::store::history::Side::Tree(store.tree_id(at)?),
            CONFIG_PATH,
        )?;
        if b != blob {
            blob = b;
            names = match b {
                Some(id) => Config::from_yaml(&store.blob(id)?, CONFIG_PATH)
                    .map(|c| c.notifications.iter().any(|n| n.name() == name))
                    .unwrap_or(false),
                None => false,
            };
        }
        if !names {
            // `at` does not name it: the target starts after `at`.
            return Ok(Some(at));
        }
        match store.first_parent(at)? {
            Some(p) => at = p,
            None => return Ok(None),
        }
    }
}

/// What every message of one run shares.
struct Context<'a> {
    config: &'a Config,
    source: String,
    templates: Templates,
    secrets: Secrets,
}

impl<'a> Context<'a> {
    fn new(
        store: &Store,
        config: &'a Config,
        trusted: &Trusted,
        shared: &Shared,
    ) -> Result<Context<'a>> {
        let server = config.server.as_ref().and_then(|s| s.url.as_ref());
        let source = match (server, &shared.remote) {
            (Some(u), _) => u.to_string(),
            (None, Some(r)) => store.remote_url(r).unwrap_or_else(|| r.clone()),
            (None, None) => format!("file://{}", store.repo().path().display()),
        };
        // Templates only from history that verifies: a hand edit of
        // `.ipr/templates/` is not what anyone approved.
        let mut overrides = BTreeMap::new();
        if trusted.config_violation().is_none() {
            for name in notify::email::TEMPLATE_NAMES {
                if let Some(bytes) =
                    store.read(Some(shared.tip), &format!(".ipr/templates/{name}"))?
                {
                    overrides.insert(
                        name.to_string(),
                        String::from_utf8_lossy(&bytes).into_owned(),
                    );
                }
            }
        }
        Ok(Context {
            config,
            source,
            templates: Templates::new(overrides),
            secrets: Secrets::from_config(config),
        })
    }

    fn message(&self, target: &Notification, event: Event) -> Message {
        let config = self.config;
        let t = &event.ticket;
        let url = config
            .server
            .as_ref()
            .and_then(|s| s.url.as_ref())
            .and_then(|u| u.join(&format!("requests/{}", event.request)).ok())
            .map(|u| u.to_string());
        let approvals = (
            t.approvers().len() as u32,
            policy::required_approvals(config, t),
        );
        let recipients = match target {
            Notification::Email(e) => audience(config, &event, &e.ops),
            _ => Vec::new(),
        };
        Message {
            event,
            source: self.source.clone(),
            url,
            approvals,
            recipients,
        }
    }
}

/// Whom an email about `event` goes to (SPEC §9): request-created to
/// those who may approve it; approved / rejected to the requester;
/// cancelled and deployment events to the requester and the approvers;
/// deployment-failed also to `ops`.
pub fn audience(config: &Config, event: &Event, ops: &[String]) -> Vec<String> {
    let t = &event.ticket;
    let requester = t.metadata.created_by.clone();
    let approvers = || t.approvers().into_iter().map(str::to_string);
    let mut out: Vec<String> = match event.kind {
        EventKind::RequestCreated => config
            .users
            .keys()
            .filter(|u| !same_email(u, &requester))
            .filter(|u| reviewer(config, u, t))
            .cloned()
            .collect(),
        EventKind::RequestApproved | EventKind::RequestRejected => vec![requester],
        EventKind::RequestCancelled
        | EventKind::DeploymentStarted
        | EventKind::DeploymentSucceeded => std::iter::once(requester).chain(approvers()).collect(),
        EventKind::DeploymentFailed => std::iter::once(requester)
            .chain(approvers())
            .chain(ops.iter().cloned())
            .collect(),
    };
    let mut seen: Vec<String> = Vec::new();
    out.retain(|a| {
        let fresh = !seen.iter().any(|s| same_email(s, a));
        seen.push(a.clone());
        fresh
    });
    out
}

/// Whether `user` may approve `t` while it is pending.
fn reviewer(config: &Config, user: &str, t: &crate::model::Ticket) -> bool {
    let mut pending = t.clone();
    pending.status.state = crate::model::State::Pending;
    policy::check(config, user, Capability::Review, &pending).is_ok()
}

/// The notifier of a front end: after commits land, deliver what is due,
/// and say what failed on the session's output. Never fails: a
/// notification is never a reason to lose, or fail, a transition.
pub struct Outbox<'a> {
    pub options: Options,
    /// Where failures are told (the CLI: stderr, even with `--quiet`).
    pub warnings: &'a dyn crate::session::Output,
}

impl Notifier for Outbox<'_> {
    fn landed(&self, store: &Store, _commits: &[Oid]) {
        match after_landing(store, &self.options) {
            Ok(report) => {
                for line in report.warning_lines() {
                    self.warnings.line(&format!("warning: {line}"));
                }
            }
            Err(e) => self.warnings.line(&format!(
                "warning: notifications not delivered: {}; `ipr notify` retries them",
                e.message()
            )),
        }
    }
}
