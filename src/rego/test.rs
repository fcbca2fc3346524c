//! `ipr policy test DIR`: run policies against fixture plans.
//!
//! The convention: every `<rule>.rego` in DIR that declares `deny` or `warn`
//! has a folder `<rule>/` beside it holding at least one `pass*.json`, which
//! must draw no `deny` from that file's package, and at least one
//! `fail*.json`, which must draw at least one. A fixture is `terraform show
//! -json` output, evaluated with a sample terraform request (see
//! [`sample_request`]) as `input.request`; or, to test rules about the
//! request, a whole input document `{"plan": …, "request": …}` (told apart
//! by a top-level `plan` key and no `format_version`).
//!
//! All `.rego` files of DIR are loaded together, so a policy may import a
//! library beside it; a file that declares neither rule needs no fixtures.
//! Give each policy its own package: fixtures check the package of the file
//! they belong to.

use std::path::Path;

use serde::Serialize;

use super::{input, PolicySet, Source};
use crate::error::{Error, Result};
use crate::model::{
    Impact, Metadata, PreChecks, RequestDetails, Spec, Status, Target, TargetType, Ticket,
    DEFAULT_API_VERSION, KIND,
};
use crate::plan::{self, PlanConfig};

/// What a fixture is meant to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Pass,
    Fail,
}

/// One fixture run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub policy: String,
    pub fixture: String,
    pub expect: Expect,
    pub passed: bool,
    pub deny: Vec<String>,
    pub warn: Vec<String>,
}

/// Every case, and what keeps the run from counting (a policy without
/// fixtures of both kinds).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub cases: Vec<Case>,
    pub problems: Vec<String>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| !c.passed).count()
    }
    pub fn passed(&self) -> usize {
        self.cases.len() - self.failed()
    }
    pub fn ok(&self) -> bool {
        self.failed() == 0 && self.problems.is_empty()
    }
}

/// Run the policies of `dir` against their fixtures.
pub fn run(dir: &Path) -> Result<Report> {
    let names = list(dir)?;
    let mut sources = Vec::new();
    for name in names.iter().filter(|n| n.ends_with(".rego")) {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::other(format!("{}: {e}", path.display())))?;
        sources.push(Source {
            path: path.display().to_string(),
            text,
        });
    }
    if sources.is_empty() {
        return Err(
            Error::not_found(format!("no .rego files in {}", dir.display()))
                .with_hint("policies are files like .ipr/policies/required_tags.rego"),
        );
    }
    let mut set = PolicySet::load(&sources)?;
    let mut report = Report::default();
    for source in &sources {
        if !set.declares_rules(&source.path)? {
            continue;
        }
        let stem = Path::new(&source.path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let folder = dir.join(&stem);
        let fixtures = if folder.is_dir() {
            list(&folder)?
        } else {
            Vec::new()
        };
        let mut seen = (false, false);
        for name in fixtures.iter().filter(|n| n.ends_with(".json")) {
            let expect = if name.starts_with("pass") {
                seen.0 = true;
                Expect::Pass
            } else if name.starts_with("fail") {
                seen.1 = true;
                Expect::Fail
            } else {
                continue;
            };
            let path = folder.join(name);
            let doc = fixture_input(&path)?;
            let verdict = set.evaluate_file(&doc, &source.path)?;
            let denied = !verdict.deny.is_empty();
            report.cases.push(Case {
                policy: source.path.clone(),
                fixture: path.display().to_string(),
                expect,
                passed: denied == (expect == Expect::Fail),
                deny: verdict.deny.into_iter().map(|f| f.message).collect(),
                warn: verdict.warn.into_iter().map(|f| f.message).collect(),
            });
        }
        for (have, kind) in [(seen.0, "pass"), (seen.1, "fail")] {
            if !have {
                report.problems.push(format!(
                    "{} has no {kind}*.json fixture in {}",
                    source.path,
                    folder.display()
                ));
            }
        }
    }
    Ok(report)
}

/// Entries of a directory, sorted.
fn list(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        let e = format!("{}: {e}", dir.display());
        if dir.exists() {
            Error::other(e)
        } else {
            Error::not_found(e)
        }
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// The input document of one fixture file.
fn fixture_input(path: &Path) -> Result<String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::other(format!("{name}: {e}")))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::invalid(format!("{name}: not valid JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(Error::invalid(format!(
            "{name}: a fixture is a JSON object (a plan, or {{\"plan\": …, \"request\": …}})"
        )));
    };
    if object.contains_key("plan") && !object.contains_key("format_version") {
        return Ok(value.to_string());
    }
    let request = serde_json::to_value(sample_request(&bytes)).expect("a ticket serializes");
    input(&bytes, &request)
}

/// The request a plan fixture is evaluated with: a pending terraform
/// request of tenant `tenant-test` for stack `fixture`, whose `spec.plan`
/// is the fixture's (when it is a plan ipr can analyse).
pub fn sample_request(plan_json: &[u8]) -> Ticket {
    let at = chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("a valid time");
    let plan = plan::analyze(plan_json, &PlanConfig::default())
        .ok()
        .map(|r| plan::plan_ref(plan_json, None, &r));
    let impact = plan.as_ref().map_or(Impact::Low, |p| p.risk);
    let by = "policy-test@example.com";
    Ticket {
        api_version: DEFAULT_API_VERSION.to_string(),
        kind: KIND.to_string(),
        metadata: Metadata {
            id: "PR-2026-0001".parse().expect("a valid id"),
            created_at: at,
            created_by: by.to_string(),
            tenant: "tenant-test".to_string(),
        },
        spec: Spec {
            target: Target {
                kind: TargetType::Terraform,
                name: "fixture".to_string(),
                version: "1.0.0".to_string(),
                source_environment: "staging".to_string(),
                target_environment: "prod".to_string(),
            },
            request: RequestDetails {
                justification: "Policy test fixture request".to_string(),
                release_notes: None,
                impact_assessment: impact,
                rollback_plan: "Apply the previous plan".to_string(),
                scheduled_date: None,
            },
            pre_checks: PreChecks {
                staging_tests_passed: true,
                security_scan_passed: true,
                performance_tests_passed: false,
                test_evidence_url: "https://ci.example.com/policy-test"
                    .parse()
                    .expect("a valid URL"),
            },
            plan,
            promoted_from: None,
        },
        status: Status::created(at, by),
    }
}
