//! The HTTP side of the AWX runner: one call with bounded retries on
//! transient errors (never a replay that could launch a job twice), the
//! token in the `Authorization` header only and scrubbed from anything AWX
//! answers, bounded bodies, and the errors that say what AWX answered.

use std::fmt;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use super::{AwxRunner, JOB_PREFIX};
use crate::config::Span;
use crate::error::{Error, Result};

/// Text quoted from an AWX error response is cut to this many characters.
const MAX_DETAIL_CHARS: usize = 500;
/// Larger response bodies are refused.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The token; its `Debug` never shows it.
pub(super) struct Token {
    value: String,
    header: HeaderValue,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl AwxRunner {
    pub(super) fn endpoint(&self, op: Op) -> Url {
        let path = match op {
            Op::Launch(t) => format!("job_templates/{t}/launch/"),
            Op::Poll(j) => format!("jobs/{j}/"),
            Op::Cancel(j) => format!("jobs/{j}/cancel/"),
        };
        self.api.join(&path).expect("a relative path joins")
    }

    /// Remove the token from text that came from AWX.
    pub(super) fn scrub(&self, text: &str) -> String {
        if self.token.value.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.token.value, "<redacted>")
        }
    }

    /// One request with retries on transient errors; returns the 2xx status and JSON body.
    pub(super) async fn call(&self, op: Op, body: Option<&Value>) -> Result<(StatusCode, Value)> {
        let url = self.endpoint(op);
        let mut delay = self.poll_interval;
        let mut attempt = 0u32;
        loop {
            let (transient, retry_after) = match self.attempt(op, &url, body).await {
                Attempt::Done(status, value) => return Ok((status, value)),
                Attempt::Fatal(e) => return Err(e),
                Attempt::Transient { what, retry_after } => (what, retry_after),
            };
            if attempt >= self.retries {
                let mut e = Error::other(format!(
                    "could not {} at {url}: {} failed ({} attempts); last: {transient}",
                    op.what(),
                    op.method(),
                    attempt + 1
                ));
                if let Op::Poll(job) = op {
                    e = e.with_hint(still_running_hint(job));
                }
                return Err(e);
            }
            attempt += 1;
            let pause = retry_after.unwrap_or(delay).min(self.max_poll_interval);
            tokio::time::sleep(pause).await;
            delay = (delay * 2).min(self.max_poll_interval);
        }
    }

    pub(super) async fn attempt(&self, op: Op, url: &Url, body: Option<&Value>) -> Attempt {
        let mut request = self
            .client
            .request(op.method(), url.clone())
            .header(header::AUTHORIZATION, self.token.header.clone())
            .header(header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return self.transport_error(op, url, &e),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = match read_body(response).await {
            Ok(b) => b,
            Err(BodyError::TooLarge) => {
                return Attempt::Fatal(Error::other(format!(
                    "AWX answered {status} to {} ({url}) with more than {MAX_BODY_BYTES} bytes",
                    op.what()
                )))
            }
            Err(BodyError::Http(e)) => return self.transport_error(op, url, &e),
        };
        if status.is_success() {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                // e.g. 202 Accepted from a cancel
                return Attempt::Done(status, Value::Null);
            }
            return match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => Attempt::Done(status, v),
                Err(_) => Attempt::Fatal(
                    Error::other(format!(
                        "AWX answered {status} to {} ({url}) with a body that is not JSON",
                        op.what()
                    ))
                    .with_hint(
                        "check that url points at the AWX server, not a login page or proxy",
                    ),
                ),
            };
        }
        let detail = self.scrub(&detail_of(&bytes));
        let detail = bounded(&detail, MAX_DETAIL_CHARS);
        let quoted = if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        };
        match status.as_u16() {
            429 | 503 => Attempt::Transient {
                what: format!("{status}{quoted}"),
                retry_after: retry_after(&headers),
            },
            502 | 504 if op.replay_safe() => Attempt::Transient {
                what: format!("{status}{quoted}"),
                retry_after: None,
            },
            _ => Attempt::Fatal(self.status_error(op, url, status, &quoted, &headers)),
        }
    }

    pub(super) fn transport_error(&self, op: Op, url: &Url, e: &reqwest::Error) -> Attempt {
        let what = self.scrub(&chain(e));
        // A connect error means the request never left; anything later may
        // have reached AWX.
        if e.is_connect() || op.replay_safe() {
            Attempt::Transient {
                what,
                retry_after: None,
            }
        } else {
            Attempt::Fatal(maybe_launched(op, url, &what))
        }
    }

    pub(super) fn status_error(
        &self,
        op: Op,
        url: &Url,
        status: StatusCode,
        quoted: &str,
        headers: &HeaderMap,
    ) -> Error {
        let env = &self.token_env;
        match status.as_u16() {
            401 => Error::permission(format!(
                "AWX rejected the token from ${env} ({status}{quoted})"
            ))
            .with_hint(format!(
                "set {env} to a valid AWX OAuth2 or personal access token for {}",
                self.api.origin().ascii_serialization()
            )),
            403 => {
                let hint = match op {
                    Op::Launch(t) => {
                        format!("give the token's user the Execute role on job template {t}")
                    }
                    Op::Poll(j) | Op::Cancel(j) => format!(
                        "give the token's user access to job {j} (Read or Execute on its job template)"
                    ),
                };
                Error::permission(format!(
                    "AWX refused to {}: the token's user lacks permission ({status}{quoted})",
                    op.what()
                ))
                .with_hint(hint)
            }
            404 => {
                let (what, hint) = match op {
                    Op::Launch(t) => (
                        format!("job template {t}"),
                        "check jobTemplates in the AWX runner definition (and url/apiPath)",
                    ),
                    Op::Poll(j) | Op::Cancel(j) => (
                        format!("job {j}"),
                        "check the job id and the runner's url/apiPath",
                    ),
                };
                Error::not_found(format!(
                    "AWX has no {what}: {url} answered {status}{quoted}"
                ))
                .with_hint(hint)
            }
            300..=399 => {
                let location = headers
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(|l| self.scrub(l))
                    .unwrap_or_else(|| "elsewhere".to_string());
                Error::other(format!(
                    "AWX redirected {} ({url}) to {}; ipr does not follow redirects",
                    op.what(),
                    bounded(&location, MAX_DETAIL_CHARS)
                ))
                .with_hint("set url to the address AWX's API answers on (https://...)")
            }
            502 | 504 => maybe_launched(op, url, &format!("{status}{quoted}")),
            400 if matches!(op, Op::Launch(_)) => Error::other(format!(
                "AWX refused to {} ({status}{quoted})",
                op.what()
            ))
            .with_hint(
                "the template may need survey answers, credentials or an inventory ipr does not send",
            ),
            _ => Error::other(format!(
                "AWX answered {status} to {} ({url}){quoted}",
                op.what()
            )),
        }
    }
}

