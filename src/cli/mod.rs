//! The command line: one file per subcommand, each with its `Args` (whose doc
//! comments are the help text, the man page and the completions) and a `run`.

pub mod approve;
pub mod break_glass;
pub mod cancel;
pub mod comment;
pub mod completions;
pub mod create;
pub mod demo;
pub mod deploy;
pub mod drift;
pub mod exit;
pub mod hooks;
pub mod import;
pub mod incident;
pub mod init;
pub mod list;
pub mod log;
pub mod man;
pub mod notify;
pub mod output;
pub mod plan;
pub mod policy;
pub mod promote;
pub mod record;
pub mod reject;
pub mod review;
pub mod serve;
pub mod show;
pub mod stats;
pub mod sync;
pub mod token;
pub mod verify;
pub mod waive;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::model::RequestId;
use crate::session::{Clock, Session};
use crate::store::Store;

const AFTER_HELP: &str = "\
Exit codes: 0 ok, 1 other failure, 2 usage, 3 permission denied, 4 not found,
5 invalid state transition or concurrent update, 6 invalid input,
7 verify found violations, 8 deployment failed.

The actor is `git config user.email` of the repository.";

/// Human-approved infrastructure and production promotions, kept in git.
///
/// Every request is a YAML file in a gitops repository and every create,
/// approve, reject and cancel is one commit by the person who did it, so
/// the repository is the audit trail.
#[derive(Debug, Parser)]
#[command(name = "ipr", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Run as if ipr was started in PATH (like `git -C`).
    #[arg(short = 'C', value_name = "PATH", global = true)]
    pub repo: Option<PathBuf>,

    /// Output format where the output is data (markdown: only `plan analyze`).
    #[arg(long, value_enum, global = true, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Never prompt; a missing value is an error (exit 6).
    #[arg(long, global = true)]
    pub no_input: bool,

    /// Print only what a script needs (IDs, data); no progress messages.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::Args),
    Create(Box<create::Args>),
    List(list::Args),
    Show(show::Args),
    Approve(approve::Args),
    Reject(reject::Args),
    Review(review::Args),
    Cancel(cancel::Args),
    Comment(comment::Args),
    Promote(promote::Args),
    Deploy(deploy::Args),
    BreakGlass(break_glass::Args),
    Incident(incident::Args),
    Record(record::Args),
    Stats(stats::Args),
    Log(log::Args),
    Sync(sync::Args),
    Plan(plan::Args),
    Policy(policy::Args),
    Drift(Box<drift::Args>),
    Notify(notify::Args),
    Serve(serve::Args),
    Token(token::Args),
    Verify(verify::Args),
    Waive(waive::Args),
    Import(import::Args),
    Hooks(hooks::Args),
    Completions(completions::Args),
    Man(man::Args),
    Demo(demo::Args),
}

/// What every command gets: the global options.
pub struct Ctx {
    pub repo: Option<PathBuf>,
    pub format: Format,
    pub no_input: bool,
    pub quiet: bool,
}

impl Ctx {
    pub fn store(&self) -> Result<Store> {
        Store::open(self.repo.as_deref())
    }

    /// Who acts: `git config user.email` of the repository, on the clock
    /// `IPR_NOW` pins (documented for tests and demos) or the system's.
    /// With `--quiet`, the session's output (progress, policy warnings, a
    /// runner's output) goes nowhere.
    pub fn session(&self, store: &Store) -> Result<Session> {
        let session = Session::from_git_config(store, clock()?)?;
        Ok(if self.quiet {
            session.with_output(std::sync::Arc::new(crate::session::Discard))
        } else {
            session
        })
    }

    /// The store and the session acting on it.
    pub fn open(&self) -> Result<(Store, Session)> {
        let store = self.store()?;
        let session = self.session(&store)?;
        Ok((store, session))
    }

    /// A path given on the command line, relative to `-C PATH` when given
    /// (like `git -C`); `-` (stdin) as is.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        match &self.repo {
            Some(dir) if path.is_relative() && path != Path::new("-") => dir.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// The one warning of a read command on history that does not verify
    /// (SPEC §10a: reads still answer), and one per ticket file skipped.
    pub fn warn_view(&self, view: &crate::query::View<'_>, skipped: &[String]) {
        if let Some(w) = view.warning() {
            eprintln!("warning: {}", output::esc(&w));
        }
        if !self.quiet {
            for s in skipped {
                eprintln!("warning: skipping {}", output::esc(s));
            }
        }
    }

