//! `ipr sync`.

use crate::error::{Error, Result};
use crate::session::Signing;
use crate::sync;

use super::Ctx;

/// Share your actions with the team: fetch the remote branch, replay your
/// unpushed ipr commits on top of it one by one (each re-checked against
/// the remote's state), and push.
///
/// The remote is --remote, else the branch's upstream, else `sync.remote`
/// in config, else `origin`. A request you created offline whose ID was
/// taken on the remote is renumbered (you are told the old and new ID). An
/// action that is no longer legal (the request was rejected meanwhile, the
/// quorum is already met) is dropped and reported, and sync exits 5. sync
/// never creates a merge commit. Transport is the `git` binary, so ssh
/// agents and credential helpers work as they do for git.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The git remote to sync with.
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,

    /// Sign replayed commits even if git config does not ask for it.
    #[arg(long)]
    pub sign: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    super::only_table(ctx, "sync")?;
    let store = ctx.store()?;
    let options = sync::SyncOptions {
        sign: args.sign,
        no_input: ctx.no_input,
    };
    let report = sync::sync(&store, &Signing::GitConfig, args.remote.as_deref(), options)?;
    describe(ctx, &report);
    // What this sync landed on the remote (and anything still due).
    let outbox = crate::outbox::Outbox {
        options: crate::outbox::Options {
            remote: args.remote.clone(),
            ..ctx.outbox().options
        },
        ..ctx.outbox()
    };
    crate::notify::Notifier::landed(&outbox, &store, &report.landed);
    if report.dropped.is_empty() {
        Ok(())
    } else {
        Err(Error::conflict(format!(
            "{} local action{} could not be replayed on {} and {} dropped",
            report.dropped.len(),
            if report.dropped.len() == 1 { "" } else { "s" },
            report.upstream,
            if report.dropped.len() == 1 {
                "was"
            } else {
                "were"
            },
        )))
    }
}

/// Tell the user what a sync (or a pushed action) did.
pub fn describe(ctx: &Ctx, r: &sync::Report) {
    for (old, new) in &r.renumbered {
        ctx.note(format!(
            "renumbered {old} -> {new}: {} already had {old}",
            r.upstream
        ));
    }
    for d in &r.dropped {
        ctx.note(format!(
            "dropped {} ({}): {}",
            &d.commit.to_string()[..12],
            d.summary,
            d.reason
        ));
    }
    let mut line = format!("synced with {}", r.upstream);
    if r.received > 0 {
        line.push_str(&format!(
            "; received {} commit{}",
            r.received,
            plural(r.received)
        ));
    }
    if r.replayed > 0 {
        line.push_str(&format!(
            "; replayed {} local commit{}",
            r.replayed,
            plural(r.replayed)
        ));
    }
    line.push_str(if r.pushed {
        "; pushed"
    } else {
        "; nothing to push"
    });
    if r.attempts > 1 {
        line.push_str(&format!(
            " (after {} attempts: the remote moved meanwhile)",
            r.attempts
        ));
    }
    ctx.note(line);
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
