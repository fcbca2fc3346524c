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
