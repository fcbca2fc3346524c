//! Writing to stdout: data formats, tables, and a quiet exit on a closed pipe
//! (`ipr list | head` must not print an error).

use std::io::Write;

use chrono::{DateTime, Utc};
use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

use super::Format;
use crate::error::{Error, Result};

pub use crate::text::{esc, esc_block};

/// Write text to stdout; a closed pipe ends the process quietly with 0.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let result = out.write_all(text.as_bytes()).and_then(|_| {
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()
    });
    stdout_result(result)
}

/// A JSON array written to stdout as its elements come, for lists too
/// long to build in memory; byte for byte what [`data`] prints for the
/// whole list. A closed pipe ends the program quietly, as [`print`] does.
pub struct JsonArray {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    empty: bool,
}

impl JsonArray {
    pub fn stdout() -> JsonArray {
        JsonArray {
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
            empty: true,
        }
    }

    /// One element, as pretty JSON indented to sit in the array
    /// ([`crate::store::cache::array_element`]).
    pub fn element(&mut self, json: &[u8]) -> Result<()> {
        let sep: &[u8] = if self.empty { b"[\n" } else { b",\n" };
        self.empty = false;
        stdout_result(
            self.out
                .write_all(sep)
                .and_then(|_| self.out.write_all(json)),
        )
    }

    pub fn finish(mut self) -> Result<()> {
        let end: &[u8] = if self.empty { b"[]\n" } else { b"\n]\n" };
        stdout_result(self.out.write_all(end).and_then(|_| self.out.flush()))
    }
}

fn stdout_result(result: std::io::Result<()>) -> Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Error::other(format!("stdout: {e}"))),
    }
}

/// Serialize data as JSON (pretty) or YAML.
pub fn data<T: Serialize + ?Sized>(format: Format, value: &T) -> Result<String> {
    match format {
        Format::Json => serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| Error::other(e.to_string())),
        Format::Yaml => serde_yaml_ng::to_string(value).map_err(|e| Error::other(e.to_string())),
        Format::Table | Format::Markdown => Err(Error::other("table output is not data")),
    }
}

/// A borderless table like `kubectl get` / `gh pr list`, wrapped to the
/// terminal on a TTY and never wrapped in a pipe.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    for row in rows {
        t.add_row(row.iter().map(|c| esc(c)).collect::<Vec<_>>());
    }
    let mut text = t
        .lines()
        .map(|l| l.strip_prefix(" ").unwrap_or(&l).trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    text.push('\n');
    text
}

/// `2024-12-23 14:15 UTC`.
pub fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
