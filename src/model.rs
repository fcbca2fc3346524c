//! The PromotionRequest ticket (SPEC §2): types, parsing, validation, digest.
//!
//! Field order in these structs is the key order ipr writes, which is the
//! seed format's order. Every struct refuses unknown keys.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// `kind:` of every ticket.
pub const KIND: &str = "PromotionRequest";
/// `apiVersion:` of new tickets unless config says otherwise.
pub const DEFAULT_API_VERSION: &str = "gostoa.dev/v1";
/// Tickets larger than this are refused before parsing.
pub const MAX_TICKET_BYTES: usize = 1024 * 1024;
/// Minimum length of `spec.request.justification` on create.
pub const MIN_JUSTIFICATION: usize = 20;
/// Minimum length of a rejection reason.
pub const MIN_REJECT_REASON: usize = 10;
/// The highest request number of a year: IDs are at most six digits wide,
/// so ID arithmetic can never wrap (SPEC §10a).
pub const MAX_ID_NUMBER: u32 = 999_999;

/// Whether two emails name one person: emails are compared
/// case-insensitively everywhere (SPEC §3).
pub fn same_email(a: &str, b: &str) -> bool {
    email_key(a) == email_key(b)
}

/// The form of an email two spellings of one person share.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether a character shows nothing: controls, zero-width spaces and
/// joiners, direction marks and overrides, byte-order marks, soft hyphens,
/// fillers.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{3164}'
                | '\u{feff}'
                | '\u{ffa0}'
        )
}

/// The number of characters of `s` that show, without surrounding blanks:
/// what minimum lengths count, so 21 zero-width spaces are not a
/// justification.
pub fn visible_len(s: &str) -> usize {
    s.trim_matches(|c: char| c.is_whitespace() || is_invisible(c))
        .chars()
        .filter(|c| !is_invisible(*c))
        .count()
}

/// Whether an environment name is a lowercase identifier (SPEC §4a).
pub fn is_environment_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An environment name as typed (`PROD`, `" prod"`) in its one form.
pub fn normalize_environment(s: &str) -> String {
    s.trim().to_lowercase()
}

/// `PR-<year>-<n>`, n zero-padded to at least four digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId {
    pub year: i32,
    pub number: u32,
}

impl RequestId {
    pub fn new(year: i32, number: u32) -> Self {
        RequestId { year, number }
    }

    /// The ID after this one, or an error once the year's IDs run out.
    pub fn next(self) -> Result<RequestId> {
        match self.number.checked_add(1) {
            Some(n) if n <= MAX_ID_NUMBER => Ok(RequestId::new(self.year, n)),
            _ => Err(Error::conflict(format!(
                "no request IDs are left in {}: PR-{}-{MAX_ID_NUMBER} is the last one",
                self.year, self.year
            ))),
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PR-{:04}-{:04}", self.year, self.number)
    }
}

impl FromStr for RequestId {
    type Err = Error;

    /// Accepts exactly the canonical form: `PR-`, four year digits, `-`, and
    /// a number of at least four digits with no extra leading zeros.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(format!("invalid request ID `{}`", s.escape_debug()))
                .with_hint("IDs look like PR-2026-0042")
        };
        let rest = s.strip_prefix("PR-").ok_or_else(bad)?;
        let (year, number) = rest.split_once('-').ok_or_else(bad)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || number.len() < 4 || !digits(number) {
            return Err(bad());
        }
        if number.len() > 4 && number.starts_with('0') {
            return Err(bad());
        }
        if number.len() > 6 {
            return Err(Error::invalid(format!(
                "invalid request ID `{}`: numbers have at most 6 digits",
                s.escape_debug()
            )));
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let number: u32 = number.parse().map_err(|_| bad())?;
        if number == 0 || year == 0 {
            return Err(bad());
        }
        Ok(RequestId { year, number })
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e: Error| serde::de::Error::custom(e.message()))
    }
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::invalid(format!(
                        "invalid {} `{}`: expected one of {}",
                        stringify!($name).to_lowercase(),
                        s.escape_debug(),
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] { Self::ALL }
            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.as_str()))
            }
        }
    };
}

string_enum!(
    /// `spec.target.type`.
    TargetType { Api = "api", Application = "application", Policy = "policy", Terraform = "terraform" }
);
string_enum!(
    /// `spec.request.impactAssessment`, ordered low to critical.
    Impact { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
);
string_enum!(
    /// `status.state` (SPEC §5).
    State {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        Deploying = "deploying",
        Deployed = "deployed",
        Failed = "failed",
        Cancelled = "cancelled",
    }
);
string_enum!(
    /// `status.history[].action`.
    Action {
        Created = "created",
        Approved = "approved",
        Rejected = "rejected",
        Cancelled = "cancelled",
        Deploying = "deploying",
        Deployed = "deployed",
        Failed = "failed",
        Commented = "commented",
        BreakGlass = "break-glass",
        BreakGlassConfirmed = "break-glass-confirmed",
        Incident = "incident",
    }
);

/// The event names of SPEC §9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    RequestCreated,
    RequestApproved,
    RequestRejected,
    RequestCancelled,
    RequestCommented,
    DeploymentStarted,
    DeploymentSucceeded,
    DeploymentFailed,
}

