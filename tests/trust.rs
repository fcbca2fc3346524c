//! Acting only on verified history (SPEC §10a): each test reproduces one
//! attack by hand with plain `git` (a forged state, a self-granted role, a
//! runner URL pointed elsewhere, a reused ID, a borrowed key...) and checks
//! that the real `ipr` binary refuses to act on it — exit code, stderr, and
//! that nothing was committed, run or pushed — while the legitimate paths
//! (admin config changes, waivers, imports, signed workflows) still work.

mod verify_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;
use verify_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

// --- helpers ---------------------------------------------------------

/// What a finished `ipr` run gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(a: assert_cmd::assert::Assert) -> Run {
    let o = a.get_output();
    Run {
        code: o.status.code().expect("ipr was killed by a signal"),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `ipr ARGS` as the current user at the next tick, with extra environment.
fn ipr_env(r: &Repo, envs: &[(&str, &str)], args: &[&str]) -> Run {
    let at = r.tick();
    run(r.ipr_with(at, envs, args))
}

/// `ipr create` of a payment-api request as `email`, with extra flags.
fn create_with(r: &Repo, email: &str, impact: &str, extra: &[&str]) -> Run {
    r.user(email);
    let mut args = create_args(impact);
    args.extend_from_slice(extra);
    run(r.ipr(&args))
}

/// Some `error:` line of stderr names the commit (first 12 hex chars) and the rule.
fn names_commit_and_rule(stderr: &str, commit: &str, rule: &str) -> bool {
    stderr
        .lines()
        .any(|l| l.starts_with("error:") && l.contains(&commit[..12]) && l.contains(rule))
}

/// Run `args` as the current user and check it is refused with exit 7,
/// naming `commit` and `rule`, and that nothing was written.
fn refused(r: &Repo, args: &[&str], commit: &str, rule: &str) -> Run {
    let head = r.head();
    let out = run(r.ipr(args));
    assert_eq!(out.code, 7, "ipr {args:?}: {}{}", out.stdout, out.stderr);
    assert!(
        names_commit_and_rule(&out.stderr, commit, rule),
        "ipr {args:?}: no `error:` line naming {} and {rule}:\n{}",
        &commit[..12],
        out.stderr
    );
    assert_eq!(r.head(), head, "ipr {args:?} committed after refusing");
    assert_clean(r);
    out
}

fn assert_clean(r: &Repo) {
    assert_eq!(r.git(&["status", "--porcelain"]), "", "work tree not clean");
}

/// Lines of stderr that start with `warning:`.
fn warnings(stderr: &str) -> usize {
    stderr.lines().filter(|l| l.starts_with("warning:")).count()
}

/// DEV (or `who`) flips `state: pending` to `state: approved` in a text
/// editor and commits it with git; returns the forged commit.
fn flip_to_approved(r: &Repo, id: &str, who: &str) -> String {
    let path = r.path_of(id);
    let before = r.read(&path);
    let text = before.replace("state: pending", "state: approved");
    assert_ne!(before, text, "no `state: pending` in {path}");
    r.user(who);
    r.write(&path, &text);
    r.commit_all("approve");
    r.head()
}

/// The admin makes the default runner a shell command that touches a
/// marker file outside the repository; returns the marker's path.
fn marker_runner(r: &Repo) -> PathBuf {
    let marker = r.tmp.path().join("ran-marker");
    r.user(ADMIN);
    r.edit_config(|c| {
        c.replace(
            "runners:\n  default: shell\n",
            &format!(
                "runners:\n  default: local\n  definitions:\n    local:\n      kind: shell\n      command: \"touch '{}'\"\n      timeout: 20s\n",
                marker.display()
            ),
        )
    });
    r.commit_all("config: local runner");
    marker
}

/// Every file under requests/ in the work tree, with its bytes.
fn ticket_files(r: &Repo) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&r.dir, &r.dir.join("requests"), &mut out);
    out
}

