//! The one error type of the library.
//!
//! Every failure ipr can report is an [`Error`]: a [`Kind`] that decides the
//! exit code (SPEC §6), a message for the `error:` line and, where a fix is
//! known, a hint for the `hint:` line. Library code builds these with the
//! constructors below; only `main` turns them into text and an exit status.

use std::fmt;

/// What went wrong, as far as the caller's exit status is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// I/O, git, network: exit 1.
    Other,
    /// Bad command line: exit 2.
    Usage,
    /// RBAC, self-approval, duplicate approval, freeze, missing signing key: exit 3.
    Permission,
    /// Ticket, repository or config not found: exit 4.
    NotFound,
    /// Illegal state transition or a concurrent update that lost the race: exit 5.
    Conflict,
    /// Validation, bad YAML, bad ID: exit 6.
    Invalid,
    /// `ipr verify` found violations: exit 7.
    Violations,
    /// The runner reported a failed deployment: exit 8.
    DeployFailed,
}

impl Kind {
    /// The documented exit code (SPEC §6).
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Other => 1,
            Kind::Usage => 2,
            Kind::Permission => 3,
            Kind::NotFound => 4,
            Kind::Conflict => 5,
            Kind::Invalid => 6,
            Kind::Violations => 7,
            Kind::DeployFailed => 8,
        }
    }
}

/// An error with its exit-code kind and an optional hint.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    kind: Kind,
    message: String,
    hint: Option<String>,
    code: Option<&'static str>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            code: None,
        }
    }
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Kind::Other, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    pub fn permission(message: impl Into<String>) -> Self {
        Self::new(Kind::Permission, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Kind::Invalid, message)
    }
    pub fn violations(message: impl Into<String>) -> Self {
        Self::new(Kind::Violations, message)
    }
    pub fn deploy_failed(message: impl Into<String>) -> Self {
        Self::new(Kind::DeployFailed, message)
    }

    /// Attach the `hint:` line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Name the rule that refused, as a stable kebab-case id (for example
    /// `self-approval`), so `ipr verify` can report which rule a replayed
    /// transition broke without matching on message text.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// Prefix the message with context, keeping kind and hint.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
    /// The rule id given with [`Error::with_code`], if any.
    pub fn code(&self) -> Option<&'static str> {
        self.code
    }
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Self {
        let kind = match e.code() {
            git2::ErrorCode::Locked | git2::ErrorCode::Modified => Kind::Conflict,
            git2::ErrorCode::NotFound => Kind::NotFound,
            _ => Kind::Other,
        };
        Error::new(kind, format!("git: {}", e.message()))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::other(e.to_string())
    }
}
