//! `ipr create`: file a new request.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::draft;
use crate::error::{Error, Result};
use crate::model::{
    parse_datetime, parse_url, Impact, PreChecks, RequestDetails, Spec, Target, TargetType,
};
use crate::plan::PlanConfig;
use crate::plan_request::PlanInput;
use crate::query::View;
use crate::request::{self, NewRequest};

use super::output::{self, esc};
use super::{Ctx, Format};

/// File a new promotion request and commit it as yourself.
///
/// Give the request with flags, or with -f FILE holding a YAML document of
/// the ticket's `spec` (target, request, preChecks) and optionally
/// `tenant`. On a terminal, ipr asks for what is missing; with --no-input
/// (or without a terminal) a missing value is an error (exit 6).
///
/// A terraform request needs --plan, the `terraform show -json` output of
/// the saved plan, and should have --plan-file, the saved plan itself,
/// which is what the terraform runner will apply. ipr stores their
/// SHA-256, terraform's summary line and the plan's risk (see `ipr plan
/// analyze`) in `spec.plan`; the impact is the risk unless --impact raises
/// it (lowering it is refused, exit 6), and so are the approvals needed.
/// The policies of `.ipr/policies` are checked against the plan: a `deny`
/// refuses the request (exit 3), `warn`s are shown and stored in
/// `spec.plan.warnings`. With -f, the document may name the two files as
/// `planJson:` and `planFile:` (relative to the document), or the flags
/// may be given.
///
/// With --from-text TEXT, the LLM of `llm:` in .ipr/config.yaml drafts
/// the request from a plain description. ipr shows the document and what
/// the text did not say, asks you for each missing field and for the
/// pre-checks you attest (whatever the text said), shows the final
/// document with a one-line summary, and files it only when you type
/// `yes` to `Create this request?`, as you (anything else: nothing is
/// created, exit 0). The model fills only the fields of the -f document
/// (null when the text does not say; ipr never guesses), and its answer is
/// checked like any request. With --no-input or without a terminal nothing
/// is created: the drafted document is printed on stdout for `ipr create
/// -f`, and ipr exits 6.
///
/// Prints the new ID, e.g. PR-2026-0042 (with --format json, the ticket).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  ipr create --type api --name payment-api --version 2.1.0 --tenant tenant-finance \\
    --justification \"New PCI-DSS compliant payment flow\" --impact low \\
    --rollback-plan \"Revert to v2.0.0 via emergency deploy\" \\
    --staging-tests-passed --security-scan-passed \\
    --evidence-url https://ci.example.com/pipeline/12345

  terraform plan -out=tfplan && terraform show -json tfplan > plan.json
  ipr create --plan plan.json --plan-file tfplan --name network --version 2026.03.1 \\
    --justification \"Open port 443 on the edge load balancer\" \\
    --rollback-plan \"Re-apply the previous tag infra-2026.02.4\" \\
    --staging-tests-passed --security-scan-passed \\
    --evidence-url https://ci.example.com/pipeline/12346

  ipr create --from-text \"promote payment-api 2.1.0 from staging to prod for \\
    tenant-finance, fixes the checkout timeouts, low impact, roll back by redeploying \\
    2.0.9; staging tests and security scan passed: https://ci.example.com/pipeline/12345\"

  ipr create --from-text \"...\" --no-input > req.yaml   # review and complete it, then:
  ipr create -f req.yaml")]
