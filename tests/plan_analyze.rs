//! `ipr::plan` over the fixtures in `fixtures/plans/` (see its README.md).
//! Summary lines of generated fixtures are the ones terraform printed.

use std::path::PathBuf;

use ipr::model::Impact;
use ipr::plan::{self, Action, PlanConfig, PlanReport};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/plans")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn analyze_with(name: &str, cfg: &PlanConfig) -> PlanReport {
    plan::analyze(&read(&format!("{name}.json")), cfg)
        .unwrap_or_else(|e| panic!("{name}: {}", e.message()))
}

fn analyze(name: &str) -> PlanReport {
    analyze_with(name, &PlanConfig::default())
}

/// `(address, action, risk)` of every managed resource change, no-ops included.
fn rows(r: &PlanReport) -> Vec<(&str, Action, Impact)> {
    r.resources
        .iter()
        .map(|c| (c.address.as_str(), c.action, c.risk))
        .collect()
}

const PLANS: &[&str] = &[
    "create",
    "data-read",
    "delete",
    "drift",
    "module",
    "moved-import-forget",
    "no-changes",
    "replace",
    "stateful-delete",
    "stateful-update",
    "too-many-deletes",
    "update",
];

#[test]
fn every_fixture_is_covered_here() {
    let mut found: Vec<String> = std::fs::read_dir(fixture_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|f| f.strip_suffix(".json").map(str::to_owned))
        .filter(|f| f != "not-a-plan-state")
        .collect();
    found.sort();
    assert_eq!(found, PLANS, "a new fixture needs its test in this file");
    for name in PLANS {
        let r = analyze(name);
        assert_eq!(r.format_version, "1.2", "{name}");
        assert_eq!(r.terraform_version.as_deref(), Some("1.11.4"), "{name}");
        assert!(!r.errored, "{name}");
    }
}

#[test]
fn create_only_is_low() {
    use Impact::Low;
    let r = analyze("create");
    assert_eq!(
        rows(&r),
        [
            ("terraform_data.web", Action::Create, Low),
            ("terraform_data.worker[0]", Action::Create, Low),
            ("terraform_data.worker[1]", Action::Create, Low),
        ]
    );
    assert_eq!(r.summary.line, "Plan: 3 to add, 0 to change, 0 to destroy.");
    assert_eq!(r.summary.output_changes, 1);
    assert_eq!(r.risk, Low);
    assert_eq!(
        r.reasons,
        ["no deletions, replacements or updates of stateful resources"]
    );
    assert!(r.drift.is_empty() && r.reads.is_empty());
}

#[test]
fn update_of_non_stateful_resource_is_low() {
    let r = analyze("update");
    assert_eq!(
        rows(&r),
        [
            ("terraform_data.app", Action::Update, Impact::Low),
            ("terraform_data.static", Action::NoOp, Impact::Low),
        ]
    );
    assert_eq!(r.summary.line, "Plan: 0 to add, 1 to change, 0 to destroy.");
    assert_eq!(r.risk, Impact::Low);
}

#[test]
fn replace_in_all_four_ways_is_high() {
    let r = analyze("replace");
    let got: Vec<(&str, &[String], Option<&str>)> = r
        .resources
        .iter()
        .map(|c| {
            (
                c.address.as_str(),
                c.actions.as_slice(),
                c.action_reason.as_deref(),
            )
        })
        .collect();
    let dc = ["delete".to_string(), "create".to_string()];
    let cd = ["create".to_string(), "delete".to_string()];
    assert_eq!(
        got,
        [
            (
                "terraform_data.app",
                &dc[..],
                Some("replace_because_cannot_update")
            ),
            ("terraform_data.cache", &cd[..], Some("replace_by_request")),
            (
                "terraform_data.dependent",
                &dc[..],
                Some("replace_by_triggers")
            ),
            (
                "terraform_data.tainted",
                &dc[..],
                Some("replace_because_tainted")
            ),
        ]
    );
    assert!(r
        .resources
        .iter()
        .all(|c| c.action == Action::Replace && c.risk == Impact::High));
    assert_eq!(r.summary.line, "Plan: 4 to add, 0 to change, 4 to destroy.");
    assert_eq!(
        (r.summary.replace, r.summary.add, r.summary.destroy),
        (4, 4, 4)
    );
    assert_eq!(r.risk, Impact::High);
    assert_eq!(
        r.reasons,
        ["replaces 4 resources: terraform_data.app, terraform_data.cache, terraform_data.dependent, terraform_data.tainted"]
    );
    assert_eq!(r.resources[3].reason, "tainted");
}

