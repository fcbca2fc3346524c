//! The error every engine call returns.
//!
//! An [`Error`] says what went wrong as a [`Kind`] (the category a front end
//! maps to an exit code or an HTTP status; the CLI does it in
//! `cli::exit`), a message for people, an optional hint, the typed detail
//! of the layer that refused ([`Detail`]: the rule of a refusal, the field
//! problems of a validation, the findings of a policy denial, the
//! violation that makes history untrusted) and the underlying error as its
//! `source()`. No exit code, HTTP status or command line lives here.

use std::fmt;

use crate::violation::Violation;

/// What went wrong, as a category a front end maps to its own codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// I/O, git, network.
    Other,
    /// A bad command line or call.
    Usage,
    /// RBAC, self-approval, duplicate approval, freeze, policy denial,
    /// missing signing key.
    Permission,
    /// Ticket, repository or config not found.
    NotFound,
    /// Illegal state transition, or a concurrent update that lost the race.
    Conflict,
    /// Validation, bad YAML, bad ID.
    Invalid,
    /// History does not verify: `ipr verify` found violations, or an action
    /// was refused because the history it acts on does not verify.
    Untrusted,
    /// A launched job could not be watched to its end (the runner cannot be
    /// reached, refuses credentials, timed out): the job may still run.
    Waiting,
    /// The runner reported a failed deployment.
    DeployFailed,
}

/// The typed detail of an error, from the layer that raised it.
#[derive(Debug, Clone, Default)]
pub enum Detail {
    #[default]
    None,
    /// A rule of the workflow or the access policy refused.
    Refused(Refusal),
    /// Validation: every problem found, each naming its field.
    Problems(Vec<Problem>),
    /// `.ipr/policies` denied: their findings.
    Denied(Vec<Finding>),
    /// The violation that makes the history untrusted (SPEC §10a).
    Untrusted(Box<Violation>),
}

/// One validation problem: the field (`spec.request.justification`) and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The rules of the workflow and the access policy that refuse an action,
/// carried by the error (see [`Error::refusal`]; `crate::workflow` and
/// `crate::policy` raise them) so that `ipr verify`
/// reports which rule a replayed transition broke and a server can answer
/// with it, without reading messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// The actor holds no role that allows the action for the tenant.
    NoRole,
    /// The requester approving or rejecting their own request.
    SelfApproval,
    /// A second approval by the same person.
    DuplicateApproval,
    /// A transition SPEC §5 does not allow from the current state.
    IllegalTransition,
    /// A rejection without a reason long enough.
    RejectReason,
    /// A deploy before `approvals.waitTimer` has passed.
    WaitTimer,
    /// A break-glass step without the admins `breakGlass.admins` asks for.
    BreakGlass,
    /// A request whose target is not deployed in the previous environment
    /// (`approvals.requireStaged`).
    NotStaged,
}

/// A `deny` or `warn` message of `.ipr/policies` and the policy file(s) of
/// its package (raised by `crate::rego`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub policy: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.policy)
    }
}

