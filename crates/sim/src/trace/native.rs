//! The native job-trace CSV: one row per job, integer units, every column documented in
//! `traces/README.md`. Optional columns may be left out of the header or left empty; both mean
//! the default. Unknown columns are refused so a misspelt column cannot silently fall back to a
//! default. What [`write_native`] accepts, [`read_native`] reads back identically.

use super::decimal::{format_scaled, parse_scaled, Excess};
use super::table::{shown, Row, Table};
use super::{BudgetKind, DataClass, Tier};
use crate::error::{Result, SimError};
use std::collections::BTreeMap;
use std::path::Path;

/// Native columns in the order [`write_native`] writes them.
pub const COLUMNS: [&str; 22] = [
    "job_id",
    "submit_ms",
    "tenant",
    "user",
    "queue",
    "gpus",
    "gpu_milli",
    "vram_mib",
    "spread",
    "cpu_milli",
    "memory_mib",
    "gpu_models",
    "min_tier",
    "priority",
    "runtime_ms",
    "deadline_ms",
    "budget_kind",
    "budget",
    "burstable",
    "data_class",
    "checkpoint_interval_ms",
    "restore_ms",
];

/// Columns every native file must have.
pub const REQUIRED: [&str; 3] = ["job_id", "submit_ms", "runtime_ms"];

/// Decimal places of the `budget` column: amounts are integer micro-units.
const BUDGET_DECIMALS: u32 = 6;

/// One job of a native trace. Times are ms since the trace start; sizes are integer units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceJob {
    /// Unique within a trace.
    pub job_id: u64,
    pub submit_ms: u64,
    pub tenant: String,
    pub user: String,
    /// LocalQueue name the job is submitted to.
    pub queue: String,
    /// Whole GPUs; 0 = a CPU-only job.
    pub gpus: u32,
    /// Milli-GPU per GPU, 1..=1000 when `gpus > 0`; below 1000 only with `gpus == 1` (a
    /// fraction). Ignored, but kept verbatim, when `gpus == 0`.
    pub gpu_milli: u32,
    /// Per-GPU VRAM the job needs, MiB; 0 = no explicit need.
    pub vram_mib: u64,
    /// Whole-GPU jobs: may the GPUs come from several nodes (distributed training)?
    pub spread: bool,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    /// Allowed GPU model names; empty = any model.
    pub gpu_models: Vec<String>,
    pub min_tier: Tier,
    pub priority: i32,
    /// Run time on the reference GPU, ms.
    pub runtime_ms: u64,
    /// Absolute deadline, ms since trace start, after `submit_ms`.
    pub deadline_ms: Option<u64>,
    pub budget_kind: BudgetKind,
    /// Budget in integer micro-units of currency; `None` = unlimited.
    pub budget: Option<i64>,
    pub burstable: bool,
    pub data_class: DataClass,
    /// `None` = the job never checkpoints.
    pub checkpoint_interval_ms: Option<u64>,
    pub restore_ms: u64,
}

impl TraceJob {
    /// A job with the required fields and every other field at its documented default.
    pub fn new(job_id: u64, submit_ms: u64, runtime_ms: u64) -> TraceJob {
        TraceJob {
            job_id,
            submit_ms,
            tenant: "default".to_string(),
            user: "default".to_string(),
            queue: "default".to_string(),
            gpus: 0,
            gpu_milli: 1000,
            vram_mib: 0,
            spread: false,
            cpu_milli: 1000,
            memory_mib: 4096,
            gpu_models: Vec::new(),
            min_tier: Tier::Bronze,
            priority: 0,
            runtime_ms,
            deadline_ms: None,
            budget_kind: BudgetKind::Flex,
            budget: None,
            burstable: false,
            data_class: DataClass::Internal,
            checkpoint_interval_ms: None,
            restore_ms: 0,
        }
    }

