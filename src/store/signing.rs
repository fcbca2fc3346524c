//! Signing commits the way `git commit -S` does, from the same git config:
//! `commit.gpgsign`, `gpg.format` (openpgp, ssh, x509), `user.signingkey`,
//! `gpg.program` / `gpg.<format>.program`.
//!
//! openpgp and x509 run `gpg --status-fd=2 -bsau KEY` (or gpgsm) with the
//! commit on stdin; ssh runs `ssh-keygen -Y sign -n git -f KEY FILE`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use git2::Repository;

use crate::error::{Error, Result};

/// Whether to sign a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignMode {
    /// Sign when git config says so (`commit.gpgsign`).
    #[default]
    Auto,
    /// Always sign (`--sign`, or `signing.required` in config).
    Force,
}

/// How git config asks for commits to be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenPgp,
    Ssh,
    X509,
}

/// The signing setup read from git config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub format: Format,
    pub program: String,
    /// `user.signingkey`; for openpgp it may be empty (the committer's key).
    pub key: Option<String>,
}

impl Signer {
    /// Read git config. `None` when signing is neither configured nor forced.
    pub fn from_config(repo: &Repository, mode: SignMode) -> Result<Option<Signer>> {
        let cfg = repo.config()?;
        let wanted = mode == SignMode::Force || cfg.get_bool("commit.gpgsign").unwrap_or(false);
        if !wanted {
            return Ok(None);
        }
        let format = match cfg
            .get_string("gpg.format")
            .unwrap_or_else(|_| "openpgp".into())
            .as_str()
        {
            "openpgp" => Format::OpenPgp,
            "ssh" => Format::Ssh,
            "x509" => Format::X509,
            other => {
                return Err(Error::other(format!(
                    "gpg.format `{other}` is not one of openpgp, ssh, x509"
                )))
            }
        };
        let (section, fallback) = match format {
            Format::OpenPgp => ("gpg.openpgp.program", "gpg"),
            Format::Ssh => ("gpg.ssh.program", "ssh-keygen"),
            Format::X509 => ("gpg.x509.program", "gpgsm"),
        };
        let program = cfg
            .get_string(section)
            .or_else(|_| {
                if format == Format::OpenPgp {
                    cfg.get_string("gpg.program")
                } else {
                    Err(git2::Error::from_str("unset"))
                }
            })
            .unwrap_or_else(|_| fallback.to_string());
        let key = cfg
            .get_string("user.signingkey")
            .ok()
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        if format == Format::Ssh && key.is_none() {
            return Err(Error::permission(
                "signing is required but no ssh signing key is configured",
            )
            .with_hint("git config user.signingkey ~/.ssh/id_ed25519.pub"));
        }
        Ok(Some(Signer {
            format,
            program,
            key,
        }))
    }

    /// The armored signature of `payload`.
    pub fn sign(&self, payload: &str, committer: &str) -> Result<String> {
        match self.format {
            Format::OpenPgp | Format::X509 => self.sign_gpg(payload, committer),
            Format::Ssh => self.sign_ssh(payload),
        }
    }

    fn sign_gpg(&self, payload: &str, committer: &str) -> Result<String> {
        let key = self.key.clone().unwrap_or_else(|| committer.to_string());
        let mut child = Command::new(&self.program)
            .args(["--status-fd=2", "-bsau", &key])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_error(&self.program, e))?;
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(payload.as_bytes())?;
        let out = child.wait_with_output()?;
        let status = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || !status.contains("[GNUPG:] SIG_CREATED ") {
            return Err(Error::other(format!(
                "{} could not sign with key `{key}`: {}",
                self.program,
                first_error_line(&status)
            ))
            .with_hint("check `user.signingkey` and that the key is in your keyring"));
        }
        String::from_utf8(out.stdout).map_err(|_| Error::other("gpg signature is not UTF-8"))
    }

    fn sign_ssh(&self, payload: &str) -> Result<String> {
        let key = self.key.as_deref().expect("checked in from_config");
        let dir = tempfile::tempdir()?;
        let (key_arg, use_agent) = match key.strip_prefix("key::") {
            Some(literal) => {
                let path = dir.path().join("key.pub");
                std::fs::write(&path, format!("{literal}\n"))?;
                (path, true)
            }
            None => (expand_home(key), false),
        };
        let file = dir.path().join("commit");
        std::fs::write(&file, payload)?;
        let mut cmd = Command::new(&self.program);
        cmd.args(["-Y", "sign", "-n", "git", "-f"]).arg(&key_arg);
        if use_agent {
            cmd.arg("-U");
        }
        let out = cmd
            .arg(&file)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| spawn_error(&self.program, e))?;
        if !out.status.success() {
            return Err(Error::other(format!(
                "{} could not sign with `{key}`: {}",
                self.program,
                first_error_line(&String::from_utf8_lossy(&out.stderr))
            ))
            .with_hint(
                "check `user.signingkey`: a key file, or `key::ssh-ed25519 …` held by ssh-agent",
            ));
        }
        let sig = std::fs::read_to_string(file.with_extension("sig"))
            .map_err(|e| Error::other(format!("{} wrote no signature: {e}", self.program)))?;
        Ok(sig)
    }
}

/// Sign a commit buffer if git config (or `mode`) asks for it.
pub fn sign(repo: &Repository, buffer: &str, mode: SignMode) -> Result<Option<String>> {
    let Some(signer) = Signer::from_config(repo, mode)? else {
        return Ok(None);
    };
    let committer = committer_of(buffer).unwrap_or_default();
    signer.sign(buffer, &committer).map(Some)
}

/// `Name <email>` from the committer line of a commit buffer.
fn committer_of(buffer: &str) -> Option<String> {
    let line = buffer.lines().find_map(|l| l.strip_prefix("committer "))?;
    let end = line.rfind('>')?;
    Some(line[..=end].to_string())
}

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(rest))
            .unwrap_or_else(|| PathBuf::from(path)),
        None => PathBuf::from(path),
    }
}

fn spawn_error(program: &str, e: std::io::Error) -> Error {
    Error::other(format!("cannot run `{program}` to sign: {e}"))
        .with_hint("install it, or point gpg.program / gpg.ssh.program at it")
}

fn first_error_line(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| !l.starts_with("[GNUPG:]") && !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_string()
}
