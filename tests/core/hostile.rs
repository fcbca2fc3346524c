//! Careless and hostile input (SPEC §11): each test is named after what a
//! user did to the version before, and checks what they get now.

use crate::harness::*;

/// The team config with a shell runner running `command`.
fn with_shell(command: &str) -> Env {
    let env = Env::team();
    let runners = format!(
        "runners:\n  default: local\n  definitions:\n    local:\n      kind: shell\n      command: {}\n      timeout: 20s\n",
        serde_json::to_string(command).unwrap()
    );
    env.set_config(&env.team_config_with(&runners));
    env
}

fn create_with(env: &Env, extra: &[&str]) -> std::process::Output {
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend_from_slice(&["--impact", "low"]);
    args.extend_from_slice(extra);
    env.run(&args)
}

#[test]
fn release_notes_that_begin_with_a_dash_are_accepted() {
    let env = Env::team();
    let out = create_with(&env, &["--release-notes", "- Added 3DS2 authentication"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    assert!(env
        .ticket_at_head(&id)
        .contains("- Added 3DS2 authentication"));
    // Every other free-text option too.
    env.as_user(TADMIN);
    let out = env.run(&["approve", &id, "--comment", "-- looks fine"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id2 = create_with(&env, &[]);
    let id2 = stdout(&id2).trim().to_string();
    env.as_user(TADMIN);
    let out = env.run(&["reject", &id2, "--reason", "-not this week, sorry"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(env.ticket_at_head(&id2).contains("-not this week, sorry"));
}

#[test]
fn escape_sequences_and_forged_timeline_lines_are_shown_escaped() {
    let env = Env::team();
    let notes = "- fine\r- hidden by a carriage return\u{1b}[2K\u{202e}txet desrever";
    let out = create_with(&env, &["--release-notes", notes]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    env.as_user(TADMIN);
    let forged = "ok\n  2026-03-10 09:00 UTC  approved  ops-lead@example.com";
    let out = env.run(&["approve", &id, "--comment", forged]);
    assert!(out.status.success(), "{}", stderr(&out));

    env.as_user(ADMIN);
    let show = stdout(&env.run(&["show", &id]));
    for bad in ['\r', '\u{1b}', '\u{202e}'] {
        assert!(!show.contains(bad), "raw {bad:?} in:\n{show}");
    }
    assert!(
        show.contains("\\r- hidden by a carriage return\\u{1b}[2K\\u{202e}"),
        "{show}"
    );
    // The comment stays on its timeline line: no line of the output is
    // a forged approval by the admin.
    let fake = show
        .lines()
        .filter(|l| {
            l.trim_start()
                .starts_with("2026-03-10 09:00 UTC  approved  ops-lead@example.com")
        })
        .count();
    assert_eq!(fake, 0, "{show}");
    assert!(
        show.contains("\"ok\\n  2026-03-10 09:00 UTC  approved  ops-lead@example.com\""),
        "{show}"
    );

    let list = stdout(&env.run(&["list"]));
    assert!(!list.contains('\u{1b}') && !list.contains('\r'), "{list}");
    let log = stdout(&env.run(&["log", &id]));
    assert!(!log.contains('\u{1b}'), "{log}");
}

#[test]
fn single_line_fields_refuse_line_breaks_and_control_characters() {
    let env = Env::team();
    for (flag, value) in [
        ("--name", "payment-api\nPR-2026-9999  approved"),
        ("--version", "2.1.0\u{1b}[2K"),
        ("--target-env", "pr\nod"),
    ] {
        let mut args = valid_create_args();
        args.extend_from_slice(&["--impact", "low"]);
        let i = args.iter().position(|a| *a == flag);
        match i {
            Some(i) => args[i + 1] = value,
            None => args.extend_from_slice(&[flag, value]),
        }
        env.as_user(DEVOPS);
        let head = env.head();
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(6), "{flag}: {}", stderr(&out));
        assert!(!stderr(&out).contains('\u{1b}'), "{}", stderr(&out));
        assert_eq!(env.head(), head);
    }
}

#[test]
fn zero_width_spaces_do_not_count_toward_minimum_lengths() {
    let env = Env::team();
    let padding = "\u{200b}".repeat(21);
    let mut args = valid_create_args();
    let i = args.iter().position(|a| *a == "--justification").unwrap();
    args[i + 1] = &padding;
    args.extend_from_slice(&["--impact", "low"]);
    env.as_user(DEVOPS);
    let out = env.run(&args);
    assert_error(
        &out,
        6,
        "justification must be at least 20 characters (has 0)",
    );

    let id = env.create_as(DEVOPS, "low");
    env.as_user(TADMIN);
    let reason = format!("no{}", "\u{200b}".repeat(12));
    assert_error(
        &env.run(&["reject", &id, "--reason", &reason]),
        6,
        "at least 10",
    );
}

#[test]
fn evidence_urls_with_credentials_are_refused_and_not_echoed() {
    let env = Env::team();
    let mut args = valid_create_args();
    let i = args.iter().position(|a| *a == "--evidence-url").unwrap();
    args[i + 1] = "http://ci-user:s3cr3t-pass@ci.example.com/pipeline/1";
    args.extend_from_slice(&["--impact", "low"]);
    env.as_user(DEVOPS);
    let head = env.head();
    let out = env.run(&args);
    assert_error(&out, 6, "user name or password");
    assert!(!stderr(&out).contains("s3cr3t-pass"), "{}", stderr(&out));
    assert_eq!(env.head(), head);
}

#[test]
fn a_ticket_with_a_byte_order_mark_loads_like_create_input() {
    let env = Env::team();
    let seed = std::fs::read(fixture("tickets/PR-2024-0003.yaml")).unwrap();
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(&seed);
    let file = env.tmp.path().join("exported.yaml");
    std::fs::write(&file, &bom).unwrap();
    env.as_user(ADMIN);
    let out = env.run(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["show", "PR-2024-0003"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("payment-api 2.1.0"),
        "{}",
        stdout(&out)
    );
    assert!(env.run(&["verify"]).status.success());
}

#[test]
fn secrets_in_runner_output_are_scrubbed_in_every_spelling() {
    let token = "tok-0123456789-abcdef";
    // The config names the variable (here for an AWX runner the request
    // does not use); the shell runner prints the token in five spellings.
    let command = "printf '%s\\n' \"$T\" \"$(printf %s \"$T\" | tr a-z A-Z)\" \
                   \"$(printf %s \"$T\" | cut -c1-8) $(printf %s \"$T\" | cut -c9-)\" \
                   \"$(printf %s \"$T\" | base64)\"; exit 1";
    let env = Env::team();
    let runners = format!(
        "runners:\n  default: local\n  definitions:\n    local:\n      kind: shell\n      command: {}\n    awx:\n      kind: awx\n      url: https://awx.example.com\n      tokenEnv: T\n      jobTemplates: {{ default: 7 }}\n",
        serde_json::to_string(command).unwrap()
    );
    env.set_config(&env.team_config_with(&runners));
    let id = env.create_as(DEVOPS, "low");
    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();
    let out = env.ipr(&["deploy", &id]).env("T", token).output().unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let everything = format!(
        "{}{}{}",
        stdout(&out),
        stderr(&out),
        env.git(&["log", "-p", "--all"])
    );
    let upper = token.to_uppercase();
    for spelling in [
        token,
        upper.as_str(),
        "tok-0123",
        "456789-abcdef",
        "dG9rLTAxMjM0NTY3ODktYWJjZGVm",
    ] {
        assert!(
            !everything.contains(spelling),
            "{spelling} leaked:\n{everything}"
        );
    }
    assert!(env.ticket_at_head(&id).contains("<redacted>"));
}

#[test]
fn ticket_files_are_written_with_the_users_umask() {
    use std::os::unix::fs::PermissionsExt;
    for (umask, mode) in [("022", 0o644), ("002", 0o664)] {
        let env = Env::team();
        env.as_user(DEVOPS);
        let mut args: Vec<String> = valid_create_args().iter().map(|s| s.to_string()).collect();
        args.extend(["--impact".into(), "low".into()]);
        let ipr = assert_cmd::cargo::cargo_bin("ipr");
        let script = format!(
            "umask {umask}; ipr=\"$0\"; repo=\"$1\"; shift; exec \"$ipr\" -C \"$repo\" \"$@\""
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .arg(&ipr)
            .arg(&env.repo)
            .args(&args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", env.home())
            .env("IPR_NOW", NOW)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let id = stdout(&out).trim().to_string();
        let path = env.repo.join(env.ticket_path(&id));
        let got = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(got, mode, "umask {umask}");
    }
}

#[test]
fn crlf_checkouts_and_eol_attributes_work() {
    for setup in ["autocrlf", "attributes"] {
        let env = with_shell("true");
        env.as_user(ADMIN);
        match setup {
            "autocrlf" => {
                env.git(&["config", "core.autocrlf", "true"]);
            }
            _ => {
                std::fs::write(env.repo.join(".gitattributes"), "*.yaml text eol=crlf\n").unwrap();
                env.git(&["add", ".gitattributes"]);
                env.git(&["commit", "-q", "-m", "crlf for yaml"]);
            }
        }
        let id = env.create_as(DEVOPS, "low");
        let path = env.repo.join(env.ticket_path(&id));
        let on_disk = std::fs::read(&path).unwrap();
        assert!(
            on_disk.windows(2).any(|w| w == b"\r\n"),
            "{setup}: checked out with CRLF"
        );
        env.as_user(TADMIN);
        let out = env.run(&["approve", &id]);
        assert!(out.status.success(), "{setup}: {}", stderr(&out));
        env.as_user(DEVOPS);
        let out = env.run(&["deploy", &id]);
        assert!(out.status.success(), "{setup}: {}", stderr(&out));
        assert_eq!(env.state(&id), "deployed");
        assert_eq!(env.status(), "", "{setup}: git sees no change");
        assert!(env.run(&["verify"]).status.success());
    }
}

#[test]
fn a_leftover_git_index_lock_is_named_with_the_command_that_clears_it() {
    let env = Env::team();
    let id = env.create_as(DEVOPS, "low");
    std::fs::write(env.repo.join(".git/index.lock"), b"").unwrap();
    env.as_user(TADMIN);
    let head = env.head();
    let out = env.run(&["approve", &id]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("index.lock exists"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("rm "), "{}", stderr(&out));
    assert_eq!(env.head(), head);
    std::fs::remove_file(env.repo.join(".git/index.lock")).unwrap();
    assert!(env.run(&["approve", &id]).status.success());
}
