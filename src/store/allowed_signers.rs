//! ipr's reader of OpenSSH's allowed-signers file (ssh-keygen(1), ALLOWED
//! SIGNERS), so that ssh signatures can be checked in-process with the
//! verdicts `ssh-keygen -Y verify` gives.
//!
//! Each line is `principals [options] keytype base64key [comment]`:
//! principals is a comma-separated list of patterns (`*`, `?`, `!` negation,
//! as ssh_config PATTERNS); options (comma-separated, names without case)
//! are `cert-authority`, `namespaces="pattern-list"`,
//! `valid-after="YYYYMMDD[HHMM[SS]][Z]"` and `valid-before=…` (local time
//! unless suffixed `Z` or `UTC`). Blank lines and `#` comments are skipped.
//!
//! The reader is strict where ssh-keygen is lenient: a line it cannot read
//! exactly as ssh-keygen would makes the whole file [`Unreadable`], and the
//! caller then leaves that file to ssh-keygen itself. So ipr never reads a
//! file differently from ssh-keygen; at worst it is slower.

use chrono::{Datelike, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone};
use ssh_key::public::KeyData;
use ssh_key::PublicKey;

/// One line of an allowed-signers file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The principals field as written: comma-separated patterns.
    pub principals: String,
    pub key: KeyData,
    /// `cert-authority`: the key signs certificates, and never signs itself.
    pub cert_authority: bool,
    /// `namespaces="…"`: the pattern list a signature's namespace must match.
    pub namespaces: Option<String>,
    /// `valid-after` / `valid-before`, in seconds since the epoch.
    pub valid_after: Option<i64>,
    pub valid_before: Option<i64>,
}

impl Entry {
    /// Whether the line names `principal` (`match_pattern_list` == 1).
    pub fn names(&self, principal: &str) -> bool {
        match_pattern_list(principal, &self.principals) == Match::Positive
    }

    /// Whether the line lets its key sign in `namespace`.
    pub fn allows_namespace(&self, namespace: &str) -> bool {
        self.namespaces
            .as_deref()
            .is_none_or(|ns| match_pattern_list(namespace, ns) == Match::Positive)
    }
}

/// A line ipr does not read as ssh-keygen would: 1-based line number, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable {
    pub line: usize,
    pub reason: String,
}

/// Read a whole allowed-signers file. Any line ipr cannot read exactly as
/// ssh-keygen does makes the file unreadable (ssh-keygen skips such lines;
/// ipr hands the file to ssh-keygen instead of guessing).
pub(crate) fn parse(text: &[u8]) -> Result<Vec<Entry>, Unreadable> {
    let text = std::str::from_utf8(text).map_err(|_| Unreadable {
        line: 0,
        reason: "not UTF-8".into(),
    })?;
    let mut entries = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        match parse_line(line) {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {}
            Err(reason) => {
                return Err(Unreadable {
                    line: i + 1,
                    reason: reason.into(),
                })
            }
        }
    }
    Ok(entries)
}

/// One line (without its `\n`): `None` for a blank or comment line.
fn parse_line(line: &str) -> Result<Option<Entry>, &'static str> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    // ssh-keygen treats other control bytes in ways that differ field by
    // field; ipr does not guess.
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err("a control character");
    }
    let s = line.trim_start_matches([' ', '\t']);
    if s.is_empty() || s.starts_with('#') {
        return Ok(None);
    }
    let (principals, rest) = principals_field(s)?;
    let (options, key) = match read_key(rest) {
        Some(key) => (None, key),
        None => {
            let end = end_of_options(rest)?;
            if end == rest.len() {
                return Err("no key");
            }
            let after = rest[end + 1..].trim_start_matches([' ', '\t']);
            (
                Some(&rest[..end]),
                read_key(after).ok_or("an unreadable key")?,
            )
        }
    };
    let mut entry = Entry {
        principals,
        key,
        cert_authority: false,
        namespaces: None,
        valid_after: None,
        valid_before: None,
    };
    if let Some(options) = options {
        parse_options(options, &mut entry)?;
    }
    Ok(Some(entry))
}

