//! Runners hand an approved request to the system that deploys it
//! (SPEC §7): a shell command, AWX / Ansible Automation Platform, or
//! Terraform / OpenTofu.

pub mod awx;

use serde::Serialize;

use crate::error::Result;
use crate::model::Ticket;

/// What a runner is told about the request it deploys.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployRequest {
    pub request_id: String,
    pub target_type: String,
    pub target_name: String,
    pub target_version: String,
    pub tenant: String,
    pub source_environment: String,
    pub target_environment: String,
    /// The whole ticket, as JSON.
    pub ticket: serde_json::Value,
}

impl DeployRequest {
    pub fn from_ticket(ticket: &Ticket) -> DeployRequest {
        let t = &ticket.spec.target;
        DeployRequest {
            request_id: ticket.id().to_string(),
            target_type: t.kind.to_string(),
            target_name: t.name.clone(),
            target_version: t.version.clone(),
            tenant: ticket.metadata.tenant.clone(),
            source_environment: t.source_environment.clone(),
            target_environment: t.target_environment.clone(),
            ticket: serde_json::to_value(ticket).expect("a ticket always serializes"),
        }
    }
}

/// A job a runner started: recorded in the `deploying` entry before ipr waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launched {
    /// The runner's job id (AWX job id, process id, ...).
    pub job_id: String,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded {
        deployment_id: Option<String>,
    },
    /// The runner's reason, already trimmed to a bounded size.
    Failed {
        reason: String,
    },
}

/// One way of deploying.
pub trait Runner {
    /// What `--dry-run` prints: exactly what would run.
    fn describe(&self, request: &DeployRequest) -> String;
    /// Start the job; return as soon as it has an id.
    fn launch(&mut self, request: &DeployRequest) -> Result<Launched>;
    /// Wait for a job started by `launch` (or by an earlier, killed ipr).
    fn wait(&mut self, job_id: &str) -> Result<Outcome>;
}
