//! Test support for `tests/verify.rs` and `tests/signing.rs`: a gitops repo
//! in a temp dir, driven by the real `ipr` binary and the `git` binary in
//! an isolated environment (HOME, GNUPGHOME, no global or system git
//! config), with a clock that moves one minute per step.

#![allow(dead_code)]

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Duration, Utc};
use ipr::model::{spec_digest, Action, HistoryEntry, State, Ticket};

pub const ADMIN: &str = "ops-lead@example.com";
pub const DEV: &str = "pierre.durand@example.com";
pub const DEV2: &str = "marie.curie@example.com";
pub const TA: &str = "jean.dupont@example.com";
pub const TA2: &str = "anne.martin@example.com";
pub const VIEWER: &str = "auditor@example.com";
pub const TENANT: &str = "tenant-finance";

/// The users of the standard config.
pub const USERS: &str = "\
users:
  ops-lead@example.com:
    role: admin
  pierre.durand@example.com:
    role: devops
    tenants:
    - tenant-finance
  marie.curie@example.com:
    role: devops
    tenants:
    - tenant-finance
  jean.dupont@example.com:
    role: tenant-admin
    tenants:
    - tenant-finance
  anne.martin@example.com:
    role: tenant-admin
    tenants:
    - tenant-finance
  auditor@example.com:
    role: viewer
    tenants:
    - tenant-finance
";

pub struct Repo {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub home: PathBuf,
    pub gnupg: PathBuf,
    clock: Cell<i64>,
}

/// Apply the isolated environment to a command.
pub fn isolate(cmd: &mut Command, home: &Path, gnupg: &Path) {
    cmd.env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GNUPGHOME", gnupg)
        .env("LC_ALL", "C")
        .env("NO_COLOR", "1");
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
        "SSH_AUTH_SOCK",
        "IPR_NOW",
        "IPR",
    ] {
        cmd.env_remove(var);
    }
}

impl Default for Repo {
    fn default() -> Self {
        Self::new()
    }
}

