//! Importer for Alibaba's GPU-sharing trace (cluster-trace-gpu-v2023, "openb"),
//! `openb_pod_list_*.csv`: one row per Kubernetes pod (task).
//!
//! Mapping (source column → native column):
//! - `name` (`openb-pod-NNNN`) → `job_id` = NNNN when every row's name ends in a number and the
//!   numbers are unique over all inputs; otherwise all jobs are renumbered 0, 1, ... in input
//!   order (this happens when several pod lists are concatenated, as their names repeat).
//! - `creation_time` (s from trace start) → `submit_ms` (× 1000). The clock is kept as is.
//! - `deletion_time − scheduled_time` (s) → `runtime_ms`: the time the pod held its node. The
//!   queueing delay before `scheduled_time` is left out because the simulator produces its own.
//!   Pods still `Running` at the trace end have `deletion_time` = trace end, so their run time is
//!   a lower bound (censored); they are kept because they are most of the packing workload.
//! - `num_gpu` → `gpus`; `gpu_milli` → `gpu_milli` for single-GPU pods (a fraction below 1000);
//!   CPU-only pods get the neutral 1000, multi-GPU pods must say 1000.
//! - `cpu_milli` → `cpu_milli`, `memory_mib` → `memory_mib` (same units).
//! - `gpu_spec` (`|`-separated models) → `gpu_models`.
//! - `qos` → `priority`: `LS` and `Guaranteed` 1, `Burstable` 0, `BE` −1 (an ordering hint: the
//!   classes rank latency-sensitive work above best-effort work; absent column → 0).
//! - tenant, user and queue stay `default`: the trace has no owner field.
//!
//! Dropped (counted by reason): pods never scheduled (`scheduled_time` empty, phase `Pending`),
//! whose run time is unknown, and pods whose `deletion_time` precedes `scheduled_time`.
//! Ignored: `pod_phase` (the outcome, which the simulator decides itself).
//! Refused (`BadFile`): `openb_pod_list_multigpu*.csv`, which have no time columns at all; they
//! are static packing lists for `sim pack`.

use super::collect::{Clock, Collector, Mapped};
use super::decimal::seconds_to_ms;
use super::table::{Row, Table};
use super::{ImportReport, TraceJob};
use crate::error::Result;
use std::path::PathBuf;

const REQUIRED: [&str; 8] = [
    "name",
    "cpu_milli",
    "memory_mib",
    "num_gpu",
    "gpu_milli",
    "creation_time",
    "deletion_time",
    "scheduled_time",
];

const NEVER_SCHEDULED: &str = "never scheduled (Pending): run time unknown";
const DELETED_BEFORE_SCHEDULED: &str = "deletion_time before scheduled_time";

/// Imports openb pod lists, concatenated in the order given.
pub fn import(inputs: &[PathBuf], skip_bad_rows: bool) -> Result<ImportReport> {
    let mut collector = Collector::new(skip_bad_rows);
    for path in inputs {
        let table = Table::open(path)?;
        if !table.has("creation_time") && table.has("num_gpu") {
            return Err(table.bad_file(
                "this openb pod list has no creation/deletion/scheduled times (a static packing \
                 list such as openb_pod_list_multigpu*.csv); use `sim pack` for it",
            ));
        }
        table.require(&REQUIRED, "an openb pod list")?;
        collector.read(table, map_row)?;
    }
    collector.finish(Clock::Relative)
}

fn map_row(row: &Row<'_>) -> Result<Mapped> {
    let name = row.required("name")?;
    let source_id = name
        .rsplit('-')
        .next()
        .and_then(|suffix| suffix.parse::<u64>().ok());
    let submit_ms = row.convert("creation_time", seconds_to_ms)?;
    let deletion_ms = row.convert("deletion_time", seconds_to_ms)?;
    let gpus: u32 = row.parse("num_gpu", "an unsigned integer (GPUs)")?;
    let gpu_milli: u32 = row.parse("gpu_milli", "an unsigned integer (milli-GPU)")?;
    let mut job = TraceJob::new(0, submit_ms, 0);
    job.gpus = gpus;
    job.gpu_milli = match gpus {
        0 => 1000,
        1 if (1..=1000).contains(&gpu_milli) => gpu_milli,
        1 => {
            return Err(row.bad(
                "gpu_milli",
                format!("expected 1..=1000 for a single-GPU pod, found {gpu_milli}"),
            ))
        }
        _ if gpu_milli == 1000 => 1000,
        _ => {
            let reason = format!("expected 1000 for a {gpus}-GPU pod (fractions need num_gpu = 1), found {gpu_milli}");
            return Err(row.bad("gpu_milli", reason));
        }
    };
    job.cpu_milli = row.parse("cpu_milli", "an unsigned integer (milli-CPU)")?;
    job.memory_mib = row.parse("memory_mib", "an unsigned integer (MiB)")?;
    if let Some(spec) = row.cell("gpu_spec")? {
        job.gpu_models = spec
            .split('|')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect();
    }
    job.priority = row.convert_opt("qos", qos_priority)?.unwrap_or(0);
    let Some(scheduled_ms) = row.convert_opt("scheduled_time", seconds_to_ms)? else {
        return Ok(Mapped::Dropped(NEVER_SCHEDULED));
    };
    if scheduled_ms < submit_ms {
        return Err(row.bad(
            "scheduled_time",
            format!(
                "the pod is scheduled ({scheduled_ms} ms) before it was created \
                 (creation_time {submit_ms} ms)"
            ),
        ));
    }
    let Some(runtime_ms) = deletion_ms.checked_sub(scheduled_ms) else {
        return Ok(Mapped::Dropped(DELETED_BEFORE_SCHEDULED));
    };
    job.runtime_ms = runtime_ms;
    Ok(Mapped::Job {
        source_id,
        job: Box::new(job),
    })
}

fn qos_priority(qos: &str) -> Result<i32, String> {
    match qos {
        "LS" | "Guaranteed" => Ok(1),
        "Burstable" => Ok(0),
        "BE" => Ok(-1),
        other => Err(format!(
            "expected a QoS class (LS|BE|Burstable|Guaranteed), found {other:?}"
        )),
    }
}
