//! ssh signatures checked in-process give the verdicts ssh-keygen gives.
//!
//! Real keys (ed25519, ecdsa P-256/384/521, rsa) are made with ssh-keygen,
//! payloads signed with `ssh-keygen -Y sign`, and each case is judged twice:
//! by the in-process verifier and by the ssh-keygen path
//! (`Verifier::with_in_process(false)`). The verdict kinds (good, bad,
//! unknown-key) must be the same, and the expected one. The in-process
//! verifier runs ssh-keygen through a wrapper that logs each run, so the
//! test also pins which cases ipr checks itself and which it leaves to
//! ssh-keygen (certificates, `cert-authority` lines, unreadable files).
//!
//! Needs ssh-keygen; without it the test is skipped, except under CI
//! (`CI` set), where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use ipr::store::signing::{SignatureStatus, Verifier};

const PAYLOAD: &str = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
author Alice <alice@example.com> 1717243200 +0000\n\
committer Alice <alice@example.com> 1717243200 +0000\n\
\n\
ipr: approve PR-2024-0001\n\
\n\
Ipr-Action: approve\n";

fn have_ssh_keygen() -> bool {
    let found = Command::new("ssh-keygen").arg("-?").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "ssh-keygen is required under CI (install openssh-client)"
        );
        eprintln!("skipped: no ssh-keygen");
    }
    found
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("ssh-keygen runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Keys {
    dir: PathBuf,
}

impl Keys {
    /// A new key `name` (`ssh-keygen -t TYPE [-b BITS]`); its public line.
    fn make(&self, name: &str, kind: &str, bits: Option<&str>) -> String {
        let path = self.dir.join(name);
        let mut cmd = Command::new("ssh-keygen");
        cmd.args(["-q", "-t", kind, "-N", "", "-C", name, "-f"])
            .arg(&path);
        if let Some(bits) = bits {
            cmd.args(["-b", bits]);
        }
        run(&mut cmd);
        self.public(name)
    }

    /// `keytype base64` of key `name` (or of a certificate, `name-cert`).
    fn public(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.dir.join(format!("{name}.pub"))).unwrap();
        text.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `ssh-keygen -Y sign -n NAMESPACE -f KEY` over `payload`.
    fn sign(&self, key: &str, namespace: &str, payload: &str) -> String {
        let file = self.dir.join(format!("payload-{key}-{namespace}"));
        std::fs::write(&file, payload).unwrap();
        let sig = PathBuf::from(format!("{}.sig", file.display()));
        let _ = std::fs::remove_file(&sig);
        run(Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", namespace, "-f"])
            .arg(self.dir.join(key))
            .arg(&file));
        std::fs::read_to_string(sig).unwrap()
    }
}

/// A wrapper around ssh-keygen that logs each run to `log`.
fn logging_ssh_keygen(dir: &Path, log: &Path) -> PathBuf {
    let script = dir.join("ssh-keygen-logged");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec ssh-keygen \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

/// Whether the in-process verifier may, must not, or must run ssh-keygen.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Route {
    InProcess,
    SshKeygen,
    Either,
}