impl Repo {
    /// An empty git repo on branch main.
    pub fn new() -> Repo {
        let tmp = tempfile::Builder::new().prefix("ipr-v").tempdir().unwrap();
        let home = tmp.path().join("home");
        let gnupg = tmp.path().join("gnupg");
        let dir = tmp.path().join("repo");
        for d in [&home, &gnupg, &dir] {
            std::fs::create_dir_all(d).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let start = DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
            .unwrap()
            .timestamp();
        let repo = Repo {
            tmp,
            dir,
            home,
            gnupg,
            clock: Cell::new(start),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// The next instant: one minute after the previous one.
    pub fn tick(&self) -> DateTime<Utc> {
        let t = self.clock.get() + 60;
        self.clock.set(t);
        DateTime::from_timestamp(t, 0).unwrap()
    }

    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        isolate(&mut cmd, &self.home, &self.gnupg);
        cmd.current_dir(&self.dir);
        cmd
    }

    /// Run git; panic with its stderr unless it succeeds.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.command("git").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Run git with author and committer date `at`.
    pub fn git_at(&self, at: DateTime<Utc>, args: &[&str]) -> Output {
        let date = at.to_rfc3339();
        self.command("git")
            .args(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap()
    }

    /// Act as this user from now on (`git config user.email`).
    pub fn user(&self, email: &str) {
        self.git(&["config", "user.email", email]);
        let name = email.split('@').next().unwrap();
        self.git(&["config", "user.name", name]);
    }

    /// `ipr ARGS` as the current user, at the next tick.
    pub fn ipr(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        let at = self.tick();
        self.ipr_at(at, args)
    }

    pub fn ipr_at(&self, at: DateTime<Utc>, args: &[&str]) -> assert_cmd::assert::Assert {
        self.ipr_with(at, &[], args)
    }

    /// `ipr ARGS` at `at` with extra environment variables.
    pub fn ipr_with(
        &self,
        at: DateTime<Utc>,
        envs: &[(&str, &str)],
        args: &[&str],
    ) -> assert_cmd::assert::Assert {
        let mut cmd = assert_cmd::Command::cargo_bin("ipr").unwrap();
        cmd.env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GNUPGHOME", &self.gnupg)
            .env("LC_ALL", "C")
            .env("NO_COLOR", "1")
            .env("IPR_NOW", at.to_rfc3339());
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_AUTHOR_EMAIL",
            "SSH_AUTH_SOCK",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.current_dir(&self.dir).args(args).assert()
    }

    /// Write a file in the working tree.
    pub fn write(&self, path: &str, content: &str) {
        let full = self.dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.join(path)).unwrap()
    }

    /// Stage everything and commit as the current user at `at`.
    pub fn commit_all_at(&self, at: DateTime<Utc>, message: &str) {
        self.git(&["add", "-A"]);
        let out = self.git_at(at, &["commit", "-q", "-m", message]);
        assert!(
            out.status.success(),
            "git commit failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn commit_all(&self, message: &str) {
        let at = self.tick();
        self.commit_all_at(at, message);
    }

    /// `ipr init` by the admin, then the admin adds the standard users by
    /// editing the config and committing it with git.
    pub fn setup(&self) {
        self.setup_with("");
    }

    /// Like [`Repo::setup`], with extra config text (e.g. a `signing:`
    /// replacement is done by the caller through `edit_config`).
    pub fn setup_with(&self, extra_users: &str) {
        self.user(ADMIN);
        self.ipr(&["init", "--tenant", TENANT, "--tenant", "tenant-retail"])
            .success();
        self.edit_config(|c| {
            c.replace(
                "users:\n  ops-lead@example.com:\n    role: admin\n",
                &format!("{USERS}{extra_users}"),
            )
        });
        self.commit_all("config: add users");
    }

    pub fn edit_config(&self, f: impl FnOnce(&str) -> String) {
        let c = self.read(".ipr/config.yaml");
        let n = f(&c);
        assert_ne!(c, n, "config edit changed nothing");
        self.write(".ipr/config.yaml", &n);
    }

    /// `ipr create` as `email`; returns the new ID.
    pub fn create(&self, email: &str, impact: &str) -> String {
        self.user(email);
        let out = self.ipr(&create_args(impact)).success();
        String::from_utf8(out.get_output().stdout.clone())
            .unwrap()
            .trim()
            .to_string()
    }

    /// Where the ticket of `id` is.
    pub fn path_of(&self, id: &str) -> String {
        let files = self.git(&["ls-files", "requests"]);
        files
            .lines()
            .find(|l| l.ends_with(&format!("/{id}.yaml")))
            .unwrap_or_else(|| panic!("{id} not found in {files}"))
            .to_string()
    }

    pub fn ticket(&self, id: &str) -> Ticket {
        let path = self.path_of(id);
        Ticket::from_yaml(self.read(&path).as_bytes(), &path).unwrap()
    }

    /// Write a ticket where it belongs.
    pub fn put(&self, t: &Ticket) {
        self.write(&t.path(), &t.to_yaml());
    }

    /// Forge: write the ticket and commit it with git as `email` at `at`.
    pub fn forge(&self, email: &str, at: DateTime<Utc>, t: &Ticket, message: &str) {
        self.user(email);
        self.put(t);
        self.commit_all_at(at, message);
    }

    /// `ipr verify --format json ARGS`: exit code and the violations.
    pub fn verify(&self, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
        let mut all = vec!["verify", "--format", "json"];
        all.extend_from_slice(args);
        let out = self.ipr(&all).get_output().clone();
        let code = out.status.code().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let v: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, v)
    }

    /// The rule ids `ipr verify` reports, sorted and deduplicated, after
    /// checking that the exit code agrees with them.
    pub fn rules(&self) -> Vec<String> {
        let (code, v) = self.verify(&[]);
        let mut rules: Vec<String> = v
            .iter()
            .map(|x| x["rule"].as_str().unwrap().to_string())
            .collect();
        rules.sort();
        rules.dedup();
        assert_eq!(
            code,
            if rules.is_empty() { 0 } else { 7 },
            "exit code vs violations {v:#?}"
        );
        rules
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

/// The arguments of `ipr create` for a payment-api request of `impact`.
pub fn create_args(impact: &str) -> Vec<&str> {
    vec![
        "create",
        "--no-input",
        "--type",
        "api",
        "--name",
        "payment-api",
        "--version",
        "2.1.0",
        "--tenant",
        TENANT,
        "--impact",
        impact,
        "--justification",
        "New PCI-DSS compliant payment flow",
        "--rollback-plan",
        "Revert to v2.0.0 via emergency deploy",
        "--staging-tests-passed",
        "--security-scan-passed",
        "--evidence-url",
        "https://ci.example.com/pipeline/12345",
    ]
}

/// The ed25519 key of `email` under the test's HOME (made on first use):
/// the private key's path and its `email key` allowed-signers line.
pub fn ssh_key(r: &Repo, email: &str) -> (PathBuf, String) {
    let dir = r.home.join(".ssh");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(email.split('@').next().unwrap());
    if !path.exists() {
        let out = r
            .command("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", email, "-f"])
            .arg(&path)
            .output()
            .expect("ssh-keygen is required by the signing tests");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let public = std::fs::read_to_string(format!("{}.pub", path.display())).unwrap();
    let mut parts = public.split_whitespace();
    let line = format!(
        "{email} {} {}\n",
        parts.next().unwrap(),
        parts.next().unwrap()
    );
    (path, line)
}

/// A repo whose users sign with ssh keys.
pub struct Ssh {
    pub r: Repo,
    pub keys: std::collections::BTreeMap<&'static str, PathBuf>,
}

impl Ssh {
    /// A repo set up by the admin with ssh signing in git config,
    /// `signing.required: true`, and in .ipr/allowed_signers the keys of
    /// `listed`; the users in `unlisted` have keys nobody listed.
    pub fn new(listed: &[&'static str], unlisted: &[&'static str]) -> Ssh {
        let r = Repo::new();
        let mut keys = std::collections::BTreeMap::new();
        let mut allowed = String::new();
        for who in listed {
            let (path, line) = ssh_key(&r, who);
            keys.insert(*who, path);
            allowed.push_str(&line);
        }
        for who in unlisted {
            keys.insert(*who, ssh_key(&r, who).0);
        }
        r.git(&["config", "gpg.format", "ssh"]);
        r.git(&["config", "commit.gpgsign", "true"]);
        let signers = r.dir.join(".ipr/allowed_signers");
        r.git(&[
            "config",
            "gpg.ssh.allowedSignersFile",
            signers.to_str().unwrap(),
        ]);
        let s = Ssh { r, keys };
        s.act(ADMIN);
        s.r.ipr(&["init", "--tenant", TENANT]).success();
        s.r.edit_config(|c| {
            c.replace("users:\n  ops-lead@example.com:\n    role: admin\n", USERS)
                .replace("required: false", "required: true")
        });
        s.r.write(".ipr/allowed_signers", &allowed);
        // Committed with git, signed by git with the admin's key.
        s.r.commit_all("config: users, allowed signers, signing required");
        s
    }

    /// Act as `email`, signing with their own key.
    pub fn act(&self, email: &str) {
        self.act_with(email, &self.keys[email]);
    }

    /// Act as `email`, signing with `key`.
    pub fn act_with(&self, email: &str, key: &Path) {
        self.r.user(email);
        self.r
            .git(&["config", "user.signingkey", key.to_str().unwrap()]);
    }
}

/// Append an approval by `by` at `at` the way ipr writes one, with the
/// right digest; the request becomes approved if `completes` says so.
pub fn approve_by_hand(t: &mut Ticket, by: &str, at: DateTime<Utc>, completes: bool) {
    let mut e = HistoryEntry::new(Action::Approved, at, by);
    e.comment = Some("Looks good to me".into());
    e.digest = Some(spec_digest(&t.spec));
    t.status.history.push(e);
    if completes {
        t.status.state = State::Approved;
        t.status.approved_by = Some(by.to_string());
        t.status.approved_at = Some(at);
    }
}

/// Append a rejection by `by` at `at` the way ipr writes one.
pub fn reject_by_hand(t: &mut Ticket, by: &str, at: DateTime<Utc>, reason: &str) {
    let mut e = HistoryEntry::new(Action::Rejected, at, by);
    e.comment = Some(reason.into());
    t.status.history.push(e);
    t.status.state = State::Rejected;
    t.status.rejected_by = Some(by.to_string());
    t.status.rejected_at = Some(at);
    t.status.rejection_reason = Some(reason.into());
}

pub fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}
