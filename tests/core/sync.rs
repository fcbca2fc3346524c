//! A team on many clones of one bare repo: `ipr sync`, `--push`, ID
//! renumbering, concurrent approvals.

use std::path::{Path, PathBuf};

use crate::harness::*;

/// The team repo published to a bare remote, and two more clones of it.
fn team_of_three() -> (Env, PathBuf, Env, Env) {
    let origin = Env::team();
    let bare = origin.publish();
    let a = Env::clone_of(&bare);
    let b = Env::clone_of(&bare);
    (origin, bare, a, b)
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Ticket files on the remote's main, by name.
fn remote_tickets(bare: &Path) -> Vec<String> {
    git_in(bare, &["ls-tree", "-r", "--name-only", "main", "requests"])
        .lines()
        .map(|l| l.rsplit('/').next().unwrap().to_string())
        .collect()
}

fn remote_ticket(bare: &Path, id: &str) -> ipr::model::Ticket {
    let path = git_in(bare, &["ls-tree", "-r", "--name-only", "main", "requests"])
        .lines()
        .find(|l| l.ends_with(&format!("{id}.yaml")))
        .unwrap()
        .to_string();
    let text = git_in(bare, &["show", &format!("main:{path}")]);
    ipr::model::Ticket::from_yaml(text.as_bytes(), &path).unwrap()
}

/// `ipr verify` of the remote's history, from a fresh clone, is clean.
fn verify_remote(bare: &Path) {
    let fresh = Env::clone_of(bare);
    fresh.as_user(ADMIN);
    let out = fresh.run(&["verify"]);
    assert!(
        out.status.success(),
        "verify: {}{}",
        stdout(&out),
        stderr(&out)
    );
}

fn no_merges(bare: &Path) {
    assert_eq!(
        git_in(bare, &["rev-list", "--merges", "main"]).trim(),
        "",
        "no merge commits"
    );
}

#[test]
fn offline_work_is_pushed_by_sync() {
    let (_o, bare, a, _b) = team_of_three();
    let id = a.create_as(DEVOPS, "low");
    assert!(
        remote_tickets(&bare).is_empty(),
        "created offline: not pushed yet"
    );
    let out = a.run(&["sync"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("synced with origin/main"),
        "{}",
        stderr(&out)
    );
    assert_eq!(remote_tickets(&bare), [format!("{id}.yaml")]);
    assert_eq!(git_in(&bare, &["rev-parse", "main"]).trim(), a.head());
    // nothing to do the second time
    let out = a.run(&["sync"]);
    assert!(stderr(&out).contains("nothing to push"), "{}", stderr(&out));
}

#[test]
fn an_id_taken_on_the_remote_is_renumbered() {
    let (_o, bare, a, b) = team_of_three();
    let from_a = a.create_as(DEVOPS, "low");
    let from_b = b.create_as(TADMIN, "medium");
    assert_eq!(
        (from_a.as_str(), from_b.as_str()),
        ("PR-2026-0001", "PR-2026-0001")
    );
    a.ipr(&["sync"]).assert().success();
    let out = b.run(&["sync"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "renumbered PR-2026-0001 -> PR-2026-0002: origin/main already had PR-2026-0001"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        remote_tickets(&bare),
        ["PR-2026-0001.yaml", "PR-2026-0002.yaml"]
    );
    let first = remote_ticket(&bare, "PR-2026-0001");
    let second = remote_ticket(&bare, "PR-2026-0002");
    assert_eq!(
        first.metadata.created_by, DEVOPS,
        "the remote's ticket is kept"
    );
    assert_eq!(second.metadata.created_by, TADMIN);
    assert_eq!(
        second.metadata.id.to_string(),
        "PR-2026-0002",
        "metadata.id rewritten"
    );
    // b's work tree and index match the new HEAD
    assert!(b.status().is_empty(), "{}", b.status());
    let on_disk = std::fs::read_to_string(b.repo.join(b.ticket_path("PR-2026-0001"))).unwrap();
    assert!(on_disk.contains(DEVOPS));
    no_merges(&bare);
    verify_remote(&bare);
    // the replayed commit is still b's, with its trailers
    let log = git_in(
        &bare,
        &[
            "log",
            "-1",
            "--format=%ae|%s|%(trailers:key=Ipr-Request,valueonly)",
            "main",
        ],
    );
    assert_eq!(
        log.trim(),
        format!("{TADMIN}|ipr: create PR-2026-0002|PR-2026-0002")
    );
}

#[test]
fn concurrent_approvals_from_two_clones_both_land() {
    let (o, bare, a, b) = team_of_three();
    let id = o.create_as(DEVOPS, "high");
    o.ipr(&["sync"]).assert().success();
    a.ipr(&["sync"]).assert().success();
    b.ipr(&["sync"]).assert().success();
    // both approve offline against the same state, then both sync
    a.as_user(TADMIN);
    a.ipr(&["approve", &id]).assert().success();
    b.as_user(TADMIN2);
    b.ipr(&["approve", &id]).assert().success();
    a.ipr(&["sync"]).assert().success();
    b.ipr(&["sync"]).assert().success();
    let t = remote_ticket(&bare, &id);
    assert_eq!(t.status.state, ipr::model::State::Approved);
    assert_eq!(t.approvers(), [TADMIN, TADMIN2]);
    assert_eq!(t.status.approved_by.as_deref(), Some(TADMIN2));
    no_merges(&bare);

    // and with --push on a stale clone: computed on the remote's state
    let id2 = o.create_as(DEVOPS, "high");
    o.ipr(&["sync"]).assert().success();
    a.ipr(&["sync"]).assert().success();
    b.ipr(&["sync"]).assert().success();
    a.as_user(TADMIN);
    a.ipr(&["approve", &id2, "--push"]).assert().success();
    b.as_user(TADMIN2);
    let out = b.run(&["approve", &id2, "--push"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("now approved"), "{}", stdout(&out));
    assert_eq!(remote_ticket(&bare, &id2).approvers(), [TADMIN, TADMIN2]);
    verify_remote(&bare);
}

#[test]
fn approve_and_reject_at_once_end_in_one_outcome() {
    let (o, bare, a, b) = team_of_three();
    let id = o.create_as(DEVOPS, "low");
    o.ipr(&["sync"]).assert().success();
    a.ipr(&["sync"]).assert().success();
    b.ipr(&["sync"]).assert().success();
    a.as_user(TADMIN);
    a.ipr(&["approve", &id, "--push"]).assert().success();
    b.as_user(TADMIN2);
    let head = b.head();
    let out = b.run(&[
        "reject",
        &id,
        "--reason",
        "Load test evidence is missing",
        "--push",
    ]);
    assert_error(&out, 5, "it is approved");
    assert_eq!(b.head(), head, "the refused action leaves no local commit");
    assert_eq!(
        remote_ticket(&bare, &id).status.state,
        ipr::model::State::Approved
    );

    // offline: the second to sync is told why its action was dropped
    let id2 = o.create_as(DEVOPS, "low");
    o.ipr(&["sync"]).assert().success();
    a.ipr(&["sync"]).assert().success();
    b.ipr(&["sync"]).assert().success();
    a.as_user(TADMIN);
    a.ipr(&["reject", &id2, "--reason", "Wrong version number"])
        .assert()
        .success();
    b.as_user(TADMIN2);
    b.ipr(&["approve", &id2]).assert().success();
    a.ipr(&["sync"]).assert().success();
    let out = b.run(&["sync"]);
    assert_error(&out, 5, "could not be replayed");
    assert!(
        stderr(&out).contains(&format!("cannot approve {id2}: it is rejected")),
        "{}",
        stderr(&out)
    );
    let t = remote_ticket(&bare, &id2);
    assert_eq!(t.status.state, ipr::model::State::Rejected);
    assert_eq!(t.status.history.len(), 2, "the dropped approval is nowhere");
    assert_eq!(
        b.head(),
        git_in(&bare, &["rev-parse", "main"]).trim(),
        "b now matches the remote"
    );
    assert_eq!(b.state(&id2), "rejected");
    verify_remote(&bare);
}

#[test]
fn without_a_reachable_remote_nothing_local_changes() {
    let env = Env::team();
    // no remote at all
    let out = env.run(&["sync"]);
    assert_error(&out, 4, "no git remote named `origin`");
    // a remote that does not answer
    env.git(&["remote", "add", "origin", "/nonexistent/remote.git"]);
    let head = env.head();
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend(["--impact", "low", "--push"]);
    let out = env.run(&args);
    assert_error(&out, 1, "fetching from origin failed");
    assert_eq!(env.head(), head);
    assert!(env.status().is_empty());
    assert_error(&env.run(&["sync"]), 1, "fetching from origin failed");
    // offline actions still work
    env.create_as(DEVOPS, "low");
    assert_ne!(env.head(), head);
}

#[test]
fn auto_push_pushes_every_action() {
    let (o, bare, a, _b) = team_of_three();
    let cfg = std::fs::read_to_string(o.repo.join(".ipr/config.yaml")).unwrap();
    o.set_config(&format!("{cfg}sync:\n  autoPush: true\n"));
    o.git(&["push", "-q", "origin", "main"]);
    a.ipr(&["sync"]).assert().success();
    let id = a.create_as(DEVOPS, "low");
    assert_eq!(remote_tickets(&bare), [format!("{id}.yaml")]);
}

#[test]
fn sync_refuses_to_replay_non_ipr_commits() {
    let (_o, _bare, a, b) = team_of_three();
    a.create_as(DEVOPS, "low");
    a.ipr(&["sync"]).assert().success();
    b.as_user(DEVOPS);
    std::fs::write(b.repo.join("notes.md"), "hello\n").unwrap();
    b.git(&["add", "notes.md"]);
    b.git(&["commit", "-q", "-m", "notes"]);
    let head = b.head();
    let out = b.run(&["sync"]);
    assert_error(&out, 5, "is not an ipr action");
    assert!(stderr(&out).contains("hint: "));
    assert_eq!(b.head(), head);
}

/// 8 clones, 25 creates each in parallel with --push, then cross-approvals
/// with --push: the remote ends with 200 unique sequential IDs and every
/// approval that reported success. Slow; `.ci/run` runs it with --ignored.
#[test]
#[ignore = "stress test: run with cargo test -- --ignored"]
fn stress_eight_clones_push_in_parallel() {
    const CLONES: usize = 8;
    const EACH: usize = 25;
    let origin = Env::team();
    // everyone is a tenant admin of tenant-finance: they create and approve
    let mut cfg = std::fs::read_to_string(fixture("config/team.yaml")).unwrap();
    for i in 0..CLONES {
        cfg = cfg.replace(
            "users:\n",
            &format!(
                "users:\n  u{i}@example.com: {{ role: tenant-admin, tenants: [tenant-finance] }}\n"
            ),
        );
    }
    origin.set_config(&cfg);
    let bare = origin.publish();
    let clones: Vec<Env> = (0..CLONES)
        .map(|i| {
            let c = Env::clone_of(&bare);
            c.as_user(&format!("u{i}@example.com"));
            c
        })
        .collect();
    let started = std::time::Instant::now();
    let attempts = std::sync::Mutex::new(Vec::new());

    // phase 1: creates
    std::thread::scope(|s| {
        for c in &clones {
            let attempts = &attempts;
            s.spawn(move || {
                let mut args = valid_create_args();
                args.extend(["--impact", "high", "--push"]);
                for _ in 0..EACH {
                    let out = c.run(&args);
                    assert!(out.status.success(), "create: {}", stderr(&out));
                    attempts.lock().unwrap().push(attempts_of(&stderr(&out)));
                }
            });
        }
    });
    let created = started.elapsed();
    let names = remote_tickets(&bare);
    let expected: Vec<String> = (1..=CLONES * EACH)
        .map(|n| format!("PR-2026-{n:04}.yaml"))
        .collect();
    assert_eq!(names, expected, "200 unique, sequential IDs");

    // phase 2: clone i approves the requests of clones i+1 and i+2
    let approved = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for (i, c) in clones.iter().enumerate() {
            let (attempts, approved, bare) = (&attempts, &approved, &bare);
            s.spawn(move || {
                c.ipr(&["sync"]).assert().success();
                for other in [(i + 1) % CLONES, (i + 2) % CLONES] {
                    let author = format!("u{other}@example.com");
                    for name in remote_tickets(bare) {
                        let id = name.trim_end_matches(".yaml");
                        if remote_ticket(bare, id).metadata.created_by != author {
                            continue;
                        }
                        let out = c.run(&["approve", id, "--push"]);
                        assert!(out.status.success(), "approve {id}: {}", stderr(&out));
                        attempts.lock().unwrap().push(attempts_of(&stderr(&out)));
                        approved
                            .lock()
                            .unwrap()
                            .push((id.to_string(), format!("u{i}@example.com")));
                    }
                }
            });
        }
    });
    let total = started.elapsed();
    let approved = approved.into_inner().unwrap();
    assert_eq!(approved.len(), 2 * CLONES * EACH);
    for (id, who) in &approved {
        let t = remote_ticket(&bare, id);
        assert!(
            t.approvers().contains(&who.as_str()),
            "{who}'s approval of {id} is in history"
        );
        assert_eq!(t.status.state, ipr::model::State::Approved);
    }
    no_merges(&bare);
    verify_remote(&bare);
    let fsck = git_in(&bare, &["fsck", "--strict", "--no-dangling"]);
    assert!(fsck.trim().is_empty(), "{fsck}");
    let attempts = attempts.into_inner().unwrap();
    let retried = attempts.iter().filter(|&&a| a > 1).count();
    let max = attempts.iter().max().copied().unwrap_or(1);
    eprintln!(
        "stress: {} creates in {:.1}s, {} approvals, {:.1}s in all; {} of {} pushes retried, at most {} attempts",
        CLONES * EACH,
        created.as_secs_f64(),
        approved.len(),
        total.as_secs_f64(),
        retried,
        attempts.len(),
        max
    );
}

/// "(after N attempts: …)" in a pushed action's stderr; 1 when absent.
fn attempts_of(stderr: &str) -> u32 {
    stderr
        .split("(after ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}
