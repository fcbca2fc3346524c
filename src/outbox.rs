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
use crate::notify::{self, Message, Notifier, Sent, Templates, Transport};
use crate::policy::{self, Capability};
use crate::secrets::Secrets;
use crate::store::remote;
use crate::store::Store;
use crate::trust::{self, Trusted};

/// How long an action spends delivering before it leaves the rest to
/// `ipr notify`.
pub const ACTION_BUDGET: std::time::Duration = std::time::Duration::from_secs(15);

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
    /// Stop starting deliveries after this long; what is left waits for
    /// `ipr notify` (an action must not be held up by a backlog).
    pub budget: Option<std::time::Duration>,
    /// `--skip COMMIT`: mark the events of this commit delivered to the
    /// chosen targets without sending them (one that can never be
    /// delivered must not hold up the rest).
    pub skip: Option<Oid>,
    /// The commits the calling process just landed: a target with no
    /// record of deliveries starts with them.
    pub landed: Vec<Oid>,
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
    /// Events the receiver refused for good (a malformed-request answer,
    /// an address that does not exist): told once, not retried.
    pub rejected: Vec<Item>,
    /// Events skipped with `--skip`.
    pub skipped: Vec<Item>,
    /// Events left for `ipr notify` because the time budget ran out.
    pub deferred: usize,
    /// Whether what was delivered could not be recorded on the remote
    /// (other clones may deliver it again).
    pub unrecorded: bool,
    /// Other things the operator should know (a template that did not
    /// render, a commit whose events are withheld).
    pub warnings: Vec<String>,
}

