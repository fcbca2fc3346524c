//! `kill -9` at any moment (SPEC §11): the next ipr command leaves the
//! index and work tree as HEAD has them, nothing stray is left, and a later
//! plain `git commit` of another file carries no ticket change.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::*;

/// A small deterministic generator (xorshift), seeded from the clock and
/// printed, so a failing run can be replayed with IPR_CRASH_SEED.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn killed_at_random_moments_of_create_and_approve_leaves_nothing_behind() {
    let env = Env::team();
    let seed = std::env::var("IPR_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("IPR_CRASH_SEED={seed}");
    let mut rng = Rng(seed);

    // How long one action takes here: the kills land anywhere within it.
    let started = Instant::now();
    let mut pending = vec![env.create_as(DEVOPS, "low")];
    let span = started.elapsed().as_micros().max(1000) as u64 * 3 / 2;

    let deadline = Instant::now() + Duration::from_secs(300);
    let (mut kills, mut landed) = (0, 0);
    while kills < 100 {
        assert!(Instant::now() < deadline, "only {kills} kills in 300 s");
        let approve = rng.next().is_multiple_of(2) && !pending.is_empty();
        let id = pending.last().cloned().unwrap_or_default();
        let args: Vec<&str> = if approve {
            env.as_user(TADMIN);
            vec!["approve", &id]
        } else {
            env.as_user(DEVOPS);
            let mut a = valid_create_args();
            a.extend_from_slice(&["--impact", "low"]);
            a
        };
        let before = env.head();
        let mut child = env
            .ipr_process(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Fault injection, not synchronisation: a random moment of the run.
        std::thread::sleep(Duration::from_micros(rng.next() % span));
        let _ = child.kill();
        child.wait().unwrap();
        kills += 1;

        // The next ipr command, whatever it is, puts things right.
        let out = env.run(&["list", "--format", "json"]);
        assert!(out.status.success(), "kill {kills}: {}", stderr(&out));
        assert_eq!(
            env.status(),
            "",
            "kill {kills}: index or work tree differ from HEAD"
        );
        assert!(!env.repo.join(".git/index.lock").exists(), "kill {kills}");
        assert!(
            !env.repo.join(".git/ipr/landing.json").exists(),
            "kill {kills}"
        );
        if env.head() != before {
            landed += 1;
            if approve {
                pending.pop();
            } else {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let newest = v.as_array().unwrap().last().unwrap()["metadata"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                pending.push(newest);
            }
        }
    }
    eprintln!("{kills} kills, {landed} of the actions landed");

    // Nothing left for an unrelated commit to pick up.
    std::fs::write(env.repo.join("NOTES.md"), "notes\n").unwrap();
    env.git(&["add", "NOTES.md"]);
    env.git(&["commit", "-q", "-m", "notes"]);
    let changed = env.git(&["diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"]);
    assert_eq!(changed.trim(), "NOTES.md");
    let out = env.run(&["verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    env.fsck();
    let strays = env.git(&[
        "status",
        "--porcelain",
        "--ignored",
        "--untracked-files=all",
    ]);
    assert_eq!(strays, "", "stray files");
}
