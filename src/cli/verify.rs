//! `ipr verify`.

use crate::error::{Error, Result};
use crate::verify::{self, Scope};

use super::output;
use super::{Ctx, Format};

/// Replay the branch's history and check every transition.
///
/// Each commit that changes a ticket or .ipr/ is checked the way the CLI
/// would have checked the action: the file parses and validates; the change
/// is one legal transition appended to the history, with metadata and spec
/// unchanged; the commit's author is the new entry's `by`; the actor held
/// the role for the tenant under the config of the parent commit; no
/// self-approval or second approval by one person; quorum met before
/// `approved`; rejection reason given; approval digest matches the spec;
/// .ipr/ changed only by admins; with `signing.required`, every such commit
/// signed by a key .ipr/allowed_signers (ssh) or the keyring (openpgp)
/// trusts for its author; no ticket deleted or renamed. Merge commits are
/// checked against each parent.
///
/// Prints one line per violation (with --format json, an array of
/// {commit, file, rule, message}) and exits 7 if there is any, 0 if none.
/// This is what a CI job or a pre-receive hook runs.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  ipr verify                         # the whole history of the current branch
  ipr verify --since origin/main     # only what this branch adds
  ipr verify --since \"$old\" \"$new\"   # a pushed range, in a pre-receive hook
  ipr verify --staged                # the commit about to be made (pre-commit hook)")]
pub struct Args {
    /// Check only commits after REV; REV's tree is trusted as the starting state.
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,

    /// Check the staged changes against HEAD instead of history, as the
    /// commit about to be made (for the pre-commit hook; signatures and
    /// times are checked once the commit exists).
    #[arg(long, conflicts_with_all = ["since", "rev"])]
    pub staged: bool,

    /// The commit to verify up to [default: HEAD].
    #[arg(value_name = "REV")]
    pub rev: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let scope = if args.staged {
        Scope::Staged
    } else {
        Scope::History {
            tip: args.rev,
            since: args.since,
        }
    };
    let report = verify::verify(&store, &scope)?;
    let n = report.violations.len();
    for v in &report.waived {
        ctx.note(format!("waived: {}", output::esc(&verify::line(v))));
    }
    if !args.staged {
        for v in crate::query::overdue_incidents(&store, super::clock()?.now())
            // A detached HEAD (a CI checkout) has no branch to read them
            // from; verify itself works there.
            .unwrap_or_default()
        {
            eprintln!("warning: {}", output::esc(&verify::line(&v)));
        }
    }
    match ctx.format {
        Format::Table => {
            let text: String = report
                .violations
                .iter()
                .map(|v| output::esc(&verify::line(v)) + "\n")
                .collect();
            if !text.is_empty() {
                output::print(&text)?;
            }
        }
        f => output::print(&output::data(f, &report.violations)?)?,
    }
    let what = if args.staged {
        "the staged changes".to_string()
    } else {
        format!(
            "{} commit{}, {} ticket change{}, {} signature{}",
            report.commits,
            plural(report.commits),
            report.transitions,
            plural(report.transitions),
            report.signatures,
            plural(report.signatures)
        )
    };
    if n == 0 {
        let waived = match report.waived.len() {
            0 => String::new(),
            w => format!(" ({w} waived)"),
        };
        ctx.note(format!("verified {what}: no violations{waived}"));
        return Ok(());
    }
    let commits: std::collections::HashSet<&str> = report
        .violations
        .iter()
        .map(|v| v.commit.as_str())
        .collect();
    Err(Error::untrusted(format!(
        "{n} violation{} in {} commit{} ({what} checked)",
        plural(n),
        commits.len(),
        plural(commits.len())
    ))
    .with_hint("each line names the commit, the file and the rule; see `ipr verify --help`"))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
