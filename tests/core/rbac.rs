//! Every cell of the role table (SPEC §4), through the CLI.

use crate::harness::*;

fn code(env: &Env, actor: &str, args: &[&str]) -> i32 {
    env.as_user(actor);
    env.run(args).status.code().unwrap()
}

#[test]
fn create_rights_per_role_and_tenant() {
    let env = Env::team();
    let cases = [
        (DEVOPS, "tenant-finance", 0),
        (DEVOPS, "tenant-retail", 3),
        (TADMIN, "tenant-finance", 0),
        (TADMIN, "tenant-retail", 3),
        (ADMIN, "tenant-finance", 0),
        (ADMIN, "tenant-retail", 0),
        (VIEWER, "tenant-finance", 3),
        (STRANGER, "tenant-finance", 3),
    ];
    for (actor, tenant, want) in cases {
        let before = env.commit_count();
        let mut args: Vec<&str> = valid_create_args()
            .into_iter()
            .map(|a| if a == "tenant-finance" { tenant } else { a })
            .collect();
        args.extend(["--impact", "low"]);
        assert_eq!(
            code(&env, actor, &args),
            want,
            "{actor} create for {tenant}"
        );
        let added = env.commit_count() - before;
        assert_eq!(added, usize::from(want == 0), "{actor}: commits added");
    }
}

/// (actor, who created the request, tenant of the request, expected exit).
const REVIEW: &[(&str, &str, &str, i32)] = &[
    (DEVOPS, TADMIN, "finance", 3),
    (TADMIN, DEVOPS, "finance", 0),
    (TADMIN, TADMIN, "finance", 3), // self-approval
    (TADMIN, RETAIL_DEVOPS, "retail", 3),
    (RETAIL_TADMIN, RETAIL_DEVOPS, "retail", 0),
    (RETAIL_TADMIN, DEVOPS, "finance", 3),
    (ADMIN, DEVOPS, "finance", 0),
    (ADMIN, RETAIL_DEVOPS, "retail", 0),
    (ADMIN, ADMIN, "finance", 3), // self-approval, even for admins
    (VIEWER, DEVOPS, "finance", 3),
    (STRANGER, DEVOPS, "finance", 3),
];

