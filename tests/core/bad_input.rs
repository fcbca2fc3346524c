//! Bad input gets a clear error, the documented exit code, and changes
//! nothing: no commit, no file left behind.

use crate::harness::*;

/// Run, expect `code` and an error line with `needle`, and no change.
fn refused(env: &Env, args: &[&str], code: i32, needle: &str) {
    let head = env.head();
    let status = env.status();
    let out = env.run(args);
    assert_error(&out, code, needle);
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", stdout(&out));
    assert_eq!(env.head(), head, "{args:?} must not commit");
    assert_eq!(
        env.status(),
        status,
        "{args:?} must not touch the work tree"
    );
}

#[test]
fn malformed_and_path_like_ids() {
    let env = Env::team();
    env.create_as(DEVOPS, "low");
    env.as_user(ADMIN);
    for id in [
        "../x",
        "PR-1",
        "PR-2026-1",
        "../../etc/passwd",
        "PR-2026-0001/..",
        "requests/prod/2026/03/PR-2026-0001.yaml",
        "",
    ] {
        refused(&env, &["show", id], 6, "invalid request ID");
        refused(&env, &["approve", id], 6, "invalid request ID");
        refused(&env, &["cancel", id], 6, "invalid request ID");
    }
    refused(
        &env,
        &["show", "PR-2026-0042"],
        4,
        "no request PR-2026-0042",
    );
    refused(&env, &["approve", "PR-2025-0001"], 4, "no request");
}

