//! `notifications:` (SPEC §9): where events go, typed when the config is
//! read. Secrets are named by environment variable, never written here.

use serde::{Deserialize, Serialize};
use url::Url;

use super::span::Span;
use crate::error::{Error, Result};
use crate::model::{EventKind, Ticket};

/// The longest a delivery may take: an action waits for it.
pub const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long one delivery may take when a target does not say.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// One notification target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Notification {
    /// A Slack incoming webhook, with a Block Kit message.
    Slack(SlackTarget),
    /// A POST of the CloudEvents document, signed per Standard Webhooks
    /// when a secret is set.
    Webhook(WebhookTarget),
    /// Email over SMTP to whom the event concerns.
    Email(EmailTarget),
    /// Records on a Kafka topic, keyed by request ID.
    Kafka(KafkaTarget),
    /// The Slack app's announcements: made from `slack.channel` by
    /// [`super::Config::targets`], never written under `notifications:`.
    #[serde(skip)]
    SlackApp(SlackAppTarget),
}

/// The name under which the Slack app's announcements are recorded as
/// delivered (`refs/ipr/notified/slack-app`).
pub const SLACK_APP_TARGET: &str = "slack-app";

/// New requests posted to `slack.channel` by the Slack app's bot, with
/// Approve and Reject buttons (SPEC §13).
#[derive(Debug, Clone, PartialEq)]
pub struct SlackAppTarget {
    pub channel: String,
    /// The environment variable that holds the bot token.
    pub bot_token_env: String,
    /// The Web API base URL, without a trailing `/`.
    pub api_base: String,
}

/// What every target has: its name and which events of which tenants it
/// wants (empty: all).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub events: Vec<EventKind>,
    pub tenants: Vec<String>,
}

impl Filter {
    pub fn wants(&self, kind: EventKind, ticket: &Ticket) -> bool {
        (self.events.is_empty() || self.events.contains(&kind))
            && (self.tenants.is_empty() || self.tenants.contains(&ticket.metadata.tenant))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlackTarget {
    pub name: String,
    /// The environment variable that holds the incoming-webhook URL (the
    /// URL is a credential).
    pub webhook_url_env: String,
    /// How long one delivery may take (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookTarget {
    pub name: String,
    pub url: Url,
    /// The environment variable that holds the signing secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// How long one delivery may take (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailTarget {
    pub name: String,
    pub smtp: Smtp,
    /// `ipr <ipr@example.com>`.
    pub from: String,
    /// Also told of `deployment-failed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<String>,
    /// How long one delivery may take (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
}

/// How to reach the SMTP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub tls: SmtpTls,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
}

fn default_smtp_port() -> u16 {
    587
}

/// `starttls` (default), `tls` (implicit TLS, port 465), or `none` (plain:
/// only for a server on this machine).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    #[default]
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KafkaTarget {
    pub name: String,
    /// `host:port` of one or more brokers.
    pub brokers: Vec<String>,
    pub topic: String,
    /// How long one delivery may take (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
}

impl Notification {
    pub fn name(&self) -> &str {
        match self {
            Notification::Slack(t) => &t.name,
            Notification::Webhook(t) => &t.name,
            Notification::Email(t) => &t.name,
            Notification::Kafka(t) => &t.name,
            Notification::SlackApp(_) => SLACK_APP_TARGET,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Notification::Slack(_) => "slack",
            Notification::Webhook(_) => "webhook",
            Notification::Email(_) => "email",
            Notification::Kafka(_) => "kafka",
            Notification::SlackApp(_) => "slack-app",
        }
    }

    /// Which events of which tenants the target wants.
    pub fn filter(&self) -> Filter {
        let (events, tenants) = match self {
            Notification::Slack(t) => (&t.events, &t.tenants),
            Notification::Webhook(t) => (&t.events, &t.tenants),
            Notification::Email(t) => (&t.events, &t.tenants),
            Notification::Kafka(t) => (&t.events, &t.tenants),
            // New requests are announced; what happens to them updates
            // the announcement.
            Notification::SlackApp(_) => return Filter::default(),
        };
        Filter {
            events: events.clone(),
            tenants: tenants.clone(),
        }
    }

