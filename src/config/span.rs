//! Durations in config (`72h`, `30m`, `1h 30m`), parsed when the config is
//! read so a typo is refused at load, naming its key and line, not at the
//! first deploy that needs it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A duration as written in config, with its parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    text: String,
    value: Duration,
}

impl Span {
    /// Parse `text`; `Err` says why it is not a duration.
    pub fn parse(text: &str) -> std::result::Result<Span, String> {
        humantime::parse_duration(text.trim())
            .map(|value| Span {
                text: text.trim().to_string(),
                value,
            })
            .map_err(|e| {
                format!("`{text}` is not a duration ({e}); write it like 72h, 30m or 1h 30m")
            })
    }

    /// A span from a known-good literal (defaults).
    pub(crate) fn lit(text: &str) -> Span {
        Span::parse(text).expect("a default duration parses")
    }

    pub fn get(&self) -> Duration {
        self.value
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Span::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Parse a duration like `72h`, `30m`, `1h 30m`; `what` names it in errors.
pub fn parse_duration(s: &str, what: &str) -> Result<Duration> {
    humantime::parse_duration(s.trim()).map_err(|e| {
        Error::invalid(format!("{what}: `{s}` is not a duration ({e})"))
            .with_hint("write it like 72h, 30m or 1h 30m")
    })
}
