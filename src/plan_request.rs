//! Terraform plan requests (SPEC §8): the plan a request is filed with, and
//! the policies of `.ipr/policies/*.rego` (see [`crate::rego`]) checked
//! against it when the request is created and again before it is deployed.
//!
//! Policies apply to `terraform` requests only, and are read from the tree
//! committed on the branch, like the config. Every `deny` message blocks
//! (exit 3, nothing committed); `warn` messages are shown, and at create
//! stored in `spec.plan.warnings`, so the approvals (whose digest covers the
//! spec) cover them too.

use std::path::Path;

use git2::Oid;

use crate::action::Snapshot;
use crate::config::RunnerDef;
use crate::error::{Error, Remedy, Result};
use crate::model::{PlanRef, TargetType, Ticket};
use crate::plan::{self, PlanConfig, PlanReport};
use crate::rego::{self, Finding, PolicySet, Source};
use crate::runner::terraform::{file_sha256, TerraformConfig};
use crate::store::Store;

/// Where a gitops repo keeps its policies.
pub const POLICIES_DIR: &str = ".ipr/policies";

/// Plan JSON larger than this is refused before reading (a 20,000-change
/// plan is about 50 MB).
pub const MAX_PLAN_BYTES: u64 = 1 << 30;

const HINT_SHOW_JSON: &str = "write it with `terraform show -json tfplan > plan.json`";

/// A plan given to ipr: the `terraform show -json` bytes, their analysis,
/// and the hash of the saved binary plan when one was given.
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub json: Vec<u8>,
    pub report: PlanReport,
    pub file_sha256: Option<String>,
    /// Its monthly cost, from infracost (`--cost`).
    pub cost: Option<plan::Cost>,
}

impl PlanInput {
    /// Read and analyse `json` (`-` is stdin) and hash `binary`. A plan that
    /// terraform could not finish (`errored`) is refused: it cannot be applied.
    pub fn load(json: &Path, binary: Option<&Path>, cfg: &PlanConfig) -> Result<PlanInput> {
        let bytes = read_json(json)?;
        let file_sha256 = binary.map(file_sha256).transpose()?;
        PlanInput::from_json(bytes, file_sha256, cfg).map_err(|e| e.context(json.display()))
    }

    /// [`PlanInput::load`] of JSON already read.
    pub fn from_json(
        json: Vec<u8>,
        file_sha256: Option<String>,
        cfg: &PlanConfig,
    ) -> Result<PlanInput> {
        let report = plan::analyze(&json, cfg)?;
        if report.errored {
            return Err(Error::invalid(
                "terraform reported errors while planning; this plan cannot be applied",
            )
            .with_hint(
                "fix the errors `terraform plan` prints, then save and show the plan again",
            ));
        }
        Ok(PlanInput {
            cost: None,
            json,
            report,
            file_sha256,
        })
    }

    /// What the ticket stores (`spec.plan`).
    pub fn plan_ref(&self) -> PlanRef {
        let mut r = plan::plan_ref(&self.json, None, &self.report);
        r.file_sha256 = self.file_sha256.clone();
        r.cost = self.cost.clone();
        r
    }
}

/// Read `terraform show -json` output from a file, or stdin for `-`.
pub fn read_json(path: &Path) -> Result<Vec<u8>> {
    read_input(path, "plan JSON file", MAX_PLAN_BYTES, HINT_SHOW_JSON)
}

/// Cost JSON larger than this is refused before reading (infracost's
/// breakdown of a 2,000-resource plan is a few MB).
pub const MAX_COST_BYTES: u64 = 64 << 20;

const HINT_INFRACOST_JSON: &str =
    "write it with `infracost breakdown --path plan.json --format json --out-file infracost.json`";

