//! The edge where errors become what a terminal and a shell see: the
//! `deny:` lines of a policy denial, the `error:` line, the `hint:` line,
//! and the exit code of SPEC §6. Decided here, in one place; a server maps
//! the same [`Kind`]s to HTTP statuses.

use crate::error::{Error, Kind};

use super::output::esc;

/// The documented exit code of an error kind (SPEC §6).
pub fn code(kind: Kind) -> i32 {
    match kind {
        Kind::Other | Kind::Waiting => 1,
        Kind::Usage => 2,
        Kind::Permission => 3,
        Kind::NotFound => 4,
        Kind::Conflict => 5,
        Kind::Invalid => 6,
        Kind::Untrusted => 7,
        Kind::DeployFailed => 8,
    }
}

/// Print `e` on stderr, one line each (an error can quote text from a
/// ticket, so every line is escaped), and return the exit code.
pub fn report(e: &Error) -> i32 {
    for finding in e.findings() {
        eprintln!("deny: {}", esc(&finding.to_string()));
    }
    eprintln!("error: {}", esc(e.message()));
    if let Some(hint) = e.hint() {
        eprintln!("hint: {}", esc(hint));
    }
    code(e.kind())
}