#[test]
fn not_a_git_repo_and_missing_config() {
    let env = Env::empty();
    let plain = env.tmp.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let out = env.ipr_at(&plain, &["list"]).output().unwrap();
    assert_error(&out, 4, "not a git repository");
    let out = env
        .ipr_at(std::path::Path::new("/nonexistent/dir"), &["list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));

    env.as_user(ADMIN);
    let out = env.run(&["list"]);
    assert_error(&out, 4, ".ipr/config.yaml");
    assert!(stderr(&out).contains("hint: run `ipr init"));
    let mut args = valid_create_args();
    args.extend(["--impact", "low"]);
    let out = env.run(&args);
    assert_error(&out, 4, ".ipr/config.yaml");
    assert!(!env.repo.join("requests").exists());
}

#[test]
fn missing_identity_is_explained() {
    let env = Env::team();
    env.git(&["config", "--unset", "user.email"]);
    let out = env.run(&["list"]);
    assert_error(&out, 4, "user.email");
    assert!(stderr(&out).contains("hint: git config user.email"));
}

/// Commit `content` as the file of PR-2026-0001 with plain git.
fn commit_ticket(env: &Env, content: &[u8]) {
    let path = "requests/prod/2026/03/PR-2026-0001.yaml";
    std::fs::create_dir_all(env.repo.join("requests/prod/2026/03")).unwrap();
    std::fs::write(env.repo.join(path), content).unwrap();
    env.git(&["add", path]);
    env.git(&["commit", "-q", "-m", "hand edit"]);
}

fn seed_with(from: &str, to: &str) -> String {
    let seed = std::fs::read_to_string(fixture("tickets/PR-2024-0003.yaml")).unwrap();
    assert!(seed.contains(from), "fixture has {from}");
    seed.replace(from, to)
        .replace("PR-2024-0003", "PR-2026-0001")
}

#[test]
fn broken_ticket_files_name_file_and_key() {
    let cases: Vec<(String, &str)> = vec![
        (
            seed_with(
                "  tenant: tenant-finance",
                "  tenant: tenant-finance\n  owner: me",
            ),
            "unknown field `owner`",
        ),
        (
            seed_with("state: pending", "state: shipped"),
            "unknown variant `shipped`",
        ),
        (
            seed_with("stagingTestsPassed: true", "stagingTestsPassed: \"yes\""),
            "stagingTestsPassed",
        ),
        (
            seed_with("type: api", "type: database"),
            "unknown variant `database`",
        ),
        (
            seed_with(
                "testEvidenceUrl: \"https://ci.example.com/pipeline/12345\"",
                "testEvidenceUrl: \"not a url\"",
            ),
            "testEvidenceUrl",
        ),
        (
            seed_with(
                "createdAt: \"2024-12-23T10:30:00Z\"",
                "createdAt: \"yesterday\"",
            ),
            "createdAt",
        ),
        (
            seed_with("kind: PromotionRequest", "kind: Deployment"),
            "kind",
        ),
        (
            seed_with("metadata:\n", "metadata: [\n"),
            "PR-2026-0001.yaml",
        ),
    ];
    for (content, needle) in cases {
        let env = Env::team();
        commit_ticket(&env, content.as_bytes());
        env.as_user(ADMIN);
        let out = env.run(&["show", "PR-2026-0001"]);
        assert_error(&out, 6, "requests/prod/2026/03/PR-2026-0001.yaml");
        assert_error(&out, 6, needle);
        // Acting on it is refused: its history does not verify.
        let head = env.head();
        let out = env.run(&["approve", "PR-2026-0001"]);
        assert_error(&out, 7, "PR-2026-0001.yaml");
        assert_eq!(env.head(), head);
        // list skips it with a warning instead of failing
        let out = env.run(&["list"]);
        assert!(out.status.success());
        assert!(stderr(&out).contains("warning: skipping requests/prod/2026/03/PR-2026-0001.yaml"));
    }
}

#[test]
fn alias_bombs_and_huge_files_are_refused() {
    let env = Env::team();
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, prev) in ["a", "b", "c", "d", "e", "f", "g", "h"].iter().enumerate() {
        let name = ["b", "c", "d", "e", "f", "g", "h", "i"][i];
        bomb.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    commit_ticket(&env, bomb.as_bytes());
    env.as_user(ADMIN);
    let out = env.run(&["show", "PR-2026-0001"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));

    let env = Env::team();
    let mut huge = seed_with("state: pending", "state: pending").into_bytes();
    huge.extend(std::iter::repeat_n(b'#', 50 * 1024 * 1024));
    commit_ticket(&env, &huge);
    env.as_user(ADMIN);
    let out = env.run(&["show", "PR-2026-0001"]);
    assert_error(&out, 6, "larger than");
}

#[test]
fn broken_config_is_an_error_naming_the_key() {
    let env = Env::team();
    let cfg = std::fs::read_to_string(env.repo.join(".ipr/config.yaml")).unwrap();
    std::fs::write(
        env.repo.join(".ipr/config.yaml"),
        cfg.replace("role: viewer", "role: superuser"),
    )
    .unwrap();
    env.git(&["commit", "-qam", "bad role"]);
    env.as_user(ADMIN);
    // Reads answer under the last config that verified, with one warning.
    let out = env.run(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning:"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(".ipr/config.yaml: parse"),
        "{}",
        stderr(&out)
    );
    // Actions refuse, naming the file and the key.
    let head = env.head();
    let doc = fixture("create/payment-api.yaml");
    let out = env.run(&["create", "--no-input", "-f", doc.to_str().unwrap()]);
    assert_error(&out, 7, ".ipr/config.yaml");
    assert_error(&out, 7, "superuser");
    assert_eq!(env.head(), head);
}

#[test]
fn invalid_requests_are_refused_with_every_problem_listed() {
    let env = Env::team();
    env.as_user(DEVOPS);
    let args = vec![
        "create",
        "--type",
        "api",
        "--name",
        "payment-api",
        "--version",
        "2.1.0",
        "--tenant",
        "tenant-finance",
        "--impact",
        "low",
        "--justification",
        "too short",
        "--rollback-plan",
        " ",
        "--evidence-url",
        "https://ci.example.com/1",
        "--no-input",
    ];
    let head = env.head();
    let out = env.run(&args);
    assert_error(&out, 6, "justification must be at least 20 characters");
    let err = stderr(&out);
    for needle in [
        "rollbackPlan is required",
        "stagingTestsPassed must be true",
        "securityScanPassed must be true",
    ] {
        assert!(err.contains(needle), "{needle} in {err}");
    }
    assert_eq!(env.head(), head);
    assert!(env.status().is_empty());

    let mut base = valid_create_args();
    base.extend(["--impact", "low"]);
    let swap = |from: &'static str, to: &'static str| -> Vec<&'static str> {
        base.iter()
            .map(|a| if *a == from { to } else { *a })
            .collect()
    };
    refused(
        &env,
        &swap("tenant-finance", "tenant-unknown"),
        6,
        "not a tenant",
    );
    refused(
        &env,
        &swap(
            "https://ci.example.com/pipeline/12345",
            "ftp://ci.example.com/x",
        ),
        6,
        "http or https",
    );
    refused(
        &env,
        &swap("https://ci.example.com/pipeline/12345", "not a url"),
        6,
        "not a URL",
    );
    let mut sched = base.clone();
    sched.extend(["--scheduled", "next tuesday"]);
    refused(&env, &sched, 6, "RFC 3339");
    let mut bad_type = base.clone();
    bad_type[2] = "database";
    assert_eq!(
        env.run(&bad_type).status.code(),
        Some(2),
        "clap refuses unknown --type values"
    );
}

#[test]
fn create_from_a_broken_file_changes_nothing() {
    let env = Env::team();
    env.as_user(DEVOPS);
    let dir = env.tmp.path();
    std::fs::write(dir.join("bad.yaml"), "target: [unclosed\n").unwrap();
    refused(
        &env,
        &["create", "-f", dir.join("bad.yaml").to_str().unwrap()],
        6,
        "bad.yaml",
    );
    let extra =
        std::fs::read_to_string(fixture("create/payment-api.yaml")).unwrap() + "color: blue\n";
    std::fs::write(dir.join("extra.yaml"), extra).unwrap();
    refused(
        &env,
        &["create", "-f", dir.join("extra.yaml").to_str().unwrap()],
        6,
        "unknown field `color`",
    );
    refused(
        &env,
        &["create", "-f", dir.join("missing.yaml").to_str().unwrap()],
        4,
        "missing.yaml",
    );
}
