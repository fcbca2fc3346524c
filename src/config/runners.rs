//! `runners:` (SPEC §7): which runner deploys what, and each runner's
//! definition, typed when the config is read. How a runner runs is in
//! `crate::runner`; what it is configured with is here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use url::Url;

use super::span::Span;
use super::Config;
use crate::error::{Error, Result};
use crate::model::TargetType;

/// The command of the embedded default runner (`runners.default: shell`
/// with no definition named `shell`).
pub const DEFAULT_COMMAND: &str = "echo \"deploying $IPR_TARGET_NAME $IPR_TARGET_VERSION to $IPR_TARGET_ENV for $IPR_TENANT ($IPR_REQUEST_ID)\"";

/// `runners:`: which runner deploys what (SPEC §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Runners {
    /// The runner used when no rule matches.
    #[serde(default = "default_runner")]
    pub default: String,
    /// First matching rule picks the runner.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RunnerRule>,
    /// Named runner definitions; each has a `kind` (shell, awx, terraform).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "definitions"
    )]
    pub definitions: BTreeMap<String, RunnerDef>,
}

/// Each definition by its `kind`; an error names the definition
/// (`runners.definitions.NAME: ...`).
fn definitions<'de, D>(d: D) -> std::result::Result<BTreeMap<String, RunnerDef>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let raw = Option::<BTreeMap<String, serde_yaml_ng::Value>>::deserialize(d)?.unwrap_or_default();
    raw.into_iter()
        .map(|(name, value)| match serde_yaml_ng::from_value(value) {
            Ok(def) => Ok((name, def)),
            Err(e) => Err(serde::de::Error::custom(format!(
                "runners.definitions.{name}: {e}"
            ))),
        })
        .collect()
}

fn default_runner() -> String {
    "shell".to_string()
}

impl Default for Runners {
    fn default() -> Self {
        Runners {
            default: default_runner(),
            rules: Vec::new(),
            definitions: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunnerRule {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub target_type: Option<TargetType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub runner: String,
}

/// A runner definition under `runners.definitions`, chosen by its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RunnerDef {
    Shell(ShellConfig),
    Awx(Box<AwxConfig>),
    Terraform(TerraformConfig),
}

impl RunnerDef {
    /// The definition named `name`; `shell` without a definition is the
    /// embedded default.
    pub fn named(config: &Config, name: &str) -> Result<RunnerDef> {
        match config.runners.definitions.get(name) {
            Some(def) => Ok(def.clone()),
            None if name == "shell" => Ok(RunnerDef::Shell(ShellConfig::default())),
            None => {
                let known: Vec<&str> = config
                    .runners
                    .definitions
                    .keys()
                    .map(String::as_str)
                    .chain(std::iter::once("shell"))
                    .collect();
                Err(Error::not_found(format!(
                    "no runner named `{name}` (known: {})",
                    known.join(", ")
                ))
                .with_hint("define it under runners.definitions in .ipr/config.yaml"))
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            RunnerDef::Shell(_) => "shell",
            RunnerDef::Awx(_) => "awx",
            RunnerDef::Terraform(_) => "terraform",
        }
    }

    /// Whether any process can watch a job this runner started (AWX
    /// keeps its jobs; a shell or terraform job lives in its process).
    pub fn can_resume(&self) -> bool {
        matches!(self, RunnerDef::Awx(_))
    }

    /// What serde cannot check: durations that must not be zero, a
    /// terraform binary that is terraform or tofu, sane retries.
    pub(crate) fn check(&self, name: &str) -> Result<()> {
        let at = |key: &str| format!("runners.definitions.{name}.{key}");
        match self {
            RunnerDef::Shell(_) => Ok(()),
            RunnerDef::Terraform(tf) => {
                let file = std::path::Path::new(&tf.binary)
                    .file_name()
                    .and_then(|n| n.to_str());
                if !matches!(file, Some("terraform" | "tofu")) {
                    return Err(Error::invalid(format!(
                        "{}: `{}` must be terraform or tofu",
                        at("binary"),
                        tf.binary
                    )));
                }
                Ok(())
            }
            RunnerDef::Awx(awx) => {
                for (key, span) in [
                    ("timeout", &awx.timeout),
                    ("pollInterval", &awx.poll_interval),
                    ("maxPollInterval", &awx.max_poll_interval),
                    ("requestTimeout", &awx.request_timeout),
                ] {
                    if span.get().is_zero() {
                        return Err(Error::invalid(format!(
                            "{}: `{span}` must be longer than zero",
                            at(key)
                        )));
                    }
                }
                Ok(())
            }
        }
    }
}

/// `runners.definitions.<name>` with `kind: shell`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShellConfig {
    /// Run with `sh -c`; see the IPR_* variables.
    pub command: String,
    /// Kill the command after this long (default 30m).
    #[serde(default = "default_shell_timeout")]
    pub timeout: Span,
    /// Directory to run in, relative to the repository root (default: the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
}

fn default_shell_timeout() -> Span {
    Span::lit("30m")
}

impl Default for ShellConfig {
    fn default() -> Self {
        ShellConfig {
            command: DEFAULT_COMMAND.into(),
            timeout: default_shell_timeout(),
            workdir: None,
        }
    }
}

/// `runners.definitions.<name>` with `kind: terraform`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TerraformConfig {
    /// `terraform` or `tofu` (a name on PATH, or a path).
    #[serde(default = "default_binary")]
    pub binary: String,
    /// The Terraform root module, relative to the repository root.
    #[serde(default = "default_workdir")]
    pub workdir: String,
    /// The saved plan (`terraform plan -out=…`), relative to `workdir`.
    #[serde(default = "default_plan_file")]
    pub plan_file: String,
    /// Kill `apply` after this long (default 1h).
    #[serde(default = "default_terraform_timeout")]
    pub timeout: Span,
}

fn default_binary() -> String {
    "terraform".into()
}
fn default_workdir() -> String {
    ".".into()
}
fn default_plan_file() -> String {
    "tfplan".into()
}
fn default_terraform_timeout() -> Span {
    Span::lit("1h")
}

/// `kind: awx`, accepted so a definition can be deserialized whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AwxKind {
    #[serde(rename = "awx")]
    Awx,
}

