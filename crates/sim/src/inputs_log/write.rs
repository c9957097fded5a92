//! Writing an inputs log: one JSON line per record, buffered.

use crate::error::{Result, SimError};
use alloc_core::inputs_log::{Start, Written};
use alloc_core::{Decision, Input, Time};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An inputs log being written. A write that fails is kept and reported, with the file's
/// path, by [`InputsLog::take_error`] or [`InputsLog::finish`]; nothing is written after it.
pub struct InputsLog {
    path: PathBuf,
    out: BufWriter<File>,
    error: Option<std::io::Error>,
    failed: bool,
}

impl InputsLog {
    /// Creates (or truncates) the file.
    pub fn create(path: &Path) -> Result<InputsLog> {
        let file = File::create(path).map_err(|e| SimError::io(path, e))?;
        Ok(InputsLog {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 16, file),
            error: None,
            failed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The start record: how the scheduler was built.
    pub fn start(&mut self, start: &Start) {
        self.line(&Written::Start(Box::new(start.clone())));
    }

    /// An input, as it is sent to the core.
    pub fn input(&mut self, input: &Input) {
        self.line(&Written::input(input));
    }

    /// A cycle at `now` and the decisions it returned.
    pub fn cycle(&mut self, now: Time, decisions: &[Decision]) {
        self.line(&Written::cycle(now, decisions));
    }

    fn line(&mut self, record: &impl Serialize) {
        if self.failed {
            return;
        }
        let written = serde_json::to_writer(&mut self.out, record)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(error) = written {
            self.error = Some(error);
            self.failed = true;
        }
    }

    /// The write that failed, once.
    pub fn take_error(&mut self) -> Option<SimError> {
        let error = self.error.take()?;
        Some(SimError::io(&self.path, error))
    }

    /// Writes out what is buffered; the first error of any write, naming the file.
    pub fn finish(mut self) -> Result<()> {
        if let Some(error) = self.take_error() {
            return Err(error);
        }
        self.out.flush().map_err(|e| SimError::io(&self.path, e))
    }
}
