//! The harness of the server's tests: a team repository with a token per
//! user, and `ipr serve` run as its own process on a free port.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use reqwest::blocking::Client;
use serde_json::{json, Value};

pub const ADMIN: &str = "ops-lead@example.com";
pub const DEVOPS: &str = "pierre.durand@example.com";
pub const TADMIN: &str = "jean.dupont@example.com";
pub const TADMIN2: &str = "marie.curie@example.com";
pub const RITA: &str = "rita.retail@example.com";

pub fn ipr() -> PathBuf {
    assert_cmd::cargo::cargo_bin("ipr")
}

pub fn isolated(program: impl AsRef<std::ffi::OsStr>, home: &Path) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    c
}

pub struct Repo {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    /// email -> token
    pub tokens: Vec<(String, String)>,
}

impl Repo {
    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = isolated("git", &self.home())
            .current_dir(dir)
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

    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.dir, args)
    }

    pub fn ipr_in(&self, dir: &Path, user: &str, args: &[&str]) -> std::process::Output {
        self.git_in(dir, &["config", "user.email", user]);
        isolated(ipr(), &self.home())
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .unwrap()
    }

    pub fn ipr(&self, user: &str, args: &[&str]) -> std::process::Output {
        self.ipr_in(&self.dir, user, args)
    }

    pub fn token(&self, email: &str) -> &str {
        &self.tokens.iter().find(|(e, _)| e == email).unwrap().1
    }

    /// The team config and a token for each of these users, committed by
    /// the admin.
    pub fn team(extra: &str) -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("gitops");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        let mut r = Repo {
            tmp,
            dir,
            tokens: Vec::new(),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "user.name", "ops"]);
        assert!(r
            .ipr(ADMIN, &["init", "--tenant", "tenant-finance"])
            .status
            .success());
        let mut lines = String::new();
        for email in [ADMIN, DEVOPS, TADMIN, TADMIN2, RITA] {
            let out = r.ipr(ADMIN, &["token", "new", email]);
            assert!(out.status.success());
            let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
            let note = String::from_utf8(out.stderr).unwrap();
            let line = note
                .lines()
                .find(|l| l.contains("sha256:"))
                .unwrap()
                .trim()
                .to_string();
            assert!(
                !note.contains(&token),
                "the token is printed once, on stdout"
            );
            lines.push_str(&format!("    {line}\n"));
            r.tokens.push((email.to_string(), token));
        }
        let config = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/team.yaml"),
        )
        .unwrap();
        std::fs::write(
            r.dir.join(".ipr/config.yaml"),
            format!("{config}server:\n  tokens:\n{lines}{extra}"),
        )
        .unwrap();
        r.git(&["add", ".ipr/config.yaml"]);
        r.git(&[
            "-c",
            &format!("user.email={ADMIN}"),
            "commit",
            "-q",
            "-m",
            "server tokens",
        ]);
        r
    }
}

/// `ipr serve --listen 127.0.0.1:0` in `dir`; stopped when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub fn start(repo: &Repo, dir: &Path) -> Server {
        Server::start_with(repo, dir, &[])
    }

    /// [`Server::start`] with these environment variables.
    pub fn start_with(repo: &Repo, dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut cmd = isolated(ipr(), &repo.home());
        cmd.arg("-C")
            .arg(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .envs(env.iter().copied());
        Server::spawn(cmd)
    }

    /// Wait for the server's log to have a line containing `text`; the
    /// log so far if it does not within 30 s.
    pub fn wait_for_log(&self, text: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if self.log.lock().unwrap().contains(text) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no `{text}` in the log:\n{}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Wait for request `id` to reach `state` (a background deploy).
    pub fn wait_for_state(&self, token: &str, id: &str, state: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (_, t) = self.get(Some(token), &format!("/v1/requests/prod/{id}"));
            if t["status"]["state"] == state {
                return t;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{id} is still {} (not {state}); log:\n{}",
                t["status"]["state"],
                self.log.lock().unwrap()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first}"))
            .to_string();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for l in lines.map_while(|l| l.ok()) {
                sink.lock().unwrap().push_str(&(l + "\n"));
            }
        });
        Server { child, url, log }
    }

    pub fn get(&self, token: Option<&str>, path: &str) -> (u16, Value) {
        let mut r = Client::new().get(format!("{}{path}", self.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        answer(r.send().unwrap())
    }

    pub fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let r = Client::new()
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap();
        answer(r)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn answer(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn new_request() -> Value {
    json!({
        "tenant": "tenant-finance",
        "target": {"type": "api", "name": "payment-api", "version": "2.1.0",
                   "sourceEnvironment": "staging", "targetEnvironment": "prod"},
        "request": {"justification": "New PCI-DSS compliant payment flow", "releaseNotes": null,
                    "impactAssessment": "high", "rollbackPlan": "Revert to v2.0.0 via emergency deploy",
                    "scheduledDate": null},
        "preChecks": {"stagingTestsPassed": true, "securityScanPassed": true,
                      "testEvidenceUrl": "https://ci.example.com/pipeline/12345"}
    })
}

pub fn cli_json(repo: &Repo, user: &str, args: &[&str]) -> Value {
    let out = repo.ipr(user, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
