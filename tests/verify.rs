//! `ipr verify`, tested by forgery: each test builds a history with ipr,
//! then forges one violation by hand with the `git` binary and checks that
//! verify exits 7 and names exactly the broken rule.

mod verify_support;

use ipr::model::{Action, HistoryEntry, State};
use verify_support::*;

/// A repo with users, and one request of `impact` filed by DEV.
fn with_request(impact: &str) -> (Repo, String) {
    let r = Repo::new();
    r.setup();
    let id = r.create(DEV, impact);
    (r, id)
}

#[test]
fn history_made_only_by_ipr_verifies_clean() {
    let r = Repo::new();
    r.setup();
    let low = r.create(DEV, "low");
    let high = r.create(DEV, "high");
    let rejected = r.create(DEV2, "medium");
    let cancelled = r.create(DEV, "low");
    r.user(TA);
    r.ipr(&["approve", &low, "--comment", "ok"]).success();
    r.ipr(&["approve", &high]).success();
    r.ipr(&["reject", &rejected, "--reason", "not before the freeze"])
        .success();
    r.user(TA2);
    r.ipr(&["review", &high, "--approve", "--comment", "second"])
        .success();
    r.user(DEV);
    r.ipr(&["cancel", &cancelled, "--reason", "superseded"])
        .success();
    r.user(ADMIN);
    r.edit_config(|c| c.replace("default: 1", "default: 2"));
    r.commit_all("config: two approvals by default");

    let (code, violations) = r.verify(&[]);
    assert_eq!((code, violations.len()), (0, 0), "{violations:#?}");
    // Human output: nothing on stdout, a summary on stderr.
    let out = r.ipr(&["verify"]).success();
    let o = out.get_output();
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no violations"), "{err}");
    assert!(err.contains("12 commits, 9 ticket changes"), "{err}");
}

#[test]
fn violations_print_one_line_each_and_json_objects_for_ci() {
    let r = Repo::new();
    r.setup();
    let id = r.create(TA, "low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.forge(TA, at, &t, "approve my own request");
    let commit = r.head();

    let out = r.ipr(&["verify"]).code(7);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("{} {}: self-approval: ", &commit[..12], t.path())),
        "{stdout}"
    );
    assert!(
        stderr.starts_with("error: 1 violation in 1 commit"),
        "{stderr}"
    );

    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v.len(), 1);
    let obj = v[0].as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["commit", "file", "message", "rule"]);
    assert_eq!(obj["commit"], commit.as_str());
    assert_eq!(obj["file"], t.path().as_str());
    assert_eq!(obj["rule"], "self-approval");
}

#[test]
fn approval_committed_by_someone_else_is_author_mismatch() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    // The entry says the tenant admin approved, but DEV made the commit.
    approve_by_hand(&mut t, TA, at, true);
    r.forge(DEV, at, &t, "approve as the tenant admin");
    assert_eq!(r.rules(), ["author-mismatch"]);
}

#[test]
fn approval_by_the_requester_is_self_approval() {
    // A tenant admin may file requests, and may approve others' requests.
    let r = Repo::new();
    r.setup();
    let id = r.create(TA, "low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.forge(TA, at, &t, "approve");
    assert_eq!(r.rules(), ["self-approval"]);
}

#[test]
fn approval_by_a_devops_engineer_is_no_role() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, DEV2, at, true);
    r.forge(DEV2, at, &t, "approve a colleague's request");
    assert_eq!(r.rules(), ["no-role"]);
}

#[test]
fn second_approval_by_one_person_is_duplicate_approval() {
    let (r, id) = with_request("high");
    r.user(TA);
    r.ipr(&["approve", &id]).success();
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.forge(TA, at, &t, "approve again");
    assert_eq!(r.rules(), ["duplicate-approval"]);
}

#[test]
fn approved_with_too_few_approvals_is_quorum() {
    let (r, id) = with_request("high");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.forge(TA, at, &t, "approve high impact alone");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["rule"], "quorum");
    let msg = v[0]["message"].as_str().unwrap();
    assert!(msg.contains("1 of the 2 approvals"), "{msg}");
}

#[test]
fn rejection_without_a_real_reason_is_reject_reason() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    reject_by_hand(&mut t, TA, at, "no");
    r.forge(TA, at, &t, "reject");
    assert_eq!(r.rules(), ["reject-reason"]);
}

