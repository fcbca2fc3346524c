//! The AWX runner against a fake AWX.
//!
//! AWX itself cannot run on this machine (it needs a container platform, a
//! database and images from outside, and there is no network), so these tests
//! talk to an in-process HTTP server (wiremock) that answers the way AWX's
//! documented `/api/v2/` contract does:
//!
//! - `POST /api/v2/job_templates/{id}/launch/` → 201 with the job serializer
//!   plus `job` and `ignored_fields`;
//! - `GET /api/v2/jobs/{id}/` → 200 with `id`, `status`, `failed`,
//!   `job_explanation`, `result_traceback`, ...;
//! - `POST /api/v2/jobs/{id}/cancel/` → 202 with no body;
//! - 401 `{"detail": "Authentication credentials were not provided."}` without
//!   a token and `{"detail": "Invalid token."}` with a wrong one, 403 and
//!   404 `{"detail": "Not found."}` otherwise.
//!
//! Every scripted response is picked by how many requests the route has seen,
//! never by time, so each test is deterministic. Intervals are shrunk through
//! the runner's own config (`pollInterval: 10ms`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use ipr::runner::awx::{AwxConfig, AwxRunner};
use ipr::runner::{DeployRequest, Outcome, Runner};
use ipr::{Error, Kind};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A token no message should ever contain.
const TOKEN: &str = "tok-Zq8Xv7Lw-SECRET-31337-never-print-me";
const TOKEN_ENV: &str = "IPR_TEST_AWX_TOKEN";
const WRONG_TOKEN_ENV: &str = "IPR_TEST_AWX_WRONG_TOKEN";
const EMPTY_TOKEN_ENV: &str = "IPR_TEST_AWX_EMPTY_TOKEN";
const UNSET_TOKEN_ENV: &str = "IPR_TEST_AWX_UNSET_TOKEN";

const LAUNCH_7: &str = "/api/v2/job_templates/7/launch/";
const JOB_42: &str = "/api/v2/jobs/42/";

/// Set the test variables once, before any test starts a thread of its own.
fn init_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var(TOKEN_ENV, TOKEN);
        std::env::set_var(WRONG_TOKEN_ENV, "some-other-token");
        std::env::set_var(EMPTY_TOKEN_ENV, "  ");
        std::env::remove_var(UNSET_TOKEN_ENV);
    });
}

/// Answers the n-th request with the n-th reply (the last one repeats), after
/// checking the bearer token like AWX does.
struct Script {
    replies: Vec<ResponseTemplate>,
    seen: AtomicUsize,
}

impl Respond for Script {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        match auth {
            None => return detail(401, "Authentication credentials were not provided."),
            Some(a) if a != format!("Bearer {TOKEN}") => return detail(401, "Invalid token."),
            Some(_) => {}
        }
        let n = self.seen.fetch_add(1, Ordering::SeqCst);
        self.replies[n.min(self.replies.len() - 1)].clone()
    }
}

fn detail(code: u16, text: &str) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(json!({ "detail": text }))
}

/// AWX's 201 answer to a launch.
fn launched(job: u64) -> ResponseTemplate {
    launched_ignoring(job, json!({}))
}

fn launched_ignoring(job: u64, ignored_fields: Value) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({
        "job": job,
        "ignored_fields": ignored_fields,
        "id": job,
        "type": "job",
        "url": format!("/api/v2/jobs/{job}/"),
        "name": "deploy-payment-api",
        "status": "pending",
        "failed": false,
        "job_template": 7,
        "launch_type": "manual",
    }))
}

/// AWX's 200 answer to a job read.
fn job(id: u64, status: &str) -> ResponseTemplate {
    job_with(id, status, "", "")
}

