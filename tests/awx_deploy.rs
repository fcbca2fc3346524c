//! `ipr deploy` end to end through the AWX runner: the real ipr binary, a
//! real git repo, and a fake AWX.
//!
//! AWX cannot run on this machine, so an in-process HTTP server (wiremock)
//! answers as AWX's documented `/api/v2/` contract does: 201 with `job` on
//! launch, job JSON with `status`, `failed` and `job_explanation` on reads.
//! The tests synchronise on requests the server receives (channels), never
//! on time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "awx-TOKEN-9f8e7d6c5b4a-must-never-leak";
const TOKEN_ENV: &str = "IPR_AWX_TOKEN";
const ADMIN: &str = "ops-lead@example.com";
const DEVOPS: &str = "pierre.durand@example.com";
const TADMIN: &str = "jean.dupont@example.com";

/// The job: `running` until `finish` is set, then `final_status`. Each read
/// is announced on `reads`.
struct Job {
    finish: Arc<AtomicBool>,
    /// When not 0, job reads answer this HTTP status instead.
    refuse: Arc<AtomicU16>,
    final_status: &'static str,
    explanation: &'static str,
    reads: Mutex<mpsc::Sender<()>>,
}

impl Respond for Job {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if !authorized(request) {
            return ResponseTemplate::new(401).set_body_json(json!({"detail": "Invalid token."}));
        }
        let _ = self.reads.lock().unwrap().send(());
        let refuse = self.refuse.load(Ordering::SeqCst);
        if refuse != 0 {
            return ResponseTemplate::new(refuse).set_body_json(json!({"detail": "refused"}));
        }
        let status = if self.finish.load(Ordering::SeqCst) {
            self.final_status
        } else {
            "running"
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "id": 42, "type": "job", "status": status,
            "failed": matches!(status, "failed" | "error" | "canceled"),
            "job_explanation": if status == "running" { "" } else { self.explanation },
            "job_template": 7,
        }))
    }
}

struct Launch {
    count: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Respond for Launch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if !authorized(request) {
            return ResponseTemplate::new(401).set_body_json(json!({"detail": "Invalid token."}));
        }
        self.count.fetch_add(1, Ordering::SeqCst);
        self.bodies
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&request.body).unwrap());
        ResponseTemplate::new(201).set_body_json(json!({
            "job": 42, "id": 42, "type": "job", "status": "pending",
            "ignored_fields": {}, "job_template": 7,
        }))
    }
}

fn authorized(request: &Request) -> bool {
    request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"))
}

struct Fake {
    _rt: tokio::runtime::Runtime,
    server: MockServer,
    finish: Arc<AtomicBool>,
    refuse: Arc<AtomicU16>,
    launches: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    reads: mpsc::Receiver<()>,
}

fn fake_awx(final_status: &'static str, explanation: &'static str) -> Fake {
    fake_awx_on(None, final_status, explanation)
}

/// A fake AWX, on `listener` when given (to come back on the same port).
fn fake_awx_on(
    listener: Option<std::net::TcpListener>,
    final_status: &'static str,
    explanation: &'static str,
) -> Fake {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = match listener {
        Some(l) => rt.block_on(MockServer::builder().listener(l).start()),
        None => rt.block_on(MockServer::start()),
    };
    let finish = Arc::new(AtomicBool::new(false));
    let refuse = Arc::new(AtomicU16::new(0));
    let launches = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (tx, reads) = mpsc::channel();
    rt.block_on(
        Mock::given(method("POST"))
            .and(path("/api/v2/job_templates/7/launch/"))
            .respond_with(Launch {
                count: launches.clone(),
                bodies: bodies.clone(),
            })
            .mount(&server),
    );
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/api/v2/jobs/42/"))
            .respond_with(Job {
                finish: finish.clone(),
                refuse: refuse.clone(),
                final_status,
                explanation,
                reads: Mutex::new(tx),
            })
            .mount(&server),
    );
    Fake {
        _rt: rt,
        server,
        finish,
        refuse,
        launches,
        bodies,
        reads,
    }
}

struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
}

