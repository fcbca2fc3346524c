//! The `shell` runner: a command run with `sh -c`, the request exposed as
//! environment variables and as a JSON file; its exit status decides.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::process::Job;
use super::{DeployRequest, Launched, Outcome, Runner};
pub use crate::config::runners::{ShellConfig, DEFAULT_COMMAND};
use crate::error::{Error, Remedy, Result};

pub struct ShellRunner {
    config: ShellConfig,
    timeout: Duration,
    dir: PathBuf,
    job: Option<(String, Job, tempfile::TempDir)>,
    echo: super::process::Echo,
}

impl ShellRunner {
    pub fn new(
        config: &ShellConfig,
        repo_root: &Path,
        echo: super::process::Echo,
    ) -> Result<ShellRunner> {
        let timeout = config.timeout.get();
        let dir = match &config.workdir {
            Some(w) => repo_root.join(w),
            None => repo_root.to_path_buf(),
        };
        Ok(ShellRunner {
            config: config.clone(),
            timeout,
            dir,
            job: None,
            echo,
        })
    }

    /// The environment the command gets.
    pub fn env(request: &DeployRequest) -> Vec<(&'static str, String)> {
        vec![
            ("IPR_REQUEST_ID", request.request_id.clone()),
            ("IPR_TARGET_TYPE", request.target_type.clone()),
            ("IPR_TARGET_NAME", request.target_name.clone()),
            ("IPR_TARGET_VERSION", request.target_version.clone()),
            ("IPR_TENANT", request.tenant.clone()),
            ("IPR_SOURCE_ENV", request.source_environment.clone()),
            ("IPR_TARGET_ENV", request.target_environment.clone()),
        ]
    }
}

impl Runner for ShellRunner {
    fn describe(&self, request: &DeployRequest) -> String {
        let mut s = format!(
            "shell: sh -c '{}'\n  in {}\n  timeout {}\n",
            self.config.command,
            self.dir.display(),
            self.config.timeout
        );
        for (k, v) in Self::env(request) {
            s.push_str(&format!("  {k}={v}\n"));
        }
        s.push_str("  IPR_REQUEST_FILE=<the ticket as JSON, in a temporary file>\n");
        s
    }

    fn launch(&mut self, request: &DeployRequest) -> Result<Launched> {
        let tmp = tempfile::Builder::new().prefix("ipr-deploy-").tempdir()?;
        let file = tmp.path().join(format!("{}.json", request.request_id));
        let json = serde_json::to_vec_pretty(&request.ticket).expect("JSON value serializes");
        std::fs::write(&file, json)?;
        if !self.dir.is_dir() {
            return Err(Error::not_found(format!(
                "shell runner workdir {} does not exist",
                self.dir.display()
            )));
        }
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg(&self.config.command)
            .current_dir(&self.dir);
        for (k, v) in Self::env(request) {
            cmd.env(k, v);
        }
        cmd.env("IPR_REQUEST_FILE", &file);
        let job = Job::spawn(cmd, self.echo.clone())?;
        let job_id = request.local_job_id("shell");
        self.job = Some((job_id.clone(), job, tmp));
        Ok(Launched { job_id })
    }

    fn wait(&mut self, job_id: &str) -> Result<Outcome> {
        let Some((id, job, tmp)) = self.job.take() else {
            return Err(Error::conflict(format!(
                "the shell runner cannot resume {job_id}: the process that started it is gone"
            ))
            .with_remedy(Remedy::RecordOutcome {
                id: None,
                job: None,
                first: Some("check what the command did"),
            }));
        };
        debug_assert_eq!(id, job_id);
        let exit = job.wait(self.timeout)?;
        drop(tmp);
        Ok(if exit.success {
            Outcome::Succeeded {
                deployment_id: None,
            }
        } else {
            Outcome::Failed {
                reason: exit.reason("the deploy command", self.timeout),
            }
        })
    }

    fn can_resume(&self) -> bool {
        false
    }

    fn planned_job_id(&self, request: &DeployRequest) -> Option<String> {
        Some(request.local_job_id("shell"))
    }
}
