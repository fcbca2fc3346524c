//! `ipr demo`, the README's first command: the whole workflow on a
//! throwaway repo, with a webhook the demo receives itself.

use crate::harness::*;

#[test]
fn the_demo_runs_the_workflow_and_receives_every_event() {
    let env = Env::empty();
    let dir = env.tmp.path().join("demo");
    let out = env
        .ipr_at(env.tmp.path(), &["demo", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    // Each event reached the webhook, in order, right after its command.
    let events: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  [webhook] "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "request-created",
            "request-approved",
            "deployment-started",
            "deployment-succeeded"
        ]
    );
    let approved = text.find("now approved").unwrap();
    let event = text.find("[webhook] request-approved").unwrap();
    assert!(event > approved, "delivered after the commit landed");
    let err = stderr(&out);
    assert!(err.contains("verified 6 commits, 4 ticket changes, 0 signatures: no violations"));
    assert!(err.contains("delivered 0 events from main"));
    // The kept repo verifies, and every target got everything.
    let head = std::process::Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["rev-parse", "HEAD", "refs/ipr/notified/demo-webhook"])
        .output()
        .unwrap();
    let refs = String::from_utf8(head.stdout).unwrap();
    let refs: Vec<&str> = refs.lines().collect();
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[0], refs[1]);
}

/// `ipr demo --serve`: the demo, then its repo served with a request left
/// to review and a token per user, printed with the URL; SIGTERM stops it.
#[test]
fn the_demo_serves_its_repo_with_a_request_to_review() {
    use std::io::{BufRead, BufReader};
    let env = Env::empty();
    let mut child = env
        .isolated(assert_cmd::cargo::cargo_bin("ipr"))
        .current_dir(env.tmp.path())
        .args(["demo", "--serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut tokens = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(u) = line.strip_prefix("# the web UI and the API of this repo: ") {
            url = Some(u.to_string());
        }
        if let Some(rest) = line.strip_prefix("#   ipr_") {
            let (token, who) = rest.split_once("  ").unwrap();
            tokens.push((format!("ipr_{token}"), who.to_string()));
        }
        if line.contains("Ctrl-C stops the server") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let url = url.expect("the demo prints the URL");
    let (token, who) = &tokens[0];
    assert!(who.starts_with("jean.dupont@example.com"), "{who}");
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pending: serde_json::Value = client
        .get(format!("{url}/v1/requests/prod/pending"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let names: Vec<&str> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["spec"]["target"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["billing-service"]);
    // The web UI sends a browser without a session to sign in.
    let page = client.get(format!("{url}/")).send().unwrap();
    assert_eq!(page.status().as_u16(), 303);
    assert_eq!(page.headers()["location"], "/login?next=%2F");
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
