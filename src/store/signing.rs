//! Signing commits the way `git commit -S` does, from the same git config:
//! `commit.gpgsign`, `gpg.format` (openpgp, ssh, x509), `user.signingkey`,
//! `gpg.program` / `gpg.<format>.program`.
//!
//! openpgp and x509 run `gpg --status-fd=2 -bsau KEY` (or gpgsm) with the
//! commit on stdin; ssh runs `ssh-keygen -Y sign -n git -f KEY FILE`.
//!
//! Checking signatures ([`Verifier`]): openpgp runs gpg; ssh is checked
//! in-process against `.ipr/allowed_signers`, with ssh-keygen's verdicts,
//! and runs ssh-keygen only for what ipr does not check itself.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use chrono::Datelike;
use git2::Repository;
use ssh_key::public::KeyData;
use ssh_key::{Algorithm, HashAlg, PublicKey, SshSig};

use super::allowed_signers::{self, Entry};
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

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(rest))
            .unwrap_or_else(|| PathBuf::from(path)),
        None => PathBuf::from(path),
    }
}

fn spawn_error(program: &str, e: std::io::Error) -> Error {
    Error::other(format!("cannot run `{program}`: {e}"))
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

/// What checking a commit's signature found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    /// A valid signature by a key trusted for the expected identity;
    /// `signer` names the identity and the key.
    Good { signer: String },
    /// A signature that does not verify (tampered commit, expired or
    /// revoked key, unreadable signature).
    Bad { reason: String },
    /// The commit carries no signature.
    Unsigned,
    /// A valid signature, by a key that is not trusted for the expected
    /// identity (not in allowed_signers for it, or not in the keyring, or
    /// a keyring key without that uid).
    UnknownKey { key: String },
}

impl SignatureStatus {
    /// `good`, `bad`, `unsigned`, `unknown-key`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SignatureStatus::Good { .. } => "good",
            SignatureStatus::Bad { .. } => "bad",
            SignatureStatus::Unsigned => "unsigned",
            SignatureStatus::UnknownKey { .. } => "unknown-key",
        }
    }

    /// The signer, the reason or the key, whichever this status has.
    pub fn detail(&self) -> Option<&str> {
        match self {
            SignatureStatus::Good { signer } => Some(signer),
            SignatureStatus::Bad { reason } => Some(reason),
            SignatureStatus::Unsigned => None,
            SignatureStatus::UnknownKey { key } => Some(key),
        }
    }
}

/// Checks signatures the way `git verify-commit` does, with the programs
/// git config names (`gpg.program`, `gpg.openpgp.program`, `gpg.ssh.program`).
///
/// - ssh: checked in-process, with the verdicts of `ssh-keygen -Y verify
///   -f ALLOWED_SIGNERS -I EMAIL -n git -s SIG -Overify-time=COMMIT_TIME <
///   PAYLOAD`: the signature must verify over the payload in namespace
///   `git`, and the allowed-signers file (the trust root, read once per
///   distinct file) must have a line for EMAIL with that key, allowing
///   namespace `git` at the commit time. What ipr does not check itself
///   (a certificate or security-key signature, a key type or size it does
///   not verify, a `cert-authority` line, or a file it does not read exactly
///   as ssh-keygen would) is left to ssh-keygen: `-Y verify`, then, if that
///   fails, `-Y check-novalidate` tells a bad signature from a good one by
///   an unknown key.
/// - openpgp: `gpg --status-fd=1 --verify SIG -` (GOODSIG / BADSIG / ERRSIG
///   / VALIDSIG), then the signing key must have a uid whose email is EMAIL;
///   the verifier's keyring is the trust root.
#[derive(Debug)]
pub struct Verifier {
    ssh_program: String,
    gpg_program: String,
    /// Whether ssh signatures are checked in-process where ipr can.
    in_process: bool,
    /// Uids of openpgp keys already listed, by primary fingerprint.
    uids: std::sync::Mutex<std::collections::HashMap<String, Vec<(char, String)>>>,
    /// Allowed-signers files already read, by their contents; `None` for
    /// one left to ssh-keygen.
    signers: std::sync::Mutex<AllowedSignersCache>,
}

