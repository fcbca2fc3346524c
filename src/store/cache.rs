//! The summary cache (SPEC §14): every ticket file of a commit with its
//! [`Summary`] and its JSON, kept in `.git/ipr/cache/tickets`, so that
//! `list`, `stats` and the review queue read one file instead of parsing
//! every ticket's YAML.
//!
//! It is keyed by git object ids, like git-bug's cache: each month folder
//! (`requests/prod/YYYY/MM`) by its tree id, each ticket by its blob id.
//! Reading the tickets of a commit lists its month folders (a few dozen tree
//! objects); a folder whose tree id is the cached one is reused whole, a
//! folder that changed is listed again and only its new or changed blobs
//! are parsed, so the cache follows the tree diff since it was written.
//!
//! It is never believed over git. The file names its format and the ipr
//! version that wrote it, the lengths of its two sections and a CRC-32C of
//! each; a file that is missing, truncated, corrupt, stale or foreign
//! (another format or another ipr) is rebuilt from git, and entries are
//! only ever reused for the same tree or blob id. Only reads use it: every
//! action, and every verdict of `ipr verify`, read tickets from git itself.
//!
//! Layout: a header of [`HEADER_LEN`] bytes (JSON, padded), then the JSON of
//! each ticket as `ipr list --format json` prints it, concatenated in path
//! order, then the index: JSON lines, for each folder a line (path, tree id,
//! how many entries, their JSON's length) followed by one line per entry
//! (file name, blob id, JSON length, summary or parse error). Reads walk
//! the index line by line, so memory stays small whatever the repository's
//! size. A cache that cannot be written (a read-only `.git`) is built in a
//! temporary file for the one read.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::PathBuf;

use git2::{ObjectType, Oid};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{natural_key, Store, REQUESTS_ROOT};
use crate::error::{Error, Result};
use crate::model::{Summary, Ticket};

/// What the header's `format` says; a change to the layout or to
/// [`Summary`] changes it.
const FORMAT: &str = "ipr-ticket-cache/1";
const HEADER_LEN: u64 = 512;
/// Tickets parsed per batch when building: bounds memory, feeds every core.
const BATCH: usize = 4096;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    ipr: String,
    json_len: u64,
    json_crc: u32,
    index_len: u64,
    index_crc: u32,
}

/// The index line of a month folder.
#[derive(Debug, Serialize, Deserialize)]
struct FolderLine {
    path: String,
    tree: String,
    entries: usize,
    json: u64,
}

/// The index line of a ticket file.
#[derive(Debug, Serialize, Deserialize)]
struct EntryLine {
    #[serde(rename = "n")]
    name: String,
    #[serde(rename = "b")]
    blob: String,
    /// Length of its JSON (0 for a file that does not parse).
    #[serde(rename = "l")]
    len: u64,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    summary: Option<Summary>,
    /// Why the file does not parse.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// A folder of a checked cache file.
#[derive(Debug)]
struct Span {
    path: String,
    tree: String,
    /// Its folder line and entry lines, in the index.
    lines: Range<usize>,
    /// Its entry lines alone.
    entry_lines: Range<usize>,
    /// Its entries' JSON, in the JSON section.
    json: Range<u64>,
}

/// The ticket files of one commit, from a cache file that passed every
/// check.
pub struct CachedTickets {
    file: File,
    index: Vec<u8>,
    folders: Vec<Span>,
}

/// One ticket file: its path, and its summary or why it does not parse.
#[derive(Debug, Clone)]
pub struct CachedTicket {
    pub path: String,
    pub summary: std::result::Result<Summary, String>,
    offset: u64,
    len: u64,
}

impl CachedTickets {
    /// Every ticket file, in path order (by year, month, number), as
    /// [`Store::ticket_files`] lists them.
    pub fn entries(&self) -> impl Iterator<Item = Result<CachedTicket>> + '_ {
        self.folders.iter().flat_map(move |f| {
            let mut offset = f.json.start;
            lines(&self.index[f.entry_lines.clone()]).map(move |line| {
                let e = entry_line(line)?;
                let t = CachedTicket {
                    path: format!("{}/{}", f.path, e.name),
                    summary: match (e.summary, e.error) {
                        (Some(s), _) => Ok(s),
                        (None, why) => Err(why.unwrap_or_default()),
                    },
                    offset,
                    len: e.len,
                };
                offset += e.len;
                Ok(t)
            })
        })
    }

