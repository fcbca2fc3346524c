//! Notifications (SPEC §9) to real receivers: an HTTP receiver for
//! webhooks and a fake of Slack's incoming-webhook contract (Slack itself
//! cannot be reached from the test machines), a real SMTP server
//! (aiosmtpd) and a real Kafka-protocol broker (tansu, through
//! ../shared/services/kafka-broker.sh). `.ci/run` installs the last two;
//! with `CI` set a missing one fails its test, elsewhere the test says so
//! and passes without running.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::harness::*;

const SLACK_TOKEN: &str = "T0SECRET/B0SECRET/xoxSlackWebhookSecret42";
const WEBHOOK_SECRET: &str = "whsec_aXByLXRlc3Qtd2ViaG9vay1zaWduaW5nLWtleS0wMDAx";
const SMTP_PASSWORD: &str = "smtp-Pa55word-never-shown";

/// How a receiver answers.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Ok,
    Status(u16),
    /// Answer after this long (longer than the target's timeout).
    Slow(u64),
}

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Got {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Whether the receiver answered it with a success, in time.
    accepted: bool,
}

impl Got {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
struct Responder {
    mode: Arc<Mutex<Mode>>,
    got: Arc<Mutex<Vec<Got>>>,
    slack: bool,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mode = *self.mode.lock().unwrap();
        // Slack's documented incoming-webhook contract: a JSON body with
        // `blocks` (each with a `type`), answered `ok`, or 400
        // `invalid_blocks`.
        let contract = !self.slack || slack_contract(request);
        let accepted = contract && matches!(mode, Mode::Ok);
        self.got.lock().unwrap().push(Got {
            path: request.url.path().to_string(),
            headers: request
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect(),
            body: request.body.clone(),
            accepted,
        });
        if !contract {
            return ResponseTemplate::new(400).set_body_string("invalid_blocks");
        }
        match mode {
            Mode::Ok => ResponseTemplate::new(200).set_body_string("ok"),
            // A verbose receiver that echoes what it was sent, the secret
            // URL path included: ipr must not repeat it.
            Mode::Status(code) => ResponseTemplate::new(code)
                .set_body_string(format!("rollup_error at {}", request.url.path())),
            Mode::Slow(ms) => ResponseTemplate::new(200)
                .set_body_string("ok")
                .set_delay(Duration::from_millis(ms)),
        }
    }
}

fn slack_contract(request: &Request) -> bool {
    let json_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&request.body) else {
        return false;
    };
    let blocks_ok = body["blocks"].as_array().is_some_and(|b| {
        !b.is_empty()
            && b.len() <= 50
            && b.iter().all(|x| x["type"].is_string())
            && b.iter().filter(|x| x["type"] == "header").all(|x| {
                x["text"]["type"] == "plain_text"
                    && x["text"]["text"]
                        .as_str()
                        .is_some_and(|t| t.chars().count() <= 150)
            })
    });
    json_type && request.method.as_str() == "POST" && blocks_ok && body["text"].is_string()
}

/// An HTTP receiver in this process.
struct Receiver {
    rt: tokio::runtime::Runtime,
    server: MockServer,
    mode: Arc<Mutex<Mode>>,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    fn start(slack: bool) -> Receiver {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(MockServer::start());
        let mode = Arc::new(Mutex::new(Mode::Ok));
        let got = Arc::new(Mutex::new(Vec::new()));
        rt.block_on(
            Mock::given(method("POST"))
                .respond_with(Responder {
                    mode: mode.clone(),
                    got: got.clone(),
                    slack,
                })
                .mount(&server),
        );
        Receiver {
            rt,
            server,
            mode,
            got,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.uri())
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// What was accepted, in order.
    fn accepted(&self) -> Vec<Got> {
        self.got().into_iter().filter(|g| g.accepted).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = &self.rt;
    }
}

/// The team config with these notification targets (YAML list items).
fn config_with(env: &Env, targets: &str, server_url: bool) -> String {
    let mut text = env
        .team_config_with("runners:\n  default: shell\n")
        .replace("notifications: []\n", &format!("notifications:\n{targets}"));
    if server_url {
        text.push_str("server:\n  url: https://ipr.example.com/\n");
    }
    text
}

fn webhook_target(r: &Receiver, extra: &str) -> String {
    format!(
        "  - name: audit\n    kind: webhook\n    url: {}\n    secretEnv: IPR_WEBHOOK_SECRET\n{extra}",
        r.url("/ipr")
    )
}

fn slack_target(extra: &str) -> String {
    format!(
        "  - name: team-slack\n    kind: slack\n    webhookUrlEnv: IPR_SLACK_WEBHOOK_URL\n{extra}"
    )
}

/// `ipr ARGS` with the notification secrets in the environment.
fn run_with(env: &Env, slack: &Receiver, args: &[&str]) -> std::process::Output {
    env.ipr(args)
        .env("IPR_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env(
            "IPR_SLACK_WEBHOOK_URL",
            slack.url(&format!("/services/{SLACK_TOKEN}")),
        )
        .env("IPR_SMTP_USER", "ipr")
        .env("IPR_SMTP_PASSWORD", SMTP_PASSWORD)
        .output()
        .unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stderr(out)
}

/// Create (as devops) and approve (as a tenant admin) a low-impact request.
fn create_and_approve(env: &Env, r: &Receiver) -> String {
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend_from_slice(&["--impact", "low"]);
    let out = run_with(env, r, &args);
    ok(&out);
    let id = stdout(&out).trim().to_string();
    env.as_user(TADMIN);
    ok(&run_with(env, r, &["approve", &id]));
    id
}

fn types(got: &[Got]) -> Vec<String> {
    got.iter()
        .map(|g| g.json()["type"].as_str().unwrap().to_string())
        .collect()
}

fn is_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// A tool the test needs: with `CI` set, missing is a failure.
fn note_missing(test: &str, what: &str) {
    assert!(!is_ci(), "CI is set and {what}: .ci/run installs it");
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "note: {test} did not run: {what}");
}