type AllowedSignersCache = std::collections::HashMap<Vec<u8>, Option<Arc<Vec<Entry>>>>;

impl Verifier {
    pub fn from_config(repo: &Repository) -> Result<Verifier> {
        let cfg = repo.config()?;
        let get = |k: &str| cfg.get_string(k).ok().filter(|s| !s.trim().is_empty());
        Ok(Verifier::with_programs(
            get("gpg.ssh.program").unwrap_or_else(|| "ssh-keygen".into()),
            get("gpg.openpgp.program")
                .or_else(|| get("gpg.program"))
                .unwrap_or_else(|| "gpg".into()),
        ))
    }

    /// A verifier that runs `ssh_program` (ssh-keygen) for the ssh
    /// signatures it does not check in-process and `gpg_program` for
    /// openpgp ones; [`Verifier::from_config`] takes both from git config.
    pub fn with_programs(
        ssh_program: impl Into<String>,
        gpg_program: impl Into<String>,
    ) -> Verifier {
        Verifier {
            ssh_program: ssh_program.into(),
            gpg_program: gpg_program.into(),
            in_process: true,
            uids: Default::default(),
            signers: Default::default(),
        }
    }

    /// Whether to check ssh signatures in-process where ipr can (`true`,
    /// the default) or every one by running ssh-keygen (`false`). Both give
    /// the same verdicts; the tests compare them.
    pub fn with_in_process(mut self, in_process: bool) -> Verifier {
        self.in_process = in_process;
        self
    }

    /// Check `signed` (signature and payload) for `email`. `allowed_signers`
    /// is the ssh allowed-signers file to trust, `time` the commit time the
    /// key must be valid at. Errors only when the program cannot be run.
    pub fn verify(
        &self,
        signature: &str,
        payload: &str,
        email: &str,
        allowed_signers: Option<&std::path::Path>,
        time: chrono::DateTime<chrono::Utc>,
    ) -> Result<SignatureStatus> {
        let head = signature.trim_start();
        if head.starts_with("-----BEGIN SSH SIGNATURE-----") {
            self.verify_ssh(signature, payload, email, allowed_signers, time)
        } else if head.starts_with("-----BEGIN PGP SIGNATURE-----") {
            self.verify_gpg(signature, payload, email)
        } else if head.starts_with("-----BEGIN SIGNED MESSAGE-----") {
            Ok(SignatureStatus::UnknownKey {
                key: "an x509 signature (ipr checks openpgp and ssh signatures only)".into(),
            })
        } else {
            Ok(SignatureStatus::Bad {
                reason: "not an openpgp, ssh or x509 signature".into(),
            })
        }
    }

    fn verify_ssh(
        &self,
        signature: &str,
        payload: &str,
        email: &str,
        allowed_signers: Option<&std::path::Path>,
        time: chrono::DateTime<chrono::Utc>,
    ) -> Result<SignatureStatus> {
        if self.in_process {
            if let Some(status) =
                self.verify_ssh_in_process(signature, payload, email, allowed_signers, time)
            {
                return Ok(status);
            }
        }
        self.verify_ssh_program(signature, payload, email, allowed_signers, time)
    }