pub struct Args {
    /// Read the request from a YAML file (`-` for stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE", conflicts_with_all = [
        "kind", "name", "version", "source_env", "target_env", "justification",
        "release_notes", "impact", "rollback_plan", "scheduled", "staging_tests_passed",
        "security_scan_passed", "performance_tests_passed", "evidence_url"])]
    pub file: Option<PathBuf>,

    /// Draft the request from a plain description with the LLM of `llm:`
    /// in the config; you complete and confirm it on a terminal.
    #[arg(long = "from-text", value_name = "TEXT", allow_hyphen_values = true,
        conflicts_with_all = [
        "file", "kind", "name", "version", "tenant", "source_env", "target_env",
        "justification", "release_notes", "impact", "rollback_plan", "scheduled",
        "staging_tests_passed", "security_scan_passed", "performance_tests_passed",
        "evidence_url", "plan", "plan_file", "cost"])]
    pub from_text: Option<String>,

    /// What is promoted [default with --plan: terraform].
    #[arg(long = "type", value_name = "TYPE", value_enum)]
    pub kind: Option<TargetType>,

    /// Name of the API, application, policy or stack.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Version to promote.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,

    /// Tenant the request belongs to [default: your only tenant].
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,

    /// Environment the version was tested in.
    #[arg(long, value_name = "ENV", default_value = "staging")]
    pub source_env: String,

    /// Environment to promote to.
    #[arg(long, value_name = "ENV", default_value = "prod")]
    pub target_env: String,

    /// Why this change is needed (at least 20 characters).
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub justification: Option<String>,

    /// Release notes (Markdown).
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub release_notes: Option<String>,

    /// Impact assessment; decides how many approvals are needed.
    #[arg(long, value_name = "IMPACT", value_enum)]
    pub impact: Option<Impact>,

    /// How to undo the change (required).
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub rollback_plan: Option<String>,

    /// Not before this RFC 3339 date-time, e.g. 2026-12-24T09:00:00Z [default: ASAP].
    #[arg(long, value_name = "DATETIME")]
    pub scheduled: Option<String>,

    /// Staging tests passed (required to create).
    #[arg(long)]
    pub staging_tests_passed: bool,

    /// Security scan passed (required to create).
    #[arg(long)]
    pub security_scan_passed: bool,

    /// Performance tests passed.
    #[arg(long)]
    pub performance_tests_passed: bool,

    /// http(s) URL of the test evidence (CI run, report).
    #[arg(long, value_name = "URL")]
    pub evidence_url: Option<String>,

    /// `terraform show -json` output of the plan (`-` for stdin).
    #[arg(long, value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,

    /// The saved plan (`terraform plan -out=FILE`) the runner will apply.
    #[arg(long, value_name = "FILE", requires = "plan")]
    pub plan_file: Option<PathBuf>,

    /// The plan's monthly cost: `infracost breakdown --path plan.json
    /// --format json --out-file infracost.json` (`-` for stdin). Stored in
    /// `spec.plan.cost`; rules with `monthlyCostIncreaseAbove` use it.
    #[arg(long, value_name = "INFRACOST.json")]
    pub cost: Option<PathBuf>,

    #[command(flatten)]
    pub commit: super::CommitArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    if let Some(text) = &args.from_text {
        return from_text(ctx, text, &args.commit);
    }
    let (store, session) = ctx.open()?;
    // Read config and actor first: a repo that is not set up fails before prompting.
    let view = View::open(&store, &session)?;
    let mut ask = Asker::new(ctx);

    let file = match &args.file {
        Some(path) => Some(read_spec_file(&ctx.resolve(path))?),
        None => None,
    };
    let mut plan = read_plan(ctx, &args, file.as_ref(), &view.config().plan)?;
    if let Some(path) = &args.cost {
        let Some(plan) = plan.as_mut() else {
            return Err(Error::usage(
                "--cost is the cost of a terraform plan; give the plan with --plan",
            ));
        };
        plan.cost = Some(crate::plan_request::read_cost(&ctx.resolve(path))?);
    }
    let (spec, tenant) = match file {
        Some((file, _)) => (Some(file.spec()), file.tenant.or(args.tenant.clone())),
        None => (
            spec_from_flags(&args, plan.as_ref(), &mut ask)?,
            args.tenant.clone(),
        ),
    };
    let tenant = match tenant {
        Some(t) => Some(t),
        None => match request::default_tenant(view.config(), &session.actor.email) {
            Some(t) => Some(t),
            None => ask.text("tenant", &view.config().tenants)?,
        },
    };
    ask.finish()?;
    let tenant = tenant.expect("finish() refuses missing values");
    let spec = spec.expect("finish() refuses missing values");

    let options = args.commit.options(ctx);
    let done = request::create(
        &store,
        &session,
        spec,
        Some(&tenant),
        plan.as_ref(),
        options,
    )?;
    created(ctx, &done)
}

/// Say what was created: the ID on stdout (with --format json, the ticket).
fn created(ctx: &Ctx, done: &crate::action::Done) -> Result<()> {
    let t = &done.ticket;
    if let Some(pushed) = &done.pushed {
        super::sync::describe(ctx, pushed);
    }
    for w in t.spec.plan.iter().flat_map(|p| &p.warnings) {
        ctx.note(format!("warning: {w}"));
    }
    match ctx.format {
        Format::Table => {
            let risk = t
                .spec
                .plan
                .as_ref()
                .map(|p| format!("plan risk {}, ", p.risk))
                .unwrap_or_default();
            ctx.note(format!(
                "created {} for {} ({risk}{}) in {}",
                t.id(),
                t.metadata.tenant,
                needs_line(t, &done.config),
                t.path()
            ));
            output::print(&t.id().to_string())
        }
        f => output::print(&output::data(f, t)?),
    }
}