fn job_with(id: u64, status: &str, explanation: &str, traceback: &str) -> ResponseTemplate {
    let done = matches!(status, "successful" | "failed" | "error" | "canceled");
    ResponseTemplate::new(200).set_body_json(json!({
        "id": id,
        "type": "job",
        "url": format!("/api/v2/jobs/{id}/"),
        "name": "deploy-payment-api",
        "status": status,
        "failed": matches!(status, "failed" | "error" | "canceled"),
        "started": "2026-01-10T10:00:00.000000Z",
        "finished": if done { json!("2026-01-10T10:05:00.000000Z") } else { Value::Null },
        "elapsed": 300.0,
        "job_explanation": explanation,
        "result_traceback": traceback,
        "job_template": 7,
    }))
}

/// A fake AWX on a loopback port.
struct FakeAwx {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

impl FakeAwx {
    fn start() -> FakeAwx {
        init_env();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // The server runs on its own thread; the runner is called outside `rt`.
        let server = rt.block_on(MockServer::start());
        FakeAwx { rt, server }
    }

    /// Script the answers of one route.
    fn on(&self, verb: &str, route: &str, replies: Vec<ResponseTemplate>) {
        let script = Script {
            replies,
            seen: AtomicUsize::new(0),
        };
        self.rt.block_on(
            Mock::given(method(verb))
                .and(path(route))
                .respond_with(script)
                .mount(&self.server),
        );
    }

    fn requests(&self) -> Vec<Request> {
        self.rt
            .block_on(self.server.received_requests())
            .expect("request recording is on")
    }

    fn count(&self, verb: &str, route: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method.as_str() == verb && r.url.path() == route)
            .count()
    }

    fn config(&self, extra: &str) -> AwxConfig {
        config_for(&self.server.uri(), extra)
    }

    fn runner(&self, extra: &str) -> AwxRunner {
        AwxRunner::new(&self.config(extra)).expect("runner builds")
    }
}

/// A config for `url`; `extra` lines override the defaults below.
fn config_for(url: &str, extra: &str) -> AwxConfig {
    let mut keys = [
        ("kind", "awx".to_string()),
        ("url", url.to_string()),
        ("tokenEnv", TOKEN_ENV.to_string()),
        (
            "jobTemplates",
            "{ default: 7, byTenant: { tenant-finance: 20 } }".to_string(),
        ),
        ("pollInterval", "10ms".to_string()),
        ("maxPollInterval", "20ms".to_string()),
        // Generous: tests end on scripted answers, not on time.
        ("timeout", "60s".to_string()),
        ("retries", "3".to_string()),
    ];
    for line in extra.lines().filter(|l| !l.trim().is_empty()) {
        let (k, v) = line.split_once(':').unwrap();
        let v = v.trim().to_string();
        match keys.iter_mut().find(|(key, _)| *key == k.trim()) {
            Some(entry) => entry.1 = v,
            None => panic!("unknown test key {k}"),
        }
    }
    let yaml: String = keys.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    AwxConfig::from_value("awx", &value).expect("test config parses")
}

fn request(tenant: &str) -> DeployRequest {
    DeployRequest {
        request_id: "PR-2026-0042".to_string(),
        target_type: "api".to_string(),
        target_name: "payment-api".to_string(),
        target_version: "2.1.0".to_string(),
        tenant: tenant.to_string(),
        source_environment: "staging".to_string(),
        target_environment: "prod".to_string(),
        ticket: Value::Null,
    }
}

/// Message and hint, as `main` would print them.
fn text(e: &Error) -> String {
    format!("{}\nhint: {}", e.message(), e.hint().unwrap_or(""))
}

