//! Showing text that came from tickets, config, plans or git on a terminal
//! (SPEC §11): never raw.

/// Text from tickets, config or git as one line a terminal shows as it is:
/// line breaks, escape sequences, other control characters (C0, C1),
/// direction overrides and invisible characters are shown escaped
/// (`\n`, `\u{1b}`), so no field can hide text or forge another line.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if crate::model::is_invisible(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Multi-line text from a ticket, each line escaped like [`esc`] and
/// indented by two spaces, so it can never start a line of its own.
pub fn esc_block(s: &str) -> String {
    s.trim_end()
        .split('\n')
        .map(|l| format!("  {}\n", esc(l)))
        .collect()
}
