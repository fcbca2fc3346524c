//! `.ipr/config.yaml` (SPEC §3): tenants, users and roles, approval rules,
//! signing, runners, notifications, freezes, plan risk rules.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Remedy, Result};
use crate::model::{
    is_environment_name, normalize_environment, same_email, Impact, DEFAULT_API_VERSION,
};
use crate::plan::PlanConfig;

pub mod notifications;
pub mod org;
pub mod runners;
pub mod span;

pub use notifications::{
    EmailTarget, KafkaTarget, Notification, SlackTarget, Smtp, SmtpTls, WebhookTarget,
};
pub use org::{
    is_slack_user_id, ApprovalRule, BreakGlass, DeployConfig, LlmConfig, ServerConfig, SlackConfig,
    When, SLACK_API_URL,
};
pub use runners::{RunnerDef, RunnerRule, Runners};
pub use span::{parse_duration, Span};

/// Path of the config file inside the gitops repo.
pub const CONFIG_PATH: &str = ".ipr/config.yaml";
/// Path of the ssh allowed-signers file inside the gitops repo.
pub const ALLOWED_SIGNERS_PATH: &str = ".ipr/allowed_signers";
/// Config files larger than this are refused before parsing.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_api_version")]
    pub api_version: String,
    #[serde(default)]
    pub tenants: Vec<String>,
    /// The known target environments (SPEC §4a); empty means any
    /// lowercase identifier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    /// Users by email. Two spellings of one email are one person, so a
    /// config naming someone twice is refused.
    #[serde(default, deserialize_with = "users_once")]
    pub users: BTreeMap<String, User>,
    #[serde(default)]
    pub approvals: Approvals,
    #[serde(default)]
    pub signing: Signing,
    #[serde(default)]
    pub runners: Runners,
    #[serde(default)]
    pub notifications: Vec<Notification>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freezes: Vec<Freeze>,
    #[serde(default, skip_serializing_if = "SyncConfig::is_default")]
    pub sync: SyncConfig,
    /// Risk rules of `terraform` plans (SPEC §8).
    #[serde(default, skip_serializing_if = "is_default_plan")]
    pub plan: PlanConfig,
    /// Named reviewer groups (SPEC §4a).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlass>,
    #[serde(default, skip_serializing_if = "DeployConfig::is_default")]
    pub deploy: DeployConfig,
    /// `ipr serve` (SPEC §12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerConfig>,
    /// The Slack app (SPEC §13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackConfig>,
    /// The LLM that drafts requests from text (SPEC §13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmConfig>,
}

fn is_default_plan(plan: &PlanConfig) -> bool {
    *plan == PlanConfig::default()
}

/// `sync:`: how clones share the repo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncConfig {
    /// Every action behaves as if given `--push`.
    #[serde(default)]
    pub auto_push: bool,
    /// Remote used when the branch has no upstream (default `origin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
}

impl SyncConfig {
    fn is_default(&self) -> bool {
        *self == SyncConfig::default()
    }
}

/// The start of the message of a person named twice under `users:`.
const NAMED_TWICE: &str = "users: one person is named twice: ";

/// `users:` as a map in which no email appears twice, in any spelling.
fn users_once<'de, D>(d: D) -> std::result::Result<BTreeMap<String, User>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Users;
    impl<'de> serde::de::Visitor<'de> for Users {
        type Value = BTreeMap<String, User>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of email to user")
        }
        fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out: BTreeMap<String, User> = BTreeMap::new();
            while let Some((email, user)) = map.next_entry::<String, User>()? {
                if let Some(first) = out.keys().find(|k| same_email(k, &email)) {
                    return Err(serde::de::Error::custom(format!(
                        "{NAMED_TWICE}`{first}` and `{email}`"
                    )));
                }
                out.insert(email, user);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Users)
}

