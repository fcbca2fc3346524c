//! AWX / Ansible Automation Platform runner (SPEC §7).
//!
//! `launch` starts a job from a job template through AWX's REST API
//! (`POST {url}/api/v2/job_templates/{id}/launch/`) with the request's
//! identity in `extra_vars`; `wait` polls `GET {url}/api/v2/jobs/{id}/`
//! until the job ends.
//!
//! A runner definition looks like this (`runners.definitions.<name>` in
//! `.ipr/config.yaml`):
//!
//! ```yaml
//! kind: awx                           # optional here; anything else is refused
//! url: https://awx.example.com
//! tokenEnv: IPR_AWX_TOKEN             # env var holding the token, never the token
//! jobTemplates:
//!   default: 10
//!   byType: { api: 11, policy: 12 }
//!   byTenant: { tenant-finance: 20 }   # tenant wins over type, type over default
//! verifyTls: true                     # default
//! timeout: 30m                        # overall wait; default 30m
//! pollInterval: 2s                    # first poll delay, doubling; default 2s
//! maxPollInterval: 30s                # backoff cap; default 30s
//! requestTimeout: 30s                 # one HTTP request; default 30s
//! retries: 5                          # per request, on transient errors; default 5
//! apiPath: /api/v2/                   # /api/controller/v2/ behind an AAP 2.5 gateway
//! ```
//!
//! Job ids: `launch` returns `awx-job-<n>` (the form the seed ticket records)
//! and `wait` accepts that or the bare number. A successful job's deployment id
//! is also `awx-job-<n>`: the AWX job is the deployment's record.
//!
//! Secrets: the token is read once from `tokenEnv` in [`AwxRunner::new`]. It is
//! sent only in the `Authorization` header, never appears in `Debug` output,
//! `describe` or any error, and is scrubbed from whatever text AWX sends back
//! before ipr repeats it. Plain `http://` is refused except to a loopback
//! address, so the token never crosses a network unencrypted. Redirects are
//! not followed.
//!
//! Retries: a `GET` is retried on connect errors, timeouts, 429, 502, 503 and
//! 504. A launch `POST` is retried only where AWX cannot have started a job:
//! connect errors, 429 and 503. After a 502, a 504 or a timeout the job may
//! exist, and launching again could deploy twice, so ipr stops and says so.
//!
//! The runner drives async reqwest on its own current-thread tokio runtime,
//! so the engine stays synchronous (as git2 is). [`crate::runner::block_on`]
//! never nests that runtime in a caller's: called from inside an async
//! server, the work runs on a thread of its own.
//!
//! Files: this one holds the job logic (which template, launch, poll, the
//! failure reason); `client.rs` holds HTTP, retries and the token.

mod client;

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use url::Url;

use self::client::{
    api_base, bounded, chain, check_token_env, parse_job_id, positive, read_token,
    still_running_hint, Op, Token,
};
use super::{DeployRequest, Launched, Outcome, Runner};
pub use crate::config::runners::{AwxConfig, AwxKind, JobTemplates, TemplateChoice};
use crate::error::{Error, Kind, Result};
use crate::model::TargetType;

/// The `kind:` of an AWX runner definition.
pub const KIND: &str = "awx";
/// Failure reasons are cut to this many characters.
pub const MAX_REASON_CHARS: usize = 2000;
/// Prefix of the job ids this runner hands out: how a job id names an AWX job: `awx-job-42`.
pub const JOB_PREFIX: &str = "awx-job-";
/// A definition may not ask for more retries than this.
const MAX_RETRIES: u32 = 100;

