//! How fast `ipr::plan::analyze` reads a large plan. Not part of `cargo test`.
//!
//! ```sh
//! cargo run --release --example plan_bench                 # 20,000 changes, ~50 MB
//! cargo run --release --example plan_bench -- --resources 5000 --iterations 10
//! cargo run --release --example plan_bench -- --write /tmp/big-plan.json
//! ```
//!
//! It builds a synthetic `terraform show -json` plan in the shape of the
//! generated fixtures (each resource appears in `resource_changes`,
//! `planned_values`, `prior_state` and `configuration`, with nested
//! `before`/`after` values, for_each keys that need unescaping, modules), then
//! reports wall and CPU time of `analyze` (CPU from the thread's schedstat on
//! Linux, so it counts this one core only).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ipr::plan::{self, PlanConfig};

struct Args {
    resources: usize,
    target_mb: usize,
    iterations: usize,
    write: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        resources: 20_000,
        target_mb: 50,
        iterations: 5,
        write: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--resources" => args.resources = value().parse().expect("--resources N"),
            "--size-mb" => args.target_mb = value().parse().expect("--size-mb N"),
            "--iterations" => args.iterations = value().parse().expect("--iterations N"),
            "--write" => args.write = Some(value()),
            other => {
                panic!("unknown argument {other}; see the doc comment of examples/plan_bench.rs")
            }
        }
    }
    args
}

