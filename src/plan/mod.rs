//! Terraform plan analysis (SPEC §8): what `ipr plan analyze` reports.
//!
//! The input is the output of `terraform show -json PLANFILE` (or `tofu show
//! -json`), JSON plan format 1.x. Any 1.x minor version is read; properties
//! this module does not know are ignored, as the format's compatibility
//! promise intends. Another major version, state JSON, or anything that is
//! not a plan is refused with [`Kind::Invalid`](crate::Kind::Invalid).
//!
//! # Risk rules
//!
//! Each managed resource change gets a risk:
//!
//! | action | risk |
//! |---|---|
//! | delete, replace (`["delete","create"]` or `["create","delete"]`) | high |
//! | create a replacement and forget the old object (`["create","forget"]`) | high |
//! | update of a stateful type ([`PlanConfig::stateful_types`]) | medium |
//! | forget (removed from state, object left running unmanaged) | medium |
//! | update of any other type | low |
//! | create | low |
//! | no-op (including move-only and import-only), read | low |
//! | an action list this version does not know | high |
//!
//! The plan's risk is the highest resource risk (low for an empty plan),
//! raised to **critical** when the number of deletions (deletes, replaces
//! and deposed-object deletes: terraform's "to destroy" count) exceeds
//! [`PlanConfig::critical_deletes`], or when any stateful resource is deleted
//! or replaced. [`PlanReport::reasons`] lists the rules that put the plan at
//! its level, and only those.
//!
//! Data sources (`mode: "data"`) read during apply are reported in
//! [`PlanReport::reads`] and carry no risk. Drift (`resource_drift`, objects
//! changed outside Terraform) is reported in [`PlanReport::drift`]; it does
//! not change the risk by itself, since whatever the plan does about it is
//! already a resource change.

mod cost;
mod raw;
mod render;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{hex, Impact, PlanRef};

pub use cost::{parse_cost, Cost};
pub use render::{render_markdown, render_table, ROLLBACK_PLACEHOLDER};

/// Default of `plan.criticalDeletes`.
pub const DEFAULT_CRITICAL_DELETES: usize = 5;

/// Default of `plan.statefulTypes`: resource types that hold data, so that
/// deleting or replacing one can lose it.
pub const DEFAULT_STATEFUL_TYPES: &[&str] = &[
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_dynamodb_table",
    "aws_s3_bucket",
    "aws_ebs_volume",
    "aws_efs_file_system",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_route53_zone",
    "aws_kms_key",
    "google_sql_database_instance",
    "google_storage_bucket",
    "google_compute_disk",
    "google_dns_managed_zone",
    "google_kms_crypto_key",
    "azurerm_postgresql_server",
    "azurerm_postgresql_flexible_server",
    "azurerm_mssql_database",
    "azurerm_storage_account",
    "azurerm_managed_disk",
    "azurerm_dns_zone",
    "azurerm_key_vault_key",
];

/// [`Summary::line`] of a plan that changes nothing.
pub const NO_CHANGES: &str = "No changes.";

/// Plan format major version this module reads.
const SUPPORTED_MAJOR: &str = "1";

const HINT_MAKE_PLAN: &str =
    "save a plan with `terraform plan -out=tfplan`, then run `terraform show -json tfplan > plan.json`";

/// `plan:` in `.ipr/config.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PlanConfig {
    /// More deletions than this make a plan critical.
    pub critical_deletes: usize,
    /// Resource types whose delete or replace makes a plan critical and whose
    /// update is medium risk. An entry ending in `*` is a prefix
    /// (`aws_rds_*`). Setting the list replaces the default list.
    pub stateful_types: Vec<String>,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            critical_deletes: DEFAULT_CRITICAL_DELETES,
            stateful_types: DEFAULT_STATEFUL_TYPES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

impl PlanConfig {
    /// Whether `resource_type` is listed in `statefulTypes` (exactly, or by a
    /// `prefix*` entry).
    pub fn is_stateful(&self, resource_type: &str) -> bool {
        self.stateful_types
            .iter()
            .any(|entry| match entry.strip_suffix('*') {
                Some(prefix) => resource_type.starts_with(prefix),
                None => entry == resource_type,
            })
    }
}

/// What terraform will do to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Delete then create, or create then delete (`create_before_destroy`).
    Replace,
    /// Create a replacement and forget (not destroy) the old object.
    ReplaceForget,
    /// Remove from state without destroying (`removed` with `destroy = false`).
    Forget,
    Read,
    NoOp,
    /// An action list this version of ipr does not know.
    Unknown,
}

