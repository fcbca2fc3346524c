//! `ipr::plan` over the fixtures in `fixtures/plans/` (see its README.md).
//! Summary lines of generated fixtures are the ones terraform printed.
//! `ipr plan analyze --cost` runs the real binary, with the infracost output
//! of `fixtures/infracost/`.

use std::path::PathBuf;

use ipr::model::Impact;
use ipr::plan::{self, Action, PlanConfig, PlanReport};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/plans")
        .join(name)
}

fn cost_fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/infracost")
        .join(name)
        .display()
        .to_string()
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
    assert!(plan::render_table(&r, None).starts_with("No changes.\n"));
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
    let out = plan::render_table(&analyze("delete"), None);
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

    let out = plan::render_table(&analyze("drift"), None);
    assert!(
        out.contains("Changed outside Terraform (drift):\n  aws_instance.web update\n"),
        "{out}"
    );
    let out = plan::render_table(&analyze("data-read"), None);
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
        None,
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

    let md = plan::render_markdown(&analyze("drift"), None, None);
    assert!(
        md.contains("| `aws_security_group_rule.ssh` | delete |"),
        "{md}"
    );
    assert!(
        md.ends_with(&format!("## Rollback\n\n{}\n", plan::ROLLBACK_PLACEHOLDER)),
        "{md}"
    );

    let md = plan::render_markdown(&analyze("no-changes"), Some("  "), None);
    assert!(md.contains("**No changes.**"), "{md}");
    assert!(md.contains("_No resource changes._"), "{md}");
    assert!(
        md.contains(plan::ROLLBACK_PLACEHOLDER),
        "blank rollback is no rollback"
    );

    let md = plan::render_markdown(&analyze("module"), None, None);
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

fn baseline_cost() -> plan::Cost {
    plan::parse_cost(
        &std::fs::read(cost_fixture("baseline.json")).unwrap(),
        "baseline.json",
    )
    .unwrap()
}

#[test]
fn markdown_has_a_cost_section_only_with_a_cost() {
    let r = analyze("stateful-update");
    let md = plan::render_markdown(&r, None, Some(&baseline_cost()));
    let sections = [
        "## Risk: MEDIUM\n",
        "## Cost\n\n| Monthly before | Monthly after | Change | Currency |\n|---:|---:|---:|---|\n| 120.45 | 230.10 | +109.65 | USD |\n",
        "## Planned changes\n",
    ];
    let mut last = 0;
    for s in sections {
        let at = md[last..]
            .find(s)
            .unwrap_or_else(|| panic!("missing or out of order: {s:?}\n{md}"));
        last += at;
    }
    assert!(!plan::render_markdown(&r, None, None).contains("## Cost"));

    let table = plan::render_table(&r, Some(&baseline_cost()));
    assert!(
        table.ends_with(
            "Plan: 1 to add, 2 to change, 0 to destroy.\nCost: 120.45 → 230.10 USD/month (+109.65)\nRisk: medium\n  - updates 2 stateful resources: aws_db_instance.main, module.storage.aws_s3_bucket.logs[\"eu\"]\n"
        ),
        "{table}"
    );
    assert!(!plan::render_table(&r, None).contains("Cost:"));
}

/// `ipr plan analyze ARGS…` run in an empty directory that is no git
/// repository, isolated like tests/core's harness (HOME in a temp dir, no
/// git config), with `stdin` on its standard input.
fn ipr_plan_analyze(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = assert_cmd::Command::cargo_bin("ipr")
        .unwrap()
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", &home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CEILING_DIRECTORIES", tmp.path())
        .env("NO_COLOR", "1")
        .current_dir(tmp.path())
        .args(["plan", "analyze"])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    drop(tmp);
    out
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn plan_analyze_with_cost_shows_it_in_every_format() {
    let plan = fixture_path("stateful-update.json").display().to_string();
    let cost = cost_fixture("baseline.json");

    let out = ipr_plan_analyze(&[&plan, "--cost", &cost], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\nCost: 120.45 → 230.10 USD/month (+109.65)\nRisk: medium\n"),
        "{}",
        stdout(&out)
    );

    let out = ipr_plan_analyze(&[&plan, "--cost", &cost, "--format", "json"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["cost"],
        serde_json::json!({"monthlyBefore": 120.45, "monthlyAfter": 230.1, "currency": "USD"})
    );
    assert_eq!(
        v["risk"], "medium",
        "the report and its cost are one object"
    );
    assert_eq!(v["summary"]["change"], 2);

    let out = ipr_plan_analyze(&[&plan, "--format", "json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("cost").is_none(), "no cost without --cost: {v}");

    let out = ipr_plan_analyze(&[&plan, "--cost", &cost, "--format", "yaml"], b"");
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cost"]["currency"], "USD");

    let eur = std::fs::read(cost_fixture("eur.json")).unwrap();
    let out = ipr_plan_analyze(
        &[
            &plan,
            "--cost",
            "-",
            "--format",
            "markdown",
            "--rollback-plan",
            "Resize back to db.t3.large",
        ],
        &eur,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(
        md.contains("\n## Cost\n\n| Monthly before | Monthly after | Change | Currency |\n|---:|---:|---:|---|\n| 0.00 | 29.41 | +29.41 | EUR |\n"),
        "{md}"
    );
    assert!(
        md.ends_with("## Rollback\n\nResize back to db.t3.large\n"),
        "{md}"
    );

    let out = ipr_plan_analyze(&[&plan, "--cost", &cost_fixture("no-baseline.json")], b"");
    assert!(
        stdout(&out).contains("Cost: 0.00 → 230.10 USD/month (+230.10)\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn plan_analyze_refuses_a_malformed_cost_file_and_prints_nothing() {
    let plan = fixture_path("stateful-update.json").display().to_string();
    let malformed = cost_fixture("malformed.json");
    for format in ["table", "json", "markdown"] {
        let out = ipr_plan_analyze(&[&plan, "--cost", &malformed, "--format", format], b"");
        assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.lines()
                .any(|l| l.starts_with("error: ") && l.contains("malformed.json: not valid JSON")),
            "{err}"
        );
        assert!(
            err.contains("hint: write it with `infracost breakdown"),
            "{err}"
        );
    }

    // The plan given as the cost: not infracost output.
    let out = ipr_plan_analyze(&[&plan, "--cost", &plan], b"");
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("not infracost JSON output: no `projects` field"),
        "{}",
        stderr(&out)
    );

    let out = ipr_plan_analyze(&[&plan, "--cost", "/nonexistent/infracost.json"], b"");
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    let out = ipr_plan_analyze(&["-", "--cost", "-"], b"{}");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot both be read from stdin"));
}
