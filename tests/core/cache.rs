//! The summary cache (SPEC §14): `list`, `stats` and the review queue
//! answer from `.git/ipr/cache/tickets`, and a cache that is missing,
//! stale, corrupt, foreign or unwritable never changes an answer. The
//! oracle is git itself: every ticket file at HEAD, read with the `git`
//! binary and parsed here.

use std::path::PathBuf;

use crate::harness::*;

fn cache_file(env: &Env) -> PathBuf {
    env.repo.join(".git/ipr/cache/tickets")
}

/// Every ticket file at HEAD as JSON, in ipr's order (year, month,
/// number), read with git.
fn tickets_in_git(env: &Env) -> Vec<serde_json::Value> {
    let files = env.git(&["ls-tree", "-r", "--name-only", "HEAD", "requests/prod"]);
    let mut paths: Vec<&str> = files.lines().filter(|p| p.ends_with(".yaml")).collect();
    paths.sort_by_key(|p| {
        let (dir, name) = p.rsplit_once('/').unwrap();
        (dir.to_string(), name.len(), name.to_string())
    });
    paths
        .iter()
        .map(|p| serde_yaml_ng::from_str(&env.git(&["show", &format!("HEAD:{p}")])).unwrap())
        .collect()
}

fn json_of(env: &Env, actor: &str, args: &[&str]) -> serde_json::Value {
    env.as_user(actor);
    let out = env.run(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// What git says each answer must be, checked against ipr's answers.
fn assert_answers_match_git(env: &Env, when: &str) {
    let all = tickets_in_git(env);
    let listed = json_of(env, ADMIN, &["list", "--format", "json"]);
    assert_eq!(
        listed,
        serde_json::Value::Array(all.clone()),
        "{when}: admin's list"
    );

    let finance: Vec<_> = all
        .iter()
        .filter(|t| t["metadata"]["tenant"] == "tenant-finance")
        .cloned()
        .collect();
    let listed = json_of(env, VIEWER, &["list", "--format", "json"]);
    assert_eq!(
        listed,
        serde_json::Value::Array(finance.clone()),
        "{when}: viewer's list"
    );

    let pending = |t: &&serde_json::Value| t["status"]["state"] == "pending";
    let stats = json_of(env, ADMIN, &["stats", "--format", "json"]);
    assert_eq!(
        stats["pending"],
        all.iter().filter(pending).count(),
        "{when}: stats"
    );

    // The tenant admin's queue: pending finance requests not their own
    // and not yet approved by them.
    let queue: Vec<String> = finance
        .iter()
        .filter(pending)
        .filter(|t| t["metadata"]["createdBy"] != TADMIN)
        .map(|t| t["metadata"]["id"].as_str().unwrap().to_string())
        .collect();
    let listed = json_of(env, TADMIN, &["list", "--pending", "--format", "json"]);
    let ids: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["metadata"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, queue, "{when}: tenant admin's queue");
}

/// A request of `impact` for `tenant`, created by `who`.
fn create(env: &Env, who: &str, tenant: &str, impact: &str) {
    env.as_user(who);
    let mut args: Vec<&str> = valid_create_args()
        .into_iter()
        .map(|a| if a == "tenant-finance" { tenant } else { a })
        .collect();
    args.extend(["--impact", impact]);
    env.ipr(&args).assert().success();
}

/// Three finance requests and one retail, in two months.
fn populated() -> Env {
    let env = Env::team();
    env.create_as(DEVOPS, "low");
    env.create_as(DEVOPS, "high");
    create(&env, RETAIL_DEVOPS, "tenant-retail", "low");
    let later = Env {
        now: "2026-04-02T09:00:00Z".into(),
        ..env
    };
    later.create_as(DEVOPS, "low");
    later
}

#[test]
fn reads_follow_every_change_through_the_cache() {
    let env = populated();
    assert!(!cache_file(&env).exists(), "no read has run yet");
    assert_answers_match_git(&env, "first read (cold)");
    assert!(cache_file(&env).exists(), "the first read writes the cache");
    assert_answers_match_git(&env, "second read (warm)");

    let ids: Vec<String> = tickets_in_git(&env)
        .iter()
        .map(|t| t["metadata"]["id"].as_str().unwrap().to_string())
        .collect();
    env.as_user(TADMIN);
    env.ipr(&["approve", &ids[0]]).assert().success();
    assert_answers_match_git(&env, "after an approval");
    env.ipr(&[
        "reject",
        &ids[1],
        "--reason",
        "Not during the freeze window",
    ])
    .assert()
    .success();
    assert_answers_match_git(&env, "after a rejection");
    env.create_as(DEVOPS, "medium");
    assert_answers_match_git(&env, "after a create");

    // A hand edit that ipr did not make is still what git says (verify
    // flags it; reads show it, with a warning).
    let path = env.ticket_path(&ids[3]);
    let text = std::fs::read_to_string(env.repo.join(&path)).unwrap();
    std::fs::write(
        env.repo.join(&path),
        text.replace("tenant-finance", "tenant-retail"),
    )
    .unwrap();
    env.git(&["commit", "-qam", "hand edit"]);
    assert_answers_match_git(&env, "after a hand edit");

    // A ticket file that does not parse is skipped with a warning, from
    // the cache as without it.
    std::fs::write(env.repo.join(&path), "not: [a ticket").unwrap();
    env.git(&["commit", "-qam", "broken file"]);
    env.as_user(ADMIN);
    for _ in 0..2 {
        let out = env.run(&["list", "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("warning: skipping {path}")),
            "{}",
            stderr(&out)
        );
        let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(listed.len(), 4, "the broken file is skipped");
    }
}

/// Break the cache with `how`, then check every answer against git and
/// that the next read left a cache that is believed again.
fn survives(env: &Env, what: &str, how: impl FnOnce(&mut Vec<u8>)) {
    assert_answers_match_git(env, &format!("{what}: before"));
    let path = cache_file(env);
    let mut bytes = std::fs::read(&path).unwrap();
    let before = bytes.clone();
    how(&mut bytes);
    assert_ne!(bytes, before, "{what}: the test changed the cache");
    std::fs::write(&path, &bytes).unwrap();
    assert_answers_match_git(env, what);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "{what}: the cache was rebuilt as it was"
    );
}

/// Replace the first `from` in `bytes` at or after `start` by `to`, of the
/// same length.
fn replace_once(bytes: &mut [u8], start: usize, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let at = start
        + bytes[start..]
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap_or_else(|| panic!("{from} not in the cache"));
    bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
}

#[test]
fn a_corrupt_cache_is_rebuilt_never_believed() {
    let env = populated();
    survives(&env, "truncated", |b| b.truncate(b.len() - 100));
    survives(&env, "emptied", |b| b.clear());
    survives(&env, "garbage", |b| *b = b"garbage\n".repeat(100));
    // Same length, so only the checksums can tell.
    survives(&env, "a state changed in the JSON", |b| {
        replace_once(b, 512, "\"state\": \"pending\"", "\"state\": \"Pending\"")
    });
    survives(&env, "a tenant changed in the index", |b| {
        replace_once(b, 0, "\"t\":\"tenant-finance\"", "\"t\":\"tenant-retaill\"")
    });
    survives(&env, "an unreadable header", |b| {
        replace_once(b, 0, "\"json_len\":", "\"json_len\" ")
    });
    survives(&env, "written by another ipr", |b| {
        let v = env!("CARGO_PKG_VERSION");
        let other = "9".repeat(v.len());
        replace_once(
            b,
            0,
            &format!("\"ipr\":\"{v}\""),
            &format!("\"ipr\":\"{other}\""),
        )
    });
}

#[test]
fn a_stale_cache_from_an_older_commit_is_brought_up_to_date() {
    let env = populated();
    assert_answers_match_git(&env, "cold");
    let old = std::fs::read(cache_file(&env)).unwrap();
    let first = tickets_in_git(&env)[0]["metadata"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.as_user(TADMIN);
    env.ipr(&["approve", &first]).assert().success();
    env.create_as(DEVOPS, "medium");
    assert_answers_match_git(&env, "after the actions");
    // Put back the cache of before the actions: it is stale, not wrong.
    std::fs::write(cache_file(&env), &old).unwrap();
    assert_answers_match_git(&env, "with the older cache put back");
    // And a cache of a later commit, read at an earlier one (a reset).
    env.git(&["reset", "-q", "--hard", "HEAD~2"]);
    assert_answers_match_git(&env, "after a reset to before the actions");
}

#[test]
fn a_cache_from_another_repository_changes_nothing() {
    // The same IDs, paths and months in both repositories, different
    // content: only blob and tree ids say which entries may be reused.
    let ours = populated();
    let theirs = Env::team();
    theirs.create_as(DEVOPS, "high");
    create(&theirs, RETAIL_DEVOPS, "tenant-retail", "medium");
    theirs.create_as(DEVOPS, "critical");
    assert_answers_match_git(&theirs, "their repository");
    assert_answers_match_git(&ours, "ours");
    std::fs::copy(cache_file(&theirs), cache_file(&ours)).unwrap();
    assert_answers_match_git(&ours, "ours, with their cache");
}

#[test]
fn reads_answer_when_the_cache_cannot_be_written() {
    let env = populated();
    let path = cache_file(&env);
    // A directory where the file goes: the cache is built for the one read.
    std::fs::create_dir_all(path.join("in-the-way")).unwrap();
    assert_answers_match_git(&env, "cache path taken by a directory");
    assert!(path.is_dir());
    std::fs::remove_dir_all(&path).unwrap();
    assert_answers_match_git(&env, "cache path free again");
    assert!(path.is_file());
}