/// Check Standard Webhooks headers the way a receiver does, with the
/// reference Python library (`standardwebhooks` from PyPI), which shares
/// no code with ipr. `None` when it is not installed (outside CI).
fn verify_with_reference_library(got: &Got, secret: &str) -> Option<Result<(), String>> {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        note_missing(
            "webhook signature check",
            "the Python package standardwebhooks is not installed",
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    std::fs::write(&body, &got.body).unwrap();
    let headers = serde_json::json!({
        "webhook-id": got.header("webhook-id").unwrap_or(""),
        "webhook-timestamp": got.header("webhook-timestamp").unwrap_or(""),
        "webhook-signature": got.header("webhook-signature").unwrap_or(""),
    });
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, json\nfrom standardwebhooks.webhooks import Webhook\n\
             Webhook(sys.argv[1]).verify(open(sys.argv[2], 'rb').read(), json.loads(sys.argv[3]))",
            secret,
            body.to_str().unwrap(),
            &headers.to_string(),
        ])
        .output()
        .unwrap();
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    })
}

#[test]
fn every_transition_reaches_slack_and_a_signed_webhook_once() {
    let env = Env::team();
    let slack = Receiver::start(true);
    let hook = Receiver::start(false);
    env.set_config(&config_with(
        &env,
        &format!("{}{}", slack_target(""), webhook_target(&hook, "")),
        true,
    ));
    let id = create_and_approve(&env, &slack);
    env.as_user(DEVOPS);
    let out = env
        .ipr(&["deploy", &id])
        .env("IPR_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env(
            "IPR_SLACK_WEBHOOK_URL",
            slack.url(&format!("/services/{SLACK_TOKEN}")),
        )
        .output()
        .unwrap();
    ok(&out);
    // deploying then deployed: the events of the four transitions, in order.
    let want = [
        "request-created",
        "request-approved",
        "deployment-started",
        "deployment-succeeded",
    ];
    let got = hook.accepted();
    assert_eq!(types(&got), want, "{got:?}");
    assert_eq!(hook.got().len(), 4, "nothing sent twice");

    // The CloudEvents document of SPEC §9, for the commit that landed.
    let log: Vec<String> = env
        .git(&["log", "--format=%H", "--reverse"])
        .lines()
        .map(str::to_string)
        .collect();
    for (i, g) in got.iter().enumerate() {
        let ce = g.json();
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(ce["source"], "https://ipr.example.com/");
        assert_eq!(ce["subject"], id.as_str());
        assert_eq!(ce["datacontenttype"], "application/json");
        let commit = ce["data"]["commit"].as_str().unwrap();
        assert!(
            log.contains(&commit.to_string()),
            "{commit} is a commit of the branch"
        );
        assert_eq!(
            ce["id"],
            format!("{commit}.{i}"),
            "commit and history index"
        );
        assert_eq!(ce["data"]["request"]["metadata"]["id"], id.as_str());
        assert_eq!(
            ce["data"]["url"],
            format!("https://ipr.example.com/requests/{id}")
        );
        assert!(chrono::DateTime::parse_from_rfc3339(ce["time"].as_str().unwrap()).is_ok());
        assert_eq!(g.header("webhook-id"), ce["id"].as_str());
        assert!(g
            .header("content-type")
            .unwrap()
            .starts_with("application/cloudevents+json"));
        if let Some(result) = verify_with_reference_library(g, WEBHOOK_SECRET) {
            result.expect("the reference library accepts the signature");
            // ... and refuses the body changed by one byte.
            let mut forged = g.clone();
            forged.body = String::from_utf8(g.body.clone())
                .unwrap()
                .replacen("low", "lOw", 1)
                .into_bytes();
            assert!(verify_with_reference_library(&forged, WEBHOOK_SECRET)
                .unwrap()
                .is_err());
        }
    }
    assert_eq!(got[1].json()["data"]["actor"], TADMIN);
    assert_eq!(got[1].json()["type"], "request-approved");

    // Slack: a Block Kit message per event, accepted by the contract fake.
    let messages = slack.accepted();
    assert_eq!(messages.len(), 4, "{:?}", slack.got());
    assert_eq!(messages[0].path, format!("/services/{SLACK_TOKEN}"));
    let approved = messages[1].json();
    let header = approved["blocks"][0]["text"]["text"].as_str().unwrap();
    assert_eq!(header, format!("{id} approved"));
    let fields: Vec<&str> = approved["blocks"][1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "*Target*\npayment-api 2.1.0 → prod",
            "*Tenant*\ntenant-finance",
            "*Impact*\nlow",
            "*State*\napproved",
            "*Approvals*\n1/1",
            &format!("*Approved by*\n{TADMIN}"),
        ]
    );
    let button = approved["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .expect("a button when server.url is set");
    assert_eq!(
        button["elements"][0]["url"],
        format!("https://ipr.example.com/requests/{id}")
    );

    // What was delivered is recorded: `ipr notify` has nothing left to send.
    let head = env.head();
    for target in ["audit", "team-slack"] {
        assert_eq!(
            env.git(&["rev-parse", &format!("refs/ipr/notified/{target}")])
                .trim(),
            head
        );
    }
    let out = run_with(&env, &slack, &["notify"]);
    assert!(
        stderr(&out).contains("delivered 0 events"),
        "{}",
        stderr(&out)
    );
    assert_eq!(hook.got().len(), 4);
    assert_eq!(slack.got().len(), 4);
}