/// Every request ID that ever had a file on the branch, under any path.
fn ids_in_history(r: &Repo) -> Vec<String> {
    let mut ids: Vec<String> = r
        .git(&["log", "--format=", "--name-only", "HEAD", "--", "requests"])
        .lines()
        .filter_map(|l| l.rsplit('/').next()?.strip_suffix(".yaml"))
        .map(str::to_string)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Does `msg` mention `line N` (and not `line N0`, `line N1`...)?
fn mentions_line(msg: &str, n: usize) -> bool {
    let needle = format!("line {n}");
    msg.match_indices(&needle).any(|(i, _)| {
        !msg[i + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// The 1-based lines of `text` whose key is `email` in any case.
fn lines_of_key(text: &str, email: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.trim_start()
                .to_ascii_lowercase()
                .starts_with(&format!("{}:", email.to_ascii_lowercase()))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

fn trailer_lines(r: &Repo, rev: &str) -> Vec<String> {
    r.git(&["log", "-1", "--format=%B", rev])
        .lines()
        .map(str::to_string)
        .collect()
}

fn changed_files(r: &Repo, rev: &str) -> Vec<String> {
    r.git(&["diff-tree", "--no-commit-id", "--name-only", "-r", rev])
        .lines()
        .map(str::to_string)
        .collect()
}

// --- ssh signing ------------------------------------------------------

/// Every user has a key listed in .ipr/allowed_signers.
fn ssh_repo() -> Ssh {
    Ssh::new(&[ADMIN, DEV, DEV2, TA, TA2], &[])
}

// --- a fake AWX ------------------------------------------------------

/// A wiremock server answering AWX's launch and job reads (job 42, done),
/// so a deploy that reached it would succeed; it records every request.
struct FakeAwx {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

impl FakeAwx {
    fn start() -> FakeAwx {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(MockServer::start());
        rt.block_on(
            Mock::given(method("POST"))
                .and(path("/api/v2/job_templates/7/launch/"))
                .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                    "job": 42, "id": 42, "type": "job", "status": "pending",
                    "ignored_fields": {}, "job_template": 7,
                })))
                .mount(&server),
        );
        rt.block_on(
            Mock::given(method("GET"))
                .and(path("/api/v2/jobs/42/"))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                    "id": 42, "type": "job", "status": "successful", "failed": false,
                    "job_explanation": "", "job_template": 7,
                })))
                .mount(&server),
        );
        FakeAwx { rt, server }
    }

    fn received(&self) -> usize {
        self.rt
            .block_on(self.server.received_requests())
            .expect("request recording is on")
            .len()
    }
}

const AWX_TOKEN: &str = "awx-TOKEN-0123456789-never-leaks";

// --- attacks ---------------------------------------------------------

/// DEV approves her own request by editing `state:` and deploys it: refused
/// before any runner runs, while other tickets stay usable.
#[test]
fn devops_flips_pending_to_approved_and_deploy_refuses() {
    let r = Repo::new();
    r.setup();
    let marker = marker_runner(&r);
    let other = r.create(DEV2, "low");
    let id = r.create(DEV, "low");
    let forged = flip_to_approved(&r, &id, DEV);

    r.user(DEV);
    refused(&r, &["deploy", &id], &forged, "status-mismatch");
    r.user(TA);
    refused(&r, &["deploy", &id], &forged, "status-mismatch");
    assert!(!marker.exists(), "the runner ran for a forged approval");

    // The violation is in that ticket only: the other request still moves.
    r.ipr(&["approve", &other]).success();
    r.user(DEV2);
    r.ipr(&["deploy", &other]).success();
    assert!(marker.exists(), "a legitimate deploy runs the runner");
}

/// DEV grants herself the admin role in .ipr/config.yaml: nobody may act
/// until that is resolved, not even the real admin.
#[test]
fn devops_makes_herself_admin_and_every_action_refuses() {
    let r = Repo::new();
    r.setup();
    let id = r.create(TA2, "low");
    r.user(DEV);
    r.edit_config(|c| {
        c.replace(
            "  pierre.durand@example.com:\n    role: devops\n",
            "  pierre.durand@example.com:\n    role: admin\n",
        )
    });
    r.commit_all("make me admin");
    let bad = r.head();

    r.user(DEV);
    refused(&r, &["approve", &id], &bad, "config-not-admin");
    let head = r.head();
    let out = create_with(&r, ADMIN, "low", &[]);
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(
        names_commit_and_rule(&out.stderr, &bad, "config-not-admin"),
        "{}",
        out.stderr
    );
    assert_eq!(r.head(), head);
    assert_clean(&r);
}

