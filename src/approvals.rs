//! Approval rules that fit an organisation (SPEC §4a), as pure functions
//! of (config, ticket, time): the quorum by impact and environment, the
//! group rules a request matches and what it still needs, auto-approval,
//! the wait timer, two-person break glass, incident reports and staged
//! promotion.
//!
//! [`crate::workflow`] applies them to every transition and `ipr verify`
//! replays that, so a rule holds at the point of action and in the audit
//! alike, under the config in force when each transition was made.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{ApprovalRule, Config, When};
use crate::model::{same_email, Action, HistoryEntry, Ticket};

/// Who approves at create when a rule allows it.
pub const SYSTEM: &str = "system";

/// How many distinct approvals the request needs (its quorum): the
/// largest of the entries for its environment (`approvals.environments`)
/// and its impact (`approvals.impact`); `approvals.default` when neither
/// has one. Only an environment entry can make it 0 ("dev needs none").
pub fn quorum(config: &Config, ticket: &Ticket) -> u32 {
    let a = &config.approvals;
    let env = a.environments.get(&ticket.spec.target.target_environment);
    let impact = a.impact.get(&ticket.spec.request.impact_assessment);
    match (env, impact) {
        (None, None) => a.default.max(1),
        (Some(e), None) => *e,
        (None, Some(i)) => (*i).max(1),
        (Some(e), Some(i)) => (*e).max(*i),
    }
}

/// Whether every condition of `when` holds for the request (a condition
/// left out always holds).
pub fn matches(when: &When, ticket: &Ticket) -> bool {
    let t = &ticket.spec.target;
    let plan = ticket.spec.plan.as_ref();
    let any = |list: &[String], value: &str| list.is_empty() || list.iter().any(|x| x == value);
    any(&when.tenants, &ticket.metadata.tenant)
        && (when.types.is_empty() || when.types.contains(&t.kind))
        && any(&when.environments, &t.target_environment)
        && (when.impact.is_empty() || when.impact.contains(&ticket.spec.request.impact_assessment))
        && (when.plan_types.is_empty()
            || plan.is_some_and(|p| {
                p.resource_types
                    .iter()
                    .any(|rt| when.plan_types.iter().any(|g| glob(g, rt)))
            }))
        && when.monthly_cost_increase_above.is_none_or(|limit| {
            plan.and_then(|p| p.cost.as_ref())
                .is_some_and(|c| c.increase() > limit)
        })
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    if !text.ends_with(last) {
        return false;
    }
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// The `approvals.rules` that apply to the request.
pub fn matching_rules<'c>(config: &'c Config, ticket: &Ticket) -> Vec<&'c ApprovalRule> {
    config
        .approvals
        .rules
        .iter()
        .filter(|r| matches(&r.when, ticket))
        .collect()
}

/// Whether `email` is a member of the group `name`.
pub fn in_group(config: &Config, name: &str, email: &str) -> bool {
    config
        .groups
        .get(name)
        .is_some_and(|members| members.iter().any(|m| same_email(m, email)))
}

/// Whether `actor` is a member of a group some approval rule requires: only
/// then can [`group_reviewer`] hold for any request.
pub fn in_rule_group(config: &Config, actor: &str) -> bool {
    config
        .approvals
        .rules
        .iter()
        .any(|r| in_group(config, &r.require.group, actor))
}

/// Whether `actor` reviews the request as a member of a group one of its
/// rules requires (members need no tenant role for that).
pub fn group_reviewer(config: &Config, ticket: &Ticket, actor: &str) -> bool {
    matching_rules(config, ticket)
        .iter()
        .any(|r| in_group(config, &r.require.group, actor))
}

/// What a request has and still needs before it is approved.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Needs {
    /// Distinct approvals so far.
    pub have: u32,
    /// The quorum.
    pub quorum: u32,
    /// One entry per matching rule.
    pub groups: Vec<GroupNeed>,
    /// What is missing, for people: `["1 approval", "1 of dba"]`; empty
    /// when [`Needs::met`].
    pub missing: Vec<String>,
}

/// A rule's group requirement and how far it is met.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupNeed {
    pub rule: String,
    pub group: String,
    pub count: u32,
    pub have: u32,
}

impl Needs {
    /// The quorum and every rule are met.
    pub fn met(&self) -> bool {
        self.have >= self.quorum && self.groups.iter().all(|g| g.have >= g.count)
    }

    fn describe_missing(&self) -> Vec<String> {
        let mut out = Vec::new();
        let q = self.quorum.saturating_sub(self.have);
        if q > 0 {
            out.push(format!("{q} approval{}", if q == 1 { "" } else { "s" }));
        }
        for g in &self.groups {
            let n = g.count.saturating_sub(g.have);
            if n > 0 {
                out.push(format!("{n} of {}", g.group));
            }
        }
        out
    }
}

