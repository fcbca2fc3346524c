//! Drift: objects changed outside Terraform (`ipr drift`).
//!
//! Detection is a refresh-only plan in the terraform runner's working
//! directory, `terraform plan -refresh-only -detailed-exitcode -out=FILE`
//! then `terraform show -json FILE`, whose `resource_drift` lists what
//! changed; [`crate::plan::analyze`] reads it into [`PlanReport::drift`].
//!
//! A drift request is a `terraform` request for the stack with
//! `spec.target.version: drift` (the [`MARKER`]). While one is open (not
//! deployed, rejected or cancelled) for a stack, `ipr drift --create` opens
//! no other.

use std::path::Path;

use git2::Oid;

use crate::action::{self, Done, Options};
use crate::config::Config;
use crate::config::RunnerDef;
use crate::error::{Error, Result};
use crate::model::{Impact, PreChecks, RequestDetails, Spec, Target, TargetType, Ticket};
use crate::plan::PlanReport;
use crate::plan_request::PlanInput;
use crate::runner::terraform::TerraformConfig;
use crate::session::Session;
use crate::store::Store;

/// `spec.target.version` of a drift request.
pub const MARKER: &str = "drift";

/// Run a refresh-only plan in the runner's working directory and return
/// `terraform show -json` of it. Nothing is written to the working
/// directory (the plan file is a temporary file) and nothing is applied.
pub fn detect(tf: &TerraformConfig, repo_root: &Path) -> Result<Vec<u8>> {
    let dir = repo_root.join(&tf.workdir);
    if !dir.is_dir() {
        return Err(Error::not_found(format!(
            "terraform working directory {} does not exist",
            dir.display()
        ))
        .with_hint(
            "set runners.definitions.NAME.workdir to the root module, relative to the repository",
        ));
    }
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("drift.tfplan");
    let out_arg = format!("-out={}", out.display());
    // -detailed-exitcode: 0 no drift, 1 error, 2 drift.
    tf.output(
        &dir,
        &[
            "plan",
            "-refresh-only",
            "-detailed-exitcode",
            "-input=false",
            "-no-color",
            &out_arg,
        ],
        &[0, 2],
    )?;
    let path = out.display().to_string();
    let (json, _) = tf.output(&dir, &["show", "-json", "-no-color", &path], &[0])?;
    Ok(json)
}