fn failure(outcome: Outcome) -> String {
    match outcome {
        Outcome::Failed { reason } => reason,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn launch_sends_extra_vars_and_bearer_token_then_polls_to_success() {
    let awx = FakeAwx::start();
    let launch_20 = "/api/v2/job_templates/20/launch/";
    awx.on("POST", launch_20, vec![launched(42)]);
    awx.on(
        "GET",
        JOB_42,
        vec![
            job(42, "pending"),
            job(42, "running"),
            job(42, "successful"),
        ],
    );
    let mut runner = awx.runner("");

    let launched = runner.launch(&request("tenant-finance")).unwrap();
    assert_eq!(launched.job_id, "awx-job-42");
    let outcome = runner.wait(&launched.job_id).unwrap();
    assert_eq!(
        outcome,
        Outcome::Succeeded {
            deployment_id: Some("awx-job-42".to_string())
        }
    );

    let requests = awx.requests();
    let post = &requests[0];
    assert_eq!(post.method.as_str(), "POST");
    assert_eq!(post.url.path(), launch_20);
    assert_eq!(
        post.headers.get("authorization").unwrap().to_str().unwrap(),
        format!("Bearer {TOKEN}")
    );
    assert_eq!(
        post.headers.get("content-type").unwrap().to_str().unwrap(),
        "application/json"
    );
    assert_eq!(
        post.body_json::<Value>().unwrap(),
        json!({"extra_vars": {
            "ipr_request_id": "PR-2026-0042",
            "ipr_target_type": "api",
            "ipr_target_name": "payment-api",
            "ipr_target_version": "2.1.0",
            "ipr_tenant": "tenant-finance",
            "ipr_source_environment": "staging",
            "ipr_target_environment": "prod",
        }})
    );
    assert_eq!(awx.count("GET", JOB_42), 3);
    assert_eq!(requests.len(), 4);
}

#[test]
fn slow_job_is_polled_until_it_ends() {
    let awx = FakeAwx::start();
    let mut replies = vec![job(42, "new"), job(42, "pending"), job(42, "waiting")];
    replies.extend((0..5).map(|_| job(42, "running")));
    replies.push(job(42, "successful"));
    awx.on("GET", JOB_42, replies);

    // A bare job number works as well as awx-job-42 (ipr record, resume).
    let outcome = awx.runner("").wait("42").unwrap();
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome:?}");
    assert_eq!(awx.count("GET", JOB_42), 9);
}

#[test]
fn failed_job_reason_has_status_explanation_and_traceback() {
    let awx = FakeAwx::start();
    awx.on(
        "GET",
        JOB_42,
        vec![
            job(42, "running"),
            job_with(
                42,
                "failed",
                "Task 'restart service' failed on web-1",
                "Traceback (most recent call last):\n  ...\nRuntimeError: boom",
            ),
        ],
    );
    let reason = failure(awx.runner("").wait("awx-job-42").unwrap());
    assert!(reason.contains("AWX job 42"), "{reason}");
    assert!(reason.contains("failed"), "{reason}");
    assert!(
        reason.contains("Task 'restart service' failed on web-1"),
        "{reason}"
    );
    assert!(reason.contains("RuntimeError: boom"), "{reason}");
}

#[test]
fn long_failure_reason_is_bounded() {
    let awx = FakeAwx::start();
    let huge = "x".repeat(100_000);
    awx.on(
        "GET",
        JOB_42,
        vec![job_with(42, "failed", &huge, "LAST LINE")],
    );
    let reason = failure(awx.runner("").wait("42").unwrap());
    assert!(reason.chars().count() <= 2000, "{}", reason.len());
    assert!(reason.starts_with("AWX job 42"), "{}", &reason[..40]);
    assert!(reason.ends_with("LAST LINE"));
}

#[test]
fn error_and_canceled_jobs_are_failures() {
    for status in ["error", "canceled"] {
        let awx = FakeAwx::start();
        let explanation = format!("job ended: {status} explained");
        awx.on(
            "GET",
            JOB_42,
            vec![job(42, "running"), job_with(42, status, &explanation, "")],
        );
        let reason = failure(awx.runner("").wait("42").unwrap());
        assert!(reason.contains(status), "{reason}");
        assert!(reason.contains(&explanation), "{reason}");
    }
}

#[test]
fn transient_errors_are_retried_then_succeed() {
    let awx = FakeAwx::start();
    awx.on(
        "POST",
        LAUNCH_7,
        vec![
            detail(429, "Request was throttled.").insert_header("retry-after", "0"),
            detail(503, "Service Unavailable"),
            launched(42),
        ],
    );
    awx.on(
        "GET",
        JOB_42,
        vec![
            detail(503, "Service Unavailable"),
            ResponseTemplate::new(502).set_body_string("<html>502 Bad Gateway</html>"),
            detail(504, "Gateway Timeout"),
            job(42, "running"),
            detail(503, "Service Unavailable"),
            job(42, "successful"),
        ],
    );
    let mut runner = awx.runner("retries: 3");
    let launched = runner.launch(&request("tenant-retail")).unwrap();
    assert_eq!(launched.job_id, "awx-job-42");
    let outcome = runner.wait(&launched.job_id).unwrap();
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome:?}");
    assert_eq!(awx.count("POST", LAUNCH_7), 3);
    assert_eq!(awx.count("GET", JOB_42), 6);
}