/// The principals field and what follows it, split as ssh-keygen's
/// `strdelimw` does: at the first blank, or a quoted part (which may hold
/// blanks) that ends the field at its closing quote.
fn principals_field(s: &str) -> Result<(String, &str), &'static str> {
    let Some(at) = s.find([' ', '\t', '"']) else {
        return Err("no key");
    };
    let (field, rest) = if s.as_bytes()[at] == b'"' {
        let quoted = &s[at + 1..];
        let close = quoted.find('"').ok_or("an unterminated quote")?;
        (
            format!("{}{}", &s[..at], &quoted[..close]),
            &quoted[close + 1..],
        )
    } else {
        (s[..at].to_string(), &s[at + 1..])
    };
    Ok((field, rest.trim_start_matches([' ', '\t'])))
}

/// Where the options end: the first blank outside quotes (`\"` does not
/// close a quote), as `sshkey_advance_past_options`.
fn end_of_options(s: &str) -> Result<usize, &'static str> {
    let b = s.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < b.len() && (quoted || (b[i] != b' ' && b[i] != b'\t')) {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'"') {
            i += 1;
        } else if b[i] == b'"' {
            quoted = !quoted;
        }
        i += 1;
    }
    if quoted {
        return Err("an unterminated quote in the options");
    }
    Ok(i)
}

/// `keytype base64 [comment]` at the start of `s`, for the key types
/// ssh-keygen knows (a certificate type, or one ipr does not know, is
/// `None`).
fn read_key(s: &str) -> Option<KeyData> {
    use base64::Engine;
    let (kind, rest) = s.split_once([' ', '\t'])?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let blob = rest.split([' ', '\t']).next().filter(|b| !b.is_empty())?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .ok()?;
    let key = PublicKey::from_bytes(&bytes).ok()?.key_data().clone();
    let known = matches!(
        key,
        KeyData::Ed25519(_)
            | KeyData::Ecdsa(_)
            | KeyData::Rsa(_)
            | KeyData::SkEd25519(_)
            | KeyData::SkEcdsaSha2NistP256(_)
            | KeyData::Dsa(_)
    );
    (known && key.algorithm().as_str() == kind).then_some(key)
}

/// The options field, as ssh-keygen's `sshsigopt_parse`.
fn parse_options(mut s: &str, entry: &mut Entry) -> Result<(), &'static str> {
    while !s.is_empty() {
        if let Some(rest) = strip_prefix_ci(s, "cert-authority") {
            entry.cert_authority = true;
            s = rest;
        } else if let Some(rest) = strip_prefix_ci(s, "namespaces=") {
            if entry.namespaces.is_some() {
                return Err("two namespaces options");
            }
            let (value, rest) = dequote(rest)?;
            entry.namespaces = Some(value);
            s = rest;
        } else if let Some(rest) = strip_prefix_ci(s, "valid-after=") {
            if entry.valid_after.is_some() {
                return Err("two valid-after options");
            }
            let (value, rest) = dequote(rest)?;
            entry.valid_after = Some(parse_absolute_time(&value)?);
            s = rest;
        } else if let Some(rest) = strip_prefix_ci(s, "valid-before=") {
            if entry.valid_before.is_some() {
                return Err("two valid-before options");
            }
            let (value, rest) = dequote(rest)?;
            entry.valid_before = Some(parse_absolute_time(&value)?);
            s = rest;
        }
        if s.is_empty() {
            break;
        }
        s = s.strip_prefix(',').ok_or("an unknown option")?;
        if s.is_empty() {
            return Err("a trailing comma in the options");
        }
    }
    if let (Some(after), Some(before)) = (entry.valid_after, entry.valid_before) {
        if before <= after {
            return Err("valid-before is not after valid-after");
        }
    }
    Ok(())
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// A `"…"` value (with `\"` for a quote) and what follows it.
fn dequote(s: &str) -> Result<(String, &str), &'static str> {
    let body = s
        .strip_prefix('"')
        .ok_or("an option value without quotes")?;
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &body[i + 1..])),
            '\\' if body[i + 1..].starts_with('"') => {
                chars.next();
                value.push('"');
            }
            c => value.push(c),
        }
    }
    Err("an option value without its closing quote")
}