/// Read and check the output of `infracost breakdown --format json` (`-`
/// is stdin): the cost `spec.plan.cost` stores, see [`plan::parse_cost`].
pub fn read_cost(path: &Path) -> Result<plan::Cost> {
    let bytes = read_input(
        path,
        "infracost JSON file",
        MAX_COST_BYTES,
        HINT_INFRACOST_JSON,
    )?;
    plan::parse_cost(&bytes, &path.display().to_string())
}

/// Read the file `path` (`-` is stdin) of at most `max_bytes`. `what`
/// names it in errors (`plan JSON file`); `hint` says how to write one.
fn read_input(path: &Path, what: &str, max_bytes: u64, hint: &str) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let too_large = || {
        Error::invalid(format!(
            "{name}: larger than the {} limit for a {what}",
            size(max_bytes)
        ))
    };
    if name == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), max_bytes + 1),
            &mut buf,
        )?;
        if buf.len() as u64 > max_bytes {
            return Err(too_large());
        }
        return Ok(buf);
    }
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::not_found(format!("{name}: {e}")).with_hint(hint))?;
    if meta.is_dir() {
        return Err(Error::invalid(format!("{name} is a directory, not a {what}")).with_hint(hint));
    }
    if meta.len() > max_bytes {
        return Err(too_large());
    }
    std::fs::read(path).map_err(|e| Error::other(format!("{name}: {e}")))
}

/// `1 GiB`, `64 MiB`.
fn size(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}

/// The policies committed at `at`, or `None` when there are none.
pub fn policies_at(store: &Store, at: Option<Oid>) -> Result<Option<PolicySet>> {
    let files = store.files_in(at, POLICIES_DIR, ".rego")?;
    if files.is_empty() {
        return Ok(None);
    }
    let mut sources = Vec::new();
    for f in files {
        let text = String::from_utf8(f.bytes)
            .map_err(|_| Error::invalid(format!("{}: not valid UTF-8", f.path)))?;
        sources.push(Source { path: f.path, text });
    }
    Ok(Some(PolicySet::load(&sources)?))
}

/// Evaluate `policies` for the request `what` (`ticket`, with its plan):
/// the `deny`s together are one permission error that carries them all
/// ([`Error::findings`]; the CLI prints them as `deny:` lines above the
/// `error:` line); the `warn`s are returned.
pub fn check(
    policies: &mut PolicySet,
    plan_json: &[u8],
    ticket: &Ticket,
    what: &str,
) -> Result<Vec<Finding>> {
    let request = serde_json::to_value(ticket).expect("a ticket always serializes");
    let verdict = policies.evaluate(&rego::input(plan_json, &request)?)?;
    if verdict.deny.is_empty() {
        return Ok(verdict.warn);
    }
    let mut per_policy: Vec<(&str, usize)> = Vec::new();
    for f in &verdict.deny {
        match per_policy.iter_mut().find(|(p, _)| *p == f.policy) {
            Some((_, n)) => *n += 1,
            None => per_policy.push((&f.policy, 1)),
        }
    }
    let counts: Vec<String> = per_policy
        .iter()
        .map(|(p, n)| format!("{} {n}", p.rsplit('/').next().unwrap_or(p)))
        .collect();
    let n = verdict.deny.len();
    Err(Error::permission(format!(
        "{what} is denied by {POLICIES_DIR}: {n} violation{} ({}), listed above",
        if n == 1 { "" } else { "s" },
        counts.join(", ")
    ))
    .with_detail(crate::error::Detail::Denied(verdict.deny.clone()))
    .with_remedy(Remedy::FixPlanForPolicies { dir: POLICIES_DIR }))
}

/// `plan:` of the legitimate config (SPEC §10a) at the branch tip; the
/// defaults in a repository without a committed config, or on a detached
/// or unborn HEAD.
pub fn plan_config(store: &Store) -> Result<crate::plan::PlanConfig> {
    let Ok(head) = store.head() else {
        return Ok(crate::plan::PlanConfig::default());
    };
    // A committed config that does not parse is reported as such; one that
    // parses is used only as far as it verifies.
    match store.config(head) {
        Ok(_) => Ok(crate::trust::check(store, head)?.config()?.plan),
        Err(e) if e.kind() == crate::error::Kind::NotFound => {
            Ok(crate::plan::PlanConfig::default())
        }
        Err(e) => Err(e),
    }
}

