//! The checks of one ticket file a commit created or changed: its path and
//! ID, the actor and time of its new history entry, the transition replayed
//! with [`workflow`], and the spec and metadata it must keep.

use chrono::Datelike;
use git2::Oid;

use super::diff::differences;
use super::rules::Rule;
use super::walk::{Ctx, Engine};
use crate::config::Config;
use crate::error::{Error, Kind, Refusal, Result};
use crate::model::{same_email, Action, HistoryEntry, RequestId, Ticket};
use crate::policy;
use crate::store::REQUESTS_ROOT;
use crate::workflow::{self, Transition};

impl Engine<'_> {
    fn check_path(&mut self, ctx: &Ctx<'_>, path: &str, t: &Ticket) {
        let expected = t.path();
        if path != expected {
            self.violation(
                ctx,
                path,
                Rule::WrongPath,
                format!(
                    "holds {} created {}; it belongs at {expected}",
                    t.id(),
                    t.metadata.created_at.format("%Y-%m-%d")
                ),
            );
        }
    }

    /// The ticket `id` as the tree `side` holds it, if it holds it.
    fn ticket_in(
        &mut self,
        side: crate::store::history::Side,
        id: RequestId,
    ) -> Result<Option<Ticket>> {
        let dir = format!("{REQUESTS_ROOT}/{:04}", id.year);
        for month in self.dirs_at(side, &dir)? {
            let path = format!("{dir}/{month}/{id}.yaml");
            if let Some(blob) = self.blob_at(side, &path)? {
                if let Ok(t) = &*self.ticket(blob, &path)? {
                    return Ok(Some(t.clone()));
                }
            }
        }
        Ok(None)
    }

    fn check_duplicate(&mut self, ctx: &Ctx<'_>, path: &str, t: &Ticket) -> Result<()> {
        let id = t.id();
        let mut years = vec![id.year, t.metadata.created_at.year()];
        years.dedup();
        for year in years {
            let dir = format!("{REQUESTS_ROOT}/{year:04}");
            for month in self.dirs_at(ctx.new, &dir)? {
                let other = format!("{dir}/{month}/{id}.yaml");
                if other != path && self.blob_at(ctx.new, &other)?.is_some() {
                    self.violation(
                        ctx,
                        path,
                        Rule::DuplicateId,
                        format!("{id} is also {other}"),
                    );
                }
            }
        }
        Ok(())
    }

    /// The commit's author must be the entry's actor, at the entry's time.
    fn check_actor(&mut self, ctx: &Ctx<'_>, path: &str, e: &HistoryEntry) {
        if !same_email(&e.by, ctx.author) {
            self.violation(
                ctx,
                path,
                Rule::AuthorMismatch,
                format!(
                    "the `{}` entry is by {}, but the commit's author is {}",
                    e.action, e.by, ctx.author
                ),
            );
        }
        if let Some(at) = ctx.author_time {
            if e.at != at {
                self.violation(
                    ctx,
                    path,
                    Rule::TimeMismatch,
                    format!(
                        "the `{}` entry is at {}, but the commit was authored at {}",
                        e.action,
                        e.at.to_rfc3339(),
                        at.to_rfc3339()
                    ),
                );
            }
        }
    }

    /// A new ID is the next free one of its year (an import: one never
    /// used); either way it is used from now on.
    fn check_id(&mut self, ctx: &Ctx<'_>, path: &str, id: RequestId, import: bool) {
        let max = self.ids.max.get(&id.year).copied().unwrap_or(0);
        let expected = self.ids.next(id.year, &|_| Ok(false)).ok();
        let fine = if import {
            !self.ids.used(id)
        } else {
            expected == Some(id)
        };
        if fine || ctx.waived {
            if id.number > max {
                self.ids.max.insert(id.year, id.number);
            }
            return;
        }
        let message = if import {
            format!("imports {id}, an ID this branch has used before; IDs are never reused")
        } else {
            match expected {
                Some(next) => format!(
                    "creates {id}, but the next free ID was {next}; IDs are never reused or skipped"
                ),
                None => format!("creates {id}, but no IDs are left in {}", id.year),
            }
        };
        self.violation(ctx, path, Rule::IdNotNext, message);
        self.ids.taken.insert(id);
    }

    /// A ticket brought from another system (`ipr import`): taken as it
    /// is, from an admin, for a tenant the config knows.
    fn imported(&mut self, ctx: &Ctx<'_>, path: &str, t: &Ticket) -> Result<()> {
        let Some(config) = ctx.config.clone() else {
            return self.no_config(ctx, path);
        };
        if let Err(e) = policy::check_admin(&config, ctx.author) {
            self.violation(
                ctx,
                path,
                Rule::ImportNotAdmin,
                format!("imported by {}: {}", ctx.author, e.message()),
            );
        }
        if !config.tenants.contains(&t.metadata.tenant) {
            self.violation(
                ctx,
                path,
                Rule::Validation,
                format!(
                    "imports a request of tenant `{}`, which is not in .ipr/config.yaml",
                    t.metadata.tenant
                ),
            );
        }
        Ok(())
    }

    pub(super) fn created(
        &mut self,
        ctx: &Ctx<'_>,
        path: &str,
        blob: Oid,
        inherited: bool,
    ) -> Result<()> {
        let parsed = self.ticket(blob, path)?;
        let t = match &*parsed {
            Ok(t) => t,
            Err(message) => {
                self.violation(ctx, path, Rule::Parse, message.clone());
                return Ok(());
            }
        };
        // Two lines of history may each have created this ID.
        self.check_duplicate(ctx, path, t)?;
        if inherited {
            return Ok(());
        }
        self.check_path(ctx, path, t);
        let import = ctx.action == Some("import");
        self.check_id(ctx, path, t.id(), import);
        if import {
            return self.imported(ctx, path, t);
        }
        let history = &t.status.history;
        // `created`, and an approval by `system` when a rule allowed it
        // (compared with what `create` gives below).
        let auto = history.len() == 2 && crate::approvals::auto_approved(t);
        if !(history.len() == 1 || auto) || history[0].action != Action::Created {
            let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
            self.violation(
                ctx,
                path,
                Rule::IllegalTransition,
                format!(
                    "a new request has exactly one history entry, `created`; this one has [{}]",
                    actions.join(", ")
                ),
            );
            return Ok(());
        }
        let entry = &history[0];
        self.check_actor(ctx, path, entry);
        let Some(config) = ctx.config.clone() else {
            return self.no_config(ctx, path);
        };
        let rebuilt = workflow::create(
            t.spec.clone(),
            t.id(),
            &t.metadata.tenant,
            &entry.by,
            &config,
            entry.at,
        );
        let mut expected = match rebuilt {
            Ok(x) => x,
            Err(e) => {
                let rule = rule_of(&e, Rule::Validation);
                self.violation(ctx, path, rule, e.message());
                return Ok(());
            }
        };
        let before = match t.spec.promoted_from {
            Some(id) => self.ticket_in(ctx.new, id)?,
            None => None,
        };
        if let Err(e) = workflow::check_staged(&t.spec, &config, before.as_ref()) {
            self.violation(ctx, path, Rule::NotStaged, e.message());
        }
        if !auto && crate::approvals::auto_approved(&expected) {
            // Filed without the approval a rule allowed: legal, only slower.
            expected.status = crate::model::Status::created(entry.at, &entry.by);
        }
        if auto && !crate::approvals::auto_approved(&expected) {
            self.violation(
                ctx,
                path,
                Rule::AutoApprove,
                "approved at create by `system`, but no rule of the config in force allows it (approvals.autoApprove, or a quorum of 0)",
            );
            return Ok(());
        }
        let mut problems = Vec::new();
        if t.api_version != expected.api_version {
            problems.push(format!(
                "apiVersion is {}, new requests get {} from the config",
                t.api_version, expected.api_version
            ));
        }
        problems.extend(differences(
            "metadata",
            &expected.metadata,
            &t.metadata,
            "the created entry gives",
        ));
        if t.id().year != t.metadata.created_at.year() {
            problems.push(format!(
                "{} was created in {}, so its ID must be of that year",
                t.id(),
                t.metadata.created_at.year()
            ));
        }
        if !problems.is_empty() {
            self.violation(ctx, path, Rule::CreateMismatch, problems.join("; "));
        }
        let status = differences("status", &expected.status, &t.status, "`create` gives");
        if !status.is_empty() {
            self.violation(ctx, path, Rule::StatusMismatch, status.join("; "));
        }
        Ok(())
    }

    pub(super) fn changed(
        &mut self,
        ctx: &Ctx<'_>,
        path: &str,
        old: Oid,
        new: Oid,
        inherited: bool,
    ) -> Result<()> {
        let new_parsed = self.ticket(new, path)?;
        let new_t = match &*new_parsed {
            Ok(t) => t,
            Err(message) => {
                self.violation(ctx, path, Rule::Parse, message.clone());
                return Ok(());
            }
        };
        let old_parsed = self.ticket(old, path)?;
        if ctx.others.is_empty() {
            // Linear history never needs this version again.
            self.tickets.remove(&old);
        }
        let Ok(old_t) = &*old_parsed else {
            self.violation(
                ctx,
                path,
                Rule::IllegalTransition,
                "the previous version does not parse, so this change cannot be checked",
            );
            return Ok(());
        };
        if !inherited {
            self.check_path(ctx, path, new_t);
            let mut meta = Vec::new();
            if old_t.api_version != new_t.api_version {
                meta.push(format!(
                    "apiVersion: {} (was {})",
                    new_t.api_version, old_t.api_version
                ));
            }
            if old_t.kind != new_t.kind {
                meta.push(format!("kind: {} (was {})", new_t.kind, old_t.kind));
            }
            meta.extend(differences(
                "metadata",
                &old_t.metadata,
                &new_t.metadata,
                "was",
            ));
            if !meta.is_empty() {
                self.violation(ctx, path, Rule::MetadataChanged, meta.join("; "));
            }
            let spec = differences("spec", &old_t.spec, &new_t.spec, "was");
            if !spec.is_empty() {
                self.violation(ctx, path, Rule::SpecChanged, spec.join("; "));
            }
        }
        let (oh, nh) = (&old_t.status.history, &new_t.status.history);
        if nh.len() < oh.len() || nh[..oh.len()] != oh[..] {
            let (rule, message) = if inherited {
                (
                    Rule::MergeConflict,
                    "the merge keeps another parent's version, which does not extend this \
                     parent's history (concurrent changes to one request: redo one of them \
                     on top of the other instead of merging)"
                        .to_string(),
                )
            } else {
                let n = oh
                    .iter()
                    .zip(nh.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(nh.len().min(oh.len()));
                let e = &oh[n];
                (
                    Rule::HistoryRewritten,
                    format!(
                        "history entry {} (`{}` by {} at {}) was changed or removed",
                        n + 1,
                        e.action,
                        e.by,
                        e.at.to_rfc3339()
                    ),
                )
            };
            self.violation(ctx, path, rule, message);
            return Ok(());
        }
        if inherited {
            // Taken from another parent, where it was checked; it extends
            // this parent's version, which is all a merge may do.
            return Ok(());
        }
        let appended = &nh[oh.len()..];
        if appended.is_empty() {
            let status = differences("status", &old_t.status, &new_t.status, "was");
            if !status.is_empty() {
                self.violation(
                    ctx,
                    path,
                    Rule::StatusMismatch,
                    format!("changed without a history entry: {}", status.join("; ")),
                );
            }
            return Ok(());
        }
        if appended.len() > 1 {
            let actions: Vec<&str> = appended.iter().map(|e| e.action.as_str()).collect();
            self.violation(
                ctx,
                path,
                Rule::MultipleTransitions,
                format!(
                    "appends {} history entries [{}]; each transition is its own commit",
                    appended.len(),
                    actions.join(", ")
                ),
            );
        }
        let Some(config) = ctx.config.clone() else {
            return self.no_config(ctx, path);
        };
        let mut cur = old_t.clone();
        let mut last = None;
        for e in appended {
            self.check_actor(ctx, path, e);
            let Some(t) = Transition::from_entry(e) else {
                self.violation(
                    ctx,
                    path,
                    Rule::IllegalTransition,
                    "a `created` entry can only start a history",
                );
                return Ok(());
            };
            match workflow::apply(&cur, &t, &e.by, &config, e.at) {
                Ok(next) => cur = next,
                Err(err) => {
                    let rule = rule_of(&err, Rule::IllegalTransition);
                    self.violation(ctx, path, rule, format!("{}: {}", e.by, err.message()));
                    return Ok(());
                }
            }
            last = Some(t);
        }
        let t = last.expect("at least one entry was appended");
        self.compare(ctx, path, &config, &cur, new_t, &t);
        Ok(())
    }

    /// Compare the replayed ticket with the committed one.
    fn compare(
        &mut self,
        ctx: &Ctx<'_>,
        path: &str,
        config: &Config,
        expected: &Ticket,
        actual: &Ticket,
        t: &Transition,
    ) {
        let (x, a) = (&expected.status, &actual.status);
        if x == a {
            return;
        }
        let (xe, ae) = (expected.last_entry(), actual.last_entry());
        let mut skip: Vec<String> = Vec::new();
        if xe.digest != ae.digest {
            let n = a.history.len();
            skip.push(format!("status.history[{}].digest", n - 1));
            self.violation(
                ctx,
                path,
                Rule::DigestMismatch,
                format!(
                    "the `{}` entry has digest {}, but the spec it approves has {}",
                    ae.action,
                    ae.digest.as_deref().unwrap_or("null"),
                    xe.digest.as_deref().unwrap_or("null"),
                ),
            );
        }
        let is_approve = matches!(t, Transition::Approve { .. });
        if is_approve && a.state == crate::model::State::Approved && x.state != a.state {
            skip.extend(
                ["status.state", "status.approvedBy", "status.approvedAt"].map(String::from),
            );
            let needs = crate::approvals::needs(config, expected);
            if needs.have >= needs.quorum {
                self.violation(
                    ctx,
                    path,
                    Rule::GroupApproval,
                    format!(
                        "approved while it still needs {} (approvals.rules)",
                        needs.missing.join(", ")
                    ),
                );
            } else {
                self.violation(
                    ctx,
                    path,
                    Rule::Quorum,
                    format!(
                        "approved with {} of the {} approvals it needs ({} impact, to {})",
                        needs.have,
                        needs.quorum,
                        expected.spec.request.impact_assessment,
                        expected.spec.target.target_environment
                    ),
                );
            }
        }
        let rest: Vec<String> = differences("status", x, a, &format!("`{}` gives", t.verb()))
            .into_iter()
            .filter(|d| !skip.iter().any(|s| d.starts_with(&format!("{s}:"))))
            .collect();
        if !rest.is_empty() {
            self.violation(ctx, path, Rule::StatusMismatch, rest.join("; "));
        }
    }

    fn no_config(&mut self, ctx: &Ctx<'_>, path: &str) -> Result<()> {
        self.violation(
            ctx,
            path,
            Rule::NoConfig,
            "the parent commit has no valid .ipr/config.yaml, so nobody may change tickets",
        );
        Ok(())
    }
}