/// `YYYYMMDD[HHMM[SS]]`, in UTC if suffixed `Z` or `UTC` (any case), else
/// in local time, as seconds since the epoch: ssh-keygen's
/// `parse_absolute_time`. A local time is read only where the local zone
/// has one offset all that year: ssh-keygen reads local times as standard
/// time (`mktime` with `tm_isdst` 0), which ipr does not reproduce across
/// daylight saving, so such a file is left to ssh-keygen.
pub(crate) fn parse_absolute_time(s: &str) -> Result<i64, &'static str> {
    const BAD: &str = "a time that is not YYYYMMDD[HHMM[SS]][Z]";
    let b = s.as_bytes();
    let (digits, utc) = if b.len() > 1 && b[b.len() - 1].eq_ignore_ascii_case(&b'z') {
        (&s[..s.len() - 1], true)
    } else if b.len() > 3 && b[b.len() - 3..].eq_ignore_ascii_case(b"utc") {
        (&s[..s.len() - 3], true)
    } else {
        (s, false)
    };
    if !matches!(digits.len(), 8 | 12 | 14) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BAD);
    }
    let num = |from: usize, len: usize| -> u32 {
        digits
            .get(from..from + len)
            .map_or(0, |d| d.parse().expect("digits"))
    };
    let naive = NaiveDate::from_ymd_opt(num(0, 4) as i32, num(4, 2), num(6, 2))
        .and_then(|d| d.and_hms_opt(num(8, 2), num(10, 2), num(12, 2)))
        .ok_or(BAD)?;
    let t = if utc {
        naive.and_utc().timestamp()
    } else {
        local_timestamp(naive).ok_or("a local time in a zone with daylight saving")?
    };
    if t <= 0 {
        return Err("a time before 1970");
    }
    Ok(t)
}

fn local_timestamp(naive: NaiveDateTime) -> Option<i64> {
    let offset = |at: NaiveDateTime| match chrono::Local.offset_from_local_datetime(&at) {
        LocalResult::Single(o) => Some(o.fix().local_minus_utc()),
        _ => None,
    };
    let here = offset(naive)?;
    let noon = |month| NaiveDate::from_ymd_opt(naive.year(), month, 1)?.and_hms_opt(12, 0, 0);
    let january = offset(noon(1)?)?;
    let july = offset(noon(7)?)?;
    (here == january && here == july).then(|| naive.and_utc().timestamp() - i64::from(here))
}

/// How a string matches a pattern list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// A `!pattern` matched: a "no" that no other pattern overrides.
    Negative,
    /// No pattern matched.
    None,
    /// A pattern matched and no `!pattern` did.
    Positive,
}

/// ssh's `match_pattern_list` (without lowercasing): comma-separated
/// patterns, each may start with `!`.
pub(crate) fn match_pattern_list(s: &str, list: &str) -> Match {
    let list = list.as_bytes();
    let mut positive = false;
    let mut i = 0;
    while i < list.len() {
        let negated = list[i] == b'!';
        if negated {
            i += 1;
        }
        let start = i;
        while i < list.len() && list[i] != b',' {
            i += 1;
        }
        // ssh copies each pattern into a 1024-byte buffer and gives up
        // (no match at all) on a longer one.
        if i - start >= 1023 {
            return Match::None;
        }
        let pattern = &list[start..i];
        if i < list.len() {
            i += 1;
        }
        if match_pattern(s.as_bytes(), pattern) {
            if negated {
                return Match::Negative;
            }
            positive = true;
        }
    }
    if positive {
        Match::Positive
    } else {
        Match::None
    }
}

