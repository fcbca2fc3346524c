//! Who acts, when, with which key, and where output goes.
//!
//! Every action of the engine takes a [`Session`] instead of reading the
//! process it runs in: the CLI builds one from `git config user.email` and
//! `IPR_NOW`; a server builds one per authenticated request; tests build
//! one directly. Nothing here reads the environment or git config by
//! itself, except [`Signing::GitConfig`], which a front end chooses.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::store::signing::{SignMode, Signer};
use crate::store::{Identity, Store};

/// The context of one actor's actions.
#[derive(Clone)]
pub struct Session {
    /// Who acts: the author of every commit the session makes.
    pub actor: Identity,
    pub clock: Clock,
    pub signing: Signing,
    /// Where progress and a runner's output go.
    pub output: Arc<dyn Output>,
    /// The front end acting for the actor when it is not their own ipr
    /// (`server`): recorded as the `Ipr-Via` trailer of every commit.
    pub via: Option<String>,
    /// The Slack user the server acts for (`Ipr-Slack-User`).
    pub slack_user: Option<String>,
    /// Who commits for the actor, when not the actor (a server's own
    /// identity, with `Signing::Key` of its key).
    pub committer: Option<Identity>,
}

impl Session {
    /// A session for `actor` on the system clock, signing as git config
    /// says, with output discarded.
    pub fn new(actor: Identity) -> Session {
        Session {
            actor,
            clock: Clock::System,
            signing: Signing::GitConfig,
            output: Arc::new(Discard),
            via: None,
            slack_user: None,
            committer: None,
        }
    }

    pub fn with_committer(mut self, committer: Identity) -> Session {
        self.committer = Some(committer);
        self
    }

    pub fn with_via(mut self, via: &str) -> Session {
        self.via = Some(via.to_string());
        self
    }

    pub fn with_slack_user(mut self, id: &str) -> Session {
        self.slack_user = Some(id.to_string());
        self
    }

    pub fn with_clock(mut self, clock: Clock) -> Session {
        self.clock = clock;
        self
    }

    pub fn with_signing(mut self, signing: Signing) -> Session {
        self.signing = signing;
        self
    }

    pub fn with_output(mut self, output: Arc<dyn Output>) -> Session {
        self.output = output;
        self
    }

    /// The CLI's session: the actor is `git config user.email` (and
    /// `user.name`) of the repository, commits are signed as git config
    /// says, output goes to standard error.
    pub fn from_git_config(store: &Store, clock: Clock) -> Result<Session> {
        Ok(Session::new(store.identity()?)
            .with_clock(clock)
            .with_output(Arc::new(Stderr)))
    }

    /// Now, on this session's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The signer of this session's next commit. `force` (`--sign`, or
    /// `signing.required`) refuses before anything is written when there
    /// is no key to sign with.
    pub fn signer(&self, store: &Store, force: bool) -> Result<Option<Signer>> {
        self.signing.signer(store, force)
    }
}

/// The time actions record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The system clock, in whole seconds.
    System,
    /// A fixed instant (`IPR_NOW` in the CLI; tests and demos).
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => truncate(Utc::now()),
            Clock::Fixed(t) => *t,
        }
    }
}

/// Whole seconds: git commit times have no fractions, and history entries
/// should read the same as the commit that records them.
fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// How a session's commits are signed.
#[derive(Debug, Clone)]
pub enum Signing {
    /// As `git config` of the repository says (`commit.gpgsign`,
    /// `gpg.format`, `user.signingkey`), like `git commit -S`: the CLI.
    GitConfig,
    /// Always with this key (a server's own key).
    Key(Signer),
    /// Never; an action that must be signed is refused.
    Never,
}

impl Signing {
    /// The signer of the next commit; `force` refuses when there is no key.
    pub fn signer(&self, store: &Store, force: bool) -> Result<Option<Signer>> {
        let signer = match self {
            Signing::GitConfig => {
                let mode = if force {
                    SignMode::Force
                } else {
                    SignMode::Auto
                };
                Signer::from_config(store.repo(), mode)?
            }
            Signing::Key(signer) => Some(signer.clone()),
            Signing::Never => None,
        };
        if force {
            match &signer {
                None => {
                    return Err(Error::permission(
                        "signing is required but this session has no key to sign with",
                    ))
                }
                Some(s) if s.key.is_none() => {
                    return Err(Error::permission(
                        "signing is required but git config has no user.signingkey",
                    )
                    .with_hint("git config user.signingkey KEY (and gpg.format ssh for ssh keys)"))
                }
                Some(_) => {}
            }
        }
        Ok(signer)
    }
}

/// Where lines of progress and a runner's output go.
pub trait Output: Send + Sync {
    fn line(&self, line: &str);
}

/// Output to nowhere.
pub struct Discard;

impl Output for Discard {
    fn line(&self, _line: &str) {}
}

/// Output to standard error, as the CLI shows it.
pub struct Stderr;

impl Output for Stderr {
    fn line(&self, line: &str) {
        eprintln!("{line}");
    }
}

/// Output kept in memory, for a caller that shows it later (a server's
/// page) or a test that reads it.
#[derive(Default)]
pub struct Collect {
    lines: Mutex<Vec<String>>,
}

impl Collect {
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Output for Collect {
    fn line(&self, line: &str) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(line.to_string());
        }
    }
}