/// `(actions, action_reason, type)` by resource number: mostly no-ops, as in
/// a real large plan, with every kind of change represented.
fn kind(i: usize) -> (&'static str, Option<&'static str>, &'static str) {
    match i % 20 {
        0 => (r#"["create"]"#, None, "aws_instance"),
        1 => (r#"["update"]"#, None, "aws_security_group"),
        2 => (r#"["update"]"#, None, "aws_s3_bucket"),
        3 if i % 40 == 3 => (
            r#"["delete"]"#,
            Some("delete_because_each_key"),
            "aws_route53_record",
        ),
        4 if i % 100 == 4 => (
            r#"["delete","create"]"#,
            Some("replace_because_cannot_update"),
            "aws_launch_template",
        ),
        _ => (r#"["no-op"]"#, None, "aws_iam_role_policy_attachment"),
    }
}

/// A nested attribute object of about `pad` bytes, like a provider's values.
fn values(i: usize, pad: usize) -> String {
    let mut v = format!(
        r#"{{"id":"res-{i:08}","arn":"arn:aws:iam::123456789012:policy/service-{i}","name":"service-{i}","tags":{{"Team":"platform","Service":"svc-{i}","Env":"prod"}},"tags_all":{{"Team":"platform","Service":"svc-{i}","Env":"prod"}},"ingress":["#
    );
    let mut n = 0;
    while v.len() < pad {
        write!(
            v,
            r#"{}{{"cidr_blocks":["10.{}.{}.0/24"],"description":"rule \"{n}\" for svc-{i}","from_port":{},"protocol":"tcp","self":false,"to_port":{}}}"#,
            if n == 0 { "" } else { "," },
            n % 256,
            i % 256,
            1000 + n,
            1000 + n
        )
        .unwrap();
        n += 1;
    }
    v.push_str("]}");
    v
}

fn synthetic_plan(resources: usize, target_bytes: usize) -> String {
    // Four copies of each resource's values (before, after, planned, prior)
    // plus fixed overhead make up the size.
    let pad = (target_bytes / resources.max(1)).saturating_sub(1100) / 4;
    let mut changes = String::new();
    let mut planned = String::new();
    let mut prior = String::new();
    let mut config = String::new();
    for i in 0..resources {
        let (actions, reason, kind) = kind(i);
        let module = format!("module.svc{}", i % 50);
        let key = format!("key-{i}");
        let address = format!(r#"{module}.{kind}.this[\"{key}\"]"#);
        let v = values(i, pad);
        let sep = if i == 0 { "" } else { "," };
        let reason = reason
            .map(|r| format!(r#","action_reason":"{r}""#))
            .unwrap_or_default();
        let before = if actions.contains("create") && !actions.contains("delete") {
            "null"
        } else {
            &v
        };
        write!(
            changes,
            r#"{sep}{{"address":"{address}","module_address":"{module}","mode":"managed","type":"{kind}","name":"this","index":"{key}","provider_name":"registry.terraform.io/hashicorp/aws","change":{{"actions":{actions},"before":{before},"after":{v},"after_unknown":{{"tags":{{}},"tags_all":{{}}}},"before_sensitive":{{"tags":{{}}}},"after_sensitive":{{"tags":{{}}}}}}{reason}}}"#
        )
        .unwrap();
        let resource = format!(
            r#"{{"address":"{address}","mode":"managed","type":"{kind}","name":"this","index":"{key}","provider_name":"registry.terraform.io/hashicorp/aws","schema_version":0,"values":{v},"sensitive_values":{{"tags":{{}},"tags_all":{{}}}}}}"#
        );
        write!(planned, "{sep}{resource}").unwrap();
        write!(prior, "{sep}{resource}").unwrap();
        if i < 50 {
            write!(
                config,
                r#"{sep}"svc{i}":{{"source":"./modules/svc","module":{{"resources":[{{"address":"{kind}.this","mode":"managed","type":"{kind}","name":"this","provider_config_key":"aws","expressions":{{"name":{{"references":["each.key"]}}}},"schema_version":0,"for_each_expression":{{"references":["var.keys"]}}}}]}}}}"#
            )
            .unwrap();
        }
    }
    format!(
        r#"{{"format_version":"1.2","terraform_version":"1.11.4","planned_values":{{"root_module":{{"resources":[{planned}]}}}},"resource_changes":[{changes}],"prior_state":{{"format_version":"1.0","terraform_version":"1.11.4","values":{{"root_module":{{"resources":[{prior}]}}}}}},"configuration":{{"provider_config":{{"aws":{{"name":"aws","full_name":"registry.terraform.io/hashicorp/aws"}}}},"root_module":{{"module_calls":{{{config}}}}}}},"timestamp":"2025-03-14T09:26:53Z","applyable":true,"complete":true,"errored":false}}"#
    )
}

/// CPU time of the calling thread: nanoseconds from /proc (Linux).
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let args = parse_args();
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; run with --release for meaningful numbers");
    }
    let json = synthetic_plan(args.resources, args.target_mb * 1_000_000);
    if let Some(path) = &args.write {
        std::fs::write(path, &json).expect("write the plan");
        println!("wrote {path}");
    }
    let cfg = PlanConfig::default();

    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut report = None;
    for _ in 0..args.iterations.max(1) {
        let (wall0, cpu0) = (Instant::now(), thread_cpu());
        let r = plan::analyze(json.as_bytes(), &cfg).expect("the synthetic plan parses");
        let wall = wall0.elapsed();
        walls.push(wall);
        if let (Some(a), Some(b)) = (cpu0, thread_cpu()) {
            cpus.push(b - a);
        }
        report = Some(r);
    }
    let report = report.unwrap();
    assert_eq!(report.resources.len(), args.resources);
    walls.sort();
    cpus.sort();

    println!(
        "plan: {:.1} MB, {} resource changes ({})",
        json.len() as f64 / 1e6,
        report.resources.len(),
        report.summary.line
    );
    println!("risk: {} ({})", report.risk, report.reasons.join("; "));
    println!(
        "analyze over {} runs: wall min {} / median {}",
        walls.len(),
        ms(walls[0]),
        ms(walls[walls.len() / 2])
    );
    if cpus.is_empty() {
        println!("analyze CPU: unavailable (no /proc/thread-self/schedstat)");
    } else {
        println!(
            "analyze CPU (this thread, one core): min {} / median {}",
            ms(cpus[0]),
            ms(cpus[cpus.len() / 2])
        );
    }
    let t = Instant::now();
    let table = plan::render_table(&report, None);
    let md = plan::render_markdown(&report, None, None);
    let out = serde_json::to_vec(&report).unwrap();
    println!(
        "render table + markdown + JSON report ({} + {} + {} bytes): {}",
        table.len(),
        md.len(),
        out.len(),
        ms(t.elapsed())
    );
}
