//! Importer for Microsoft ITP job traces published with ElasticFlow: the recorded
//! `raw-traces/clusterNN.csv` (`job_id,submission_time,duration,num_gpu`) and the
//! `elasticflow-traces/clusterNN.csv` / `195job.csv` files, which add generated
//! `num_iteration,model_name,deadline,batch_size`. Both shapes are recognised by their header.
//!
//! Mapping (source column → native column):
//! - `job_id` (a UUID) → dropped; jobs are numbered 0, 1, ... in input order (file order, then
//!   row order) before sorting by submission.
//! - `submission_time` (s from the start of collection) → `submit_ms` (× 1000). The clock is kept
//!   as is, so concatenated clusters share one clock starting at collection start.
//! - `duration` (s) → `runtime_ms` (× 1000).
//! - `num_gpu` → `gpus` (whole GPUs; `gpu_milli` = 1000).
//! - `spread` = true for jobs of more than one GPU (distributed training may span nodes).
//! - the file name without extension (`cluster04`) → `tenant` and `queue`: each ITP cluster
//!   becomes a tenant with its own LocalQueue, so per-cluster load stays visible.
//! - `deadline` (s, absolute, same clock; ElasticFlow files only) → `deadline_ms` (× 1000) and
//!   `min_tier` = `gold`: ElasticFlow treats every deadline as hard, the same class as Chronus'
//!   `strict` jobs. An empty `deadline` cell (or the raw files) gives no deadline and `bronze`.
//!
//! Dropped (counted): rows with `num_gpu` = 0; rows whose deadline is not after submission
//! (the native format requires `deadline_ms > submit_ms`).
//! Ignored: `num_iteration`, `model_name`, `batch_size` (generated; the simulator has no
//! per-model speed model for them).
//! Do not pass a raw file and its ElasticFlow twin together: they hold the same jobs.

use super::collect::{Clock, Collector, Mapped};
use super::decimal::seconds_to_ms;
use super::table::{Row, Table};
use super::{ImportReport, Tier, TraceJob};
use crate::error::Result;
use std::path::PathBuf;

const REQUIRED: [&str; 4] = ["job_id", "submission_time", "duration", "num_gpu"];

const NO_GPUS: &str = "num_gpu = 0";
const DEADLINE_NOT_AFTER_SUBMIT: &str = "deadline not after submission_time";

/// Imports ITP cluster files (raw or ElasticFlow), concatenated in the order given.
pub fn import(inputs: &[PathBuf], skip_bad_rows: bool) -> Result<ImportReport> {
    let mut collector = Collector::new(skip_bad_rows);
    for path in inputs {
        let table = Table::open(path)?;
        table.require(&REQUIRED, "an ITP trace (raw-traces or elasticflow-traces)")?;
        let cluster = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        collector.read(table, |row| map_row(row, &cluster))?;
    }
    collector.finish(Clock::Relative)
}

fn map_row(row: &Row<'_>, cluster: &str) -> Result<Mapped> {
    row.required("job_id")?;
    let submit_ms = row.convert("submission_time", seconds_to_ms)?;
    let runtime_ms = row.convert("duration", seconds_to_ms)?;
    let gpus: u32 = row.parse("num_gpu", "an unsigned integer (GPUs)")?;
    let deadline_ms = row.convert_opt("deadline", seconds_to_ms)?;
    if gpus == 0 {
        return Ok(Mapped::Dropped(NO_GPUS));
    }
    let mut job = TraceJob::new(0, submit_ms, runtime_ms);
    job.gpus = gpus;
    // Multi-GPU jobs in these clusters are distributed training: they may span nodes.
    job.spread = gpus > 1;
    job.tenant = cluster.to_string();
    job.queue = cluster.to_string();
    if let Some(deadline_ms) = deadline_ms {
        if deadline_ms <= submit_ms {
            return Ok(Mapped::Dropped(DEADLINE_NOT_AFTER_SUBMIT));
        }
        job.deadline_ms = Some(deadline_ms);
        job.min_tier = Tier::Gold;
    }
    Ok(Mapped::Job {
        source_id: None,
        job: Box::new(job),
    })
}