    /// A reader of the entries' JSON, best asked in entry order.
    pub fn json(&self) -> JsonReader<'_> {
        JsonReader {
            reader: BufReader::with_capacity(1 << 16, &self.file),
            pos: None,
            buf: Vec::new(),
        }
    }

    /// Read and check a cache file: header, format and version, lengths,
    /// both CRCs, and that the index adds up. `Err` says why it is not
    /// believed.
    fn open(mut file: File) -> std::result::Result<CachedTickets, String> {
        let size = file.metadata().map_err(|e| e.to_string())?.len();
        if size < HEADER_LEN {
            return Err("is shorter than its header".into());
        }
        let mut head = vec![0u8; HEADER_LEN as usize];
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_exact(&mut head))
            .map_err(|e| e.to_string())?;
        let header: Header = serde_json::from_slice(head.trim_ascii_end())
            .map_err(|e| format!("has an unreadable header ({e})"))?;
        if header.format != FORMAT || header.ipr != env!("CARGO_PKG_VERSION") {
            return Err(format!(
                "was written as {} by ipr {}",
                header.format, header.ipr
            ));
        }
        if HEADER_LEN
            .checked_add(header.json_len)
            .and_then(|n| n.checked_add(header.index_len))
            != Some(size)
        {
            return Err("does not have the length its header says".into());
        }
        let mut reader = BufReader::with_capacity(1 << 20, &file);
        let mut crc = 0u32;
        let mut left = header.json_len;
        while left > 0 {
            let chunk = reader.fill_buf().map_err(|e| e.to_string())?;
            if chunk.is_empty() {
                return Err("ends early".into());
            }
            let n = chunk.len().min(left as usize);
            crc = crc32c::crc32c_append(crc, &chunk[..n]);
            reader.consume(n);
            left -= n as u64;
        }
        if crc != header.json_crc {
            return Err("holds JSON that does not match its checksum".into());
        }
        let mut index = Vec::with_capacity(header.index_len as usize);
        reader.read_to_end(&mut index).map_err(|e| e.to_string())?;
        drop(reader);
        if crc32c::crc32c(&index) != header.index_crc {
            return Err("has an index that does not match its checksum".into());
        }
        let mut folders = Vec::new();
        let (mut at, mut json) = (0usize, 0u64);
        while at < index.len() {
            let end = line_end(&index, at);
            let f: FolderLine = serde_json::from_slice(&index[at..end])
                .map_err(|e| format!("has an unreadable folder line ({e})"))?;
            let first = end + 1;
            let mut last = first;
            for _ in 0..f.entries {
                if last >= index.len() {
                    return Err("has an index that ends early".into());
                }
                last = line_end(&index, last) + 1;
            }
            folders.push(Span {
                path: f.path,
                tree: f.tree,
                lines: at..last,
                entry_lines: first.min(last)..last,
                json: json..json + f.json,
            });
            json += f.json;
            at = last;
        }
        if json != header.json_len {
            return Err("has an index that does not add up".into());
        }
        Ok(CachedTickets {
            file,
            index,
            folders,
        })
    }

    fn folder(&self, path: &str) -> Option<&Span> {
        self.folders.iter().find(|f| f.path == path)
    }
}

/// Where the line starting at `at` ends (its `\n`, or the end).
fn line_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |p| at + p)
}

/// The lines of `bytes`, each without its `\n`.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .strip_suffix(b"\n")
        .unwrap_or(bytes)
        .split(|b| *b == b'\n')
        .filter(move |_| !bytes.is_empty())
}

fn entry_line(line: &[u8]) -> Result<EntryLine> {
    let e: EntryLine = serde_json::from_slice(line).map_err(corrupt)?;
    if e.summary.is_some() == e.error.is_some() || (e.summary.is_none() && e.len != 0) {
        return Err(corrupt("an entry with neither summary nor error"));
    }
    Ok(e)
}

fn corrupt(why: impl std::fmt::Display) -> Error {
    Error::other(format!(
        "the summary cache .git/ipr/cache/tickets cannot be read ({why}); remove it and run again"
    ))
}

/// Reads the JSON of entries from the cache file, seeking forward.
pub struct JsonReader<'a> {
    reader: BufReader<&'a File>,
    pos: Option<u64>,
    buf: Vec<u8>,
}

