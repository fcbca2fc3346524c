//! Rules that fit an organisation (SPEC §4a), through the real binary:
//! quorum by environment, reviewer groups and rules (plan types, cost),
//! the wait timer, auto-approve and auto-deploy, two-person break glass
//! and incident reports, comments, staged promotion. Each legal path ends
//! with `ipr verify` clean; each illegal one with its exit code and no
//! commit.

use crate::harness::*;

const DBA: &str = "dba.lead@example.com";
const CFO: &str = "cfo@example.com";
const ADMIN2: &str = "second-admin@example.com";

/// The team of fixtures/config/team.yaml, a DBA and a CFO with no role,
/// a second admin, and `org` (YAML) for the rules of SPEC §4a.
fn org_config(approvals: &str, org: &str) -> String {
    format!(
        "apiVersion: gostoa.dev/v1
tenants: [tenant-finance, tenant-retail]
environments: [dev, staging, prod]
users:
  pierre.durand@example.com: {{ role: devops, tenants: [tenant-finance] }}
  jean.dupont@example.com:   {{ role: tenant-admin, tenants: [tenant-finance] }}
  marie.curie@example.com:   {{ role: tenant-admin, tenants: [tenant-finance] }}
  ops-lead@example.com:      {{ role: admin }}
  second-admin@example.com:  {{ role: admin }}
  auditor@example.com:       {{ role: viewer, tenants: [tenant-finance] }}
  rita.retail@example.com:   {{ role: devops, tenants: [tenant-retail] }}
groups:
  dba: [dba.lead@example.com]
  budget: [cfo@example.com]
approvals:
  default: 1
  impact: {{ high: 2, critical: 2 }}
{approvals}runners:
  default: local
  definitions:
    local: {{ kind: shell, command: 'true' }}
{org}"
    )
}

fn env_with(approvals: &str, org: &str) -> Env {
    let env = Env::team();
    env.set_config(&org_config(approvals, org));
    env
}

/// `ipr create` of payment-api 2.1.0 to `target` (from `source`) as DEVOPS.
fn create_to(env: &Env, source: &str, target: &str, impact: &str) -> std::process::Output {
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend_from_slice(&[
        "--impact",
        impact,
        "--source-env",
        source,
        "--target-env",
        target,
    ]);
    env.run(&args)
}

fn created(out: &std::process::Output) -> String {
    assert!(out.status.success(), "create failed: {}", stderr(out));
    stdout(out).trim().to_string()
}

fn ticket(env: &Env, id: &str) -> ipr::model::Ticket {
    ipr::model::Ticket::from_yaml(env.ticket_at_head(id).as_bytes(), id).unwrap()
}

fn actions(env: &Env, id: &str) -> Vec<String> {
    ticket(env, id)
        .status
        .history
        .iter()
        .map(|e| format!("{}:{}", e.action, e.by))
        .collect()
}

fn as_user_run(env: &Env, email: &str, args: &[&str]) -> std::process::Output {
    env.as_user(email);
    env.run(args)
}

fn verify_clean(env: &Env) {
    let out = env.run(&["verify"]);
    assert!(out.status.success(), "verify: {}", stderr(&out));
}

/// The refusal changed nothing: HEAD is where it was.
fn refused(env: &Env, head: &str, out: &std::process::Output, code: i32, needle: &str) {
    assert_error(out, code, needle);
    assert_eq!(env.head(), head, "a refused action made a commit");
}

