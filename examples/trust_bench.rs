//! What verifying before an action costs (SPEC §10a), for
//! `benches/trust_bench.sh`. Not part of `cargo test`.
//!
//! `trust_bench REPO [--no-first-run]` times `ipr::trust::check` of the
//! branch tip, which every writing command runs before it acts: once on a
//! clone that has never verified (the whole history), then with the
//! remembered verified point (the usual case), then with one new commit
//! since that point. With `--no-first-run` the tip is remembered as
//! verified without the walk (trusting its tree, as `ipr verify --since`
//! does), to time the usual case on histories whose first walk is long.

use std::time::{Duration, Instant};

use ipr::store::{Change, Identity, Store};
use ipr::trust;
use ipr::workflow::{self, Transition};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // As the ipr binary does (src/main.rs): git does not re-hash objects it reads.
    git2::opts::strict_hash_verification(false);
    let args: Vec<String> = std::env::args().collect();
    let repo = args.get(1).expect("usage: trust_bench REPO");
    let store = Store::open(Some(std::path::Path::new(repo))).expect("open");
    let head = store.head().expect("head").expect("a commit");
    let cache = store.repo().path().join("ipr");
    let _ = std::fs::remove_dir_all(&cache);

    let cold = if args.iter().any(|a| a == "--no-first-run") {
        trust::remember_tree_as_verified(&store, head).expect("remember");
        None
    } else {
        let t = Instant::now();
        let first = trust::check(&store, Some(head)).expect("check");
        assert!(
            first.violations.is_empty(),
            "the generated history verifies: {:?}",
            first.violations.first()
        );
        Some(t.elapsed())
    };

    let warm: Vec<Duration> = (0..9)
        .map(|_| {
            let t = Instant::now();
            trust::check(&store, Some(head)).expect("check");
            t.elapsed()
        })
        .collect();

    // One commit on top that the remembered point does not cover: what
    // the first action after a `git pull` pays.
    // Five sibling commits on the tip, each checked from the tip's point.
    let mut times = Vec::new();
    let parent = store.repo().find_commit(head).expect("head commit");
    for i in 0..5 {
        let sig = git2::Signature::now("bench", "ops-lead@example.com").expect("sig");
        let next = store
            .repo()
            .commit(
                None,
                &sig,
                &sig,
                &format!("unrelated {i}"),
                &parent.tree().unwrap(),
                &[&parent],
            )
            .expect("commit");
        let t = Instant::now();
        trust::check(&store, Some(next)).expect("check");
        times.push(t.elapsed());
    }

    // One approval on top, as `ipr approve` commits it: what the check
    // of the next action pays for a transition it has not verified yet
    // (another clone's approval, after a pull). Five in a row, each of
    // another pending request, each checked from the point the check
    // before it remembered.
    let config = store.config(Some(head)).expect("config");
    let approver = Identity {
        name: "jean.dupont".into(),
        email: "jean.dupont@example.com".into(),
    };
    let mut approvals = Vec::new();
    let pending = store
        .tickets_where(Some(head), |s| s.state == ipr::model::State::Pending)
        .expect("pending requests");
    let mut parent = head;
    for ticket in pending.iter().take(5) {
        let now = ticket.metadata.created_at + chrono::Duration::hours(1);
        let next = workflow::apply(
            ticket,
            &Transition::Approve { comment: None },
            &approver.email,
            &config,
            now,
        )
        .expect("an approval the rules allow");
        let id = ticket.id().to_string();
        let commit = store
            .build_commit(&Change {
                parent: Some(parent),
                path: &ticket.path(),
                content: next.to_yaml().as_bytes(),
                action: "approve",
                subject: &id,
                actor: &approver,
                time: now,
                signer: None,
                via: None,
                slack_user: None,
                committer: None,
            })
            .expect("commit");
        let t = Instant::now();
        let trusted = trust::check(&store, Some(commit)).expect("check");
        approvals.push(t.elapsed());
        parent = commit;
        assert!(
            trusted.violations.is_empty(),
            "the approval verifies: {:?}",
            trusted.violations.first()
        );
    }

    if let Some(cold) = cold {
        println!(
            "first check on a fresh clone (whole history): {:>9.3} s",
            cold.as_secs_f64()
        );
    }
    println!(
        "check with the verified point remembered:    {:>9.1} ms (median of 9)",
        median(warm).as_secs_f64() * 1000.0
    );
    println!(
        "check with one new commit since that point:  {:>9.1} ms (median of 5)",
        median(times).as_secs_f64() * 1000.0
    );
    if !approvals.is_empty() {
        println!(
            "check with one new approval since that point: {:>8.1} ms (median of {})",
            median(approvals.clone()).as_secs_f64() * 1000.0,
            approvals.len()
        );
    }
}
