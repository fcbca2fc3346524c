//! Runners hand an approved request to the system that deploys it
//! (SPEC §7): a shell command, AWX / Ansible Automation Platform, or
//! Terraform / OpenTofu.

pub mod awx;
pub mod process;
pub mod shell;
pub mod terraform;

use std::path::Path;

use serde::Serialize;

use crate::config::{Config, RunnerDef};
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
    /// How many times this request was handed to a runner before.
    pub fn attempts(&self) -> usize {
        self.ticket["status"]["history"]
            .as_array()
            .map(|h| h.iter().filter(|e| e["action"] == "deploying").count())
            .unwrap_or(0)
    }

    /// `<prefix>-<request id>-<attempt>`: the job id of a local runner. Once
    /// `deploying` is committed, the id that entry recorded.
    pub fn local_job_id(&self, prefix: &str) -> String {
        let history = self.ticket["status"]["history"].as_array();
        let last = history.and_then(|h| h.last());
        if let Some(job) = last
            .filter(|e| e["action"] == "deploying")
            .and_then(|e| e["jobId"].as_str())
        {
            return job.to_string();
        }
        format!("{prefix}-{}-{}", self.request_id, self.attempts() + 1)
    }

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

/// Run a runner's async work to completion from the synchronous engine.
///
/// On a thread with no tokio runtime (the CLI) it runs right here; on a
/// thread inside one (an async server calling the engine, directly or from
/// `spawn_blocking`) it runs on a scoped thread of its own, so a runner's
/// runtime is never nested in the caller's (which tokio refuses with a
/// panic). The caller's thread waits either way: the engine is synchronous,
/// as git2 is.
pub(crate) fn block_on<F>(runtime: &tokio::runtime::Runtime, future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(future);
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime.block_on(future))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
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
    /// Wait for a job started by `launch` (or by an earlier, killed ipr,
    /// when `can_resume`).
    fn wait(&mut self, job_id: &str) -> Result<Outcome>;
    /// Whether `wait` can watch a job that another ipr process launched.
    fn can_resume(&self) -> bool {
        true
    }
    /// For a runner that runs the job itself (shell, terraform): the job id
    /// `launch` will use, so `deploying` is committed before anything runs.
    /// `None` for a remote runner whose job id exists only once launched.
    fn planned_job_id(&self, _request: &DeployRequest) -> Option<String> {
        None
    }
}

impl RunnerDef {
    /// A runner for this definition; `echo` streams child output to stderr.
    pub fn build(&self, repo_root: &Path, echo: process::Echo) -> Result<Box<dyn Runner>> {
        Ok(match self {
            RunnerDef::Shell(c) => Box::new(shell::ShellRunner::new(c, repo_root, echo)?),
            RunnerDef::Awx(c) => Box::new(awx::AwxRunner::new(c)?),
            RunnerDef::Terraform(c) => {
                Box::new(terraform::TerraformRunner::new(c, repo_root, echo)?)
            }
        })
    }
}

/// The runner for a request: `--runner`, else the first matching rule,
/// else `runners.default`.
pub fn choose(config: &Config, ticket: &Ticket, requested: Option<&str>) -> String {
    if let Some(name) = requested {
        return name.to_string();
    }
    config
        .runners
        .rules
        .iter()
        .find(|r| {
            r.target_type.is_none_or(|t| t == ticket.spec.target.kind)
                && r.tenant
                    .as_deref()
                    .is_none_or(|t| t == ticket.metadata.tenant)
        })
        .map(|r| r.runner.clone())
        .unwrap_or_else(|| config.runners.default.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> Result<Config> {
        let base = "tenants: [t]\nrunners:\n";
        Config::from_yaml(format!("{base}{yaml}").as_bytes(), "config.yaml")
    }

    #[test]
    fn definitions_parse_by_kind_and_refuse_unknown_keys() {
        let c = config(
            "  default: deploy\n  definitions:\n    deploy: { kind: shell, command: ./deploy.sh, timeout: 5m }\n    infra: { kind: terraform, binary: tofu, workdir: infra }\n    awx: { kind: awx, url: 'https://awx.example.com', tokenEnv: AWX_TOKEN, jobTemplates: { default: 7 } }\n",
        )
        .unwrap();
        assert_eq!(RunnerDef::named(&c, "deploy").unwrap().kind(), "shell");
        assert_eq!(RunnerDef::named(&c, "infra").unwrap().kind(), "terraform");
        assert_eq!(RunnerDef::named(&c, "awx").unwrap().kind(), "awx");
        assert_eq!(RunnerDef::named(&c, "shell").unwrap().kind(), "shell");
        assert_eq!(
            RunnerDef::named(&c, "nope").unwrap_err().kind(),
            crate::error::Kind::NotFound
        );

        let e = config("  definitions:\n    x: { kind: shell, command: a, colour: red }\n")
            .unwrap_err();
        assert_eq!(e.kind(), crate::error::Kind::Invalid);
        assert!(
            e.message().contains("runners.definitions.x"),
            "{}",
            e.message()
        );
        assert!(e.message().contains("colour"), "{}", e.message());
        let e = config("  definitions:\n    x: { kind: ftp }\n").unwrap_err();
        assert!(e.message().contains("ftp"), "{}", e.message());
    }
}
