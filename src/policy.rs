//! Who may do what (SPEC §4): the role table, anti-self-approval, quorum.
//!
//! Every check returns `Ok(())` or a permission error that names the
//! [`Refusal`] rule and why, so the CLI and `ipr verify` report the same.

use crate::config::{Config, Role, User};
use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::model::Ticket;

/// What an actor wants to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Create,
    Review,
    Deploy,
    Cancel,
    View,
}

impl Capability {
    fn verb(self) -> &'static str {
        match self {
            Capability::Create => "create requests",
            Capability::Review => "approve or reject requests",
            Capability::Deploy => "deploy requests",
            Capability::Cancel => "cancel requests",
            Capability::View => "view requests",
        }
    }
}

fn known<'c>(config: &'c Config, actor: &str) -> Result<&'c User> {
    config.user(actor).ok_or_else(|| {
        Error::permission(format!(
            "{actor} is not a user in .ipr/config.yaml and has no rights"
        ))
        .with_hint("an admin adds you under `users:` in .ipr/config.yaml")
        .with_refusal(Refusal::NoRole)
    })
}

fn in_tenant(user: &User, tenant: &str) -> bool {
    user.tenants.iter().any(|t| t == tenant)
}

fn denied(actor: &str, role: Role, cap: Capability, why: &str) -> Error {
    Error::permission(format!(
        "{actor} ({}) may not {} {why}",
        role.as_str(),
        cap.verb()
    ))
    .with_refusal(Refusal::NoRole)
}

/// May `actor` create a request for `tenant`?
pub fn check_create(config: &Config, actor: &str, tenant: &str) -> Result<()> {
    let user = known(config, actor)?;
    match user.role {
        Role::Admin => Ok(()),
        Role::Devops | Role::TenantAdmin if in_tenant(user, tenant) => Ok(()),
        Role::Viewer => Err(denied(actor, user.role, Capability::Create, "at all")),
        role => Err(denied(
            actor,
            role,
            Capability::Create,
            &format!("for tenant {tenant}"),
        )),
    }
}

/// May `actor` do `cap` on an existing request?
pub fn check(config: &Config, actor: &str, cap: Capability, ticket: &Ticket) -> Result<()> {
    // A member of a group that one of the request's rules requires views
    // and reviews it, with or without a tenant role (SPEC §4a).
    if matches!(cap, Capability::Review | Capability::View)
        && crate::approvals::group_reviewer(config, ticket, actor)
    {
        return if cap == Capability::Review {
            check_reviewer(actor, ticket)
        } else {
            Ok(())
        };
    }
    let user = known(config, actor)?;
    let tenant = ticket.metadata.tenant.as_str();
    let own = crate::model::same_email(&ticket.metadata.created_by, actor);
    let id = ticket.id();
    if !role_allows(user, cap, tenant, own) {
        let why = match (user.role, cap) {
            (Role::Viewer, c) if c != Capability::View => "at all".to_string(),
            (Role::Devops, Capability::Review) => "at all".to_string(),
            (Role::Devops, Capability::Cancel | Capability::View) => {
                format!("{id}: it was created by {}", ticket.metadata.created_by)
            }
            _ => format!("{id}: it belongs to tenant {tenant}"),
        };
        return Err(denied(actor, user.role, cap, &why));
    }
    if cap == Capability::Review {
        return check_reviewer(actor, ticket);
    }
    Ok(())
}

/// What a user's role alone allows on a request of `tenant` (`own`: the
/// user created it): SPEC §4's table, without the group rules of §4a.
fn role_allows(user: &User, cap: Capability, tenant: &str, own: bool) -> bool {
    match (user.role, cap) {
        (Role::Admin, _) => true,
        (Role::TenantAdmin, _) => in_tenant(user, tenant),
        (Role::Devops, Capability::Create | Capability::Deploy) => in_tenant(user, tenant),
        (Role::Devops, Capability::Cancel | Capability::View) => own,
        (Role::Devops, Capability::Review) => false,
        (Role::Viewer, Capability::View) => in_tenant(user, tenant),
        (Role::Viewer, _) => false,
    }
}

