//! Deploys through `ipr serve`: 202 once `deploying` is committed, the job
//! watched by the server (and again after a restart), and AWX's
//! job-complete webhook recording an outcome once.
//!
//! AWX cannot run on this machine: an in-process HTTP server (wiremock)
//! answers as AWX's documented `/api/v2/` contract does (201 with `job` on
//! launch; job JSON with `status` and `failed`), and the webhook is sent
//! as AWX's webhook notification type sends it (the job as JSON, `id` and
//! `status`, with basic auth or a custom header).

mod server_support;

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use reqwest::blocking::Client;
use serde_json::{json, Value};
use server_support::*;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const AWX_TOKEN: &str = "awx-TOKEN-5e4d3c2b1a-never-in-a-commit";
const SECRET: &str = "webhook-SECRET-0a1b2c3d4e5f-never-logged";

/// Launches hand out jobs 42, 43, ...; a job reads `running` until it is
/// in `finished`, then `successful`. Every read is announced on `reads`.
struct FakeAwx {
    _rt: tokio::runtime::Runtime,
    server: MockServer,
    finished: Arc<Mutex<HashSet<u64>>>,
    launches: Arc<AtomicU64>,
    reads: mpsc::Receiver<u64>,
}

struct Launch(Arc<AtomicU64>);

impl Respond for Launch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if !authorized(request) {
            return ResponseTemplate::new(401).set_body_json(json!({"detail": "Invalid token."}));
        }
        let job = 42 + self.0.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(201)
            .set_body_json(json!({"job": job, "id": job, "type": "job", "status": "pending"}))
    }
}

struct Job {
    finished: Arc<Mutex<HashSet<u64>>>,
    reads: Mutex<mpsc::Sender<u64>>,
}

impl Respond for Job {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if !authorized(request) {
            return ResponseTemplate::new(401).set_body_json(json!({"detail": "Invalid token."}));
        }
        let job: u64 = request
            .url
            .path()
            .split('/')
            .nth(4)
            .unwrap()
            .parse()
            .unwrap();
        let _ = self.reads.lock().unwrap().send(job);
        let status = if self.finished.lock().unwrap().contains(&job) {
            "successful"
        } else {
            "running"
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "id": job, "type": "job", "status": status, "failed": false,
            "job_explanation": "",
        }))
    }
}

fn authorized(request: &Request) -> bool {
    request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {AWX_TOKEN}"))
}

fn fake_awx() -> FakeAwx {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::start());
    let finished = Arc::new(Mutex::new(HashSet::new()));
    let launches = Arc::new(AtomicU64::new(0));
    let (tx, reads) = mpsc::channel();
    rt.block_on(
        Mock::given(method("POST"))
            .and(path("/api/v2/job_templates/7/launch/"))
            .respond_with(Launch(launches.clone()))
            .mount(&server),
    );
    rt.block_on(
        Mock::given(method("GET"))
            .and(path_regex(r"^/api/v2/jobs/[0-9]+/$"))
            .respond_with(Job {
                finished: finished.clone(),
                reads: Mutex::new(tx),
            })
            .mount(&server),
    );
    FakeAwx {
        _rt: rt,
        server,
        finished,
        launches,
        reads,
    }
}

/// A receiver of webhook notifications: the CloudEvent types it got.
struct Events {
    _rt: tokio::runtime::Runtime,
    server: MockServer,
    types: Arc<Mutex<Vec<String>>>,
}

struct Record(Arc<Mutex<Vec<String>>>);

impl Respond for Record {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let event: Value = serde_json::from_slice(&request.body).unwrap();
        self.0
            .lock()
            .unwrap()
            .push(event["type"].as_str().unwrap().to_string());
        ResponseTemplate::new(200)
    }
}

fn events() -> Events {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::start());
    let types = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(
        Mock::given(method("POST"))
            .and(path("/events"))
            .respond_with(Record(types.clone()))
            .mount(&server),
    );
    Events {
        _rt: rt,
        server,
        types,
    }
}

/// The team repository with `runners` in place of the shell default.
fn repo_with_runners(runners: &str, server_extra: &str) -> Repo {
    repo_with(runners, "notifications: []\n", server_extra)
}

/// ... and `notifications` in place of none.
fn repo_with(runners: &str, notifications: &str, server_extra: &str) -> Repo {
    let repo = Repo::team(server_extra);
    let path = repo.dir.join(".ipr/config.yaml");
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("runners:\n  default: shell\n", runners)
        .replace("notifications: []\n", notifications);
    std::fs::write(&path, config).unwrap();
    repo.git(&[
        "-c",
        &format!("user.email={ADMIN}"),
        "commit",
        "-q",
        "-am",
        "runners",
    ]);
    repo
}

/// A low-impact request filed by DEVOPS and approved by TADMIN.
fn approved(server: &Server, repo: &Repo) -> String {
    let mut low = new_request();
    low["request"]["impactAssessment"] = json!("low");
    let (status, created) = server.post(repo.token(DEVOPS), "/v1/requests/prod", low);
    assert_eq!(status, 201, "{created}");
    let id = created["metadata"]["id"].as_str().unwrap().to_string();
    let (status, t) = server.post(
        repo.token(TADMIN),
        &format!("/v1/requests/prod/{id}/approve"),
        json!({}),
    );
    assert_eq!(status, 200, "{t}");
    id
}