/// The 1-based lines of `text` whose mapping key is `key` (any case,
/// quoted or not): where a person named twice is.
fn key_lines(text: &str, key: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let l = line.trim_start().trim_start_matches(['{', ',', ' ']);
            let l = l.trim_start_matches(['"', '\'']);
            l.len() > key.len()
                && l.is_char_boundary(key.len())
                && same_email(&l[..key.len()], key)
                && l[key.len()..]
                    .trim_start_matches(['"', '\''])
                    .trim_start()
                    .starts_with(':')
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// serde's message, made to point at the runner definition it is about:
/// the error of one definition is raised where `definitions:` starts, so
/// the line is that of the definition's own key.
fn locate(text: &str, message: &str) -> String {
    const AT: &str = "runners.definitions.";
    let Some(start) = message.find(AT) else {
        return message.to_string();
    };
    let rest = &message[start..];
    let name: String = rest[AT.len()..]
        .chars()
        .take_while(|c| *c != ':' && *c != '.' && !c.is_whitespace())
        .collect();
    let rest = match rest.rfind(" at line ") {
        Some(at) => &rest[..at],
        None => rest,
    };
    match key_lines(text, &name).first() {
        Some(line) => format!("{rest} (line {line})"),
        None => rest.to_string(),
    }
}

/// `line 4 and line 6`: the lines of `text` where these keys stand.
fn where_keys_stand(text: &str, keys: &[&str]) -> String {
    let mut lines: Vec<usize> = keys.iter().flat_map(|k| key_lines(text, k)).collect();
    lines.sort();
    lines.dedup();
    lines
        .iter()
        .map(|l| format!("line {l}"))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// An environment variable name (a secret is named, never written).
pub(crate) fn check_env_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && !name.as_bytes()[0].is_ascii_digit()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            "must be the name of an environment variable (like IPR_WEBHOOK_SECRET), not the secret",
        ))
    }
}

fn default_api_version() -> String {
    DEFAULT_API_VERSION.to_string()
}

/// The four roles of SPEC §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    #[serde(rename = "devops")]
    Devops,
    #[serde(rename = "tenant-admin")]
    TenantAdmin,
    #[serde(rename = "admin")]
    Admin,
    #[serde(rename = "viewer")]
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Devops => "devops",
            Role::TenantAdmin => "tenant-admin",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Approvals {
    /// Approvals needed when the impact has no entry of its own.
    #[serde(default = "one")]
    pub default: u32,
    /// Approvals needed per impact level.
    #[serde(default)]
    pub impact: BTreeMap<Impact, u32>,
    /// Approvals older than this lapse before deploy, e.g. `72h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_after: Option<Span>,
    /// Approvals needed per target environment (SPEC §4a).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, u32>,
    /// After quorum, deploy waits this long (SPEC §4a).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_timer: Option<Span>,
    /// A request needs its target deployed in the previous environment.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_staged: bool,
    /// Extra approvals from groups (SPEC §4a).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<ApprovalRule>,
    /// Requests approved at create by `system` (SPEC §4a).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auto_approve: Vec<When>,
}

fn one() -> u32 {
    1
}

impl Default for Approvals {
    fn default() -> Self {
        Approvals {
            default: 1,
            impact: BTreeMap::new(),
            expire_after: None,
            environments: BTreeMap::new(),
            wait_timer: None,
            require_staged: false,
            rules: Vec::new(),
            auto_approve: Vec::new(),
        }
    }
}

impl Approvals {
    /// How many distinct approvals a request of this impact needs.
    pub fn required(&self, impact: Impact) -> u32 {
        self.impact
            .get(&impact)
            .copied()
            .unwrap_or(self.default)
            .max(1)
    }

    /// `expireAfter` as a duration.
    pub fn expire_after(&self) -> Result<Option<Duration>> {
        Ok(self.expire_after.as_ref().map(Span::get))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Signing {
    /// When true, every transition commit must be signed.
    #[serde(default)]
    pub required: bool,
}

/// A window in which deploys are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Freeze {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub reason: String,
    /// Target environments it applies to; empty means all.
    #[serde(default)]
    pub environments: Vec<String>,
}

impl Config {
    /// Parse `.ipr/config.yaml`; `origin` names the file in errors.
    pub fn from_yaml(bytes: &[u8], origin: &str) -> Result<Config> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(Error::invalid(format!(
                "{origin}: file is {} bytes, larger than the {MAX_CONFIG_BYTES}-byte limit",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::invalid(format!("{origin}: not valid UTF-8")))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // Any key twice in one mapping is refused, not silently merged.
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).map_err(|e| {
            let message = e.to_string();
            let key = message
                .split_once("duplicate entry with key \"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(k, _)| k.to_string());
            match key {
                Some(key) => Error::invalid(format!(
                    "{origin}: `{key}` appears twice in one mapping ({})",
                    where_keys_stand(text, &[&key])
                ))
                .with_hint("keep one entry per key"),
                None => Error::invalid(format!("{origin}: {message}")),
            }
        })?;
        let mut config: Config = serde_yaml_ng::from_str(text).map_err(|e| {
            let message = e.to_string();
            match message.find(NAMED_TWICE) {
                Some(at) => {
                    let names: Vec<&str> = message[at + NAMED_TWICE.len()..]
                        .split('`')
                        .skip(1)
                        .step_by(2)
                        .take(2)
                        .collect();
                    Error::invalid(format!(
                        "{origin}: {}{} ({}); emails are compared without case",
                        NAMED_TWICE,
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(" and "),
                        where_keys_stand(text, &names)
                    ))
                    .with_hint("keep one entry per person")
                }
                None => Error::invalid(format!("{origin}: {}", locate(text, &message))),
            }
        })?;
        config.normalize(origin)?;
        config.check(origin)?;
        Ok(config)
    }

    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).expect("a config always serializes")
    }