#[test]
fn approval_of_another_spec_is_digest_mismatch() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    let mut other = t.spec.clone();
    other.target.version = "9.9.9".into();
    t.status.history.last_mut().unwrap().digest = Some(ipr::model::spec_digest(&other));
    r.forge(TA, at, &t, "approve");
    assert_eq!(r.rules(), ["digest-mismatch"]);
}

#[test]
fn spec_edited_after_approval_is_spec_changed() {
    let (r, id) = with_request("low");
    r.user(TA);
    r.ipr(&["approve", &id]).success();
    // DEV swaps the approved version for another one in a text editor.
    let path = r.path_of(&id);
    let text = r.read(&path).replace("version: 2.1.0", "version: 6.6.6");
    assert!(text.contains("6.6.6"));
    r.user(DEV);
    r.write(&path, &text);
    r.commit_all("bump version");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["rule"], "spec-changed");
    assert!(v[0]["message"]
        .as_str()
        .unwrap()
        .contains("spec.target.version: 6.6.6 (was 2.1.0)"));
}

#[test]
fn tenant_edited_after_creation_is_metadata_changed() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    t.metadata.tenant = "tenant-retail".into();
    let at = r.tick();
    r.forge(DEV, at, &t, "move to retail");
    assert_eq!(r.rules(), ["metadata-changed"]);
}

#[test]
fn self_granted_admin_in_the_same_commit_does_not_count() {
    let r = Repo::new();
    r.setup();
    let id = r.create(TA2, "low");
    // DEV makes themselves admin and approves in one commit.
    r.user(DEV);
    r.edit_config(|c| {
        c.replace(
            "  pierre.durand@example.com:\n    role: devops\n",
            "  pierre.durand@example.com:\n    role: admin\n",
        )
    });
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, DEV, at, true);
    r.put(&t);
    r.commit_all_at(at, "promote myself and approve");
    assert_eq!(r.rules(), ["config-not-admin", "no-role"]);
}

#[test]
fn config_change_by_a_tenant_admin_is_config_not_admin() {
    let r = Repo::new();
    r.setup();
    r.user(TA);
    r.edit_config(|c| c.replace("default: 1", "default: 0"));
    r.commit_all("fewer approvals");
    assert_eq!(r.rules(), ["config-not-admin"]);
}

#[test]
fn allowed_signers_changed_by_a_non_admin_is_config_not_admin() {
    let r = Repo::new();
    r.setup();
    r.user(DEV);
    r.write(
        ".ipr/allowed_signers",
        "pierre.durand@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGh0ZXJlaXNub2tleWhlcmV0aGF0d29ya3MK\n",
    );
    r.commit_all("trust my key");
    assert_eq!(r.rules(), ["config-not-admin"]);
}

#[test]
fn approval_by_a_viewer_is_no_role() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, VIEWER, at, true);
    r.forge(VIEWER, at, &t, "approve");
    assert_eq!(r.rules(), ["no-role"]);
}

#[test]
fn approval_by_someone_not_in_config_is_no_role() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, "mallory@example.com", at, true);
    r.forge("mallory@example.com", at, &t, "approve");
    assert_eq!(r.rules(), ["no-role"]);
}

#[test]
fn approving_a_rejected_request_is_illegal_transition() {
    let (r, id) = with_request("low");
    r.user(TA);
    r.ipr(&["reject", &id, "--reason", "missing load test results"])
        .success();
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA2, at, false);
    t.status.state = State::Approved;
    r.forge(TA2, at, &t, "approve anyway");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["rule"], "illegal-transition");
    assert!(v[0]["message"].as_str().unwrap().contains("it is rejected"));
}

#[test]
fn deployed_straight_from_pending_is_illegal_transition() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    let mut e = HistoryEntry::new(Action::Deployed, at, TA);
    e.job_id = Some("awx-job-1".into());
    t.status.history.push(e);
    t.status.state = State::Deployed;
    t.status.deployed_at = Some(at);
    r.forge(TA, at, &t, "deployed");
    assert_eq!(r.rules(), ["illegal-transition"]);
}

#[test]
fn deleted_ticket_is_ticket_deleted() {
    let (r, id) = with_request("low");
    let path = r.path_of(&id);
    r.user(DEV);
    r.git(&["rm", "-q", &path]);
    r.commit_all("remove");
    assert_eq!(r.rules(), ["ticket-deleted"]);
}

#[test]
fn moved_ticket_is_ticket_renamed() {
    let (r, id) = with_request("low");
    let path = r.path_of(&id);
    let to = path.replace("/2026/03/", "/2026/01/");
    std::fs::create_dir_all(r.dir.join(&to).parent().unwrap()).unwrap();
    r.user(DEV);
    r.git(&["mv", &path, &to]);
    r.commit_all("move");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["rule"], "ticket-renamed");
    assert_eq!(v[0]["file"], to.as_str());
}