/// ssh's `match_pattern`: `*` matches any run of bytes, `?` any one byte.
pub(crate) fn match_pattern(s: &[u8], p: &[u8]) -> bool {
    let (mut si, mut pi) = (0, 0);
    // The last `*` seen, and where in `s` it was tried from.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFBEniKInJ7TsmHTPN0+XAF/T4kJQ8PD2Mjp9M2jKUv3";

    fn one(line: &str) -> Entry {
        let mut all = parse(line.as_bytes()).expect("readable");
        assert_eq!(all.len(), 1, "{line}");
        all.remove(0)
    }

    fn unreadable(text: &str) -> Unreadable {
        parse(text.as_bytes()).expect_err(text)
    }

    #[test]
    fn patterns_match_like_ssh() {
        assert!(match_pattern(b"a@example.com", b"a@example.com"));
        assert!(match_pattern(b"a@example.com", b"*@example.com"));
        assert!(match_pattern(b"a@example.com", b"?@example.*"));
        assert!(match_pattern(b"", b"*"));
        assert!(match_pattern(b"", b""));
        assert!(!match_pattern(b"a", b""));
        assert!(match_pattern(b"abcbcd", b"a*bcd"));
        assert!(match_pattern(b"ab", b"a**b*"));
        assert!(!match_pattern(b"ab@example.com", b"?@example.com"));
        assert!(!match_pattern(b"a@example.com", b"*@example.org"));
        assert!(
            !match_pattern(b"A@example.com", b"a@example.com"),
            "no case folding"
        );
        assert!(!match_pattern(b"a@example.comx", b"*@example.com"));
    }

    #[test]
    fn negation_wins_over_any_positive_pattern() {
        let list = "!bad@example.com,*@example.com";
        assert_eq!(
            match_pattern_list("good@example.com", list),
            Match::Positive
        );
        assert_eq!(match_pattern_list("bad@example.com", list), Match::Negative);
        assert_eq!(match_pattern_list("x@example.org", list), Match::None);
        assert_eq!(
            match_pattern_list("bad@example.com", "*@example.com,!bad*"),
            Match::Negative
        );
        assert_eq!(
            match_pattern_list("a", "!b"),
            Match::None,
            "a lone negation grants nothing"
        );
        assert_eq!(match_pattern_list("a", ""), Match::None);
        assert_eq!(match_pattern_list("a", "b,,a"), Match::Positive);
        assert_eq!(
            match_pattern_list("", "a,"),
            Match::None,
            "no empty pattern after a last comma"
        );
        assert_eq!(match_pattern_list("", "a,,b"), Match::Positive);
        let long = format!("a,{}", "*".repeat(1023));
        assert_eq!(
            match_pattern_list("a", &long),
            Match::None,
            "ssh gives up on a long pattern"
        );
    }

    #[test]
    fn plain_lines_comments_and_blanks() {
        let text = format!("# team\n\n   \t\n  a@example.com,b@example.com {ED} laptop of a\r\n");
        let all = parse(text.as_bytes()).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].principals, "a@example.com,b@example.com");
        assert!(all[0].names("b@example.com"));
        assert!(!all[0].names("c@example.com"));
        assert!(!all[0].cert_authority);
        assert_eq!(all[0].namespaces, None);
        assert!(all[0].allows_namespace("git"));
        assert_eq!(
            one(&format!("a@example.com\t{ED}")).principals,
            "a@example.com"
        );
    }

    #[test]
    fn options_case_insensitive_and_quoted() {
        let e = one(&format!(
            r#"*@example.com NAMESPACES="git,file",Valid-After="20240101Z",valid-before="20250101120000z" {ED} c"#
        ));
        assert_eq!(e.namespaces.as_deref(), Some("git,file"));
        assert!(e.allows_namespace("git") && !e.allows_namespace("other"));
        assert_eq!(e.valid_after, Some(1_704_067_200));
        assert_eq!(e.valid_before, Some(1_735_732_800));
        let e = one(&format!(
            "a cert-authority,namespaces=\"a b,\\\"q\\\"\" {ED}"
        ));
        assert!(e.cert_authority);
        assert_eq!(e.namespaces.as_deref(), Some("a b,\"q\""));
        let e = one(&format!("a valid-before=\"20300101UTC\" {ED}"));
        assert_eq!(e.valid_before, Some(1_893_456_000));
        let e = one(&format!("a namespaces=\"\" {ED}"));
        assert!(
            !e.allows_namespace("git"),
            "an empty list allows no namespace"
        );
    }

    #[test]
    fn quoted_principals_may_hold_blanks() {
        let e = one(&format!("\"a b@example.com,c\" {ED}"));
        assert_eq!(e.principals, "a b@example.com,c");
        assert!(e.names("a b@example.com"));
        let e = one(&format!("x\"y z\" {ED}"));
        assert_eq!(e.principals, "xy z");
    }

    #[test]
    fn bad_lines_make_the_file_unreadable() {
        for (text, why) in [
            ("a@example.com".to_string(), "no key"),
            (format!("\"a@example.com {ED}"), "unterminated quote"),
            (
                "a@example.com ssh-ed25519 !!!notbase64".into(),
                "unreadable key",
            ),
            (
                format!("a@example.com {}", ED.replace("ssh-ed25519", "ssh-rsa")),
                "type mismatch",
            ),
            (format!("a bogus {ED}"), "unknown option"),
            (format!("a namespaces=git {ED}"), "unquoted value"),
            (format!("a namespaces=\"git {ED}"), "unterminated value"),
            (
                format!("a namespaces=\"git\",namespaces=\"file\" {ED}"),
                "twice",
            ),
            (format!("a cert-authority, {ED}"), "trailing comma"),
            (format!("a cert-authorityx {ED}"), "glued option"),
            (format!("a valid-after=\"2024\" {ED}"), "short time"),
            (format!("a valid-after=\"20240231Z\" {ED}"), "no such day"),
            (
                format!("a valid-after=\"2024010112345Z\" {ED}"),
                "odd length",
            ),
            (format!("a valid-after=\"19600101Z\" {ED}"), "before 1970"),
            (
                format!("a valid-after=\"20250101Z\",valid-before=\"20240101Z\" {ED}"),
                "reversed",
            ),
            (
                "a valid-after=\"20240101Z\" ".into(),
                "no key after options",
            ),
            ("a valid-after=\"20240101Z\"".into(), "no key after options"),
            (format!("a {ED}\x0bcomment"), "control character"),
            (
                "a ssh-ed25519-cert-v01@openssh.com AAAA".into(),
                "certificate as key",
            ),
        ] {
            let u = unreadable(&format!("# ok\n{text}\n"));
            assert_eq!(u.line, 2, "{why}: {text}");
        }
        assert!(parse(b"\xff\xfe").is_err(), "not UTF-8");
    }

    #[test]
    fn local_times_follow_the_local_zone_when_it_has_no_daylight_saving() {
        // The test process's zone is whatever the machine has; only check
        // that a local time is either placed at a fixed offset from UTC or
        // refused, never misplaced.
        match parse_absolute_time("20240701") {
            Ok(t) => {
                let utc = parse_absolute_time("20240701Z").unwrap();
                assert!((t - utc).abs() <= 14 * 3600);
            }
            Err(e) => assert!(e.contains("daylight"), "{e}"),
        }
        assert_eq!(parse_absolute_time("202401020304Z"), Ok(1_704_164_640));
        assert_eq!(parse_absolute_time("20240102030405Z"), Ok(1_704_164_645));
    }
}