fn kill(server: &Server, signal: &str) {
    assert!(Command::new("kill")
        .args([signal, &server.child.id().to_string()])
        .status()
        .unwrap()
        .success());
}

/// `POST /deploy` answers 202 while a local job still runs; a SIGTERM
/// then waits for the job and its outcome before the server exits. Every
/// transition the server lands is notified (SPEC §9).
#[test]
fn deploy_answers_202_and_a_sigterm_waits_for_the_local_job() {
    let receiver = events();
    let gate = tempfile::tempdir().unwrap();
    let go = gate.path().join("go");
    let runners = format!(
        "runners:\n  default: gated\n  definitions:\n    gated: {{ kind: shell, command: 'while [ ! -f {} ]; do sleep 0.05; done; echo done', timeout: 60s }}\n",
        go.display()
    );
    let notifications = format!(
        "notifications:\n  - name: audit\n    kind: webhook\n    url: {}/events\n",
        receiver.server.uri()
    );
    let repo = repo_with(&runners, &notifications, "");
    let mut server = Server::start(&repo, &repo.dir);
    let mut low = new_request();
    low["request"]["impactAssessment"] = json!("low");
    let (_, created) = server.post(repo.token(DEVOPS), "/v1/requests/prod", low);
    let id = created["metadata"]["id"].as_str().unwrap().to_string();
    let path = |verb: &str| format!("/v1/requests/prod/{id}/{verb}");
    // Not approved yet: refused as the CLI refuses it, and nothing runs.
    let (status, e) = server.post(repo.token(DEVOPS), &path("deploy"), json!({}));
    assert_eq!((status, e["code"].as_str()), (409, Some("conflict")), "{e}");
    assert_eq!(
        server
            .post(repo.token(TADMIN), &path("approve"), json!({}))
            .0,
        200
    );
    // A tenant admin of another tenant may not deploy it.
    assert_eq!(
        server.post(repo.token(RITA), &path("deploy"), json!({})).0,
        403
    );
    let (status, plan) = server.post(repo.token(DEVOPS), &path("deploy"), json!({"dryRun": true}));
    assert_eq!(
        (status, plan["runner"].clone()),
        (200, json!("gated")),
        "{plan}"
    );
    assert!(plan["plan"].as_str().unwrap().contains("while"), "{plan}");
    let (status, e) = server.post(repo.token(DEVOPS), &path("deploy"), json!({"dry": 1}));
    assert_eq!(status, 400, "{e}");

    let (status, t) = server.post(repo.token(DEVOPS), &path("deploy"), json!({}));
    assert_eq!(
        (status, t["status"]["state"].clone()),
        (202, json!("deploying")),
        "{t}"
    );
    // The job waits for the gate: the ticket says deploying, and the
    // metrics count the deploy.
    let (_, now) = server.get(Some(repo.token(DEVOPS)), &format!("/v1/requests/prod/{id}"));
    assert_eq!(now["status"]["state"], "deploying");
    let metrics = Client::new()
        .get(format!("{}/metrics", server.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(metrics.contains("ipr_deploys_running 1"), "{metrics}");
    assert!(
        metrics.contains(
            r#"ipr_http_requests_total{method="POST",route="/v1/requests/prod/{id}/deploy",status="202"} 1"#
        ),
        "{metrics}"
    );

    kill(&server, "-TERM");
    server.wait_for_log("waiting for 1 deploy(s) to finish");
    std::fs::write(&go, "").unwrap();
    let status = server.child.wait().unwrap();
    assert!(
        status.success(),
        "{status:?}\n{}",
        server.log.lock().unwrap()
    );
    let log = repo.git(&["log", "-1", "--format=%s|%ae|%B"]);
    assert!(
        log.starts_with(&format!("ipr: deployed {id}|{DEVOPS}")),
        "{log}"
    );
    assert!(log.contains("Ipr-Via: server"), "{log}");
    let out = repo.ipr(ADMIN, &["verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        *receiver.types.lock().unwrap(),
        [
            "request-created",
            "request-approved",
            "deployment-started",
            "deployment-succeeded"
        ]
    );
}

/// An AWX job started by one server is watched by the next after a
/// crash, with no second launch; AWX's webhook records an outcome once,
/// refuses the wrong secret, and answers 409 for a job it cannot match.
#[test]
fn awx_jobs_survive_a_restart_and_the_webhook_records_once() {
    let awx = fake_awx();
    let runners = format!(
        "runners:\n  default: awx\n  definitions:\n    awx:\n      kind: awx\n      url: {}\n      tokenEnv: IPR_AWX_TOKEN\n      jobTemplates: {{ default: 7 }}\n      pollInterval: 10ms\n      maxPollInterval: 20ms\n      timeout: 10m\n",
        awx.server.uri()
    );
    let repo = repo_with_runners(&runners, "  awxWebhookSecretEnv: IPR_AWX_WEBHOOK_SECRET\n");
    let env = [
        ("IPR_AWX_TOKEN", AWX_TOKEN),
        ("IPR_AWX_WEBHOOK_SECRET", SECRET),
    ];
    let first = Server::start_with(&repo, &repo.dir, &env);
    let a = approved(&first, &repo);
    let b = approved(&first, &repo);
    let (status, t) = first.post(
        repo.token(DEVOPS),
        &format!("/v1/requests/prod/{a}/deploy"),
        json!({}),
    );
    assert_eq!(status, 202, "{t}");
    let entry = t["status"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(entry["jobId"], "awx-job-42", "{t}");
    // The server watches the job; it crashes while the job runs.
    assert_eq!(awx.reads.recv().unwrap(), 42);
    kill(&first, "-KILL");
    drop(first);

    // B is started from a terminal with --no-wait: AWX's webhook will say
    // how it ended.
    repo.git(&["config", "user.email", DEVOPS]);
    let out = isolated(ipr(), &repo.home())
        .current_dir(&repo.dir)
        .env("IPR_AWX_TOKEN", AWX_TOKEN)
        .args(["deploy", &b, "--no-wait"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    awx.finished.lock().unwrap().insert(42);
    let second = Server::start_with(&repo, &repo.dir, &env);
    second.wait_for_log(&format!("deploy {a}: watching its job again"));
    let t = second.wait_for_state(repo.token(DEVOPS), &a, "deployed");
    assert_eq!(awx.launches.load(Ordering::SeqCst), 2, "{t}");

    let hook = |auth: Option<(&str, &str)>, header: Option<&str>, body: Value| {
        let mut r = Client::new()
            .post(format!("{}/webhooks/awx/job-complete", second.url))
            .json(&body);
        if let Some((user, password)) = auth {
            r = r.basic_auth(user, Some(password));
        }
        if let Some(secret) = header {
            r = r.header("X-Ipr-Webhook-Secret", secret);
        }
        let r = r.send().unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().unwrap())
    };
    let job = |id: u64, status: &str| {
        json!({"id": id, "name": "deploy", "url": "https://awx.example.com/#/jobs/playbook/1",
               "created_by": "admin", "status": status, "traceback": "", "extra_vars": "{}"})
    };
    // No secret, or the wrong one: 401, nothing recorded.
    assert_eq!(hook(None, None, job(43, "failed")).0, 401);
    assert_eq!(hook(Some(("awx", "guess")), None, job(43, "failed")).0, 401);
    assert_eq!(hook(None, Some("guess"), job(43, "failed")).0, 401);
    // A job still running records nothing; a malformed body is a 400.
    let (status, r) = hook(None, Some(SECRET), job(43, "running"));
    assert_eq!((status, r["recorded"].clone()), (202, json!(false)), "{r}");
    assert_eq!(hook(None, Some(SECRET), json!({"status": "failed"})).0, 400);
    // B's job failed: recorded once, for the user who deployed it.
    let (status, r) = hook(Some(("awx", SECRET)), None, job(43, "failed"));
    assert_eq!((status, r["recorded"].clone()), (200, json!(true)), "{r}");
    assert_eq!(r["ticket"]["status"]["state"], "failed", "{r}");
    let (status, r) = hook(Some(("awx", SECRET)), None, job(43, "failed"));
    assert_eq!((status, r["recorded"].clone()), (200, json!(false)), "{r}");
    // A's job was recorded by the watcher: the webhook agrees, or conflicts.
    let (status, r) = hook(None, Some(SECRET), job(42, "successful"));
    assert_eq!((status, r["recorded"].clone()), (200, json!(false)), "{r}");
    let (status, r) = hook(None, Some(SECRET), job(42, "failed"));
    assert_eq!((status, r["code"].clone()), (409, json!("conflict")), "{r}");
    // A job no request deploys.
    let (status, r) = hook(None, Some(SECRET), job(99, "successful"));
    assert_eq!((status, r["code"].clone()), (409, json!("conflict")), "{r}");

    let log = repo.git(&[
        "log",
        "--format=%s|%ae|%(trailers:key=Ipr-Via,valueonly)",
        "-3",
    ]);
    assert!(
        log.contains(&format!("ipr: failed {b}|{DEVOPS}|server")),
        "{log}"
    );
    assert!(
        log.contains(&format!("ipr: deployed {a}|{DEVOPS}|server")),
        "{log}"
    );
    assert_eq!(
        log.lines()
            .filter(|l| l.starts_with("ipr: failed") || l.starts_with("ipr: deployed"))
            .count(),
        2,
        "each outcome once:\n{log}"
    );
    let everything = repo.git(&["log", "--all", "-p"]);
    assert!(!everything.contains(SECRET) && !everything.contains(AWX_TOKEN));
    assert!(!second.log.lock().unwrap().contains(SECRET));
    let out = repo.ipr(ADMIN, &["verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