#[test]
fn unknown_key_in_a_ticket_is_parse() {
    let (r, id) = with_request("low");
    let path = r.path_of(&id);
    let text = r
        .read(&path)
        .replace("  tenant: ", "  owner: me\n  tenant: ");
    r.user(DEV);
    r.write(&path, &text);
    r.commit_all("add owner");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v[0]["rule"], "parse");
    assert!(v[0]["message"].as_str().unwrap().contains("owner"));
}

#[test]
fn broken_config_is_parse_and_the_last_good_config_stays_in_force() {
    let (r, id) = with_request("low");
    r.user(ADMIN);
    r.edit_config(|c| c.replace("tenants:\n", "tenants: [\n"));
    r.commit_all("oops");
    // Still judged under the last config that parsed: a legal approval passes.
    r.user(TA);
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.forge(TA, at, &t, "approve by hand");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["rule"], "parse");
    assert_eq!(v[0]["file"], ".ipr/config.yaml");
}

#[test]
fn removed_history_entry_is_history_rewritten() {
    let (r, id) = with_request("high");
    r.user(TA);
    r.ipr(&["approve", &id]).success();
    let mut t = r.ticket(&id);
    t.status.history.pop();
    r.forge(TA, r.tick(), &t, "take my approval back");
    assert_eq!(r.rules(), ["history-rewritten"]);
}

#[test]
fn state_edited_without_a_history_entry_is_status_mismatch() {
    let (r, id) = with_request("low");
    let path = r.path_of(&id);
    let text = r.read(&path).replace("state: pending", "state: approved");
    r.user(TA);
    r.write(&path, &text);
    r.commit_all("approve");
    assert_eq!(r.rules(), ["status-mismatch"]);
}

#[test]
fn two_approvals_in_one_commit_is_multiple_transitions() {
    let (r, id) = with_request("high");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, false);
    approve_by_hand(&mut t, TA2, at, true);
    r.forge(TA, at, &t, "approve twice");
    // TA2's entry is not TA's either.
    assert_eq!(r.rules(), ["author-mismatch", "multiple-transitions"]);
}

#[test]
fn backdated_entry_is_time_mismatch() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at - minutes(600), true);
    r.forge(TA, at, &t, "approve");
    assert_eq!(r.rules(), ["time-mismatch"]);
}

#[test]
fn hand_made_request_that_ipr_would_refuse_is_validation() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    t.metadata.id = "PR-2026-0002".parse().unwrap();
    t.spec.request.justification = "because".into();
    let at = r.tick();
    t.metadata.created_at = at;
    t.status.history[0].at = at;
    r.forge(DEV, at, &t, "create by hand");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["rule"], "validation");
    assert!(v[0]["message"].as_str().unwrap().contains("justification"));
}

#[test]
fn hand_made_request_by_a_viewer_is_no_role() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    t.metadata.id = "PR-2026-0002".parse().unwrap();
    t.metadata.created_at = at;
    t.metadata.created_by = VIEWER.into();
    t.status.history[0].at = at;
    t.status.history[0].by = VIEWER.into();
    r.forge(VIEWER, at, &t, "create by hand");
    assert_eq!(r.rules(), ["no-role"]);
}

#[test]
fn new_request_born_approved_is_illegal_transition() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    t.metadata.id = "PR-2026-0002".parse().unwrap();
    approve_by_hand(&mut t, TA, at, true);
    r.forge(TA, at, &t, "import an approved request");
    assert_eq!(r.rules(), ["illegal-transition"]);
}

#[test]
fn request_copied_to_another_month_is_wrong_path_and_duplicate_id() {
    let (r, id) = with_request("low");
    let path = r.path_of(&id);
    let copy = path.replace("/2026/03/", "/2026/04/");
    r.user(DEV);
    r.write(&copy, &r.read(&path));
    r.commit_all_at(r.ticket(&id).metadata.created_at, "copy");
    // The copy also creates an ID that was used before.
    assert_eq!(r.rules(), ["duplicate-id", "id-not-next", "wrong-path"]);
}