    /// Checks the rules that span fields; `Err((column, reason))` names the offending column.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.job_id > crate::limits::MAX_JOB_ID {
            return Err((
                "job_id",
                format!(
                    "{} is above the largest id, {} (ids are written as signed 64-bit \
                     integers)",
                    self.job_id,
                    crate::limits::MAX_JOB_ID
                ),
            ));
        }
        for (field, value) in [
            ("submit_ms", Some(self.submit_ms)),
            ("runtime_ms", Some(self.runtime_ms)),
            ("deadline_ms", self.deadline_ms),
            ("checkpoint_interval_ms", self.checkpoint_interval_ms),
            ("restore_ms", Some(self.restore_ms)),
        ] {
            if let Some(value) = value {
                crate::limits::ms(value).map_err(|reason| (field, reason))?;
            }
        }
        let milli = self.gpu_milli;
        if self.gpus > 0 && !(1..=1000).contains(&milli) {
            return Err((
                "gpu_milli",
                format!("expected 1..=1000 milli-GPU per GPU, found {milli}"),
            ));
        }
        if self.gpus == 0 && milli > 1000 {
            return Err((
                "gpu_milli",
                format!("expected at most 1000 milli-GPU, found {milli}"),
            ));
        }
        if self.gpus > 1 && milli < 1000 {
            let reason = format!(
                "a fraction ({milli} < 1000) needs gpus = 1, found gpus = {}",
                self.gpus
            );
            return Err(("gpu_milli", reason));
        }
        if let Some(deadline) = self
            .deadline_ms
            .filter(|&deadline| deadline <= self.submit_ms)
        {
            let reason = format!(
                "the deadline {deadline} must be after submit_ms {}",
                self.submit_ms
            );
            return Err(("deadline_ms", reason));
        }
        if let Some(budget) = self.budget.filter(|&budget| budget < 0) {
            return Err((
                "budget",
                format!(
                    "must not be negative, found {}",
                    format_scaled(budget, BUDGET_DECIMALS)
                ),
            ));
        }
        if self.checkpoint_interval_ms == Some(0) {
            return Err((
                "checkpoint_interval_ms",
                "must be positive; leave it empty for never".to_string(),
            ));
        }
        Ok(())
    }
}

/// Jobs read from a native file, and the rows skipped (only with `skip_bad_rows`).
#[derive(Debug, Default)]
pub struct ReadReport {
    /// Sorted by (submit_ms, job_id).
    pub jobs: Vec<TraceJob>,
    /// One error per skipped row, in file order.
    pub skipped: Vec<SimError>,
}

/// Reads a native trace. Without `skip_bad_rows` the first bad row is the error; with it, bad
/// rows (including duplicate ids after the first) are skipped and returned in `skipped`.
pub fn read_native(path: &Path, skip_bad_rows: bool) -> Result<ReadReport> {
    let table = Table::open(path)?;
    let unknown: Vec<&str> = table
        .names()
        .iter()
        .map(String::as_str)
        .filter(|name| !COLUMNS.contains(name))
        .collect();
    if !unknown.is_empty() {
        return Err(table.bad_file(format!(
            "unknown column(s) {}; native columns are {}",
            unknown.join(", "),
            COLUMNS.join(",")
        )));
    }
    table.require(&REQUIRED, "a native trace")?;

    let mut jobs = Vec::new();
    let mut skipped = Vec::new();
    let mut first_line_of: BTreeMap<u64, u64> = BTreeMap::new();
    table.for_each_row(
        |row| {
            let job = parse_row(row)?;
            if let Some(first) = first_line_of.get(&job.job_id) {
                return Err(row.bad(
                    "job_id",
                    format!("job id {} is already used on line {first}", job.job_id),
                ));
            }
            first_line_of.insert(job.job_id, row.line());
            jobs.push(job);
            Ok(())
        },
        |error| {
            if !skip_bad_rows {
                return Err(error);
            }
            skipped.push(error);
            Ok(())
        },
    )?;
    jobs.sort_by_key(|job| (job.submit_ms, job.job_id));
    Ok(ReadReport { jobs, skipped })
}

fn parse_row(row: &Row<'_>) -> Result<TraceJob> {
    let unsigned = "an unsigned integer";
    let mut job = TraceJob::new(
        row.parse("job_id", unsigned)?,
        row.parse("submit_ms", "an unsigned integer (ms)")?,
        row.parse("runtime_ms", "an unsigned integer (ms)")?,
    );
    for (field, target) in [
        ("tenant", &mut job.tenant),
        ("user", &mut job.user),
        ("queue", &mut job.queue),
    ] {
        if let Some(text) = row.cell(field)? {
            *target = text.to_string();
        }
    }
    job.gpus = row
        .parse_opt("gpus", "an unsigned integer (whole GPUs)")?
        .unwrap_or(0);
    job.gpu_milli = row
        .parse_opt("gpu_milli", "an integer 1..=1000 (milli-GPU)")?
        .unwrap_or(1000);
    job.vram_mib = row
        .parse_opt("vram_mib", "an unsigned integer (MiB)")?
        .unwrap_or(0);
    job.spread = row.convert_opt("spread", parse_bool)?.unwrap_or(false);
    job.cpu_milli = row
        .parse_opt("cpu_milli", "an unsigned integer (milli-CPU)")?
        .unwrap_or(1000);
    job.memory_mib = row
        .parse_opt("memory_mib", "an unsigned integer (MiB)")?
        .unwrap_or(4096);
    job.gpu_models = row
        .convert_opt("gpu_models", parse_models)?
        .unwrap_or_default();
    job.min_tier = row.convert_opt("min_tier", str::parse)?.unwrap_or_default();
    job.priority = row
        .parse_opt("priority", "a signed 32-bit integer")?
        .unwrap_or(0);
    job.deadline_ms = row.parse_opt("deadline_ms", "an unsigned integer (ms since trace start)")?;
    job.budget_kind = row
        .convert_opt("budget_kind", str::parse)?
        .unwrap_or_default();
    job.budget = row.convert_opt("budget", parse_budget)?;
    job.burstable = row.convert_opt("burstable", parse_bool)?.unwrap_or(false);
    job.data_class = row
        .convert_opt("data_class", str::parse)?
        .unwrap_or_default();
    job.checkpoint_interval_ms =
        row.parse_opt("checkpoint_interval_ms", "an unsigned integer (ms)")?;
    job.restore_ms = row
        .parse_opt("restore_ms", "an unsigned integer (ms)")?
        .unwrap_or(0);
    job.check()
        .map_err(|(field, reason)| row.bad(field, reason))?;
    Ok(job)
}