    /// Environment names in their one form (SPEC §4a), so a freeze on
    /// `PROD` covers `prod`.
    fn normalize(&mut self, origin: &str) -> Result<()> {
        let a = &mut self.approvals;
        let env_quorums = std::mem::take(&mut a.environments);
        for (env, n) in env_quorums {
            let key = normalize_environment(&env);
            if !is_environment_name(&key) {
                return Err(Error::invalid(format!(
                    "{origin}: approvals.environments: `{}` is not an environment name (lowercase letters, digits and -)",
                    env.escape_debug()
                )));
            }
            if a.environments.insert(key.clone(), n).is_some() {
                return Err(Error::invalid(format!(
                    "{origin}: approvals.environments: `{key}` appears twice (environments are compared without case)"
                )));
            }
        }
        let lists = std::iter::once(("environments", &mut self.environments))
            .chain(
                self.freezes
                    .iter_mut()
                    .map(|f| ("freezes[].environments", &mut f.environments)),
            )
            .chain(a.rules.iter_mut().map(|r| {
                (
                    "approvals.rules[].when.environments",
                    &mut r.when.environments,
                )
            }))
            .chain(
                a.auto_approve
                    .iter_mut()
                    .map(|w| ("approvals.autoApprove[].environments", &mut w.environments)),
            );
        for (key, list) in lists {
            for env in list.iter_mut() {
                let n = normalize_environment(env);
                if !is_environment_name(&n) {
                    return Err(Error::invalid(format!(
                        "{origin}: {key}: `{}` is not an environment name (lowercase letters, digits and -)",
                        env.escape_debug()
                    )));
                }
                *env = n;
            }
        }
        Ok(())
    }

    fn check(&self, origin: &str) -> Result<()> {
        for (email, user) in &self.users {
            for t in &user.tenants {
                if !self.tenants.contains(t) {
                    return Err(Error::invalid(format!(
                        "{origin}: users.{email}.tenants: unknown tenant `{t}`"
                    ))
                    .with_hint("list it under `tenants:` first"));
                }
            }
        }
        self.check_org(origin)?;
        notifications::check(&self.notifications, &self.tenants).map_err(|e| e.context(origin))?;
        self.check_front_ends().map_err(|e| e.context(origin))?;
        for (name, def) in &self.runners.definitions {
            def.check(name).map_err(|e| e.context(origin))?;
        }
        Ok(())
    }

