//! The state machine (SPEC §5) through the CLI: every review transition
//! from every state the review commands can reach. Deploy transitions are
//! covered in the workflow unit tests and the deploy tests.

use crate::harness::*;

/// A request in `state`, created by DEVOPS.
fn in_state(env: &Env, state: &str) -> String {
    let id = env.create_as(DEVOPS, "low");
    env.as_user(TADMIN);
    let args: Vec<&str> = match state {
        "pending" => vec![],
        "approved" => vec!["approve", &id],
        "rejected" => vec!["reject", &id, "--reason", "Failed the change board"],
        "cancelled" => vec!["cancel", &id],
        _ => unreachable!(),
    };
    if !args.is_empty() {
        env.ipr(&args).assert().success();
    }
    assert_eq!(env.state(&id), state);
    id
}

#[test]
fn every_review_transition_from_every_state() {
    let env = Env::team();
    // (from, action, resulting state or None when refused with exit 5)
    let table: &[(&str, &str, Option<&str>)] = &[
        ("pending", "approve", Some("approved")),
        ("pending", "reject", Some("rejected")),
        ("pending", "cancel", Some("cancelled")),
        ("approved", "approve", None),
        ("approved", "reject", None),
        ("approved", "cancel", Some("cancelled")),
        ("rejected", "approve", None),
        ("rejected", "reject", None),
        ("rejected", "cancel", None),
        ("cancelled", "approve", None),
        ("cancelled", "reject", None),
        ("cancelled", "cancel", None),
    ];
    for &(from, action, to) in table {
        let id = in_state(&env, from);
        // ADMIN has the rights for every action, so only the state decides.
        env.as_user(ADMIN);
        let head = env.head();
        let mut args = vec![action, id.as_str()];
        if action == "reject" {
            args.extend(["--reason", "Failed the change board"]);
        }
        let out = env.run(&args);
        match to {
            Some(state) => {
                assert!(out.status.success(), "{from} --{action}: {}", stderr(&out));
                assert_eq!(env.state(&id), state);
            }
            None => {
                assert_error(&out, 5, &format!("it is {from}"));
                assert_eq!(env.head(), head, "{from} --{action} must not commit");
                assert_eq!(env.state(&id), from);
            }
        }
    }
}

#[test]
fn review_is_the_seed_form_of_approve_and_reject() {
    let env = Env::team();
    let a = env.create_as(DEVOPS, "low");
    let b = env.create_as(DEVOPS, "low");
    env.as_user(TADMIN);
    env.ipr(&["review", &a, "--approve", "--comment", "LGTM"])
        .assert()
        .success();
    env.ipr(&["review", &b, "--reject", "--comment", "Missing load test"])
        .assert()
        .success();
    assert_eq!(env.state(&a), "approved");
    assert_eq!(env.state(&b), "rejected");
    let t: serde_yaml_ng::Value = serde_yaml_ng::from_str(&env.ticket_at_head(&b)).unwrap();
    assert_eq!(
        t["status"]["rejectionReason"].as_str(),
        Some("Missing load test")
    );
    assert_eq!(t["status"]["rejectedBy"].as_str(), Some(TADMIN));
    // neither or both flags is a usage error
    let c = env.create_as(DEVOPS, "low");
    env.as_user(TADMIN);
    assert_eq!(env.run(&["review", &c]).status.code(), Some(2));
    assert_eq!(
        env.run(&["review", &c, "--approve", "--reject"])
            .status
            .code(),
        Some(2)
    );
    assert_error(&env.run(&["review", &c, "--reject"]), 6, "reason");
}

#[test]
fn reject_needs_a_reason_of_ten_characters() {
    let env = Env::team();
    let id = env.create_as(DEVOPS, "low");
    env.as_user(TADMIN);
    let head = env.head();
    assert_eq!(
        env.run(&["reject", &id]).status.code(),
        Some(2),
        "--reason is required"
    );
    assert_error(
        &env.run(&["reject", &id, "--reason", "too short"]),
        6,
        "10 characters",
    );
    assert_error(
        &env.run(&["reject", &id, "--reason", "          x"]),
        6,
        "10 characters",
    );
    assert_eq!(env.head(), head);
    env.ipr(&["reject", &id, "--reason", "ten chars!"])
        .assert()
        .success();
}

#[test]
fn approvals_carry_the_digest_of_the_spec() {
    let env = Env::team();
    let id = env.create_as(DEVOPS, "high");
    env.as_user(TADMIN);
    env.ipr(&["approve", &id, "--comment", "ok"])
        .assert()
        .success();
    env.as_user(ADMIN);
    env.ipr(&["approve", &id]).assert().success();
    let t: ipr::model::Ticket =
        ipr::model::Ticket::from_yaml(env.ticket_at_head(&id).as_bytes(), "t").unwrap();
    let digest = ipr::model::spec_digest(&t.spec);
    assert!(digest.starts_with("sha256:") && digest.len() == 7 + 64);
    let approvals: Vec<_> = t
        .status
        .history
        .iter()
        .filter(|e| e.action == ipr::model::Action::Approved)
        .collect();
    assert_eq!(approvals.len(), 2);
    for a in approvals {
        assert_eq!(a.digest.as_deref(), Some(digest.as_str()));
    }
    assert_eq!(t.status.history[1].comment.as_deref(), Some("ok"));
}

#[test]
fn cancel_of_an_approved_request_records_the_reason() {
    let env = Env::team();
    let id = env.create_as(DEVOPS, "low");
    env.as_user(TADMIN);
    env.ipr(&["approve", &id]).assert().success();
    env.as_user(DEVOPS);
    env.ipr(&["cancel", &id, "--reason", "superseded by 2.1.1"])
        .assert()
        .success();
    let t: serde_yaml_ng::Value = serde_yaml_ng::from_str(&env.ticket_at_head(&id)).unwrap();
    let last = &t["status"]["history"][2];
    assert_eq!(last["action"].as_str(), Some("cancelled"));
    assert_eq!(last["comment"].as_str(), Some("superseded by 2.1.1"));
    assert_eq!(last["by"].as_str(), Some(DEVOPS));
}
