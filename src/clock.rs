//! The current time. `IPR_NOW` (RFC 3339) pins it; it exists so tests and
//! demos get stable output, and is documented as such.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// Now, or the instant `IPR_NOW` names.
pub fn now() -> Result<DateTime<Utc>> {
    match std::env::var("IPR_NOW") {
        Ok(s) if !s.is_empty() => DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| Error::usage(format!("IPR_NOW=`{s}` is not an RFC 3339 date-time ({e})"))),
        _ => Ok(truncate(Utc::now())),
    }
}

/// Whole seconds: git commit times have no fractions, and history entries
/// should read the same as the commit that records them.
fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}
