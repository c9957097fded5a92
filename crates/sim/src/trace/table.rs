//! Reading a headed CSV file row by row, with every problem located as `path:line: field`.
//!
//! Cells are read as bytes and decoded per cell, so a stray non-UTF-8 byte or a row with the
//! wrong number of fields is one bad row (skippable), never a reason to give up on the file.

use crate::error::{Result, SimError};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// An open CSV file whose header has been read.
pub(crate) struct Table {
    path: PathBuf,
    names: Vec<String>,
    index: BTreeMap<String, usize>,
    reader: csv::Reader<File>,
}

impl Table {
    /// Opens `path` and reads its header (line 1). Empty or duplicate column names are refused.
    pub(crate) fn open(path: &Path) -> Result<Table> {
        let file = File::open(path).map_err(|e| SimError::io(path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            // Cells are trimmed here, not by the reader, so that a line break a stray quote
            // pulled into a cell stays visible (see `for_each_row`).
            .trim(csv::Trim::None)
            .from_reader(file);
        let header = reader
            .byte_headers()
            .map_err(|e| csv_error(path, e))?
            .clone();
        if header.is_empty() {
            return Err(bad_file(
                path,
                "the file is empty; a header row is required",
            ));
        }
        let mut names = Vec::with_capacity(header.len());
        let mut index = BTreeMap::new();
        for (position, raw) in header.iter().enumerate() {
            let name = std::str::from_utf8(raw)
                .map_err(|_| {
                    bad_file(path, format!("header column {} is not UTF-8", position + 1))
                })?
                .trim();
            if name.is_empty() {
                return Err(bad_file(
                    path,
                    format!("header column {} has no name", position + 1),
                ));
            }
            if index.insert(name.to_string(), position).is_some() {
                return Err(bad_file(
                    path,
                    format!("header names column {name:?} twice"),
                ));
            }
            names.push(name.to_string());
        }
        Ok(Table {
            path: path.to_path_buf(),
            names,
            index,
            reader,
        })
    }

    /// The file being read.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Column names in header order.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Fails with `BadFile` naming every column of `required` the header lacks.
    pub(crate) fn require(&self, required: &[&str], what: &str) -> Result<()> {
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|name| !self.has(name))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(self.bad_file(format!(
            "not {what}: header lacks column(s) {}; found {}",
            missing.join(", "),
            self.names.join(",")
        )))
    }

    /// A whole-file error for this table.
    pub(crate) fn bad_file(&self, reason: impl Into<String>) -> SimError {
        bad_file(&self.path, reason)
    }

    /// Calls `each` for every data row. A `BadRow` from `each` (or a row with the wrong number of
    /// fields) goes to `on_bad`, which returns `Err` to stop or `Ok` to carry on; any other error
    /// stops at once. Returns the number of data rows seen.
    pub(crate) fn for_each_row(
        mut self,
        mut each: impl FnMut(&Row<'_>) -> Result<()>,
        mut on_bad: impl FnMut(SimError) -> Result<()>,
    ) -> Result<u64> {
        let mut record = csv::ByteRecord::new();
        let mut rows = 0;
        while self
            .reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(&self.path, e))?
        {
            rows += 1;
            let row = Row {
                path: &self.path,
                index: &self.index,
                line: record.position().map_or(0, |position| position.line()),
                record: &record,
            };
            // No cell of these formats holds a line break: one that does ran past its line
            // inside quotes, whatever the field count says.
            let outcome = if let Some(column) = record
                .iter()
                .position(|cell| cell.contains(&b'\n') || cell.contains(&b'\r'))
            {
                Err(row.bad(
                    self.names.get(column).map_or("row", String::as_str),
                    "a quoted cell runs past the end of its line: a closing `\"` is missing \
                     (the quote opened on this line)",
                ))
            } else if record.len() == self.names.len() {
                each(&row)
            } else {
                Err(row.bad(
                    "row",
                    format!(
                        "expected {} fields as in the header, found {}",
                        self.names.len(),
                        record.len()
                    ),
                ))
            };
            match outcome {
                Ok(()) => {}
                Err(error @ SimError::BadRow { .. }) => on_bad(error)?,
                Err(other) => return Err(other),
            }
        }
        Ok(rows)
    }
}

/// One data row; cells are looked up by column name.
pub(crate) struct Row<'a> {
    path: &'a Path,
    index: &'a BTreeMap<String, usize>,
    line: u64,
    record: &'a csv::ByteRecord,
}

impl Row<'_> {
    /// 1-based line in the file (the header is line 1).
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// A `BadRow` error at this row.
    pub(crate) fn bad(&self, field: &str, reason: impl Into<String>) -> SimError {
        SimError::BadRow {
            path: self.path.to_path_buf(),
            line: self.line,
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    /// The trimmed cell, or `None` when the column is absent or the cell is empty.
    pub(crate) fn cell(&self, field: &str) -> Result<Option<&str>> {
        let Some(raw) = self
            .index
            .get(field)
            .and_then(|&position| self.record.get(position))
        else {
            return Ok(None);
        };
        let text = std::str::from_utf8(raw)
            .map_err(|_| self.bad(field, "the cell is not valid UTF-8"))?
            .trim();
        Ok((!text.is_empty()).then_some(text))
    }

    /// The cell, which must be present and non-empty.
    pub(crate) fn required(&self, field: &str) -> Result<&str> {
        self.cell(field)?
            .ok_or_else(|| self.bad(field, "a value is required, but the cell is empty"))
    }

    /// Parses an optional cell with `FromStr`; `expected` names the type for the error.
    pub(crate) fn parse_opt<T: FromStr>(&self, field: &str, expected: &str) -> Result<Option<T>> {
        self.convert_opt(field, |text| {
            text.parse::<T>()
                .map_err(|_| format!("expected {expected}, found {}", shown(text)))
        })
    }

    /// Parses a required cell with `FromStr`.
    pub(crate) fn parse<T: FromStr>(&self, field: &str, expected: &str) -> Result<T> {
        let text = self.required(field)?;
        text.parse::<T>()
            .map_err(|_| self.bad(field, format!("expected {expected}, found {}", shown(text))))
    }

    /// Converts an optional cell with `convert`, whose `Err` is the reason.
    pub(crate) fn convert_opt<T>(
        &self,
        field: &str,
        convert: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>> {
        match self.cell(field)? {
            None => Ok(None),
            Some(text) => convert(text)
                .map(Some)
                .map_err(|reason| self.bad(field, reason)),
        }
    }

    /// Converts a required cell with `convert`, whose `Err` is the reason.
    pub(crate) fn convert<T>(
        &self,
        field: &str,
        convert: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T> {
        let text = self.required(field)?;
        convert(text).map_err(|reason| self.bad(field, reason))
    }
}

/// A cell quoted for an error message, cut short so one huge cell cannot flood the terminal.
pub(crate) fn shown(text: &str) -> String {
    const LIMIT: usize = 40;
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{:?}...", &text[..end]),
        None => format!("{text:?}"),
    }
}

fn bad_file(path: &Path, reason: impl Into<String>) -> SimError {
    SimError::BadFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn csv_error(path: &Path, error: csv::Error) -> SimError {
    match error.into_kind() {
        csv::ErrorKind::Io(source) => SimError::io(path, source),
        other => bad_file(path, format!("unreadable CSV: {other:?}")),
    }
}