/// The open drift request of stack `name` at `at`, if there is one.
pub fn open_request(store: &Store, at: Option<Oid>, name: &str) -> Result<Option<Ticket>> {
    let nominees = store.tickets_where(at, |s| {
        s.name == name && s.version == MARKER && !s.state.is_terminal()
    })?;
    for t in nominees {
        let target = &t.spec.target;
        if target.kind == TargetType::Terraform
            && target.name == name
            && target.version == MARKER
            && !t.status.state.is_terminal()
        {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// What `ipr drift --create` is told besides the plan.
#[derive(Debug, Clone)]
pub struct DriftRequest {
    /// The stack: `spec.target.name`.
    pub name: String,
    pub source_env: String,
    pub target_env: String,
    /// Raises the impact above the plan's risk.
    pub impact: Option<Impact>,
    pub rollback_plan: Option<String>,
    pub pre_checks: PreChecks,
}

/// The spec of the request recording the drift in `plan`.
pub fn request_spec(req: &DriftRequest, plan: &PlanInput) -> Spec {
    let report = &plan.report;
    let n = report.drift.len();
    let risk = plan.plan_ref().risk;
    Spec {
        target: Target {
            kind: TargetType::Terraform,
            name: req.name.clone(),
            version: MARKER.to_string(),
            source_environment: req.source_env.clone(),
            target_environment: req.target_env.clone(),
        },
        request: RequestDetails {
            justification: format!(
                "Drift on {}: {n} object{} changed outside Terraform",
                req.name,
                if n == 1 { "" } else { "s" }
            ),
            release_notes: Some(release_notes(report)),
            impact_assessment: req.impact.unwrap_or(risk),
            rollback_plan: req.rollback_plan.clone().unwrap_or_else(|| {
                "Nothing to roll back: ipr drift recorded this request; the objects listed changed outside Terraform".to_string()
            }),
            scheduled_date: None,
        },
        pre_checks: req.pre_checks.clone(),
        plan: Some(plan.plan_ref()),
        promoted_from: None,
    }
}

/// The drifted objects, one Markdown list item each.
pub fn release_notes(report: &PlanReport) -> String {
    let mut notes = String::from("Changed outside Terraform (found by `ipr drift`):\n");
    for d in &report.drift {
        notes.push_str(&format!("- {} ({})\n", d.address, d.action));
    }
    notes
}

/// What `file_request` found or did.
#[derive(Debug)]
pub enum Filed {
    /// A drift request of the stack was already open: no new one.
    Open(Box<Ticket>),
    /// The new drift request.
    Created(Box<Done>),
}

/// Open the drift request of `req.name` as the session's actor, unless
/// one is open: at most one open drift request per stack, checked again
/// under the lock so that one opened meanwhile wins.
pub fn file_request(
    store: &Store,
    session: &Session,
    req: &DriftRequest,
    input: &PlanInput,
    tenant: Option<&str>,
    options: Options,
) -> Result<Filed> {
    if let Some(open) = open_request(store, store.head()?, &req.name)? {
        return Ok(Filed::Open(Box::new(open)));
    }
    let snap = action::snapshot(store, session)?;
    let tenant = match tenant {
        Some(t) => t.to_string(),
        None => {
            crate::request::default_tenant(&snap.config, &snap.actor.email).ok_or_else(|| {
                Error::invalid("missing --tenant (you have no single tenant)")
                    .with_hint("give --tenant TENANT")
            })?
        }
    };
    let spec = request_spec(req, input);
    let policies = crate::plan_request::create_gate(&input.json);
    let name = req.name.clone();
    let gate = |store: &Store, snap: &action::Snapshot, t: &mut Ticket| {
        if let Some(open) = open_request(store, snap.head, &name)? {
            return Err(Error::conflict(format!(
                "{} was opened for drift on {name} meanwhile",
                open.id()
            )));
        }
        policies(store, snap, t)
    };
    action::create_gated(store, session, spec, &tenant, options, &gate)
        .map(|done| Filed::Created(Box::new(done)))
}

/// Detect drift with the terraform runner of the legitimate config
/// (SPEC §10a: no binary or directory an unverified commit named):
/// `runner` by name, or the only terraform runner.
pub fn detect_in_repo(store: &Store, runner: Option<&str>) -> Result<PlanInput> {
    let root = store
        .workdir()
        .ok_or_else(|| Error::other("drift needs a work tree (this repository is bare)"))?
        .to_path_buf();
    let trusted = crate::trust::check(store, store.head()?)?;
    trusted.check_any()?;
    let config = trusted.config()?;
    let tf = terraform_runner(&config, runner)?;
    let json = detect(&tf, &root)?;
    PlanInput::from_json(json, None, &config.plan)
        .map_err(|e| e.context("terraform show -json of the refresh-only plan"))
}

/// The terraform runner definition: `name`, or the only one.
pub fn terraform_runner(config: &Config, name: Option<&str>) -> Result<TerraformConfig> {
    if let Some(name) = name {
        return match RunnerDef::named(config, name)? {
            RunnerDef::Terraform(tf) => Ok(tf),
            other => Err(Error::usage(format!(
                "runner {name} is a {} runner; drift needs a terraform runner",
                other.kind()
            ))),
        };
    }
    let mut found = Vec::new();
    for name in config.runners.definitions.keys() {
        if let RunnerDef::Terraform(tf) = RunnerDef::named(config, name)? {
            found.push((name.clone(), tf));
        }
    }
    match found.len() {
        1 => Ok(found.remove(0).1),
        0 => Err(Error::not_found(
            "no terraform runner under runners.definitions in .ipr/config.yaml",
        )
        .with_hint(
            "define one (`kind: terraform`, `binary`, `workdir`), or give --plan PLAN.json",
        )),
        _ => {
            let names: Vec<String> = found.into_iter().map(|(n, _)| n).collect();
            Err(Error::usage(format!(
                "several terraform runners ({}): pick one with --runner",
                names.join(", ")
            )))
        }
    }
}
