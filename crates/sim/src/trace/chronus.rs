//! Importer for Chronus' Philly-derived deadline traces (`trace_job_Philly_{SLO,MIX1,MIX2}.csv`).
//! They are semi-synthetic (time-compressed, generated deadlines): a deadline scenario, not a
//! recorded replay.
//!
//! Mapping (source column → native column):
//! - `job_id` → `job_id` when the ids are unique over all inputs (true for one file); otherwise
//!   (several files, whose ids all run 0 … 30,939) every job is renumbered 0, 1, ... in input
//!   order (file order, then row order).
//! - `user` (a Philly VC, `vc_<hash>`) → `tenant` and `queue`, as for Philly itself.
//! - `num_gpu` → `gpus` (whole GPUs; `gpu_milli` = 1000).
//! - `spread` = true for jobs of more than one GPU (distributed training may span nodes).
//! - `submit_time` (s from trace start) → `submit_ms` (× 1000), clock kept as is.
//! - `duration` (s at full speed) → `runtime_ms` (× 1000).
//! - `job_type` → `min_tier` and `deadline_ms`:
//!   - `strict` (one hard deadline) → `gold`, `deadline_ms` = submit + `expect_time_list` × 1000;
//!   - `soft` (a utility ladder `t1-t2-…` worth `v1-v2-…`) → `silver`, `deadline_ms` = submit +
//!     `t1`, the last moment of full utility; the lower-utility steps cannot be represented;
//!   - `best` (best effort) → `bronze`, no deadline (`expect_time_list` is a placeholder).
//! - `best_effort` must agree with `job_type` (1 exactly for `best`); a row where they disagree
//!   is a bad row.
//!
//! Dropped (counted): rows with `num_gpu` = 0 (184–205 per file: training jobs with no GPUs);
//! rows whose first deadline is not after submission.
//! Ignored: `iterations`, `model_name` (generated; no per-model speed model here), `interval`
//! (Chronus does not use it for arrivals either), `expect_value_list` (utilities).

use super::collect::{Clock, Collector, Mapped};
use super::decimal::seconds_to_ms;
use super::table::{Row, Table};
use super::{ImportReport, Tier, TraceJob};
use crate::error::Result;
use std::path::PathBuf;

const REQUIRED: [&str; 8] = [
    "job_id",
    "user",
    "num_gpu",
    "submit_time",
    "duration",
    "expect_time_list",
    "best_effort",
    "job_type",
];

const NO_GPUS: &str = "num_gpu = 0";
const DEADLINE_NOT_AFTER_SUBMIT: &str = "deadline not after submit_time";

/// Imports Chronus trace files, concatenated in the order given.
pub fn import(inputs: &[PathBuf], skip_bad_rows: bool) -> Result<ImportReport> {
    let mut collector = Collector::new(skip_bad_rows);
    for path in inputs {
        let table = Table::open(path)?;
        table.require(&REQUIRED, "a Chronus trace (trace_job_Philly_*.csv)")?;
        collector.read(table, map_row)?;
    }
    collector.finish(Clock::Relative)
}

fn map_row(row: &Row<'_>) -> Result<Mapped> {
    let job_id: u64 = row.parse("job_id", "an unsigned integer")?;
    let vc = row.required("user")?;
    let gpus: u32 = row.parse("num_gpu", "an unsigned integer (GPUs)")?;
    let submit_ms = row.convert("submit_time", seconds_to_ms)?;
    let runtime_ms = row.convert("duration", seconds_to_ms)?;
    let tier = row.convert("job_type", job_class)?;
    let best_effort = row.convert("best_effort", |text| match text {
        "0" => Ok(false),
        "1" => Ok(true),
        other => Err(format!("expected 0 or 1, found {other:?}")),
    })?;
    if best_effort != (tier == Tier::Bronze) {
        return Err(row.bad(
            "best_effort",
            format!("{} contradicts the job_type", u8::from(best_effort)),
        ));
    }
    let relative_deadline = match tier {
        Tier::Bronze => None,
        Tier::Gold | Tier::Silver => {
            Some(row.convert("expect_time_list", |text| first_deadline(text, tier))?)
        }
    };
    if gpus == 0 {
        return Ok(Mapped::Dropped(NO_GPUS));
    }
    let mut job = TraceJob::new(0, submit_ms, runtime_ms);
    job.gpus = gpus;
    // Multi-GPU jobs in these clusters are distributed training: they may span nodes.
    job.spread = gpus > 1;
    job.tenant = vc.to_string();
    job.queue = vc.to_string();
    job.min_tier = tier;
    if let Some(relative) = relative_deadline {
        if relative == 0 {
            return Ok(Mapped::Dropped(DEADLINE_NOT_AFTER_SUBMIT));
        }
        let absolute = submit_ms
            .checked_add(relative)
            .ok_or_else(|| row.bad("expect_time_list", "submit_time + deadline overflows"))?;
        job.deadline_ms = Some(absolute);
    }
    Ok(Mapped::Job {
        source_id: Some(job_id),
        job: Box::new(job),
    })
}

/// `strict` → gold, `soft` → silver, `best` → bronze.
fn job_class(text: &str) -> Result<Tier, String> {
    match text {
        "strict" => Ok(Tier::Gold),
        "soft" => Ok(Tier::Silver),
        "best" => Ok(Tier::Bronze),
        other => Err(format!("expected strict, soft or best, found {other:?}")),
    }
}

/// The first deadline of a `-`-separated list of seconds after submission, in ms. Every step must
/// parse; a strict job has exactly one.
fn first_deadline(text: &str, tier: Tier) -> Result<u64, String> {
    let steps = text
        .split('-')
        .map(seconds_to_ms)
        .collect::<Result<Vec<u64>, String>>()?;
    match (tier, steps.as_slice()) {
        (Tier::Gold, [only]) => Ok(*only),
        (Tier::Gold, _) => Err(format!(
            "a strict job has exactly one deadline, found {text:?}"
        )),
        (_, [first, ..]) => Ok(*first),
        (_, []) => Err(format!(
            "expected deadlines in seconds separated by '-', found {text:?}"
        )),
    }
}