#[test]
fn more_transient_errors_than_retries_fail() {
    let awx = FakeAwx::start();
    awx.on("GET", JOB_42, vec![detail(503, "Service Unavailable")]);
    let e = awx.runner("retries: 2").wait("42").unwrap_err();
    assert_eq!(e.kind(), Kind::Other);
    assert!(e.message().contains("503"), "{}", text(&e));
    assert!(e.message().contains("job 42"), "{}", text(&e));
    assert!(e.hint().unwrap().contains("awx-job-42"), "{}", text(&e));
    assert_eq!(awx.count("GET", JOB_42), 3, "one try and two retries");
}

#[test]
fn launch_is_not_retried_when_awx_may_have_started_the_job() {
    let awx = FakeAwx::start();
    awx.on(
        "POST",
        LAUNCH_7,
        vec![detail(502, "Bad Gateway"), launched(42)],
    );
    let e = awx
        .runner("retries: 5")
        .launch(&request("tenant-retail"))
        .unwrap_err();
    assert_eq!(e.kind(), Kind::Other);
    assert!(e.message().contains("502"), "{}", text(&e));
    assert!(
        e.hint().unwrap().contains("may have started"),
        "{}",
        text(&e)
    );
    assert_eq!(awx.count("POST", LAUNCH_7), 1);
}

#[test]
fn unreachable_awx_is_retried_then_fails() {
    init_env();
    // A port nothing listens on: bind, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = config_for(&format!("http://127.0.0.1:{port}"), "retries: 2");
    let e = AwxRunner::new(&cfg).unwrap().wait("42").unwrap_err();
    assert_eq!(e.kind(), Kind::Other);
    assert!(e.message().contains("3 attempts"), "{}", text(&e));
    assert!(e.message().contains(&port.to_string()), "{}", text(&e));
}

#[test]
fn rejected_token_fails_at_once_without_retries() {
    let awx = FakeAwx::start();
    awx.on("POST", LAUNCH_7, vec![launched(42)]);
    let mut cfg = awx.config("retries: 5");
    cfg.token_env = WRONG_TOKEN_ENV.to_string();
    let e = AwxRunner::new(&cfg)
        .unwrap()
        .launch(&request("tenant-retail"))
        .unwrap_err();
    assert_eq!(e.kind(), Kind::Permission);
    assert_eq!(ipr::cli::exit::code(e.kind()), 3);
    assert!(e.message().contains("401"), "{}", text(&e));
    assert!(e.message().contains("Invalid token."), "{}", text(&e));
    assert!(e.hint().unwrap().contains(WRONG_TOKEN_ENV), "{}", text(&e));
    assert!(!text(&e).contains("some-other-token"), "{}", text(&e));
    assert_eq!(awx.requests().len(), 1);
}

#[test]
fn forbidden_launch_names_the_missing_permission() {
    let awx = FakeAwx::start();
    awx.on(
        "POST",
        LAUNCH_7,
        vec![detail(
            403,
            "You do not have permission to perform this action.",
        )],
    );
    let e = awx
        .runner("")
        .launch(&request("tenant-retail"))
        .unwrap_err();
    assert_eq!(e.kind(), Kind::Permission);
    assert!(e.message().contains("403"), "{}", text(&e));
    assert!(e.hint().unwrap().contains("Execute"), "{}", text(&e));
    assert!(e.hint().unwrap().contains("job template 7"), "{}", text(&e));
    assert_eq!(awx.requests().len(), 1);
}