impl JsonReader<'_> {
    /// The JSON of `entry`, as `ipr list --format json` prints it inside
    /// its array (indented by two spaces, no trailing comma).
    pub fn get(&mut self, entry: &CachedTicket) -> Result<&[u8]> {
        self.buf.clear();
        self.read_into(entry.offset, entry.len)?;
        Ok(&self.buf)
    }

    /// The ticket of `entry`, decoded from its JSON.
    pub fn ticket(&mut self, entry: &CachedTicket) -> Result<Ticket> {
        serde_json::from_slice(self.get(entry)?).map_err(corrupt)
    }

    /// Append `len` bytes of the JSON section from `offset` to the buffer.
    fn read_into(&mut self, offset: u64, len: u64) -> Result<()> {
        let at = HEADER_LEN + offset;
        match self.pos {
            Some(p) if p <= at => self.reader.seek_relative((at - p) as i64)?,
            _ => {
                self.reader.seek(SeekFrom::Start(at))?;
            }
        }
        let start = self.buf.len();
        self.buf.resize(start + len as usize, 0);
        self.reader.read_exact(&mut self.buf[start..])?;
        self.pos = Some(at + len);
        Ok(())
    }

    /// Copy `range` of the JSON section to `out`.
    fn copy(&mut self, range: Range<u64>, out: &mut Writer<'_>) -> Result<()> {
        let mut at = range.start;
        while at < range.end {
            let n = (range.end - at).min(1 << 20);
            self.buf.clear();
            self.read_into(at, n)?;
            out.json(&self.buf)?;
            at += n;
        }
        Ok(())
    }
}

/// `value` as pretty JSON indented to be an element of a pretty array
/// (how `ipr list --format json` prints each ticket).
pub fn array_element<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(&[value]).expect("ipr's data serializes");
    // `[\n  {...}\n]` → `  {...}`
    out.truncate(out.len() - 2);
    out.drain(..2);
    out
}

/// The JSON section being written, with its length and CRC.
struct Writer<'f> {
    out: BufWriter<&'f File>,
    len: u64,
    crc: u32,
}

impl Writer<'_> {
    fn json(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes)?;
        self.crc = crc32c::crc32c_append(self.crc, bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }
}

/// A ticket file to parse, and then what parsing gave.
struct Parse {
    path: String,
    blob: Oid,
    done: Option<(std::result::Result<Summary, String>, u64)>,
}

/// Where each entry of the new cache comes from.
enum Planned<'o> {
    /// A folder unchanged since `old`: its lines and its JSON, as they are.
    Folder { lines: &'o [u8], json: Range<u64> },
    /// A changed or new folder.
    Listed {
        path: String,
        tree: Oid,
        entries: Vec<(String, Oid, Source<'o>)>,
    },
}

/// An entry line of `old`, and where its JSON is.
type Reusable<'o> = (&'o [u8], Range<u64>);

enum Source<'o> {
    Reused { line: &'o [u8], json: Range<u64> },
    Parsed(usize),
}

impl Store {
    fn cache_path(&self) -> PathBuf {
        self.repo.path().join("ipr").join("cache").join("tickets")
    }

    /// The ticket files at `at` from the summary cache, brought up to
    /// date first (see the module documentation).
    pub fn cached_tickets(&self, at: Option<Oid>) -> Result<CachedTickets> {
        let folders = self.month_folders(at)?;
        let path = self.cache_path();
        let old = File::open(&path)
            .ok()
            .and_then(|f| CachedTickets::open(f).ok());
        let current = |old: &CachedTickets| {
            old.folders.len() == folders.len()
                && old
                    .folders
                    .iter()
                    .zip(&folders)
                    .all(|(o, (p, t))| o.path == *p && o.tree == t.to_string())
        };
        let old = match old {
            Some(old) if current(&old) => return Ok(old),
            old => old,
        };
        let dir = path.parent().expect("the cache path has a parent");
        let persisted = std::fs::create_dir_all(dir)
            .ok()
            .and_then(|_| tempfile::NamedTempFile::new_in(dir).ok());
        let file = match persisted {
            Some(tmp) => {
                self.write_cache(tmp.as_file(), &folders, old.as_ref())?;
                // Failing to rename it into place changes nothing: the file
                // written is complete, and serves this read.
                match tmp.persist(&path) {
                    Ok(file) => file,
                    Err(e) => e.file.into_file(),
                }
            }
            None => {
                let file = tempfile::tempfile()?;
                self.write_cache(&file, &folders, old.as_ref())?;
                file
            }
        };
        CachedTickets::open(file).map_err(|why| corrupt(format!("as just written, it {why}")))
    }