#[test]
fn quorum_is_the_largest_of_environment_and_impact() {
    let env = env_with("  environments: { dev: 0, staging: 1, prod: 2 }\n", "");
    // dev needs none: approved at create by `system`, recorded.
    let dev = created(&create_to(&env, "staging", "dev", "low"));
    assert_eq!(env.state(&dev), "approved");
    let t = ticket(&env, &dev);
    assert_eq!(t.status.history[1].by, "system");
    assert!(
        t.status.history[1]
            .comment
            .as_deref()
            .unwrap()
            .contains("approvals.environments.dev is 0"),
        "{:?}",
        t.status.history[1]
    );
    // dev, but high impact: the impact's 2 is the larger.
    let dev_high = created(&create_to(&env, "staging", "dev", "high"));
    assert_eq!(env.state(&dev_high), "pending");
    // prod (PROD, normalised) low: the environment's 2.
    let prod = created(&create_to(&env, "staging", "PROD", "low"));
    assert_eq!(ticket(&env, &prod).spec.target.target_environment, "prod");
    let out = as_user_run(&env, TADMIN, &["approve", &prod]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("still pending: 1 more approval needed"));
    as_user_run(&env, TADMIN2, &["approve", &prod]);
    assert_eq!(env.state(&prod), "approved");
    // staging low: one approval.
    let staging = created(&create_to(&env, "dev", "staging", "low"));
    as_user_run(&env, TADMIN, &["approve", &staging]);
    assert_eq!(env.state(&staging), "approved");
    // An environment outside `environments:` is refused at create.
    let head = env.head();
    let out = create_to(&env, "staging", "qa", "low");
    refused(&env, &head, &out, 6, "`qa` is not an environment");
    verify_clean(&env);
}