#[test]
fn a_failing_receiver_warns_keeps_the_transition_and_notify_delivers_later() {
    let env = Env::team();
    let hook = Receiver::start(false);
    env.set_config(&config_with(
        &env,
        &webhook_target(&hook, "    timeout: 1s\n"),
        false,
    ));
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend_from_slice(&["--impact", "high"]);
    let id = stdout(&ok_out(run_with(&env, &hook, &args)))
        .trim()
        .to_string();

    // 500: the approval is committed, exit 0, one warning that says what next.
    hook.set(Mode::Status(500));
    env.as_user(TADMIN);
    let out = run_with(&env, &hook, &["approve", &id]);
    let err = ok(&out);
    assert!(
        err.contains(&format!(
            "warning: notification audit (webhook): request-approved {id} not delivered:"
        )) && err.contains("500")
            && err.contains("`ipr notify` retries it"),
        "{err}"
    );
    assert_eq!(env.state(&id), "pending", "one of two approvals, committed");
    // Slow: no answer within the target's timeout.
    hook.set(Mode::Slow(3_000));
    env.as_user(TADMIN2);
    let err = ok(&run_with(&env, &hook, &["approve", &id]));
    assert!(err.contains("no answer within 1s"), "{err}");
    assert!(err.contains("(1 more wait behind it)"), "{err}");
    assert_eq!(env.state(&id), "approved");
    // Down: nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = std::fs::read_to_string(env.repo.join(".ipr/config.yaml"))
        .unwrap()
        .replace(&hook.url("/ipr"), &format!("http://127.0.0.1:{port}/ipr"));
    let before = env.head();
    env.set_config(&text);
    env.as_user(DEVOPS);
    let err = ok(&run_with(
        &env,
        &hook,
        &["cancel", &id, "--reason", "superseded by 2.1.1"],
    ));
    assert!(
        err.contains("request-approved") && err.contains("not delivered"),
        "{err}"
    );
    assert!(err.contains("(2 more wait behind it)"), "{err}");
    assert_eq!(env.state(&id), "cancelled");
    assert_eq!(
        env.git(&["rev-list", "--count", &format!("{before}..HEAD")])
            .trim(),
        "2"
    );

    // The receiver is back: `ipr notify` delivers exactly what is missing,
    // in order, and then nothing.
    let text = text.replace(&format!("http://127.0.0.1:{port}/ipr"), &hook.url("/ipr"));
    env.set_config(&text);
    hook.set(Mode::Ok);
    let out = run_with(&env, &hook, &["notify"]);
    let err = ok(&out);
    assert!(err.contains("delivered 3 events"), "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(
        types(&hook.accepted()),
        [
            "request-created",
            "request-approved",
            "request-approved",
            "request-cancelled"
        ]
    );
    let ids: Vec<String> = hook
        .accepted()
        .iter()
        .map(|g| g.json()["id"].as_str().unwrap().to_string())
        .collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "each event accepted once");
    // The retried event has the id it had when it first failed.
    let first_try = hook
        .got()
        .iter()
        .find(|g| !g.accepted)
        .map(|g| g.json()["id"].clone())
        .unwrap();
    assert_eq!(first_try, serde_json::Value::from(ids[1].clone()));
    let out = run_with(&env, &hook, &["notify", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&ok_out(out).stdout).unwrap();
    assert_eq!(report["delivered"], serde_json::json!([]));
    assert_eq!(report["failed"], serde_json::json!([]));
}

fn ok_out(out: std::process::Output) -> std::process::Output {
    ok(&out);
    out
}

#[test]
fn dry_run_sends_and_records_nothing_and_a_new_target_does_not_replay_history() {
    let env = Env::team();
    let hook = Receiver::start(false);
    // History from before the target existed is not replayed to it.
    let old = env.create_as(DEVOPS, "low");
    env.set_config(&config_with(&env, &webhook_target(&hook, ""), false));
    hook.set(Mode::Status(503));
    env.as_user(TADMIN);
    let err = ok(&run_with(&env, &hook, &["approve", &old]));
    assert!(err.contains("not delivered"), "{err}");
    hook.set(Mode::Ok);
    let before = hook.got().len();
    let out = run_with(&env, &hook, &["notify", "--dry-run"]);
    let err = ok(&out);
    assert!(
        stdout(&out).contains(&format!("request-approved  {old}  audit")),
        "{}",
        stdout(&out)
    );
    assert!(
        !stdout(&out).contains("request-created"),
        "the create predates the target"
    );
    assert!(
        err.contains("would deliver 1 event") && err.contains("nothing sent or recorded"),
        "{err}"
    );
    assert_eq!(hook.got().len(), before, "dry run sent nothing");
    let out = run_with(&env, &hook, &["notify", "--target", "audit"]);
    ok(&out);
    assert_eq!(types(&hook.accepted()), ["request-approved"]);
    // An unknown target is an error that changes nothing.
    let out = run_with(&env, &hook, &["notify", "--target", "pager"]);
    assert_error(&out, 4, "no notification target named `pager`");
}

