//! The `terraform` runner: `terraform` or `tofu` applies the exact saved
//! plan file whose SHA-256 the request (and so every approval digest)
//! recorded, and refuses any other file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::process::Job;
use super::{DeployRequest, Launched, Outcome, Runner};
pub use crate::config::runners::TerraformConfig;
use crate::error::{Error, Remedy, Result};
use crate::model::hex;

pub struct TerraformRunner {
    config: TerraformConfig,
    timeout: Duration,
    dir: PathBuf,
    job: Option<(String, Job)>,
    echo: super::process::Echo,
}

/// `sha256:<hex>` of a file's bytes.
pub fn file_sha256(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::not_found(format!("plan file {}: {e}", path.display())))?;
    Ok(format!("sha256:{}", hex(&Sha256::digest(&bytes))))
}

impl TerraformRunner {
    pub fn new(
        config: &TerraformConfig,
        repo_root: &Path,
        echo: super::process::Echo,
    ) -> Result<TerraformRunner> {
        config.check_binary()?;
        Ok(TerraformRunner {
            config: config.clone(),
            timeout: config.timeout.get(),
            dir: repo_root.join(&config.workdir),
            job: None,
            echo,
        })
    }

    fn plan_path(&self) -> PathBuf {
        self.dir.join(&self.config.plan_file)
    }

    fn args(&self) -> Vec<String> {
        vec![
            format!("-chdir={}", self.dir.display()),
            "apply".into(),
            "-input=false".into(),
            "-no-color".into(),
            self.config.plan_file.clone(),
        ]
    }

    /// The plan file must be the one the request recorded.
    fn check_plan(&self, request: &DeployRequest) -> Result<()> {
        let approved = request.ticket["spec"]["plan"]["fileSha256"]
            .as_str()
            .ok_or_else(|| {
                Error::conflict(format!(
                    "{} records no saved plan (spec.plan.fileSha256); the terraform runner applies only an approved plan file",
                    request.request_id
                ))
                .with_remedy(Remedy::FileTerraformRequest)
            })?;
        let actual = file_sha256(&self.plan_path())?;
        if actual != approved {
            return Err(Error::conflict(format!(
                "plan file {} is not the approved plan: its hash is {actual}, the request approved {approved}",
                self.plan_path().display()
            ))
            .with_hint("apply only what was approved: restore that plan file, or file a new request for the new plan"));
        }
        Ok(())
    }
}

impl Runner for TerraformRunner {
    fn describe(&self, request: &DeployRequest) -> String {
        let check = match self.check_plan(request) {
            Ok(()) => "matches the approved hash".to_string(),
            Err(e) => format!("REFUSED: {}", e.message()),
        };
        format!(
            "terraform: {} {}\n  plan file {} {check}\n  timeout {}\n",
            self.config.binary,
            self.args().join(" "),
            self.plan_path().display(),
            self.config.timeout
        )
    }

    fn launch(&mut self, request: &DeployRequest) -> Result<Launched> {
        self.check_plan(request)?;
        let mut cmd = std::process::Command::new(&self.config.binary);
        cmd.args(self.args()).env("TF_IN_AUTOMATION", "1");
        let job = Job::spawn(cmd, self.echo.clone())?;
        let job_id = request.local_job_id(self.config.binary_name());
        self.job = Some((job_id.clone(), job));
        Ok(Launched { job_id })
    }

    fn wait(&mut self, job_id: &str) -> Result<Outcome> {
        let Some((_, job)) = self.job.take() else {
            return Err(Error::conflict(format!(
                "the terraform runner cannot resume {job_id}: the apply that started it is gone"
            ))
            .with_remedy(Remedy::RecordOutcome {
                id: None,
                job: None,
                first: Some("check the state (`terraform show`)"),
            }));
        };
        let exit = job.wait(self.timeout)?;
        Ok(if exit.success {
            Outcome::Succeeded {
                deployment_id: None,
            }
        } else {
            Outcome::Failed {
                reason: exit.reason(&format!("{} apply", self.config.binary), self.timeout),
            }
        })
    }

    fn can_resume(&self) -> bool {
        false
    }

    fn planned_job_id(&self, request: &DeployRequest) -> Option<String> {
        Some(request.local_job_id(self.config.binary_name()))
    }
}

impl TerraformConfig {
    /// The binary must be `terraform` or `tofu` (a name or a path).
    pub fn check_binary(&self) -> Result<()> {
        if !matches!(
            Path::new(&self.binary).file_name().and_then(|n| n.to_str()),
            Some("terraform" | "tofu")
        ) {
            return Err(Error::invalid(format!(
                "terraform runner binary `{}` must be terraform or tofu",
                self.binary
            )));
        }
        Ok(())
    }

    /// Run `<binary> -chdir=<dir> ARGS…` to completion and return its
    /// stdout and exit code; an exit code not in `ok` is an error holding
    /// the end of stderr. For short read-only commands (`show -json`,
    /// `plan -refresh-only`), not for `apply`, which the runner streams.
    pub fn output(&self, dir: &Path, args: &[&str], ok: &[i32]) -> Result<(Vec<u8>, i32)> {
        self.check_binary()?;
        let what = format!(
            "{} {}",
            self.binary_name(),
            args.first().copied().unwrap_or("")
        );
        let out = std::process::Command::new(&self.binary)
            .arg(format!("-chdir={}", dir.display()))
            .args(args)
            .env("TF_IN_AUTOMATION", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| {
                Error::other(format!("cannot run {}: {e}", self.binary))
                    .with_hint("set runners.definitions.NAME.binary to terraform or tofu on PATH, or a path to it")
            })?;
        let code = out.status.code().unwrap_or(-1);
        if !ok.contains(&code) {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let tail = tail[tail.len().saturating_sub(3)..].join(" ");
            return Err(Error::other(format!(
                "`{what}` in {} exited with status {code}: {tail}",
                dir.display()
            )));
        }
        Ok((out.stdout, code))
    }

    fn binary_name(&self) -> &str {
        Path::new(&self.binary)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("terraform")
    }
}