#[test]
fn ticket_before_any_config_is_no_config() {
    let r = Repo::new();
    r.setup();
    r.create(DEV, "low");
    let id = "PR-2026-0001";
    let t = r.ticket(id);
    // A second repo whose history starts with the ticket, config after.
    let r2 = Repo::new();
    r2.user(DEV);
    r2.write(&t.path(), &t.to_yaml());
    r2.commit_all_at(t.metadata.created_at, "ticket first");
    r2.user(ADMIN);
    r2.write(".ipr/config.yaml", &r.read(".ipr/config.yaml"));
    r2.commit_all("config second");
    assert_eq!(r2.rules(), ["no-config"]);
}

#[test]
fn since_checks_only_the_commits_after_rev() {
    let (r, id) = with_request("low");
    // A violation before the range...
    r.user(ADMIN);
    let mut t = r.ticket(&id);
    t.status.state = State::Cancelled;
    r.forge(ADMIN, r.tick(), &t, "cancel without an entry");
    let start = r.head();
    // ...and one inside it.
    let other = r.create(TA, "low");
    let mut o = r.ticket(&other);
    let at = r.tick();
    approve_by_hand(&mut o, TA, at, true);
    r.forge(TA, at, &o, "approve my own");
    let bad = r.head();

    let (code, all) = r.verify(&[]);
    assert_eq!((code, all.len()), (7, 2), "{all:#?}");
    let (code, range) = r.verify(&["--since", &start]);
    assert_eq!(code, 7);
    assert_eq!(range.len(), 1, "{range:#?}");
    assert_eq!(range[0]["rule"], "self-approval");
    assert_eq!(range[0]["commit"], bad.as_str());
    // Up to REV only.
    let (code, upto) = r.verify(&["--since", &start, "HEAD~1"]);
    assert_eq!((code, upto.len()), (0, 0), "{upto:#?}");
    r.ipr(&["verify", "--since", "no-such-rev"]).code(4);
}

#[test]
fn merge_of_independent_branches_verifies_clean() {
    let r = Repo::new();
    r.setup();
    let a = r.create(DEV, "low");
    r.git(&["switch", "-q", "-c", "side"]);
    let b = r.create(DEV2, "low");
    r.user(TA);
    r.ipr(&["approve", &b]).success();
    r.git(&["switch", "-q", "main"]);
    r.ipr(&["approve", &a]).success();
    let at = r.tick();
    let out = r.git_at(at, &["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(r.git(&["rev-list", "--merges", "HEAD"]).lines().count(), 1);
    assert_eq!(r.rules(), Vec::<String>::new());
}

#[test]
fn merge_that_drops_a_concurrent_transition_is_merge_conflict() {
    let (r, id) = with_request("high");
    r.git(&["switch", "-q", "-c", "side"]);
    r.user(TA2);
    r.ipr(&["approve", &id]).success();
    r.git(&["switch", "-q", "main"]);
    r.user(TA);
    r.ipr(&["approve", &id]).success();
    // Both sides approved once; the merge keeps main's version.
    let at = r.tick();
    let out = r.git_at(
        at,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-s",
            "ours",
            "-m",
            "merge side",
            "side",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(r.rules(), ["merge-conflict"]);
}

#[test]
fn pre_commit_hook_refuses_a_hand_made_illegal_transition() {
    let r = Repo::new();
    r.setup();
    let id = r.create(TA, "low");
    let out = r.ipr(&["hooks", "install"]).success();
    let printed = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        printed.contains("ipr verify --since \"$old\" \"$new\""),
        "{printed}"
    );
    let hook = r.dir.join(".git/hooks/pre-commit");
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("verify --staged"));

    // An unrelated commit goes through.
    r.write("README.md", "# gitops\n");
    r.commit_all("readme");
    let before = r.head();
    // Approving one's own request by hand is refused before the commit.
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.put(&t);
    r.git(&["add", "-A"]);
    let out = r.git_at(at, &["commit", "-q", "-m", "approve"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("staged"), "{stderr}");
    assert!(stderr.contains(": self-approval: "), "{stderr}");
    assert_eq!(r.head(), before);

    // A second install replaces ipr's own hook; someone else's needs --force.
    r.ipr(&["hooks", "install", "-q"]).success();
    std::fs::write(&hook, "#!/bin/sh\nexit 0\n").unwrap();
    r.ipr(&["hooks", "install"]).code(1);
    r.ipr(&["hooks", "install", "--force", "-q"]).success();
}

#[test]
fn pre_commit_hook_accepts_an_admins_config_change_not_a_tenant_admins() {
    let r = Repo::new();
    r.setup();
    r.user(ADMIN);
    r.ipr(&["hooks", "install", "-q"]).success();
    r.edit_config(|c| c.replace("default: 1", "default: 2"));
    r.commit_all("two approvals");
    r.user(TA);
    r.edit_config(|c| c.replace("default: 2", "default: 1"));
    r.git(&["add", "-A"]);
    let out = r.git_at(r.tick(), &["commit", "-q", "-m", "back to one"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(": config-not-admin: "));
}

#[test]
fn pre_receive_hook_refuses_a_forged_push() {
    let (r, id) = with_request("low");
    // The server: a bare repo with the printed pre-receive hook, and ipr on PATH.
    let server = r.tmp.path().join("server.git");
    r.git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        server.to_str().unwrap(),
    ]);
    let out = r.ipr(&["hooks", "pre-receive"]).success();
    let hook = server.join("hooks/pre-receive");
    std::fs::write(&hook, &out.get_output().stdout).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let bin = assert_cmd::cargo::cargo_bin("ipr");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let push = |refspec: &str| {
        r.command("git")
            .args(["push", "-q", server.to_str().unwrap(), refspec])
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    // A clean history is accepted (a new branch: verified from its root).
    let ok = push("main");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    r.user(TA);
    r.ipr(&["approve", &id]).success();
    let ok = push("main");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let accepted = r.head();

    // A forged commit on top is refused, and the server's branch stays put.
    let mut t = r.ticket(&id);
    t.spec.target.version = "6.6.6".into();
    r.forge(DEV, r.tick(), &t, "bump");
    let refused = push("main");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains(": spec-changed: "), "{stderr}");
    let server_head = r.git(&["--git-dir", server.to_str().unwrap(), "rev-parse", "main"]);
    assert_eq!(server_head.trim(), accepted);

    // Rewriting the verified history (dropping the approval) is refused too.
    r.git(&["reset", "-q", "--hard", "HEAD~2"]);
    let rewrite = push("+main");
    assert!(!rewrite.status.success());
    let stderr = String::from_utf8_lossy(&rewrite.stderr);
    assert!(stderr.contains("not a fast-forward"), "{stderr}");
    let server_head = r.git(&["--git-dir", server.to_str().unwrap(), "rev-parse", "main"]);
    assert_eq!(server_head.trim(), accepted);
}

#[test]
fn verify_of_a_repo_without_commits_is_clean() {
    let r = Repo::new();
    let (code, v) = r.verify(&[]);
    assert_eq!((code, v.len()), (0, 0));
}

#[test]
fn verify_runs_on_a_detached_head_like_ci_checkouts() {
    let (r, id) = with_request("low");
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, DEV, at, true);
    r.forge(DEV, at, &t, "approve");
    r.git(&["checkout", "-q", "--detach", "HEAD"]);
    assert_eq!(r.rules(), ["no-role"]);
    r.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    assert_eq!(r.rules(), Vec::<String>::new());
}