impl EventKind {
    pub const ALL: &'static [EventKind] = &[
        EventKind::RequestCreated,
        EventKind::RequestApproved,
        EventKind::RequestRejected,
        EventKind::RequestCancelled,
        EventKind::RequestCommented,
        EventKind::DeploymentStarted,
        EventKind::DeploymentSucceeded,
        EventKind::DeploymentFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RequestCreated => "request-created",
            EventKind::RequestApproved => "request-approved",
            EventKind::RequestRejected => "request-rejected",
            EventKind::RequestCancelled => "request-cancelled",
            EventKind::RequestCommented => "request-commented",
            EventKind::DeploymentStarted => "deployment-started",
            EventKind::DeploymentSucceeded => "deployment-succeeded",
            EventKind::DeploymentFailed => "deployment-failed",
        }
    }

    /// The event a history entry of this action is; break-glass
    /// agreements and incident reports are history, not events.
    pub fn of(action: Action) -> Option<EventKind> {
        Some(match action {
            Action::Created => EventKind::RequestCreated,
            Action::Approved => EventKind::RequestApproved,
            Action::Rejected => EventKind::RequestRejected,
            Action::Cancelled => EventKind::RequestCancelled,
            Action::Commented => EventKind::RequestCommented,
            Action::Deploying => EventKind::DeploymentStarted,
            Action::Deployed => EventKind::DeploymentSucceeded,
            Action::Failed => EventKind::DeploymentFailed,
            Action::BreakGlass | Action::BreakGlassConfirmed | Action::Incident => return None,
        })
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        EventKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown event `{s}` (known: {})", known.join(", "))
            })
    }
}

impl State {
    /// deployed, rejected and cancelled end a request.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Deployed | State::Rejected | State::Cancelled)
    }
}

/// One PromotionRequest file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ticket {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: Spec,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    pub id: RequestId,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub tenant: String,
}

/// What is being asked for. Approvals sign a digest of exactly this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    pub target: Target,
    pub request: RequestDetails,
    pub pre_checks: PreChecks,
    /// Only for `terraform` targets (SPEC §8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanRef>,
    /// The deployed request this one promotes to the next environment
    /// (`ipr promote`, SPEC §4a).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_from: Option<RequestId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: TargetType,
    pub name: String,
    pub version: String,
    pub source_environment: String,
    pub target_environment: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestDetails {
    pub justification: String,
    pub release_notes: Option<String>,
    pub impact_assessment: Impact,
    pub rollback_plan: String,
    pub scheduled_date: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreChecks {
    pub staging_tests_passed: bool,
    pub security_scan_passed: bool,
    #[serde(default)]
    pub performance_tests_passed: bool,
    pub test_evidence_url: url::Url,
}

/// The plan a `terraform` request was approved for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanRef {
    /// `sha256:<hex>` of the `terraform show -json` output.
    pub json_sha256: String,
    /// `sha256:<hex>` of the saved binary plan that deploy applies.
    pub file_sha256: Option<String>,
    /// Summary line, like `terraform plan`'s last line.
    pub summary: String,
    pub risk: Impact,
    /// `warn` messages of `.ipr/policies` when the request was created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Resource types the plan changes (not no-ops), sorted: what
    /// `approvals.rules[].when.planTypes` matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_types: Vec<String>,
    /// The monthly cost before and after, from infracost (`--cost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

/// The monthly cost before and after a change, in `currency`
/// (`spec.plan.cost`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cost {
    pub monthly_before: f64,
    pub monthly_after: f64,
    /// ISO 4217 code, upper case: `USD`, `EUR`.
    pub currency: String,
}

impl Cost {
    /// How much more the change costs per month (negative when it saves).
    pub fn increase(&self) -> f64 {
        self.monthly_after - self.monthly_before
    }
}

/// `120.45 → 230.10 USD/month (+109.65)`: amounts to the cent.
impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} → {} {}/month ({})",
            crate::model::amount(self.monthly_before),
            crate::model::amount(self.monthly_after),
            self.currency,
            crate::model::signed_amount(self.increase())
        )
    }
}

/// `1361.3075` as `1361.31`.
pub(crate) fn amount(value: f64) -> String {
    format!("{value:.2}")
}