/// The rule a refusal of `workflow` or `policy` breaks.
fn rule_of(e: &Error, default: Rule) -> Rule {
    match e.refusal() {
        Some(Refusal::NoRole) => Rule::NoRole,
        Some(Refusal::SelfApproval) => Rule::SelfApproval,
        Some(Refusal::DuplicateApproval) => Rule::DuplicateApproval,
        Some(Refusal::IllegalTransition) => Rule::IllegalTransition,
        Some(Refusal::RejectReason) => Rule::RejectReason,
        Some(Refusal::WaitTimer) => Rule::WaitTimer,
        Some(Refusal::BreakGlass) => Rule::BreakGlass,
        Some(Refusal::NotStaged) => Rule::NotStaged,
        None => match e.kind() {
            Kind::Permission => Rule::NotPermitted,
            Kind::Invalid => Rule::Validation,
            _ => default,
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::model::{RequestId, Spec};

    fn spec() -> Spec {
        serde_yaml_ng::from_str(
            "target: {type: api, name: payment-api, version: '2.1.0', sourceEnvironment: staging, targetEnvironment: prod}
request: {justification: New PCI-DSS compliant payment flow, releaseNotes: null, impactAssessment: low, rollbackPlan: revert, scheduledDate: null}
preChecks: {stagingTestsPassed: true, securityScanPassed: true, performanceTestsPassed: true, testEvidenceUrl: 'https://ci.example.com/1'}",
        )
        .unwrap()
    }

    fn config() -> Config {
        Config::from_yaml(
            b"tenants: [fin]
users:
  dev@x.com: {role: devops, tenants: [fin]}
  ta@x.com: {role: tenant-admin, tenants: [fin]}
  boss@x.com: {role: admin}
",
            "test",
        )
        .unwrap()
    }

    /// Replaying what `apply` wrote gives back the same transition, so
    /// verify re-runs exactly the action the CLI took.
    #[test]
    fn from_entry_inverts_apply() {
        let c = config();
        let now = Utc::now();
        let t =
            workflow::create(spec(), RequestId::new(2026, 1), "fin", "dev@x.com", &c, now).unwrap();
        let cases = [
            Transition::Approve {
                comment: Some("fine".into()),
            },
            Transition::Approve { comment: None },
            Transition::Reject {
                reason: "not before the freeze".into(),
            },
            Transition::Cancel {
                reason: Some("superseded".into()),
            },
        ];
        for tr in cases {
            let next = workflow::apply(&t, &tr, "ta@x.com", &c, now).unwrap();
            let back = Transition::from_entry(next.last_entry()).unwrap();
            assert_eq!(back, tr);
            let again = workflow::apply(&t, &back, "ta@x.com", &c, now).unwrap();
            assert_eq!(again, next);
        }
        let mut approved = workflow::apply(
            &t,
            &Transition::Approve { comment: None },
            "ta@x.com",
            &c,
            now,
        )
        .unwrap();
        for tr in [
            Transition::StartDeploy {
                runner: "shell".into(),
                job_id: Some("42".into()),
                break_glass: None,
            },
            Transition::Fail {
                job_id: Some("42".into()),
                error: "exit 1".into(),
            },
            Transition::StartDeploy {
                runner: "shell".into(),
                job_id: Some("43".into()),
                break_glass: Some("outage".into()),
            },
            Transition::Succeed {
                job_id: Some("43".into()),
                deployment_id: Some("d-1".into()),
            },
        ] {
            // Breaking glass is an admin's act.
            let next = workflow::apply(&approved, &tr, "boss@x.com", &c, now).unwrap();
            assert_eq!(Transition::from_entry(next.last_entry()).unwrap(), tr);
            approved = next;
        }
        assert_eq!(Transition::from_entry(&t.status.history[0]), None);
    }

    #[test]
    fn refusals_map_to_their_rules() {
        let c = config();
        let now = Utc::now();
        let t =
            workflow::create(spec(), RequestId::new(2026, 1), "fin", "ta@x.com", &c, now).unwrap();
        let approve = Transition::Approve { comment: None };
        let own = workflow::apply(&t, &approve, "ta@x.com", &c, now).unwrap_err();
        assert_eq!(rule_of(&own, Rule::IllegalTransition), Rule::SelfApproval);
        let dev = workflow::apply(&t, &approve, "dev@x.com", &c, now).unwrap_err();
        assert_eq!(rule_of(&dev, Rule::IllegalTransition), Rule::NoRole);
        let short = Transition::Reject {
            reason: "no".into(),
        };
        let mut other = t.clone();
        other.metadata.created_by = "dev@x.com".into();
        let e = workflow::apply(&other, &short, "ta@x.com", &c, now).unwrap_err();
        assert_eq!(rule_of(&e, Rule::IllegalTransition), Rule::RejectReason);
    }
}