#[test]
fn a_group_rule_needs_its_group_and_a_member_counts_toward_both() {
    let env = env_with(
        "  rules:
    - name: database changes
      when: { planTypes: [\"aws_rds_*\", aws_db_instance] }
      require: { group: dba, count: 1 }
",
        "",
    );
    env.as_user(DEVOPS);
    let plan = fixture("plans/stateful-update.json");
    let mut args = vec![
        "create",
        "--name",
        "orders-db",
        "--version",
        "2026.03.1",
        "--tenant",
        "tenant-finance",
        "--justification",
        "Grow the orders database for the spring sale",
        "--rollback-plan",
        "Re-apply the previous tag infra-2026.02.4",
        "--staging-tests-passed",
        "--security-scan-passed",
        "--evidence-url",
        "https://ci.example.com/pipeline/12346",
        "--no-input",
        "--plan",
    ];
    let plan = plan.display().to_string();
    args.push(&plan);
    let db = created(&env.run(&args));
    let t = ticket(&env, &db);
    assert!(
        t.spec
            .plan
            .as_ref()
            .unwrap()
            .resource_types
            .contains(&"aws_db_instance".to_string()),
        "{:?}",
        t.spec.plan
    );
    // The DBA has no tenant role, yet the request is in their queue with
    // what it needs, as a table and as JSON.
    let out = as_user_run(&env, DBA, &["list", "--pending"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("NEEDS") && table.contains(&db), "{table}");
    assert!(table.contains("1 approval, 1 of dba"), "{table}");
    let out = as_user_run(&env, DBA, &["list", "--pending", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["metadata"]["id"], db.as_str());
    assert_eq!(v[0]["needs"]["missing"][0], "1 approval");
    assert_eq!(v[0]["needs"]["missing"][1], "1 of dba");
    assert_eq!(v[0]["needs"]["groups"][0]["group"], "dba");
    // A tenant admin's approval meets the quorum, not the rule.
    let out = as_user_run(&env, TADMIN, &["approve", &db]);
    assert!(
        stdout(&out).contains("still pending: needs 1 of dba"),
        "{}",
        stdout(&out)
    );
    assert_eq!(env.state(&db), "pending");
    let show = stdout(&as_user_run(&env, TADMIN, &["show", &db]));
    assert!(show.contains("Needs:      1 of dba"), "{show}");
    // The DBA's approval completes it.
    let out = as_user_run(&env, DBA, &["approve", &db, "--comment", "index plan ok"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.state(&db), "approved");
    // A request the rule does not match is not the DBA's to review.
    let api = created(&create_to(&env, "staging", "prod", "low"));
    let head = env.head();
    let out = as_user_run(&env, DBA, &["approve", &api]);
    refused(&env, &head, &out, 3, "is not a user");
    let queue = stdout(&as_user_run(&env, DBA, &["list", "--pending"]));
    assert!(!queue.contains(&api), "{queue}");
    verify_clean(&env);
}

#[test]
fn a_cost_rule_reads_infracost_and_asks_the_budget_owner() {
    let env = env_with(
        "  rules:
    - name: budget owner
      when: { monthlyCostIncreaseAbove: 50 }
      require: { group: budget, count: 1 }
",
        "",
    );
    env.as_user(DEVOPS);
    let plan = fixture("plans/create.json").display().to_string();
    let cost = fixture("infracost/baseline.json").display().to_string();
    let base = [
        "create",
        "--name",
        "orders-db",
        "--version",
        "2026.03.2",
        "--tenant",
        "tenant-finance",
        "--justification",
        "Grow the orders database for the spring sale",
        "--rollback-plan",
        "Re-apply the previous tag infra-2026.02.4",
        "--staging-tests-passed",
        "--security-scan-passed",
        "--evidence-url",
        "https://ci.example.com/pipeline/12346",
        "--no-input",
        "--plan",
        &plan,
    ];
    let mut args = base.to_vec();
    args.extend(["--cost", &cost]);
    let costly = created(&env.run(&args));
    let c = ticket(&env, &costly).spec.plan.unwrap().cost.unwrap();
    assert_eq!((c.monthly_before, c.monthly_after), (120.45, 230.1));
    assert_eq!(c.currency, "USD");
    let show = stdout(&as_user_run(&env, TADMIN, &["show", &costly]));
    assert!(
        show.contains("Cost:       120.45 → 230.10 USD/month (+109.65)"),
        "{show}"
    );
    as_user_run(&env, TADMIN, &["approve", &costly]);
    assert_eq!(env.state(&costly), "pending");
    let out = as_user_run(&env, CFO, &["approve", &costly]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.state(&costly), "approved");
    // Without a cost the rule does not match: one approval does.
    env.as_user(DEVOPS);
    let cheap = created(&env.run(&base));
    as_user_run(&env, TADMIN, &["approve", &cheap]);
    assert_eq!(env.state(&cheap), "approved");
    // --cost without a plan, and a cost file that is not infracost's.
    env.as_user(DEVOPS);
    let head = env.head();
    let mut args = valid_create_args();
    args.extend(["--impact", "low", "--cost", &cost]);
    refused(
        &env,
        &head,
        &env.run(&args),
        2,
        "--cost is the cost of a terraform plan",
    );
    let bad = fixture("infracost/malformed.json").display().to_string();
    let mut args = base.to_vec();
    args.extend(["--cost", &bad]);
    refused(&env, &head, &env.run(&args), 6, "malformed.json");
    verify_clean(&env);
}

#[test]
fn the_wait_timer_holds_deploys_and_cancel_still_works() {
    let mut env = env_with("  waitTimer: 5m\n", "");
    let id = created(&create_to(&env, "staging", "prod", "low"));
    as_user_run(&env, TADMIN, &["approve", &id]);
    assert_eq!(env.state(&id), "approved");
    // A minute later: refused, saying when.
    env.now = "2026-03-10T09:01:00Z".into();
    let head = env.head();
    let out = as_user_run(&env, DEVOPS, &["deploy", &id]);
    refused(
        &env,
        &head,
        &out,
        5,
        "waits until 2026-03-10T09:05:00+00:00",
    );
    let show = stdout(&env.run(&["show", &id]));
    assert!(
        show.contains("Waits:      until 2026-03-10 09:05 UTC"),
        "{show}"
    );
    // Five minutes after the approval: deployed.
    env.now = "2026-03-10T09:05:00Z".into();
    let out = as_user_run(&env, DEVOPS, &["deploy", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.state(&id), "deployed");
    // Cancel during the wait.
    env.now = NOW.into();
    let other = created(&create_to(&env, "staging", "prod", "low"));
    as_user_run(&env, TADMIN, &["approve", &other]);
    env.now = "2026-03-10T09:02:00Z".into();
    let out = as_user_run(&env, DEVOPS, &["cancel", &other, "--reason", "superseded"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.state(&other), "cancelled");
    verify_clean(&env);
}

#[test]
fn auto_approve_and_auto_deploy() {
    let mut env = env_with(
        "  autoApprove:\n    - { environments: [dev], impact: [low] }\n",
        "deploy: { autoDeploy: true }\n",
    );
    // Matches: approved at create by system.
    let dev = created(&create_to(&env, "staging", "dev", "low"));
    assert_eq!(env.state(&dev), "approved");
    assert_eq!(
        actions(&env, &dev),
        [format!("created:{DEVOPS}"), "approved:system".to_string()]
    );
    // Does not match (medium): pending; the approval deploys at once.
    let prod = created(&create_to(&env, "staging", "prod", "medium"));
    assert_eq!(env.state(&prod), "pending");
    let out = as_user_run(&env, TADMIN, &["approve", &prod]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.state(&prod), "deployed");
    let acts = actions(&env, &prod);
    assert_eq!(
        acts[1..],
        [
            format!("approved:{TADMIN}"),
            format!("deploying:{TADMIN}"),
            format!("deployed:{TADMIN}")
        ]
    );
    verify_clean(&env);

    // With a wait timer, the approval leaves it approved and `deploy
    // --due` deploys it once the wait has passed.
    env.set_config(&org_config(
        "  waitTimer: 10m\n",
        "deploy: { autoDeploy: true }\n",
    ));
    let held = created(&create_to(&env, "staging", "prod", "low"));
    let out = as_user_run(&env, TADMIN, &["approve", &held]);
    assert!(
        stderr(&out).contains("`ipr deploy --due` deploys it then"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.state(&held), "approved");
    let head = env.head();
    let out = as_user_run(&env, TADMIN, &["deploy", "--due"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no approved request is due"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.head(), head);
    env.now = "2026-03-10T09:10:00Z".into();
    let out = as_user_run(&env, TADMIN, &["deploy", "--due"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.state(&held), "deployed");
    verify_clean(&env);
}

#[test]
fn break_glass_needs_two_admins_and_an_incident_report() {
    let mut env = env_with(
        "",
        "freezes:\n  - { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z', reason: quarter close }\nbreakGlass: { admins: 2, incidentWithin: 48h }\n",
    );
    let id = created(&create_to(&env, "staging", "prod", "low"));
    as_user_run(&env, TADMIN, &["approve", &id]);
    // Frozen; the first admin opens a break-glass deploy: held, a commit.
    let head = env.head();
    let out = as_user_run(&env, DEVOPS, &["deploy", &id]);
    refused(&env, &head, &out, 3, "frozen");
    let out = as_user_run(
        &env,
        ADMIN,
        &["deploy", &id, "--break-glass", "--reason", "payments down"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 of 2 admins agreed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.state(&id), "approved");
    assert_eq!(
        actions(&env, &id).last().unwrap(),
        &format!("break-glass:{ADMIN}")
    );
    // Nobody else but another admin can agree; the same admin cannot twice.
    let head = env.head();
    refused(
        &env,
        &head,
        &as_user_run(&env, ADMIN, &["break-glass", "confirm", &id]),
        3,
        "already agreed",
    );
    refused(
        &env,
        &head,
        &as_user_run(&env, TADMIN, &["break-glass", "confirm", &id]),
        3,
        "only admins",
    );
    // The second admin's agreement deploys.
    let out = as_user_run(&env, ADMIN2, &["break-glass", "confirm", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.state(&id), "deployed");
    let t = ticket(&env, &id);
    let deploying = t
        .status
        .history
        .iter()
        .find(|e| e.action == ipr::model::Action::Deploying)
        .unwrap();
    assert_eq!(
        (deploying.by.as_str(), deploying.break_glass.as_deref()),
        (ADMIN2, Some("payments down"))
    );
    verify_clean(&env);
    // Two days later the report is overdue: list and verify say so.
    env.now = "2026-03-12T09:00:01Z".into();
    let out = as_user_run(&env, ADMIN, &["list"]);
    assert!(
        stderr(&out).contains(&format!("warning: {id}: the incident report")),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("incident-overdue"),
        "{}",
        stderr(&out)
    );
    // A report that is not a URL is refused; a URL clears the warning.
    let head = env.head();
    refused(
        &env,
        &head,
        &as_user_run(&env, ADMIN, &["incident", &id, "--report", "see wiki"]),
        6,
        "http(s) URL",
    );
    let out = as_user_run(
        &env,
        ADMIN,
        &[
            "incident",
            &id,
            "--report",
            "https://wiki.example.com/inc/117",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        ticket(&env, &id)
            .status
            .history
            .last()
            .unwrap()
            .report
            .as_deref(),
        Some("https://wiki.example.com/inc/117")
    );
    let out = env.run(&["verify"]);
    assert!(
        !stderr(&out).contains("incident-overdue"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&as_user_run(&env, ADMIN, &["list"])).contains("warning"));
    let show = stdout(&env.run(&["show", &id]));
    assert!(
        show.contains("report https://wiki.example.com/inc/117"),
        "{show}"
    );
    verify_clean(&env);
}

#[test]
fn anyone_who_can_view_comments_and_nothing_else_changes() {
    let env = env_with("", "");
    let id = created(&create_to(&env, "staging", "prod", "low"));
    let out = as_user_run(
        &env,
        VIEWER,
        &[
            "comment",
            &id,
            "--message",
            "- is the 3DS2 flag off by default?",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.state(&id), "pending");
    let t = ticket(&env, &id);
    let e = t.status.history.last().unwrap();
    assert_eq!(
        (e.action, e.by.as_str()),
        (ipr::model::Action::Commented, VIEWER)
    );
    assert_eq!(
        e.comment.as_deref(),
        Some("- is the 3DS2 flag off by default?")
    );
    let subject = env.git(&["log", "-1", "--format=%s"]);
    assert_eq!(subject.trim(), format!("ipr: comment {id}"));
    let show = stdout(&env.run(&["show", &id]));
    assert!(
        show.contains("commented") && show.contains("3DS2 flag off"),
        "{show}"
    );
    // A terminal request still takes comments.
    as_user_run(&env, DEVOPS, &["cancel", &id]);
    assert!(as_user_run(&env, TADMIN, &["comment", &id, "-m", "noted"])
        .status
        .success());
    // Who cannot view it cannot comment; an empty comment is refused.
    let head = env.head();
    refused(
        &env,
        &head,
        &as_user_run(&env, RETAIL_DEVOPS, &["comment", &id, "-m", "hi"]),
        3,
        "may not view",
    );
    refused(
        &env,
        &head,
        &as_user_run(&env, STRANGER, &["comment", &id, "-m", "hi"]),
        3,
        "not a user",
    );
    refused(
        &env,
        &head,
        &as_user_run(&env, TADMIN, &["comment", &id, "-m", "  "]),
        6,
        "needs a message",
    );
    verify_clean(&env);
}

#[test]
fn staged_promotion_needs_the_previous_environment_deployed() {
    let env = env_with("  requireStaged: true\n", "");
    // prod before staging: refused.
    let head = env.head();
    let out = create_to(&env, "staging", "prod", "low");
    refused(
        &env,
        &head,
        &out,
        5,
        "payment-api 2.1.0 must be deployed to staging",
    );
    // dev is first: no stage before it.
    let dev = created(&create_to(&env, "staging", "dev", "low"));
    as_user_run(&env, TADMIN, &["approve", &dev]);
    as_user_run(&env, DEVOPS, &["deploy", &dev]);
    assert_eq!(env.state(&dev), "deployed");
    // Promote to staging: same target, promotedFrom, pending.
    let out = as_user_run(&env, DEVOPS, &["promote", &dev, "--to", "staging"]);
    let staging = created(&out);
    let t = ticket(&env, &staging);
    assert_eq!(
        t.spec.promoted_from.map(|i| i.to_string()),
        Some(dev.clone())
    );
    assert_eq!(
        (
            t.spec.target.source_environment.as_str(),
            t.spec.target.target_environment.as_str()
        ),
        ("dev", "staging")
    );
    assert_eq!(t.spec.target.version, "2.1.0");
    // Promoting what is not deployed is refused.
    let head = env.head();
    refused(
        &env,
        &head,
        &as_user_run(&env, DEVOPS, &["promote", &staging, "--to", "prod"]),
        5,
        "only deployed requests can be promoted",
    );
    as_user_run(&env, TADMIN, &["approve", &staging]);
    as_user_run(&env, DEVOPS, &["deploy", &staging]);
    // A plain create for prod finds the staging deployment by itself.
    let prod = created(&create_to(&env, "staging", "prod", "low"));
    assert_eq!(
        ticket(&env, &prod)
            .spec
            .promoted_from
            .map(|i| i.to_string()),
        Some(staging.clone())
    );
    verify_clean(&env);
}
