//! `kind: email`: multipart text + HTML over SMTP, to whom the event
//! concerns (the audience is computed by the engine, [`Message::recipients`]).
//!
//! The three templates (`email-subject.txt`, `email.txt`, `email.html`)
//! are minijinja templates; a repository replaces any of them by
//! committing a file of that name under `.ipr/templates/`. HTML is
//! auto-escaped, so text from a ticket cannot add markup. A replacement
//! that does not render falls back to the embedded one, with a warning.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::SmtpTransport;
use lettre::Transport as _;
use serde_json::json;

use super::{secret, Message, Sent};
use crate::config::{EmailTarget, SmtpTls};
use crate::error::{Error, Result};
use crate::events::EventKind;

/// The templates' names, as files under `.ipr/templates/`.
pub const TEMPLATE_NAMES: [&str; 3] = ["email-subject.txt", "email.txt", "email.html"];

const DEFAULTS: [(&str, &str); 3] = [
    (
        "email-subject.txt",
        include_str!("templates/email-subject.txt"),
    ),
    ("email.txt", include_str!("templates/email.txt")),
    ("email.html", include_str!("templates/email.html")),
];

/// Bounds a replaced template's work (minijinja "fuel").
const FUEL: u64 = 200_000;

/// The templates in force: the embedded ones, replaced by those the
/// repository committed.
#[derive(Default)]
pub struct Templates {
    overrides: BTreeMap<String, String>,
    /// What went wrong with a replaced template (reported once each).
    problems: Mutex<Vec<String>>,
}

impl Templates {
    /// `overrides`: file name -> source, from `.ipr/templates/`.
    pub fn new(overrides: BTreeMap<String, String>) -> Templates {
        Templates {
            overrides,
            problems: Mutex::new(Vec::new()),
        }
    }

    /// Problems found so far, each once; draining them.
    pub fn take_problems(&self) -> Vec<String> {
        self.problems
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }

    fn render(&self, name: &str, ctx: &serde_json::Value) -> Result<String> {
        if let Some(source) = self.overrides.get(name) {
            match render_one(name, source, ctx) {
                Ok(s) => return Ok(s),
                Err(e) => {
                    if let Ok(mut p) = self.problems.lock() {
                        let line =
                            format!(".ipr/templates/{name}: {e}; the embedded template was used");
                        if !p.contains(&line) {
                            p.push(line);
                        }
                    }
                }
            }
        }
        let source = DEFAULTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
            .expect("an embedded template of every name");
        render_one(name, source, ctx).map_err(|e| Error::other(format!("template {name}: {e}")))
    }

    /// Subject, text and HTML of the email about `m`.
    pub fn email(&self, m: &Message) -> Result<(String, String, String)> {
        let ctx = context(m);
        let subject = self.render("email-subject.txt", &ctx)?;
        // One line, whatever a template or a ticket holds.
        let subject: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        let subject: String = subject.chars().take(250).collect();
        Ok((
            subject,
            self.render("email.txt", &ctx)?,
            self.render("email.html", &ctx)?,
        ))
    }
}

fn render_one(
    name: &str,
    source: &str,
    ctx: &serde_json::Value,
) -> std::result::Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.add_template(name, source).map_err(|e| describe(&e))?;
    let t = env.get_template(name).map_err(|e| describe(&e))?;
    t.render(minijinja::value::Serde(ctx))
        .map_err(|e| describe(&e))
}

fn describe(e: &minijinja::Error) -> String {
    match e.line() {
        Some(line) => format!(
            "line {line}: {}",
            e.detail().unwrap_or(&e.kind().to_string())
        ),
        None => e.to_string(),
    }
}

/// What templates see: `event` (type, id, headline, actor, ...), and
/// `request`, the ticket as JSON.
pub fn context(m: &Message) -> serde_json::Value {
    let e = &m.event;
    json!({
        "event": {
            "type": e.kind.as_str(),
            "id": e.id,
            "headline": m.headline(),
            "verb": m.verb(),
            "target": m.target(),
            "actor": e.actor,
            "byLabel": by_label(e.kind),
            "time": e.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "commit": e.commit.to_string(),
            "url": m.url,
            "approvals": m.approvals_text(),
            "reason": m.reason(),
            "reasonLabel": if e.kind == EventKind::DeploymentFailed { "Error" } else { "Reason" },
        },
        "request": serde_json::to_value(&e.ticket).unwrap_or_default(),
    })
}