/// An AWX call, for URLs and messages.
#[derive(Debug, Clone, Copy)]
pub(super) enum Op {
    Launch(u64),
    Poll(u64),
    Cancel(u64),
}

impl Op {
    pub(super) fn method(self) -> Method {
        match self {
            Op::Launch(_) | Op::Cancel(_) => Method::POST,
            Op::Poll(_) => Method::GET,
        }
    }
    pub(super) fn what(self) -> String {
        match self {
            Op::Launch(t) => format!("launch job template {t}"),
            Op::Poll(j) => format!("read job {j}"),
            Op::Cancel(j) => format!("cancel job {j}"),
        }
    }
    /// Whether sending it twice does no harm (a second launch would deploy twice).
    pub(super) fn replay_safe(self) -> bool {
        !matches!(self, Op::Launch(_))
    }
}

pub(super) enum Attempt {
    Done(StatusCode, Value),
    Transient {
        what: String,
        retry_after: Option<Duration>,
    },
    Fatal(Error),
}

pub(super) enum BodyError {
    TooLarge,
    Http(reqwest::Error),
}

pub(super) async fn read_body(
    mut response: reqwest::Response,
) -> std::result::Result<Vec<u8>, BodyError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Http)? {
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The `detail` of an AWX error body, or the body itself.
pub(super) fn detail_of(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(o)) => match o.get("detail") {
            Some(Value::String(s)) => s.clone(),
            _ => Value::Object(o).to_string(),
        },
        Ok(v) => v.to_string(),
        Err(_) => String::from_utf8_lossy(bytes).trim().to_string(),
    }
}

pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

pub(super) fn maybe_launched(op: Op, url: &Url, what: &str) -> Error {
    let e = Error::other(format!("could not {} at {url}: {what}", op.what()));
    match op {
        Op::Launch(t) => e.with_hint(format!(
            "AWX may have started a job anyway, so ipr did not retry: look for a recent job of \
             template {t} in AWX before deploying again"
        )),
        _ => e,
    }
}

