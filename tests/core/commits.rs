//! What ipr writes to git, checked with the git binary.

use crate::harness::*;

#[test]
fn each_action_is_one_commit_by_the_actor_touching_one_file() {
    let env = Env::team();
    let id = env.create_as(DEVOPS, "low");
    let path = env.ticket_path(&id);
    assert_eq!(path, format!("requests/prod/2026/03/{id}.yaml"));
    assert_eq!(id, "PR-2026-0001");

    let check = |action: &str, actor: &str| {
        let show = env.git(&["show", "-s", "--format=%an|%ae|%cn|%ce|%at|%s", "HEAD"]);
        let fields: Vec<&str> = show.trim().split('|').collect();
        let name = actor.split('@').next().unwrap();
        assert_eq!(fields[..4], [name, actor, name, actor]);
        assert_eq!(fields[4], "1773133200", "author time is IPR_NOW");
        assert_eq!(fields[5], format!("ipr: {action} {id}"));
        let trailers = env.git(&["show", "-s", "--format=%(trailers:only,unfold)", "HEAD"]);
        assert_eq!(
            trailers.trim(),
            format!("Ipr-Action: {action}\nIpr-Request: {id}\nIpr-Actor: {actor}")
        );
        let changed = env.git(&["show", "--name-only", "--format=", "HEAD"]);
        assert_eq!(changed.trim(), path);
        assert_eq!(
            env.git(&["rev-list", "--parents", "-n1", "HEAD"])
                .split(' ')
                .count(),
            2
        );
    };
    check("create", DEVOPS);
    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();
    check("approve", TADMIN);
    assert!(
        env.status().is_empty(),
        "work tree and index agree with HEAD: {}",
        env.status()
    );
    env.fsck();
}

#[test]
fn unrelated_dirty_files_are_left_alone() {
    let env = Env::team();
    std::fs::write(env.repo.join("notes.txt"), "untracked\n").unwrap();
    std::fs::write(env.repo.join("README.md"), "v1\n").unwrap();
    env.git(&["add", "README.md"]);
    env.git(&["commit", "-q", "-m", "readme"]);
    std::fs::write(env.repo.join("README.md"), "v2 staged\n").unwrap();
    env.git(&["add", "README.md"]);
    std::fs::write(env.repo.join("README.md"), "v3 unstaged\n").unwrap();

    let id = env.create_as(DEVOPS, "low");
    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();

    let status = env.status();
    let mut lines: Vec<&str> = status.lines().collect();
    lines.sort();
    assert_eq!(lines, vec!["?? notes.txt", "MM README.md"]);
    assert_eq!(env.git(&["show", ":README.md"]), "v2 staged\n");
    assert_eq!(
        std::fs::read_to_string(env.repo.join("README.md")).unwrap(),
        "v3 unstaged\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.repo.join("notes.txt")).unwrap(),
        "untracked\n"
    );
    // the ticket in the work tree is the committed one
    let path = env.ticket_path(&id);
    assert_eq!(
        std::fs::read_to_string(env.repo.join(&path)).unwrap(),
        env.ticket_at_head(&id)
    );
    env.fsck();
}

#[test]
fn local_edits_to_the_ticket_are_not_overwritten() {
    let env = Env::team();
    let id = env.create_as(DEVOPS, "low");
    let path = env.repo.join(env.ticket_path(&id));
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("# my local note\n");
    std::fs::write(&path, &text).unwrap();
    env.as_user(TADMIN);
    let head = env.head();
    let out = env.run(&["approve", &id]);
    assert_error(&out, 1, "local changes");
    assert!(stderr(&out).contains("hint: "));
    assert_eq!(env.head(), head);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn ids_are_sequential_per_year_across_months() {
    let mut env = Env::team();
    env.now = "2026-01-31T23:00:00Z".into();
    assert_eq!(env.create_as(DEVOPS, "low"), "PR-2026-0001");
    env.now = "2026-02-01T08:00:00Z".into();
    assert_eq!(env.create_as(DEVOPS, "low"), "PR-2026-0002");
    env.now = "2027-01-01T00:00:00Z".into();
    assert_eq!(env.create_as(DEVOPS, "low"), "PR-2027-0001");
    let files = env.git(&["ls-files", "requests"]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        vec![
            "requests/prod/2026/01/PR-2026-0001.yaml",
            "requests/prod/2026/02/PR-2026-0002.yaml",
            "requests/prod/2027/01/PR-2027-0001.yaml",
        ]
    );
}

#[test]
fn parallel_processes_on_one_clone_lose_nothing() {
    let env = Env::team();
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend(["--impact", "low"]);
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ipr"));
            cmd.env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap())
                .env("HOME", env.home())
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("IPR_NOW", NOW)
                .arg("-C")
                .arg(&env.repo)
                .args(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut ids = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        match out.status.code() {
            Some(0) => ids.push(String::from_utf8(out.stdout).unwrap().trim().to_string()),
            Some(5) => {}
            other => panic!("unexpected exit {other:?}: {}", stderr(&out)),
        }
    }
    ids.sort();
    let files = env.git(&["ls-files", "requests"]);
    let on_disk: Vec<String> = files
        .lines()
        .map(|l| {
            l.rsplit('/')
                .next()
                .unwrap()
                .trim_end_matches(".yaml")
                .to_string()
        })
        .collect();
    assert_eq!(ids, on_disk, "every reported ID is committed, none twice");
    let expected: Vec<String> = (1..=ids.len()).map(|n| format!("PR-2026-{n:04}")).collect();
    assert_eq!(ids, expected);
    assert!(!ids.is_empty());
    assert!(env.status().is_empty(), "{}", env.status());
    env.fsck();
}

#[test]
fn a_stale_parent_is_refused_by_the_store() {
    let env = Env::team();
    let store = ipr::store::Store::open(Some(&env.repo)).unwrap();
    let old = store.head().unwrap();
    env.create_as(DEVOPS, "low"); // moves the branch
    let actor = ipr::store::Identity {
        name: "x".into(),
        email: DEVOPS.into(),
    };
    let err = store
        .commit(&ipr::store::Change {
            via: None,
            slack_user: None,
            committer: None,
            parent: old,
            path: "requests/prod/2026/03/PR-2026-0009.yaml",
            content: b"x: 1\n",
            action: "create",
            subject: "PR-2026-0009",
            actor: &actor,
            time: chrono::Utc::now(),
            signer: None,
        })
        .unwrap_err();
    assert_eq!(ipr::cli::exit::code(err.kind()), 5, "{}", err.message());
    assert!(env.git(&["ls-files", "requests"]).lines().count() == 1);
    assert!(!env
        .repo
        .join("requests/prod/2026/03/PR-2026-0009.yaml")
        .exists());
}

#[test]
fn init_commits_the_config_and_refuses_twice() {
    let env = Env::empty();
    env.as_user(ADMIN);
    env.ipr(&["init", "--tenant", "a", "--tenant", "b"])
        .assert()
        .success();
    assert!(env.repo.join("requests/prod").is_dir());
    let cfg = env.git(&["show", "HEAD:.ipr/config.yaml"]);
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&cfg).unwrap();
    assert_eq!(v["tenants"][1].as_str(), Some("b"));
    assert_eq!(v["users"][ADMIN]["role"].as_str(), Some("admin"));
    assert_eq!(
        env.git(&["show", "-s", "--format=%s", "HEAD"]).trim(),
        "ipr: init .ipr/config.yaml"
    );
    let out = env.run(&["init"]);
    assert_error(&out, 1, "already");
    assert_eq!(env.commit_count(), 1);
    env.fsck();
}