fn parse_models(text: &str) -> Result<Vec<String>, String> {
    let models: Vec<String> = text
        .split('|')
        .map(|model| model.trim().to_string())
        .collect();
    if models.iter().any(String::is_empty) {
        return Err(format!(
            "expected GPU model names separated by '|', found an empty name in {}",
            shown(text)
        ));
    }
    Ok(models)
}

fn parse_budget(text: &str) -> Result<i64, String> {
    let micros = parse_scaled(text, BUDGET_DECIMALS, Excess::Reject)?;
    i64::try_from(micros).map_err(|_| format!("{} is too large", shown(text)))
}

fn parse_bool(text: &str) -> Result<bool, String> {
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(format!("expected true or false, found {}", shown(text)))
    }
}

/// Writes `jobs` with every column, in [`COLUMNS`] order, sorted by (submit_ms, job_id).
/// Refuses (as `BadFile`, naming the job) anything [`read_native`] would not read back
/// identically: broken field rules, duplicate ids, names that are empty or padded with spaces.
pub fn write_native(path: &Path, jobs: &[TraceJob]) -> Result<()> {
    let mut sorted: Vec<&TraceJob> = jobs.iter().collect();
    sorted.sort_by_key(|job| (job.submit_ms, job.job_id));
    let mut seen = std::collections::BTreeSet::new();
    for job in &sorted {
        let refuse = |field: &str, reason: String| SimError::BadFile {
            path: path.to_path_buf(),
            reason: format!("job {}: {field}: {reason}", job.job_id),
        };
        if !seen.insert(job.job_id) {
            return Err(refuse("job_id", "the id is used twice".to_string()));
        }
        job.check()
            .map_err(|(field, reason)| refuse(field, reason))?;
        check_names(job).map_err(|(field, reason)| refuse(field, reason))?;
    }
    let io = |error: csv::Error| match error.into_kind() {
        csv::ErrorKind::Io(source) => SimError::io(path, source),
        other => SimError::io(path, std::io::Error::other(format!("{other:?}"))),
    };
    let mut writer = csv::Writer::from_path(path).map_err(io)?;
    writer.write_record(COLUMNS).map_err(io)?;
    for job in sorted {
        writer.write_record(cells(job)).map_err(io)?;
    }
    writer.flush().map_err(|e| SimError::io(path, e))
}

/// Names must survive the reader's trimming and the `|` split unchanged.
fn check_names(job: &TraceJob) -> Result<(), (&'static str, String)> {
    let padded = |name: &str| name.is_empty() || name.trim() != name;
    for (field, name) in [
        ("tenant", &job.tenant),
        ("user", &job.user),
        ("queue", &job.queue),
    ] {
        if padded(name) {
            return Err((
                field,
                format!("{name:?} is empty or has surrounding spaces"),
            ));
        }
    }
    if let Some(model) = job
        .gpu_models
        .iter()
        .find(|model| padded(model) || model.contains('|'))
    {
        return Err((
            "gpu_models",
            format!("{model:?} is empty, padded, or contains '|'"),
        ));
    }
    Ok(())
}

fn cells(job: &TraceJob) -> [String; 22] {
    let optional = |value: Option<u64>| value.map(|v| v.to_string()).unwrap_or_default();
    [
        job.job_id.to_string(),
        job.submit_ms.to_string(),
        job.tenant.clone(),
        job.user.clone(),
        job.queue.clone(),
        job.gpus.to_string(),
        job.gpu_milli.to_string(),
        job.vram_mib.to_string(),
        job.spread.to_string(),
        job.cpu_milli.to_string(),
        job.memory_mib.to_string(),
        job.gpu_models.join("|"),
        job.min_tier.to_string(),
        job.priority.to_string(),
        job.runtime_ms.to_string(),
        optional(job.deadline_ms),
        job.budget_kind.to_string(),
        job.budget
            .map(|micros| format_scaled(micros, BUDGET_DECIMALS))
            .unwrap_or_default(),
        job.burstable.to_string(),
        job.data_class.to_string(),
        optional(job.checkpoint_interval_ms),
        job.restore_ms.to_string(),
    ]
}
