//! The smallest front end: the engine driven through the library, with who
//! acts set in code (no `git config user.email`, no `IPR_NOW`), the way a
//! server or a Slack app drives it. Create, approve, deploy and list give
//! the same results and refusals as the CLI, and the events of SPEC §9 come
//! from the commits that landed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ipr::action::{self, Options};
use ipr::config::{Config, Role, User};
use ipr::deploy::{self, DeployOptions, Deployed};
use ipr::error::{Detail, Kind};
use ipr::events::{self, EventKind};
use ipr::model::{RequestId, State};
use ipr::notify::Recorder;
use ipr::query::{Filter, View};
use ipr::request::{self, NewRequest};
use ipr::session::{Clock, Collect, Session, Signing};
use ipr::store::{Identity, Store};
use ipr::workflow::{Refusal, Transition};

const TENANT: &str = "tenant-finance";

fn person(email: &str) -> Session {
    let at: DateTime<Utc> = "2026-03-10T09:00:00Z".parse().unwrap();
    Session::new(Identity {
        name: email.split('@').next().unwrap().to_string(),
        email: email.to_string(),
    })
    .with_clock(Clock::Fixed(at))
    .with_signing(Signing::Never)
}

const ADMIN: &str = "ops-lead@example.com";
const DEVOPS: &str = "pierre.durand@example.com";
const TADMIN: &str = "jean.dupont@example.com";
const AUDITOR: &str = "auditor@example.com";
const OTHER: &str = "someone@example.com";

const DOCUMENT: &str = r#"
target:
  type: api
  name: payment-api
  version: "2.1.0"
  sourceEnvironment: staging
  targetEnvironment: prod
request:
  justification: "New PCI-DSS compliant payment flow"
  releaseNotes: "- Added 3DS2 authentication"
  impactAssessment: low
  rollbackPlan: "Revert to v2.0.0 via emergency deploy"
  scheduledDate: null
preChecks:
  stagingTestsPassed: true
  securityScanPassed: true
  performanceTestsPassed: true
  testEvidenceUrl: "https://ci.example.com/pipeline/12345"
"#;

/// A repository set up by the admin, with a devops engineer, a tenant
/// admin and an auditor of tenant-finance.
fn repo() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), "main").unwrap();
    let admin = person(ADMIN);
    let mut config = Config::starter(
        vec![TENANT.into(), "tenant-retail".into()],
        Some(ADMIN.into()),
    );
    action::init(&store, &admin, &config, Options::default()).unwrap();
    for (email, role) in [
        (DEVOPS, Role::Devops),
        (TADMIN, Role::TenantAdmin),
        (AUDITOR, Role::Viewer),
    ] {
        config.users.insert(
            email.into(),
            User {
                role,
                tenants: vec![TENANT.into()],
            },
        );
    }
    action::update_config(&store, &admin, &config, Options::default()).unwrap();
    (dir, store)
}

fn ids(view: &View<'_>, filter: &Filter) -> Vec<String> {
    view.list(filter)
        .unwrap()
        .tickets
        .iter()
        .map(|t| t.id().to_string())
        .collect()
}