pub(super) fn still_running_hint(job: u64) -> String {
    format!(
        "the job may still be running on AWX; run `ipr deploy` on the request again to resume \
         waiting for {JOB_PREFIX}{job}"
    )
}

/// `awx-job-42` or `42`.
pub(super) fn parse_job_id(job_id: &str) -> Result<u64> {
    let digits = job_id.strip_prefix(JOB_PREFIX).unwrap_or(job_id);
    match digits.parse::<u64>() {
        Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(Error::invalid(format!(
            "`{}` is not an AWX job id",
            bounded(job_id, 100).escape_debug()
        ))
        .with_hint(format!("AWX job ids look like {JOB_PREFIX}42"))),
    }
}

pub(super) fn positive(span: &Span, what: &str) -> Result<Duration> {
    let d = span.get();
    if d.is_zero() {
        return Err(Error::invalid(format!("{what}: must be more than 0")));
    }
    Ok(d)
}

/// `{url}{apiPath}`, ending in `/`; refuses URLs that would leak or mislead.
pub(super) fn api_base(url: &Url, api_path: &str) -> Result<Url> {
    let bad = |why: &str| Error::invalid(format!("awx runner url: {why}"));
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback {
                return Err(bad("http:// would send the AWX token unencrypted")
                    .with_hint("use https:// (plain http is only allowed to localhost)"));
            }
        }
        other => return Err(bad(&format!("unsupported scheme `{other}`, use https://"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Do not echo the URL: it holds a credential.
        return Err(bad("must not hold a user name or password")
            .with_hint("put the token in the variable named by tokenEnv"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    let path = api_path.trim_matches('/');
    if path.is_empty()
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(Error::invalid(format!(
            "awx runner apiPath: `{}` is not a path like /api/v2/",
            api_path.escape_debug()
        )));
    }
    let base = format!("{}/{path}/", url.as_str().trim_end_matches('/'));
    Url::parse(&base).map_err(|e| bad(&e.to_string()))
}

pub(super) fn check_token_env(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && !name.as_bytes()[0].is_ascii_digit()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    // AWX tokens are long runs of letters and digits; an environment variable
    // name rarely is. Refuse without echoing what may be the token itself.
    let looks_like_token = name.len() >= 20
        && !name.contains('_')
        && name.bytes().any(|b| b.is_ascii_digit())
        && name.bytes().any(|b| b.is_ascii_lowercase());
    if !valid || looks_like_token {
        return Err(Error::invalid(
            "awx runner tokenEnv: must be the name of an environment variable (like IPR_AWX_TOKEN)",
        )
        .with_hint(
            "the token itself never goes into .ipr/config.yaml; if it did, revoke it in AWX",
        ));
    }
    Ok(())
}

pub(super) fn read_token(env: &str) -> Result<Token> {
    let missing = |why: &str| {
        Error::permission(format!("AWX token: environment variable {env} {why}")).with_hint(
            format!("export {env}=<AWX OAuth2 or personal access token> before running ipr"),
        )
    };
    let value = match std::env::var(env) {
        Ok(v) => v.trim().to_string(),
        Err(std::env::VarError::NotPresent) => return Err(missing("is not set")),
        Err(std::env::VarError::NotUnicode(_)) => return Err(missing("is not valid UTF-8")),
    };
    if value.is_empty() {
        return Err(missing("is empty"));
    }
    let mut header = HeaderValue::from_str(&format!("Bearer {value}"))
        .map_err(|_| missing("holds characters not allowed in an HTTP header"))?;
    header.set_sensitive(true);
    Ok(Token { value, header })
}

/// An error and its sources, on one line.
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Control characters (other than newline and tab) replaced, and at most
/// `max` characters: the head and the tail, with `…` between.
pub(super) fn bounded(text: &str, max: usize) -> String {
    let clean: Vec<char> = text
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    if clean.len() <= max {
        return clean.into_iter().collect();
    }
    let marker = " … ";
    let keep = max.saturating_sub(marker.chars().count());
    let head = keep / 2;
    let tail = keep - head;
    let mut out: String = clean[..head].iter().collect();
    out.push_str(marker);
    out.extend(&clean[clean.len() - tail..]);
    out
}
