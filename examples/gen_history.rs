//! Build a long ipr history quickly, for `benches/verify_bench.sh`.
//!
//! `gen_history REPO N [ALLOWED_SIGNERS]` creates a bare repository at REPO
//! holding `ipr init`, one admin config commit and then N ticket
//! transitions, each one commit in exactly the form `ipr` writes it (same
//! library calls as `ipr create/approve/reject/cancel`, same message and
//! trailers, signed if the repository's git config asks for it). With
//! ALLOWED_SIGNERS, that file is committed as .ipr/allowed_signers and the
//! config sets `signing.required: true`.
//!
//! The mix per request cycles through: create, approve (low); create,
//! approve, approve (high: two approvals); create, reject; create, cancel;
//! create, approve, deploying, deployed.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ipr::config::{Config, Role, User, ALLOWED_SIGNERS_PATH, CONFIG_PATH};
use ipr::model::{Impact, PreChecks, RequestDetails, RequestId, Spec, Target, TargetType, Ticket};
use ipr::store::signing::Signer;
use ipr::store::{Change, Identity, SignMode, Store};
use ipr::workflow::{self, Transition};

const TENANT: &str = "tenant-finance";

fn who(email: &str) -> Identity {
    Identity {
        name: email.split('@').next().unwrap().to_string(),
        email: email.to_string(),
    }
}

fn spec(n: u32, impact: Impact) -> Spec {
    Spec {
        target: Target {
            kind: TargetType::Api,
            name: format!("service-{}", n % 97),
            version: format!("1.{}.0", n),
            source_environment: "staging".into(),
            target_environment: "prod".into(),
        },
        request: RequestDetails {
            justification: "Routine promotion generated for the verify benchmark".into(),
            release_notes: Some(format!("- change {n}\n")),
            impact_assessment: impact,
            rollback_plan: "Redeploy the previous version".into(),
            scheduled_date: None,
        },
        pre_checks: PreChecks {
            staging_tests_passed: true,
            security_scan_passed: true,
            performance_tests_passed: true,
            test_evidence_url: url::Url::parse(&format!("https://ci.example.com/p/{n}")).unwrap(),
        },
        plan: None,
        promoted_from: None,
    }
}

struct Gen {
    store: Store,
    head: Option<git2::Oid>,
    now: DateTime<Utc>,
    config: Config,
    done: usize,
    /// From the repository's git config (`commit.gpgsign`, `gpg.format`,
    /// `user.signingkey`), as `ipr` signs.
    signer: Option<Signer>,
}

impl Gen {
    fn tick(&mut self) -> DateTime<Utc> {
        self.now += Duration::minutes(15);
        self.now
    }

    fn write(&mut self, path: &str, content: &[u8], action: &str, subject: &str, actor: &str) {
        let actor = who(actor);
        let oid = self
            .store
            .commit(&Change {
                parent: self.head,
                path,
                content,
                action,
                subject,
                actor: &actor,
                time: self.now,
                signer: self.signer.as_ref(),
                via: None,
                slack_user: None,
                committer: None,
            })
            .expect("commit");
        self.head = Some(oid);
    }

    fn create(&mut self, n: u32, impact: Impact, by: &str) -> Ticket {
        let at = self.tick();
        let id = RequestId::new(2026, n);
        let t = workflow::create(spec(n, impact), id, TENANT, by, &self.config, at).unwrap();
        self.write(
            &t.path(),
            t.to_yaml().as_bytes(),
            "create",
            &id.to_string(),
            by,
        );
        self.done += 1;
        t
    }

    fn apply(&mut self, t: Ticket, tr: Transition, by: &str) -> Ticket {
        let at = self.tick();
        let next = workflow::apply(&t, &tr, by, &self.config, at).unwrap();
        let id = t.id().to_string();
        self.write(&t.path(), next.to_yaml().as_bytes(), tr.verb(), &id, by);
        self.done += 1;
        next
    }
}

