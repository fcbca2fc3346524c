//! `ipr notify`.

use crate::error::Result;
use crate::outbox::{self, Item, Options};

use super::{output, Ctx, Format};

/// Deliver the notifications that have not been delivered yet.
///
/// Every action that lands on the shared branch delivers its own events
/// (to the targets under `notifications:` in .ipr/config.yaml); `ipr
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

    /// Only this target (a name under `notifications:`); repeat for more.
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,

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
            if !items.is_empty() {
                output::print(&output::table(
                    &["EVENT", "REQUEST", "TARGET", "ID"],
                    items.iter().map(row).collect(),
                ))?;
            }
            let waiting: usize =
                report.failed.len() + report.waiting.values().copied().sum::<usize>();
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
            Ok(())
        }
        format => output::print(&output::data(format, &report)?),
    }
}

fn row(i: &Item) -> Vec<String> {
    vec![
        i.event_type.to_string(),
        i.request.clone(),
        i.target.clone(),
        i.event.clone(),
    ]
}