/// `--from-text`: draft with the LLM, let a person complete and confirm
/// it on a terminal, file it as them. Without a terminal (or with
/// --no-input) nothing is filed: the drafted document goes to stdout.
fn from_text(ctx: &Ctx, text: &str, commit: &super::CommitArgs) -> Result<()> {
    let (store, session) = ctx.open()?;
    let view = View::open(&store, &session)?;
    let config = view.config();
    let actor = session.actor.email.as_str();
    let interactive =
        !ctx.no_input && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if let Some(llm) = &config.llm {
        ctx.note(format!("drafting the request with {}...", esc(&llm.model)));
    }
    let mut draft = draft::draft(config, actor, text)?;

    if !interactive {
        output::print(&draft.yaml())?;
        let missing = draft.missing();
        if !missing.is_empty() {
            ctx.note(format!("missing: {}", missing.join(", ")));
        } else if let Err(e) = draft.check(config, actor) {
            for line in problem_lines(&e) {
                ctx.note(format!("problem: {}", esc(&line)));
            }
        }
        return Err(Error::invalid(
            "nothing was created: --from-text needs a person to confirm the request (no terminal, or --no-input)",
        )
        .with_hint("complete the document printed on stdout, then file it with `ipr create -f FILE`"));
    }

    eprintln!("The request as drafted from your text (check every field):");
    eprint!("{}", shown(&draft.yaml()));
    let missing = draft.missing();
    if !missing.is_empty() {
        eprintln!("missing: {}", missing.join(", "));
    }
    for path in &missing {
        ask_field(config, actor, &mut draft, path)?;
    }
    // What a person attests is theirs to say, whatever the text or the
    // model said: asked each time, no by default.
    for path in ATTESTATIONS {
        if !missing.contains(&path) {
            ask_field(config, actor, &mut draft, path)?;
        }
    }
    let doc = loop {
        let e = match draft.check(config, actor) {
            Ok(doc) => break doc,
            Err(e) => e,
        };
        // Ask again for a field a person can correct; any other refusal
        // (a pre-check that did not pass, no right to file) stands.
        let mut again: Vec<&'static str> = Vec::new();
        let problems = match e.detail() {
            crate::error::Detail::Problems(p) => p.clone(),
            _ => return Err(e),
        };
        for p in &problems {
            let field = draft::field_of(&p.field)
                .filter(|f| draft::question(config, actor, f).is_some_and(|q| !q.yes_no));
            match field {
                Some(f) if !again.contains(&f) => again.push(f),
                Some(_) => {}
                None => return Err(e),
            }
        }
        for p in &problems {
            eprintln!("problem: {}", esc(&p.message));
        }
        for path in again {
            ask_field(config, actor, &mut draft, path)?;
        }
    };
    if let Some(t) = &doc.tenant {
        // Shown as it will be filed, also when it is the actor's only tenant.
        draft.fill("tenant", t)?;
    }
    eprintln!("The request to file, as {}:", esc(actor));
    eprint!("{}", shown(&draft.yaml()));
    // The facts that matter, last, where a long document cannot scroll
    // them away.
    eprintln!("In short: {}", esc(&doc.summary()));
    // A typed word, as `terraform apply` asks: keys typed while the model
    // was answering cannot say yes for you.
    let answer: String = dialoguer::Input::new()
        .with_prompt("Create this request? Only 'yes' creates it")
        .allow_empty(true)
        .interact_text()
        .map_err(prompt_error)?;
    if answer.trim() != "yes" {
        eprintln!("nothing was created");
        return Ok(());
    }
    let done = request::create(
        &store,
        &session,
        doc.spec(),
        doc.tenant.as_deref(),
        None,
        commit.options(ctx),
    )?;
    created(ctx, &done)
}

/// The pre-checks a person attests: asked on the terminal whatever the
/// draft says.
const ATTESTATIONS: [&str; 2] = [
    "preChecks.stagingTestsPassed",
    "preChecks.securityScanPassed",
];

/// The messages of an error: each problem, or the error itself.
fn problem_lines(e: &Error) -> Vec<String> {
    match e.detail() {
        crate::error::Detail::Problems(p) if !p.is_empty() => {
            p.iter().map(|p| p.message.clone()).collect()
        }
        _ => vec![e.message().to_string()],
    }
}