/// Whether `actor`'s role lets them view a request of `tenant` created by
/// `created_by`, from those two facts alone (reads that have only a
/// ticket's summary). [`can_view`] may say yes where this says no only
/// for a member of a group some approval rule requires
/// ([`crate::approvals::in_rule_group`]).
pub fn role_may_view(config: &Config, actor: &str, tenant: &str, created_by: &str) -> bool {
    config.user(actor).is_some_and(|user| {
        role_allows(
            user,
            Capability::View,
            tenant,
            crate::model::same_email(created_by, actor),
        )
    })
}

/// No self-approval, one approval per person.
fn check_reviewer(actor: &str, ticket: &Ticket) -> Result<()> {
    let id = ticket.id();
    if crate::model::same_email(&ticket.metadata.created_by, actor) {
        return Err(Error::permission(format!(
            "{actor} created {id} and may not review it (no self-approval)"
        ))
        .with_hint("ask another tenant admin or an admin to review it")
        .with_refusal(Refusal::SelfApproval));
    }
    if ticket
        .approvers()
        .iter()
        .any(|a| crate::model::same_email(a, actor))
    {
        return Err(Error::permission(format!(
            "{actor} has already approved {id} (one approval per person)"
        ))
        .with_refusal(Refusal::DuplicateApproval));
    }
    Ok(())
}

/// Is the request visible to `actor`? (no error: for filtering lists)
pub fn can_view(config: &Config, actor: &str, ticket: &Ticket) -> bool {
    check(config, actor, Capability::View, ticket).is_ok()
}

/// The quorum: distinct approvals the request needs before it is
/// `approved` (besides the group rules of [`crate::approvals::needs`]).
pub fn required_approvals(config: &Config, ticket: &Ticket) -> u32 {
    crate::approvals::quorum(config, ticket)
}

/// Changing `.ipr/` is an admin action.
pub fn check_admin(config: &Config, actor: &str) -> Result<()> {
    let user = known(config, actor)?;
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::permission(format!(
            "{actor} ({}) may not change .ipr/: only admins may",
            user.role.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ticket;

    fn seed() -> Ticket {
        let bytes = include_bytes!("../fixtures/tickets/PR-2024-0003.yaml");
        Ticket::from_yaml(bytes, "seed").unwrap()
    }

    fn config() -> Config {
        Config::from_yaml(include_bytes!("../fixtures/config/team.yaml"), "team").unwrap()
    }

    /// SPEC §4, deploy and view columns, for a finance request by pierre.
    #[test]
    fn deploy_and_view_cells() {
        let c = config();
        let t = seed();
        let cases = [
            ("pierre.durand@example.com", Capability::Deploy, true),
            ("rita.retail@example.com", Capability::Deploy, false),
            ("jean.dupont@example.com", Capability::Deploy, true),
            ("tom.retail@example.com", Capability::Deploy, false),
            ("ops-lead@example.com", Capability::Deploy, true),
            ("auditor@example.com", Capability::Deploy, false),
            ("nobody@example.com", Capability::Deploy, false),
            ("auditor@example.com", Capability::View, true),
            ("tom.retail@example.com", Capability::View, false),
            ("nobody@example.com", Capability::View, false),
        ];
        for (actor, cap, want) in cases {
            let got = check(&c, actor, cap, &t);
            assert_eq!(got.is_ok(), want, "{actor} {cap:?}");
            if let Err(e) = got {
                assert_eq!(e.kind(), crate::error::Kind::Permission);
            }
        }
    }

    #[test]
    fn only_admins_change_config() {
        let c = config();
        assert!(check_admin(&c, "ops-lead@example.com").is_ok());
        for who in [
            "jean.dupont@example.com",
            "pierre.durand@example.com",
            "x@example.com",
        ] {
            assert_eq!(
                check_admin(&c, who).unwrap_err().kind(),
                crate::error::Kind::Permission
            );
        }
    }
}