#[test]
fn unknown_template_and_unknown_job_are_not_found() {
    let awx = FakeAwx::start();
    awx.on("POST", LAUNCH_7, vec![detail(404, "Not found.")]);
    awx.on("GET", "/api/v2/jobs/99/", vec![detail(404, "Not found.")]);
    let mut runner = awx.runner("retries: 5");

    let e = runner.launch(&request("tenant-retail")).unwrap_err();
    assert_eq!(e.kind(), Kind::NotFound);
    assert!(e.message().contains("job template 7"), "{}", text(&e));
    assert!(e.message().contains("Not found."), "{}", text(&e));

    let e = runner.wait("awx-job-99").unwrap_err();
    assert_eq!(e.kind(), Kind::NotFound);
    assert!(e.message().contains("job 99"), "{}", text(&e));
    assert_eq!(awx.requests().len(), 2, "404s are not retried");
}

#[test]
fn ignored_extra_vars_is_refused_and_the_job_cancelled() {
    let awx = FakeAwx::start();
    awx.on(
        "POST",
        LAUNCH_7,
        vec![launched_ignoring(
            42,
            json!({"extra_vars": {"ipr_request_id": "PR-2026-0042"}}),
        )],
    );
    awx.on(
        "POST",
        "/api/v2/jobs/42/cancel/",
        vec![ResponseTemplate::new(202)],
    );
    let e = awx
        .runner("")
        .launch(&request("tenant-retail"))
        .unwrap_err();
    assert_eq!(e.kind(), Kind::Invalid);
    assert!(e.message().contains("job template 7"), "{}", text(&e));
    assert!(e.message().contains("cancel job 42"), "{}", text(&e));
    assert!(
        e.hint().unwrap().contains("Prompt on launch"),
        "{}",
        text(&e)
    );
    assert_eq!(awx.count("POST", "/api/v2/jobs/42/cancel/"), 1);
}

#[test]
fn job_that_never_ends_times_out_naming_the_job() {
    let awx = FakeAwx::start();
    awx.on("GET", JOB_42, vec![job(42, "running")]);
    let e = awx.runner("timeout: 300ms").wait("awx-job-42").unwrap_err();
    assert_eq!(e.kind(), Kind::Other);
    assert!(e.message().contains("still running"), "{}", text(&e));
    assert!(e.message().contains("awx-job-42"), "{}", text(&e));
    assert!(e.message().contains("running"), "{}", text(&e));
    assert!(e.hint().unwrap().contains("resume"), "{}", text(&e));
    assert!(awx.count("GET", JOB_42) > 1);
}

#[test]
fn redirects_are_not_followed() {
    let awx = FakeAwx::start();
    awx.on(
        "POST",
        LAUNCH_7,
        vec![ResponseTemplate::new(302).insert_header("location", "https://sso.example.com/login")],
    );
    let e = awx
        .runner("")
        .launch(&request("tenant-retail"))
        .unwrap_err();
    assert!(e.message().contains("redirected"), "{}", text(&e));
    assert!(e.message().contains("sso.example.com"), "{}", text(&e));
    assert_eq!(awx.requests().len(), 1);
}

#[test]
fn missing_or_empty_token_variable_is_a_permission_error() {
    init_env();
    for env in [UNSET_TOKEN_ENV, EMPTY_TOKEN_ENV] {
        let mut cfg = config_for("https://awx.example.com", "");
        cfg.token_env = env.to_string();
        let e = AwxRunner::new(&cfg).unwrap_err();
        assert_eq!(e.kind(), Kind::Permission, "{env}");
        assert!(e.message().contains(env), "{}", text(&e));
        assert!(e.hint().unwrap().contains(env), "{}", text(&e));
    }
}