struct Case {
    name: &'static str,
    signature: String,
    payload: String,
    email: &'static str,
    allowed: Option<String>,
    time: DateTime<Utc>,
    expect: &'static str,
    path: Route,
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

#[test]
fn in_process_ssh_verdicts_match_ssh_keygen() {
    if !have_ssh_keygen() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let keys = Keys {
        dir: tmp.path().to_path_buf(),
    };
    let alice = keys.make("alice", "ed25519", None);
    let bob = keys.make("bob", "ecdsa", Some("256"));
    let carol = keys.make("carol", "ecdsa", Some("384"));
    let erin = keys.make("erin", "ecdsa", Some("521"));
    let dave = keys.make("dave", "rsa", Some("3072"));
    let small = keys.make("small", "rsa", Some("1024"));
    keys.make("mallory", "ed25519", None);
    keys.make("ca", "ed25519", None);
    // alice's key certified by the CA for alice@example.com.
    run(Command::new("ssh-keygen")
        .args(["-q", "-s"])
        .arg(keys.dir.join("ca"))
        .args(["-I", "alice-cert", "-n", "alice@example.com"])
        .arg(keys.dir.join("alice.pub")));
    let ca = keys.public("ca");

    let sig = |key: &str| keys.sign(key, "git", PAYLOAD);
    let by_alice = sig("alice");
    let by_mallory = sig("mallory");
    let by_dave = sig("dave");
    let by_cert = keys.sign("alice-cert.pub", "git", PAYLOAD);
    let tampered = PAYLOAD.replace("approve", "reject");
    let corrupt = {
        // Flip one base64 character inside the signature bytes (the last
        // full line before the footer).
        let lines: Vec<&str> = by_alice.lines().collect();
        let n = lines.len() - 2;
        let mut line = lines[n].to_string();
        let c = if line.starts_with('A') { "B" } else { "A" };
        line.replace_range(0..1, c);
        let mut all: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        all[n] = line;
        all.join("\n") + "\n"
    };
    let listed = format!(
        "# the team\n\
         alice@example.com {alice} alice@laptop\n\
         bob@example.com {bob}\n\
         carol@example.com {carol}\n\
         erin@example.com {erin}\n\
         dave@example.com {dave}\n\
         small@example.com {small}\n"
    );
    let now = at(2024, 6, 1, 12, 0, 0);
    let case = |name, signature: &str, email, allowed: Option<String>, expect, path| Case {
        name,
        signature: signature.to_string(),
        payload: PAYLOAD.to_string(),
        email,
        allowed,
        time: now,
        expect,
        path,
    };
    use Route::*;
    let mut cases = vec![
        case("good ed25519", &by_alice, "alice@example.com", Some(listed.clone()), "good", InProcess),
        case("good ecdsa p256", &sig("bob"), "bob@example.com", Some(listed.clone()), "good", InProcess),
        case("good ecdsa p384", &sig("carol"), "carol@example.com", Some(listed.clone()), "good", InProcess),
        case("good ecdsa p521", &sig("erin"), "erin@example.com", Some(listed.clone()), "good", InProcess),
        case("good rsa 3072", &by_dave, "dave@example.com", Some(listed.clone()), "good", InProcess),
        // The RSA code verifies 2048- to 4096-bit keys; ssh-keygen judges the rest.
        case("good rsa 1024", &sig("small"), "small@example.com", Some(listed.clone()), "good", SshKeygen),
        case("wrong namespace", &keys.sign("alice", "file", PAYLOAD), "alice@example.com", Some(listed.clone()), "bad", InProcess),
        case("corrupt signature", &corrupt, "alice@example.com", Some(listed.clone()), "bad", Either),
        case("not armored", "-----BEGIN SSH SIGNATURE-----\nnonsense\n-----END SSH SIGNATURE-----\n", "alice@example.com", Some(listed.clone()), "bad", SshKeygen),
        case("unknown key", &by_mallory, "alice@example.com", Some(listed.clone()), "unknown-key", InProcess),
        case("key removed", &by_alice, "alice@example.com", Some(listed.replace(&format!("alice@example.com {alice}"), "# alice left")), "unknown-key", InProcess),
        case("principal changed", &by_alice, "alice@example.com", Some(listed.replace("alice@example.com ssh", "alice2@example.com ssh")), "unknown-key", InProcess),
        case("no allowed signers", &by_alice, "alice@example.com", None, "unknown-key", InProcess),
        case("empty allowed signers", &by_alice, "alice@example.com", Some(String::new()), "unknown-key", InProcess),
        case("wildcard principal", &by_alice, "alice@example.com", Some(format!("*@example.com {alice}\n")), "good", InProcess),
        case("question-mark principal", &by_alice, "alice@example.com", Some(format!("?lice@example.com {alice}\n")), "good", InProcess),
        case("wildcard, other domain", &by_alice, "alice@example.org", Some(format!("*@example.com {alice}\n")), "unknown-key", InProcess),
        case("negated principal", &by_alice, "bad@example.com", Some(format!("!bad@example.com,*@example.com {alice}\n")), "unknown-key", InProcess),
        case("negation spares others", &by_alice, "good@example.com", Some(format!("!bad@example.com,*@example.com {alice}\n")), "good", InProcess),
        case("principal case differs", &by_alice, "Alice@example.com", Some(listed.clone()), "unknown-key", InProcess),
        case("quoted principals", &by_alice, "alice@example.com", Some(format!("\"x y,alice@example.com\" {alice}\n")), "good", InProcess),
        case("namespaces file only", &by_alice, "alice@example.com", Some(format!("alice@example.com namespaces=\"file\" {alice}\n")), "unknown-key", InProcess),
        case("namespaces git,file", &by_alice, "alice@example.com", Some(format!("alice@example.com namespaces=\"file,git\" {alice}\n")), "good", InProcess),
        case("namespaces pattern", &by_alice, "alice@example.com", Some(format!("alice@example.com NameSpaces=\"g?t,!file\" {alice}\n")), "good", InProcess),
        case("namespaces negated", &by_alice, "alice@example.com", Some(format!("alice@example.com namespaces=\"*,!git\" {alice}\n")), "unknown-key", InProcess),
        case("second line allows", &by_alice, "alice@example.com", Some(format!("alice@example.com namespaces=\"file\" {alice}\nalice@example.com {alice}\n")), "good", InProcess),
        case("expired", &by_alice, "alice@example.com", Some(format!("alice@example.com valid-before=\"20240101Z\" {alice}\n")), "unknown-key", InProcess),
        case("not yet valid", &by_alice, "alice@example.com", Some(format!("alice@example.com valid-after=\"20300101Z\" {alice}\n")), "unknown-key", InProcess),
        case("within validity", &by_alice, "alice@example.com", Some(format!("alice@example.com valid-after=\"20240101\",valid-before=\"20301231235959Z\" {alice}\n")), "good", Either),
        case("valid-before is the commit second", &by_alice, "alice@example.com", Some(format!("alice@example.com valid-before=\"20240601120000Z\" {alice}\n")), "good", InProcess),
        case("valid-before a second early", &by_alice, "alice@example.com", Some(format!("alice@example.com valid-before=\"20240601115959Z\" {alice}\n")), "unknown-key", InProcess),
        case("valid-after is the commit second", &by_alice, "alice@example.com", Some(format!("alice@example.com valid-after=\"202406011200UTC\" {alice}\n")), "good", InProcess),
        case("valid-after a second late", &by_alice, "alice@example.com", Some(format!("alice@example.com valid-after=\"20240601120001Z\" {alice}\n")), "unknown-key", InProcess),
        case("local-time expiry", &by_alice, "alice@example.com", Some(format!("alice@example.com valid-before=\"20240101\" {alice}\n")), "unknown-key", Either),
        case("tampered ed25519", &by_alice, "alice@example.com", Some(listed.clone()), "bad", InProcess),
        case("tampered ecdsa", &sig("bob"), "bob@example.com", Some(listed.clone()), "bad", InProcess),
        // A failed RSA check may be the key's size: ssh-keygen confirms.
        case("tampered rsa", &by_dave, "dave@example.com", Some(listed.clone()), "bad", SshKeygen),
        case("tampered, unlisted key", &by_mallory, "alice@example.com", Some(listed.clone()), "bad", InProcess),
        case("cert-authority line, plain key listed", &by_alice, "alice@example.com", Some(format!("{listed}*@example.com cert-authority {ca}\n")), "good", SshKeygen),
        case("cert-authority line, key not listed", &by_mallory, "alice@example.com", Some(format!("*@example.com cert-authority {ca}\n")), "unknown-key", SshKeygen),
        case("certificate signature, CA trusted", &by_cert, "alice@example.com", Some(format!("*@example.com cert-authority {ca}\n")), "good", SshKeygen),
        case("certificate signature, other principal", &by_cert, "bob@example.com", Some(format!("*@example.com cert-authority {ca}\n")), "unknown-key", SshKeygen),
        case("certificate signature, CA not trusted", &by_cert, "alice@example.com", Some(listed.replace(&format!("alice@example.com {alice}"), "")), "unknown-key", SshKeygen),
        case("unreadable line", &by_alice, "alice@example.com", Some(format!("this line is not a key\n{listed}")), "good", SshKeygen),
        case("unreadable line, unknown key", &by_mallory, "alice@example.com", Some(format!("alice@example.com namespaces=git {alice}\n{listed}")), "unknown-key", SshKeygen),
    ];
    for c in cases.iter_mut().filter(|c| c.name.starts_with("tampered")) {
        c.payload = tampered.clone();
    }
    let log = tmp.path().join("runs.log");
    let logged = logging_ssh_keygen(tmp.path(), &log);
    let in_process = Verifier::with_programs(logged.display().to_string(), "gpg");
    let program = Verifier::with_programs("ssh-keygen", "gpg").with_in_process(false);
    let runs = || std::fs::read_to_string(&log).map_or(0, |t| t.lines().count());
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let file = c.allowed.as_ref().map(|text| {
            let p = tmp.path().join(format!("allowed_signers-{i}"));
            std::fs::write(&p, text).unwrap();
            p
        });
        let before = runs();
        let judge = |v: &Verifier| -> SignatureStatus {
            v.verify(&c.signature, &c.payload, c.email, file.as_deref(), c.time)
                .expect("verifies")
        };
        let ours = judge(&in_process);
        let ran = runs() > before;
        let theirs = judge(&program);
        let path_ok = match c.path {
            InProcess => !ran,
            SshKeygen => ran,
            Either => true,
        };
        if ours.as_str() != theirs.as_str() || ours.as_str() != c.expect || !path_ok {
            failures.push(format!(
                "{}: in-process {:?} (ssh-keygen run: {ran}, expected {:?}), ssh-keygen {:?}, expected {}",
                c.name, ours, c.path, theirs, c.expect
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn in_process_messages_say_why_a_valid_key_is_not_trusted() {
    if !have_ssh_keygen() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let keys = Keys {
        dir: tmp.path().to_path_buf(),
    };
    let alice = keys.make("alice", "ed25519", None);
    let sig = keys.sign("alice", "git", PAYLOAD);
    let verifier = Verifier::with_programs("ssh-keygen", "gpg");
    let judge = |allowed: &str, email: &str| {
        let p = tmp.path().join("allowed_signers");
        std::fs::write(&p, allowed).unwrap();
        verifier
            .verify(&sig, PAYLOAD, email, Some(&p), at(2024, 6, 1, 12, 0, 0))
            .unwrap()
    };
    let good = judge(&format!("alice@example.com {alice}\n"), "alice@example.com");
    let fingerprint = run(Command::new("ssh-keygen")
        .arg("-lf")
        .arg(tmp.path().join("alice.pub")));
    let fingerprint = fingerprint.split_whitespace().nth(1).unwrap();
    assert_eq!(
        good,
        SignatureStatus::Good {
            signer: format!("alice@example.com (ED25519 key {fingerprint})")
        }
    );
    let detail = |s: SignatureStatus| match s {
        SignatureStatus::UnknownKey { key } => key,
        other => panic!("{other:?}"),
    };
    let given = detail(judge(
        &format!("bob@example.com,b2@example.com {alice}\n"),
        "alice@example.com",
    ));
    assert!(given.ends_with("which .ipr/allowed_signers gives to bob@example.com, b2@example.com, not alice@example.com"), "{given}");
    let unlisted = detail(judge("", "alice@example.com"));
    assert!(
        unlisted.ends_with("which .ipr/allowed_signers does not list"),
        "{unlisted}"
    );
    let expired = detail(judge(
        &format!("alice@example.com valid-before=\"20240101Z\" {alice}\n"),
        "alice@example.com",
    ));
    assert!(
        expired.contains("only until 2024-01-01 00:00:00 UTC"),
        "{expired}"
    );
    let namespace = detail(judge(
        &format!("alice@example.com namespaces=\"file\" {alice}\n"),
        "alice@example.com",
    ));
    assert!(
        namespace.contains("only in namespaces \"file\""),
        "{namespace}"
    );
}