#[test]
fn no_clone_delivers_what_another_delivered() {
    let origin = Env::team();
    let hook = Receiver::start(false);
    origin.set_config(&config_with(&origin, &webhook_target(&hook, ""), false));
    let bare = origin.publish();
    let a = Env::clone_of(&bare);
    let b = Env::clone_of(&bare);

    // A acts with --push: it delivers, and records that on the remote.
    a.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend_from_slice(&["--impact", "low", "--push"]);
    let id = stdout(&ok_out(run_with(&a, &hook, &args)))
        .trim()
        .to_string();
    assert_eq!(types(&hook.accepted()), ["request-created"]);
    let remote_ref = |name: &str| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&bare)
            .args(["rev-parse", name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(remote_ref("refs/ipr/notified/audit"), remote_ref("main"));

    // B: `ipr notify` finds nothing to deliver.
    let err = ok(&run_with(&b, &hook, &["notify"]));
    assert!(err.contains("delivered 0 events from origin/main"), "{err}");
    assert_eq!(hook.got().len(), 1);

    // B approves offline: not on the shared branch yet, so not announced;
    // `ipr sync` lands it and delivers it.
    b.git(&["pull", "-q", "--ff-only"]);
    b.as_user(TADMIN);
    ok(&run_with(&b, &hook, &["approve", &id]));
    assert_eq!(hook.got().len(), 1, "a local commit is not announced");
    ok(&run_with(&b, &hook, &["sync"]));
    assert_eq!(
        types(&hook.accepted()),
        ["request-created", "request-approved"]
    );

    // A commit pushed with plain git is delivered by the next `ipr notify`,
    // from any clone, once.
    a.git(&["pull", "-q", "--ff-only"]);
    a.as_user(DEVOPS);
    ok(&run_with(&a, &hook, &["deploy", &id]));
    assert_eq!(hook.got().len(), 2, "deployed locally: not shared yet");
    a.git(&["push", "-q", "origin", "main"]);
    ok(&run_with(&b, &hook, &["notify"]));
    ok(&run_with(&a, &hook, &["notify"]));
    assert_eq!(
        types(&hook.accepted()),
        [
            "request-created",
            "request-approved",
            "deployment-started",
            "deployment-succeeded"
        ]
    );
    assert_eq!(hook.got().len(), 4, "each event sent once, from one clone");
}

#[test]
fn secrets_appear_in_no_output_ticket_or_commit() {
    let env = Env::team();
    let slack = Receiver::start(true);
    let hook = Receiver::start(false);
    // An SMTP server that is not there, with a password.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mail = format!(
        "  - name: mail\n    kind: email\n    smtp: {{ host: 127.0.0.1, port: {port}, tls: none, usernameEnv: IPR_SMTP_USER, passwordEnv: IPR_SMTP_PASSWORD }}\n    from: \"ipr <ipr@example.com>\"\n    timeout: 2s\n"
    );
    env.set_config(&config_with(
        &env,
        &format!("{}{}{mail}", slack_target(""), webhook_target(&hook, "")),
        false,
    ));
    slack.set(Mode::Status(500));
    hook.set(Mode::Status(500));
    let mut outputs = Vec::new();
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend_from_slice(&["--impact", "low"]);
    let out = run_with(&env, &slack, &args);
    let id = stdout(&out).trim().to_string();
    outputs.push(out);
    env.as_user(TADMIN);
    outputs.push(run_with(&env, &slack, &["approve", &id]));
    outputs.push(run_with(&env, &slack, &["notify"]));
    outputs.push(run_with(&env, &slack, &["notify", "--format", "json"]));
    let all: String = outputs
        .iter()
        .map(|o| format!("{}{}", stdout(o), stderr(o)))
        .collect();
    // Every target failed, and said so...
    for name in ["team-slack (slack)", "audit (webhook)", "mail (email)"] {
        assert!(all.contains(name), "{name}: {all}");
    }
    assert!(all.contains("Slack answered 500"), "{all}");
    // ... without a secret, though the Slack receiver echoed its URL.
    let history = env.git(&["log", "-p", "--all", "--format=%B"]);
    let tickets = env.git(&["grep", "-h", "", "HEAD", "--", "requests"]);
    for secret in [
        SLACK_TOKEN,
        "xoxSlackWebhookSecret42",
        WEBHOOK_SECRET,
        SMTP_PASSWORD,
    ] {
        assert!(!all.contains(secret), "{secret} in output: {all}");
        assert!(!history.contains(secret), "{secret} in history");
        assert!(!tickets.contains(secret), "{secret} in a ticket");
    }
    for entry in walk(&env.repo.join(".git/ipr")) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).to_string();
        assert!(
            !text.contains("xoxSlackWebhookSecret42"),
            "{}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A real SMTP server: aiosmtpd (PyPI) writing what it receives to a
/// Maildir, with the envelope in `X-MailFrom` / `X-RcptTo` headers.
struct Smtp {
    child: std::process::Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// TLS for the SMTP server: `Starttls` or implicit `Tls`, with a key and
/// certificate for `localhost` made by openssl.
#[derive(Clone, Copy, PartialEq)]
enum SmtpMode {
    Plain,
    Starttls,
    Tls,
}

fn start_smtp(test: &str, mode: SmtpMode) -> Option<Smtp> {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        note_missing(test, "the Python package aiosmtpd is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A Maildir handler that refuses, as an unknown mailbox (550), every
    // address starting with `left.` (someone who left the company).
    std::fs::write(
        dir.path().join("bouncing.py"),
        "from aiosmtpd.handlers import Mailbox\n\
         class Bouncing(Mailbox):\n\
         \x20   async def handle_RCPT(self, server, session, envelope, address, options):\n\
         \x20       if address.startswith('left.'):\n\
         \x20           return '550 5.1.1 no such user'\n\
         \x20       envelope.rcpt_tos.append(address)\n\
         \x20       return '250 OK'\n",
    )
    .unwrap();
    let mut cmd = std::process::Command::new("python3");
    cmd.env("PYTHONPATH", dir.path())
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "bouncing.Bouncing"]);
    if mode != SmtpMode::Plain {
        let (cert, key) = self_signed(dir.path());
        let (c, k) = if mode == SmtpMode::Starttls {
            ("--tlscert", "--tlskey")
        } else {
            ("--smtpscert", "--smtpskey")
        };
        cmd.arg(c).arg(cert).arg(k).arg(key);
    }
    let child = cmd
        .arg(dir.path().join("mail"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let smtp = Smtp { child, dir, port };
    // Ready when it accepts a connection.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "aiosmtpd did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(smtp)
}

/// A certificate for `localhost` signed by a throwaway CA (`ca.pem`), and
/// its key.
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "2",
                "-subj",
                "/CN=ipr test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=localhost",
                "-keyout",
                "key.pem",
                "-out",
                "req.csr",
            ],
        ]
        .concat(),
    );
    std::fs::write(dir.join("ext"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "req.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext",
        "-out",
        "cert.pem",
    ]);
    (dir.join("cert.pem"), dir.join("key.pem"))
}

