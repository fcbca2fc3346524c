//! The parts of `terraform show -json` that analysis reads, and nothing more.
//!
//! Terraform's JSON plan format promises that new properties may appear in
//! any minor version, so none of these types refuses unknown fields. Values
//! the analysis never looks at (`before`, `after`, `planned_values`,
//! `prior_state`, `configuration`, ...) are skipped by serde_json without
//! being built, and strings are borrowed from the input where they contain no
//! escapes. That is what keeps a 50 MB plan well under a second.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};

/// A JSON string, borrowed from the input unless it had to be unescaped.
///
/// `Cow<str>` alone always allocates when it sits inside an `Option` or a
/// `Vec`; this newtype borrows everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The top level of `terraform show -json PLANFILE`.
#[derive(Debug, Deserialize)]
pub(super) struct Plan<'a> {
    #[serde(borrow, default)]
    pub format_version: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub terraform_version: Option<Text<'a>>,
    /// Present in every plan (even one without changes); its contents are
    /// not needed.
    #[serde(default)]
    pub planned_values: Option<IgnoredAny>,
    /// Present in state output (`terraform show -json` without a plan file).
    #[serde(default)]
    pub values: Option<IgnoredAny>,
    #[serde(borrow, default)]
    pub resource_changes: Option<Vec<ResourceChange<'a>>>,
    #[serde(borrow, default)]
    pub resource_drift: Option<Vec<ResourceChange<'a>>>,
    #[serde(borrow, default)]
    pub output_changes: Option<BTreeMap<String, Change<'a>>>,
    #[serde(default)]
    pub applyable: Option<bool>,
    #[serde(default)]
    pub errored: Option<bool>,
}

/// Just enough to name the format version when the full parse failed.
#[derive(Debug, Deserialize)]
pub(super) struct Header<'a> {
    #[serde(borrow, default)]
    pub format_version: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub terraform_version: Option<Text<'a>>,
}

/// One entry of `resource_changes[]` or `resource_drift[]`.
#[derive(Debug, Deserialize)]
pub(super) struct ResourceChange<'a> {
    #[serde(borrow)]
    pub address: Text<'a>,
    #[serde(borrow, default)]
    pub module_address: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub previous_address: Option<Text<'a>>,
    #[serde(borrow)]
    pub mode: Text<'a>,
    #[serde(borrow, rename = "type")]
    pub kind: Text<'a>,
    #[serde(borrow)]
    pub name: Text<'a>,
    /// Set when the change is to a deposed object left by a failed
    /// create-before-destroy replacement.
    #[serde(borrow, default)]
    pub deposed: Option<Text<'a>>,
    #[serde(borrow)]
    pub change: Change<'a>,
    #[serde(borrow, default)]
    pub action_reason: Option<Text<'a>>,
}

/// The `change` object (also the value type of `output_changes`).
#[derive(Debug, Deserialize)]
pub(super) struct Change<'a> {
    #[serde(borrow)]
    pub actions: Vec<Text<'a>>,
    /// Present (an object) when the resource is being imported.
    #[serde(default)]
    pub importing: Option<IgnoredAny>,
}
