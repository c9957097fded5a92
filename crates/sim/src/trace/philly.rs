//! Importer for the Microsoft Philly job list as shipped by Pollux (`philly.csv`): one row per
//! job, columns `timestamp,duration,num_gpus,gpu_time,cluster`.
//!
//! Mapping (source column → native column):
//! - `timestamp` (wall clock `YYYY-MM-DD HH:MM:SS`, no zone) → `submit_ms`, shifted so the
//!   earliest submission is 0. Times are taken as written (no daylight-saving correction: the
//!   source gives no zone).
//! - `duration` (s, decimal) → `runtime_ms` (× 1000, sub-millisecond digits rounded half up).
//! - `num_gpus` → `gpus` (whole GPUs; Philly has no fractions, so `gpu_milli` = 1000).
//! - `spread` = true for jobs of more than one GPU (distributed training may span nodes).
//! - `cluster` (the virtual cluster, VC) → `tenant` and `queue`: each VC is a tenant with its
//!   own LocalQueue, which is how Philly shares GPUs.
//! - `job_id`: the file has no ids, so jobs are numbered 0, 1, ... in input order (file order,
//!   then row order) before sorting by submission.
//! - Everything else keeps its native default (user `default`, no deadline, no budget, ...).
//!
//! Dropped (counted): rows with `num_gpus` = 0 (a GPU job list entry without GPUs).
//! Ignored: `gpu_time` (= duration × num_gpus, redundant).
//! Refused (`BadFile`): Pollux's `workloads/workload-N.csv`. They have no run time column
//! (Pollux derives run time from its application models), so they cannot become native jobs.

use super::collect::{has_all, Clock, Collector, Mapped};
use super::decimal::{seconds_to_ms, wall_clock_ms};
use super::table::{Row, Table};
use super::{ImportReport, TraceJob};
use crate::error::Result;
use std::path::PathBuf;

const REQUIRED: [&str; 4] = ["timestamp", "duration", "num_gpus", "cluster"];
const POLLUX_WORKLOAD: [&str; 3] = ["time", "application", "num_replicas"];

const NO_GPUS: &str = "num_gpus = 0";

/// Imports Philly job lists, concatenated in the order given.
pub fn import(inputs: &[PathBuf], skip_bad_rows: bool) -> Result<ImportReport> {
    let mut collector = Collector::new(skip_bad_rows);
    for path in inputs {
        let table = Table::open(path)?;
        if has_all(&table, &POLLUX_WORKLOAD) && !table.has("duration") {
            return Err(table.bad_file(
                "a Pollux workload file (name,time,application,num_replicas,batch_size) has no run \
                 times, so it cannot be imported; import philly.csv instead",
            ));
        }
        table.require(&REQUIRED, "a Philly job list (philly.csv)")?;
        collector.read(table, map_row)?;
    }
    collector.finish(Clock::WallClock)
}

fn map_row(row: &Row<'_>) -> Result<Mapped> {
    let submit_ms = row.convert("timestamp", wall_clock_ms)?;
    let runtime_ms = row.convert("duration", seconds_to_ms)?;
    let gpus: u32 = row.parse("num_gpus", "an unsigned integer (GPUs)")?;
    let vc = row.required("cluster")?;
    if gpus == 0 {
        return Ok(Mapped::Dropped(NO_GPUS));
    }
    let mut job = TraceJob::new(0, submit_ms, runtime_ms);
    job.gpus = gpus;
    // Multi-GPU jobs in these clusters are distributed training: they may span nodes.
    job.spread = gpus > 1;
    job.tenant = vc.to_string();
    job.queue = vc.to_string();
    Ok(Mapped::Job {
        source_id: None,
        job: Box::new(job),
    })
}