struct Mail {
    rcpt: Vec<String>,
    to: String,
    subject: String,
    from: String,
    message_id: String,
    content_type: String,
    text: String,
    html: String,
}

impl Smtp {
    fn messages(&self) -> Vec<Mail> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            for path in walk(&self.dir.path().join("mail").join(sub)) {
                let raw = std::fs::read(&path).unwrap();
                let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
                use mail_parser::MimeHeaders;
                let ct = m.content_type().unwrap();
                let mut rcpt: Vec<String> = m
                    .header_raw("X-RcptTo")
                    .unwrap_or("")
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                rcpt.sort();
                let part = |t: &str| {
                    m.parts
                        .iter()
                        .find(|p| {
                            p.content_type()
                                .is_some_and(|c| c.ctype() == "text" && c.subtype() == Some(t))
                        })
                        .and_then(|p| p.text_contents())
                        .unwrap_or_default()
                        .to_string()
                };
                out.push(Mail {
                    rcpt,
                    subject: m.subject().unwrap_or("").to_string(),
                    from: m.header_raw("From").unwrap_or("").trim().to_string(),
                    to: m.header_raw("To").unwrap_or("").trim().to_string(),
                    message_id: m.message_id().unwrap_or("").to_string(),
                    content_type: format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")),
                    text: part("plain"),
                    html: part("html"),
                });
            }
        }
        out
    }

    /// The messages with this subject (one per recipient), and who got
    /// them, sorted.
    fn with_subject(&self, subject: &str) -> (Vec<Mail>, Vec<String>) {
        let found: Vec<Mail> = self
            .messages()
            .into_iter()
            .filter(|m| m.subject == subject)
            .collect();
        assert!(!found.is_empty(), "no message with subject {subject:?}");
        let mut rcpt: Vec<String> = Vec::new();
        for m in &found {
            assert_eq!(m.rcpt.len(), 1, "one recipient per message: {:?}", m.rcpt);
            assert_eq!(m.to, m.rcpt[0], "To: is the recipient alone");
            rcpt.push(m.rcpt[0].clone());
        }
        rcpt.sort();
        (found, rcpt)
    }
}

fn email_target(port: u16, host: &str, tls: &str) -> String {
    format!(
        "  - name: mail\n    kind: email\n    smtp: {{ host: {host}, port: {port}, tls: {tls} }}\n    from: \"ipr <ipr@example.com>\"\n    ops: [oncall@example.com]\n    timeout: 10s\n"
    )
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn email_goes_to_whom_each_event_concerns_as_text_and_html() {
    let Some(smtp) = start_smtp("email_goes_to_whom_each_event_concerns", SmtpMode::Plain) else {
        return;
    };
    let env = Env::team();
    let config = env
        .team_config_with(
            "runners:\n  default: broken\n  definitions:\n    broken: { kind: shell, command: 'echo applying; exit 3' }\n",
        )
        .replace(
            "notifications: []\n",
            &format!("notifications:\n{}", email_target(smtp.port, "127.0.0.1", "none")),
        )
        // A tenant admin whose mailbox is gone: the server refuses it (550).
        .replace(
            "users:\n",
            "users:\n  left.company@example.com: { role: tenant-admin, tenants: [tenant-finance] }\n",
        );
    env.set_config(&config);
    env.as_user(DEVOPS);
    let args: Vec<&str> = valid_create_args()
        .into_iter()
        .map(|a| {
            if a == "New PCI-DSS compliant payment flow" {
                "PCI flow <script>alert(1)</script> & more"
            } else {
                a
            }
        })
        .chain(["--impact", "high"])
        .collect();
    let out = ok_out(env.ipr(&args).output().unwrap());
    let id = stdout(&out).trim().to_string();
    let target = "payment-api 2.1.0 -> prod";
    // The refused mailbox is a warning, told once, and holds nothing up.
    assert!(
        stderr(&out).contains("refused left.company@example.com for good")
            && stderr(&out).contains("not retried"),
        "{}",
        stderr(&out)
    );

    // request-created: to those who may approve it (tenant admins of the
    // tenant and admins), not the requester, not a viewer; one message
    // each, so nobody sees who else was told.
    let (created, rcpt) = smtp.with_subject(&format!("[ipr] {id} created: {target}"));
    assert_eq!(rcpt, sorted(&[TADMIN, TADMIN2, ADMIN]));
    let ids: std::collections::BTreeSet<&str> =
        created.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), 3, "a Message-ID per recipient");
    let created = &created[0];
    assert_eq!(created.from, "ipr <ipr@example.com>");
    assert_eq!(created.content_type, "multipart/alternative");
    assert!(
        created
            .text
            .contains("PCI flow <script>alert(1)</script> & more"),
        "{}",
        created.text
    );
    assert!(
        created.html.contains("PCI flow &lt;script&gt;alert(1)&lt;")
            && created.html.contains("&amp; more"),
        "{}",
        created.html
    );
    assert!(!created.html.contains("<script>"));
    assert!(created.text.contains("Approvals:  0/2"), "{}", created.text);
    assert!(
        created.text.contains(&format!("ipr show {id}")),
        "no server.url: the command"
    );
    assert!(
        created.message_id.starts_with("ipr."),
        "{}",
        created.message_id
    );

    // approvals: to the requester; the second one completes the quorum.
    env.as_user(TADMIN);
    ok(&env.ipr(&["approve", &id]).output().unwrap());
    env.as_user(TADMIN2);
    ok(&env.ipr(&["approve", &id, "-m", "LGTM"]).output().unwrap());
    let (_, first) = smtp.with_subject(&format!("[ipr] {id} approval: {target}"));
    assert_eq!(first, [DEVOPS]);
    let (approved, rcpt) = smtp.with_subject(&format!("[ipr] {id} approved: {target}"));
    assert_eq!(rcpt, [DEVOPS]);
    let approved = &approved[0];
    assert!(approved.text.contains("Approvals:  2/2"));
    assert!(
        approved.text.contains(&format!("Approved by: {TADMIN2}")),
        "{}",
        approved.text
    );
    assert!(approved.text.contains("Reason: LGTM"), "{}", approved.text);

    // The admin replaces the subject template; a failed deploy goes to the
    // requester, the approvers and ops.
    env.as_user(ADMIN);
    std::fs::create_dir_all(env.repo.join(".ipr/templates")).unwrap();
    std::fs::write(
        env.repo.join(".ipr/templates/email-subject.txt"),
        "[ipr/{{ request.metadata.tenant }}] {{ event.headline }}\n",
    )
    .unwrap();
    env.git(&["add", ".ipr/templates"]);
    env.git(&["commit", "-q", "-m", "email subject with the tenant"]);
    env.as_user(DEVOPS);
    let out = env.ipr(&["deploy", &id]).output().unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let (_, started) = smtp.with_subject(&format!("[ipr/tenant-finance] {id} deploying: {target}"));
    assert_eq!(started, sorted(&[DEVOPS, TADMIN, TADMIN2]));
    let (failed, rcpt) = smtp.with_subject(&format!(
        "[ipr/tenant-finance] {id} deploy failed: {target}"
    ));
    assert_eq!(
        rcpt,
        sorted(&[DEVOPS, TADMIN, TADMIN2, "oncall@example.com"])
    );
    let failed = &failed[0];
    assert!(failed.text.contains("Error: "), "{}", failed.text);
    assert!(
        failed.html.contains("<th align=\"left\">Error</th>"),
        "{}",
        failed.html
    );
    // 3 + 1 + 1 + 3 + 4 messages, nothing twice, and nothing left.
    assert_eq!(smtp.messages().len(), 12, "nothing twice");
    let err = ok(&env.ipr(&["notify"]).output().unwrap());
    assert!(err.contains("delivered 0 events"), "{err}");
    assert_eq!(smtp.messages().len(), 12);
}