impl Repo {
    fn new(awx_url: &str, timeout: &str) -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("gitops");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let r = Repo {
            _tmp: tmp,
            dir,
            home,
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.user(ADMIN);
        assert!(r
            .ipr(&["init", "--tenant", "tenant-finance"])
            .status
            .success());
        let config = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/team.yaml"),
        )
        .unwrap()
        .replace(
            "runners:\n  default: shell\n",
            &format!(
                "runners:\n  default: awx\n  definitions:\n    awx:\n      kind: awx\n      url: {awx_url}\n      tokenEnv: {TOKEN_ENV}\n      jobTemplates: {{ default: 7 }}\n      pollInterval: 10ms\n      maxPollInterval: 20ms\n      timeout: {timeout}\n"
            ),
        );
        std::fs::write(r.dir.join(".ipr/config.yaml"), config).unwrap();
        r.git(&["commit", "-qam", "awx runner"]);
        r
    }

    fn cmd(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("IPR_NOW", "2026-03-10T09:00:00Z")
            .env(TOKEN_ENV, TOKEN)
            .current_dir(&self.dir);
        c
    }

    fn ipr_cmd(&self, args: &[&str]) -> Command {
        let mut c = self.cmd(&assert_cmd::cargo::cargo_bin("ipr"));
        c.args(args);
        c
    }

    fn ipr(&self, args: &[&str]) -> Output {
        self.ipr_cmd(args).output().unwrap()
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self.cmd(Path::new("git")).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn user(&self, email: &str) {
        self.git(&["config", "user.email", email]);
        self.git(&["config", "user.name", email.split('@').next().unwrap()]);
    }

    /// A low-impact request by DEVOPS, approved by TADMIN.
    fn approved(&self) -> String {
        self.user(DEVOPS);
        let out = self.ipr(&[
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
            "New PCI-DSS compliant payment flow",
            "--rollback-plan",
            "Revert to v2.0.0",
            "--staging-tests-passed",
            "--security-scan-passed",
            "--evidence-url",
            "https://ci.example.com/1",
            "-q",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
        self.user(TADMIN);
        assert!(self.ipr(&["approve", &id]).status.success());
        self.user(DEVOPS);
        id
    }

    fn ticket(&self, id: &str) -> ipr::model::Ticket {
        let path = self.git(&["ls-files", "requests"]);
        let path = path.lines().find(|l| l.contains(id)).unwrap();
        let text = self.git(&["show", &format!("HEAD:{path}")]);
        ipr::model::Ticket::from_yaml(text.as_bytes(), path).unwrap()
    }

    /// Everything git holds: every commit with its patch, and the work tree.
    fn everything(&self) -> String {
        let mut all = self.git(&["log", "--all", "-p", "--format=%H %an %ae%n%B"]);
        all.push_str(&self.git(&["grep", "-h", "-e", ".", "--", "."]));
        all
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn killed_while_polling_then_resumed_without_a_second_launch() {
    let fake = fake_awx("successful", "");
    let repo = Repo::new(&fake.server.uri(), "10m");
    let id = repo.approved();

    let mut child = repo
        .ipr_cmd(&["deploy", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // ipr polls the job only after committing `deploying`.
    fake.reads
        .recv_timeout(Duration::from_secs(60))
        .expect("ipr polls the job");
    child.kill().unwrap();
    let killed = child.wait_with_output().unwrap();
    assert!(!killed.status.success());

    let t = repo.ticket(&id);
    assert_eq!(t.status.state, ipr::model::State::Deploying);
    let start = t.last_entry();
    assert_eq!(start.runner.as_deref(), Some("awx"));
    assert_eq!(start.job_id.as_deref(), Some("awx-job-42"));
    assert_eq!(fake.launches.load(Ordering::SeqCst), 1);
    let body = &fake.bodies.lock().unwrap()[0];
    assert_eq!(body["extra_vars"]["ipr_request_id"], id.as_str());
    assert_eq!(body["extra_vars"]["ipr_target_version"], "2.1.0");
    assert_eq!(body["extra_vars"]["ipr_target_environment"], "prod");

    fake.finish.store(true, Ordering::SeqCst);
    let resumed = repo.ipr(&["deploy", &id]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert_eq!(
        fake.launches.load(Ordering::SeqCst),
        1,
        "resume never launches again"
    );
    let t = repo.ticket(&id);
    assert_eq!(t.status.state, ipr::model::State::Deployed);
    let done = t.last_entry();
    assert_eq!(done.job_id.as_deref(), Some("awx-job-42"));
    assert_eq!(done.deployment_id.as_deref(), Some("awx-job-42"));
    let deploying = t
        .status
        .history
        .iter()
        .filter(|e| e.action == ipr::model::Action::Deploying)
        .count();
    assert_eq!(deploying, 1);

    for output in [text(&killed), text(&resumed), repo.everything()] {
        assert!(!output.contains(TOKEN), "the token leaked");
    }
    let fsck = repo.git(&["fsck", "--strict", "--no-dangling"]);
    assert!(fsck.trim().is_empty(), "{fsck}");
}

#[test]
fn a_failed_job_records_status_and_explanation_and_exits_8() {
    let fake = fake_awx("failed", "Playbook failed: unreachable host db-3");
    fake.finish.store(true, Ordering::SeqCst);
    let repo = Repo::new(&fake.server.uri(), "10m");
    let id = repo.approved();
    let out = repo.ipr(&["deploy", &id]);
    assert_eq!(out.status.code(), Some(8), "{}", text(&out));
    assert!(text(&out).contains("error: deployment of"));
    let t = repo.ticket(&id);
    assert_eq!(t.status.state, ipr::model::State::Failed);
    let err = t.last_entry().error.clone().unwrap();
    assert!(err.contains("failed"), "{err}");
    assert!(
        err.contains("Playbook failed: unreachable host db-3"),
        "{err}"
    );
    assert!(!repo.everything().contains(TOKEN));
}

#[test]
fn no_wait_then_record_from_a_callback() {
    let fake = fake_awx("successful", "");
    let repo = Repo::new(&fake.server.uri(), "10m");
    let id = repo.approved();
    let out = repo.ipr(&["deploy", &id, "--no-wait"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!(
        "ipr record {id} --status successful|failed --job-id awx-job-42"
    )));
    assert_eq!(repo.ticket(&id).status.state, ipr::model::State::Deploying);
    assert!(fake.reads.try_recv().is_err(), "--no-wait does not poll");
    let bad = repo.ipr(&[
        "record",
        &id,
        "--status",
        "successful",
        "--job-id",
        "awx-job-41",
    ]);
    assert_eq!(bad.status.code(), Some(5));
    let ok = repo.ipr(&[
        "record",
        &id,
        "--status",
        "successful",
        "--job-id",
        "awx-job-42",
    ]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert_eq!(repo.ticket(&id).status.state, ipr::model::State::Deployed);
}

#[test]
fn a_job_that_never_ends_leaves_the_ticket_deploying() {
    let fake = fake_awx("successful", "");
    let repo = Repo::new(&fake.server.uri(), "300ms");
    let id = repo.approved();
    let out = repo.ipr(&["deploy", &id]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("awx-job-42"), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("run `ipr deploy {id}` again to resume")),
        "{}",
        text(&out)
    );
    assert_eq!(repo.ticket(&id).status.state, ipr::model::State::Deploying);
    assert!(!text(&out).contains(TOKEN));
}

#[test]
fn dry_run_shows_the_launch_without_the_token() {
    let fake = fake_awx("successful", "");
    let repo = Repo::new(&fake.server.uri(), "10m");
    let id = repo.approved();
    let out = repo.ipr(&["deploy", &id, "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains("/api/v2/job_templates/7/launch/"), "{shown}");
    assert!(shown.contains(TOKEN_ENV), "{shown}");
    assert!(!shown.contains(TOKEN));
    assert_eq!(fake.launches.load(Ordering::SeqCst), 0);
    assert_eq!(repo.ticket(&id).status.state, ipr::model::State::Approved);
}

/// While ipr watches a launched job, AWX answers a poll with `status`
/// (token rotated, proxy hiccup, job hidden): the ticket stays deploying
/// with its job, and the next `ipr deploy` resumes watching that job
/// instead of launching the template a second time.
fn a_refused_poll_never_leads_to_a_second_launch(status: u16) {
    let fake = fake_awx("successful", "");
    let repo = Repo::new(&fake.server.uri(), "10m");
    let id = repo.approved();
    fake.refuse.store(status, Ordering::SeqCst);
    let out = repo.ipr(&["deploy", &id]);
    assert_eq!(out.status.code(), Some(1), "{status}: {}", text(&out));
    assert!(
        text(&out).contains("may still be running"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains(&format!("run `ipr deploy {id}` again")),
        "{}",
        text(&out)
    );
    let t = repo.ticket(&id);
    assert_eq!(t.status.state, ipr::model::State::Deploying, "{status}");
    assert_eq!(t.last_entry().job_id.as_deref(), Some("awx-job-42"));
    assert_eq!(fake.launches.load(Ordering::SeqCst), 1);

    fake.refuse.store(0, Ordering::SeqCst);
    fake.finish.store(true, Ordering::SeqCst);
    let resumed = repo.ipr(&["deploy", &id]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert_eq!(fake.launches.load(Ordering::SeqCst), 1, "launched twice");
    assert_eq!(repo.ticket(&id).status.state, ipr::model::State::Deployed);
    assert!(!text(&out).contains(TOKEN) && !repo.everything().contains(TOKEN));
}

#[test]
fn poll_answered_401_leaves_the_job_deploying_and_never_launches_twice() {
    a_refused_poll_never_leads_to_a_second_launch(401);
}

#[test]
fn poll_answered_403_leaves_the_job_deploying_and_never_launches_twice() {
    a_refused_poll_never_leads_to_a_second_launch(403);
}

#[test]
fn poll_answered_404_leaves_the_job_deploying_and_never_launches_twice() {
    a_refused_poll_never_leads_to_a_second_launch(404);
}

#[test]
fn connection_lost_while_polling_leaves_the_job_deploying_and_never_launches_twice() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = fake_awx_on(Some(listener), "successful", "");
    let repo = Repo::new(&fake.server.uri(), "10m");
    let id = repo.approved();
    let child = repo
        .ipr_cmd(&["deploy", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The job is launched and watched; then AWX goes away.
    fake.reads
        .recv_timeout(Duration::from_secs(60))
        .expect("ipr polls the job");
    assert_eq!(fake.launches.load(Ordering::SeqCst), 1);
    drop(fake);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("may still be running"),
        "{}",
        text(&out)
    );
    assert_eq!(repo.ticket(&id).status.state, ipr::model::State::Deploying);

    // AWX is back, on the same address; the job has finished meanwhile.
    let back = fake_awx_on(
        Some(std::net::TcpListener::bind(addr).unwrap()),
        "successful",
        "",
    );
    back.finish.store(true, Ordering::SeqCst);
    let resumed = repo.ipr(&["deploy", &id]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert_eq!(back.launches.load(Ordering::SeqCst), 0, "launched again");
    assert_eq!(repo.ticket(&id).status.state, ipr::model::State::Deployed);
}
