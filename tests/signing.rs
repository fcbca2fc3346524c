//! Signed transitions: ipr signs like `git commit -S` (ssh and openpgp, with
//! real keys made in temp homes), `git verify-commit` accepts what it
//! signs, and `ipr verify` / `ipr log` judge signatures against
//! .ipr/allowed_signers (ssh) or the keyring (openpgp).

mod verify_support;

use std::path::{Path, PathBuf};

use verify_support::*;

/// Every user but DEV2 has a listed key; DEV2's key is listed nowhere.
fn ssh_repo() -> Ssh {
    Ssh::new(&[ADMIN, DEV, TA, TA2], &[DEV2])
}

fn verify_commit(r: &Repo, rev: &str) -> bool {
    r.command("git")
        .args(["verify-commit", rev])
        .output()
        .unwrap()
        .status
        .success()
}

fn log_json(r: &Repo, id: &str) -> Vec<serde_json::Value> {
    let out = r.ipr(&["log", id, "--format", "json"]).success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn ssh_signed_history_made_by_ipr_verifies_and_git_accepts_it() {
    let s = ssh_repo();
    let r = &s.r;
    s.act(DEV);
    let id = r.create(DEV, "high");
    s.act(TA);
    r.ipr(&["approve", &id]).success();
    s.act(TA2);
    r.ipr(&["approve", &id]).success();
    for rev in ["HEAD", "HEAD~1", "HEAD~2", "HEAD~3", "HEAD~4"] {
        assert!(verify_commit(r, rev), "git verify-commit {rev}");
    }
    let (code, v) = r.verify(&[]);
    assert_eq!((code, v.len()), (0, 0), "{v:#?}");
    let out = r.ipr(&["verify"]).success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("3 signatures"), "{err}");

    let log = log_json(r, &id);
    assert_eq!(log.len(), 3);
    for row in &log {
        assert_eq!(row["signature"], "good", "{row}");
    }
    assert!(log[0]["signer"].as_str().unwrap().starts_with(TA2));
    let table = r.ipr(&["log", &id]).success();
    let text = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
    assert!(
        text.contains("good: jean.dupont@example.com (ED25519 key SHA256:"),
        "{text}"
    );
}

#[test]
fn unsigned_hand_commit_is_unsigned_when_signing_is_required() {
    let s = ssh_repo();
    let r = &s.r;
    s.act(DEV);
    let id = r.create(DEV, "low");
    s.act(TA);
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.put(&t);
    r.git(&["add", "-A"]);
    let out = r.git_at(
        at,
        &[
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            "approve",
        ],
    );
    assert!(out.status.success());
    assert_eq!(r.rules(), ["unsigned"]);
    assert_eq!(log_json(r, &id)[0]["signature"], "unsigned");
}

#[test]
fn commit_signed_with_another_users_key_is_untrusted_signature() {
    let s = ssh_repo();
    let r = &s.r;
    s.act(DEV);
    let id = r.create(DEV, "high");
    // TA approves, signing with DEV's key: ipr refuses before writing...
    s.act_with(TA, &s.keys[DEV]);
    let head = r.head();
    let out = r.ipr(&["approve", &id]).code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("not trusted for"), "{err}");
    assert_eq!(r.head(), head);
    // ...so it is forged with plain git, signed by git with that key.
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, false);
    r.forge(TA, at, &t, "approve");
    // TA2 approves with a key nobody listed, the same way.
    s.act_with(TA2, &s.keys[DEV2]);
    // (ipr now refuses any action on the request: its history does not verify)
    r.ipr(&["approve", &id]).code(7);
    let at = r.tick();
    approve_by_hand(&mut t, TA2, at, true);
    r.forge(TA2, at, &t, "approve");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v.len(), 2, "{v:#?}");
    for x in &v {
        assert_eq!(x["rule"], "untrusted-signature");
    }
    let first = v[0]["message"].as_str().unwrap();
    assert!(
        first.contains(&format!("gives to {DEV}, not {TA}")),
        "{first}"
    );
    assert!(v[1]["message"].as_str().unwrap().contains("does not list"));
    let log = log_json(r, &id);
    assert_eq!(log[0]["signature"], "unknown-key");
    assert_eq!(log[1]["signature"], "unknown-key");
    assert_eq!(log[2]["signature"], "good");
    let table = r.ipr(&["log", &id]).success();
    let text = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
    assert!(text.contains("unknown key"), "{text}");
}