/// The folder of `.ipr/policies` in the work tree.
pub fn policies_dir(store: &Store) -> Result<std::path::PathBuf> {
    let root = store
        .workdir()
        .ok_or_else(|| Error::other("this repository has no work tree; give DIR"))?;
    Ok(root.join(POLICIES_DIR))
}

/// The check `ipr create` runs on the new ticket, under the repository
/// lock: the policies committed at the snapshot, whose warnings are stored
/// in `spec.plan.warnings`.
pub fn create_gate<'a>(
    plan_json: &'a [u8],
) -> impl Fn(&Store, &Snapshot, &mut Ticket) -> Result<()> + 'a {
    move |store, snap, ticket| {
        if ticket.spec.target.kind != TargetType::Terraform {
            return Ok(());
        }
        let Some(mut policies) = policies_at(store, snap.head)? else {
            return Ok(());
        };
        let warnings = check(&mut policies, plan_json, ticket, "the request")?;
        if let Some(plan) = ticket.spec.plan.as_mut() {
            for w in warnings {
                if !plan.warnings.contains(&w.message) {
                    plan.warnings.push(w.message);
                }
            }
        }
        Ok(())
    }
}

/// Before a deploy of a `terraform` request: when policies are committed,
/// check them against the approved plan. The plan JSON comes from the
/// terraform runner (`terraform show -json` of the saved plan file, once
/// its hash matches `spec.plan.fileSha256`); another runner gives ipr no
/// plan, so the deploy is refused rather than left unchecked.
pub fn check_deploy(
    store: &Store,
    at: Option<Oid>,
    ticket: &Ticket,
    runner: (&str, &RunnerDef),
    repo_root: &Path,
) -> Result<Vec<Finding>> {
    if ticket.spec.target.kind != TargetType::Terraform {
        return Ok(Vec::new());
    }
    let Some(mut policies) = policies_at(store, at)? else {
        return Ok(Vec::new());
    };
    let (name, def) = runner;
    let RunnerDef::Terraform(tf) = def else {
        return Err(Error::permission(format!(
            "{} is a terraform request and {POLICIES_DIR} has policies, but runner {name} ({}) gives ipr no plan to check them against",
            ticket.id(),
            def.kind()
        ))
        .with_hint("deploy terraform requests with a terraform runner (`runners.definitions.NAME.kind: terraform`)"));
    };
    let json = show_json(tf, repo_root, ticket)?;
    check(&mut policies, &json, ticket, &ticket.id().to_string())
}

/// `terraform show -json` of the runner's saved plan file, after checking
/// the file is the approved one.
fn show_json(tf: &TerraformConfig, repo_root: &Path, ticket: &Ticket) -> Result<Vec<u8>> {
    let dir = repo_root.join(&tf.workdir);
    let plan_path = dir.join(&tf.plan_file);
    let approved = ticket
        .spec
        .plan
        .as_ref()
        .and_then(|p| p.file_sha256.as_deref());
    let Some(approved) = approved else {
        return Err(Error::conflict(format!(
            "{} records no saved plan (spec.plan.fileSha256); the terraform runner applies only an approved plan file",
            ticket.id()
        ))
        .with_remedy(Remedy::FileTerraformRequest));
    };
    let actual = file_sha256(&plan_path)?;
    if actual != approved {
        return Err(Error::conflict(format!(
            "plan file {} is not the approved plan: its hash is {actual}, the request approved {approved}",
            plan_path.display()
        ))
        .with_hint("apply only what was approved: restore that plan file, or file a new request for the new plan"));
    }
    tf.output(&dir, &["show", "-json", "-no-color", &tf.plan_file], &[0])
        .map(|(out, _)| out)
}
