//! Schemathesis (PyPI `schemathesis`) against the server's own
//! `/openapi.json`: generated requests, valid and not, to every route, and
//! every answer checked against the document (documented status codes,
//! content types, headers, response schemas) and for no 5xx.

mod server_support;

use std::process::Command;

use serde_json::json;
use server_support::*;

const SECRET: &str = "awx-webhook-shared-secret";

/// The schemathesis command: `schemathesis` on PATH, or the module of
/// the `python3` that pip installed it for (its script directory need not
/// be on PATH). Under CI (`CI` set) its absence fails the test; elsewhere
/// the test says it is skipped.
fn schemathesis() -> Option<(Vec<String>, String)> {
    let candidates: [&[&str]; 2] = [&["schemathesis"], &["python3", "-m", "schemathesis.cli"]];
    for argv in candidates {
        let Ok(out) = Command::new(argv[0])
            .args(&argv[1..])
            .arg("--version")
            .output()
        else {
            continue;
        };
        if out.status.success() {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
            return Some((argv.iter().map(|a| a.to_string()).collect(), version));
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!("schemathesis is not installed (python3 -m pip install schemathesis)");
    }
    None
}

#[test]
fn the_server_answers_as_its_openapi_document_says() {
    let Some((argv, version)) = schemathesis() else {
        eprintln!("skipped: schemathesis is not installed (python3 -m pip install schemathesis)");
        return;
    };
    eprintln!("{version}");
    // The AWX webhook is exercised too, with its shared secret.
    let repo = Repo::team("  awxWebhookSecretEnv: IPR_AWX_WEBHOOK_SECRET\n");
    let server = Server::start_with(&repo, &repo.dir, &[("IPR_AWX_WEBHOOK_SECRET", SECRET)]);
    // Requests for the routes of one request to act on: schemathesis
    // cannot make one itself (a schema-valid create is most often refused
    // by the ticket rules), so each route gets its own, in a state where
    // the first valid call succeeds and later ones meet the workflow's
    // refusals.
    let create = |impact: &str| {
        let mut doc = new_request();
        doc["request"]["impactAssessment"] = json!(impact);
        let (status, t) = server.post(repo.token(DEVOPS), "/v1/requests/prod", doc);
        assert_eq!(status, 201, "{t}");
        t["metadata"]["id"].as_str().unwrap().to_string()
    };
    let (shown, approved, rejected, cancelled, deployed) = (
        create("high"),
        create("high"),
        create("high"),
        create("high"),
        create("low"),
    );
    let (status, t) = server.post(
        repo.token(TADMIN),
        &format!("/v1/requests/prod/{deployed}/approve"),
        json!({}),
    );
    assert_eq!(
        (status, t["status"]["state"].as_str()),
        (200, Some("approved")),
        "{t}"
    );

    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[operations]]
include-path-regex = '^/v1/requests/prod/\{{id\}}(/log)?$'
parameters = {{ "path.id" = "{shown}" }}

[[operations]]
include-path = "/v1/requests/prod/{{id}}/approve"
parameters = {{ "path.id" = "{approved}" }}

[[operations]]
include-path = "/v1/requests/prod/{{id}}/reject"
parameters = {{ "path.id" = "{rejected}" }}

[[operations]]
include-path = "/v1/requests/prod/{{id}}/cancel"
parameters = {{ "path.id" = "{cancelled}" }}

[[operations]]
include-path = "/v1/requests/prod/{{id}}/deploy"
parameters = {{ "path.id" = "{deployed}" }}

# The webhook's secret in its own header, which the server reads before
# a bearer token.
[[operations]]
include-path = "/webhooks/awx/job-complete"
headers = {{ "X-Ipr-Webhook-Secret" = "{SECRET}" }}

# A schema-valid new request may still break the ticket rules, which no
# JSON Schema states (a tenant is needed from a caller in several tenants,
# source and target environments differ, a justification of enough
# visible characters, pre-checks passed); the API answers those 422, as
# documented.
[[operations]]
include-name = "POST /v1/requests/prod"
checks.positive_data_acceptance.expected-statuses = ["2xx", 401, 403, 404, 409, 422]
"#
        ),
    )
    .unwrap();
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(work.path())
        .env("NO_COLOR", "1")
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/openapi.json", server.url))
        .args([
            "-H",
            &format!("Authorization: Bearer {}", repo.token(ADMIN)),
        ])
        .args(["--checks", "all"])
        .args([
            "--max-examples",
            "25",
            "--seed",
            "20250101",
            "--workers",
            "1",
        ])
        .args(["--request-timeout", "30", "--max-failures", "20"])
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log.lock().unwrap()
    );
    // Every route was exercised.
    assert!(
        stdout.contains("Selected: 14/14") && stdout.contains("Tested: 14"),
        "{stdout}"
    );
    // The routes of one request reached the workflow, not just its
    // refusals: each request was acted on.
    let state = |id: &str| {
        let (_, t) = server.get(Some(repo.token(ADMIN)), &format!("/v1/requests/prod/{id}"));
        t["status"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(state(&rejected), "rejected");
    assert_eq!(state(&cancelled), "cancelled");
    assert_ne!(state(&deployed), "approved");
    let (_, t) = server.get(
        Some(repo.token(ADMIN)),
        &format!("/v1/requests/prod/{approved}"),
    );
    assert!(
        t["status"]["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "approved" && e["by"] == ADMIN),
        "{t}"
    );
}
