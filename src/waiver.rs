//! `.ipr/waivers.yaml`: commits whose violations an admin accepted
//! (SPEC §10a). `ipr verify` lists a waived commit's violations as waived
//! and judges later commits from the state that commit left.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use git2::Oid;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where the waivers are kept.
pub const WAIVERS_PATH: &str = ".ipr/waivers.yaml";
/// A waiver's reason has at least this many characters.
pub const MIN_WAIVER_REASON: usize = 10;

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Waivers {
    #[serde(default)]
    pub waivers: Vec<Waiver>,
}

/// One accepted commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Waiver {
    /// The full id of the commit whose violations are accepted.
    pub commit: String,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Waivers {
    pub fn from_yaml(bytes: &[u8]) -> Result<Waivers> {
        if bytes.len() > crate::config::MAX_CONFIG_BYTES {
            return Err(Error::invalid(format!("{WAIVERS_PATH}: file is too large")));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::invalid(format!("{WAIVERS_PATH}: not valid UTF-8")))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Ok(Waivers::default());
        }
        let waivers: Waivers = serde_yaml_ng::from_str(text)
            .map_err(|e| Error::invalid(format!("{WAIVERS_PATH}: {e}")))?;
        for w in &waivers.waivers {
            if Oid::from_str(&w.commit).is_err() || w.commit.len() != 40 {
                return Err(Error::invalid(format!(
                    "{WAIVERS_PATH}: `{}` is not a full commit id",
                    w.commit.escape_debug()
                )));
            }
        }
        Ok(waivers)
    }

    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).expect("waivers always serialize")
    }

    /// The waived commits.
    pub fn commits(&self) -> HashSet<Oid> {
        self.waivers
            .iter()
            .filter_map(|w| Oid::from_str(&w.commit).ok())
            .collect()
    }
}