/// What to do about an error, when the fix is an operation of ipr: each
/// front end says it in its own terms (the CLI names a command, a server
/// an endpoint), so no command line is written in the library. Advice that
/// holds for every front end (`git config user.signingkey KEY`) is a plain
/// hint ([`Error::with_hint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Create or choose the gitops repository.
    OpenRepo,
    /// Set the repository up for ipr.
    Init,
    /// See the requests one may see.
    ListRequests,
    /// See every violation of the branch's history.
    ListViolations,
    /// An admin reverts `commit`, or accepts its violations with a waiver.
    ResolveViolation { commit: String },
    /// Undo an outgoing commit that does not verify before pushing.
    UndoOutgoing,
    /// Record a job's outcome by hand, after `first` (front-end neutral
    /// advice) when given.
    RecordOutcome {
        id: Option<String>,
        job: Option<String>,
        first: Option<&'static str>,
    },
    /// Deploy `id` again: it resumes watching `job`, never launches another.
    ResumeWatching { id: String, job: String },
    /// Use the job id the request's `deploying` entry records.
    RecordedJobId,
    /// File a terraform request with its plan JSON and saved plan file.
    FileTerraformRequest,
    /// Change the plan so `.ipr/policies` pass (their fixtures are tested
    /// by the policy test command).
    FixPlanForPolicies { dir: &'static str },
    /// Reject with a reason long enough.
    GiveRejectReason,
    /// Sync again once `first` is done with git.
    SyncAfter { first: &'static str },
    /// Make a token and add the config line it prints.
    NewToken,
    /// A git hook ipr did not write: add verification to it, or replace it.
    HookNotOurs,
    /// The commit landed but the work tree lags: run any ipr command.
    FinishLanding,
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error with its kind, detail, hint and source (boxed: errors travel
/// through every `Result` of the engine and should be one pointer wide).
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: Kind,
    message: String,
    hint: Option<String>,
    remedy: Option<Remedy>,
    detail: Detail,
    source: Option<Source>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            hint: None,
            remedy: None,
            detail: Detail::None,
            source: None,
        }))
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
    pub fn untrusted(message: impl Into<String>) -> Self {
        Self::new(Kind::Untrusted, message)
    }
    pub fn waiting(message: impl Into<String>) -> Self {
        Self::new(Kind::Waiting, message)
    }
    pub fn deploy_failed(message: impl Into<String>) -> Self {
        Self::new(Kind::DeployFailed, message)
    }

    /// A validation error carrying every problem (`context: p1; p2`).
    pub fn problems(context: &str, problems: Vec<Problem>) -> Self {
        let joined: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        let message = if context.is_empty() {
            joined.join("; ")
        } else {
            format!("{context}: {}", joined.join("; "))
        };
        Error::invalid(message).with_detail(Detail::Problems(problems))
    }

    /// An I/O error on `path`, kept as the source.
    pub fn io(path: impl fmt::Display, e: std::io::Error) -> Self {
        let kind = match e.kind() {
            std::io::ErrorKind::NotFound => Kind::NotFound,
            _ => Kind::Other,
        };
        Error::new(kind, format!("{path}: {e}")).with_source(e)
    }

    /// Attach the hint: what to do about it, for people.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = Some(hint.into());
        self
    }

    /// Attach the remedy: an ipr operation that fixes it.
    pub fn with_remedy(mut self, remedy: Remedy) -> Self {
        self.0.remedy = Some(remedy);
        self
    }

    /// Name the rule of the workflow or access policy that refused, so
    /// `ipr verify` and a server can tell which without reading the message.
    pub fn with_refusal(self, rule: Refusal) -> Self {
        self.with_detail(Detail::Refused(rule))
    }

    pub fn with_detail(mut self, detail: Detail) -> Self {
        self.0.detail = detail;
        self
    }

    /// Keep `source` as the cause (`std::error::Error::source`).
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.0.source = Some(source.into());
        self
    }

    /// Prefix the message with context, keeping kind, detail and hint.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.0.message = format!("{context}: {}", self.0.message);
        self
    }

    pub fn kind(&self) -> Kind {
        self.0.kind
    }
    pub fn message(&self) -> &str {
        &self.0.message
    }
    pub fn hint(&self) -> Option<&str> {
        self.0.hint.as_deref()
    }
    pub fn remedy(&self) -> Option<&Remedy> {
        self.0.remedy.as_ref()
    }
    pub fn detail(&self) -> &Detail {
        &self.0.detail
    }
    /// The refusing rule given with [`Error::with_refusal`], if any.
    pub fn refusal(&self) -> Option<Refusal> {
        match self.0.detail {
            Detail::Refused(r) => Some(r),
            _ => None,
        }
    }
    /// The validation problems, if this is a validation error.
    pub fn problem_list(&self) -> &[Problem] {
        match &self.0.detail {
            Detail::Problems(p) => p,
            _ => &[],
        }
    }
    /// The policy findings, if `.ipr/policies` denied.
    pub fn findings(&self) -> &[Finding] {
        match &self.0.detail {
            Detail::Denied(f) => f,
            _ => &[],
        }
    }
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Self {
        let kind = match e.code() {
            git2::ErrorCode::Locked | git2::ErrorCode::Modified => Kind::Conflict,
            git2::ErrorCode::NotFound => Kind::NotFound,
            _ => Kind::Other,
        };
        Error::new(kind, format!("git: {}", e.message())).with_source(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::other(e.to_string()).with_source(e)
    }
}