fn by_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::RequestCreated => "Requested by",
        EventKind::RequestApproved => "Approved by",
        EventKind::RequestRejected => "Rejected by",
        EventKind::RequestCancelled => "Cancelled by",
        EventKind::RequestCommented => "Comment by",
        _ => "Deployed by",
    }
}

/// The message about `m` to one recipient: each gets their own (nobody
/// sees who else was told), with a `Message-ID` that is the same on every
/// retry, so a mail system can drop a repeat.
pub fn build(
    target: &EmailTarget,
    m: &Message,
    templates: &Templates,
    to: Mailbox,
) -> Result<lettre::Message> {
    let from: Mailbox = target
        .from
        .parse()
        .map_err(|e| Error::other(format!("from: {e}")))?;
    let (subject, text, html) = templates.email(m)?;
    let who = crate::model::hex(&<sha2::Sha256 as sha2::Digest>::digest(
        to.email.to_string().to_lowercase().as_bytes(),
    ));
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(format!(
            "<ipr.{}.{:.12}@{}>",
            m.event.id,
            who,
            from.email.domain()
        )))
        .date(m.event.time.into())
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(text))
                .singlepart(SinglePart::html(html)),
        )
        .map_err(|e| Error::other(format!("cannot build the email: {e}")))
}

/// Send the email about `m` to each of its recipients. A recipient the
/// server refuses for good (no such mailbox: 550, 551, 553) is a warning,
/// not a failure: retrying cannot help and must not hold up later events.
/// Anything else (server down, authentication, TLS) fails, to be retried.
pub fn send(
    target: &EmailTarget,
    timeout: Duration,
    m: &Message,
    templates: &Templates,
) -> Result<Sent> {
    if m.recipients.is_empty() {
        return Ok(Sent::ok());
    }
    let smtp = &target.smtp;
    let at = format!("SMTP {}:{}", smtp.host, smtp.port);
    let builder = match smtp.tls {
        SmtpTls::None => SmtpTransport::builder_dangerous(&smtp.host),
        SmtpTls::Starttls => SmtpTransport::starttls_relay(&smtp.host)
            .map_err(|e| Error::other(format!("{at}: {e}")))?,
        SmtpTls::Tls => {
            SmtpTransport::relay(&smtp.host).map_err(|e| Error::other(format!("{at}: {e}")))?
        }
    };
    let mut builder = builder.port(smtp.port).timeout(Some(timeout));
    match (&smtp.username_env, &smtp.password_env) {
        (Some(u), Some(p)) => {
            builder = builder.credentials(Credentials::new(
                secret(u, "SMTP user name")?,
                secret(p, "SMTP password")?,
            ))
        }
        (None, None) => {}
        _ => {
            return Err(Error::other(
                "smtp: usernameEnv and passwordEnv go together",
            ))
        }
    }
    let transport = builder.build();
    let mut refused = Vec::new();
    for r in &m.recipients {
        let Ok(to) = r.parse::<Mailbox>() else {
            refused.push(format!("`{r}` is not an email address; not sent to it"));
            continue;
        };
        let email = build(target, m, templates, to)?;
        match transport.send(&email) {
            Ok(_) => {}
            Err(e) if no_such_mailbox(&e) => {
                refused.push(format!("{at} refused {r} for good ({e}); not retried"))
            }
            Err(e) => return Err(Error::other(format!("{at}: {e}"))),
        }
    }
    if refused.len() == m.recipients.len() {
        return Ok(Sent::Rejected(refused.join("; ")));
    }
    Ok(Sent::Delivered { warnings: refused })
}

/// 550 (mailbox unavailable), 551 (not local), 553 (mailbox name not
/// allowed): the address, not the server, is the problem.
fn no_such_mailbox(e: &lettre::transport::smtp::Error) -> bool {
    e.is_permanent()
        && e.status()
            .is_some_and(|c| matches!(u16::from(c), 550 | 551 | 553))
}
