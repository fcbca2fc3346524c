//! Fetch and push through the `git` binary.
//!
//! Transport is left to git itself so that it authenticates exactly as the
//! user's git does: ssh agent and `~/.ssh/config`, credential helpers,
//! `insteadOf` rewrites, proxies, `http.extraHeader`. git2 would need its own
//! ssh and https stacks and would still miss most of that configuration.

use std::path::Path;
use std::process::Command;

use git2::Oid;

use crate::error::{Error, Result};

/// Where a branch syncs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub remote: String,
    /// Branch name on the remote (`main`).
    pub branch: String,
}

/// How a push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    Ok,
    /// Someone else pushed first (non-fast-forward): fetch and try again.
    Behind,
}

fn git(dir: &Path, no_input: bool) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", if no_input { "0" } else { "1" });
    cmd
}

fn network_error(what: &str, remote: &str, stderr: &str) -> Error {
    let detail = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Error::other(format!("{what} {remote} failed: {detail}"))
        .with_hint("check the remote and your network or credentials (`git fetch` shows the same); nothing local was changed")
}

/// `git fetch REMOTE REFSPEC` with no tags and no FETCH_HEAD.
fn git_fetch(
    dir: &Path,
    remote: &str,
    refspec: &str,
    extra: &[&str],
    no_input: bool,
) -> Result<std::process::Output> {
    git(dir, no_input)
        .args(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head"])
        .args(extra)
        .arg(remote)
        .arg(refspec)
        .output()
        .map_err(|e| Error::other(format!("cannot run git: {e}")))
}

/// `git fetch` the branch into `refs/remotes/<remote>/<branch>`; returns that
/// ref's name, or `None` if the remote has no such branch.
pub fn fetch(dir: &Path, up: &Upstream, no_input: bool) -> Result<Option<String>> {
    let tracking = format!("refs/remotes/{}/{}", up.remote, up.branch);
    let refspec = format!("+refs/heads/{}:{tracking}", up.branch);
    let out = git_fetch(dir, &up.remote, &refspec, &[], no_input)?;
    if out.status.success() {
        return Ok(Some(tracking));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("couldn't find remote ref") {
        return Ok(None);
    }
    Err(network_error("fetching from", &up.remote, &stderr))
}

/// `git push` `oid` to the branch, never forcing.
pub fn push(dir: &Path, up: &Upstream, oid: Oid, no_input: bool) -> Result<Pushed> {
    let out = git(dir, no_input)
        .args(["push", "--porcelain", "--quiet", &up.remote])
        .arg(format!("{oid}:refs/heads/{}", up.branch))
        .output()
        .map_err(|e| Error::other(format!("cannot run git: {e}")))?;
    if out.status.success() {
        return Ok(Pushed::Ok);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rejected_line = stdout.lines().find(|l| l.starts_with('!'));
    match rejected_line {
        // Another push held the remote's ref lock: a lost race like "fetch first".
        Some(l)
            if l.contains("[remote rejected]")
                && (l.contains("failed to update ref") || l.contains("cannot lock ref")) =>
        {
            Ok(Pushed::Behind)
        }
        Some(l) if l.contains("[remote rejected]") => Err(Error::other(format!(
            "{} refused the push: {}",
            up.remote,
            l.trim_start_matches('!').trim()
        ))
        .with_hint("a server hook refused it; its message is above")),
        Some(l)
            if l.contains("fetch first")
                || l.contains("non-fast-forward")
                || l.contains("[rejected]") =>
        {
            Ok(Pushed::Behind)
        }
        _ => Err(network_error(
            "pushing to",
            &up.remote,
            &format!("{stdout}{stderr}"),
        )),
    }
}

/// `git fetch` the refs matching `pattern` (`refs/ipr/notified/*`) of
/// `remote` into `into` (`refs/ipr/remotes/origin/notified/*`), mirroring
/// them. A remote without such refs is not an error.
pub fn fetch_refs(
    dir: &Path,
    remote: &str,
    pattern: &str,
    into: &str,
    no_input: bool,
) -> Result<()> {
    let out = git_fetch(
        dir,
        remote,
        &format!("+{pattern}:{into}"),
        &["--prune"],
        no_input,
    )?;
    if out.status.success() {
        return Ok(());
    }
    Err(network_error(
        "fetching from",
        remote,
        &String::from_utf8_lossy(&out.stderr),
    ))
}

/// A ref to set on a remote, if it still holds what was fetched.
#[derive(Debug, Clone)]
pub struct RefUpdate {
    pub name: String,
    pub new: Oid,
    /// What the remote held when it was fetched (`None`: nothing).
    pub expect: Option<Oid>,
}

/// `git push` each ref to `remote` with a lease: a ref is set only if the
/// remote still holds what was fetched, so a concurrent update is never
/// overwritten. Returns the refs the remote refused for another reason
/// (a hook, missing rights), with git's reason; a lost lease is no
/// refusal (someone else recorded meanwhile).
pub fn push_refs(
    dir: &Path,
    remote: &str,
    refs: &[RefUpdate],
    no_input: bool,
) -> Result<Vec<(String, String)>> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let mut cmd = git(dir, no_input);
    cmd.args(["push", "--porcelain", "--quiet"]);
    for r in refs {
        let expect = r.expect.map(|o| o.to_string()).unwrap_or_default();
        cmd.arg(format!("--force-with-lease={}:{expect}", r.name));
    }
    let out = cmd
        .arg(remote)
        .args(refs.iter().map(|r| format!("{}:{}", r.new, r.name)))
        .output()
        .map_err(|e| Error::other(format!("cannot run git: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // `!\t<src>:<dst>\t[rejected] (stale info)`
    let rejected: Vec<(String, String)> = stdout
        .lines()
        .filter(|l| l.starts_with('!'))
        .map(|l| {
            let mut f = l.split('\t');
            let name = f.nth(1).unwrap_or("");
            let name = name.split(':').nth(1).unwrap_or(name).to_string();
            (name, f.next().unwrap_or("").trim().to_string())
        })
        .collect();
    if out.status.success() || !rejected.is_empty() {
        let lost_lease = |why: &str| why.contains("stale info") || why.contains("fetch first");
        return Ok(rejected
            .into_iter()
            .filter(|(_, why)| !lost_lease(why))
            .collect());
    }
    Err(network_error(
        "pushing to",
        remote,
        &format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)),
    ))
}