/// `+109.65`, `-20.00`, `+0.00` (never `-0.00`).
pub(crate) fn signed_amount(value: f64) -> String {
    let cents = (value * 100.0).round();
    let cents = if cents == 0.0 { 0.0 } else { cents };
    format!("{:+.2}", cents / 100.0)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Status {
    pub state: State,
    pub history: Vec<HistoryEntry>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub deployed_at: Option<DateTime<Utc>>,
    pub rejected_by: Option<String>,
    pub rejected_at: Option<DateTime<Utc>>,
    pub rejection_reason: Option<String>,
}

/// One line of `status.history`. Optional fields are omitted when empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistoryEntry {
    pub action: Action,
    pub at: DateTime<Utc>,
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `sha256:<hex>` of the spec an `approved` entry approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Reason given with `--break-glass` to deploy inside a freeze.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<String>,
    /// The incident report an `incident` entry records (an http(s) URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

impl Status {
    /// The status of a request just created by `by` at `at`.
    pub fn created(at: DateTime<Utc>, by: &str) -> Status {
        Status {
            state: State::Pending,
            history: vec![HistoryEntry::new(Action::Created, at, by)],
            approved_by: None,
            approved_at: None,
            deployed_at: None,
            rejected_by: None,
            rejected_at: None,
            rejection_reason: None,
        }
    }
}

impl HistoryEntry {
    pub fn new(action: Action, at: DateTime<Utc>, by: &str) -> Self {
        HistoryEntry {
            action,
            at,
            by: by.to_string(),
            comment: None,
            digest: None,
            runner: None,
            job_id: None,
            deployment_id: None,
            error: None,
            break_glass: None,
            report: None,
        }
    }
}

/// What reads filter, count and search a ticket by, without the rest of
/// it: kept per ticket in the summary cache (SPEC §14), so `list`, `stats`
/// and the review queue need not parse every ticket file. Built only by
/// [`Summary::of`], so it says exactly what the ticket says.
///
/// Its serialized form is the cache's alone, so its keys are short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(rename = "i")]
    pub id: RequestId,
    #[serde(rename = "s")]
    pub state: State,
    #[serde(rename = "t")]
    pub tenant: String,
    #[serde(rename = "c")]
    pub created_by: String,
    #[serde(rename = "n")]
    pub name: String,
    #[serde(rename = "v")]
    pub version: String,
    #[serde(rename = "e")]
    pub target_environment: String,
    #[serde(rename = "j")]
    pub justification: String,
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<DateTime<Utc>>,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub rejected_at: Option<DateTime<Utc>>,
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<DateTime<Utc>>,
    /// Deployed with break glass at least once (its incident report may
    /// be due, SPEC §4a).
    #[serde(rename = "b", default, skip_serializing_if = "std::ops::Not::not")]
    pub break_glass: bool,
}

impl Summary {
    pub fn of(t: &Ticket) -> Summary {
        let target = &t.spec.target;
        Summary {
            id: t.id(),
            state: t.status.state,
            tenant: t.metadata.tenant.clone(),
            created_by: t.metadata.created_by.clone(),
            name: target.name.clone(),
            version: target.version.clone(),
            target_environment: target.target_environment.clone(),
            justification: t.spec.request.justification.clone(),
            approved_at: t.status.approved_at,
            rejected_at: t.status.rejected_at,
            deployed_at: t.status.deployed_at,
            break_glass: t
                .status
                .history
                .iter()
                .any(|e| e.action == Action::Deploying && e.break_glass.is_some()),
        }
    }
}

impl Ticket {
    pub fn id(&self) -> RequestId {
        self.metadata.id
    }

    /// `requests/prod/YYYY/MM/PR-YYYY-NNNN.yaml`, by `createdAt`.
    pub fn path(&self) -> String {
        ticket_path(self.metadata.id, self.metadata.created_at)
    }

