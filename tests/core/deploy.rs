//! `ipr deploy` and `ipr record` with the shell and terraform runners
//! (real processes; terraform is a fake binary that records its arguments,
//! since no terraform is promised on a fresh machine). The AWX runner is
//! tested against a fake AWX in tests/awx_deploy.rs.

use crate::harness::*;

/// A team repo whose default runner is a shell runner running `command`.
fn with_shell(command: &str) -> Env {
    let env = Env::team();
    let runners = format!(
        "runners:\n  default: local\n  definitions:\n    local:\n      kind: shell\n      command: {}\n      timeout: 20s\n",
        serde_json::to_string(command).unwrap()
    );
    env.set_config(&env.team_config_with(&runners));
    env
}

fn approved(env: &Env, impact: &str) -> String {
    let id = env.create_as(DEVOPS, impact);
    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();
    if impact == "high" || impact == "critical" {
        env.as_user(ADMIN);
        env.ipr(&["approve", &id]).assert().success();
    }
    id
}

fn ticket(env: &Env, id: &str) -> ipr::model::Ticket {
    ipr::model::Ticket::from_yaml(env.ticket_at_head(id).as_bytes(), id).unwrap()
}

#[test]
fn shell_runner_gets_the_request_and_outcome_is_recorded() {
    let out_dir = tempfile::tempdir().unwrap();
    let cmd = format!(
        "env | grep ^IPR_ | sort > {0}/env && cp \"$IPR_REQUEST_FILE\" {0}/request.json && echo shipped",
        out_dir.path().display()
    );
    let env = with_shell(&cmd);
    let id = approved(&env, "low");
    env.as_user(DEVOPS);
    let before = env.commit_count();
    let out = env.run(&["deploy", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("  | shipped"),
        "runner output is shown: {}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("now deployed"));

    let vars = std::fs::read_to_string(out_dir.path().join("env")).unwrap();
    for line in [
        format!("IPR_REQUEST_ID={id}"),
        "IPR_TARGET_NAME=payment-api".into(),
        "IPR_TARGET_VERSION=2.1.0".into(),
        "IPR_TENANT=tenant-finance".into(),
        "IPR_TARGET_ENV=prod".into(),
        "IPR_SOURCE_ENV=staging".into(),
        "IPR_TARGET_TYPE=api".into(),
    ] {
        assert!(vars.lines().any(|l| l == line), "{line} in {vars}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.path().join("request.json")).unwrap())
            .unwrap();
    assert_eq!(json["metadata"]["id"], id.as_str());
    assert_eq!(
        json["status"]["state"], "deploying",
        "the file is the ticket as deploying"
    );

    assert_eq!(env.commit_count(), before + 2, "deploying, then deployed");
    let subjects = env.git(&["log", "-2", "--format=%s|%ae"]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        [
            format!("ipr: deployed {id}|{DEVOPS}"),
            format!("ipr: deploy {id}|{DEVOPS}")
        ]
    );
    let t = ticket(&env, &id);
    assert_eq!(t.status.state, ipr::model::State::Deployed);
    let h = &t.status.history;
    assert_eq!(h[2].action, ipr::model::Action::Deploying);
    assert_eq!(h[2].runner.as_deref(), Some("local"));
    let job = format!("shell-{id}-1");
    assert_eq!(h[2].job_id.as_deref(), Some(job.as_str()));
    assert_eq!(h[3].action, ipr::model::Action::Deployed);
    assert_eq!(h[3].job_id.as_deref(), Some(job.as_str()));
    assert_eq!(t.status.deployed_at, Some(h[3].at));
    assert!(env.status().is_empty(), "{}", env.status());
    env.fsck();
}

#[test]
fn deploying_is_committed_before_the_runner_starts() {
    // The command fails unless HEAD already says deploying.
    let env = with_shell(
        "git show HEAD:\"$(git ls-files requests | head -1)\" | grep -q 'state: deploying'",
    );
    let id = approved(&env, "low");
    env.as_user(DEVOPS);
    let out = env.run(&["deploy", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_failed_command_is_recorded_with_bounded_output_and_exit_8() {
    let env = with_shell("i=0; while [ $i -lt 3000 ]; do echo \"line $i of the build log\"; i=$((i+1)); done; echo 'boom: database migration failed' >&2; exit 3");
    let id = approved(&env, "low");
    env.as_user(DEVOPS);
    let out = env.ipr(&["deploy", &id, "-q"]).output().unwrap();
    assert_error(&out, 8, &format!("deployment of {id} failed"));
    let t = ticket(&env, &id);
    assert_eq!(t.status.state, ipr::model::State::Failed);
    let err = t.last_entry().error.clone().unwrap();
    assert!(
        err.starts_with("the deploy command exited with status 3"),
        "{err}"
    );
    assert!(
        err.contains("boom: database migration failed"),
        "the end of the output is kept"
    );
    assert!(!err.contains("line 0 of"), "the start is cut");
    assert!(err.len() < 4200, "bounded: {} bytes", err.len());

    // a retry from failed runs again, with a new job id
    let fixed = env.team_config_with(
        "runners:\n  default: local\n  definitions:\n    local: { kind: shell, command: 'true' }\n",
    );
    env.set_config(&fixed);
    env.as_user(DEVOPS);
    env.ipr(&["deploy", &id]).assert().success();
    let t = ticket(&env, &id);
    assert_eq!(t.status.state, ipr::model::State::Deployed);
    let jobs: Vec<&str> = t
        .status
        .history
        .iter()
        .filter(|e| e.action == ipr::model::Action::Deploying)
        .map(|e| e.job_id.as_deref().unwrap())
        .collect();
    assert_eq!(jobs, [format!("shell-{id}-1"), format!("shell-{id}-2")]);
}

#[test]
fn a_command_that_outlives_its_timeout_is_killed_and_failed() {
    let env = Env::team();
    env.set_config(&env.team_config_with(
        "runners:\n  default: slow\n  definitions:\n    slow: { kind: shell, command: 'echo started; exec sleep 60', timeout: 300ms }\n",
    ));
    let id = approved(&env, "low");
    env.as_user(DEVOPS);
    assert_eq!(env.run(&["deploy", &id]).status.code(), Some(8));
    let err = ticket(&env, &id).last_entry().error.clone().unwrap();
    assert!(err.contains("timed out after 300ms"), "{err}");
}

#[test]
fn only_approved_or_failed_requests_deploy() {
    let env = with_shell("true");
    let pending = env.create_as(DEVOPS, "low");
    let rejected = env.create_as(DEVOPS, "low");
    let cancelled = env.create_as(DEVOPS, "low");
    env.as_user(TADMIN);
    env.ipr(&["reject", &rejected, "--reason", "not this sprint"])
        .assert()
        .success();
    env.ipr(&["cancel", &cancelled]).assert().success();
    let deployed = approved(&env, "low");
    env.as_user(DEVOPS);
    env.ipr(&["deploy", &deployed]).assert().success();
    for (id, state) in [
        (&pending, "pending"),
        (&rejected, "rejected"),
        (&cancelled, "cancelled"),
        (&deployed, "deployed"),
    ] {
        let head = env.head();
        let out = env.run(&["deploy", id]);
        assert_error(&out, 5, &format!("it is {state}"));
        assert_eq!(env.head(), head);
    }
}

#[test]
fn deploy_rights() {
    let env = with_shell("true");
    for (who, want) in [(VIEWER, 3), (RETAIL_DEVOPS, 3), (STRANGER, 3), (TADMIN, 0)] {
        let id = approved(&env, "low");
        env.as_user(who);
        assert_eq!(env.run(&["deploy", &id]).status.code(), Some(want), "{who}");
    }
}

#[test]
fn a_future_schedule_refuses_until_it_is_due() {
    let mut env = with_shell("true");
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend(["--impact", "low", "--scheduled", "2026-03-12T06:00:00Z"]);
    let id = stdout(&env.run(&args)).trim().to_string();
    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();
    env.as_user(DEVOPS);
    let out = env.run(&["deploy", &id]);
    assert_error(&out, 5, "scheduled for 2026-03-12T06:00:00+00:00");
    assert_eq!(
        env.run(&["deploy", &id, "--dry-run"]).status.code(),
        Some(5)
    );
    env.now = "2026-03-12T06:00:00Z".into();
    env.ipr(&["deploy", &id]).assert().success();
}

#[test]
fn an_approval_of_another_spec_refuses() {
    let env = with_shell("true");
    let id = approved(&env, "low");
    // hand-edit the version after approval
    let path = env.ticket_path(&id);
    let text = std::fs::read_to_string(env.repo.join(&path)).unwrap();
    std::fs::write(
        env.repo.join(&path),
        text.replace("version: 2.1.0", "version: 2.2.0-rc1"),
    )
    .unwrap();
    env.git(&["commit", "-qam", "bump version"]);
    env.as_user(DEVOPS);
    // The hand edit does not verify, so deploy refuses before anything runs.
    let out = env.run(&["deploy", &id]);
    assert_error(&out, 7, "spec-changed");
    assert_error(&out, 7, "version: 2.2.0-rc1 (was 2.1.0)");
}

#[test]
fn expired_approvals_refuse() {
    let mut env = with_shell("true");
    let cfg = std::fs::read_to_string(env.repo.join(".ipr/config.yaml")).unwrap();
    env.set_config(&cfg.replace("  default: 1\n", "  default: 1\n  expireAfter: 2h\n"));
    let id = approved(&env, "low");
    env.as_user(DEVOPS);
    env.now = "2026-03-10T11:00:01Z".into();
    assert_error(&env.run(&["deploy", &id]), 5, "expireAfter (2h)");
    env.now = "2026-03-10T10:59:00Z".into();
    env.ipr(&["deploy", &id]).assert().success();
}

#[test]
fn freezes_refuse_unless_an_admin_breaks_glass() {
    let env = with_shell("true");
    let cfg = std::fs::read_to_string(env.repo.join(".ipr/config.yaml")).unwrap();
    env.set_config(&format!(
        "{cfg}freezes:\n  - from: 2026-03-01T00:00:00Z\n    to: 2026-03-31T00:00:00Z\n    reason: quarter-end close\n    environments: [prod]\n"
    ));
    let id = approved(&env, "low");
    env.as_user(DEVOPS);
    let out = env.run(&["deploy", &id]);
    assert_error(
        &out,
        3,
        "frozen until 2026-03-31T00:00:00+00:00: quarter-end close",
    );
    assert!(stderr(&out).contains("--break-glass"));
    assert_error(
        &env.run(&["deploy", &id, "--break-glass", "--reason", "hotfix"]),
        3,
        "only admins",
    );
    assert_eq!(
        env.run(&["deploy", &id, "--break-glass"]).status.code(),
        Some(2),
        "--reason is required"
    );
    env.as_user(ADMIN);
    env.ipr(&[
        "deploy",
        &id,
        "--break-glass",
        "--reason",
        "INC-4711 payment outage",
    ])
    .assert()
    .success();
    let t = ticket(&env, &id);
    let start = &t.status.history[2];
    assert_eq!(
        start.break_glass.as_deref(),
        Some("INC-4711 payment outage")
    );
    assert_eq!(start.by, ADMIN);
    // a freeze of another environment does not apply
    let env2 = with_shell("true");
    let cfg = std::fs::read_to_string(env2.repo.join(".ipr/config.yaml")).unwrap();
    env2.set_config(&format!(
        "{cfg}freezes:\n  - {{ from: 2026-03-01T00:00:00Z, to: 2026-03-31T00:00:00Z, reason: x, environments: [staging] }}\n"
    ));
    let id = approved(&env2, "low");
    env2.as_user(DEVOPS);
    env2.ipr(&["deploy", &id]).assert().success();
}

#[test]
fn dry_run_prints_what_would_run_and_changes_nothing() {
    let marker = tempfile::tempdir().unwrap();
    let cmd = format!("touch {}/ran", marker.path().display());
    let env = with_shell(&cmd);
    let id = approved(&env, "low");
    env.as_user(DEVOPS);
    let head = env.head();
    let out = env.run(&["deploy", &id, "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("sh -c '{cmd}'")), "{text}");
    assert!(text.contains(&format!("IPR_REQUEST_ID={id}")), "{text}");
    assert_eq!(env.head(), head);
    assert!(!marker.path().join("ran").exists(), "nothing ran");
    assert!(env.status().is_empty());
}

#[test]
fn runner_choice_rules_and_override() {
    let env = Env::team();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    env.set_config(&env.team_config_with(&format!(
        "runners:\n  default: a\n  rules:\n    - {{ tenant: tenant-retail, runner: b }}\n  definitions:\n    a: {{ kind: shell, command: 'echo a >> {d}/log' }}\n    b: {{ kind: shell, command: 'echo b >> {d}/log' }}\n    c: {{ kind: shell, command: 'echo c >> {d}/log' }}\n"
    )));
    let finance = approved(&env, "low");
    env.as_user(RETAIL_DEVOPS);
    let mut args: Vec<&str> = valid_create_args()
        .into_iter()
        .map(|a| {
            if a == "tenant-finance" {
                "tenant-retail"
            } else {
                a
            }
        })
        .collect();
    args.extend(["--impact", "low"]);
    let retail = stdout(&env.run(&args)).trim().to_string();
    env.as_user(RETAIL_TADMIN);
    env.ipr(&["approve", &retail]).assert().success();
    let c = approved(&env, "low");
    env.as_user(ADMIN);
    env.ipr(&["deploy", &finance]).assert().success();
    env.ipr(&["deploy", &retail]).assert().success();
    env.ipr(&["deploy", &c, "--runner", "c"]).assert().success();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("log")).unwrap(),
        "a\nb\nc\n"
    );
    let d2 = approved(&env, "low");
    env.as_user(ADMIN);
    assert_error(
        &env.run(&["deploy", &d2, "--runner", "zzz"]),
        4,
        "no runner named `zzz`",
    );
}

#[test]
fn killed_while_waiting_stays_deploying_and_record_completes_it() {
    // The command kills ipr (its parent) while ipr waits for it.
    let env = with_shell("kill -9 $PPID");
    let id = approved(&env, "low");
    env.as_user(DEVOPS);
    let out = env.run(&["deploy", &id]);
    assert_eq!(out.status.code(), None, "ipr was killed by a signal");
    let t = ticket(&env, &id);
    assert_eq!(t.status.state, ipr::model::State::Deploying);
    let job = format!("shell-{id}-1");
    assert_eq!(t.last_entry().job_id.as_deref(), Some(job.as_str()));
    assert!(
        env.status().is_empty(),
        "the deploying commit is complete: {}",
        env.status()
    );

    // the shell runner cannot watch a job of another process: it says what to do
    let head = env.head();
    let out = env.run(&["deploy", &id]);
    assert_error(
        &out,
        5,
        "cannot watch a job that another ipr process started",
    );
    assert!(stderr(&out).contains(&format!(
        "ipr record {id} --status successful|failed --job-id {job}"
    )));
    assert_eq!(env.head(), head, "nothing launched, nothing committed");

    // record refuses another job id, then completes it
    assert_error(
        &env.run(&[
            "record",
            &id,
            "--status",
            "successful",
            "--job-id",
            "shell-x",
        ]),
        5,
        &format!("deploying job {job}, not shell-x"),
    );
    env.as_user(VIEWER);
    assert_eq!(
        env.run(&["record", &id, "--status", "successful", "--job-id", &job])
            .status
            .code(),
        Some(3)
    );
    env.as_user(DEVOPS);
    env.ipr(&[
        "record",
        &id,
        "--status",
        "failed",
        "--job-id",
        &job,
        "--error",
        "pods crashlooping",
    ])
    .assert()
    .success();
    let t = ticket(&env, &id);
    assert_eq!(t.status.state, ipr::model::State::Failed);
    assert_eq!(t.last_entry().error.as_deref(), Some("pods crashlooping"));
    assert_eq!(
        env.git(&["log", "-1", "--format=%s"]).trim(),
        format!("ipr: failed {id}")
    );
    // record on a request that is not deploying is a state error
    assert_error(
        &env.run(&["record", &id, "--status", "successful", "--job-id", &job]),
        5,
        "it is failed",
    );
}

#[test]
fn no_wait_is_for_remote_runners() {
    let env = with_shell("true");
    let id = approved(&env, "low");
    env.as_user(DEVOPS);
    let head = env.head();
    assert_error(
        &env.run(&["deploy", &id, "--no-wait"]),
        2,
        "--no-wait is for remote runners",
    );
    assert_eq!(env.head(), head);
}

/// A fake `terraform` that records its arguments and working directory.
fn fake_terraform(dir: &std::path::Path, exit: i32) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join("terraform");
    std::fs::write(
        &path,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > \"{}/calls\"\necho \"Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\"\nexit {exit}\n", dir.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A terraform request for `plan_bytes`, committed by hand in the seed
/// format (plan requests through `ipr create --plan` are another feature),
/// then approved with ipr.
fn terraform_request(env: &Env, plan_bytes: &[u8]) -> String {
    use sha2::Digest;
    let hash = format!(
        "sha256:{}",
        ipr::model::hex(&sha2::Sha256::digest(plan_bytes))
    );
    let seed = std::fs::read_to_string(fixture("tickets/PR-2024-0003.yaml")).unwrap();
    let mut t = ipr::model::Ticket::from_yaml(seed.as_bytes(), "seed").unwrap();
    t.metadata.id = "PR-2026-0001".parse().unwrap();
    t.metadata.created_at = "2026-03-10T08:00:00Z".parse().unwrap();
    t.metadata.created_by = DEVOPS.into();
    t.spec.target.kind = ipr::model::TargetType::Terraform;
    t.spec.target.name = "network".into();
    t.spec.plan = Some(ipr::model::PlanRef {
        json_sha256: "sha256:00".into(),
        file_sha256: Some(hash),
        summary: "Plan: 1 to add, 0 to change, 0 to destroy.".into(),
        risk: ipr::model::Impact::Low,
        warnings: Vec::new(),
        resource_types: Vec::new(),
        cost: None,
    });
    t.status = ipr::model::Status::created(t.metadata.created_at, DEVOPS);
    let path = t.path();
    std::fs::create_dir_all(env.repo.join(&path).parent().unwrap()).unwrap();
    std::fs::write(env.repo.join(&path), t.to_yaml()).unwrap();
    env.as_user(DEVOPS);
    env.git(&["add", &path]);
    // Authored when the ticket says it was created, as `ipr create` would.
    env.git(&[
        "commit",
        "-q",
        "--date",
        "2026-03-10T08:00:00Z",
        "-m",
        "terraform request",
    ]);
    env.as_user(TADMIN);
    env.ipr(&["approve", "PR-2026-0001"]).assert().success();
    "PR-2026-0001".into()
}

#[test]
fn terraform_applies_exactly_the_approved_plan_file() {
    let env = Env::team();
    let tools = tempfile::tempdir().unwrap();
    let bin = fake_terraform(tools.path(), 0);
    env.set_config(&env.team_config_with(&format!(
        "runners:\n  default: shell\n  rules:\n    - {{ type: terraform, runner: infra }}\n  definitions:\n    infra: {{ kind: terraform, binary: {}, workdir: infra, planFile: tfplan }}\n",
        bin.display()
    )));
    std::fs::create_dir_all(env.repo.join("infra")).unwrap();
    std::fs::write(env.repo.join("infra/tfplan"), b"binary plan v1").unwrap();
    let id = terraform_request(&env, b"binary plan v1");

    // another plan file is refused before terraform runs
    std::fs::write(env.repo.join("infra/tfplan"), b"binary plan v2").unwrap();
    env.as_user(DEVOPS);
    let out = env.run(&["deploy", &id]);
    assert_error(&out, 8, "is not the approved plan");
    assert!(
        !tools.path().join("calls").exists(),
        "terraform was not called"
    );
    assert_eq!(ticket(&env, &id).status.state, ipr::model::State::Failed);

    std::fs::write(env.repo.join("infra/tfplan"), b"binary plan v1").unwrap();
    let out = env.run(&["deploy", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = std::fs::read_to_string(tools.path().join("calls")).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [
            format!("-chdir={}", env.repo.join("infra").display()).as_str(),
            "apply",
            "-input=false",
            "-no-color",
            "tfplan"
        ]
    );
    assert_eq!(ticket(&env, &id).status.state, ipr::model::State::Deployed);
}

#[test]
fn terraform_failure_is_exit_8() {
    let env = Env::team();
    let tools = tempfile::tempdir().unwrap();
    let bin = fake_terraform(tools.path(), 1);
    env.set_config(&env.team_config_with(&format!(
        "runners:\n  default: infra\n  definitions:\n    infra: {{ kind: terraform, binary: {} }}\n",
        bin.display()
    )));
    std::fs::write(env.repo.join("tfplan"), b"plan").unwrap();
    let id = terraform_request(&env, b"plan");
    env.as_user(DEVOPS);
    assert_error(&env.run(&["deploy", &id]), 8, "apply exited with status 1");
}