/// A `kind: awx` runner definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwxConfig {
    /// `kind: awx` may be left in; the caller may also strip it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AwxKind>,
    /// Base URL of AWX, e.g. `https://awx.example.com`.
    pub url: Url,
    /// Name of the environment variable holding the OAuth2 or personal access token.
    pub token_env: String,
    pub job_templates: JobTemplates,
    /// Verify the server's TLS certificate (default true).
    #[serde(default = "yes")]
    pub verify_tls: bool,
    /// How long `wait` waits for the job to end (default `30m`).
    #[serde(default = "default_awx_timeout")]
    pub timeout: Span,
    /// Delay before the second poll; it doubles after each poll (default `2s`).
    #[serde(default = "default_poll_interval")]
    pub poll_interval: Span,
    /// Cap of the poll and retry backoff (default `30s`).
    #[serde(default = "default_max_poll_interval")]
    pub max_poll_interval: Span,
    /// Timeout of one HTTP request (default `30s`).
    #[serde(default = "default_request_timeout")]
    pub request_timeout: Span,
    /// Retries of one request on transient errors (default 5).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Path of the API under `url` (default `/api/v2/`).
    #[serde(default = "default_api_path")]
    pub api_path: String,
}

fn yes() -> bool {
    true
}
fn default_awx_timeout() -> Span {
    Span::lit("30m")
}
fn default_poll_interval() -> Span {
    Span::lit("2s")
}
fn default_max_poll_interval() -> Span {
    Span::lit("30s")
}
fn default_request_timeout() -> Span {
    Span::lit("30s")
}
fn default_retries() -> u32 {
    5
}
fn default_api_path() -> String {
    "/api/v2/".to_string()
}

impl AwxConfig {
    /// Parse the definition `runners.definitions.<name>`.
    pub fn from_value(name: &str, value: &serde_yaml_ng::Value) -> Result<AwxConfig> {
        serde_yaml_ng::from_value(value.clone())
            .map_err(|e| Error::invalid(format!("runners.definitions.{name}: {e}")))
    }
}

/// Which job template deploys a request: `byTenant`, then `byType`, then `default`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobTemplates {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_type: BTreeMap<TargetType, u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_tenant: BTreeMap<String, u64>,
}

/// A job template and the config key that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateChoice {
    pub id: u64,
    /// e.g. `jobTemplates.byTenant.tenant-finance`.
    pub chosen_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Config> {
        Config::from_yaml(
            format!("tenants: [t]\nrunners:\n{yaml}").as_bytes(),
            ".ipr/config.yaml",
        )
    }

    #[test]
    fn durations_are_checked_when_the_config_is_read() {
        let e = load("  definitions:\n    deploy: { kind: shell, command: a, timeout: soon }\n")
            .unwrap_err();
        let m = e.message();
        assert!(m.starts_with(".ipr/config.yaml: "), "{m}");
        assert!(m.contains("runners.definitions.deploy"), "{m}");
        assert!(m.contains("`soon` is not a duration"), "{m}");
        assert!(m.contains("line 4"), "{m}");

        let e = load("  definitions:\n    awx: { kind: awx, url: 'https://awx.example.com', tokenEnv: T, jobTemplates: { default: 1 }, pollInterval: 0s }\n")
            .unwrap_err();
        assert!(
            e.message().contains("runners.definitions.awx.pollInterval"),
            "{}",
            e.message()
        );

        let c = load("  definitions:\n    deploy: { kind: shell, command: a, timeout: 90s }\n")
            .unwrap();
        match RunnerDef::named(&c, "deploy").unwrap() {
            RunnerDef::Shell(s) => assert_eq!(s.timeout.get().as_secs(), 90),
            other => panic!("{other:?}"),
        }
    }
}