/// A document drafted from a model's answer, for a terminal: each line
/// escaped, indented.
fn shown(yaml: &str) -> String {
    yaml.lines().map(|l| format!("  {}\n", esc(l))).collect()
}

/// Ask a person for the field at `path` and fill it in.
fn ask_field(
    config: &crate::config::Config,
    actor: &str,
    draft: &mut draft::Draft,
    path: &'static str,
) -> Result<()> {
    let q = draft::question(config, actor, path)
        .ok_or_else(|| Error::other(format!("{path} is not a field of a request")))?;
    let prompt = format!("{path} ({})", q.about);
    if q.yes_no {
        let yes = dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(false)
            .interact()
            .map_err(prompt_error)?;
        return draft.fill(path, if yes { "yes" } else { "no" });
    }
    if !q.choices.is_empty() {
        let i = dialoguer::Select::new()
            .with_prompt(prompt)
            .items(&q.choices)
            .default(0)
            .interact()
            .map_err(prompt_error)?;
        return draft.fill(path, &q.choices[i]);
    }
    let check = draft.clone();
    let value: String = dialoguer::Input::new()
        .with_prompt(prompt)
        .validate_with(|v: &String| -> std::result::Result<(), String> {
            check
                .clone()
                .fill(path, v)
                .map_err(|e| e.message().to_string())
        })
        .interact_text()
        .map_err(prompt_error)?;
    draft.fill(path, &value)
}

/// What a new request needs, for people: `2 approvals and 1 of dba
/// needed`, or why it was approved at create.
pub(super) fn needs_line(t: &crate::model::Ticket, config: &crate::config::Config) -> String {
    if crate::approvals::auto_approved(t) {
        return t.status.history[1].comment.clone().unwrap_or_default();
    }
    format!(
        "{} needed",
        crate::approvals::needs(config, t).missing.join(" and ")
    )
}

/// The plan of --plan/--plan-file, or of `planJson:`/`planFile:` in the
/// -f document (relative to it); giving both is a usage error.
fn read_plan(
    ctx: &Ctx,
    args: &Args,
    file: Option<&(NewRequest, PathBuf)>,
    cfg: &PlanConfig,
) -> Result<Option<PlanInput>> {
    let from_file = file.and_then(|(f, base)| {
        f.plan_json.as_ref().map(|j| {
            let rel = |p: &PathBuf| {
                if p.is_absolute() {
                    p.clone()
                } else {
                    base.join(p)
                }
            };
            (rel(j), f.plan_file.as_ref().map(rel))
        })
    });
    if let Some((f, _)) = file {
        if f.plan_json.is_none() && f.plan_file.is_some() {
            return Err(Error::invalid("planFile is given without planJson")
                .with_hint("planJson: the `terraform show -json` output of planFile"));
        }
    }
    let from_flags = args.plan.as_ref().map(|j| {
        (
            ctx.resolve(j),
            args.plan_file.as_ref().map(|f| ctx.resolve(f)),
        )
    });
    let (json, binary) = match (from_flags, from_file) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(
                "the plan is given twice: by --plan and by planJson in the -f document",
            ))
        }
        (Some(p), None) | (None, Some(p)) => p,
        (None, None) => return Ok(None),
    };
    PlanInput::load(&json, binary.as_deref(), cfg).map(Some)
}

/// The -f document and the folder its relative paths start from.
fn read_spec_file(path: &Path) -> Result<(NewRequest, PathBuf)> {
    let base = match path.parent() {
        Some(p) if path != Path::new("-") => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.display().to_string();
    let bytes = if name == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        buf
    } else {
        let meta = std::fs::metadata(path).map_err(|e| Error::not_found(format!("{name}: {e}")))?;
        if meta.len() as usize > crate::model::MAX_TICKET_BYTES {
            return Err(Error::invalid(format!(
                "{name}: file is too large for a request"
            )));
        }
        std::fs::read(path).map_err(|e| Error::io(&name, e))?
    };
    Ok((NewRequest::from_yaml(&bytes, &name)?, base))
}