#[test]
fn key_added_to_allowed_signers_cannot_sign_its_own_commit() {
    let s = ssh_repo();
    let r = &s.r;
    // The admin adds a new key and signs the same commit with it: that
    // commit is judged by the parent's allowed_signers.
    let (new_key, line) = ssh_key(r, "ops-lead-laptop@example.com");
    let line = line.replace("ops-lead-laptop@example.com", ADMIN);
    s.act_with(ADMIN, &new_key);
    let mut allowed = r.read(".ipr/allowed_signers");
    allowed.push_str(&line);
    r.write(".ipr/allowed_signers", &allowed);
    r.commit_all("add my laptop key");
    assert_eq!(r.rules(), ["untrusted-signature"]);
    // A commit under .ipr/ that does not verify stops every action...
    s.act(DEV);
    let out = r.ipr(&create_args("low")).code(7);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("untrusted-signature"), "{err}");
    // ...until an admin, signing with a key already listed, accepts it.
    s.act(ADMIN);
    r.ipr(&["waive", "HEAD", "--reason", "laptop key checked in person"])
        .success();
    // From the next commit on, the key counts.
    s.act(DEV);
    let id = r.create(DEV, "low");
    s.act_with(ADMIN, &new_key);
    r.ipr(&["approve", &id]).success();
    let (code, v) = r.verify(&[]);
    assert_eq!((code, v.len()), (0, 0), "{v:#?}");
}

#[test]
fn non_admin_adding_their_key_is_config_not_admin() {
    let s = ssh_repo();
    let r = &s.r;
    let (_, line) = ssh_key(r, DEV2);
    s.act(DEV2);
    let mut allowed = r.read(".ipr/allowed_signers");
    allowed.push_str(&line);
    r.write(".ipr/allowed_signers", &allowed);
    r.commit_all("trust me");
    assert_eq!(r.rules(), ["config-not-admin", "untrusted-signature"]);
}

#[test]
fn tampered_signed_commit_is_bad_signature() {
    let s = ssh_repo();
    let r = &s.r;
    s.act(DEV);
    let id = r.create(DEV, "low");
    // Rewrite the signed commit's message, keeping its signature.
    let raw = r.git(&["cat-file", "commit", "HEAD"]);
    assert!(raw.contains("gpgsig -----BEGIN SSH SIGNATURE-----"));
    let forged = raw.replace("ipr: create", "ipr: create (edited)");
    let tmp = r.tmp.path().join("forged-commit");
    std::fs::write(&tmp, forged).unwrap();
    let oid = r.git(&["hash-object", "-t", "commit", "-w", tmp.to_str().unwrap()]);
    r.git(&["update-ref", "refs/heads/main", oid.trim()]);
    assert!(!verify_commit(r, "HEAD"));
    assert_eq!(r.rules(), ["bad-signature"]);
    let log = log_json(r, &id);
    assert_eq!(log[0]["signature"], "bad");
}

#[test]
fn signing_required_without_a_key_refuses_before_writing() {
    let s = ssh_repo();
    let r = &s.r;
    s.act(DEV);
    let id = r.create(DEV, "low");
    let head = r.head();
    let before = r.read(&r.path_of(&id));
    r.user(TA);
    r.git(&["config", "--unset", "user.signingkey"]);
    let out = r.ipr(&["approve", &id]).code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("signing"), "{err}");
    // The same with openpgp and no key.
    r.git(&["config", "gpg.format", "openpgp"]);
    r.ipr(&["approve", &id]).code(3);
    assert_eq!(r.head(), head);
    assert_eq!(r.read(&r.path_of(&id)), before);
    assert_eq!(r.git(&["status", "--porcelain"]), "");
}

#[test]
fn sign_flag_signs_without_commit_gpgsign() {
    let r = Repo::new();
    r.setup();
    let (key, line) = ssh_key(&r, TA);
    r.git(&["config", "gpg.format", "ssh"]);
    r.git(&["config", "user.signingkey", key.to_str().unwrap()]);
    let signers = r.tmp.path().join("allowed_signers");
    std::fs::write(&signers, line).unwrap();
    r.git(&[
        "config",
        "gpg.ssh.allowedSignersFile",
        signers.to_str().unwrap(),
    ]);
    let id = r.create(DEV, "low");
    assert!(!r.git(&["cat-file", "commit", "HEAD"]).contains("gpgsig"));
    r.user(TA);
    r.ipr(&["approve", &id, "--sign"]).success();
    assert!(r.git(&["cat-file", "commit", "HEAD"]).contains("gpgsig"));
    assert!(verify_commit(&r, "HEAD"));
    // Not required by the config: verify is clean either way.
    assert_eq!(r.rules(), Vec::<String>::new());
}

