//! The edge where errors become what a terminal and a shell see: the
//! `deny:` lines of a policy denial, the `error:` line, the `hint:` line,
//! and the exit code of SPEC §6. Decided here, in one place; a server maps
//! the same [`Kind`]s to HTTP statuses.

use crate::error::{Error, Kind, Remedy};

use super::output::esc;

/// The documented exit code of an error kind (SPEC §6).
pub fn code(kind: Kind) -> i32 {
    match kind {
        Kind::Other | Kind::Waiting => 1,
        Kind::Usage => 2,
        Kind::Permission => 3,
        Kind::NotFound => 4,
        Kind::Conflict => 5,
        Kind::Invalid => 6,
        Kind::Untrusted => 7,
        Kind::DeployFailed => 8,
    }
}

/// Print `e` on stderr, one line each (an error can quote text from a
/// ticket, so every line is escaped), and return the exit code.
pub fn report(e: &Error) -> i32 {
    for finding in e.findings() {
        eprintln!("deny: {}", esc(&finding.to_string()));
    }
    eprintln!("error: {}", esc(e.message()));
    if let Some(hint) = hint(e) {
        eprintln!("hint: {}", esc(&hint));
    }
    code(e.kind())
}

/// The `hint:` line: the remedy in terms of ipr's commands, else the
/// library's own advice.
pub fn hint(e: &Error) -> Option<String> {
    e.remedy()
        .map(command)
        .or_else(|| e.hint().map(str::to_string))
}

/// A remedy, as the commands that carry it out.
pub fn command(remedy: &Remedy) -> String {
    let record = |id: &Option<String>, job: &Option<String>| {
        format!(
            "`ipr record {} --status successful|failed --job-id {}`",
            id.as_deref().unwrap_or("ID"),
            job.as_deref().unwrap_or("JOB")
        )
    };
    match remedy {
        Remedy::OpenRepo => {
            "run `git init` and `ipr init`, or pass -C PATH to a gitops repo".into()
        }
        Remedy::Init => "run `ipr init --tenant NAME --admin EMAIL` to set it up".into(),
        Remedy::ListRequests => "`ipr list` shows the requests you can see".into(),
        Remedy::ListViolations => "`ipr verify` lists the commits that do not verify".into(),
        Remedy::ResolveViolation { commit } => format!(
            "`ipr verify` lists every violation; an admin reverts the change or accepts it with `ipr waive {commit} --reason \"...\"`"
        ),
        Remedy::UndoOutgoing => "`ipr verify` lists every violation; undo the commit (git reset, git revert) before pushing".into(),
        Remedy::RecordOutcome { id, job, first: Some(first) } => {
            format!("{first}, then {}", record(id, job))
        }
        Remedy::RecordOutcome { id, job, first: None } => {
            format!("{} once you know the outcome", record(id, job))
        }
        Remedy::ResumeWatching { id, job } => format!(
            "the ticket stays deploying with job {job}; run `ipr deploy {id}` again to resume watching (it never launches a second job)"
        ),
        Remedy::RecordedJobId => "pass the job id `ipr show ID` lists for the deploying entry".into(),
        Remedy::FileTerraformRequest => "file the request with `ipr create --type terraform --plan PLAN.json --plan-file tfplan`".into(),
        Remedy::FixPlanForPolicies { dir } => format!(
            "change the plan so the policies pass; policy changes are commits to {dir} (`ipr policy test` runs their fixtures)"
        ),
        Remedy::GiveRejectReason => "ipr reject ID --reason \"why this cannot ship\"".into(),
        Remedy::SyncAfter { first } => format!("{first}, then run ipr sync"),
        Remedy::NewToken => "`ipr token new EMAIL` prints the line to add".into(),
        Remedy::HookNotOurs => "add `ipr verify --staged` to it, or replace it with --force".into(),
        Remedy::FinishLanding => "the commit landed; run any ipr command (e.g. `ipr list`) to bring the work tree and index along".into(),
    }
}
