//! The part every importer shares: read rows, account for each one (imported, dropped for a
//! reason, or skipped as bad), then give the jobs unique ids, a common clock and a stable order.

use super::table::{Row, Table};
use super::{ImportReport, TraceJob};
use crate::error::{Result, SimError};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What an importer made of one well-formed source row.
pub(crate) enum Mapped {
    /// A job, and the source's numeric id when it has one (kept if unique over all inputs).
    Job {
        source_id: Option<u64>,
        job: Box<TraceJob>,
    },
    /// The native format cannot represent this row; the reason is counted in the report.
    Dropped(&'static str),
}

/// How the source's times relate to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clock {
    /// Already offsets from a trace start: kept as they are.
    Relative,
    /// Wall-clock instants: shifted so that the earliest submission is at 0.
    WallClock,
}

/// Accumulates rows across the input files of one import.
pub(crate) struct Collector {
    skip_bad_rows: bool,
    drafts: Vec<Draft>,
    /// The files read, in order; a draft names its file by index.
    files: Vec<PathBuf>,
    report: ImportReport,
}

/// A mapped row, and where it came from (its job is checked once the clock is known).
struct Draft {
    source_id: Option<u64>,
    job: TraceJob,
    file: usize,
    line: u64,
}

impl Collector {
    pub(crate) fn new(skip_bad_rows: bool) -> Collector {
        Collector {
            skip_bad_rows,
            drafts: Vec::new(),
            files: Vec::new(),
            report: ImportReport::default(),
        }
    }

    /// Maps every row of `table` with `map`. A bad row stops the import unless rows may be
    /// skipped, in which case it is counted (and the first few kept for the report).
    pub(crate) fn read(
        &mut self,
        table: Table,
        mut map: impl FnMut(&Row<'_>) -> Result<Mapped>,
    ) -> Result<()> {
        let Collector {
            skip_bad_rows,
            drafts,
            files,
            report,
        } = self;
        let file = files.len();
        files.push(table.path().to_path_buf());
        let mut skipped = 0;
        let mut first_bad = Vec::new();
        let rows = table.for_each_row(
            |row| {
                match map(row)? {
                    Mapped::Job { source_id, job } => {
                        if let Some(id) = source_id.filter(|&id| id > crate::limits::MAX_JOB_ID) {
                            return Err(row.bad(
                                "job_id",
                                format!(
                                    "{id} is above the largest id, {}",
                                    crate::limits::MAX_JOB_ID
                                ),
                            ));
                        }
                        drafts.push(Draft {
                            source_id,
                            job: *job,
                            file,
                            line: row.line(),
                        })
                    }
                    Mapped::Dropped(reason) => {
                        *report.dropped.entry(reason.to_string()).or_insert(0) += 1
                    }
                }
                Ok(())
            },
            |error| {
                if !*skip_bad_rows {
                    return Err(error);
                }
                skipped += 1;
                if first_bad.len() < ImportReport::KEPT_ERRORS {
                    first_bad.push(error);
                }
                Ok(())
            },
        )?;
        report.rows_read += rows;
        report.skipped_bad += skipped;
        let room = ImportReport::KEPT_ERRORS.saturating_sub(report.first_bad.len());
        report.first_bad.extend(first_bad.into_iter().take(room));
        Ok(())
    }

    /// Assigns ids, normalises the clock and sorts by (submit_ms, job_id).
    ///
    /// Ids: the source ids when every row had one and none repeats across all inputs;
    /// otherwise every job is renumbered 0, 1, 2, ... in input order (file order, then row
    /// order), so the result never depends on the values of ids that were not usable.
    pub(crate) fn finish(self, clock: Clock) -> Result<ImportReport> {
        let Collector {
            skip_bad_rows,
            mut drafts,
            files,
            mut report,
        } = self;
        if clock == Clock::WallClock {
            let start = drafts.iter().map(|d| d.job.submit_ms).min().unwrap_or(0);
            for Draft { job, .. } in &mut drafts {
                job.submit_ms -= start;
                job.deadline_ms = job
                    .deadline_ms
                    .map(|deadline| deadline.saturating_sub(start));
            }
        }
        // Each job is checked as the native reader would check it (times within the limits
        // included), so a row that could not be written is a bad row naming its line.
        let mut checked = Vec::with_capacity(drafts.len());
        for draft in drafts {
            match draft.job.check() {
                Ok(()) => checked.push(draft),
                Err((field, reason)) => {
                    let error = SimError::BadRow {
                        path: files.get(draft.file).cloned().unwrap_or_default(),
                        line: draft.line,
                        field: field.to_string(),
                        reason,
                    };
                    if !skip_bad_rows {
                        return Err(error);
                    }
                    report.skipped_bad += 1;
                    if report.first_bad.len() < ImportReport::KEPT_ERRORS {
                        report.first_bad.push(error);
                    }
                }
            }
        }
        let mut seen = BTreeSet::new();
        let keep_ids = checked
            .iter()
            .all(|draft| draft.source_id.is_some_and(|id| seen.insert(id)));
        let mut jobs: Vec<TraceJob> = checked
            .into_iter()
            .zip(0u64..)
            .map(|(draft, position)| {
                let mut job = draft.job;
                job.job_id = if keep_ids {
                    draft.source_id.unwrap_or(position)
                } else {
                    position
                };
                job
            })
            .collect();
        jobs.sort_by_key(|job| (job.submit_ms, job.job_id));
        report.jobs = jobs;
        Ok(report)
    }
}

/// Whether the header names a column (for picking between a source's schema variants).
pub(crate) fn has_all(table: &Table, columns: &[&str]) -> bool {
    columns.iter().all(|column| table.has(column))
}