impl JobTemplates {
    /// The job template for a request, or an error naming the request.
    pub fn lookup(&self, request: &DeployRequest) -> Result<TemplateChoice> {
        if let Some(&id) = self.by_tenant.get(&request.tenant) {
            return Ok(TemplateChoice {
                id,
                chosen_by: format!("jobTemplates.byTenant.{}", request.tenant),
            });
        }
        let by_type = request
            .target_type
            .parse::<TargetType>()
            .ok()
            .and_then(|t| self.by_type.get(&t));
        if let Some(&id) = by_type {
            return Ok(TemplateChoice {
                id,
                chosen_by: format!("jobTemplates.byType.{}", request.target_type),
            });
        }
        if let Some(id) = self.default {
            return Ok(TemplateChoice {
                id,
                chosen_by: "jobTemplates.default".to_string(),
            });
        }
        Err(Error::invalid(format!(
            "no AWX job template for {} (tenant `{}`, type `{}`)",
            request.request_id, request.tenant, request.target_type
        ))
        .with_hint(format!(
            "add jobTemplates.byTenant.{}, jobTemplates.byType.{} or jobTemplates.default \
             to the AWX runner definition",
            request.tenant, request.target_type
        )))
    }

    fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.default
            .iter()
            .copied()
            .chain(self.by_type.values().copied())
            .chain(self.by_tenant.values().copied())
    }
}