#[test]
fn create_approve_deploy_and_list_with_an_identity_set_in_code() {
    let (_dir, store) = repo();
    let (devops, tadmin, admin) = (person(DEVOPS), person(TADMIN), person(ADMIN));

    // Create, from the document `ipr create -f` and `POST /v1/requests/prod` take.
    let doc = NewRequest::from_yaml(DOCUMENT.as_bytes(), "body").unwrap();
    let created = request::create(
        &store,
        &devops,
        doc.spec(),
        doc.tenant.as_deref(),
        None,
        Options::default(),
    )
    .unwrap();
    let id: RequestId = created.ticket.id();
    assert_eq!(id.to_string(), "PR-2026-0001");
    // The tenant defaulted to the requester's only one; the author is the session's.
    assert_eq!(created.ticket.metadata.tenant, TENANT);
    assert_eq!(created.ticket.metadata.created_by, DEVOPS);
    let commit = store.repo().find_commit(created.commit).unwrap();
    assert_eq!(commit.author().email().unwrap(), DEVOPS);
    assert_eq!(commit.time().seconds(), 1_773_133_200);

    // The tenant admin's review queue has it; the auditor's has nothing.
    let pending = Filter {
        pending: true,
        ..Filter::default()
    };
    assert_eq!(
        ids(&View::open(&store, &tadmin).unwrap(), &pending),
        ["PR-2026-0001"]
    );
    assert!(ids(&View::open(&store, &person(AUDITOR)).unwrap(), &pending).is_empty());

    // A devops engineer may not approve: a refusal with its rule, nothing written.
    let head = store.head().unwrap();
    let approve = Transition::Approve { comment: None };
    let e = action::transition(&store, &devops, id, &approve, Options::default()).unwrap_err();
    assert_eq!(e.kind(), Kind::Permission);
    assert!(matches!(e.detail(), Detail::Refused(Refusal::NoRole)));
    assert_eq!(store.head().unwrap(), head);

    let approved = action::transition(&store, &tadmin, id, &approve, Options::default()).unwrap();
    assert_eq!(approved.ticket.status.state, State::Approved);
    assert_eq!(approved.landed, vec![approved.commit]);

    // Deploy with the embedded shell runner; its output goes to the
    // session's sink, not to this process's stderr.
    let output = Arc::new(Collect::default());
    let deployer = admin.clone().with_output(output.clone());
    let recorder = Recorder::default();
    let options = DeployOptions {
        echo: true,
        ..DeployOptions::default()
    };
    let done = match deploy::deploy(&store, &deployer, id, &options, &recorder).unwrap() {
        Deployed::Finished(done) => done,
        other => panic!("{other:?}"),
    };
    assert_eq!(done.ticket.status.state, State::Deployed);
    let lines = output.lines().join("\n");
    assert!(
        lines.contains("deploying payment-api 2.1.0 to prod for tenant-finance (PR-2026-0001)"),
        "{lines}"
    );
    assert_eq!(
        recorder.kinds(),
        [EventKind::DeploymentStarted, EventKind::DeploymentSucceeded]
    );

    // Lists, as three people see them.
    let everything = Filter::default();
    for (who, seen) in [(ADMIN, 1), (DEVOPS, 1), (AUDITOR, 1), (OTHER, 0)] {
        let view = View::open(&store, &person(who)).unwrap();
        assert_eq!(ids(&view, &everything).len(), seen, "{who}");
    }
    let view = View::open(&store, &person(DEVOPS)).unwrap();
    let (stats, _) = view.stats().unwrap();
    assert_eq!(
        (
            stats.pending,
            stats.approved_today,
            stats.deployed_this_week
        ),
        (0, 1, 1)
    );
    assert!(View::open(&store, &person(OTHER))
        .unwrap()
        .show(id)
        .is_err());

    // Every transition is an event, derived from the landed history with
    // an id that is the same however often it is derived.
    let tip = store.head().unwrap().unwrap();
    let all = events::between(&store, None, tip).unwrap();
    let kinds: Vec<EventKind> = all.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::RequestCreated,
            EventKind::RequestApproved,
            EventKind::DeploymentStarted,
            EventKind::DeploymentSucceeded,
        ]
    );
    assert_eq!(all[0].id, format!("{}.0", created.commit));
    assert_eq!(all[1].actor, TADMIN);
    assert_eq!(all[3].ticket.status.state, State::Deployed);
    let again = events::between(&store, None, tip).unwrap();
    let ids_once: Vec<&str> = all.iter().map(|e| e.id.as_str()).collect();
    let ids_twice: Vec<&str> = again.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids_once, ids_twice);
    // Config commits are no events.
    assert!(all.iter().all(|e| e.request == id));
}

#[test]
fn an_unknown_actor_can_do_nothing_and_a_missing_tenant_is_a_field_problem() {
    let (_dir, store) = repo();
    let doc = NewRequest::from_yaml(DOCUMENT.as_bytes(), "body").unwrap();
    // An admin has no single tenant: the document must say which.
    let e = request::create(
        &store,
        &person(ADMIN),
        doc.spec(),
        None,
        None,
        Options::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), Kind::Invalid);
    assert_eq!(e.problem_list()[0].field, "tenant");

    let e = request::create(
        &store,
        &person(OTHER),
        doc.spec(),
        Some(TENANT),
        None,
        Options::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), Kind::Permission);
    assert_eq!(e.refusal(), Some(Refusal::NoRole));

    // A tenant admin may not approve their own request.
    let own = request::create(
        &store,
        &person(TADMIN),
        doc.spec(),
        None,
        None,
        Options::default(),
    )
    .unwrap();
    let approve = Transition::Approve { comment: None };
    let e = action::transition(
        &store,
        &person(TADMIN),
        own.ticket.id(),
        &approve,
        Options::default(),
    )
    .unwrap_err();
    assert_eq!(e.refusal(), Some(Refusal::SelfApproval));

    // Validation lists every problem with its field.
    let mut spec = doc.spec();
    spec.request.justification = "short".into();
    spec.pre_checks.security_scan_passed = false;
    let e = request::create(
        &store,
        &person(DEVOPS),
        spec,
        None,
        None,
        Options::default(),
    )
    .unwrap_err();
    let fields: Vec<&str> = e.problem_list().iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.request.justification",
            "spec.preChecks.securityScanPassed"
        ]
    );
}