fn create_for(env: &Env, creator: &str, tenant: &str) -> String {
    env.as_user(creator);
    let tenant = format!("tenant-{tenant}");
    let mut args: Vec<&str> = valid_create_args()
        .into_iter()
        .map(|a| {
            if a == "tenant-finance" {
                tenant.as_str()
            } else {
                a
            }
        })
        .collect();
    args.extend(["--impact", "low"]);
    let out = env.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

#[test]
fn approve_rights_per_role_tenant_and_ownership() {
    let env = Env::team();
    for &(actor, creator, tenant, want) in REVIEW {
        let id = create_for(&env, creator, tenant);
        let head = env.head();
        let out = {
            env.as_user(actor);
            env.run(&["approve", &id])
        };
        assert_eq!(
            out.status.code(),
            Some(want),
            "{actor} approves {creator}'s: {}",
            stderr(&out)
        );
        if want == 0 {
            assert_eq!(env.state(&id), "approved");
        } else {
            assert_eq!(env.head(), head, "a refused approval must not commit");
            assert!(stderr(&out).starts_with("error: "));
        }
    }
}

#[test]
fn reject_rights_match_approve_rights() {
    let env = Env::team();
    for &(actor, creator, tenant, want) in REVIEW {
        let id = create_for(&env, creator, tenant);
        let got = code(
            &env,
            actor,
            &["reject", &id, "--reason", "Not during peak season"],
        );
        assert_eq!(got, want, "{actor} rejects {creator}'s");
        let expected = if want == 0 { "rejected" } else { "pending" };
        assert_eq!(env.state(&id), expected);
    }
}

#[test]
fn self_approval_is_named_as_such() {
    let env = Env::team();
    let id = env.create_as(TADMIN, "low");
    let out = env.run(&["approve", &id]);
    assert_error(&out, 3, "no self-approval");
}

#[test]
fn one_approval_per_person() {
    let env = Env::team();
    let id = env.create_as(DEVOPS, "high");
    assert_eq!(code(&env, TADMIN, &["approve", &id]), 0);
    assert_eq!(env.state(&id), "pending");
    env.as_user(TADMIN);
    let out = env.run(&["approve", &id]);
    assert_error(&out, 3, "already approved");
    assert_eq!(env.state(&id), "pending");
}

#[test]
fn cancel_rights_per_role() {
    let env = Env::team();
    let cases: &[(&str, &str, &str, i32)] = &[
        (DEVOPS, DEVOPS, "finance", 0),
        (DEVOPS, TADMIN, "finance", 3),
        (TADMIN, DEVOPS, "finance", 0),
        (TADMIN, RETAIL_DEVOPS, "retail", 3),
        (ADMIN, RETAIL_DEVOPS, "retail", 0),
        (VIEWER, DEVOPS, "finance", 3),
        (STRANGER, DEVOPS, "finance", 3),
    ];
    for &(actor, creator, tenant, want) in cases {
        let id = create_for(&env, creator, tenant);
        assert_eq!(
            code(&env, actor, &["cancel", &id]),
            want,
            "{actor} cancels {creator}'s"
        );
        let expected = if want == 0 { "cancelled" } else { "pending" };
        assert_eq!(env.state(&id), expected);
    }
}

#[test]
fn view_rights_per_role() {
    let env = Env::team();
    let by_devops = create_for(&env, DEVOPS, "finance");
    let by_tadmin = create_for(&env, TADMIN, "finance");
    let retail = create_for(&env, RETAIL_DEVOPS, "retail");
    let cases: &[(&str, &str, i32)] = &[
        (DEVOPS, &by_devops, 0),
        (DEVOPS, &by_tadmin, 3),
        (TADMIN, &by_devops, 0),
        (TADMIN, &retail, 3),
        (ADMIN, &retail, 0),
        (VIEWER, &by_tadmin, 0),
        (VIEWER, &retail, 3),
        (STRANGER, &by_devops, 3),
    ];
    for &(actor, id, want) in cases {
        assert_eq!(code(&env, actor, &["show", id]), want, "{actor} shows {id}");
        assert_eq!(code(&env, actor, &["log", id]), want, "{actor} logs {id}");
    }
    // list shows exactly what show allows
    let visible = |actor: &str| {
        env.as_user(actor);
        let out = env.run(&["list", "--format", "json"]);
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut ids: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["metadata"]["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(visible(DEVOPS), vec![by_devops.clone()]);
    assert_eq!(visible(TADMIN), vec![by_devops.clone(), by_tadmin.clone()]);
    assert_eq!(visible(VIEWER), vec![by_devops.clone(), by_tadmin.clone()]);
    assert_eq!(visible(ADMIN).len(), 3);
    assert_eq!(visible(RETAIL_DEVOPS), vec![retail.clone()]);
    assert!(visible(STRANGER).is_empty());
}

#[test]
fn pending_queue_lists_what_the_actor_may_approve() {
    let env = Env::team();
    let a = create_for(&env, DEVOPS, "finance");
    let own = create_for(&env, TADMIN, "finance");
    let _retail = create_for(&env, RETAIL_DEVOPS, "retail");
    env.as_user(TADMIN);
    let out = env.run(&["list", "--pending", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["metadata"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![a.as_str()],
        "own request {own} and other tenants are not in the queue"
    );
}

#[test]
fn quorum_follows_impact() {
    let env = Env::team();
    for (impact, needed) in [("low", 1), ("medium", 1), ("high", 2), ("critical", 2)] {
        let id = env.create_as(DEVOPS, impact);
        let approvers = [TADMIN, TADMIN2, ADMIN];
        for (i, who) in approvers.iter().enumerate().take(needed) {
            assert_eq!(code(&env, who, &["approve", &id]), 0);
            let expected = if i + 1 == needed {
                "approved"
            } else {
                "pending"
            };
            assert_eq!(
                env.state(&id),
                expected,
                "{impact} after {} approvals",
                i + 1
            );
        }
        let t: serde_yaml_ng::Value = serde_yaml_ng::from_str(&env.ticket_at_head(&id)).unwrap();
        assert_eq!(
            t["status"]["approvedBy"].as_str(),
            Some(approvers[needed - 1]),
            "approvedBy names the approval that completed the quorum"
        );
    }
}