/// Deploys through AWX. Build it with [`AwxRunner::new`].
pub struct AwxRunner {
    /// `{url}{apiPath}`, ending in `/`.
    api: Url,
    token_env: String,
    token: Token,
    templates: JobTemplates,
    timeout: Duration,
    poll_interval: Duration,
    max_poll_interval: Duration,
    retries: u32,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl fmt::Debug for AwxRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwxRunner")
            .field("api", &self.api.as_str())
            .field("token_env", &self.token_env)
            .field("token", &self.token)
            .field("templates", &self.templates)
            .field("timeout", &self.timeout)
            .field("poll_interval", &self.poll_interval)
            .field("max_poll_interval", &self.max_poll_interval)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl AwxRunner {
    /// Check the definition, read the token from `tokenEnv` and build the client.
    pub fn new(cfg: &AwxConfig) -> Result<AwxRunner> {
        let api = api_base(&cfg.url, &cfg.api_path)?;
        check_token_env(&cfg.token_env)?;
        if cfg.job_templates.ids().next().is_none() {
            return Err(
                Error::invalid("awx runner: jobTemplates names no job template").with_hint(
                    "set jobTemplates.default, jobTemplates.byType or jobTemplates.byTenant",
                ),
            );
        }
        if cfg.job_templates.ids().any(|id| id == 0) {
            return Err(Error::invalid(
                "awx runner: jobTemplates: 0 is not an AWX job template id",
            ));
        }
        if cfg.retries > MAX_RETRIES {
            return Err(Error::invalid(format!(
                "awx runner: retries: {} is more than {MAX_RETRIES}",
                cfg.retries
            )));
        }
        let timeout = positive(&cfg.timeout, "awx runner timeout")?;
        let poll_interval = positive(&cfg.poll_interval, "awx runner pollInterval")?;
        let max_poll_interval =
            positive(&cfg.max_poll_interval, "awx runner maxPollInterval")?.max(poll_interval);
        let request_timeout = positive(&cfg.request_timeout, "awx runner requestTimeout")?;
        let token = read_token(&cfg.token_env)?;

        let client = reqwest::Client::builder()
            .user_agent(concat!("ipr/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(request_timeout.min(Duration::from_secs(10)))
            .timeout(request_timeout)
            .tls_danger_accept_invalid_certs(!cfg.verify_tls)
            .build()
            .map_err(|e| Error::other(format!("awx runner: HTTP client: {}", chain(&e))))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::other(format!("awx runner: tokio runtime: {e}")))?;

        Ok(AwxRunner {
            api,
            token_env: cfg.token_env.clone(),
            token,
            templates: cfg.job_templates.clone(),
            timeout,
            poll_interval,
            max_poll_interval,
            retries: cfg.retries,
            client,
            runtime,
        })
    }

    /// Launch; on success, the AWX job number.
    async fn launch_job(&self, template: u64, body: &Value) -> Result<u64> {
        let op = Op::Launch(template);
        let (status, response) = self.call(op, Some(body)).await?;
        if status != StatusCode::CREATED && status != StatusCode::OK {
            return Err(Error::other(format!(
                "AWX answered {status} to {}, expected 201 Created",
                op.what()
            )));
        }
        let job = response
            .get("job")
            .and_then(Value::as_u64)
            .or_else(|| response.get("id").and_then(Value::as_u64))
            .ok_or_else(|| {
                Error::other(format!(
                    "AWX answered {status} to {} without a job id",
                    op.what()
                ))
            })?;
        let ignored = response
            .get("ignored_fields")
            .and_then(Value::as_object)
            .is_some_and(|o| o.contains_key("extra_vars"));
        if ignored {
            // AWX has started the job anyway, without the request id: stop it.
            let cancelled = match self.call(Op::Cancel(job), None).await {
                Ok(_) => format!("ipr asked AWX to cancel job {job}"),
                Err(e) => format!(
                    "ipr could not cancel job {job} ({}); cancel it in AWX",
                    e.message()
                ),
            };
            return Err(Error::invalid(format!(
                "AWX job template {template} ignored extra_vars, so job {job} would run without \
                 the ipr request id; {cancelled}"
            ))
            .with_hint(format!(
                "in AWX, edit job template {template} and tick \"Prompt on launch\" for Variables"
            )));
        }
        Ok(job)
    }

    /// Poll until the job ends; `last` keeps the last status seen.
    async fn poll(&self, job: u64, last: &mut Option<String>) -> Result<Outcome> {
        let mut delay = self.poll_interval;
        loop {
            let (_, body) = self.call(Op::Poll(job), None).await?;
            let status = body
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            match status.as_str() {
                "successful" => {
                    return Ok(Outcome::Succeeded {
                        deployment_id: Some(format!("{JOB_PREFIX}{job}")),
                    })
                }
                "failed" | "error" | "canceled" => {
                    return Ok(Outcome::Failed {
                        reason: self.failure_reason(job, &status, &body),
                    })
                }
                "" => {
                    return Err(
                        Error::other(format!("AWX answered job {job} without a status"))
                            .with_hint(still_running_hint(job)),
                    )
                }
                // new, pending, waiting, running, and whatever a later AWX adds.
                _ => *last = Some(status),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.max_poll_interval);
        }
    }

    fn failure_reason(&self, job: u64, status: &str, body: &Value) -> String {
        let text = |key: &str| {
            body.get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or("")
                .to_string()
        };
        let mut reason = format!("AWX job {job} ended with status {status}");
        let explanation = text("job_explanation");
        if !explanation.is_empty() {
            reason.push_str(": ");
            reason.push_str(&explanation);
        }
        let traceback = text("result_traceback");
        if !traceback.is_empty() {
            reason.push('\n');
            reason.push_str(&traceback);
        }
        bounded(&self.scrub(&reason), MAX_REASON_CHARS)
    }

    fn launch_body(request: &DeployRequest) -> Value {
        json!({
            "extra_vars": {
                "ipr_request_id": request.request_id,
                "ipr_target_type": request.target_type,
                "ipr_target_name": request.target_name,
                "ipr_target_version": request.target_version,
                "ipr_tenant": request.tenant,
                "ipr_source_environment": request.source_environment,
                "ipr_target_environment": request.target_environment,
            }
        })
    }
}

impl Runner for AwxRunner {
    fn describe(&self, request: &DeployRequest) -> String {
        let choice = match self.templates.lookup(request) {
            Ok(c) => c,
            Err(e) => return format!("AWX: nothing would be launched: {}", e.message()),
        };
        let body = serde_json::to_string_pretty(&Self::launch_body(request))
            .expect("JSON always serializes");
        format!(
            "AWX job template {id} ({by})\n\
             POST {launch}\n\
             Authorization: Bearer <token from ${env}>\n\
             Content-Type: application/json\n\
             {body}\n\
             then GET {jobs}<job id>/ every {poll}, backing off to {max}, until the status is \
             successful, failed, error or canceled (wait at most {timeout}, {retries} retries \
             on transient errors)",
            id = choice.id,
            by = choice.chosen_by,
            launch = self.endpoint(Op::Launch(choice.id)),
            env = self.token_env,
            jobs = self.api.join("jobs/").expect("a relative path joins"),
            poll = humantime::format_duration(self.poll_interval),
            max = humantime::format_duration(self.max_poll_interval),
            timeout = humantime::format_duration(self.timeout),
            retries = self.retries,
        )
    }

    fn launch(&mut self, request: &DeployRequest) -> Result<Launched> {
        let choice = self.templates.lookup(request)?;
        let body = Self::launch_body(request);
        let job = super::block_on(&self.runtime, self.launch_job(choice.id, &body))?;
        Ok(Launched {
            job_id: format!("{JOB_PREFIX}{job}"),
        })
    }

    fn wait(&mut self, job_id: &str) -> Result<Outcome> {
        let job = parse_job_id(job_id)?;
        let mut last = None;
        let result = super::block_on(&self.runtime, async {
            tokio::time::timeout(self.timeout, self.poll(job, &mut last)).await
        });
        match result {
            Ok(outcome) => outcome,
            Err(_elapsed) => {
                let status = last.as_deref().unwrap_or("unknown");
                Err(Error::new(
                    Kind::Other,
                    format!(
                        "AWX job {job} ({JOB_PREFIX}{job}) is still running (last status: {}) \
                         after {}; ipr stopped waiting",
                        bounded(status, 50),
                        humantime::format_duration(self.timeout)
                    ),
                )
                .with_hint(still_running_hint(job)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::client::detail_of;
    use super::*;

    fn request(tenant: &str, kind: &str) -> DeployRequest {
        DeployRequest {
            request_id: "PR-2026-0001".to_string(),
            target_type: kind.to_string(),
            target_name: "payment-api".to_string(),
            target_version: "2.1.0".to_string(),
            tenant: tenant.to_string(),
            source_environment: "staging".to_string(),
            target_environment: "prod".to_string(),
            ticket: Value::Null,
        }
    }

    fn templates() -> JobTemplates {
        serde_yaml_ng::from_str(
            "default: 1\nbyType: { api: 2, policy: 3 }\nbyTenant: { tenant-finance: 4 }",
        )
        .unwrap()
    }

    #[test]
    fn lookup_prefers_tenant_then_type_then_default() {
        let t = templates();
        let by = |tenant, kind| t.lookup(&request(tenant, kind)).unwrap();
        assert_eq!(by("tenant-finance", "api").id, 4);
        assert_eq!(
            by("tenant-finance", "api").chosen_by,
            "jobTemplates.byTenant.tenant-finance"
        );
        assert_eq!(by("tenant-retail", "policy").id, 3);
        assert_eq!(by("tenant-retail", "terraform").id, 1);
        assert_eq!(
            by("tenant-retail", "terraform").chosen_by,
            "jobTemplates.default"
        );
    }

    #[test]
    fn lookup_without_match_names_the_request() {
        let t = JobTemplates {
            default: None,
            ..templates()
        };
        let e = t
            .lookup(&request("tenant-retail", "application"))
            .unwrap_err();
        assert_eq!(e.kind(), Kind::Invalid);
        assert!(e.message().contains("PR-2026-0001"), "{}", e.message());
        assert!(e.message().contains("tenant-retail"));
        assert!(e.hint().unwrap().contains("jobTemplates.default"));
    }

    #[test]
    fn by_type_refuses_unknown_types() {
        let e = serde_yaml_ng::from_str::<JobTemplates>("byType: { apii: 2 }").unwrap_err();
        assert!(e.to_string().contains("apii"), "{e}");
    }

    #[test]
    fn config_accepts_kind_and_fills_defaults() {
        let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(
            "kind: awx\nurl: https://awx.example.com\ntokenEnv: AWX_TOKEN\njobTemplates: { default: 7 }",
        )
        .unwrap();
        let c = AwxConfig::from_value("deploy", &v).unwrap();
        assert_eq!(c.kind, Some(AwxKind::Awx));
        assert!(c.verify_tls);
        assert_eq!(c.timeout.as_str(), "30m");
        assert_eq!(c.poll_interval.as_str(), "2s");
        assert_eq!(c.retries, 5);
        assert_eq!(c.api_path, "/api/v2/");
        let stripped: serde_yaml_ng::Value = serde_yaml_ng::from_str(
            "url: https://awx.example.com\ntokenEnv: AWX_TOKEN\njobTemplates: { default: 7 }",
        )
        .unwrap();
        assert_eq!(
            AwxConfig::from_value("deploy", &stripped).unwrap().kind,
            None
        );
    }

    #[test]
    fn config_refuses_unknown_keys_and_other_kinds() {
        for yaml in [
            "kind: shell\nurl: https://a.example\ntokenEnv: T\njobTemplates: {}",
            "url: https://a.example\ntokenEnv: T\njobTemplates: {}\ntoken: abc",
        ] {
            let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
            let e = AwxConfig::from_value("deploy", &v).unwrap_err();
            assert_eq!(e.kind(), Kind::Invalid);
            assert!(
                e.message().starts_with("runners.definitions.deploy: "),
                "{}",
                e.message()
            );
        }
    }

    #[test]
    fn api_base_joins_paths_and_refuses_leaky_urls() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            api_base(&u("https://awx.example.com"), "/api/v2/")
                .unwrap()
                .as_str(),
            "https://awx.example.com/api/v2/"
        );
        assert_eq!(
            api_base(&u("https://gw.example.com/aap/"), "api/controller/v2")
                .unwrap()
                .as_str(),
            "https://gw.example.com/aap/api/controller/v2/"
        );
        assert!(api_base(&u("http://127.0.0.1:8080"), "/api/v2/").is_ok());
        assert!(api_base(&u("http://localhost"), "/api/v2/").is_ok());
        for bad in [
            "http://awx.example.com",
            "ftp://awx.example.com",
            "https://user:hunter2@awx.example.com",
            "https://awx.example.com/?x=1",
        ] {
            let e = api_base(&u(bad), "/api/v2/").unwrap_err();
            assert_eq!(e.kind(), Kind::Invalid, "{bad}");
            assert!(!e.message().contains("hunter2"));
        }
        assert!(api_base(&u("https://a.example"), "/api/../v2").is_err());
    }

    #[test]
    fn token_env_must_be_a_variable_name() {
        assert!(check_token_env("IPR_AWX_TOKEN").is_ok());
        assert!(check_token_env("awx_token").is_ok());
        for bad in ["", "1ABC", "A B", "X=Y", "6b8DMwn9vZlaVz3kfUmeOhsk4STpNn"] {
            let e = check_token_env(bad).unwrap_err();
            if !bad.is_empty() {
                assert!(!e.message().contains(bad), "{}", e.message());
            }
        }
    }

    #[test]
    fn job_ids_with_or_without_prefix() {
        assert_eq!(parse_job_id("awx-job-42").unwrap(), 42);
        assert_eq!(parse_job_id("42").unwrap(), 42);
        for bad in ["", "awx-job-", "awx-job-+4", "0", "-1", "job-42", "4 2"] {
            assert_eq!(
                parse_job_id(bad).unwrap_err().kind(),
                Kind::Invalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn bounded_keeps_head_and_tail() {
        assert_eq!(bounded("short", 10), "short");
        let long: String = "a".repeat(3000) + "THE END";
        let b = bounded(&long, MAX_REASON_CHARS);
        assert_eq!(b.chars().count(), MAX_REASON_CHARS);
        assert!(b.starts_with("aaa"));
        assert!(b.ends_with("THE END"));
        assert!(b.contains(" … "));
        // multi-byte characters are never split
        let wide = "é".repeat(5000);
        assert_eq!(bounded(&wide, 100).chars().count(), 100);
        assert_eq!(bounded("a\u{1b}[31mb\nc", 100), "a\u{fffd}[31mb\nc");
    }

    #[test]
    fn detail_prefers_awx_detail() {
        assert_eq!(detail_of(br#"{"detail": "Not found."}"#), "Not found.");
        assert_eq!(
            detail_of(br#"{"variables_needed_to_start": ["x"]}"#),
            r#"{"variables_needed_to_start":["x"]}"#
        );
        assert_eq!(
            detail_of(b"<html>Bad gateway</html>\n"),
            "<html>Bad gateway</html>"
        );
    }
}
