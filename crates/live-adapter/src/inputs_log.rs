//! `--inputs-log FILE`: the core's inputs and decisions as JSON lines, in the sim's format
//! (alloc-core's [`LogRecord`](alloc_core::LogRecord)), so that `sim replay-inputs FILE`
//! replays a day of a live cluster through the core and compares its decisions.
//!
//! One difference from the sim: an input the core refuses (a quota reservation for a job the
//! core already admitted while our write is on its way, a removal of an object a running job
//! still uses) is not logged. A refused input changes nothing in the core, so the log replays
//! the same, and a replay does not stop at it.

use alloc_core::inputs_log::{Start, Written};
use alloc_core::{Decision, Input, Time};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An inputs log being written; flushed after every cycle, so a crash loses at most the
/// inputs since the last one.
pub struct InputsLog {
    path: PathBuf,
    out: Box<dyn Write + Send>,
    failed: Option<std::io::Error>,
}

impl std::fmt::Debug for InputsLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputsLog")
            .field("path", &self.path)
            .finish()
    }
}

impl InputsLog {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> std::io::Result<InputsLog> {
        let file = File::create(path)?;
        Ok(InputsLog::to_writer(
            path,
            BufWriter::with_capacity(1 << 16, file),
        ))
    }

    /// A log written to `out` (tests write to memory), named `path` in errors.
    pub fn to_writer(path: &Path, out: impl Write + Send + 'static) -> InputsLog {
        InputsLog {
            path: path.to_path_buf(),
            out: Box::new(out),
            failed: None,
        }
    }

    /// The start record.
    pub fn start(&mut self, start: &Start) {
        self.line(&Written::Start(Box::new(start.clone())));
    }

    /// An input the core accepted.
    pub fn input(&mut self, input: &Input) {
        self.line(&Written::input(input));
    }

    /// A cycle and its changes; flushes.
    pub fn cycle(&mut self, now: Time, decisions: &[Decision]) {
        self.line(&Written::cycle(now, decisions));
        if self.failed.is_none() {
            if let Err(error) = self.out.flush() {
                self.failed = Some(error);
            }
        }
    }

    /// The first write that failed, with the file's path; nothing is written after it.
    pub fn error(&self) -> Option<String> {
        self.failed
            .as_ref()
            .map(|error| format!("{}: {error}", self.path.display()))
    }

    fn line(&mut self, record: &impl Serialize) {
        if self.failed.is_some() {
            return;
        }
        let written = serde_json::to_writer(&mut self.out, record)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(error) = written {
            self.failed = Some(error);
        }
    }
}