    /// `environments:`, `groups:`, `approvals.rules`, `autoApprove` and
    /// `breakGlass` (SPEC §4a) name only what exists, so that a typo never
    /// makes a rule silently weaker than what it says.
    fn check_org(&self, origin: &str) -> Result<()> {
        let a = &self.approvals;
        let known_env = |key: &str, env: &str| -> Result<()> {
            if !self.environments.is_empty() && !self.environments.iter().any(|e| e == env) {
                return Err(Error::invalid(format!(
                    "{origin}: {key}: `{env}` is not listed under `environments:` ({})",
                    self.environments.join(", ")
                )));
            }
            Ok(())
        };
        let mut seen: Vec<&str> = Vec::new();
        for env in &self.environments {
            if seen.contains(&env.as_str()) {
                return Err(Error::invalid(format!(
                    "{origin}: environments: `{env}` is listed twice"
                )));
            }
            seen.push(env);
        }
        for env in a.environments.keys() {
            known_env("approvals.environments", env)?;
        }
        let known_tenant = |key: &str, t: &str| -> Result<()> {
            if !self.tenants.iter().any(|x| x == t) {
                return Err(Error::invalid(format!(
                    "{origin}: {key}: unknown tenant `{t}`"
                )));
            }
            Ok(())
        };
        for (name, members) in &self.groups {
            if members.is_empty() {
                return Err(Error::invalid(format!(
                    "{origin}: groups.{name} has no members; a rule requiring it could never be met"
                )));
            }
            for m in members {
                if !m.contains('@') || m.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(Error::invalid(format!(
                        "{origin}: groups.{name}: `{}` is not an email",
                        m.escape_debug()
                    )));
                }
            }
        }
        for (i, rule) in a.rules.iter().enumerate() {
            let key = format!("approvals.rules[{i}] ({})", rule.name);
            let Some(members) = self.groups.get(&rule.require.group) else {
                return Err(Error::invalid(format!(
                    "{origin}: {key}: requires group `{}`, which is not under `groups:`",
                    rule.require.group
                )));
            };
            if rule.require.count == 0 || rule.require.count as usize > members.len() {
                return Err(Error::invalid(format!(
                    "{origin}: {key}: require.count is {}, but group `{}` has {} member(s)",
                    rule.require.count,
                    rule.require.group,
                    members.len()
                )));
            }
        }
        let whens = a
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("approvals.rules[{i}].when"), &r.when))
            .chain(
                a.auto_approve
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (format!("approvals.autoApprove[{i}]"), w)),
            );
        for (key, when) in whens {
            for env in &when.environments {
                known_env(&key, env)?;
            }
            for t in &when.tenants {
                known_tenant(&key, t)?;
            }
            if let Some(limit) = when.monthly_cost_increase_above {
                if !limit.is_finite() {
                    return Err(Error::invalid(format!(
                        "{origin}: {key}.monthlyCostIncreaseAbove must be a number"
                    )));
                }
            }
        }
        if a.require_staged && self.environments.len() < 2 {
            return Err(Error::invalid(format!(
                "{origin}: approvals.requireStaged needs `environments:` listed in promotion order (at least two)"
            )));
        }
        if let Some(b) = &self.break_glass {
            if b.admins == 0 {
                return Err(Error::invalid(format!(
                    "{origin}: breakGlass.admins must be at least 1"
                )));
            }
            let admins = self
                .users
                .values()
                .filter(|u| u.role == Role::Admin)
                .count();
            if b.admins as usize > admins {
                return Err(Error::invalid(format!(
                    "{origin}: breakGlass.admins is {}, but the config has {admins} admin(s)",
                    b.admins
                )));
            }
        }
        Ok(())
    }

    /// `server:`, `slack:` and `llm:`: secrets named by environment
    /// variable, tokens stored as hashes, users that exist.
    fn check_front_ends(&self) -> Result<()> {
        if let Some(s) = &self.server {
            if let Some(id) = &s.identity {
                if self.user(id).is_some() {
                    return Err(Error::invalid(format!(
                        "server.identity: `{id}` is a user under `users:`; the server's identity must be its own (its key may sign for anyone)"
                    )));
                }
            }
            for (hash, user) in &s.tokens {
                let hex = hash.strip_prefix("sha256:").unwrap_or("");
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Error::invalid(
                        "server.tokens: a key is not `sha256:` and 64 hex digits; store the token's hash, never the token",
                    )
                    .with_remedy(Remedy::NewToken));
                }
                if self.user(user).is_none() {
                    return Err(Error::invalid(format!(
                        "server.tokens: `{user}` is not a user under `users:`"
                    )));
                }
            }
            if let Some(env) = &s.awx_webhook_secret_env {
                check_env_name(env).map_err(|e| e.context("server.awxWebhookSecretEnv"))?;
            }
            if s.trusted_header.is_some() && s.trusted_proxies.is_empty() {
                return Err(Error::invalid(
                    "server.trustedHeader needs server.trustedProxies: the header is believed only from them",
                ));
            }
        }
        if let Some(s) = &self.slack {
            check_env_name(&s.signing_secret_env)
                .map_err(|e| e.context("slack.signingSecretEnv"))?;
            check_env_name(&s.bot_token_env).map_err(|e| e.context("slack.botTokenEnv"))?;
            if let Some(url) = &s.api_url {
                if !matches!(url.scheme(), "http" | "https") || crate::model::has_credentials(url) {
                    return Err(Error::invalid(
                        "slack.apiUrl: must be an http(s) URL without credentials",
                    ));
                }
            }
            if s.channel.is_some()
                && self
                    .notifications
                    .iter()
                    .any(|n| n.name() == notifications::SLACK_APP_TARGET)
            {
                return Err(Error::invalid(format!(
                    "notifications: `{}` is the name of the Slack app's announcements (slack.channel); name the target otherwise",
                    notifications::SLACK_APP_TARGET
                )));
            }
            for (slack_user, user) in &s.users {
                if !is_slack_user_id(slack_user) {
                    return Err(Error::invalid(format!(
                        "slack.users: `{}` is not a Slack user id (like U012AB3CD: the member id in the user's Slack profile, not a name)",
                        slack_user.escape_debug()
                    )));
                }
                if self.user(user).is_none() {
                    return Err(Error::invalid(format!(
                        "slack.users.{slack_user}: `{user}` is not a user under `users:`"
                    )));
                }
            }
        }
        // A token sent as a bearer to a URL the config names must hold
        // nothing else: naming another secret's variable would send that
        // secret there.
        let bearers = [
            self.llm
                .as_ref()
                .map(|l| ("llm.apiKeyEnv", l.api_key_env.as_str())),
            self.slack
                .as_ref()
                .map(|s| ("slack.botTokenEnv", s.bot_token_env.as_str())),
        ];
        for (key, env) in bearers.into_iter().flatten() {
            let others = self.secret_envs();
            if others.iter().filter(|(_, e)| *e == env).count() > 1 {
                let with: Vec<&str> = others
                    .iter()
                    .filter(|(k, e)| *e == env && *k != key)
                    .map(|(k, _)| *k)
                    .collect();
                return Err(Error::invalid(format!(
                    "{key}: `{env}` also holds {}; give each its own variable",
                    with.join(", ")
                )));
            }
        }
        if let Some(l) = &self.llm {
            check_env_name(&l.api_key_env).map_err(|e| e.context("llm.apiKeyEnv"))?;
            if l.timeout().is_zero() || l.timeout() > LlmConfig::MAX_TIMEOUT {
                return Err(Error::invalid(format!(
                    "llm.timeout: must be more than 0s and at most {}",
                    humantime::format_duration(LlmConfig::MAX_TIMEOUT)
                )));
            }
        }
        Ok(())
    }

    /// Every environment variable the config names for a secret, with
    /// where it is named.
    fn secret_envs(&self) -> Vec<(&'static str, &str)> {
        let mut all: Vec<(&'static str, &str)> = Vec::new();
        if let Some(s) = &self.server {
            if let Some(e) = &s.awx_webhook_secret_env {
                all.push(("server.awxWebhookSecretEnv", e));
            }
        }
        if let Some(s) = &self.slack {
            all.push(("slack.signingSecretEnv", &s.signing_secret_env));
            all.push(("slack.botTokenEnv", &s.bot_token_env));
        }
        if let Some(l) = &self.llm {
            all.push(("llm.apiKeyEnv", &l.api_key_env));
        }
        for n in &self.notifications {
            for e in n.secret_envs() {
                all.push(("a notification target's secret", e));
            }
        }
        for def in self.runners.definitions.values() {
            if let RunnerDef::Awx(awx) = def {
                all.push(("an AWX runner's tokenEnv", &awx.token_env));
            }
        }
        all
    }

    /// Every notification target: those under `notifications:`, and the
    /// Slack app's announcements when `slack.channel` is set.
    pub fn targets(&self) -> Vec<Notification> {
        let mut all = self.notifications.clone();
        if let Some(s) = &self.slack {
            if let Some(channel) = &s.channel {
                all.push(Notification::SlackApp(notifications::SlackAppTarget {
                    channel: channel.clone(),
                    bot_token_env: s.bot_token_env.clone(),
                    api_base: s.api_base(),
                }));
            }
        }
        all
    }

    /// The user entry of an actor, if the actor is known.
    pub fn user(&self, email: &str) -> Option<&User> {
        self.users.get(email).or_else(|| {
            self.users
                .iter()
                .find(|(k, _)| same_email(k, email))
                .map(|(_, u)| u)
        })
    }

    /// A starting config for `ipr init`.
    pub fn starter(tenants: Vec<String>, admin: Option<String>) -> Config {
        let mut users = BTreeMap::new();
        if let Some(admin) = admin {
            users.insert(
                admin,
                User {
                    role: Role::Admin,
                    tenants: Vec::new(),
                },
            );
        }
        let mut impact = BTreeMap::new();
        impact.insert(Impact::High, 2);
        impact.insert(Impact::Critical, 2);
        Config {
            api_version: default_api_version(),
            tenants,
            environments: Vec::new(),
            users,
            approvals: Approvals {
                impact,
                ..Approvals::default()
            },
            signing: Signing::default(),
            runners: Runners::default(),
            notifications: Vec::new(),
            freezes: Vec::new(),
            sync: SyncConfig::default(),
            plan: PlanConfig::default(),
            groups: BTreeMap::new(),
            break_glass: None,
            deploy: DeployConfig::default(),
            server: None,
            slack: None,
            llm: None,
        }
    }
}