    /// The verdict `verify_ssh_program` would give, without running a
    /// program; `None` where ssh-keygen must judge.
    fn verify_ssh_in_process(
        &self,
        signature: &str,
        payload: &str,
        email: &str,
        allowed_signers: Option<&std::path::Path>,
        time: chrono::DateTime<chrono::Utc>,
    ) -> Option<SignatureStatus> {
        let sig = SshSig::from_pem(signature).ok()?;
        let key = sig.public_key();
        // ssh-keygen's names (`sshkey_type`); certificates, security keys
        // and DSA are left to it.
        let kind = match key {
            KeyData::Ed25519(_) => "ED25519",
            KeyData::Ecdsa(_) => "ECDSA",
            KeyData::Rsa(_) => "RSA",
            _ => return None,
        };
        // ssh-keygen leaves the reserved field out of what it verifies; it
        // refuses RSA signatures over SHA-1 and a signature whose type is
        // not its key's. Those rare cases are its to judge.
        let rsa = matches!(key, KeyData::Rsa(_));
        let algorithm_ok = match sig.signature().algorithm() {
            Algorithm::Rsa { hash } => rsa && hash.is_some(),
            algorithm => !rsa && algorithm == key.algorithm(),
        };
        if !sig.reserved().is_empty() || !algorithm_ok {
            return None;
        }
        if sig.namespace() != "git" {
            return Some(SignatureStatus::Bad {
                reason: format!(
                    "ssh signature does not verify: it is for namespace \"{}\", not \"git\"",
                    sig.namespace()
                ),
            });
        }
        if PublicKey::from(key.clone())
            .verify("git", payload.as_bytes(), &sig)
            .is_err()
        {
            // The RSA code verifies 2048- to 4096-bit keys only: a failure
            // may be the key's size, which ssh-keygen judges.
            if rsa {
                return None;
            }
            return Some(SignatureStatus::Bad {
                reason: "ssh signature does not verify: it does not match the commit".into(),
            });
        }
        // ssh-keygen reads -Overify-time as YYYYMMDDHHMMSSZ, after 1970.
        let at = time.timestamp();
        if at <= 0 || time.year() > 9999 {
            return None;
        }
        let key_text = format!("{kind} key {}", key.fingerprint(HashAlg::Sha256));
        let Some(path) = allowed_signers else {
            return Some(SignatureStatus::UnknownKey {
                key: format!("{key_text}, and there is no .ipr/allowed_signers"),
            });
        };
        let entries = self.allowed_signers(path)?;
        let mut why_not: Option<String> = None;
        let mut owners: Vec<&str> = Vec::new();
        for entry in entries
            .iter()
            .filter(|e| !e.cert_authority && e.key == *key)
        {
            if !entry.names(email) {
                for owner in entry.principals.split(',').filter(|p| !p.is_empty()) {
                    if !owners.contains(&owner) {
                        owners.push(owner);
                    }
                }
                continue;
            }
            let when = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                    .unwrap_or_default()
            };
            let why = if !entry.allows_namespace("git") {
                format!(
                    "allows for {email} only in namespaces \"{}\"",
                    entry.namespaces.as_deref().unwrap_or_default()
                )
            } else if let Some(after) = entry.valid_after.filter(|&a| at < a) {
                format!(
                    "allows for {email} only from {} (the commit is dated {})",
                    when(after),
                    when(at)
                )
            } else if let Some(before) = entry.valid_before.filter(|&b| at > b) {
                format!(
                    "allows for {email} only until {} (the commit is dated {})",
                    when(before),
                    when(at)
                )
            } else {
                return Some(SignatureStatus::Good {
                    signer: format!("{email} ({key_text})"),
                });
            };
            why_not.get_or_insert(why);
        }
        let key = match (why_not, owners.is_empty()) {
            (Some(why), _) => format!("{key_text}, which .ipr/allowed_signers {why}"),
            (None, true) => format!("{key_text}, which .ipr/allowed_signers does not list"),
            (None, false) => format!(
                "{key_text}, which .ipr/allowed_signers gives to {}, not {email}",
                owners.join(", ")
            ),
        };
        Some(SignatureStatus::UnknownKey { key })
    }

    /// The lines of the allowed-signers file at `path`, read once per
    /// distinct contents; `None` for a file left to ssh-keygen (one ipr
    /// cannot read exactly as ssh-keygen does, or with `cert-authority`
    /// lines, which concern certificates).
    fn allowed_signers(&self, path: &std::path::Path) -> Option<Arc<Vec<Entry>>> {
        let text = std::fs::read(path).ok()?;
        let mut cache = self.signers.lock().expect("not poisoned");
        if let Some(entries) = cache.get(&text) {
            return entries.clone();
        }
        let entries = allowed_signers::parse(&text)
            .ok()
            .filter(|all| !all.iter().any(|e| e.cert_authority))
            .map(Arc::new);
        cache.insert(text, entries.clone());
        entries
    }

    /// The verdict of running ssh-keygen: `-Y verify`, then `-Y
    /// check-novalidate` and `-Y find-principals` when that fails.
    fn verify_ssh_program(
        &self,
        signature: &str,
        payload: &str,
        email: &str,
        allowed_signers: Option<&std::path::Path>,
        time: chrono::DateTime<chrono::Utc>,
    ) -> Result<SignatureStatus> {
        let dir = tempfile::tempdir()?;
        let sig = dir.path().join("commit.sig");
        std::fs::write(&sig, signature)?;
        if let Some(allowed) = allowed_signers {
            let verify_time = format!("-Overify-time={}", time.format("%Y%m%d%H%M%SZ"));
            let mut cmd = Command::new(&self.ssh_program);
            cmd.args(["-Y", "verify", "-n", "git", "-f"])
                .arg(allowed)
                .args(["-I", email, "-s"])
                .arg(&sig)
                .arg(&verify_time);
            let out = run_with_input(&mut cmd, payload, &self.ssh_program)?;
            if out.status.success() {
                let text = String::from_utf8_lossy(&out.stdout);
                let key = text
                    .split(" with ")
                    .nth(1)
                    .map(|k| k.trim().trim_end_matches('.').to_string())
                    .unwrap_or_default();
                return Ok(SignatureStatus::Good {
                    signer: format!("{email} ({key})"),
                });
            }
        }
        let mut cmd = Command::new(&self.ssh_program);
        cmd.args(["-Y", "check-novalidate", "-n", "git", "-s"])
            .arg(&sig);
        let out = run_with_input(&mut cmd, payload, &self.ssh_program)?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Ok(SignatureStatus::Bad {
                reason: format!("ssh signature does not verify: {}", first_error_line(&err)),
            });
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let key = text
            .split(" with ")
            .nth(1)
            .map(|k| k.trim().trim_end_matches('.').to_string())
            .unwrap_or_else(|| "an ssh key".into());
        let owners = match allowed_signers {
            Some(allowed) => {
                let mut cmd = Command::new(&self.ssh_program);
                cmd.args(["-Y", "find-principals", "-f"])
                    .arg(allowed)
                    .arg("-s")
                    .arg(&sig);
                let out = cmd
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| spawn_error(&self.ssh_program, e))?;
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            None => String::new(),
        };
        let key = match (allowed_signers, owners.is_empty()) {
            (None, _) => format!("{key}, and there is no .ipr/allowed_signers"),
            (Some(_), true) => format!("{key}, which .ipr/allowed_signers does not list"),
            (Some(_), false) => {
                format!("{key}, which .ipr/allowed_signers gives to {owners}, not {email}")
            }
        };
        Ok(SignatureStatus::UnknownKey { key })
    }

    fn verify_gpg(&self, signature: &str, payload: &str, email: &str) -> Result<SignatureStatus> {
        let dir = tempfile::tempdir()?;
        let sig = dir.path().join("commit.asc");
        std::fs::write(&sig, signature)?;
        let mut cmd = Command::new(&self.gpg_program);
        cmd.args(["--batch", "--no-tty", "--status-fd=1", "--verify"])
            .arg(&sig)
            .arg("-");
        let out = run_with_input(&mut cmd, payload, &self.gpg_program)?;
        let status = String::from_utf8_lossy(&out.stdout);
        let mut good = false;
        let mut primary: Option<String> = None;
        let mut no_pubkey: Option<String> = None;
        for line in status.lines() {
            let Some(rest) = line.strip_prefix("[GNUPG:] ") else {
                continue;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            match fields.first().copied() {
                Some("GOODSIG") => good = true,
                Some("VALIDSIG") => primary = fields.last().map(|s| s.to_string()),
                Some("BADSIG") => {
                    return Ok(SignatureStatus::Bad {
                        reason: "openpgp signature does not match the commit".into(),
                    })
                }
                Some(kind @ ("EXPSIG" | "EXPKEYSIG" | "REVKEYSIG")) => {
                    let why = match kind {
                        "EXPSIG" => "the signature has expired",
                        "EXPKEYSIG" => "the signing key has expired",
                        _ => "the signing key is revoked",
                    };
                    return Ok(SignatureStatus::Bad {
                        reason: format!("openpgp: {why}"),
                    });
                }
                Some("NO_PUBKEY") => no_pubkey = fields.get(1).map(|s| s.to_string()),
                _ => {}
            }
        }
        if let Some(key) = no_pubkey {
            return Ok(SignatureStatus::UnknownKey {
                key: format!("openpgp key {key}, which is not in the keyring"),
            });
        }
        let (true, Some(fpr)) = (good, primary) else {
            return Ok(SignatureStatus::Bad {
                reason: format!(
                    "openpgp signature does not verify: {}",
                    first_error_line(&String::from_utf8_lossy(&out.stderr))
                ),
            });
        };
        let uids = self.gpg_uids(&fpr)?;
        let matches = uids.iter().any(|(validity, uid)| {
            !matches!(validity, 'r' | 'e') && uid_email(uid).eq_ignore_ascii_case(email)
        });
        if matches {
            Ok(SignatureStatus::Good {
                signer: format!("{email} (openpgp {fpr})"),
            })
        } else {
            let names: Vec<&str> = uids.iter().map(|(_, u)| u.as_str()).collect();
            Ok(SignatureStatus::UnknownKey {
                key: format!(
                    "openpgp key {fpr} of {}, which has no uid <{email}>",
                    names.join(", ")
                ),
            })
        }
    }

    /// (validity, uid) of each uid of a key, from `gpg --with-colons`.
    fn gpg_uids(&self, fpr: &str) -> Result<Vec<(char, String)>> {
        if let Some(u) = self.uids.lock().expect("not poisoned").get(fpr) {
            return Ok(u.clone());
        }
        let out = Command::new(&self.gpg_program)
            .args(["--batch", "--no-tty", "--with-colons", "--fixed-list-mode"])
            .args(["--list-keys", fpr])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| spawn_error(&self.gpg_program, e))?;
        let uids: Vec<(char, String)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.first() == Some(&"uid") && f.len() > 9).then(|| {
                    let validity = f[1].chars().next().unwrap_or('-');
                    (validity, unescape_colons(f[9]))
                })
            })
            .collect();
        self.uids
            .lock()
            .expect("not poisoned")
            .insert(fpr.to_string(), uids.clone());
        Ok(uids)
    }
}

/// The email of a uid `Name <email>` (or the uid, if it is a bare email).
fn uid_email(uid: &str) -> &str {
    match (uid.rfind('<'), uid.rfind('>')) {
        (Some(a), Some(b)) if a < b => &uid[a + 1..b],
        _ => uid.trim(),
    }
}

/// `--with-colons` escapes `:` and other bytes as `\xNN`.
fn unescape_colons(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x') {
            if let (Some(hi), Some(lo)) = (
                bytes.get(i + 2).copied().and_then(hex),
                bytes.get(i + 3).copied().and_then(hex),
            ) {
                out.push(hi * 16 + lo);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn run_with_input(cmd: &mut Command, input: &str, program: &str) -> Result<std::process::Output> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(program, e))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // A program that exits early closes its stdin; that is its answer, not an error.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    Ok(child.wait_with_output()?)
}