/// What the request has and needs under `config`, counting its
/// approvals so far (distinct people; a group member's approval counts
/// toward the quorum and toward their group).
pub fn needs(config: &Config, ticket: &Ticket) -> Needs {
    let approvers = ticket.approvers();
    let groups = matching_rules(config, ticket)
        .into_iter()
        .map(|r| GroupNeed {
            rule: r.name.clone(),
            group: r.require.group.clone(),
            count: r.require.count,
            have: approvers
                .iter()
                .filter(|a| in_group(config, &r.require.group, a))
                .count() as u32,
        })
        .collect();
    let mut needs = Needs {
        have: approvers.len() as u32,
        quorum: quorum(config, ticket),
        groups,
        missing: Vec::new(),
    };
    needs.missing = needs.describe_missing();
    needs
}

/// Why a new request is approved at create by [`SYSTEM`], if it is: an
/// `approvals.autoApprove` entry matches, or its quorum is 0, and no
/// group rule asks for a reviewer.
pub fn auto_approval(config: &Config, ticket: &Ticket) -> Option<String> {
    if !matching_rules(config, ticket).is_empty() {
        return None;
    }
    if let Some(i) = config
        .approvals
        .auto_approve
        .iter()
        .position(|w| matches(w, ticket))
    {
        return Some(format!("approved at create by approvals.autoApprove[{i}]"));
    }
    if quorum(config, ticket) == 0 {
        return Some(format!(
            "approved at create: approvals.environments.{} is 0",
            ticket.spec.target.target_environment
        ));
    }
    None
}

/// Whether the request was approved at create by [`SYSTEM`].
pub fn auto_approved(ticket: &Ticket) -> bool {
    ticket
        .status
        .history
        .get(1)
        .is_some_and(|e| e.action == Action::Approved && e.by == SYSTEM)
}

/// When the wait timer lets an approved request deploy, if one holds it.
pub fn wait_until(config: &Config, ticket: &Ticket) -> Option<DateTime<Utc>> {
    let wait = config.approvals.wait_timer.as_ref()?;
    let at = ticket.status.approved_at?;
    let wait = chrono::Duration::from_std(wait.get()).unwrap_or(chrono::Duration::MAX);
    Some(
        at.checked_add_signed(wait)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    )
}

/// The open break-glass agreement: the latest `break-glass` entry since
/// the last deploy, and the distinct admins who agreed to it (its author
/// first, then each `break-glass-confirmed`).
pub fn break_glass_agreement(ticket: &Ticket) -> Option<(&HistoryEntry, Vec<&str>)> {
    let history = &ticket.status.history;
    let start = history
        .iter()
        .rposition(|e| matches!(e.action, Action::BreakGlass | Action::Deploying))?;
    let opened = &history[start];
    if opened.action != Action::BreakGlass {
        return None;
    }
    let mut agreed: Vec<&str> = vec![&opened.by];
    for e in &history[start + 1..] {
        if e.action == Action::BreakGlassConfirmed && !agreed.iter().any(|a| same_email(a, &e.by)) {
            agreed.push(&e.by);
        }
    }
    Some((opened, agreed))
}

/// How many distinct admins a break-glass deploy needs.
pub fn break_glass_admins(config: &Config) -> u32 {
    config.break_glass.as_ref().map_or(1, |b| b.admins.max(1))
}

/// When the incident report of the request's last break-glass deploy is
/// due, while none has been recorded since it.
pub fn incident_due(config: &Config, ticket: &Ticket) -> Option<DateTime<Utc>> {
    let within = config.break_glass.as_ref()?.incident_within.as_ref()?;
    let history = &ticket.status.history;
    let at = history
        .iter()
        .rposition(|e| e.action == Action::Deploying && e.break_glass.is_some())?;
    if history[at..].iter().any(|e| e.action == Action::Incident) {
        return None;
    }
    let within = chrono::Duration::from_std(within.get()).unwrap_or(chrono::Duration::MAX);
    Some(
        history[at]
            .at
            .checked_add_signed(within)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    )
}

/// The incident report is overdue at `now`: when it was due.
pub fn incident_overdue(
    config: &Config,
    ticket: &Ticket,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    incident_due(config, ticket).filter(|due| *due < now)
}

/// The environment listed before `env` in `environments:`, which must
/// have deployed the same target first under `approvals.requireStaged`.
pub fn previous_environment<'c>(config: &'c Config, env: &str) -> Option<&'c str> {
    if !config.approvals.require_staged {
        return None;
    }
    let at = config.environments.iter().position(|e| e == env)?;
    at.checked_sub(1).map(|p| config.environments[p].as_str())
}

/// Whether `before` is the deployed stage of a request for `target`: the
/// same name and version, deployed to `env`.
pub fn is_stage_of(before: &Ticket, target: &crate::model::Target, env: &str) -> bool {
    let b = &before.spec.target;
    before.status.state == crate::model::State::Deployed
        && b.name == target.name
        && b.version == target.version
        && b.target_environment == env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("aws_rds_*", "aws_rds_cluster"));
        assert!(glob("aws_db_instance", "aws_db_instance"));
        assert!(!glob("aws_db_instance", "aws_db_instance_x"));
        assert!(glob("*_instance", "aws_db_instance"));
        assert!(glob("aws_*_instance", "aws_db_instance"));
        assert!(!glob("aws_*_instance", "aws_instance"));
        assert!(glob("*", "anything"));
        assert!(!glob("aws_rds_*", "aws_s3_bucket"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b*c", "acb"));
    }
}
