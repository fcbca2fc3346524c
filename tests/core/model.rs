//! The ticket format (SPEC §2) against the seed fixture.

use crate::harness::*;
use ipr::model::{Action, Impact, State, TargetType, Ticket};

#[test]
fn the_seed_ticket_loads_unchanged() {
    let bytes = std::fs::read(fixture("tickets/PR-2024-0003.yaml")).unwrap();
    let t = Ticket::from_yaml(&bytes, "PR-2024-0003.yaml").unwrap();
    assert_eq!(t.id().to_string(), "PR-2024-0003");
    assert_eq!(t.path(), "requests/prod/2024/12/PR-2024-0003.yaml");
    assert_eq!(t.spec.target.kind, TargetType::Api);
    assert_eq!(t.spec.target.version, "2.1.0");
    assert_eq!(t.spec.request.impact_assessment, Impact::Low);
    assert_eq!(
        t.spec.request.release_notes.as_deref(),
        Some("- Added 3DS2 authentication\n")
    );
    assert_eq!(t.spec.request.scheduled_date, None);
    assert_eq!(t.status.state, State::Pending);
    let actions: Vec<Action> = t.status.history.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [Action::Created, Action::Approved, Action::Deployed]
    );
    assert_eq!(t.status.history[2].job_id.as_deref(), Some("awx-job-5678"));
    assert_eq!(
        t.status.history[1].comment.as_deref(),
        Some("Approved after review")
    );
    assert_eq!(
        t.status.approved_by.as_deref(),
        Some("jean.dupont@example.com")
    );
    assert_eq!(t.status.rejected_by, None);
}

#[test]
fn what_ipr_writes_reloads_to_the_same_value() {
    let bytes = std::fs::read(fixture("tickets/PR-2024-0003.yaml")).unwrap();
    let t = Ticket::from_yaml(&bytes, "seed").unwrap();
    let written = t.to_yaml();
    let again = Ticket::from_yaml(written.as_bytes(), "written").unwrap();
    assert_eq!(again, t);
    assert_eq!(again.to_yaml(), written, "writing is stable");
}

#[test]
fn any_domain_v1_is_accepted() {
    let seed = std::fs::read_to_string(fixture("tickets/PR-2024-0003.yaml")).unwrap();
    let other = seed.replace("gostoa.dev/v1", "ipr.example.org/v1");
    assert!(Ticket::from_yaml(other.as_bytes(), "t").is_ok());
    for bad in ["gostoa.dev/v2", "v1", "/v1"] {
        let text = seed.replace("gostoa.dev/v1", bad);
        let err = Ticket::from_yaml(text.as_bytes(), "t.yaml").unwrap_err();
        assert_eq!(ipr::cli::exit::code(err.kind()), 6);
        assert!(err.message().contains("apiVersion"), "{}", err.message());
    }
}

#[test]
fn the_seed_config_loads() {
    let bytes = std::fs::read(fixture("config/seed.yaml")).unwrap();
    let c = ipr::config::Config::from_yaml(&bytes, "seed").unwrap();
    assert_eq!(c.tenants, ["tenant-finance", "tenant-retail"]);
    assert_eq!(c.approvals.required(Impact::Low), 1);
    assert_eq!(c.approvals.required(Impact::Critical), 2);
    assert_eq!(c.users.len(), 4);
    let team = std::fs::read(fixture("config/team.yaml")).unwrap();
    assert!(ipr::config::Config::from_yaml(&team, "team").is_ok());
}