    /// How long one delivery to the target may take.
    pub fn timeout(&self) -> std::time::Duration {
        let t = match self {
            Notification::Slack(t) => &t.timeout,
            Notification::Webhook(t) => &t.timeout,
            Notification::Email(t) => &t.timeout,
            Notification::Kafka(t) => &t.timeout,
            Notification::SlackApp(_) => &None,
        };
        t.as_ref().map_or(DEFAULT_TIMEOUT, Span::get)
    }

    /// The environment variables the target reads its secrets from.
    pub fn secret_envs(&self) -> Vec<&str> {
        match self {
            Notification::Slack(t) => vec![t.webhook_url_env.as_str()],
            Notification::Webhook(t) => t.secret_env.iter().map(String::as_str).collect(),
            Notification::Email(t) => [&t.smtp.username_env, &t.smtp.password_env]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect(),
            Notification::Kafka(_) => Vec::new(),
            Notification::SlackApp(t) => vec![t.bot_token_env.as_str()],
        }
    }
}

/// Names unique, tenants known, secrets named by environment variable,
/// targets that can be reached.
pub(crate) fn check(targets: &[Notification], tenants: &[String]) -> Result<()> {
    for (i, n) in targets.iter().enumerate() {
        let at = |key: &str| format!("notifications[{i}] ({}).{key}", n.name());
        if n.name().trim().is_empty() {
            return Err(Error::invalid(format!(
                "notifications[{i}].name must not be empty"
            )));
        }
        if !is_target_name(n.name()) {
            return Err(Error::invalid(format!(
                "notifications[{i}].name: `{}` is not a target name: use letters, digits, `-` and `_` (it names what was delivered, under refs/ipr/notified/)",
                n.name()
            )));
        }
        if n.timeout().is_zero() || n.timeout() > MAX_TIMEOUT {
            return Err(Error::invalid(format!(
                "{}: must be more than 0s and at most {}",
                at("timeout"),
                humantime::format_duration(MAX_TIMEOUT)
            )));
        }
        if targets[..i].iter().any(|o| o.name() == n.name()) {
            return Err(Error::invalid(format!(
                "notifications: two targets are named `{}`",
                n.name()
            )));
        }
        for t in &n.filter().tenants {
            if !tenants.contains(t) {
                return Err(Error::invalid(format!(
                    "{}: unknown tenant `{t}`",
                    at("tenants")
                )));
            }
        }
        if let Notification::Email(e) = n {
            if let Some(bad) = e.ops.iter().find(|a| a.parse::<lettre::Address>().is_err()) {
                return Err(Error::invalid(format!(
                    "{}: `{bad}` is not an email address",
                    at("ops")
                )));
            }
        }
        for env in n.secret_envs() {
            super::check_env_name(env).map_err(|e| e.context(at("…Env")))?;
        }
        match n {
            Notification::Webhook(w) if !matches!(w.url.scheme(), "http" | "https") => {
                return Err(Error::invalid(format!(
                    "{}: must be an http(s) URL",
                    at("url")
                )))
            }
            Notification::Webhook(w) if crate::model::has_credentials(&w.url) => {
                return Err(Error::invalid(format!(
                    "{}: holds a user name or password; name a secret with secretEnv instead",
                    at("url")
                )))
            }
            Notification::Kafka(k) if k.brokers.is_empty() || k.topic.trim().is_empty() => {
                return Err(Error::invalid(format!(
                    "{}: a kafka target needs brokers and a topic",
                    at("brokers")
                )))
            }
            Notification::Email(e) if e.smtp.tls == SmtpTls::None && !is_loopback(&e.smtp.host) => {
                return Err(Error::invalid(format!(
                    "{}: `none` (plain text) is only for an SMTP server on this machine (localhost); `{}` needs starttls or tls",
                    at("smtp.tls"),
                    e.smtp.host
                )))
            }
            Notification::Email(e) if e.from.parse::<lettre::message::Mailbox>().is_err() => {
                return Err(Error::invalid(format!(
                    "{}: `{}` is not an address like `ipr <ipr@example.com>`",
                    at("from"),
                    e.from
                )))
            }
            Notification::Email(e) if e.smtp.host.trim().is_empty() => {
                return Err(Error::invalid(format!(
                    "{}: must not be empty",
                    at("smtp.host")
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// A target name is a git ref component: what was delivered to it is
/// recorded under `refs/ipr/notified/<name>`.
fn is_target_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.starts_with('-')
}

/// Where plain-text SMTP is allowed: this machine.
fn is_loopback(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Notification};
    use crate::model::EventKind;

    fn load(yaml: &str) -> crate::error::Result<Config> {
        Config::from_yaml(
            format!("tenants: [tenant-finance]\n{yaml}").as_bytes(),
            ".ipr/config.yaml",
        )
    }

    /// The example of SPEC §9, as written there.
    const SPEC_EXAMPLE: &str = r#"notifications:
  - name: team-slack
    kind: slack
    webhookUrlEnv: IPR_SLACK_WEBHOOK_URL
    events: [request-created, request-approved, request-rejected, deployment-failed]
    tenants: [tenant-finance]
  - name: audit
    kind: webhook
    url: https://hooks.example.com/ipr
    secretEnv: IPR_WEBHOOK_SECRET
  - name: mail
    kind: email
    smtp: { host: smtp.example.com, port: 587, tls: starttls, usernameEnv: IPR_SMTP_USER, passwordEnv: IPR_SMTP_PASSWORD }
    from: "ipr <ipr@example.com>"
    ops: [ops@example.com]
  - name: bus
    kind: kafka
    brokers: [kafka-1.example.com:9092]
    topic: promotion-requests
"#;

    #[test]
    fn the_spec_example_parses_into_typed_targets() {
        let c = load(SPEC_EXAMPLE).unwrap();
        let kinds: Vec<&str> = c.notifications.iter().map(Notification::kind).collect();
        assert_eq!(kinds, ["slack", "webhook", "email", "kafka"]);
        let slack = c.notifications[0].filter();
        assert_eq!(slack.events[3], EventKind::DeploymentFailed);
        assert!(c.notifications[1].filter().events.is_empty());
        assert_eq!(
            c.notifications[2].secret_envs(),
            ["IPR_SMTP_USER", "IPR_SMTP_PASSWORD"]
        );
        // And it writes back as it reads.
        assert_eq!(Config::from_yaml(c.to_yaml().as_bytes(), "x").unwrap(), c);
    }

    #[test]
    fn bad_targets_are_refused_at_load() {
        for (yaml, needle) in [
            (
                "notifications:\n  - { name: a, kind: slack, webhookUrlEnv: X, events: [request-exploded] }\n",
                "request-exploded",
            ),
            (
                "notifications:\n  - { name: a, kind: pager, url: x }\n",
                "pager",
            ),
            (
                "notifications:\n  - { name: a, kind: slack, webhookUrlEnv: 'https://hooks.slack.com/services/T0/B0/x' }\n",
                "environment variable",
            ),
            (
                "notifications:\n  - { name: a, kind: webhook, url: 'https://u:p@hooks.example.com/' }\n",
                "user name or password",
            ),
            (
                "notifications:\n  - { name: a, kind: kafka, brokers: [], topic: t }\n",
                "brokers",
            ),
            (
                "notifications:\n  - { name: a, kind: webhook, url: 'https://x.example.com/' }\n  - { name: a, kind: webhook, url: 'https://y.example.com/' }\n",
                "two targets are named `a`",
            ),
            (
                "notifications:\n  - { name: a, kind: webhook, url: 'https://x.example.com/', tenants: [nope] }\n",
                "unknown tenant `nope`",
            ),
        ] {
            let e = load(yaml).unwrap_err();
            assert_eq!(crate::error::Kind::Invalid, e.kind(), "{yaml}");
            assert!(e.message().contains(needle), "{yaml}: {}", e.message());
        }
    }

    #[test]
    fn organisation_rules_name_only_what_exists() {
        for (yaml, needle) in [
            (
                "environments: [dev, staging]\napprovals: { environments: { prod: 2 } }\n",
                "`prod` is not listed under `environments:`",
            ),
            (
                "approvals: { environments: { Prod: 2, prod: 1 } }\n",
                "`prod` appears twice",
            ),
            (
                "approvals: { rules: [ { name: db, when: { planTypes: [aws_db_instance] }, require: { group: dba } } ] }\n",
                "requires group `dba`, which is not under `groups:`",
            ),
            (
                "groups: { dba: [a@example.com] }\napprovals: { rules: [ { name: db, when: {}, require: { group: dba, count: 2 } } ] }\n",
                "require.count is 2, but group `dba` has 1 member",
            ),
            ("groups: { dba: [] }\n", "groups.dba has no members"),
            ("groups: { dba: [not-an-email] }\n", "is not an email"),
            ("approvals: { requireStaged: true }\n", "approvals.requireStaged needs `environments:`"),
            ("breakGlass: { admins: 2 }\n", "breakGlass.admins is 2, but the config has 0 admin(s)"),
            (
                "approvals: { autoApprove: [ { tenants: [nope] } ] }\n",
                "unknown tenant `nope`",
            ),
            ("environments: [dev, DEV]\n", "`dev` is listed twice"),
        ] {
            let e = load(yaml).unwrap_err();
            assert_eq!(crate::error::Kind::Invalid, e.kind(), "{yaml}");
            assert!(e.message().contains(needle), "{yaml}: {}", e.message());
        }
        // A typo in them is a parse error naming the key.
        let e = load("approvals: { waitTimer: soon }\n").unwrap_err();
        assert!(
            e.message().contains("`soon` is not a duration"),
            "{}",
            e.message()
        );
        let ok = load(
            "environments: [DEV, staging, prod]\ngroups: { dba: [dba@example.com] }\napprovals: { environments: { Dev: 0, prod: 2 }, waitTimer: 5m, requireStaged: true, rules: [ { name: db, when: { planTypes: ['aws_rds_*'], environments: [PROD] }, require: { group: dba } } ], autoApprove: [ { environments: [dev], impact: [low] } ] }\ndeploy: { autoDeploy: true }\n",
        )
        .unwrap();
        assert_eq!(ok.environments, ["dev", "staging", "prod"]);
        assert_eq!(ok.approvals.environments.get("dev"), Some(&0));
        assert_eq!(ok.approvals.rules[0].when.environments, ["prod"]);
    }

    #[test]
    fn front_end_keys_are_typed_and_checked() {
        let ok = "users: { 'jean@example.com': { role: tenant-admin, tenants: [tenant-finance] } }\nserver:\n  url: https://ipr.example.com\n  identity: ipr-server@example.com\n  tokens: { 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08': jean@example.com }\n  trustedHeader: X-Forwarded-Email\n  trustedProxies: [127.0.0.1]\nslack: { signingSecretEnv: S, botTokenEnv: B, channel: C0123, users: { U012: jean@example.com } }\nllm: { baseUrl: 'https://llm.example.com/v1', model: m, apiKeyEnv: K }\n";
        let c = load(ok).unwrap();
        let server = c.server.as_ref().unwrap();
        assert_eq!(server.trusted_proxies[0].to_string(), "127.0.0.1");
        assert_eq!(c.slack.as_ref().unwrap().users["U012"], "jean@example.com");

        for (bad, needle) in [
            (ok.replace("sha256:9f86", "9f86"), "store the token's hash"),
            (ok.replace("U012: jean", "U012: nobody"), "slack.users.U012"),
            (
                ok.replace("  trustedProxies: [127.0.0.1]\n", ""),
                "trustedProxies",
            ),
            (
                ok.replace("apiKeyEnv: K", "apiKeyEnv: 'sk-live abc'"),
                "llm.apiKeyEnv",
            ),
            // A bearer token's variable holds nothing else.
            (
                ok.replace("apiKeyEnv: K", "apiKeyEnv: S"),
                "llm.apiKeyEnv: `S` also holds slack.signingSecretEnv",
            ),
            (
                ok.replace("botTokenEnv: B", "botTokenEnv: K"),
                "also holds slack.botTokenEnv",
            ),
            (ok.replace("U012:", "jean:"), "not a Slack user id"),
            (
                ok.replace("channel: C0123", "channel: C0123, apiUrl: 'ftp://x'"),
                "slack.apiUrl",
            ),
        ] {
            let e = load(&bad).unwrap_err();
            assert!(e.message().contains(needle), "{}", e.message());
        }
    }
}
