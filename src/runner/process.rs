//! Running a child process for a runner: output streamed to the caller's
//! sink as it comes and kept (bounded) for the failure reason, with a timeout.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How much of a job's output a failure records.
pub const MAX_OUTPUT_BYTES: usize = 3500;
/// The most a recorded failure reason holds (a line of context + output).
/// Where a runner's output goes as it comes: `Some` copies each line to
/// the caller's sink with the config's secrets scrubbed; `None` keeps it
/// only for the failure reason.
pub type Echo = Option<Sink>;

/// A caller's output sink and the secrets to scrub from what reaches it.
#[derive(Clone)]
pub struct Sink {
    pub output: Arc<dyn crate::session::Output>,
    pub secrets: Arc<crate::secrets::Secrets>,
}

impl Sink {
    /// One line of a job's output, scrubbed.
    pub fn line(&self, line: &str) {
        self.output
            .line(&format!("  | {}", self.secrets.scrub(line)));
    }
}

pub const MAX_REASON_BYTES: usize = 4000;

/// A running child with its output collectors.
pub struct Job {
    child: Child,
    tail: Arc<Mutex<Tail>>,
    reader: JoinHandle<()>,
    started: Instant,
}

/// How a process ended.
pub struct Exit {
    pub success: bool,
    pub code: Option<i32>,
    pub timed_out: bool,
    /// The last lines of stdout and stderr, at most MAX_OUTPUT_BYTES.
    pub output: String,
}

/// The last MAX_OUTPUT_BYTES of output, cut at line boundaries.
#[derive(Default)]
struct Tail {
    lines: std::collections::VecDeque<String>,
    bytes: usize,
}

impl Tail {
    fn push(&mut self, line: String) {
        self.bytes += line.len() + 1;
        self.lines.push_back(line);
        while self.bytes > MAX_OUTPUT_BYTES && self.lines.len() > 1 {
            let old = self.lines.pop_front().expect("not empty");
            self.bytes -= old.len() + 1;
        }
    }
    fn text(&self) -> String {
        let mut s: Vec<&str> = self.lines.iter().map(String::as_str).collect();
        if let Some(last) = s.last_mut() {
            if last.len() > MAX_OUTPUT_BYTES {
                let mut cut = last.len() - MAX_OUTPUT_BYTES;
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
    /// Start `cmd` with stdout and stderr on one pipe (so their order is
    /// kept); `echo` copies the output to the caller's sink as it comes,
    /// with the secrets scrubbed.
    pub fn spawn(mut cmd: Command, echo: Echo) -> Result<Job> {
        let program = cmd.get_program().to_string_lossy().to_string();
        let (reader, writer) = std::io::pipe()?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer)
            .spawn()
            .map_err(|e| Error::other(format!("cannot run `{program}`: {e}")))?;
        // Our copies of the pipe's write end must close for the reader to end.
        drop(cmd);
        let tail = Arc::new(Mutex::new(Tail::default()));
        let sink = Arc::clone(&tail);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                if let Some(sink) = &echo {
                    sink.line(&line);
                }
                sink.lock().expect("no panics while locked").push(line);
            }
        });
        Ok(Job {
            child,
            tail,
            reader,
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
        // After a timeout a grandchild may still hold the pipe open: take
        // what was read so far rather than wait for it.
        if !timed_out {
            let _ = self.reader.join();
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