fn main() {
    // As the ipr binary does (src/main.rs): git does not re-hash objects it reads.
    git2::opts::strict_hash_verification(false);
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen_history REPO N [ALLOWED_SIGNERS]");
        std::process::exit(2);
    }
    let n: usize = args[2].parse().expect("N is a number");
    let mut opts = git2::RepositoryInitOptions::new();
    opts.bare(true).initial_head("main");
    let path = std::path::Path::new(&args[1]);
    if !path.exists() {
        git2::Repository::init_opts(path, &opts).expect("init");
    }
    let store = Store::open(Some(path)).expect("open");
    let signer = Signer::from_config(store.repo(), SignMode::Auto).expect("signing config");
    let admin = "ops-lead@example.com";
    let (dev, ta, ta2) = (
        "pierre.durand@example.com",
        "jean.dupont@example.com",
        "anne.martin@example.com",
    );

    let mut config = Config::starter(vec![TENANT.into()], Some(admin.into()));
    let mut g = Gen {
        store,
        head: None,
        now: DateTime::parse_from_rfc3339("2026-01-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        config: config.clone(),
        done: 0,
        signer,
    };
    g.write(
        CONFIG_PATH,
        config.to_yaml().as_bytes(),
        "init",
        CONFIG_PATH,
        admin,
    );
    let mut users = BTreeMap::new();
    for (email, role) in [
        (dev, Role::Devops),
        (ta, Role::TenantAdmin),
        (ta2, Role::TenantAdmin),
    ] {
        users.insert(
            email.to_string(),
            User {
                role,
                tenants: vec![TENANT.into()],
            },
        );
    }
    config.users.extend(users);
    if let Some(signers) = args.get(3) {
        let bytes = std::fs::read(signers).expect("allowed signers file");
        g.tick();
        g.write(
            ALLOWED_SIGNERS_PATH,
            &bytes,
            "config",
            ALLOWED_SIGNERS_PATH,
            admin,
        );
        config.signing.required = true;
    }
    g.tick();
    g.write(
        CONFIG_PATH,
        config.to_yaml().as_bytes(),
        "config",
        CONFIG_PATH,
        admin,
    );
    g.config = config;

    let mut number = 0;
    let approve = || Transition::Approve {
        comment: Some("reviewed".into()),
    };
    while g.done < n {
        number += 1;
        let left = n - g.done;
        match (number % 5, left) {
            (1, 5..) => {
                let t = g.create(number, Impact::High, dev);
                let t = g.apply(t, approve(), ta);
                g.apply(t, approve(), ta2);
            }
            (2, 2..) => {
                let t = g.create(number, Impact::Low, dev);
                let reason = "Not during the quarter close".to_string();
                g.apply(t, Transition::Reject { reason }, ta);
            }
            (3, 2..) => {
                let t = g.create(number, Impact::Low, dev);
                let reason = Some("superseded".to_string());
                g.apply(t, Transition::Cancel { reason }, dev);
            }
            (4, 4..) => {
                let t = g.create(number, Impact::Medium, dev);
                let t = g.apply(t, approve(), ta);
                let start = Transition::StartDeploy {
                    runner: "shell".into(),
                    job_id: Some(format!("job-{number}")),
                    break_glass: None,
                };
                let t = g.apply(t, start, dev);
                let done = Transition::Succeed {
                    job_id: Some(format!("job-{number}")),
                    deployment_id: Some(format!("deploy-{number}")),
                };
                g.apply(t, done, dev);
            }
            (_, 2..) => {
                let t = g.create(number, Impact::Low, dev);
                g.apply(t, approve(), ta);
            }
            _ => {
                g.create(number, Impact::Low, dev);
            }
        }
    }
    eprintln!(
        "{}: {} requests, {} transitions, head {}",
        args[1],
        number,
        g.done,
        g.head.unwrap()
    );
}