#[test]
fn email_over_starttls_and_implicit_tls() {
    for (mode, tls) in [(SmtpMode::Starttls, "starttls"), (SmtpMode::Tls, "tls")] {
        let Some(smtp) = start_smtp("email_over_starttls_and_implicit_tls", mode) else {
            return;
        };
        let env = Env::team();
        let config = config_with(&env, &email_target(smtp.port, "localhost", tls), false);
        env.set_config(&config);
        env.as_user(DEVOPS);
        let mut args = valid_create_args();
        args.extend_from_slice(&["--impact", "low"]);
        // Without trusting the server's certificate: refused, and a warning.
        let out = env.ipr(&args).output().unwrap();
        let err = ok(&out);
        assert!(
            err.contains("mail (email)") && err.contains("not delivered"),
            "{tls}: {err}"
        );
        assert!(smtp.messages().is_empty());
        // Trusting it (as a company CA would be, through the system's
        // trust store): delivered, encrypted.
        let out = env
            .ipr(&["notify"])
            .env("SSL_CERT_FILE", smtp.dir.path().join("ca.pem"))
            .output()
            .unwrap();
        let err = ok(&out);
        assert!(err.contains("delivered 1 event"), "{tls}: {err}");
        assert_eq!(smtp.messages().len(), 3, "{tls}: one per reviewer");
    }
}

/// The Kafka-protocol broker of `.ci/run` (tansu, through
/// kafka-broker.sh, which also reads records back with kafka-python, a
/// client that shares no code with ipr's).
fn kafka_script(test: &str) -> Option<PathBuf> {
    let script = std::env::var_os("IPR_KAFKA_BROKER_SCRIPT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/services/kafka-broker.sh")
        });
    if !script.exists() {
        note_missing(
            test,
            "kafka-broker.sh is not there (set IPR_KAFKA_BROKER_SCRIPT)",
        );
        return None;
    }
    Some(script)
}

fn kafka(script: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kafka-broker.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = rskafka::client::ClientBuilder::new(vec![bootstrap.to_string()])
            .build()
            .await
            .unwrap();
        client
            .controller_client()
            .unwrap()
            .create_topic(topic, partitions, 1, 5_000)
            .await
            .unwrap();
    });
}