// --- openpgp ---------------------------------------------------------

/// Make an ed25519 openpgp key `Name <email>` with no passphrase.
fn gpg_key(r: &Repo, gnupg: &Path, email: &str) {
    let uid = format!("{} <{email}>", email.split('@').next().unwrap());
    let out = r
        .command("gpg")
        .env("GNUPGHOME", gnupg)
        .args(["--batch", "--passphrase", "", "--quick-gen-key", &uid])
        .args(["ed25519", "sign", "never"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Stops the gpg-agent of a GNUPGHOME when the test ends.
struct Agent(PathBuf);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .env("GNUPGHOME", &self.0)
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

fn gpg_repo() -> (Repo, Agent) {
    let r = Repo::new();
    let agent = Agent(r.gnupg.clone());
    for who in [ADMIN, DEV, TA, TA2] {
        gpg_key(&r, &r.gnupg.clone(), who);
    }
    r.git(&["config", "gpg.format", "openpgp"]);
    r.git(&["config", "commit.gpgsign", "true"]);
    r.user(ADMIN);
    r.git(&["config", "user.signingkey", ADMIN]);
    r.ipr(&["init", "--tenant", TENANT]).success();
    r.edit_config(|c| {
        c.replace("users:\n  ops-lead@example.com:\n    role: admin\n", USERS)
            .replace("required: false", "required: true")
    });
    r.commit_all("config: users, signing required");
    (r, agent)
}

fn gpg_act(r: &Repo, email: &str, key: &str) {
    r.user(email);
    r.git(&["config", "user.signingkey", key]);
}

#[test]
fn openpgp_signed_history_made_by_ipr_verifies_and_git_accepts_it() {
    let (r, _agent) = gpg_repo();
    gpg_act(&r, DEV, DEV);
    let id = r.create(DEV, "low");
    gpg_act(&r, TA, TA);
    r.ipr(&["approve", &id]).success();
    for rev in ["HEAD", "HEAD~1", "HEAD~2", "HEAD~3"] {
        assert!(verify_commit(&r, rev), "git verify-commit {rev}");
    }
    assert!(r
        .git(&["cat-file", "commit", "HEAD"])
        .contains("BEGIN PGP SIGNATURE"));
    assert_eq!(r.rules(), Vec::<String>::new());
    let log = log_json(&r, &id);
    assert_eq!(log[0]["signature"], "good");
    assert!(log[0]["signer"].as_str().unwrap().contains("openpgp"));
}

#[test]
fn openpgp_key_without_the_authors_uid_is_untrusted_signature() {
    let (r, _agent) = gpg_repo();
    gpg_act(&r, DEV, DEV);
    let id = r.create(DEV, "low");
    gpg_act(&r, TA, DEV); // TA signs with DEV's key
    let head = r.head();
    r.ipr(&["approve", &id]).code(3);
    assert_eq!(r.head(), head);
    // Forged with plain git instead, signed by git with that key.
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.forge(TA, at, &t, "approve");
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["rule"], "untrusted-signature");
    assert!(v[0]["message"]
        .as_str()
        .unwrap()
        .contains(&format!("has no uid <{TA}>")));
}

#[test]
fn openpgp_key_missing_from_the_keyring_is_untrusted_signature() {
    let (r, _agent) = gpg_repo();
    gpg_act(&r, DEV, DEV);
    let id = r.create(DEV, "low");
    // TA signs with a key that only exists in another keyring.
    let elsewhere = r.tmp.path().join("gnupg-elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let _other_agent = Agent(elsewhere.clone());
    gpg_key(&r, &elsewhere, TA);
    gpg_act(&r, TA, TA);
    let mut t = r.ticket(&id);
    let at = r.tick();
    approve_by_hand(&mut t, TA, at, true);
    r.put(&t);
    r.git(&["add", "-A"]);
    let date = at.to_rfc3339();
    let out = r
        .command("git")
        .args(["commit", "-q", "-m", "approve"])
        .env("GNUPGHOME", &elsewhere)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, v) = r.verify(&[]);
    assert_eq!(code, 7);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["rule"], "untrusted-signature");
    assert!(v[0]["message"]
        .as_str()
        .unwrap()
        .contains("not in the keyring"));
    assert_eq!(log_json(&r, &id)[0]["signature"], "unknown-key");
}