    /// Parse a ticket file. `origin` names the file in errors.
    pub fn from_yaml(bytes: &[u8], origin: &str) -> Result<Ticket> {
        if bytes.len() > MAX_TICKET_BYTES {
            return Err(Error::invalid(format!(
                "{origin}: file is {} bytes, larger than the {MAX_TICKET_BYTES}-byte limit for a ticket",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::invalid(format!("{origin}: not valid UTF-8")))?;
        // A byte-order mark (some editors write one) is not content.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let ticket: Ticket = serde_yaml_ng::from_str(text)
            .map_err(|e| Error::invalid(format!("{origin}: {}", yaml_message(&e))))?;
        ticket.check_envelope(origin)?;
        Ok(ticket)
    }

    /// The file content ipr writes.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).expect("a ticket always serializes")
    }

    fn check_envelope(&self, origin: &str) -> Result<()> {
        if self.kind != KIND {
            return Err(Error::invalid(format!(
                "{origin}: kind: expected `{KIND}`, found `{}`",
                self.kind
            )));
        }
        let ok = self
            .api_version
            .rsplit_once('/')
            .is_some_and(|(domain, v)| v == "v1" && !domain.is_empty());
        if !ok {
            return Err(Error::invalid(format!(
                "{origin}: apiVersion: expected `<domain>/v1`, found `{}`",
                self.api_version
            )));
        }
        if self.status.history.is_empty() {
            return Err(Error::invalid(format!(
                "{origin}: status.history: must start with a `created` entry"
            )));
        }
        Ok(())
    }

    /// Distinct approvers (in order) since the request was created.
    pub fn approvers(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for e in &self.status.history {
            if e.action == Action::Approved && !seen.iter().any(|s| same_email(s, &e.by)) {
                seen.push(&e.by);
            }
        }
        seen
    }

    /// The most recent history entry.
    pub fn last_entry(&self) -> &HistoryEntry {
        self.status
            .history
            .last()
            .expect("a loaded ticket has at least its created entry")
    }
}

impl Spec {
    /// Input in its one form: environment names trimmed and lowercased
    /// (SPEC §4a), so `PROD` and `"prod "` are `prod`.
    pub fn normalize(&mut self) {
        let t = &mut self.target;
        t.source_environment = normalize_environment(&t.source_environment);
        t.target_environment = normalize_environment(&t.target_environment);
    }
}

/// Where the ticket with this ID created at this time lives.
pub fn ticket_path(id: RequestId, created_at: DateTime<Utc>) -> String {
    format!(
        "requests/prod/{:04}/{:02}/{id}.yaml",
        created_at.year(),
        created_at.month()
    )
}

/// `sha256:<hex>` of the canonical (JSON, fixed key order) form of the spec.
pub fn spec_digest(spec: &Spec) -> String {
    let canonical = serde_json::to_vec(spec).expect("a spec always serializes");
    format!("sha256:{}", hex(&Sha256::digest(&canonical)))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of `text` in hex, if it is hex of at most `max` bytes (a
/// MAC or a digest from a request: bounded before it is read).
pub fn unhex(text: &str, max: usize) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2)
        || text.len() > max * 2
        || !text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// serde_yaml's message, which names the key path and the line.
pub(crate) fn yaml_message(e: &serde_yaml_ng::Error) -> String {
    e.to_string()
}

/// Parse an RFC 3339 date-time (`--scheduled`, `scheduledDate`).
pub fn parse_datetime(s: &str, what: &str) -> Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.trim()).map_err(|e| {
        Error::invalid(format!("{what}: `{s}` is not an RFC 3339 date-time ({e})"))
            .with_hint("write it like 2026-12-24T09:00:00Z")
    })
}

/// Parse an http(s) URL (`--evidence-url`).
pub fn parse_url(s: &str, what: &str) -> Result<url::Url> {
    let u = url::Url::parse(s.trim())
        .map_err(|e| Error::invalid(format!("{what}: `{s}` is not a URL ({e})")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Error::invalid(format!(
            "{what}: `{s}` must be an http or https URL"
        )));
    }
    if has_credentials(&u) {
        // Not echoed: it holds a credential.
        return Err(Error::invalid(format!(
            "{what}: the URL holds a user name or password; it would be committed for everyone to read"
        ))
        .with_hint("link to the page without credentials"));
    }
    Ok(u)
}

/// Whether `host` (of a URL) is this machine: `localhost` or a loopback
/// address.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a URL carries a user name or password.
pub fn has_credentials(u: &url::Url) -> bool {
    !u.username().is_empty() || u.password().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_parse_only_in_canonical_form() {
        assert_eq!(
            "PR-2026-0042".parse::<RequestId>().unwrap(),
            RequestId::new(2026, 42)
        );
        assert_eq!(
            "PR-2026-10000".parse::<RequestId>().unwrap().to_string(),
            "PR-2026-10000"
        );
        for bad in [
            "PR-1",
            "../x",
            "PR-2026-042",
            "PR-2026-00042",
            "PR-2026-0000",
            "pr-2026-0001",
            "PR-2026-0001.yaml",
            "PR-2026-0001/../x",
            "PR-26-0001",
            "PR-2026-99999999999",
            "",
        ] {
            assert!(bad.parse::<RequestId>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn path_follows_created_at() {
        let at = DateTime::parse_from_rfc3339("2024-12-23T10:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            ticket_path(RequestId::new(2024, 3), at),
            "requests/prod/2024/12/PR-2024-0003.yaml"
        );
    }
}