#[test]
fn delete_is_high() {
    let r = analyze("delete");
    assert_eq!(
        rows(&r),
        [
            ("terraform_data.keep", Action::NoOp, Impact::Low),
            ("terraform_data.old", Action::Delete, Impact::High),
            (r#"terraform_data.site["eu"]"#, Action::NoOp, Impact::Low),
            (r#"terraform_data.site["us"]"#, Action::Delete, Impact::High),
        ]
    );
    assert_eq!(r.resources[1].reason, "removed from configuration");
    assert_eq!(r.resources[3].reason, "for_each key no longer exists");
    assert_eq!(r.summary.line, "Plan: 0 to add, 0 to change, 2 to destroy.");
    assert_eq!(r.risk, Impact::High);
    assert_eq!(
        r.reasons,
        [r#"deletes 2 resources: terraform_data.old, terraform_data.site["us"]"#]
    );
}

#[test]
fn config_decides_what_is_critical() {
    let by_count = PlanConfig {
        critical_deletes: 1,
        ..PlanConfig::default()
    };
    let r = analyze_with("delete", &by_count);
    assert_eq!(r.risk, Impact::Critical);
    assert_eq!(r.reasons, ["2 deletions exceed plan.criticalDeletes (1)"]);

    let by_type: PlanConfig = serde_yaml_ng::from_str("statefulTypes: [terraform_*]").unwrap();
    let r = analyze_with("delete", &by_type);
    assert_eq!(r.risk, Impact::Critical);
    assert_eq!(
        r.reasons,
        [r#"deletes 2 stateful resources: terraform_data.old, terraform_data.site["us"]"#]
    );
    assert_eq!(analyze_with("update", &by_type).risk, Impact::Medium);
}

#[test]
fn data_source_reads_are_reported_without_risk() {
    let r = analyze("data-read");
    assert_eq!(
        rows(&r),
        [("terraform_data.network", Action::Create, Impact::Low)]
    );
    assert_eq!(r.reads.len(), 1);
    let read = &r.reads[0];
    assert_eq!(read.address, "data.terraform_remote_state.network");
    assert_eq!(read.resource_type, "terraform_remote_state");
    assert_eq!(
        read.action_reason.as_deref(),
        Some("read_because_config_unknown")
    );
    assert_eq!(r.summary.read, 1);
    assert_eq!(r.summary.line, "Plan: 1 to add, 0 to change, 0 to destroy.");
    assert_eq!(r.risk, Impact::Low);
}

#[test]
fn module_resources_carry_module_address() {
    let r = analyze("module");
    let got: Vec<(&str, Option<&str>, &str, Action)> = r
        .resources
        .iter()
        .map(|c| {
            (
                c.address.as_str(),
                c.module_address.as_deref(),
                c.name.as_str(),
                c.action,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                r#"module.app.terraform_data.node["a"]"#,
                Some("module.app"),
                "node",
                Action::Update
            ),
            (
                r#"module.app.terraform_data.node["b"]"#,
                Some("module.app"),
                "node",
                Action::Delete
            ),
            (
                r#"module.app.terraform_data.node["c"]"#,
                Some("module.app"),
                "node",
                Action::Create
            ),
            (
                "module.app.module.cache.terraform_data.redis",
                Some("module.app.module.cache"),
                "redis",
                Action::Create
            ),
        ]
    );
    assert_eq!(r.summary.line, "Plan: 2 to add, 1 to change, 1 to destroy.");
    assert_eq!(r.risk, Impact::High);
    assert_eq!(
        r.reasons,
        [r#"deletes module.app.terraform_data.node["b"]"#]
    );
}

#[test]
fn drift_is_reported_and_does_not_raise_risk() {
    let r = analyze("drift");
    let drift: Vec<(&str, Action)> = r
        .drift
        .iter()
        .map(|d| (d.address.as_str(), d.action))
        .collect();
    assert_eq!(
        drift,
        [
            ("aws_instance.web", Action::Update),
            ("aws_security_group_rule.ssh", Action::Delete),
        ]
    );
    assert_eq!(r.summary.drift, 2);
    assert_eq!(
        rows(&r),
        [
            ("aws_instance.web", Action::Update, Impact::Low),
            ("aws_security_group_rule.ssh", Action::Create, Impact::Low),
        ]
    );
    assert_eq!(r.summary.line, "Plan: 1 to add, 1 to change, 0 to destroy.");
    assert_eq!(r.risk, Impact::Low);
}

#[test]
fn more_deletions_than_configured_is_critical() {
    let r = analyze("too-many-deletes");
    assert_eq!(r.summary.destroy, 6);
    assert_eq!(r.summary.line, "Plan: 0 to add, 0 to change, 6 to destroy.");
    assert_eq!(r.risk, Impact::Critical);
    assert_eq!(r.reasons, ["6 deletions exceed plan.criticalDeletes (5)"]);
    assert!(r.resources[1..]
        .iter()
        .all(|c| c.action_reason.as_deref() == Some("delete_because_count_index")));

    let lenient = PlanConfig {
        critical_deletes: 6,
        ..PlanConfig::default()
    };
    assert_eq!(
        analyze_with("too-many-deletes", &lenient).risk,
        Impact::High
    );
}

#[test]
fn stateful_delete_or_replace_is_critical() {
    let r = analyze("stateful-delete");
    assert_eq!(
        rows(&r),
        [
            ("aws_db_instance.main", Action::Delete, Impact::High),
            ("aws_db_subnet_group.main", Action::Delete, Impact::High),
            ("aws_ebs_volume.data", Action::Replace, Impact::High),
            ("aws_security_group.db", Action::Delete, Impact::High),
        ]
    );
    let stateful: Vec<bool> = r.resources.iter().map(|c| c.stateful).collect();
    assert_eq!(stateful, [true, false, true, false]);
    assert_eq!(r.summary.line, "Plan: 1 to add, 0 to change, 4 to destroy.");
    assert_eq!(r.risk, Impact::Critical);
    assert_eq!(
        r.reasons,
        [
            "deletes stateful aws_db_instance.main",
            "replaces stateful aws_ebs_volume.data"
        ]
    );
}

#[test]
fn stateful_update_is_medium() {
    let r = analyze("stateful-update");
    assert_eq!(
        rows(&r),
        [
            ("aws_db_instance.main", Action::Update, Impact::Medium),
            ("aws_instance.app", Action::Create, Impact::Low),
            ("aws_security_group.app", Action::NoOp, Impact::Low),
            (
                r#"module.storage.aws_s3_bucket.logs["eu"]"#,
                Action::Update,
                Impact::Medium
            ),
        ]
    );
    assert_eq!(
        r.resources[3].module_address.as_deref(),
        Some("module.storage")
    );
    assert_eq!(r.summary.line, "Plan: 1 to add, 2 to change, 0 to destroy.");
    assert_eq!(r.risk, Impact::Medium);
    assert_eq!(
        r.reasons,
        [
            r#"updates 2 stateful resources: aws_db_instance.main, module.storage.aws_s3_bucket.logs["eu"]"#
        ]
    );
}

#[test]
fn no_changes() {
    let r = analyze("no-changes");
    assert_eq!(
        rows(&r),
        [("terraform_data.app", Action::NoOp, Impact::Low)]
    );
    assert_eq!(r.summary.line, "No changes.");
    assert_eq!(r.applyable, Some(false));
    assert_eq!(r.risk, Impact::Low);
    assert_eq!(r.reasons, ["no changes"]);
    assert!(plan::render_table(&r).starts_with("No changes.\n"));
}

#[test]
fn moves_imports_and_forgets() {
    let r = analyze("moved-import-forget");
    assert_eq!(
        rows(&r),
        [
            ("terraform_data.adopted", Action::NoOp, Impact::Low),
            ("terraform_data.legacy", Action::Forget, Impact::Medium),
            ("terraform_data.new_name", Action::NoOp, Impact::Low),
        ]
    );
    assert!(r.resources[0].importing);
    assert_eq!(r.resources[0].display_action(), "import");
    assert_eq!(
        r.resources[2].previous_address.as_deref(),
        Some("terraform_data.old_name")
    );
    assert_eq!(r.resources[2].display_action(), "move");
    let s = &r.summary;
    assert_eq!((s.import, s.forget, s.moves, s.destroy), (1, 1, 1, 0));
    assert_eq!(
        s.line,
        "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."
    );
    assert_eq!(r.risk, Impact::Medium);
    assert_eq!(
        r.reasons,
        ["forgets (leaves unmanaged) terraform_data.legacy"]
    );
}

#[test]
fn terraform_single_line_output_and_key_order_do_not_matter() {
    for name in PLANS {
        let pretty = read(&format!("{name}.json"));
        let value: serde_json::Value = serde_json::from_slice(&pretty).unwrap();
        // serde_json::Value sorts keys, so this also reorders every object.
        let compact = serde_json::to_vec(&value).unwrap();
        let cfg = PlanConfig::default();
        assert_eq!(
            plan::analyze(&compact, &cfg).unwrap(),
            plan::analyze(&pretty, &cfg).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn unknown_properties_are_ignored() {
    let mut value: serde_json::Value = serde_json::from_slice(&read("delete.json")).unwrap();
    value["format_version"] = "1.99".into();
    value["a_future_top_level_field"] = serde_json::json!({"x": [1, 2]});
    value["resource_changes"][1]["a_future_field"] = true.into();
    value["resource_changes"][1]["change"]["another"] = "x".into();
    let r = plan::analyze(&serde_json::to_vec(&value).unwrap(), &PlanConfig::default()).unwrap();
    assert_eq!(r.format_version, "1.99");
    assert_eq!(r.summary.line, "Plan: 0 to add, 0 to change, 2 to destroy.");
}

fn refused(json: &[u8]) -> ipr::Error {
    let e = plan::analyze(json, &PlanConfig::default()).expect_err("must be refused");
    assert_eq!(e.kind(), ipr::Kind::Invalid);
    assert_eq!(ipr::cli::exit::code(e.kind()), 6);
    e
}

#[test]
fn unknown_major_version_is_refused_by_name() {
    let json = String::from_utf8(read("create.json")).unwrap();
    let v2 = json.replacen(
        r#""format_version": "1.2""#,
        r#""format_version": "2.0""#,
        1,
    );
    assert_ne!(json, v2);
    let e = refused(v2.as_bytes());
    assert_eq!(
        e.message(),
        "unsupported plan format_version `2.0` (written by Terraform 1.11.4): ipr reads format 1.x"
    );
    assert!(e.hint().unwrap().contains("upgrade ipr"));
}

#[test]
fn state_json_is_refused_with_a_hint() {
    let e = refused(&read("not-a-plan-state.json"));
    assert!(
        e.message()
            .starts_with("this is Terraform state, not a plan"),
        "{}",
        e.message()
    );
    assert!(e.hint().unwrap().contains("terraform show -json tfplan"));
}

#[test]
fn non_plan_input_is_refused() {
    let e = refused(&read("generate.sh"));
    assert!(
        e.message().starts_with("not valid JSON: "),
        "{}",
        e.message()
    );
    let e = refused(br#"{"name": "left-pad", "version": "1.3.0"}"#);
    assert_eq!(
        e.message(),
        "not a Terraform plan: no `format_version` field"
    );
    // serde reads arrays into structs field by field; that must not happen.
    let e = refused(br#"["1.2", "1.11.4", {}]"#);
    assert_eq!(
        e.message(),
        "not a Terraform plan: expected a JSON object, found an array"
    );
    let e = refused(b"");
    assert!(e.message().starts_with("empty input"), "{}", e.message());
}

#[test]
fn json_report_is_camel_case() {
    let r = analyze("stateful-update");
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["risk"], "medium");
    assert_eq!(v["formatVersion"], "1.2");
    assert_eq!(
        v["summary"]["line"],
        "Plan: 1 to add, 2 to change, 0 to destroy."
    );
    assert_eq!(v["summary"]["outputChanges"], 0);
    let bucket = &v["resources"][3];
    assert_eq!(bucket["moduleAddress"], "module.storage");
    assert_eq!(bucket["type"], "aws_s3_bucket");
    assert_eq!(bucket["action"], "update");
    assert_eq!(bucket["stateful"], true);
    assert_eq!(v["resources"][2]["action"], "no-op");
    assert!(v["reasons"].is_array());
    assert!(v["drift"].is_array() && v["reads"].is_array());
}

#[test]
fn table_lists_changes_summary_and_risk() {
    let out = plan::render_table(&analyze("delete"));
    assert!(out.contains("terraform_data.old"), "{out}");
    assert!(out.contains(r#"terraform_data.site["us"]"#), "{out}");
    assert!(
        !out.contains("terraform_data.keep"),
        "no-ops are left out:\n{out}"
    );
    assert!(out.contains("removed from configuration"), "{out}");
    assert!(
        out.contains("\nPlan: 0 to add, 0 to change, 2 to destroy.\nRisk: high\n"),
        "{out}"
    );

    let out = plan::render_table(&analyze("drift"));
    assert!(
        out.contains("Changed outside Terraform (drift):\n  aws_instance.web update\n"),
        "{out}"
    );
    let out = plan::render_table(&analyze("data-read"));
    assert!(
        out.contains("Data sources read during apply:\n  data.terraform_remote_state.network"),
        "{out}"
    );
}

#[test]
fn markdown_change_request_has_every_section() {
    let r = analyze("stateful-delete");
    let md = plan::render_markdown(
        &r,
        Some("Restore payments-prod from snapshot payments-prod-final."),
    );
    let sections = [
        "# Infrastructure Change Request\n",
        "## Summary\n",
        "**Plan: 1 to add, 0 to change, 4 to destroy.**",
        "## Risk: CRITICAL\n",
        "- deletes stateful aws_db_instance.main\n",
        "- replaces stateful aws_ebs_volume.data\n",
        "## Planned changes\n",
        "| Address | Action | Risk | Reason |",
        "| `aws_db_instance.main` | delete | **high** | removed from configuration; stateful type |",
        "## Drift (changed outside Terraform)\n\n_No drift detected._",
        "## Rollback\n\nRestore payments-prod from snapshot payments-prod-final.\n",
    ];
    let mut last = 0;
    for s in sections {
        let at = md[last..]
            .find(s)
            .unwrap_or_else(|| panic!("missing or out of order: {s:?}\n{md}"));
        last += at;
    }
    assert!(!md.contains(plan::ROLLBACK_PLACEHOLDER));

    let md = plan::render_markdown(&analyze("drift"), None);
    assert!(
        md.contains("| `aws_security_group_rule.ssh` | delete |"),
        "{md}"
    );
    assert!(
        md.ends_with(&format!("## Rollback\n\n{}\n", plan::ROLLBACK_PLACEHOLDER)),
        "{md}"
    );

    let md = plan::render_markdown(&analyze("no-changes"), Some("  "));
    assert!(md.contains("**No changes.**"), "{md}");
    assert!(md.contains("_No resource changes._"), "{md}");
    assert!(
        md.contains(plan::ROLLBACK_PLACEHOLDER),
        "blank rollback is no rollback"
    );

    let md = plan::render_markdown(&analyze("module"), None);
    assert!(
        md.contains(r#"| `module.app.terraform_data.node["b"]` | delete | **high** |"#),
        "{md}"
    );
}

#[test]
fn plan_ref_records_hashes_summary_and_risk() {
    use sha2::{Digest, Sha256};
    let json = read("too-many-deletes.json");
    let r = plan::analyze(&json, &PlanConfig::default()).unwrap();
    let binary = b"PK\x03\x04 not really a plan file";
    let p = plan::plan_ref(&json, Some(binary), &r);
    let hex = |b: &[u8]| -> String {
        Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    };
    assert_eq!(p.json_sha256, format!("sha256:{}", hex(&json)));
    assert_eq!(p.file_sha256, Some(format!("sha256:{}", hex(binary))));
    assert_eq!(p.summary, "Plan: 0 to add, 0 to change, 6 to destroy.");
    assert_eq!(p.risk, Impact::Critical);
}