/// DEV repoints the AWX runner at her own server: the deploy of a
/// legitimately approved request reaches neither server.
#[test]
fn devops_points_the_awx_url_at_her_server_and_it_receives_nothing() {
    let legit = FakeAwx::start();
    let evil = FakeAwx::start();
    let r = Repo::new();
    r.setup();
    r.user(ADMIN);
    r.edit_config(|c| {
        c.replace(
            "runners:\n  default: shell\n",
            &format!(
                "runners:\n  default: awx\n  definitions:\n    awx:\n      kind: awx\n      url: {}\n      tokenEnv: IPR_AWX_TOKEN\n      jobTemplates: {{ default: 7 }}\n      pollInterval: 10ms\n      maxPollInterval: 20ms\n      timeout: 1m\n",
                legit.server.uri()
            ),
        )
    });
    r.commit_all("config: awx runner");
    let id = r.create(DEV, "low");
    r.user(TA);
    r.ipr(&["approve", &id]).success();

    r.user(DEV);
    r.edit_config(|c| c.replace(&legit.server.uri(), &evil.server.uri()));
    r.commit_all("awx moved");
    let bad = r.head();

    r.user(ADMIN);
    let head = r.head();
    let out = ipr_env(&r, &[("IPR_AWX_TOKEN", AWX_TOKEN)], &["deploy", &id]);
    assert_eq!(out.code, 7, "{}{}", out.stdout, out.stderr);
    assert!(
        names_commit_and_rule(&out.stderr, &bad, "config-not-admin"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(AWX_TOKEN) && !out.stdout.contains(AWX_TOKEN));
    assert_eq!(r.head(), head);
    assert_clean(&r);
    assert_eq!(evil.received(), 0, "the attacker's server was called");
    assert_eq!(legit.received(), 0, "a refused deploy still called AWX");
}

/// DEV renames her ticket to the largest u32 ID (amending the create
/// commit) so the next ID would wrap to 0000 or collide; and a hand-deleted
/// ID is never handed out again.
#[test]
fn renamed_ticket_to_a_huge_id_never_wraps_or_overwrites() {
    let r = Repo::new();
    r.setup();
    let id = r.create(DEV, "low");
    assert_eq!(id, "PR-2026-0001");
    let old = r.path_of(&id);
    let new = old.replace("PR-2026-0001", "PR-2026-4294967295");
    let created_at = r.ticket(&id).metadata.created_at;
    let text = r.read(&old);
    let huge = text.replace("id: PR-2026-0001", "id: PR-2026-4294967295");
    assert_ne!(text, huge);
    r.git(&["mv", &old, &new]);
    r.write(&new, &huge);
    r.git(&["add", "-A"]);
    let out = r.git_at(created_at, &["commit", "-q", "--amend", "--no-edit"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7, "{v:#?}");

    let before = ticket_files(&r);
    let used = ids_in_history(&r);
    assert_eq!(used, ["PR-2026-4294967295"]);
    let head = r.head();
    let out = create_with(&r, TA, "low", &[]);
    let after = ticket_files(&r);
    for (file, bytes) in &before {
        assert_eq!(
            after.get(file),
            Some(bytes),
            "{file} was changed or removed"
        );
    }
    assert!(
        !after.keys().any(|f| f.ends_with("PR-2026-0000.yaml")),
        "an ID wrapped: {:?}",
        after.keys()
    );
    if out.code == 0 {
        let got = out.stdout.trim();
        assert_ne!(got, "PR-2026-0000");
        assert!(!used.iter().any(|u| u == got), "{got} already existed");
        assert_eq!(after.len(), before.len() + 1);
    } else {
        assert!(
            out.stderr.lines().any(|l| l.starts_with("error:")),
            "exit {} without a clear error: {}",
            out.code,
            out.stderr
        );
        assert_eq!(r.head(), head);
        assert_eq!(after, before);
        assert_clean(&r);
    }

    // A deleted ID stays used.
    let r = Repo::new();
    r.setup();
    let first = r.create(DEV, "low");
    let second = r.create(DEV, "low");
    let gone = r.path_of(&second);
    r.user(DEV);
    r.git(&["rm", "-q", &gone]);
    r.commit_all("remove my request");
    let used = ids_in_history(&r);
    assert_eq!(used, [first.as_str(), second.as_str()]);
    let out = create_with(&r, DEV2, "low", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let third = out.stdout.trim();
    assert!(!used.iter().any(|u| u == third), "{third} was used before");
    assert_ne!(third, first);
    assert_ne!(third, second, "the deleted ID was handed out again");
    assert_ne!(r.path_of(third), gone);
    assert!(!r.dir.join(&gone).exists(), "the deleted ticket came back");
}

/// The admin names TA a second time under `users:` with
/// `second`, an admin role in another spelling or under the same key: the
/// commit is a `parse` violation naming both lines, before it is committed
/// (pre-commit path) and after, and it stops every action.
fn person_named_twice_is_refused_naming_both_lines(what: &str, second: &str) {
    let jean_block =
        "  jean.dupont@example.com:\n    role: tenant-admin\n    tenants:\n    - tenant-finance\n";
    let r = Repo::new();
    r.setup();
    r.user(ADMIN);
    r.edit_config(|c| c.replace(jean_block, &format!("{jean_block}{second}")));
    let text = r.read(".ipr/config.yaml");
    let lines = lines_of_key(&text, TA);
    assert_eq!(lines.len(), 2, "{what}: {text}");

    // The pre-commit path: the staged config.
    r.git(&["add", "-A"]);
    let staged = run(r.ipr(&["verify", "--staged"]));
    let both = format!("{}{}", staged.stdout, staged.stderr);
    assert_eq!(staged.code, 7, "{what}: {both}");
    assert!(both.contains("parse"), "{what}: {both}");
    for n in &lines {
        assert!(
            mentions_line(&both, *n),
            "{what}: line {n} not named: {both}"
        );
    }

    r.commit_all("config: jean is an admin too");
    let bad = r.head();
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7, "{what}: {v:#?}");
    let parse = v
        .iter()
        .find(|x| x["rule"] == "parse" && x["file"] == ".ipr/config.yaml")
        .unwrap_or_else(|| panic!("{what}: no parse violation on the config: {v:#?}"));
    assert_eq!(parse["commit"], bad.as_str());
    let msg = parse["message"].as_str().unwrap();
    for n in &lines {
        assert!(mentions_line(msg, *n), "{what}: line {n} not named: {msg}");
    }

    // Committed, it refuses every action.
    let out = create_with(&r, ADMIN, "low", &[]);
    assert_eq!(out.code, 7, "{what}: {}", out.stderr);
    assert!(
        names_commit_and_rule(&out.stderr, &bad, "parse"),
        "{what}: {}",
        out.stderr
    );
    assert_eq!(r.head(), bad);
}

/// A config lists `jean.dupont@` and `Jean.Dupont@` (the second as admin).
#[test]
fn case_variant_emails_in_config_are_refused_naming_both_lines() {
    person_named_twice_is_refused_naming_both_lines(
        "case variant",
        "  Jean.Dupont@example.com:\n    role: admin\n",
    );
}

/// A config lists `jean.dupont@` twice under `users:` (the second as admin).
#[test]
fn duplicate_email_key_in_config_is_refused_naming_both_lines() {
    person_named_twice_is_refused_naming_both_lines(
        "duplicate key",
        "  jean.dupont@example.com:\n    role: admin\n",
    );
}

/// The tenant admin writes her email in another case to approve her own
/// request, or to approve a request a second time.
#[test]
fn one_person_with_two_spellings_cannot_self_approve_or_approve_twice() {
    let r = Repo::new();
    r.setup();
    let own = r.create(TA, "low");
    let high = r.create(DEV, "high");

    r.user("Jean.Dupont@example.com");
    let head = r.head();
    let out = run(r.ipr(&["approve", &own]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(r.head(), head);

    r.user(TA);
    r.ipr(&["approve", &high]).success();
    r.user("JEAN.DUPONT@example.com");
    let head = r.head();
    let out = run(r.ipr(&["approve", &high]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(r.head(), head);
    assert_clean(&r);
    assert_eq!(r.ticket(&high).status.state, ipr::model::State::Pending);
}

/// A freeze on `prod` is dodged by asking for `PROD` or `prod `; unknown or
/// malformed environments are refused at create.
#[allow(non_snake_case)]
#[test]
fn freeze_on_prod_covers_PROD_and_padded_spellings() {
    let r = Repo::new();
    r.setup();
    r.user(ADMIN);
    r.edit_config(|c| {
        format!(
            "{c}environments: [dev, staging, prod]\nfreezes:\n- from: 2026-01-01T00:00:00Z\n  to: 2027-01-01T00:00:00Z\n  reason: year-end freeze\n  environments: [prod]\n"
        )
    });
    r.commit_all("config: year-end freeze");

    let mut ids = Vec::new();
    for spelling in ["PROD", "prod "] {
        let out = create_with(&r, DEV, "low", &["--target-env", spelling]);
        assert_eq!(out.code, 0, "{spelling:?}: {}", out.stderr);
        let id = out.stdout.trim().to_string();
        let t = r.ticket(&id);
        assert_eq!(t.spec.target.target_environment, "prod", "{spelling:?}");
        assert!(r
            .read(&r.path_of(&id))
            .contains("targetEnvironment: prod\n"));
        ids.push(id);
    }
    for id in &ids {
        r.user(TA);
        r.ipr(&["approve", id]).success();
        r.user(DEV);
        let head = r.head();
        let out = run(r.ipr(&["deploy", id]));
        assert_eq!(out.code, 3, "{}", out.stderr);
        assert!(out.stderr.contains("year-end freeze"), "{}", out.stderr);
        assert_eq!(r.head(), head);
    }

    for bad in ["qa", "pr od"] {
        let head = r.head();
        let out = create_with(&r, DEV, "low", &["--target-env", bad]);
        assert_eq!(out.code, 6, "{bad:?}: {}", out.stderr);
        assert_eq!(r.head(), head);
    }
    assert_clean(&r);
}

/// With signing required, DEV commits under a colleague's email signed with
/// her own (trusted) key; TA does the same to approve as TA2.
#[test]
fn signing_required_refuses_a_colleagues_email_signed_with_your_own_key() {
    let s = ssh_repo();
    let r = &s.r;
    s.act_with(DEV2, &s.keys[DEV]);
    let head = r.head();
    let out = create_with(r, DEV2, "low", &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("sign"), "{}", out.stderr);
    assert_eq!(r.head(), head);
    assert_clean(r);

    s.act(DEV);
    let id = r.create(DEV, "low");
    s.act_with(TA2, &s.keys[TA]);
    let head = r.head();
    let out = run(r.ipr(&["approve", &id]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("sign"), "{}", out.stderr);
    assert_eq!(r.head(), head);
    assert_clean(r);
    assert_eq!(r.ticket(&id).status.state, ipr::model::State::Pending);
}

/// DEV lowers the high-impact quorum to 1 by hand; an approval that relies on
/// it is judged under the last legitimate config.
#[test]
fn quorum_lowered_by_a_devops_hand_edit_does_not_count() {
    let r = Repo::new();
    r.setup();
    let id = r.create(DEV2, "high");
    r.user(DEV);
    r.edit_config(|c| c.replace("high: 2", "high: 1"));
    r.commit_all("one approval is enough");
    let config_commit = r.head();

    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.forge(TA, at, &t, "approve");
    let approval_commit = r.head();

    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7, "{v:#?}");
    assert!(
        v.iter()
            .any(|x| x["rule"] == "config-not-admin" && x["commit"] == config_commit.as_str()),
        "{v:#?}"
    );
    assert!(
        v.iter()
            .any(|x| x["rule"] == "quorum" && x["commit"] == approval_commit.as_str()),
        "{v:#?}"
    );
}

/// A correct approval by TA, but committed by DEV (author TA, committer DEV).
#[test]
fn transition_committed_by_someone_else_is_committer_mismatch() {
    let r = Repo::new();
    r.setup();
    let id = r.create(DEV, "low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.user(TA);
    r.put(&t);
    r.git(&["add", "-A"]);
    let date = at.to_rfc3339();
    let out = r
        .command("git")
        .args(["commit", "-q", "-m", "approve"])
        .env("GIT_AUTHOR_NAME", "jean.dupont")
        .env("GIT_AUTHOR_EMAIL", TA)
        .env("GIT_COMMITTER_NAME", "pierre.durand")
        .env("GIT_COMMITTER_EMAIL", DEV)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        r.git(&["log", "-1", "--format=%ae %ce"]).trim(),
        format!("{TA} {DEV}")
    );
    assert_eq!(r.rules(), ["committer-mismatch"]);
}

/// DEV forges a state flip locally and runs `ipr sync`: even a plain
/// fast-forward push of it is refused.
#[test]
fn sync_pushes_nothing_verify_would_reject_even_on_fast_forward() {
    let r = Repo::new();
    r.setup();
    let id = r.create(DEV, "low");
    let bare = r.tmp.path().join("remote.git");
    r.git(&["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
    r.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    r.git(&["push", "-q", "-u", "origin", "main"]);
    let published = r.head();
    let remote_main = || {
        r.git(&["--git-dir", bare.to_str().unwrap(), "rev-parse", "main"])
            .trim()
            .to_string()
    };
    assert_eq!(remote_main(), published);

    let forged = flip_to_approved(&r, &id, DEV);
    r.user(DEV);
    refused(&r, &["sync"], &forged, "status-mismatch");
    assert_eq!(remote_main(), published, "the forged commit was pushed");
}

// --- legitimate paths ------------------------------------------------

/// The admin lowers the quorum: it is used at once and nothing is refused.
#[test]
fn admin_config_change_is_accepted_and_actions_continue() {
    let r = Repo::new();
    r.setup();
    let id = r.create(DEV, "high");
    r.user(ADMIN);
    r.edit_config(|c| c.replace("high: 2", "high: 1"));
    r.commit_all("config: one approval for high impact");
    r.user(TA);
    r.ipr(&["approve", &id]).success();
    assert_eq!(r.ticket(&id).status.state, ipr::model::State::Approved);
    r.user(DEV);
    r.ipr(&["deploy", &id]).success();
    assert_eq!(r.ticket(&id).status.state, ipr::model::State::Deployed);
    r.create(DEV2, "low");
    assert_eq!(r.rules(), Vec::<String>::new());
    assert_clean(&r);
}

/// After DEV's unauthorized config change, the admin reviews and waives it;
/// only an admin, with a real reason, for a commit that has violations.
#[test]
fn waive_accepts_a_violation_and_actions_resume() {
    let r = Repo::new();
    r.setup();
    let id = r.create(DEV2, "low");
    r.user(DEV);
    r.edit_config(|c| c.replace("default: 1", "default: 2"));
    r.commit_all("two approvals by default");
    let bad = r.head();
    r.user(TA);
    refused(&r, &["approve", &id], &bad, "config-not-admin");

    r.user(DEV);
    let out = run(r.ipr(&["waive", &bad, "--reason", "it is fine, trust me"]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(r.head(), bad);
    r.user(ADMIN);
    let out = run(r.ipr(&["waive", &bad, "--reason", "ok fine"]));
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert_eq!(r.head(), bad);

    r.ipr(&[
        "waive",
        &bad,
        "--reason",
        "accepted after review with the team",
    ])
    .success();
    assert_eq!(r.git(&["rev-parse", "HEAD~1"]).trim(), bad);
    assert_eq!(changed_files(&r, "HEAD"), [".ipr/waivers.yaml"]);
    assert!(
        trailer_lines(&r, "HEAD").contains(&"Ipr-Action: waive".to_string()),
        "{:?}",
        trailer_lines(&r, "HEAD")
    );
    assert_clean(&r);

    let out = run(r.ipr(&["verify"]));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("waived"), "{}", out.stderr);
    assert!(out.stderr.contains("config-not-admin"), "{}", out.stderr);

    // Waiving a commit without violations is invalid input.
    let clean = r.git(&["rev-parse", "HEAD~2"]).trim().to_string();
    let head = r.head();
    let out = run(r.ipr(&["waive", &clean, "--reason", "nothing to accept here"]));
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert_eq!(r.head(), head);

    // Actions resume, under the config the waived commit left (2 approvals).
    r.user(TA);
    r.ipr(&["approve", &id]).success();
    assert_eq!(r.ticket(&id).status.state, ipr::model::State::Pending);
    r.user(TA2);
    r.ipr(&["approve", &id]).success();
    assert_eq!(r.ticket(&id).status.state, ipr::model::State::Approved);
    r.ipr(&["verify"]).success();
}

/// The admin imports the seed ticket from the old system unchanged.
#[test]
fn import_of_the_seed_ticket_verifies_clean() {
    let r = Repo::new();
    r.setup();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tickets/PR-2024-0003.yaml");
    let file = r.tmp.path().join("PR-2024-0003.yaml");
    std::fs::copy(&fixture, &file).unwrap();
    let seed = std::fs::read(&file).unwrap();
    let file = file.to_str().unwrap();

    r.user(DEV);
    let head = r.head();
    let out = run(r.ipr(&["import", file]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(r.head(), head);

    r.user(ADMIN);
    let out = run(r.ipr(&["import", file]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dest = "requests/prod/2024/12/PR-2024-0003.yaml";
    assert_eq!(r.git(&["rev-parse", "HEAD~1"]).trim(), head);
    assert_eq!(changed_files(&r, "HEAD"), [dest]);
    let committed = r
        .command("git")
        .args(["show", &format!("HEAD:{dest}")])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(
        committed, seed,
        "the ticket was not committed byte for byte"
    );
    assert_eq!(std::fs::read(r.dir.join(dest)).unwrap(), seed);
    assert!(trailer_lines(&r, "HEAD").contains(&"Ipr-Action: import".to_string()));
    assert_clean(&r);

    assert_eq!(r.rules(), Vec::<String>::new());
    let out = run(r.ipr(&["show", "PR-2024-0003"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("PR-2024-0003"), "{}", out.stdout);

    let head = r.head();
    let out = run(r.ipr(&["import", file]));
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert_eq!(r.head(), head);
}

/// Everyone signs with their own key: the whole workflow goes through.
#[test]
fn full_signed_workflow_has_no_false_refusals() {
    let s = ssh_repo();
    let r = &s.r;
    s.act(ADMIN);
    let marker = marker_runner(r);
    s.act(DEV);
    let id = r.create(DEV, "high");
    s.act(TA);
    r.ipr(&["approve", &id]).success();
    s.act(TA2);
    r.ipr(&["approve", &id]).success();
    s.act(DEV);
    r.ipr(&["deploy", &id]).success();
    assert!(marker.exists(), "the runner did not run");
    assert_eq!(r.ticket(&id).status.state, ipr::model::State::Deployed);
    assert_eq!(r.rules(), Vec::<String>::new());
    assert_clean(r);
}

/// After a forged state flip, reads still answer and warn exactly once.
#[test]
fn reads_warn_once_and_still_answer() {
    let r = Repo::new();
    r.setup();
    let id = r.create(DEV, "low");
    flip_to_approved(&r, &id, DEV);
    r.user(ADMIN);
    for args in [
        vec!["list"],
        vec!["show", id.as_str()],
        vec!["log", id.as_str()],
        vec!["stats"],
    ] {
        let out = run(r.ipr(&args));
        assert_eq!(out.code, 0, "ipr {args:?}: {}", out.stderr);
        assert!(!out.stdout.trim().is_empty(), "ipr {args:?}: no output");
        if args[0] == "list" || args[0] == "show" {
            assert!(out.stdout.contains(&id), "ipr {args:?}: {}", out.stdout);
        }
        assert_eq!(
            warnings(&out.stderr),
            1,
            "ipr {args:?}: not exactly one warning:\n{}",
            out.stderr
        );
    }
}

/// The last verified commit is remembered under .git/ipr/, and deleting
/// (or garbling) that cache changes no result.
#[test]
fn the_verified_point_is_remembered_and_a_deleted_cache_changes_nothing() {
    let r = Repo::new();
    r.setup();
    let a = r.create(DEV, "low");
    let b = r.create(DEV, "low");
    let c = r.create(DEV2, "low");
    r.user(TA);
    r.ipr(&["approve", &a]).success();
    let cache = r.dir.join(".git/ipr");
    assert!(!files_under(&cache).is_empty(), "nothing under .git/ipr/");

    // A clean action: the same with and without the cache.
    std::fs::remove_dir_all(&cache).unwrap();
    r.ipr(&["approve", &b]).success();

    // A refused action: the same with and without the cache.
    let forged = flip_to_approved(&r, &c, DEV2);
    r.user(DEV2);
    let with_cache = refused(&r, &["deploy", &c], &forged, "status-mismatch");
    std::fs::remove_dir_all(&cache).ok();
    let without = refused(&r, &["deploy", &c], &forged, "status-mismatch");
    assert_eq!(with_cache.stderr, without.stderr);
    // An unreadable cache is no different from none.
    let file = files_under(&cache);
    assert!(!file.is_empty(), "the cache was not written again");
    for f in &file {
        std::fs::write(f, "{ not what ipr wrote").unwrap();
    }
    let garbled = refused(&r, &["deploy", &c], &forged, "status-mismatch");
    assert_eq!(garbled.stderr, without.stderr);

    std::fs::remove_dir_all(&cache).ok();
    r.user(DEV);
    r.ipr(&["deploy", &a]).success();
}

/// DEV writes `.ipr/waivers.yaml` by hand to waive her own unauthorized
/// config change: the waiver is itself a violation and waives nothing.
#[test]
fn devops_waives_her_own_forgery_by_hand_and_it_counts_for_nothing() {
    let r = Repo::new();
    r.setup();
    let id = r.create(DEV2, "low");
    r.user(DEV);
    r.edit_config(|c| {
        c.replace(
            "  pierre.durand@example.com:\n    role: devops\n",
            "  pierre.durand@example.com:\n    role: admin\n",
        )
    });
    r.commit_all("promote myself");
    let bad = r.head();
    r.write(
        ".ipr/waivers.yaml",
        &format!(
            "waivers:\n- commit: {bad}\n  reason: reviewed and accepted\n  by: {ADMIN}\n  at: 2026-03-02T10:00:00Z\n"
        ),
    );
    r.commit_all("waive it");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    let commits: Vec<&str> = v.iter().map(|x| x["commit"].as_str().unwrap()).collect();
    assert!(commits.contains(&bad.as_str()), "{v:#?}");
    r.user(TA);
    refused(&r, &["approve", &id], &bad, "config-not-admin");
}

/// With signing required, DEV maps her own key to the admin's email in
/// `.ipr/allowed_signers`, then waives that commit "as the admin" with her
/// key: the signature is judged against the allowed signers in force, not
/// the forged ones, so ipr refuses and nothing is written; a hand-made
/// waiver signed the same way does not count either.
#[test]
fn forged_allowed_signers_cannot_vouch_for_the_waiver_of_itself() {
    let s = ssh_repo();
    let r = &s.r;
    s.act(DEV2);
    let id = r.create(DEV2, "low");
    let dev_line = ssh_key(r, DEV).1;
    let forged = dev_line.replacen(DEV, ADMIN, 1);
    s.act(DEV);
    let mut allowed = r.read(".ipr/allowed_signers");
    allowed.push_str(&forged);
    r.write(".ipr/allowed_signers", &allowed);
    r.commit_all("my laptop key");
    let bad = r.head();
    s.act_with(ADMIN, &s.keys[DEV]);
    let out = run(r.ipr(&["waive", &bad, "--reason", "laptop key checked in person"]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(r.head(), bad);
    // The same waiver made with plain git, signed with DEV's key.
    r.write(
        ".ipr/waivers.yaml",
        &format!(
            "waivers:\n- commit: {bad}\n  reason: laptop key checked in person\n  by: {ADMIN}\n  at: 2026-03-02T10:00:00Z\n"
        ),
    );
    r.commit_all("ipr: waive");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7, "{v:#?}");
    let rules: Vec<&str> = v.iter().map(|x| x["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"config-not-admin"), "{v:#?}");
    assert!(rules.contains(&"untrusted-signature"), "{v:#?}");
    s.act(TA);
    refused(r, &["approve", &id], &bad, "config-not-admin");
}

/// DEV relaxes the plan risk rules by hand: `ipr plan analyze` in the repo
/// keeps judging with the rules the admin committed.
#[test]
fn plan_risk_rules_from_a_hand_edit_are_not_used() {
    let r = Repo::new();
    r.setup();
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/plans/delete.json");
    let plan = plan.to_str().unwrap();
    let risk = |r: &Repo| -> String {
        let out = run(r.ipr(&["plan", "analyze", plan, "--format", "json"]));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        v["risk"].as_str().unwrap().to_string()
    };
    r.user(ADMIN);
    r.edit_config(|c| format!("{c}plan:\n  criticalDeletes: 1\n"));
    r.commit_all("admin: two deletions are critical");
    assert_eq!(risk(&r), "critical");

    r.user(DEV);
    r.edit_config(|c| c.replace("criticalDeletes: 1", "criticalDeletes: 10"));
    r.commit_all("relax the risk rules");
    assert_eq!(risk(&r), "critical");
}
