//! Snapshots of real CLI output: show, list, stats, log, and the whole
//! --help tree, so every interface change shows up in review.

use crate::harness::*;

fn seeded() -> (Env, String, String) {
    let env = Env::team();
    let a = env.create_as(DEVOPS, "low");
    let b = env.create_as(DEVOPS, "high");
    env.as_user(TADMIN);
    env.ipr(&["approve", &a, "--comment", "Approved after review"])
        .assert()
        .success();
    env.ipr(&[
        "approve",
        &b,
        "--comment",
        "Looks good, second pair of eyes please",
    ])
    .assert()
    .success();
    (env, a, b)
}

#[test]
fn show_detail_view() {
    let (env, a, b) = seeded();
    let out = env.run(&["show", &a]);
    assert!(out.status.success());
    insta::assert_snapshot!("show_approved", stdout(&out));
    let out = env.run(&["show", &b]);
    insta::assert_snapshot!("show_pending_high", stdout(&out));
    env.as_user(ADMIN);
    env.ipr(&["reject", &b, "--reason", "Load test evidence is missing"])
        .assert()
        .success();
    let out = env.run(&["show", &b]);
    insta::assert_snapshot!("show_rejected", stdout(&out));
}

#[test]
fn list_table() {
    let (env, _, _) = seeded();
    let out = env.run(&["list"]);
    assert!(out.status.success());
    insta::assert_snapshot!("list_all", stdout(&out));
    let out = env.run(&["list", "--state", "pending"]);
    insta::assert_snapshot!("list_pending_state", stdout(&out));
    let out = env.run(&["list", "--state", "cancelled"]);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("no requests match"));
}

#[test]
fn stats_counts() {
    let (env, _, b) = seeded();
    env.as_user(ADMIN);
    env.ipr(&["approve", &b]).assert().success();
    let c = env.create_as(DEVOPS, "low");
    env.as_user(TADMIN);
    env.ipr(&["reject", &c, "--reason", "Wrong version number"])
        .assert()
        .success();
    env.create_as(DEVOPS, "low");
    let out = env.run(&["stats", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"pending": 1, "approvedToday": 2, "rejectedToday": 1, "deployedThisWeek": 0})
    );
    let out = env.run(&["stats"]);
    insta::assert_snapshot!("stats_table", stdout(&out));
    // tomorrow nothing was approved or rejected "today"
    let mut later = Env {
        tmp: env.tmp,
        repo: env.repo.clone(),
        now: "2026-03-11T09:00:00Z".into(),
    };
    later.now = "2026-03-11T09:00:00Z".into();
    let out = later.run(&["stats", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["approvedToday"], 0);
    assert_eq!(v["rejectedToday"], 0);
    assert_eq!(v["pending"], 1);
}

#[test]
fn log_lists_each_commit_of_the_ticket() {
    let (env, a, _) = seeded();
    let out = env.run(&["log", &a, "--format", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["action"], "approve");
    assert_eq!(rows[0]["actor"], TADMIN);
    assert_eq!(rows[1]["action"], "create");
    assert_eq!(rows[1]["actor"], DEVOPS);
    assert_eq!(rows[1]["signature"], "unsigned");
    let hash = env.git(&["log", "-n1", "--format=%H", "--", &env.ticket_path(&a)]);
    assert_eq!(rows[0]["commit"], hash.trim());
}

/// Every command's --help, one snapshot.
#[test]
fn help_tree() {
    let env = Env::empty();
    let mut text = String::new();
    let top = env.run(&["--help"]);
    text.push_str(&stdout(&top));
    let cmd = ipr::cli::command();
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        let out = env.run(&[name, "--help"]);
        assert!(out.status.success(), "{name} --help");
        text.push_str(&format!("\n===== ipr {name} --help =====\n"));
        text.push_str(&stdout(&out));
    }
    insta::assert_snapshot!("help", text);
}
