//! Secrets a runner's output may carry, and removing them (SPEC §7, §9).
//!
//! ipr never stores a secret: config names the environment variables that
//! hold them (every key ending in `Env`, such as `tokenEnv`, `secretEnv`,
//! `passwordEnv`). Their values are taken from the environment when a
//! deploy starts and scrubbed from whatever a runner prints or reports,
//! in every spelling output can carry: any letter case, split by spaces or
//! line breaks, percent-encoded, or base64-encoded.

use base64::Engine as _;
use regex::{Regex, RegexBuilder};

use crate::config::Config;

/// What a scrubbed secret becomes.
pub const REDACTED: &str = "<redacted>";
/// Values shorter than this are not treated as secrets (they would match
/// ordinary words).
const MIN_SECRET_CHARS: usize = 6;

/// The secrets of one run.
#[derive(Debug, Default, Clone)]
pub struct Secrets {
    patterns: Vec<Regex>,
}

impl Secrets {
    /// The values of the environment variables the config names.
    pub fn from_config(config: &Config) -> Secrets {
        let value = serde_yaml_ng::to_value(config).unwrap_or_default();
        let mut names = Vec::new();
        env_names(&value, &mut names);
        let values: Vec<String> = names.iter().filter_map(|n| std::env::var(n).ok()).collect();
        Secrets::new(&values)
    }

    pub fn new(values: &[String]) -> Secrets {
        let mut patterns = Vec::new();
        for v in values.iter().flat_map(|v| with_url_parts(v)) {
            let v = v.trim();
            if v.chars().count() < MIN_SECRET_CHARS {
                continue;
            }
            let mut spellings = vec![spread(v)];
            let encoded =
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            if encoded != v {
                spellings.push(regex::escape(&encoded));
            }
            for engine in [
                base64::engine::general_purpose::STANDARD_NO_PAD,
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ] {
                spellings.push(regex::escape(&engine.encode(v.as_bytes())));
            }
            let built = RegexBuilder::new(&spellings.join("|"))
                .case_insensitive(true)
                .size_limit(1 << 22)
                .build();
            if let Ok(re) = built {
                patterns.push(re);
            }
        }
        Secrets { patterns }
    }

    /// `text` with every spelling of every secret replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for re in &self.patterns {
            if re.is_match(&out) {
                out = re.replace_all(&out, REDACTED).into_owned();
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// The secret's characters with any white space between them.
fn spread(v: &str) -> String {
    v.chars()
        .map(|c| regex::escape(&c.to_string()))
        .collect::<Vec<_>>()
        .join(r"\s*")
}

/// Every string value under a key ending in `Env`.
fn env_names(v: &serde_yaml_ng::Value, out: &mut Vec<String>) {
    use serde_yaml_ng::Value;
    match v {
        Value::Mapping(m) => {
            for (k, val) in m {
                match (k.as_str(), val.as_str()) {
                    (Some(key), Some(name)) if key.ends_with("Env") => out.push(name.to_string()),
                    _ => env_names(val, out),
                }
            }
        }
        Value::Sequence(s) => s.iter().for_each(|x| env_names(x, out)),
        _ => {}
    }
}

/// A secret, and if it is a URL (a Slack webhook URL is a credential)
/// the parts a receiver may echo on their own: the path, each path
/// segment that looks like a token, the query.
fn with_url_parts(value: &str) -> Vec<String> {
    let mut out = vec![value.to_string()];
    if let Ok(u) = url::Url::parse(value.trim()) {
        if u.path().len() > 1 {
            out.push(u.path().to_string());
        }
        out.extend(
            u.path_segments()
                .into_iter()
                .flatten()
                .filter(|s| s.chars().count() >= MIN_SECRET_CHARS)
                // A token, not a word like `services` or `hooks`.
                .filter(|s| {
                    s.chars()
                        .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                })
                .map(str::to_string),
        );
        out.extend(u.query().map(str::to_string));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_is_scrubbed() {
        let s = Secrets::new(&["awx-TOKEN-0123456789".to_string()]);
        for text in [
            "token awx-TOKEN-0123456789 used",
            "token AWX-token-0123456789 used",
            "token awx-TOKEN-01234\n56789 used",
            "token awx-TOKEN- 0123 456789 used",
            "token awx%2DTOKEN%2D0123456789 used",
            "token YXd4LVRPS0VOLTAxMjM0NTY3ODk used",
        ] {
            let out = s.scrub(text);
            assert_eq!(out, format!("token {REDACTED} used"), "{text}");
        }
        assert_eq!(s.scrub("nothing here"), "nothing here");
    }

    #[test]
    fn short_values_are_not_secrets() {
        assert!(Secrets::new(&["abc".to_string()]).is_empty());
    }
}