impl Action {
    /// Classify a `change.actions` list.
    pub fn from_actions<S: AsRef<str>>(actions: &[S]) -> Action {
        let a: Vec<&str> = actions.iter().map(AsRef::as_ref).collect();
        match a.as_slice() {
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete"] => Action::Delete,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            ["create", "forget"] => Action::ReplaceForget,
            ["forget"] => Action::Forget,
            ["read"] => Action::Read,
            ["no-op"] => Action::NoOp,
            _ => Action::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Replace => "replace",
            Action::ReplaceForget => "replace-forget",
            Action::Forget => "forget",
            Action::Read => "read",
            Action::NoOp => "no-op",
            Action::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The analysis of one plan. Serialized (camelCase) for `--format json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanReport {
    /// The plan's `format_version`, e.g. `1.2`.
    pub format_version: String,
    pub terraform_version: Option<String>,
    pub summary: Summary,
    pub risk: Impact,
    /// Why the plan has its risk: the rules that fired at that level.
    pub reasons: Vec<String>,
    /// Every managed `resource_changes[]` entry, no-ops included, in plan order.
    pub resources: Vec<ResourceChange>,
    /// Data sources that will be read during apply.
    pub reads: Vec<DataRead>,
    /// Objects changed outside Terraform (`resource_drift[]`, no-ops left out).
    pub drift: Vec<Drift>,
    /// Terraform's `applyable`, where the plan says.
    pub applyable: Option<bool>,
    /// Terraform's `errored`: planning failed, the plan cannot be applied.
    pub errored: bool,
}

impl PlanReport {
    /// The resource types the plan changes (no-ops left out), sorted and
    /// once each: what approval rules match (`when.planTypes`).
    pub fn resource_types(&self) -> Vec<String> {
        let mut types: Vec<String> = self
            .resources
            .iter()
            .filter(|r| r.is_change())
            .map(|r| r.resource_type.clone())
            .collect();
        types.sort();
        types.dedup();
        types
    }
}

/// Counts, and the summary line terraform prints last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// `Plan: 1 to add, 2 to change, 1 to destroy.` or `No changes.`
    pub line: String,
    /// Creates plus replaces (terraform's "to add").
    pub add: usize,
    /// In-place updates.
    pub change: usize,
    /// Deletes plus replaces (terraform's "to destroy"); the deletions
    /// compared with `plan.criticalDeletes`.
    pub destroy: usize,
    /// Replaces, which `add` and `destroy` each count once.
    pub replace: usize,
    pub import: usize,
    /// Objects removed from state without being destroyed.
    pub forget: usize,
    /// Moved objects (`previous_address`).
    #[serde(rename = "move")]
    pub moves: usize,
    /// Data sources read during apply.
    pub read: usize,
    pub drift: usize,
    /// Root module outputs whose value changes.
    pub output_changes: usize,
}

/// One managed resource change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChange {
    pub address: String,
    pub module_address: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    pub action: Action,
    /// `change.actions` as terraform wrote it (gives a replace's order).
    pub actions: Vec<String>,
    /// Terraform's `action_reason`, e.g. `replace_because_cannot_update`.
    pub action_reason: Option<String>,
    pub previous_address: Option<String>,
    /// Key of the deposed object this change is about.
    pub deposed: Option<String>,
    pub importing: bool,
    /// Whether the type is in `plan.statefulTypes`.
    pub stateful: bool,
    pub risk: Impact,
    /// Human-readable explanation (action reason, stateful, moved, ...).
    pub reason: String,
}

impl ResourceChange {
    /// Whether a reviewer needs to see this entry: anything but a plain no-op.
    pub fn is_change(&self) -> bool {
        self.action != Action::NoOp || self.importing || self.previous_address.is_some()
    }

    /// The action as a reviewer reads it: `import` and `move` for no-ops that
    /// do those.
    pub fn display_action(&self) -> &'static str {
        match self.action {
            Action::NoOp if self.importing => "import",
            Action::NoOp if self.previous_address.is_some() => "move",
            a => a.as_str(),
        }
    }
}

/// A data source read during apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataRead {
    pub address: String,
    pub module_address: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    pub action_reason: Option<String>,
    pub reason: String,
}

/// An object that changed outside Terraform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub address: String,
    pub module_address: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    pub action: Action,
    pub actions: Vec<String>,
}

/// Analyse `terraform show -json` output.
pub fn analyze(json: &[u8], cfg: &PlanConfig) -> Result<PlanReport> {
    let text = check_encoding(json)?;
    let plan: raw::Plan = serde_json::from_slice(text).map_err(|e| parse_error(text, &e))?;

    let Some(version) = plan.format_version.as_ref() else {
        return Err(
            Error::invalid("not a Terraform plan: no `format_version` field")
                .with_hint(HINT_MAKE_PLAN),
        );
    };
    check_version(version.as_str(), plan.terraform_version.as_ref())?;
    if plan.planned_values.is_none() && plan.resource_changes.is_none() {
        let message = if plan.values.is_some() {
            "this is Terraform state, not a plan (`terraform show -json` without a plan file prints the state)"
        } else {
            "not a Terraform plan: no `planned_values` or `resource_changes`"
        };
        return Err(Error::invalid(message).with_hint(HINT_MAKE_PLAN));
    }

    let mut resources = Vec::new();
    let mut reads = Vec::new();
    for rc in plan.resource_changes.iter().flatten() {
        match rc.mode.as_str() {
            "managed" => resources.push(resource_change(rc, cfg)),
            // Data sources deleted or unchanged are not shown by terraform either.
            "data" if Action::from_actions(&texts(&rc.change.actions)) == Action::Read => {
                let action_reason = opt(&rc.action_reason);
                reads.push(DataRead {
                    address: rc.address.as_str().to_owned(),
                    module_address: opt(&rc.module_address),
                    resource_type: rc.kind.as_str().to_owned(),
                    name: rc.name.as_str().to_owned(),
                    reason: action_reason
                        .as_deref()
                        .map(describe_action_reason)
                        .unwrap_or_default(),
                    action_reason,
                });
            }
            // Only two modes exist; a future one is not ours to judge.
            _ => {}
        }
    }
    let drift: Vec<Drift> = plan
        .resource_drift
        .iter()
        .flatten()
        .filter_map(|rc| {
            let actions = texts(&rc.change.actions);
            let action = Action::from_actions(&actions);
            (action != Action::NoOp).then(|| Drift {
                address: rc.address.as_str().to_owned(),
                module_address: opt(&rc.module_address),
                resource_type: rc.kind.as_str().to_owned(),
                name: rc.name.as_str().to_owned(),
                action,
                actions: actions.iter().map(|s| s.to_string()).collect(),
            })
        })
        .collect();
    let output_changes = plan
        .output_changes
        .iter()
        .flatten()
        .filter(|(_, c)| Action::from_actions(&texts(&c.actions)) != Action::NoOp)
        .count();

    let summary = summarize(&resources, reads.len(), drift.len(), output_changes);
    let (risk, reasons) = plan_risk(&resources, &summary, cfg);
    Ok(PlanReport {
        format_version: version.as_str().to_owned(),
        terraform_version: opt(&plan.terraform_version),
        summary,
        risk,
        reasons,
        resources,
        reads,
        drift,
        applyable: plan.applyable,
        errored: plan.errored.unwrap_or(false),
    })
}

/// What a ticket stores about the plan it was approved for: `sha256:<hex>`
/// of the JSON and (when given) of the saved binary plan, the summary line
/// and the risk.
pub fn plan_ref(json: &[u8], binary_plan: Option<&[u8]>, report: &PlanReport) -> PlanRef {
    PlanRef {
        json_sha256: sha256_ref(json),
        file_sha256: binary_plan.map(sha256_ref),
        summary: report.summary.line.clone(),
        risk: report.risk,
        warnings: Vec::new(),
        resource_types: report.resource_types(),
        cost: None,
    }
}

/// `sha256:<hex>` of `bytes`, the form [`PlanRef`] stores.
pub fn sha256_ref(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn texts<'s>(actions: &'s [raw::Text<'_>]) -> Vec<&'s str> {
    actions.iter().map(raw::Text::as_str).collect()
}

fn opt(t: &Option<raw::Text<'_>>) -> Option<String> {
    t.as_ref().map(|t| t.as_str().to_owned())
}

/// Refuse what cannot be JSON text before parsing; drop a UTF-8 BOM.
fn check_encoding(json: &[u8]) -> Result<&[u8]> {
    if json.starts_with(&[0xFF, 0xFE]) || json.starts_with(&[0xFE, 0xFF]) {
        return Err(
            Error::invalid("plan JSON is UTF-16 encoded; expected UTF-8").with_hint(
                "PowerShell's `>` writes UTF-16: use `terraform show -json tfplan | Out-File -Encoding utf8 plan.json`",
            ),
        );
    }
    let text = json.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(json);
    let Some(&first) = text.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(Error::invalid(
            "empty input: expected the output of `terraform show -json PLANFILE`",
        )
        .with_hint(HINT_MAKE_PLAN));
    };
    // serde would read a JSON array into a struct field by field; a plan is
    // always an object.
    if first != b'{' {
        let message = match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(v) => format!(
                "not a Terraform plan: expected a JSON object, found {}",
                json_kind(&v)
            ),
            Err(e) => format!("not valid JSON: {e}"),
        };
        return Err(Error::invalid(message).with_hint(HINT_MAKE_PLAN));
    }
    Ok(text)
}

pub(crate) fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Turn a failed parse into a message: bad JSON, a plan of a format this
/// version does not read, or JSON that is not a plan.
fn parse_error(text: &[u8], e: &serde_json::Error) -> Error {
    if e.is_syntax() || e.is_eof() {
        return Error::invalid(format!("not valid JSON: {e}")).with_hint(HINT_MAKE_PLAN);
    }
    // The structure did not match: an unknown major version explains that
    // better than the serde message does.
    if let Ok(header) = serde_json::from_slice::<raw::Header>(text) {
        if let Some(version) = &header.format_version {
            if let Err(version_error) =
                check_version(version.as_str(), header.terraform_version.as_ref())
            {
                return version_error;
            }
        }
    }
    Error::invalid(format!("not a Terraform plan: {e}")).with_hint(HINT_MAKE_PLAN)
}

fn check_version(version: &str, terraform: Option<&raw::Text<'_>>) -> Result<()> {
    let major = version.split('.').next().unwrap_or_default();
    if major == SUPPORTED_MAJOR {
        return Ok(());
    }
    let from = terraform
        .map(|t| format!(" (written by Terraform {})", t.as_str()))
        .unwrap_or_default();
    Err(Error::invalid(format!(
        "unsupported plan format_version `{}`{from}: ipr reads format {SUPPORTED_MAJOR}.x",
        version.escape_debug()
    ))
    .with_hint(
        "upgrade ipr, or write the JSON with a Terraform or OpenTofu release whose plan format is 1.x",
    ))
}

fn resource_change(rc: &raw::ResourceChange<'_>, cfg: &PlanConfig) -> ResourceChange {
    let actions = texts(&rc.change.actions);
    let action = Action::from_actions(&actions);
    let resource_type = rc.kind.as_str();
    let stateful = cfg.is_stateful(resource_type);
    let risk = match action {
        Action::Delete | Action::Replace | Action::ReplaceForget | Action::Unknown => Impact::High,
        Action::Update if stateful => Impact::Medium,
        Action::Forget => Impact::Medium,
        Action::Update | Action::Create | Action::Read | Action::NoOp => Impact::Low,
    };
    let action_reason = opt(&rc.action_reason);
    let previous_address = opt(&rc.previous_address);
    let deposed = opt(&rc.deposed);
    let importing = rc.change.importing.is_some();

    let mut why: Vec<String> = Vec::new();
    if let Some(r) = &action_reason {
        why.push(describe_action_reason(r));
    }
    match action {
        Action::Unknown => why.push(format!("unrecognised actions [{}]", actions.join(", "))),
        Action::ReplaceForget => why.push("old object forgotten, not destroyed".into()),
        Action::Forget => why.push("left running, no longer managed".into()),
        _ => {}
    }
    if stateful && !matches!(action, Action::Create | Action::Read | Action::NoOp) {
        why.push("stateful type".into());
    }
    if let Some(d) = &deposed {
        why.push(format!("deposed object {d}"));
    }
    if let Some(p) = &previous_address {
        why.push(format!("moved from {p}"));
    }
    if importing {
        why.push("imported".into());
    }

    ResourceChange {
        address: rc.address.as_str().to_owned(),
        module_address: opt(&rc.module_address),
        resource_type: resource_type.to_owned(),
        name: rc.name.as_str().to_owned(),
        action,
        actions: actions.iter().map(|s| s.to_string()).collect(),
        action_reason,
        previous_address,
        deposed,
        importing,
        stateful,
        risk,
        reason: why.join("; "),
    }
}

/// Terraform's `action_reason` codes in words.
pub fn describe_action_reason(code: &str) -> String {
    let text = match code {
        "replace_because_tainted" => "tainted",
        "replace_because_cannot_update" => "a changed attribute forces replacement",
        "replace_by_request" => "replacement requested (-replace)",
        "replace_by_triggers" => "replace_triggered_by fired",
        "delete_because_no_resource_config" => "removed from configuration",
        "delete_because_no_module" => "its module was removed",
        "delete_because_wrong_repetition" => "count/for_each usage changed",
        "delete_because_count_index" => "count index no longer exists",
        "delete_because_each_key" => "for_each key no longer exists",
        "delete_because_no_move_target" => "move target not in configuration",
        "read_because_config_unknown" => "configuration known only during apply",
        "read_because_dependency_pending" => "depends on pending changes",
        "read_because_check_nested" => "nested in a check block",
        other => return other.to_owned(),
    };
    text.to_owned()
}

fn summarize(
    resources: &[ResourceChange],
    read: usize,
    drift: usize,
    output_changes: usize,
) -> Summary {
    let mut s = Summary {
        line: String::new(),
        add: 0,
        change: 0,
        destroy: 0,
        replace: 0,
        import: 0,
        forget: 0,
        moves: 0,
        read,
        drift,
        output_changes,
    };
    let mut any = read > 0 || output_changes > 0;
    for r in resources {
        match r.action {
            Action::Create | Action::ReplaceForget => s.add += 1,
            Action::Update => s.change += 1,
            Action::Delete => s.destroy += 1,
            Action::Replace => {
                s.add += 1;
                s.destroy += 1;
                s.replace += 1;
            }
            Action::Forget => s.forget += 1,
            Action::Read | Action::NoOp | Action::Unknown => {}
        }
        if r.importing {
            s.import += 1;
        }
        if r.previous_address.is_some() {
            s.moves += 1;
        }
        any |= r.is_change();
    }
    s.line = if any {
        let import = if s.import > 0 {
            format!("{} to import, ", s.import)
        } else {
            String::new()
        };
        format!(
            "Plan: {import}{} to add, {} to change, {} to destroy.",
            s.add, s.change, s.destroy
        )
    } else {
        NO_CHANGES.to_owned()
    };
    s
}

/// A risk rule that fired, with the addresses it fired for.
struct Finding {
    risk: Impact,
    verb: &'static str,
    adjective: &'static str,
    addresses: Vec<String>,
}

/// How many addresses a reason names before "and N more".
const NAMED_IN_REASON: usize = 5;

fn plan_risk(
    resources: &[ResourceChange],
    summary: &Summary,
    cfg: &PlanConfig,
) -> (Impact, Vec<String>) {
    let rule = |risk, verb, adjective| Finding {
        risk,
        verb,
        adjective,
        addresses: Vec::new(),
    };
    let mut findings = [
        rule(Impact::Critical, "deletes", "stateful "),
        rule(Impact::Critical, "replaces", "stateful "),
        rule(Impact::High, "deletes", ""),
        rule(Impact::High, "replaces", ""),
        rule(Impact::High, "replaces, forgetting the old object,", ""),
        rule(Impact::High, "has unrecognised actions for", ""),
        rule(Impact::Medium, "updates", "stateful "),
        rule(Impact::Medium, "forgets (leaves unmanaged)", ""),
    ];
    for r in resources {
        let slot = match (r.action, r.stateful) {
            (Action::Delete, true) => 0,
            (Action::Replace, true) => 1,
            (Action::Delete, false) => 2,
            (Action::Replace, false) => 3,
            (Action::ReplaceForget, _) => 4,
            (Action::Unknown, _) => 5,
            (Action::Update, true) => 6,
            (Action::Forget, _) => 7,
            _ => continue,
        };
        findings[slot].addresses.push(r.address.clone());
    }

    let mut fired: Vec<(Impact, String)> = Vec::new();
    if summary.destroy > cfg.critical_deletes {
        fired.push((
            Impact::Critical,
            format!(
                "{} deletions exceed plan.criticalDeletes ({})",
                summary.destroy, cfg.critical_deletes
            ),
        ));
    }
    for f in findings.iter().filter(|f| !f.addresses.is_empty()) {
        fired.push((f.risk, f.describe()));
    }
    let risk = fired.iter().map(|(r, _)| *r).max().unwrap_or(Impact::Low);
    let mut reasons: Vec<String> = fired
        .into_iter()
        .filter(|(r, _)| *r == risk)
        .map(|(_, text)| text)
        .collect();
    if reasons.is_empty() {
        reasons.push(if summary.line == NO_CHANGES {
            "no changes".to_owned()
        } else {
            "no deletions, replacements or updates of stateful resources".to_owned()
        });
    }
    (risk, reasons)
}

impl Finding {
    fn describe(&self) -> String {
        let (verb, adjective) = (self.verb, self.adjective);
        if let [one] = self.addresses.as_slice() {
            return format!("{verb} {adjective}{one}");
        }
        let named = &self.addresses[..self.addresses.len().min(NAMED_IN_REASON)];
        let more = self.addresses.len() - named.len();
        let mut text = format!(
            "{verb} {} {adjective}resources: {}",
            self.addresses.len(),
            named.join(", ")
        );
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal plan with the given `(address, type, actions, extra)`
    /// managed changes; `extra` is spliced into the resource change object.
    fn plan(changes: &[(&str, &str, &[&str], &str)]) -> Vec<u8> {
        let rc: Vec<String> = changes
            .iter()
            .map(|(address, kind, actions, extra)| {
                let name = address.rsplit('.').next().unwrap();
                format!(
                    r#"{{"address":{address:?},"mode":"managed","type":{kind:?},"name":{name:?},
                    "provider_name":"registry.terraform.io/hashicorp/aws",
                    "change":{{"actions":{actions:?},"before":null,"after":{{}},"after_unknown":{{}},
                    "before_sensitive":false,"after_sensitive":{{}}}}{extra}}}"#
                )
            })
            .collect();
        format!(
            r#"{{"format_version":"1.2","terraform_version":"1.11.4","planned_values":{{"root_module":{{}}}},
            "resource_changes":[{}],"applyable":true,"complete":true,"errored":false}}"#,
            rc.join(",")
        )
        .into_bytes()
    }

    fn run(changes: &[(&str, &str, &[&str], &str)]) -> PlanReport {
        analyze(&plan(changes), &PlanConfig::default()).expect("test plan parses")
    }

    #[test]
    fn config_defaults_and_yaml() {
        let d = PlanConfig::default();
        assert_eq!(d.critical_deletes, 5);
        assert_eq!(d.stateful_types.len(), 23);
        assert!(d.is_stateful("aws_db_instance"));
        assert!(!d.is_stateful("aws_db_instance_role_association"));

        let c: PlanConfig = serde_yaml_ng::from_str("criticalDeletes: 2").unwrap();
        assert_eq!(c.critical_deletes, 2);
        assert_eq!(
            c.stateful_types, d.stateful_types,
            "omitted keys keep defaults"
        );

        let c: PlanConfig = serde_yaml_ng::from_str("statefulTypes: [aws_rds_*, my_db]").unwrap();
        assert!(c.is_stateful("aws_rds_cluster_parameter_group"));
        assert!(c.is_stateful("my_db"));
        assert!(!c.is_stateful("my_db2"));
        assert!(
            !c.is_stateful("aws_s3_bucket"),
            "the list replaces the defaults"
        );

        let e = serde_yaml_ng::from_str::<PlanConfig>("criticalDelete: 2").unwrap_err();
        assert!(e.to_string().contains("criticalDelete"), "{e}");
    }

    #[test]
    fn actions_are_classified() {
        assert_eq!(Action::from_actions(&["create"]), Action::Create);
        assert_eq!(Action::from_actions(&["update"]), Action::Update);
        assert_eq!(Action::from_actions(&["delete"]), Action::Delete);
        assert_eq!(Action::from_actions(&["delete", "create"]), Action::Replace);
        assert_eq!(Action::from_actions(&["create", "delete"]), Action::Replace);
        assert_eq!(
            Action::from_actions(&["create", "forget"]),
            Action::ReplaceForget
        );
        assert_eq!(Action::from_actions(&["forget"]), Action::Forget);
        assert_eq!(Action::from_actions(&["read"]), Action::Read);
        assert_eq!(Action::from_actions(&["no-op"]), Action::NoOp);
        assert_eq!(Action::from_actions(&["delete", "delete"]), Action::Unknown);
        assert_eq!(Action::from_actions::<&str>(&[]), Action::Unknown);
        assert_eq!(serde_json::to_string(&Action::NoOp).unwrap(), r#""no-op""#);
    }

    #[test]
    fn resource_risks() {
        let r = run(&[
            ("aws_instance.new", "aws_instance", &["create"], ""),
            ("aws_instance.web", "aws_instance", &["update"], ""),
            ("aws_db_instance.db", "aws_db_instance", &["update"], ""),
            ("aws_instance.gone", "aws_instance", &["delete"], ""),
            (
                "aws_instance.swap",
                "aws_instance",
                &["create", "delete"],
                "",
            ),
            ("aws_instance.same", "aws_instance", &["no-op"], ""),
            ("aws_instance.left", "aws_instance", &["forget"], ""),
        ]);
        let risks: Vec<Impact> = r.resources.iter().map(|c| c.risk).collect();
        use Impact::*;
        assert_eq!(risks, [Low, Low, Medium, High, High, Low, Medium]);
        assert_eq!(r.risk, High);
        assert_eq!(
            r.reasons,
            ["deletes aws_instance.gone", "replaces aws_instance.swap"]
        );
        assert_eq!(r.summary.line, "Plan: 2 to add, 2 to change, 2 to destroy.");
        assert_eq!((r.summary.replace, r.summary.forget), (1, 1));
    }

    #[test]
    fn stateful_update_is_medium_with_reason() {
        let r = run(&[
            ("aws_db_instance.db", "aws_db_instance", &["update"], ""),
            ("aws_instance.new", "aws_instance", &["create"], ""),
        ]);
        assert_eq!(r.risk, Impact::Medium);
        assert_eq!(r.reasons, ["updates stateful aws_db_instance.db"]);
        assert_eq!(r.resources[0].reason, "stateful type");
    }

    #[test]
    fn stateful_replace_is_critical() {
        let r = run(&[(
            "aws_rds_cluster.main",
            "aws_rds_cluster",
            &["delete", "create"],
            r#","action_reason":"replace_because_cannot_update""#,
        )]);
        assert_eq!(r.risk, Impact::Critical);
        assert_eq!(r.reasons, ["replaces stateful aws_rds_cluster.main"]);
        assert_eq!(
            r.resources[0].reason,
            "a changed attribute forces replacement; stateful type"
        );
    }

    #[test]
    fn deletion_count_threshold_is_exclusive() {
        let names: Vec<String> = (0..6).map(|i| format!("aws_instance.n{i}")).collect();
        let changes: Vec<(&str, &str, &[&str], &str)> = names
            .iter()
            .map(|n| (n.as_str(), "aws_instance", &["delete"][..], ""))
            .collect();
        let cfg = PlanConfig::default();
        let five = analyze(&plan(&changes[..5]), &cfg).unwrap();
        assert_eq!(five.risk, Impact::High);
        assert_eq!(
            five.reasons,
            ["deletes 5 resources: aws_instance.n0, aws_instance.n1, aws_instance.n2, aws_instance.n3, aws_instance.n4"]
        );
        let six = analyze(&plan(&changes), &cfg).unwrap();
        assert_eq!(six.risk, Impact::Critical);
        assert_eq!(six.reasons, ["6 deletions exceed plan.criticalDeletes (5)"]);

        let strict = PlanConfig {
            critical_deletes: 0,
            ..PlanConfig::default()
        };
        let one = analyze(&plan(&changes[..1]), &strict).unwrap();
        assert_eq!(one.reasons, ["1 deletions exceed plan.criticalDeletes (0)"]);
    }

    #[test]
    fn long_address_lists_are_cut() {
        let names: Vec<String> = (0..8).map(|i| format!("aws_instance.n{i}")).collect();
        let changes: Vec<(&str, &str, &[&str], &str)> = names
            .iter()
            .map(|n| (n.as_str(), "aws_instance", &["delete", "create"][..], ""))
            .collect();
        let cfg = PlanConfig {
            critical_deletes: 100,
            ..PlanConfig::default()
        };
        let r = analyze(&plan(&changes), &cfg).unwrap();
        assert!(
            r.reasons[0].starts_with("replaces 8 resources: aws_instance.n0,"),
            "{:?}",
            r.reasons
        );
        assert!(
            r.reasons[0].ends_with("aws_instance.n4 and 3 more"),
            "{:?}",
            r.reasons
        );
    }

    #[test]
    fn deposed_delete_counts_as_a_deletion() {
        let r = run(&[(
            "aws_instance.web",
            "aws_instance",
            &["delete"],
            r#","deposed":"00000001""#,
        )]);
        assert_eq!(r.summary.destroy, 1);
        assert_eq!(r.resources[0].deposed.as_deref(), Some("00000001"));
        assert_eq!(r.resources[0].reason, "deposed object 00000001");
    }

    #[test]
    fn unknown_actions_are_high_not_refused() {
        let r = run(&[("aws_instance.x", "aws_instance", &["teleport"], "")]);
        assert_eq!(r.resources[0].action, Action::Unknown);
        assert_eq!(r.risk, Impact::High);
        assert_eq!(r.reasons, ["has unrecognised actions for aws_instance.x"]);
        assert_eq!(r.resources[0].reason, "unrecognised actions [teleport]");
    }

    #[test]
    fn summary_lines() {
        assert_eq!(run(&[]).summary.line, "No changes.");
        assert_eq!(run(&[]).reasons, ["no changes"]);
        let noop = run(&[("aws_instance.a", "aws_instance", &["no-op"], "")]);
        assert_eq!(noop.summary.line, "No changes.");
        let moved = run(&[(
            "aws_instance.b",
            "aws_instance",
            &["no-op"],
            r#","previous_address":"aws_instance.a""#,
        )]);
        assert_eq!(
            moved.summary.line,
            "Plan: 0 to add, 0 to change, 0 to destroy."
        );
        assert_eq!(moved.resources[0].display_action(), "move");
        let imported = r#","change":{"actions":["no-op"],"importing":{"id":"i-1"}}"#;
        // A second "change" key would be a duplicate; build this one by hand.
        let json = format!(
            r#"{{"format_version":"1.2","planned_values":{{}},"resource_changes":[{{"address":"aws_instance.a",
            "mode":"managed","type":"aws_instance","name":"a"{imported}}}]}}"#
        );
        let r = analyze(json.as_bytes(), &PlanConfig::default()).unwrap();
        assert_eq!(
            r.summary.line,
            "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."
        );
        assert_eq!(r.resources[0].display_action(), "import");
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let r = run(&[(
            r#"aws_s3_bucket.b["a\"b"]"#,
            "aws_s3_bucket",
            &["create"],
            "",
        )]);
        assert_eq!(r.resources[0].address, r#"aws_s3_bucket.b["a\"b"]"#);
    }

    fn invalid(json: &[u8]) -> Error {
        let e = analyze(json, &PlanConfig::default()).unwrap_err();
        assert_eq!(e.kind(), crate::error::Kind::Invalid, "{}", e.message());
        e
    }

    #[test]
    fn refusals() {
        assert!(invalid(b"").message().starts_with("empty input"));
        assert!(invalid(b"\n  ").message().starts_with("empty input"));
        assert!(invalid(b"plan: yes")
            .message()
            .starts_with("not valid JSON"));
        assert!(invalid(b"{\"format_version\":")
            .message()
            .starts_with("not valid JSON"));
        assert_eq!(
            invalid(b" [1,2]").message(),
            "not a Terraform plan: expected a JSON object, found an array"
        );
        assert!(invalid(b"[1,").message().starts_with("not valid JSON"));
        assert_eq!(
            invalid(b"{}").message(),
            "not a Terraform plan: no `format_version` field"
        );
        assert!(invalid(b"{\"format_version\":\"1.0\",\"values\":{}}")
            .message()
            .starts_with("this is Terraform state"));
        let e = invalid(
            b"{\"format_version\":\"2.0\",\"terraform_version\":\"2.1.0\",\"planned_values\":{}}",
        );
        assert_eq!(
            e.message(),
            "unsupported plan format_version `2.0` (written by Terraform 2.1.0): ipr reads format 1.x"
        );
        assert!(e.hint().is_some());
        // A 2.x plan whose structure changed still gets the version message.
        let e = invalid(b"{\"resource_changes\":{\"new\":\"shape\"},\"format_version\":\"2.0\"}");
        assert!(
            e.message()
                .starts_with("unsupported plan format_version `2.0`"),
            "{}",
            e.message()
        );
        let e = invalid(b"{\"format_version\":\"1.2\",\"resource_changes\":[{\"address\":1}]}");
        assert!(
            e.message()
                .starts_with("not a Terraform plan: invalid type"),
            "{}",
            e.message()
        );
        assert!(invalid(b"\xFF\xFE{\0}\0").message().contains("UTF-16"));
    }

    #[test]
    fn bom_is_accepted() {
        let mut json = b"\xEF\xBB\xBF".to_vec();
        json.extend(plan(&[("aws_instance.a", "aws_instance", &["create"], "")]));
        assert_eq!(
            analyze(&json, &PlanConfig::default()).unwrap().summary.add,
            1
        );
    }

    #[test]
    fn deep_nesting_in_skipped_values_does_not_overflow_the_stack() {
        // serde_json skips ignored values without recursing.
        let deep = format!(
            r#"{{"format_version":"1.2","planned_values":{}0{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(analyze(deep.as_bytes(), &PlanConfig::default()).is_ok());
    }

    #[test]
    fn plan_ref_hashes() {
        let json = plan(&[]);
        let r = analyze(&json, &PlanConfig::default()).unwrap();
        let p = plan_ref(&json, Some(b"abc"), &r);
        assert_eq!(p.json_sha256, sha256_ref(&json));
        assert_eq!(
            p.file_sha256.as_deref(),
            Some("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(p.summary, "No changes.");
        assert_eq!(p.risk, Impact::Low);
        assert_eq!(plan_ref(&json, None, &r).file_sha256, None);
    }
}