#[test]
fn describe_shows_the_launch_without_sending_it() {
    let awx = FakeAwx::start();
    let runner = awx.runner("");
    let shown = runner.describe(&request("tenant-finance"));
    let uri = awx.server.uri();
    assert!(
        shown.contains(&format!("POST {uri}/api/v2/job_templates/20/launch/")),
        "{shown}"
    );
    assert!(shown.contains("job template 20"), "{shown}");
    assert!(
        shown.contains("jobTemplates.byTenant.tenant-finance"),
        "{shown}"
    );
    assert!(shown.contains(&format!("${TOKEN_ENV}")), "{shown}");
    assert!(
        shown.contains(&format!("GET {uri}/api/v2/jobs/")),
        "{shown}"
    );
    let json_start = shown.find('{').unwrap();
    let json_end = shown.rfind('}').unwrap();
    let body: Value = serde_json::from_str(&shown[json_start..=json_end]).unwrap();
    assert_eq!(body["extra_vars"]["ipr_request_id"], "PR-2026-0042");
    assert_eq!(body["extra_vars"]["ipr_tenant"], "tenant-finance");
    assert!(awx.requests().is_empty(), "describe must not call AWX");
}

#[test]
fn token_appears_in_no_error_describe_or_debug_output() {
    let awx = FakeAwx::start();
    // A careless proxy or AWX echoing the credential back must not make ipr repeat it.
    let echo = format!("Bearer {TOKEN} was refused");
    awx.on("POST", LAUNCH_7, vec![detail(400, &echo)]);
    awx.on("GET", JOB_42, vec![detail(500, &echo)]);
    awx.on(
        "GET",
        "/api/v2/jobs/43/",
        vec![job_with(43, "failed", &echo, &echo)],
    );
    awx.on(
        "POST",
        "/api/v2/job_templates/20/launch/",
        vec![ResponseTemplate::new(302).insert_header("location", format!("/login?t={TOKEN}"))],
    );
    let cfg = awx.config("");
    let mut runner = AwxRunner::new(&cfg).unwrap();

    let mut seen = vec![
        format!("{cfg:?}"),
        format!("{runner:?}"),
        format!("{runner:#?}"),
        runner.describe(&request("tenant-retail")),
        runner.describe(&request("tenant-finance")),
        text(&runner.launch(&request("tenant-retail")).unwrap_err()),
        text(&runner.launch(&request("tenant-finance")).unwrap_err()),
        text(&runner.wait("42").unwrap_err()),
        failure(runner.wait("43").unwrap()),
    ];
    let mut wrong = cfg.clone();
    wrong.token_env = WRONG_TOKEN_ENV.to_string();
    seen.push(text(
        &AwxRunner::new(&wrong)
            .unwrap()
            .launch(&request("tenant-retail"))
            .unwrap_err(),
    ));
    for s in &seen {
        assert!(!s.contains(TOKEN), "token leaked in: {s}");
    }
    // The scrubbed texts still say what happened.
    assert!(seen[5].contains("was refused"), "{}", seen[5]);
    assert!(seen[8].contains("<redacted>"), "{}", seen[8]);
}

/// An async server calls the (synchronous) engine from its own runtime:
/// straight from a task, and from `spawn_blocking`. The runner's own
/// runtime must not nest in it (tokio would panic).
#[test]
fn the_runner_works_from_inside_an_async_server() {
    let awx = FakeAwx::start();
    awx.on(
        "POST",
        "/api/v2/job_templates/20/launch/",
        vec![launched(42), launched(43)],
    );
    awx.on("GET", JOB_42, vec![job(42, "successful")]);
    awx.on("GET", "/api/v2/jobs/43/", vec![job(43, "successful")]);
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    let mut runner = awx.runner("");
    let outcome = server.block_on(async {
        let launched = runner.launch(&request("tenant-finance")).unwrap();
        assert_eq!(launched.job_id, "awx-job-42");
        runner.wait(&launched.job_id).unwrap()
    });
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome:?}");

    let mut runner = awx.runner("");
    let outcome = server
        .block_on(async {
            tokio::task::spawn_blocking(move || {
                let launched = runner.launch(&request("tenant-finance")).unwrap();
                assert_eq!(launched.job_id, "awx-job-43");
                runner.wait(&launched.job_id).unwrap()
            })
            .await
        })
        .unwrap();
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome:?}");
    assert_eq!(awx.count("POST", "/api/v2/job_templates/20/launch/"), 2);
}