#[test]
fn kafka_records_are_keyed_by_request_and_arrive_once() {
    let test = "kafka_records_are_keyed_by_request_and_arrive_once";
    let Some(script) = kafka_script(test) else {
        return;
    };
    let bootstrap = kafka(&script, &["start", "19092"]).trim().to_string();
    let topic = format!(
        "promotion-requests-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let env = Env::team();
    let target = format!(
        "  - name: bus\n    kind: kafka\n    brokers: [{bootstrap}]\n    topic: {topic}\n    timeout: 5s\n"
    );
    env.set_config(&config_with(&env, &target, false));

    // The topic does not exist yet: a warning, the request is created.
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend_from_slice(&["--impact", "low"]);
    let out = env.ipr(&args).output().unwrap();
    let err = ok(&out);
    let id = stdout(&out).trim().to_string();
    assert!(
        err.contains(&format!("topic `{topic}` does not exist")),
        "{err}"
    );

    // Once it exists, `ipr notify` delivers; later actions deliver at once.
    create_topic(&bootstrap, &topic, 3);
    let err = ok(&env.ipr(&["notify"]).output().unwrap());
    assert!(err.contains("delivered 1 event"), "{err}");
    env.as_user(TADMIN);
    ok(&env.ipr(&["approve", &id]).output().unwrap());
    let second = env.create_as(DEVOPS, "medium");
    ok(&env.ipr(&["notify"]).output().unwrap());

    let records: Vec<serde_json::Value> = kafka(&script, &["consume", &topic])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3, "{records:?}");
    let mut ids: Vec<String> = Vec::new();
    for r in &records {
        let ce: serde_json::Value = serde_json::from_str(r["value"].as_str().unwrap()).unwrap();
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(r["key"], ce["subject"], "keyed by request ID");
        assert_eq!(ce["data"]["request"]["metadata"]["id"], ce["subject"]);
        ids.push(ce["id"].as_str().unwrap().to_string());
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "each event once: {ids:?}");
    // One request's events share a partition, in order.
    let of = |id: &str| -> Vec<&serde_json::Value> {
        records.iter().filter(|r| r["key"] == id).collect()
    };
    let first = of(&id);
    assert_eq!(first.len(), 2);
    assert_eq!(first[0]["partition"], first[1]["partition"]);
    let types: Vec<String> = first
        .iter()
        .map(|r| {
            let ce: serde_json::Value = serde_json::from_str(r["value"].as_str().unwrap()).unwrap();
            ce["type"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(types, ["request-created", "request-approved"]);
    assert_eq!(of(&second).len(), 1);
}

/// A hand edit dressed as an ipr approval (its trailers say so) breaks
/// verify rules: its event is never announced, and `ipr notify` says why.
#[test]
fn a_forged_transition_is_never_announced() {
    let env = Env::team();
    let hook = Receiver::start(false);
    env.set_config(&config_with(&env, &webhook_target(&hook, ""), false));
    let id = env.create_as(DEVOPS, "low");
    let path = env.ticket_path(&id);
    let text = std::fs::read_to_string(env.repo.join(&path)).unwrap();
    let forged = text.replace("state: pending", "state: approved");
    let mut ticket: serde_yaml_ng::Value = serde_yaml_ng::from_str(&forged).unwrap();
    let entry: serde_yaml_ng::Value = serde_yaml_ng::from_str(&format!(
        "{{action: approved, at: '2026-03-10T09:00:00Z', by: {TADMIN}}}"
    ))
    .unwrap();
    ticket["status"]["history"]
        .as_sequence_mut()
        .unwrap()
        .push(entry);
    std::fs::write(
        env.repo.join(&path),
        serde_yaml_ng::to_string(&ticket).unwrap(),
    )
    .unwrap();
    env.as_user(DEVOPS);
    env.git(&["add", &path]);
    env.git(&[
        "commit",
        "-q",
        "-m",
        &format!(
            "ipr: approve {id}\n\nIpr-Action: approve\nIpr-Request: {id}\nIpr-Actor: {TADMIN}"
        ),
    ]);
    let forged_commit = env.head();
    let out = run_with(&env, &hook, &["notify"]);
    let err = ok(&out);
    assert!(
        err.contains(&format!(
            "events of commit {} are not delivered: it breaks a verify rule",
            &forged_commit[..8]
        )),
        "{err}"
    );
    assert_eq!(types(&hook.accepted()), ["request-created"]);
    assert!(hook
        .got()
        .iter()
        .all(|g| g.json()["data"]["commit"] != forged_commit.as_str()));
}

/// A remote that will not store what was delivered: delivery still
/// happens, and the warning says that other clones may send it again.
#[test]
fn a_remote_that_refuses_the_record_is_a_warning() {
    let origin = Env::team();
    let hook = Receiver::start(false);
    origin.set_config(&config_with(&origin, &webhook_target(&hook, ""), false));
    let bare = origin.publish();
    let hook_path = bare.join("hooks/pre-receive");
    std::fs::write(
        &hook_path,
        "#!/bin/sh\nwhile read old new ref; do case \"$ref\" in refs/ipr/*) echo \"refs/ipr is read-only here\" >&2; exit 1;; esac; done\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook_path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let a = Env::clone_of(&bare);
    a.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend_from_slice(&["--impact", "low", "--push"]);
    let err = ok(&run_with(&a, &hook, &args));
    assert_eq!(types(&hook.accepted()), ["request-created"]);
    assert!(
        err.contains(
            "warning: delivered, but origin refused to record it in refs/ipr/notified/audit"
        ) && err.contains("another clone may deliver these events again"),
        "{err}"
    );
}

/// A payload the receiver refuses for good (400) is told once and not
/// retried; one that keeps failing can be skipped by hand, and the events
/// behind it then go out.
#[test]
fn a_refused_event_is_not_retried_and_a_stuck_one_can_be_skipped() {
    let env = Env::team();
    let hook = Receiver::start(false);
    env.set_config(&config_with(&env, &webhook_target(&hook, ""), false));
    hook.set(Mode::Status(400));
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend_from_slice(&["--impact", "low"]);
    let out = run_with(&env, &hook, &args);
    let id = stdout(&out).trim().to_string();
    assert!(
        ok(&out).contains(&format!(
            "request-created {id} was refused by the receiver and is not retried"
        )),
        "{}",
        stderr(&out)
    );
    // 500 on the approval: it waits; the cancel waits behind it.
    hook.set(Mode::Status(500));
    env.as_user(TADMIN);
    ok(&run_with(&env, &hook, &["approve", &id]));
    let approval = format!("{}.1", env.head());
    env.as_user(DEVOPS);
    ok(&run_with(
        &env,
        &hook,
        &["cancel", &id, "--reason", "not needed any more"],
    ));
    let err = ok(&run_with(&env, &hook, &["notify"]));
    assert!(err.contains("still undelivered"), "{err}");
    // The operator gives up on that one event.
    hook.set(Mode::Ok);
    let out = run_with(&env, &hook, &["notify", "--skip", &approval]);
    assert_error(&out, 2, "required arguments were not provided");
    assert!(stderr(&out).contains("--target <NAME>"));
    let out = run_with(
        &env,
        &hook,
        &["notify", "--skip", &approval, "--target", "audit"],
    );
    let err = ok(&out);
    assert!(stdout(&out).contains("skipped"), "{}", stdout(&out));
    assert!(err.contains("delivered 1 event"), "{err}");
    assert_eq!(types(&hook.accepted()), ["request-cancelled"]);
    let before = hook.got().len();
    ok(&run_with(&env, &hook, &["notify"]));
    assert_eq!(
        hook.got().len(),
        before,
        "nothing retried: the 400 nor the skipped"
    );
}

/// Removing a target and adding it back does not replay the time it was
/// gone; a delivery ref that is not a commit of the branch is ignored
/// with a warning, not an error.
#[test]
fn a_re_added_target_starts_again_and_a_bad_ref_is_ignored() {
    let env = Env::team();
    let hook = Receiver::start(false);
    let with = config_with(&env, &webhook_target(&hook, ""), false);
    let without = config_with(&env, "", false).replace("notifications:\n", "notifications: []\n");
    env.set_config(&with);
    let first = create_with(&env, &hook);
    assert_eq!(types(&hook.accepted()), ["request-created"]);
    env.set_config(&without);
    create_with(&env, &hook);
    env.set_config(&with);
    let third = create_with(&env, &hook);
    let subjects: Vec<String> = hook
        .accepted()
        .iter()
        .map(|g| g.json()["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        subjects,
        [first, third],
        "the second was made while it was gone"
    );

    // A ref pointing at a blob.
    let blob = {
        let out = std::process::Command::new("sh")
            .current_dir(&env.repo)
            .args(["-c", "echo garbage | git hash-object -w --stdin"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    env.git(&["update-ref", "refs/ipr/notified/audit", &blob]);
    let out = run_with(&env, &hook, &["notify"]);
    let err = ok(&out);
    assert!(
        err.contains("refs/ipr/notified/audit does not point at a commit of main; ignored"),
        "{err}"
    );
    assert_eq!(
        env.git(&["rev-parse", "refs/ipr/notified/audit"]).trim(),
        env.head(),
        "recorded again"
    );
}

/// A target in the config since the first commit, with no record of any
/// delivery (a repository from before ipr delivered): history is not
/// replayed; what the next command lands goes out.
#[test]
fn a_target_with_no_record_starts_now() {
    let env = Env::empty();
    let hook = Receiver::start(false);
    env.as_user(ADMIN);
    std::fs::create_dir_all(env.repo.join(".ipr")).unwrap();
    std::fs::write(
        env.repo.join(".ipr/config.yaml"),
        config_with(&env, &webhook_target(&hook, ""), false),
    )
    .unwrap();
    env.git(&["add", ".ipr"]);
    env.git(&["commit", "-q", "-m", "ipr config"]);
    let first = create_with(&env, &hook);
    assert_eq!(types(&hook.accepted()), ["request-created"]);
    // Forget every record: the next `ipr notify` sends nothing old.
    env.git(&["update-ref", "-d", "refs/ipr/notified/audit"]);
    let err = ok(&run_with(&env, &hook, &["notify"]));
    assert!(err.contains("delivered 0 events"), "{err}");
    env.as_user(TADMIN);
    ok(&run_with(&env, &hook, &["approve", &first]));
    assert_eq!(
        types(&hook.accepted()),
        ["request-created", "request-approved"]
    );
}

/// A low-impact request created by the devops engineer, with the
/// notification secrets in the environment.
fn create_with(env: &Env, hook: &Receiver) -> String {
    env.as_user(DEVOPS);
    let mut args = valid_create_args();
    args.extend_from_slice(&["--impact", "low"]);
    stdout(&ok_out(run_with(env, hook, &args)))
        .trim()
        .to_string()
}

/// The README's post-receive hook: the bare repository delivers what a
/// plain `git push` brought, and records it there.
#[test]
fn a_post_receive_hook_delivers_what_plain_git_pushed() {
    let origin = Env::team();
    let hook = Receiver::start(false);
    origin.set_config(&config_with(&origin, &webhook_target(&hook, ""), false));
    let bare = origin.publish();
    let script = bare.join("hooks/post-receive");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec '{}' notify --no-input\n",
            assert_cmd::cargo::cargo_bin("ipr").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Offline work in a clone with no notification secrets, pushed by git.
    let a = Env::clone_of(&bare);
    let id = a.create_as(DEVOPS, "low");
    assert!(hook.got().is_empty());
    let push = std::process::Command::new("git")
        .current_dir(&a.repo)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("IPR_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .args(["push", "origin", "main"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&push.stderr);
    assert!(push.status.success(), "{said}");
    assert!(
        said.contains("remote: delivered 1 event from main"),
        "{said}"
    );
    assert_eq!(types(&hook.accepted()), ["request-created"]);
    assert_eq!(hook.accepted()[0].json()["subject"], id.as_str());
    let recorded = std::process::Command::new("git")
        .arg("-C")
        .arg(&bare)
        .args(["rev-parse", "refs/ipr/notified/audit", "main"])
        .output()
        .unwrap();
    let recorded = String::from_utf8(recorded.stdout).unwrap();
    let lines: Vec<&str> = recorded.lines().collect();
    assert_eq!(lines[0], lines[1]);
}
