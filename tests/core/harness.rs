//! A temp gitops repo and an `ipr` command builder with an isolated
//! environment: HOME in the temp dir, no global or system git config, the
//! clock pinned by IPR_NOW.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub const ADMIN: &str = "ops-lead@example.com";
pub const DEVOPS: &str = "pierre.durand@example.com";
pub const TADMIN: &str = "jean.dupont@example.com";
pub const TADMIN2: &str = "marie.curie@example.com";
pub const VIEWER: &str = "auditor@example.com";
pub const RETAIL_DEVOPS: &str = "rita.retail@example.com";
pub const RETAIL_TADMIN: &str = "tom.retail@example.com";
pub const STRANGER: &str = "nobody@example.com";
pub const NOW: &str = "2026-03-10T09:00:00Z";

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

pub struct Env {
    pub tmp: tempfile::TempDir,
    pub repo: PathBuf,
    pub now: String,
}

impl Env {
    /// An empty git repository on branch main.
    pub fn empty() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("gitops");
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        std::fs::create_dir_all(&repo).unwrap();
        let env = Env {
            tmp,
            repo,
            now: NOW.to_string(),
        };
        env.git(&["init", "-q", "-b", "main"]);
        env
    }

    /// A clone of `remote` (a bare repo path) on branch main.
    pub fn clone_of(remote: &Path) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("gitops");
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        let env = Env {
            tmp,
            repo,
            now: NOW.to_string(),
        };
        let mut cmd = Command::from_std(env.isolated("git"));
        let out = cmd
            .arg("clone")
            .arg("-q")
            .arg(remote)
            .arg(&env.repo)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        env
    }

    /// Push this repo's main to a new bare repo in its temp dir; returns its path.
    pub fn publish(&self) -> PathBuf {
        let bare = self.tmp.path().join("remote.git");
        let mut cmd = Command::from_std(self.isolated("git"));
        let out = cmd
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&bare)
            .output()
            .unwrap();
        assert!(out.status.success());
        self.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
        self.git(&["push", "-q", "-u", "origin", "main"]);
        bare
    }

    /// A repo set up by `ipr init` whose config is fixtures/config/team.yaml,
    /// committed by the admin with plain git.
    pub fn team() -> Env {
        let env = Env::empty();
        env.as_user(ADMIN);
        env.ipr(&["init", "--tenant", "tenant-finance"])
            .assert()
            .success();
        std::fs::copy(
            fixture("config/team.yaml"),
            env.repo.join(".ipr/config.yaml"),
        )
        .unwrap();
        env.git(&["add", ".ipr/config.yaml"]);
        env.git(&["commit", "-q", "-m", "config: team"]);
        env
    }

    /// Replace `.ipr/config.yaml` with `text` and commit it as the admin.
    pub fn set_config(&self, text: &str) {
        self.as_user(ADMIN);
        std::fs::write(self.repo.join(".ipr/config.yaml"), text).unwrap();
        self.git(&["add", ".ipr/config.yaml"]);
        self.git(&["commit", "-q", "-m", "config change"]);
    }

    /// The team config with `extra` YAML appended (e.g. a `runners:` block).
    pub fn team_config_with(&self, replace_runners: &str) -> String {
        let base = std::fs::read_to_string(fixture("config/team.yaml")).unwrap();
        base.replace("runners:\n  default: shell\n", replace_runners)
    }

    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    pub fn as_user(&self, email: &str) {
        self.git(&["config", "user.email", email]);
        self.git(&["config", "user.name", email.split('@').next().unwrap()]);
    }

    /// `program` in the isolated environment: HOME in the temp dir, no
    /// global or system git config, the clock pinned.
    pub fn isolated(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", self.home())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("IPR_NOW", &self.now)
            .env("NO_COLOR", "1")
            .env("TZ", "UTC");
        cmd
    }

    /// `ipr -C <repo> ARGS…`, with no terminal on stdin.
    pub fn ipr(&self, args: &[&str]) -> Command {
        self.ipr_at(&self.repo, args)
    }

    /// `ipr -C <dir> ARGS…`.
    pub fn ipr_at(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::from_std(self.isolated(assert_cmd::cargo::cargo_bin("ipr")));
        cmd.arg("-C").arg(dir).args(args);
        cmd
    }

    /// `ipr -C <repo> ARGS…` as a std Command, to spawn (and kill).
    pub fn ipr_process(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.isolated(assert_cmd::cargo::cargo_bin("ipr"));
        cmd.arg("-C").arg(&self.repo).args(args);
        cmd
    }

    /// Run `ipr` and return the output, whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.ipr(args).output().unwrap()
    }

    /// The real git binary, in the repo. Panics unless it succeeds.
    pub fn git(&self, args: &[&str]) -> String {
        let mut cmd = Command::from_std(self.isolated("git"));
        let out = cmd.current_dir(&self.repo).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    pub fn commit_count(&self) -> usize {
        self.git(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .unwrap()
    }

    /// `git fsck --strict` must be clean.
    pub fn fsck(&self) {
        let out = self.git(&["fsck", "--strict", "--no-dangling"]);
        assert!(out.trim().is_empty(), "git fsck: {out}");
    }

    /// `git status --porcelain` (untracked files included).
    pub fn status(&self) -> String {
        self.git(&["status", "--porcelain", "--untracked-files=all"])
    }

    /// Create a valid request of `impact` as `email`; returns its ID.
    pub fn create_as(&self, email: &str, impact: &str) -> String {
        self.as_user(email);
        let mut args = valid_create_args();
        args.extend_from_slice(&["--impact", impact]);
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// The ticket file's content as committed at HEAD.
    pub fn ticket_at_head(&self, id: &str) -> String {
        let path = self.ticket_path(id);
        self.git(&["show", &format!("HEAD:{path}")])
    }

    /// `requests/prod/YYYY/MM/ID.yaml` as git lists it.
    pub fn ticket_path(&self, id: &str) -> String {
        let files = self.git(&["ls-files", "requests/prod"]);
        files
            .lines()
            .find(|l| l.ends_with(&format!("/{id}.yaml")))
            .unwrap_or_else(|| panic!("{id} not in {files}"))
            .to_string()
    }

    pub fn state(&self, id: &str) -> String {
        let text = self.ticket_at_head(id);
        let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
        v["status"]["state"].as_str().unwrap().to_string()
    }
}

/// Flags of a valid `ipr create` for tenant-finance, without --impact.
pub fn valid_create_args() -> Vec<&'static str> {
    vec![
        "create",
        "--type",
        "api",
        "--name",
        "payment-api",
        "--version",
        "2.1.0",
        "--tenant",
        "tenant-finance",
        "--justification",
        "New PCI-DSS compliant payment flow",
        "--rollback-plan",
        "Revert to v2.0.0 via emergency deploy",
        "--staging-tests-passed",
        "--security-scan-passed",
        "--evidence-url",
        "https://ci.example.com/pipeline/12345",
        "--no-input",
    ]
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Assert an exit code and that stderr has an `error:` line containing `needle`.
pub fn assert_error(out: &Output, code: i32, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("error: ") && l.contains(needle)),
        "expected an error line with {needle:?}, got: {err}"
    );
}