#[test]
fn deploys_made_by_ipr_verify_clean() {
    let r = Repo::new();
    r.setup();
    r.user(ADMIN);
    r.edit_config(|c| {
        c.replace(
            "runners:\n  default: shell\n",
            "runners:\n  default: local\n  definitions:\n    local:\n      kind: shell\n      command: echo shipped\n      timeout: 20s\n    broken:\n      kind: shell\n      command: exit 3\n      timeout: 20s\n",
        )
    });
    r.commit_all("config: runners");
    let ok = r.create(DEV, "low");
    let retried = r.create(DEV, "low");
    r.user(TA);
    r.ipr(&["approve", &ok]).success();
    r.ipr(&["approve", &retried]).success();
    r.user(DEV);
    r.ipr(&["deploy", &ok]).success();
    r.ipr(&["deploy", &retried, "--runner", "broken"]).code(8);
    r.ipr(&["deploy", &retried]).success();
    let t = r.ticket(&retried);
    let actions: Vec<&str> = t.status.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "created",
            "approved",
            "deploying",
            "failed",
            "deploying",
            "deployed"
        ]
    );
    assert_eq!(r.rules(), Vec::<String>::new());

    // A deploy started by hand by someone without deploy rights is not.
    let other = r.create(DEV, "low");
    r.user(TA);
    r.ipr(&["approve", &other]).success();
    let mut t = r.ticket(&other);
    let at = r.tick();
    let mut e = HistoryEntry::new(Action::Deploying, at, VIEWER);
    e.runner = Some("local".into());
    t.status.history.push(e);
    t.status.state = State::Deploying;
    r.forge(VIEWER, at, &t, "deploy");
    assert_eq!(r.rules(), ["no-role"]);
}
