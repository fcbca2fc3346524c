//! `ipr notify`.

use crate::error::{Error, Result};
use crate::outbox::{self, Item, Options};

use super::{output, Ctx, Format};

/// Deliver the notifications that have not been delivered yet.
///
/// Every action that lands on the shared branch delivers its own events
/// (to the targets under `notifications:` in .ipr/config.yaml, and to
/// `slack-app`, the Slack app's announcements, when `slack.channel` is
/// set); `ipr
/// notify` delivers whatever is still undelivered: events a failing target
/// missed, and transitions pushed by plain git. Run it from CI on every
/// push to the branch, from cron, or from the remote's post-receive hook.
///
/// What each target received is recorded as the ref
/// `refs/ipr/notified/<target>` (pushed to the remote), so no clone
/// delivers an event twice in normal operation. A target that fails is
/// told again from the failed event on, in order, by the next run; event
/// ids are stable, so a receiver can drop a repeat. A failed target is a
/// `warning:` and does not change the exit code.
///
/// With a remote, the remote's branch is the shared one: it is fetched
/// first, and events are delivered up to its tip.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show what would be delivered, and to which target; send and record
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Only this target (a name under `notifications:`, or `slack-app`);
    /// repeat for more.
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,

    /// Mark the events of COMMIT (or of event COMMIT.N) delivered to the
    /// targets chosen with --target, without sending them: for an event
    /// a receiver can never take, so it stops holding up the rest.
    #[arg(long, value_name = "COMMIT", requires = "targets")]
    pub skip: Option<String>,

    /// The git remote whose branch is shared (default: the branch's
    /// upstream, else `sync.remote`, else `origin`; none: this clone).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let options = Options {
        dry_run: args.dry_run,
        targets: args.targets,
        remote: args.remote,
        no_input: ctx.no_input,
        skip: args
            .skip
            .as_deref()
            .map(|c| outbox::resolve_skip(&store, c))
            .transpose()?,
        ..Options::default()
    };
    let report = outbox::deliver(&store, &options)?;
    for line in report.warning_lines() {
        eprintln!("warning: {}", output::esc(&line));
    }
    match ctx.format {
        Format::Table => {
            let (verb, items) = if args.dry_run {
                ("would deliver", &report.pending)
            } else {
                ("delivered", &report.delivered)
            };
            let mut rows: Vec<Vec<String>> = items.iter().map(|i| row(i, "")).collect();
            rows.extend(report.skipped.iter().map(|i| row(i, "skipped")));
            if !rows.is_empty() {
                let header = if report.skipped.is_empty() {
                    vec!["EVENT", "REQUEST", "TARGET", "ID"]
                } else {
                    vec!["EVENT", "REQUEST", "TARGET", "ID", "NOTE"]
                };
                if report.skipped.is_empty() {
                    rows.iter_mut().for_each(|r| {
                        r.pop();
                    });
                }
                output::print(&output::table(&header, rows))?;
            }
            let waiting: usize = report.failed.len()
                + report.waiting.values().copied().sum::<usize>()
                + report.deferred;
            let mut summary = format!(
                "{verb} {} event{} from {}",
                items.len(),
                if items.len() == 1 { "" } else { "s" },
                if report.branch.is_empty() {
                    "this clone"
                } else {
                    &report.branch
                }
            );
            if waiting > 0 {
                summary.push_str(&format!("; {waiting} still undelivered"));
            }
            if args.dry_run {
                summary.push_str("; nothing sent or recorded");
            }
            ctx.note(summary);
        }
        format => output::print(&output::data(format, &report)?)?,
    }
    if report.unrecorded {
        // Sent, but the next clone would send it again: a CI job must see it.
        return Err(Error::other(
            "what was delivered could not be recorded on the remote (see the warning above)",
        )
        .with_hint("give this job push rights for refs/ipr/notified/*, or run `ipr notify` where it has them"));
    }
    Ok(())
}

fn row(i: &Item, note: &str) -> Vec<String> {
    vec![
        i.event_type.to_string(),
        i.request.clone(),
        i.target.clone(),
        i.event.clone(),
        note.to_string(),
    ]
}