/// Build the spec from flags, asking for what is missing. Returns `None`
/// when something is missing and cannot be asked for; the asker then
/// reports every missing value at once.
fn spec_from_flags(args: &Args, plan: Option<&PlanInput>, ask: &mut Asker) -> Result<Option<Spec>> {
    let kind = match (args.kind, plan) {
        (Some(k), _) => Some(k),
        (None, Some(_)) => Some(TargetType::Terraform),
        (None, None) => ask.select("type", TargetType::ALL)?,
    };
    let name = ask.or_text("name", args.name.clone())?;
    let version = ask.or_text("version", args.version.clone())?;
    let justification = ask.or_text("justification", args.justification.clone())?;
    let impact = match (args.impact, plan) {
        (Some(i), _) => Some(i),
        (None, Some(p)) => Some(p.report.risk),
        (None, None) => ask.select("impact", Impact::ALL)?,
    };
    let rollback = ask.or_text("rollback-plan", args.rollback_plan.clone())?;
    let evidence = ask.or_text("evidence-url", args.evidence_url.clone())?;
    let staging = args.staging_tests_passed || ask.confirm("staging tests passed?")?;
    let security = args.security_scan_passed || ask.confirm("security scan passed?")?;
    let performance = args.performance_tests_passed || ask.confirm("performance tests passed?")?;

    let scheduled = args
        .scheduled
        .as_deref()
        .map(|s| parse_datetime(s, "--scheduled"))
        .transpose()?;
    let evidence = evidence
        .map(|e| parse_url(&e, "--evidence-url"))
        .transpose()?;
    let (
        Some(kind),
        Some(name),
        Some(version),
        Some(justification),
        Some(impact),
        Some(rollback),
        Some(evidence),
    ) = (
        kind,
        name,
        version,
        justification,
        impact,
        rollback,
        evidence,
    )
    else {
        return Ok(None);
    };
    Ok(Some(Spec {
        target: Target {
            kind,
            name,
            version,
            source_environment: args.source_env.clone(),
            target_environment: args.target_env.clone(),
        },
        request: RequestDetails {
            justification,
            release_notes: args.release_notes.clone(),
            impact_assessment: impact,
            rollback_plan: rollback,
            scheduled_date: scheduled,
        },
        pre_checks: PreChecks {
            staging_tests_passed: staging,
            security_scan_passed: security,
            performance_tests_passed: performance,
            test_evidence_url: evidence,
        },
        plan: None,
        promoted_from: None,
    }))
}

/// Prompts on a terminal (dialoguer); otherwise collects what is missing.
struct Asker {
    interactive: bool,
    missing: Vec<&'static str>,
}

impl Asker {
    fn new(ctx: &Ctx) -> Asker {
        let interactive =
            !ctx.no_input && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        Asker {
            interactive,
            missing: Vec::new(),
        }
    }

    fn or_text(&mut self, flag: &'static str, given: Option<String>) -> Result<Option<String>> {
        match given {
            Some(v) => Ok(Some(v)),
            None => self.text(flag, &[]),
        }
    }

    fn text(&mut self, flag: &'static str, choices: &[String]) -> Result<Option<String>> {
        if !self.interactive {
            self.missing.push(flag);
            return Ok(None);
        }
        if !choices.is_empty() {
            let i = dialoguer::Select::new()
                .with_prompt(flag)
                .items(choices)
                .default(0)
                .interact()
                .map_err(prompt_error)?;
            return Ok(Some(choices[i].clone()));
        }
        let v: String = dialoguer::Input::new()
            .with_prompt(flag)
            .interact_text()
            .map_err(prompt_error)?;
        Ok(Some(v))
    }

    fn select<T: Copy + std::fmt::Display>(
        &mut self,
        flag: &'static str,
        items: &[T],
    ) -> Result<Option<T>> {
        if !self.interactive {
            self.missing.push(flag);
            return Ok(None);
        }
        let labels: Vec<String> = items.iter().map(|i| i.to_string()).collect();
        let i = dialoguer::Select::new()
            .with_prompt(flag)
            .items(&labels)
            .default(0)
            .interact()
            .map_err(prompt_error)?;
        Ok(Some(items[i]))
    }

    /// A yes/no question; without a terminal the answer is no (the flag
    /// was not given), which validation then reports if it matters.
    fn confirm(&mut self, question: &str) -> Result<bool> {
        if !self.interactive {
            return Ok(false);
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(prompt_error)
    }

    fn finish(&self) -> Result<()> {
        if self.missing.is_empty() {
            return Ok(());
        }
        let flags: Vec<String> = self.missing.iter().map(|f| format!("--{f}")).collect();
        Err(Error::invalid(format!(
            "missing {} (no terminal to ask, or --no-input)",
            flags.join(", ")
        ))
        .with_hint("give them as flags, or use -f FILE; `ipr create --help` shows an example"))
    }
}

fn prompt_error(e: dialoguer::Error) -> Error {
    Error::other(format!("prompt: {e}"))
}