    /// The tickets at `at`, in path order, whose summary `nominate`
    /// accepts, each read and parsed from git itself: for actions, which
    /// let the cache narrow a search but judge only what git holds
    /// (`nominate` must accept every ticket the caller could want). Files
    /// that do not parse are skipped (`ipr verify` reports them).
    pub fn tickets_where(
        &self,
        at: Option<Oid>,
        nominate: impl Fn(&Summary) -> bool,
    ) -> Result<Vec<Ticket>> {
        let mut out = Vec::new();
        for entry in self.cached_tickets(at)?.entries() {
            let entry = entry?;
            if !entry.summary.as_ref().is_ok_and(&nominate) {
                continue;
            }
            if let Some(bytes) = self.read(at, &entry.path)? {
                if let Ok(t) = Ticket::from_yaml(&bytes, &entry.path) {
                    out.push(t);
                }
            }
        }
        Ok(out)
    }

    /// `requests/prod/*/*` at `at`: (path, tree id), in path order.
    fn month_folders(&self, at: Option<Oid>) -> Result<Vec<(String, Oid)>> {
        let Some(tree) = self.tree_at(at)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let Some(root) = super::subtree(&self.repo, &tree, REQUESTS_ROOT)? else {
            return Ok(out);
        };
        for year in root.iter().filter(|e| e.kind() == Some(ObjectType::Tree)) {
            let Ok(y) = year.name() else { continue };
            let ytree = self.repo.find_tree(year.id())?;
            for month in ytree.iter().filter(|e| e.kind() == Some(ObjectType::Tree)) {
                let Ok(m) = month.name() else { continue };
                out.push((format!("{REQUESTS_ROOT}/{y}/{m}"), month.id()));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// What the new cache of `folders` is made of: `old`'s folders and
    /// entries where their tree or blob id is unchanged, the rest to parse.
    fn plan<'o>(
        &self,
        folders: &[(String, Oid)],
        old: Option<&'o CachedTickets>,
        parse: &mut Vec<Parse>,
    ) -> Result<Vec<Planned<'o>>> {
        let mut plan = Vec::new();
        for (path, tree) in folders {
            let before = old.and_then(|o| o.folder(path).map(|f| (o, f)));
            if let Some((o, f)) = before.filter(|(_, f)| f.tree == tree.to_string()) {
                plan.push(Planned::Folder {
                    lines: &o.index[f.lines.clone()],
                    json: f.json.clone(),
                });
                continue;
            }
            let mut known: HashMap<(String, String), Reusable<'o>> = HashMap::new();
            if let Some((o, f)) = before {
                let mut offset = f.json.start;
                for line in lines(&o.index[f.entry_lines.clone()]) {
                    let e = entry_line(line)?;
                    known.insert((e.name, e.blob), (line, offset..offset + e.len));
                    offset += e.len;
                }
            }
            let t = self.repo.find_tree(*tree)?;
            let mut names: Vec<(String, Oid)> = t
                .iter()
                .filter(|e| e.kind() == Some(ObjectType::Blob))
                .filter_map(|e| Some((e.name().ok()?.to_string(), e.id())))
                .filter(|(n, _)| n.ends_with(".yaml"))
                .collect();
            names.sort_by_cached_key(|(n, _)| natural_key(n));
            let mut entries = Vec::new();
            for (name, blob) in names {
                let source = match known.remove(&(name.clone(), blob.to_string())) {
                    Some((line, json)) => Source::Reused { line, json },
                    None => {
                        parse.push(Parse {
                            path: format!("{path}/{name}"),
                            blob,
                            done: None,
                        });
                        Source::Parsed(parse.len() - 1)
                    }
                };
                entries.push((name, blob, source));
            }
            plan.push(Planned::Listed {
                path: path.clone(),
                tree: *tree,
                entries,
            });
        }
        Ok(plan)
    }

    /// Write the cache of `folders` to `file`, reusing what `old` has for
    /// the same tree and blob ids.
    fn write_cache(
        &self,
        file: &File,
        folders: &[(String, Oid)],
        old: Option<&CachedTickets>,
    ) -> Result<()> {
        let mut parse = Vec::new();
        let plan = self.plan(folders, old, &mut parse)?;
        let mut reader = old.map(|o| o.json());
        let mut from_old = |json: Range<u64>, w: &mut Writer<'_>| -> Result<()> {
            reader
                .as_mut()
                .expect("reused entries come from a cache")
                .copy(json, w)
        };

        file.set_len(0)?;
        let mut cursor = file;
        cursor.seek(SeekFrom::Start(HEADER_LEN))?;
        let mut w = Writer {
            out: BufWriter::with_capacity(1 << 16, file),
            len: 0,
            crc: 0,
        };
        // The JSON section, in entry order; files to parse go in batches,
        // read here (a repository is not shared between threads) and
        // parsed on every core.
        let mut queue: Vec<usize> = Vec::new();
        let flush =
            |queue: &mut Vec<usize>, parse: &mut [Parse], w: &mut Writer<'_>| -> Result<()> {
                let mut bytes = Vec::with_capacity(queue.len());
                for &i in queue.iter() {
                    let p = &parse[i];
                    bytes.push((
                        p.path.as_str(),
                        self.repo.find_blob(p.blob)?.content().to_vec(),
                    ));
                }
                let parsed: Vec<(std::result::Result<Summary, String>, Vec<u8>)> = bytes
                    .par_iter()
                    .map(|(path, b)| match Ticket::from_yaml(b, path) {
                        Ok(t) => (Ok(Summary::of(&t)), array_element(&t)),
                        Err(e) => (Err(e.message().to_string()), Vec::new()),
                    })
                    .collect();
                for (&i, (summary, json)) in queue.iter().zip(parsed) {
                    w.json(&json)?;
                    parse[i].done = Some((summary, json.len() as u64));
                }
                queue.clear();
                Ok(())
            };
        for p in &plan {
            match p {
                Planned::Folder { json, .. } => {
                    flush(&mut queue, &mut parse, &mut w)?;
                    from_old(json.clone(), &mut w)?;
                }
                Planned::Listed { entries, .. } => {
                    for (_, _, source) in entries {
                        match source {
                            Source::Reused { json, .. } => {
                                flush(&mut queue, &mut parse, &mut w)?;
                                from_old(json.clone(), &mut w)?;
                            }
                            Source::Parsed(i) => {
                                queue.push(*i);
                                if queue.len() == BATCH {
                                    flush(&mut queue, &mut parse, &mut w)?;
                                }
                            }
                        }
                    }
                }
            }
        }
        flush(&mut queue, &mut parse, &mut w)?;