    /// A progress or confirmation message, on stderr unless `--quiet`.
    /// The notifier of an action: delivers what landed on the shared
    /// branch, warnings to stderr.
    pub fn outbox(&self) -> crate::outbox::Outbox<'static> {
        crate::outbox::Outbox {
            options: crate::outbox::Options {
                no_input: self.no_input,
                ..Default::default()
            },
            warnings: &crate::session::Stderr,
        }
    }

    /// After a command that may have landed transitions: if the branch
    /// moved, deliver their events (and anything else due). Never changes
    /// the command's outcome; a problem is a warning.
    fn deliver_landed(&self, before: crate::outbox::Mark) {
        if let Ok(store) = self.store() {
            before.deliver_since(&store, &self.outbox());
        }
    }

    pub fn note(&self, message: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", message.as_ref());
        }
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx {
        repo: cli.repo,
        format: cli.format.unwrap_or(Format::Table),
        no_input: cli.no_input,
        quiet: cli.quiet,
    };
    if ctx.format == Format::Markdown && !matches!(cli.command, Command::Plan(_)) {
        return Err(Error::usage(
            "--format markdown is only for `ipr plan analyze`; use table, json or yaml",
        ));
    }
    // Commands that can land transitions deliver their events after (SPEC
    // §9), whether or not they succeeded: a failed deploy landed `failed`.
    let lands = matches!(
        cli.command,
        Command::Create(_)
            | Command::Approve(_)
            | Command::Reject(_)
            | Command::Review(_)
            | Command::Cancel(_)
            | Command::Comment(_)
            | Command::Promote(_)
            | Command::Deploy(_)
            | Command::BreakGlass(_)
            | Command::Incident(_)
            | Command::Record(_)
            | Command::Drift(_)
    );
    let before = if lands {
        ctx.store().ok().map(|s| crate::outbox::Mark::take(&s))
    } else {
        None
    };
    let result = dispatch(&ctx, cli.command);
    if let Some(mark) = before {
        ctx.deliver_landed(mark);
    }
    result
}

fn dispatch(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Init(args) => init::run(ctx, args),
        Command::Create(args) => create::run(ctx, *args),
        Command::List(args) => list::run(ctx, args),
        Command::Show(args) => show::run(ctx, args),
        Command::Approve(args) => approve::run(ctx, args),
        Command::Reject(args) => reject::run(ctx, args),
        Command::Review(args) => review::run(ctx, args),
        Command::Cancel(args) => cancel::run(ctx, args),
        Command::Comment(args) => comment::run(ctx, args),
        Command::Promote(args) => promote::run(ctx, args),
        Command::BreakGlass(args) => break_glass::run(ctx, args),
        Command::Incident(args) => incident::run(ctx, args),
        Command::Deploy(args) => deploy::run(ctx, args),
        Command::Record(args) => record::run(ctx, args),
        Command::Stats(args) => stats::run(ctx, args),
        Command::Log(args) => log::run(ctx, args),
        Command::Sync(args) => sync::run(ctx, args),
        Command::Plan(args) => plan::run(ctx, args),
        Command::Policy(args) => policy::run(ctx, args),
        Command::Drift(args) => drift::run(ctx, *args),
        Command::Notify(args) => notify::run(ctx, args),
        Command::Serve(args) => serve::run(ctx, args),
        Command::Token(args) => token::run(ctx, args),
        Command::Verify(args) => verify::run(ctx, args),
        Command::Waive(args) => waive::run(ctx, args),
        Command::Import(args) => import::run(ctx, args),
        Command::Hooks(args) => hooks::run(ctx, args),
        Command::Completions(args) => completions::run(ctx, args),
        Command::Man(args) => man::run(ctx, args),
        Command::Demo(args) => demo::run(ctx, args),
    }
}

/// `IPR_NOW` (RFC 3339) pins the clock; it exists so tests and demos get
/// stable output, and is documented as such.
pub(crate) fn clock() -> Result<Clock> {
    match std::env::var("IPR_NOW") {
        Ok(s) if !s.is_empty() => chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| Clock::Fixed(t.with_timezone(&chrono::Utc)))
            .map_err(|e| Error::usage(format!("IPR_NOW=`{s}` is not an RFC 3339 date-time ({e})"))),
        _ => Ok(Clock::System),
    }
}

/// Parse a request ID argument (exit 6 when malformed).
pub fn parse_id(s: &str) -> Result<RequestId> {
    s.parse()
}

/// The clap command, for completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// How an action's commit is made: the flags every action shares.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct CommitArgs {
    /// Sign the commit even if git config does not ask for it.
    #[arg(long)]
    pub sign: bool,

    /// Fetch first, act on the remote's latest state, and push (retrying
    /// if someone else pushed first). `sync.autoPush: true` makes it the default.
    #[arg(long)]
    pub push: bool,
}

impl CommitArgs {
    pub fn options(&self, ctx: &Ctx) -> crate::action::Options {
        crate::action::Options {
            sign: self.sign,
            push: self.push,
            no_input: ctx.no_input,
        }
    }
}

/// Refuse `--format` values a command has no use for.
pub fn only_table(ctx: &Ctx, what: &str) -> Result<()> {
    if ctx.format != Format::Table {
        return Err(Error::usage(format!("`{what}` has no --format output")));
    }
    Ok(())
}
