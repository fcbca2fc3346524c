//! The optional keys of SPEC §4a (rules that fit an organisation), §12
//! (the server) and §13 (Slack and the LLM), typed when the config is read.
//!
//! They parse and are checked here so that a typo is refused at load. The
//! rules of §4a that this version does not apply yet are refused by
//! [`super::Config`] rather than accepted and ignored: an approval rule an
//! admin wrote must never be silently weaker than what it says.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use url::Url;

use super::span::Span;
use crate::model::{Impact, TargetType};

/// Conditions of an approval rule or an auto-approval; every condition
/// given must hold (SPEC §4a).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct When {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<TargetType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub impact: Vec<Impact>,
    /// Resource types of the plan, with `*` globs (`aws_rds_*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_types: Vec<String>,
    /// The plan's monthly cost grows by more than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_cost_increase_above: Option<f64>,
}

/// `approvals.rules[]`: extra approvals from a group when `when` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalRule {
    pub name: String,
    pub when: When,
    pub require: Require,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Require {
    pub group: String,
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

/// `breakGlass:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BreakGlass {
    /// Distinct admins a break-glass deploy needs.
    #[serde(default = "one")]
    pub admins: u32,
    /// When the incident report is due after a break-glass deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_within: Option<Span>,
}

/// `deploy:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeployConfig {
    /// The approval that completes the quorum deploys at once.
    #[serde(default)]
    pub auto_deploy: bool,
}

impl DeployConfig {
    pub(crate) fn is_default(&self) -> bool {
        *self == DeployConfig::default()
    }
}

/// `server:` (SPEC §12).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerConfig {
    /// Public base URL, used in links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    /// Committer of the server's commits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// `sha256:<hex>` of an API token -> the user it acts as.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tokens: BTreeMap<String, String>,
    /// A header an auth proxy sets to the user's email...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_header: Option<String>,
    /// ...believed only from these addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<IpAddr>,
    /// The environment variable holding the AWX webhook's shared secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awx_webhook_secret_env: Option<String>,
}

/// `slack:` (SPEC §13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlackConfig {
    pub signing_secret_env: String,
    pub bot_token_env: String,
    /// Where new requests are announced with buttons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Slack user id -> ipr user (admin-controlled).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, String>,
    /// The Slack Web API [default: https://slack.com/api] (another base
    /// only for a Slack-compatible service or a test double).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
}

/// Where the Slack Web API is when `slack.apiUrl` does not say.
pub const SLACK_API_URL: &str = "https://slack.com/api";

impl SlackConfig {
    /// The Web API base URL, without a trailing `/`.
    pub fn api_base(&self) -> String {
        self.api_url
            .as_ref()
            .map_or(SLACK_API_URL, Url::as_str)
            .trim_end_matches('/')
            .to_string()
    }

    /// The ipr user a Slack user acts as, if an admin mapped them.
    pub fn user_of(&self, slack_user: &str) -> Option<&str> {
        self.users.get(slack_user).map(String::as_str)
    }
}

/// Whether `id` is spelled as Slack spells user ids (`U012AB3CD`,
/// `W012AB3CD`): capitals and digits after a `U` or `W`.
pub fn is_slack_user_id(id: &str) -> bool {
    id.len() >= 3
        && id.len() <= 32
        && (id.starts_with('U') || id.starts_with('W'))
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `llm:` (SPEC §13): any OpenAI-compatible chat-completions API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LlmConfig {
    pub base_url: Url,
    pub model: String,
    pub api_key_env: String,
    /// How long one answer may take (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
}

impl LlmConfig {
    /// The longest `timeout:` accepted.
    pub const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
    const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

    /// How long one answer may take.
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .as_ref()
            .map_or(Self::DEFAULT_TIMEOUT, Span::get)
    }
}