impl Report {
    /// The warning lines of a run: one per failed target and per warning.
    pub fn warning_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.warnings.clone();
        for r in &self.rejected {
            out.push(format!(
                "notification {} ({}): {} {} was refused by the receiver and is not retried: {}",
                r.target,
                r.kind,
                r.event_type,
                r.request,
                r.error.as_deref().unwrap_or("refused")
            ));
        }
        if self.deferred > 0 {
            out.push(format!(
                "{} more event{} left for `ipr notify` (this command stopped delivering after its time budget)",
                self.deferred,
                if self.deferred == 1 { "" } else { "s" }
            ));
        }
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

/// The commit of `--skip`: a commit, or an event id (`<commit>.<index>`).
pub fn resolve_skip(store: &Store, text: &str) -> Result<Oid> {
    let commit = match text.rsplit_once('.') {
        Some((c, n)) if n.chars().all(|d| d.is_ascii_digit()) && !n.is_empty() => c,
        _ => text,
    };
    store.resolve(commit).map_err(|e| {
        Error::usage(format!(
            "--skip {text}: not a commit or an event id ({})",
            e.message()
        ))
    })
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
    if config.targets().is_empty() {
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
        if !config.targets().iter().any(|n| n.name() == name) {
            return Err(Error::not_found(format!(
                "no notification target named `{name}` in {CONFIG_PATH}"
            )));
        }
    }
    let all = config.targets();
    let targets: Vec<&Notification> = all
        .iter()
        .filter(|n| options.targets.is_empty() || options.targets.iter().any(|t| t == n.name()))
        .collect();
    if targets.is_empty() {
        return Ok(report);
    }
    // One delivery at a time in a clone: `ipr notify` waits for another,
    // then sees what it recorded; an action does not wait (what it misses,
    // the other delivers or `ipr notify` does).
    let _lock = if options.dry_run {
        None
    } else if options.budget.is_some() {
        match store.try_lock_named("ipr-notify.lock")? {
            Some(lock) => Some(lock),
            None => {
                report.warnings.push(
                    "another ipr in this clone is delivering notifications; `ipr notify` delivers anything it misses".into(),
                );
                return Ok(report);
            }
        }
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
        Some(Transport::new()?.with_state(store.repo().path().join("ipr").join("notify")))
    };
    let mut moved: Vec<Moved> = Vec::new();
    let mut withheld: Vec<Oid> = Vec::new();
    let started = std::time::Instant::now();
    for target in targets {
        let name = target.name();
        let local_ref = format!("{REF_PREFIX}{name}");
        let remote_ref = shared
            .remote
            .as_ref()
            .map(|r| format!("refs/ipr/remotes/{r}/notified/{name}"));
        let recorded = match &remote_ref {
            Some(r) => store.reference(r)?,
            None => None,
        };
        let hidden = start_of(
            store,
            &shared,
            name,
            &local_ref,
            recorded,
            options,
            &mut report,
        )?;
        let commits = store.commits_hiding(shared.tip, &hidden)?;
        let mut reached: Option<Oid> = None;
        let mut stopped = false;
        for commit in commits {
            if options.skip == Some(commit) && !stopped {
                for e in events::of_commit(store, commit)? {
                    report.skipped.push(item(target, &e, None));
                }
                reached = Some(commit);
                continue;
            }
            if trusted
                .violations
                .iter()
                .any(|v| v.commit == commit.to_string())
            {
                if !withheld.contains(&commit) {
                    withheld.push(commit);
                }
                if !stopped {
                    reached = Some(commit);
                }
                continue;
            }
            let events: Vec<Event> = events::of_commit(store, commit)?
                .into_iter()
                .filter(|e| target.filter().wants(e.kind, &e.ticket))
                .collect();
            for event in events {
                if stopped {
                    *report.waiting.entry(name.to_string()).or_default() += 1;
                    continue;
                }
                let Some(transport) = &transport else {
                    report.pending.push(item(target, &event, None));
                    continue;
                };
                if options.budget.is_some_and(|b| started.elapsed() > b) {
                    stopped = true;
                    report.deferred += 1;
                    continue;
                }
                let message = ctx.message(target, event.clone());
                match notify::send(transport, target, &message, &ctx.templates) {
                    Ok(Sent::Delivered { warnings }) => {
                        report.delivered.push(item(target, &event, None));
                        report.warnings.extend(
                            warnings
                                .iter()
                                .map(|w| format!("notification {name}: {}", ctx.secrets.scrub(w))),
                        );
                    }
                    Ok(Sent::Rejected(why)) => {
                        let why = ctx.secrets.scrub(&why);
                        report.rejected.push(item(target, &event, Some(why)));
                    }
                    Err(e) => {
                        stopped = true;
                        let text = ctx.secrets.scrub(&e.to_string());
                        report.failed.push(item(target, &event, Some(text)));
                    }
                }
            }
            if !stopped {
                reached = Some(commit);
            }
        }
        if let (Some(at), false) = (reached, options.dry_run) {
            store.set_reference(&local_ref, at, &format!("ipr notify: delivered to {name}"))?;
            moved.push(Moved {
                commit: at,
                name: local_ref,
                was: recorded,
            });
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
        // Each ref only moves forward from what was fetched (a lease), so
        // a concurrent delivery that recorded more is kept.
        let again = "; another clone may deliver these events again";
        let refs: Vec<remote::RefUpdate> = moved
            .iter()
            .map(|m| remote::RefUpdate {
                name: m.name.clone(),
                new: m.commit,
                expect: m.was,
            })
            .collect();
        match remote::push_refs(&dir, remote, &refs, options.no_input) {
            Ok(refused) => {
                report.unrecorded |= !refused.is_empty();
                report
                    .warnings
                    .extend(refused.into_iter().map(|(name, why)| {
                        format!(
                            "delivered, but {remote} refused to record it in {name} ({why}){again}"
                        )
                    }));
            }
            Err(e) => {
                report.unrecorded = true;
                report.warnings.push(format!(
                    "delivered, but could not record that on {remote} ({}){again}",
                    e.message()
                ));
            }
        }
    }
    Ok(report)
}

/// A delivery ref moved by this run: pushed with a lease on `was`.
struct Moved {
    commit: Oid,
    name: String,
    was: Option<Oid>,
}

fn item(target: &Notification, event: &Event, error: Option<String>) -> Item {
    Item {
        target: target.name().to_string(),
        kind: target.kind().to_string(),
        event: event.id.clone(),
        event_type: event.kind,
        request: event.request.to_string(),
        commit: event.commit.to_string(),
        error,
    }
}

/// The commits whose events target `name` has had (to hide from the walk
/// to the tip): what the local and the remote's delivery refs record, and
/// everything up to the commit that added the target to the config. A
/// ref that is not a commit of the branch (a rewritten branch, a ref set
/// by hand) is ignored, with a warning. A target that has no record and
/// has been in the config since the first commit starts with the commits
/// this process landed, or else now: history is not replayed to it.
fn start_of(
    store: &Store,
    shared: &Shared,
    name: &str,
    local_ref: &str,
    recorded: Option<Oid>,
    options: &Options,
    report: &mut Report,
) -> Result<Vec<Oid>> {
    let mut hidden: Vec<Oid> = Vec::new();
    for (refname, at) in [
        (local_ref.to_string(), store.reference(local_ref)?),
        (
            format!(
                "{} on {}",
                local_ref,
                shared.remote.as_deref().unwrap_or("")
            ),
            recorded,
        ),
    ] {
        let Some(at) = at else { continue };
        if store.is_ancestor(at, shared.tip) {
            hidden.push(at);
        } else {
            report.warnings.push(format!(
                "{refname} does not point at a commit of {}; ignored",
                shared.name
            ));
        }
    }
    match added_at(store, shared.tip, name, &hidden)? {
        Birth::At(commit) => hidden.push(commit),
        Birth::BeforeRecord => {}
        Birth::Root if hidden.is_empty() => match options.landed.first() {
            Some(first) => hidden.extend(store.first_parent(*first)?),
            None => hidden.push(shared.tip),
        },
        Birth::Root => {}
    }
    Ok(hidden)
}

enum Birth {
    /// The config first names the target after this commit.
    At(Oid),
    /// It did so already at a commit a delivery ref records.
    BeforeRecord,
    /// It has named it since the first commit.
    Root,
}

/// Walk first parents back from `tip` while the config names target
/// `name`, stopping at a recorded commit (so a run costs what is new).
fn added_at(store: &Store, tip: Oid, name: &str, recorded: &[Oid]) -> Result<Birth> {
    let mut at = tip;
    let mut blob: Option<Oid> = None;
    let mut names = true;
    let mut first = true;
    loop {
        if recorded.contains(&at) {
            return Ok(Birth::BeforeRecord);
        }
        let b = store.blob_at(
            crate::store::history::Side::Tree(store.tree_id(at)?),
            CONFIG_PATH,
        )?;
        if first || b != blob {
            first = false;
            blob = b;
            names = match b {
                Some(id) => Config::from_yaml(&store.blob(id)?, CONFIG_PATH)
                    .map(|c| c.targets().iter().any(|n| n.name() == name))
                    .unwrap_or(false),
                None => false,
            };
        }
        if !names {
            return Ok(Birth::At(at));
        }
        match store.first_parent(at)? {
            Some(p) => at = p,
            None => return Ok(Birth::Root),
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
        // CloudEvents `source`: what receivers de-duplicate on, with `id`.
        // `server.url` is the same from every clone; a remote's URL as
        // this clone spells it; with no remote, the repository's first
        // commit (no local path leaves the machine).
        let source = match (server, &shared.remote) {
            (Some(u), _) => u.to_string(),
            (None, Some(r)) => uri_of(&store.remote_url(r).unwrap_or_else(|| r.clone())),
            (None, None) => format!("urn:ipr:{}", root_of(store, shared.tip)?),
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

/// A remote's URL as a URI: `git@host:org/repo.git` (scp-like) becomes
/// `ssh://git@host/org/repo.git`, a path becomes `file://`.
fn uri_of(remote: &str) -> String {
    if url::Url::parse(remote).is_ok() {
        return remote.to_string();
    }
    if let Some((host, path)) = remote.split_once(':') {
        if !host.contains('/') && !path.starts_with("//") {
            return format!("ssh://{host}/{}", path.trim_start_matches('/'));
        }
    }
    match std::path::Path::new(remote).canonicalize() {
        Ok(p) => format!("file://{}", p.display()),
        Err(_) => remote.to_string(),
    }
}

/// The first commit of the branch.
fn root_of(store: &Store, tip: Oid) -> Result<Oid> {
    let mut at = tip;
    while let Some(p) = store.first_parent(at)? {
        at = p;
    }
    Ok(at)
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
        | EventKind::RequestCommented
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

/// Where the branch was before a command, to deliver what the command
/// landed after it.
pub struct Mark(Option<Oid>);

impl Mark {
    pub fn take(store: &Store) -> Mark {
        Mark(store.head().ok().flatten())
    }

    /// If the branch moved since the mark, hand what landed to `notifier`.
    pub fn deliver_since(&self, store: &Store, notifier: &dyn Notifier) {
        let Ok(Some(now)) = store.head() else { return };
        if Some(now) == self.0 {
            return;
        }
        let commits = store.commits_between(self.0, now).unwrap_or_default();
        notifier.landed(store, &commits);
    }
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
    fn landed(&self, store: &Store, commits: &[Oid]) {
        let options = Options {
            landed: commits.to_vec(),
            budget: Some(self.options.budget.unwrap_or(ACTION_BUDGET)),
            ..self.options.clone()
        };
        // Whatever a receiver or git said goes to a terminal: escaped.
        match after_landing(store, &options) {
            Ok(report) => {
                for line in report.warning_lines() {
                    self.warnings
                        .line(&format!("warning: {}", crate::text::esc(&line)));
                }
            }
            Err(e) => self.warnings.line(&format!(
                "warning: notifications not delivered: {}; `ipr notify` retries them",
                crate::text::esc(e.message())
            )),
        }
    }
}