        // The index.
        let mut index = Vec::new();
        for p in plan {
            match p {
                Planned::Folder { lines, .. } => index.extend_from_slice(lines),
                Planned::Listed {
                    path,
                    tree,
                    entries,
                } => {
                    let mut body = Vec::new();
                    let mut json = 0;
                    for (name, blob, source) in entries {
                        match source {
                            Source::Reused { line, json: range } => {
                                body.extend_from_slice(line);
                                body.push(b'\n');
                                json += range.end - range.start;
                            }
                            Source::Parsed(i) => {
                                let (summary, len) =
                                    parse[i].done.take().expect("every file was parsed");
                                json += len;
                                let (summary, error) = match summary {
                                    Ok(s) => (Some(s), None),
                                    Err(e) => (None, Some(e)),
                                };
                                push_line(
                                    &mut body,
                                    &EntryLine {
                                        name,
                                        blob: blob.to_string(),
                                        len,
                                        summary,
                                        error,
                                    },
                                )?;
                            }
                        }
                    }
                    let count = lines(&body).count();
                    push_line(
                        &mut index,
                        &FolderLine {
                            path,
                            tree: tree.to_string(),
                            entries: count,
                            json,
                        },
                    )?;
                    index.extend_from_slice(&body);
                }
            }
        }
        w.out.write_all(&index)?;
        w.out.flush()?;
        let header = Header {
            format: FORMAT.into(),
            ipr: env!("CARGO_PKG_VERSION").into(),
            json_len: w.len,
            json_crc: w.crc,
            index_len: index.len() as u64,
            index_crc: crc32c::crc32c(&index),
        };
        drop(w);
        let mut head = serde_json::to_vec(&header).map_err(|e| Error::other(e.to_string()))?;
        head.resize(HEADER_LEN as usize - 1, b' ');
        head.push(b'\n');
        cursor.seek(SeekFrom::Start(0))?;
        cursor.write_all(&head)?;
        Ok(())
    }
}

/// Append `value` to `out` as a JSON line.
fn push_line<T: Serialize>(out: &mut Vec<u8>, value: &T) -> Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(|e| Error::other(e.to_string()))?;
    out.push(b'\n');
    Ok(())
}
