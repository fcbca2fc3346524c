//! `ipr create`: flags, -f FILE, --no-input, output.

use crate::harness::*;

#[test]
fn flags_make_a_ticket_in_the_seed_shape() {
    let env = Env::team();
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend([
        "--impact",
        "medium",
        "--release-notes",
        "notes line 1\nnotes line 2\n",
        "--scheduled",
        "2026-03-12T06:00:00+01:00",
        "--performance-tests-passed",
        "--source-env",
        "preprod",
    ]);
    let out = env.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "PR-2026-0001\n", "stdout is just the ID");
    assert!(stderr(&out).contains("created PR-2026-0001 for tenant-finance"));
    let text = env.ticket_at_head("PR-2026-0001");
    let t = ipr::model::Ticket::from_yaml(text.as_bytes(), "t").unwrap();
    assert_eq!(t.metadata.created_by, DEVOPS);
    assert_eq!(
        t.metadata.created_at.to_rfc3339(),
        "2026-03-10T09:00:00+00:00"
    );
    assert_eq!(t.spec.target.source_environment, "preprod");
    assert_eq!(t.spec.target.target_environment, "prod");
    assert_eq!(t.spec.request.impact_assessment, ipr::model::Impact::Medium);
    assert_eq!(
        t.spec.request.release_notes.as_deref(),
        Some("notes line 1\nnotes line 2\n")
    );
    assert_eq!(
        t.spec.request.scheduled_date.unwrap().to_rfc3339(),
        "2026-03-12T06:00:00+01:00"
    );
    assert!(t.spec.pre_checks.performance_tests_passed);
    assert_eq!(t.status.state, ipr::model::State::Pending);
    assert_eq!(t.status.history.len(), 1);
    // the §2 key order, null for empty optionals
    let keys: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('-'))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec", "status"]);
    for key in [
        "approvedBy: null",
        "deployedAt: null",
        "rejectionReason: null",
    ] {
        assert!(text.contains(key), "{key} in\n{text}");
    }
    let order = [
        "justification:",
        "releaseNotes:",
        "impactAssessment:",
        "rollbackPlan:",
        "scheduledDate:",
    ];
    let pos: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(
        pos.windows(2).all(|w| w[0] < w[1]),
        "request keys in §2 order"
    );
}

#[test]
fn from_a_file() {
    let env = Env::team();
    env.as_user(DEVOPS);
    let file = fixture("create/payment-api.yaml");
    let out = env.run(&["create", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    let t = ipr::model::Ticket::from_yaml(env.ticket_at_head(&id).as_bytes(), "t").unwrap();
    assert_eq!(t.metadata.tenant, "tenant-finance");
    assert_eq!(t.spec.request.impact_assessment, ipr::model::Impact::High);
    assert!(stderr(&out).contains("2 approvals needed"));
    // stdin works too, and flags may not be mixed with -f
    let text = std::fs::read_to_string(&file).unwrap();
    env.ipr(&["create", "-f", "-"])
        .write_stdin(text)
        .assert()
        .success()
        .stdout("PR-2026-0002\n");
    assert_eq!(
        env.run(&["create", "-f", "-", "--name", "x"]).status.code(),
        Some(2)
    );
}

#[test]
fn missing_values_without_a_terminal_are_listed() {
    let env = Env::team();
    env.as_user(DEVOPS);
    let head = env.head();
    let out = env.run(&["create", "--type", "api", "--name", "x"]);
    assert_error(
        &out,
        6,
        "missing --version, --justification, --impact, --rollback-plan, --evidence-url",
    );
    assert!(stderr(&out).contains("hint: "));
    assert_eq!(env.head(), head);
    let out = env.run(&["create", "--no-input"]);
    assert_error(&out, 6, "missing --type, --name");
}

#[test]
fn tenant_defaults_to_the_actors_only_tenant() {
    let env = Env::team();
    env.as_user(RETAIL_DEVOPS);
    let args: Vec<&str> = valid_create_args()
        .into_iter()
        .filter(|a| *a != "--tenant" && *a != "tenant-finance")
        .chain(["--impact", "low"])
        .collect();
    let out = env.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let t =
        ipr::model::Ticket::from_yaml(env.ticket_at_head("PR-2026-0001").as_bytes(), "t").unwrap();
    assert_eq!(t.metadata.tenant, "tenant-retail");
    // an admin has no single tenant: it must be given
    env.as_user(ADMIN);
    assert_error(&env.run(&args), 6, "--tenant");
}

#[test]
fn json_and_yaml_output_are_the_ticket() {
    let env = Env::team();
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend(["--impact", "low", "--format", "json"]);
    let out = env.run(&args);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["metadata"]["id"], "PR-2026-0001");
    assert_eq!(v["status"]["state"], "pending");
    assert_eq!(
        v["spec"]["preChecks"]["testEvidenceUrl"],
        "https://ci.example.com/pipeline/12345"
    );
    env.as_user(TADMIN);
    let out = env.run(&["approve", "PR-2026-0001", "--format", "yaml"]);
    let t = ipr::model::Ticket::from_yaml(&out.stdout, "stdout").unwrap();
    assert_eq!(t.status.state, ipr::model::State::Approved);
    env.as_user(ADMIN);
    let out = env.run(&["approve", "PR-2026-0001", "-q"]);
    assert_eq!(out.status.code(), Some(5));
}
