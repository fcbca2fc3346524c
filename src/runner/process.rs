//! Running a child process for a runner: output streamed to stderr as it
//! comes and kept (bounded) for the failure reason, with a timeout.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How much of a job's output a failure records.
pub const MAX_REASON_BYTES: usize = 4000;

/// A running child with its output collectors.
pub struct Job {
    child: Child,
    tail: Arc<Mutex<Tail>>,
    readers: Vec<JoinHandle<()>>,
    started: Instant,
}

/// How a process ended.
pub struct Exit {
    pub success: bool,
    pub code: Option<i32>,
    pub timed_out: bool,
    /// The last lines of stdout and stderr, at most MAX_REASON_BYTES.
    pub output: String,
}

/// The last MAX_REASON_BYTES of output, cut at line boundaries.
#[derive(Default)]
struct Tail {
    lines: std::collections::VecDeque<String>,
    bytes: usize,
}

impl Tail {
    fn push(&mut self, line: String) {
        self.bytes += line.len() + 1;
        self.lines.push_back(line);
        while self.bytes > MAX_REASON_BYTES && self.lines.len() > 1 {
            let old = self.lines.pop_front().expect("not empty");
            self.bytes -= old.len() + 1;
        }
    }
    fn text(&self) -> String {
        let mut s: Vec<&str> = self.lines.iter().map(String::as_str).collect();
        if let Some(last) = s.last_mut() {
            if last.len() > MAX_REASON_BYTES {
                let mut cut = last.len() - MAX_REASON_BYTES;
                while !last.is_char_boundary(cut) {
                    cut += 1;
                }
                *last = &last[cut..];
            }
        }
        s.join("\n")
    }
}

impl Job {
    /// Start `cmd` with piped output; `echo` copies its output to stderr.
    pub fn spawn(mut cmd: Command, echo: bool) -> Result<Job> {
        let program = cmd.get_program().to_string_lossy().to_string();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::other(format!("cannot run `{program}`: {e}")))?;
        let tail = Arc::new(Mutex::new(Tail::default()));
        let mut readers = Vec::new();
        let out = child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>);
        let err = child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>);
        for stream in [out, err].into_iter().flatten() {
            let tail = Arc::clone(&tail);
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if echo {
                        eprintln!("  | {line}");
                    }
                    tail.lock().expect("no panics while locked").push(line);
                }
            }));
        }
        Ok(Job {
            child,
            tail,
            readers,
            started: Instant::now(),
        })
    }

    /// Wait for the process, killing it after `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Result<Exit> {
        let mut timed_out = false;
        let status = loop {
            if let Some(status) = self.child.try_wait()? {
                break status;
            }
            if self.started.elapsed() >= timeout {
                let _ = self.child.kill();
                timed_out = true;
                break self.child.wait()?;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let output = self.tail.lock().expect("no panics while locked").text();
        Ok(Exit {
            success: status.success() && !timed_out,
            code: status.code(),
            timed_out,
            output,
        })
    }
}

impl Exit {
    /// The failure reason a ticket records: what happened, then the output.
    pub fn reason(&self, what: &str, timeout: Duration) -> String {
        let head = if self.timed_out {
            format!(
                "{what} timed out after {} and was killed",
                humantime::format_duration(timeout)
            )
        } else {
            match self.code {
                Some(c) => format!("{what} exited with status {c}"),
                None => format!("{what} was killed by a signal"),
            }
        };
        if self.output.trim().is_empty() {
            head
        } else {
            format!("{head}:\n{}", self.output)
        }
    }
}
