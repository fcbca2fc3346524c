//! Filing a new request, for every front end: the typed document of
//! `ipr create -f FILE` and of the body of `POST /v1/requests/prod`, the
//! tenant a request defaults to, and the create itself with the policies
//! of a plan request.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::action::{self, Done, Options};
use crate::config::Config;
use crate::error::{Error, Problem, Result};
use crate::model::{PreChecks, RequestDetails, Spec, Target};
use crate::plan_request::{self, PlanInput};
use crate::session::Session;
use crate::store::Store;

/// A new request as a document: the ticket's `spec` (target, request,
/// preChecks) and optionally the tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub target: Target,
    pub request: RequestDetails,
    pub pre_checks: PreChecks,
    /// `terraform show -json` output, relative to the document (a file on
    /// the machine of the one who files it: for the CLI only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_json: Option<PathBuf>,
    /// The saved binary plan, relative to the document (CLI only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_file: Option<PathBuf>,
}

impl NewRequest {
    /// Parse a document; `name` says where it came from in errors.
    pub fn from_yaml(bytes: &[u8], name: &str) -> Result<NewRequest> {
        if bytes.len() > crate::model::MAX_TICKET_BYTES {
            return Err(Error::invalid(format!(
                "{name}: input is too large for a request"
            )));
        }
        let text =
            std::str::from_utf8(bytes).map_err(|_| Error::invalid(format!("{name}: not UTF-8")))?;
        serde_yaml_ng::from_str(text).map_err(|e| Error::invalid(format!("{name}: {e}")))
    }

    /// Refuse `planJson` and `planFile`: they name files on the machine of
    /// the one who files the request, so a front end that is not that
    /// machine (the server, Slack) never takes them.
    pub fn without_local_files(self) -> Result<NewRequest> {
        if self.plan_json.is_some() || self.plan_file.is_some() {
            return Err(Error::invalid(
                "planJson and planFile name files on the machine of the one who files the request; file terraform requests with `ipr create`",
            ));
        }
        Ok(self)
    }

    /// One line of what it asks and attests: target, tenant,
    /// environments, impact, schedule, pre-checks, evidence (what a person
    /// reads last before filing a drafted request).
    pub fn summary(&self) -> String {
        let t = &self.target;
        let r = &self.request;
        let p = &self.pre_checks;
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        format!(
            "{} {} {} for {}, {} -> {}, impact {}, {}; staging tests {}, security scan {}, performance tests {}; evidence {}",
            t.kind,
            t.name,
            t.version,
            self.tenant.as_deref().unwrap_or("your tenant"),
            t.source_environment,
            t.target_environment,
            r.impact_assessment,
            r.scheduled_date.map_or("as soon as approved".to_string(), |d| {
                format!("not before {}", d.to_rfc3339())
            }),
            yes_no(p.staging_tests_passed),
            yes_no(p.security_scan_passed),
            yes_no(p.performance_tests_passed),
            p.test_evidence_url
        )
    }

    /// The spec it asks for (without a plan: [`create`] adds it).
    pub fn spec(&self) -> Spec {
        Spec {
            target: self.target.clone(),
            request: self.request.clone(),
            pre_checks: self.pre_checks.clone(),
            plan: None,
            promoted_from: None,
        }
    }
}

/// The tenant a request of `actor` goes to when none is given: their only
/// tenant, if they have exactly one.
pub fn default_tenant(config: &Config, actor: &str) -> Option<String> {
    match config.user(actor).map(|u| u.tenants.as_slice()) {
        Some([only]) => Some(only.clone()),
        _ => None,
    }
}

/// File a request as the session's actor: validate, take the next ID and
/// commit it. `tenant` defaults as [`default_tenant`] says. With `plan`
/// (a terraform request), `spec.plan` records it and `.ipr/policies` are
/// checked against it under the lock: a `deny` refuses with the findings
/// ([`Error::findings`]), `warn`s are stored in `spec.plan.warnings`.
pub fn create(
    store: &Store,
    session: &Session,
    mut spec: Spec,
    tenant: Option<&str>,
    plan: Option<&PlanInput>,
    options: Options,
) -> Result<Done> {
    let tenant = match tenant {
        Some(t) => t.to_string(),
        None => {
            let config = crate::trust::check(store, store.head()?)?.config()?;
            default_tenant(&config, &session.actor.email).ok_or_else(|| {
                Error::problems(
                    "",
                    vec![Problem::new(
                        "tenant",
                        "missing tenant: you are not in exactly one tenant, so say which",
                    )],
                )
            })?
        }
    };
    match plan {
        Some(p) => {
            spec.plan = Some(p.plan_ref());
            let gate = plan_request::create_gate(&p.json);
            action::create_gated(store, session, spec, &tenant, options, &gate)
        }
        None => action::create(store, session, spec, &tenant, options),
    }
}
