//! Recovery by admins (SPEC §10a): `ipr waive` accepts a commit that does
//! not verify, `ipr import` brings tickets from another system. Each is an
//! ordinary, audited commit that `ipr verify` understands.

use git2::Oid;

use crate::action::{self, Options};
use crate::error::{Error, Remedy, Result};
use crate::model::{RequestId, Ticket};
use crate::policy;
use crate::session::Session;
use crate::store::{Change, Store};
use crate::trust::check_signed_by;
use crate::verify::Violation;
use crate::waiver::{Waiver, Waivers, MIN_WAIVER_REASON, WAIVERS_PATH};

/// What `ipr waive` did.
#[derive(Debug, Clone)]
pub struct Waived {
    /// The commit whose violations are now accepted.
    pub target: Oid,
    pub violations: Vec<Violation>,
    /// The commit that records the waiver.
    pub commit: Oid,
}

/// `ipr waive COMMIT --reason R`: record in `.ipr/waivers.yaml` that an
/// admin accepts the violations of `rev`.
pub fn waive(
    store: &Store,
    session: &Session,
    rev: &str,
    reason: &str,
    options: Options,
) -> Result<Waived> {
    let _lock = store.lock()?;
    // Not `check_any`: this is how an admin gets out of a refused state.
    let snap = action::snapshot(store, session)?;
    policy::check_admin(&snap.config, &snap.actor.email)
        .map_err(|e| e.with_hint("only admins may waive violations"))?;
    if crate::model::visible_len(reason) < MIN_WAIVER_REASON {
        return Err(Error::invalid(format!(
            "--reason must be at least {MIN_WAIVER_REASON} characters: say why the change is accepted"
        )));
    }
    let target = store.resolve(rev)?;
    let head = snap
        .head
        .ok_or_else(|| Error::not_found("this branch has no commits"))?;
    let on_branch = target == head
        || store
            .repo()
            .graph_descendant_of(head, target)
            .unwrap_or(false);
    if !on_branch {
        return Err(Error::not_found(format!(
            "commit {} is not on this branch",
            &target.to_string()[..12]
        )));
    }
    let full = target.to_string();
    let violations: Vec<Violation> = snap
        .trust
        .violations
        .iter()
        .filter(|v| v.commit == full)
        .cloned()
        .collect();
    let mut waivers = match store.read(snap.head, WAIVERS_PATH)? {
        Some(bytes) => Waivers::from_yaml(&bytes)?,
        None => Waivers::default(),
    };
    if waivers.waivers.iter().any(|w| w.commit == full) {
        return Err(Error::conflict(format!(
            "commit {} is already waived",
            &full[..12]
        )));
    }
    if violations.is_empty() {
        return Err(
            Error::invalid(format!("commit {} has no violations to waive", &full[..12]))
                .with_remedy(Remedy::ListViolations),
        );
    }
    waivers.waivers.push(Waiver {
        commit: full.clone(),
        reason: reason.trim().to_string(),
        by: snap.actor.email.clone(),
        at: snap.now,
    });
    let commit = action::commit_ipr_file(
        store,
        session,
        &snap,
        WAIVERS_PATH,
        waivers.to_yaml().as_bytes(),
        "waive",
        &full[..12],
        options,
    )?;
    Ok(Waived {
        target,
        violations,
        commit,
    })
}

/// One ticket file to import: its name (for errors) and bytes.
pub struct ImportFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// `ipr import FILE...`: commit each ticket unchanged, one commit each, in
/// ID order. Every file is checked before the first commit.
pub fn import(
    store: &Store,
    session: &Session,
    files: &[ImportFile],
    options: Options,
) -> Result<Vec<(Ticket, Oid)>> {
    let _lock = store.lock()?;
    let snap = action::snapshot(store, session)?;
    snap.trust.check_any()?;
    policy::check_admin(&snap.config, &snap.actor.email)
        .map_err(|e| e.with_hint("only admins may import tickets"))?;
    let mut tickets: Vec<(Ticket, &ImportFile)> = Vec::new();
    for f in files {
        let t = Ticket::from_yaml(&f.bytes, &f.name)?;
        if !snap.config.tenants.contains(&t.metadata.tenant) {
            return Err(Error::invalid(format!(
                "{}: tenant `{}` is not in .ipr/config.yaml",
                f.name, t.metadata.tenant
            )));
        }
        tickets.push((t, f));
    }
    tickets.sort_by_key(|(t, _)| t.id());
    for pair in tickets.windows(2) {
        if pair[0].0.id() == pair[1].0.id() {
            return Err(Error::invalid(format!(
                "{} and {} are both {}",
                pair[0].1.name,
                pair[1].1.name,
                pair[0].0.id()
            )));
        }
    }
    let taken = |id: RequestId| -> Result<bool> {
        Ok(snap.trust.state.ids.used(id) || store.id_exists(snap.head, id)?)
    };
    for (t, f) in &tickets {
        if taken(t.id())? {
            return Err(Error::conflict(format!(
                "{}: {} exists, or existed, on this branch; IDs are never reused",
                f.name,
                t.id()
            )));
        }
    }
    let signer = action::signer(store, session, &snap.config, options.sign)?;
    let mut head = snap.head;
    let mut done = Vec::new();
    for (t, f) in tickets {
        let path = t.path();
        let subject = t.id().to_string();
        let commit = store.build_commit(&Change {
            parent: head,
            path: &path,
            content: &f.bytes,
            action: "import",
            subject: &subject,
            actor: &snap.actor,
            time: snap.now,
            signer: signer.as_ref(),
            via: None,
            slack_user: None,
            committer: None,
        })?;
        check_signed_by(store, &snap.trust, &snap.config, commit, &snap.actor.email)?;
        store.land(head, commit, &format!("ipr: import {subject}"))?;
        head = Some(commit);
        done.push((t, commit));
    }
    Ok(done)
}
