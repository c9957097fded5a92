//! `summary.json`: the headline numbers of a run. Keys are snake_case and documented in
//! `traces/README.md` ("Outputs").

use super::jobs::{JobRecord, Outcome};
use crate::engine::{NotebookStats, RunOutput, Utilisation};
use alloc_core::{DataClass, TenantName};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Mean and nearest-rank percentiles of `values` (ms), or nulls when empty.
pub fn distribution(values: &mut [u64]) -> Value {
    if values.is_empty() {
        return json!({"count": 0, "mean": null, "p50": null, "p95": null, "p99": null});
    }
    values.sort_unstable();
    let rank = |p: f64| {
        let index = ((p / 100.0) * values.len() as f64).ceil() as usize;
        values[index.clamp(1, values.len()) - 1]
    };
    let mean = values.iter().map(|v| *v as f64).sum::<f64>() / values.len() as f64;
    json!({"count": values.len(), "mean": round(mean), "p50": rank(50.0), "p95": rank(95.0), "p99": rank(99.0)})
}

pub fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn ratio(part: usize, whole: usize) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!(round(part as f64 / whole as f64))
    }
}

/// Jain's index over tenants of each tenant's mean service rate (reference runtime ÷ job
/// completion time over its finished jobs): 1 when every tenant's jobs are slowed alike.
pub fn jain_over_tenants<'a>(records: impl IntoIterator<Item = &'a JobRecord>) -> Option<f64> {
    let mut rates: BTreeMap<&TenantName, (f64, u64)> = BTreeMap::new();
    for record in records {
        let (Some(jct), Outcome::Finished) = (record.completion(), record.outcome) else {
            continue;
        };
        let rate = record.job.runtime.0 as f64 / jct.0.max(1) as f64;
        let entry = rates.entry(&record.job.tenant).or_default();
        entry.0 += rate;
        entry.1 += 1;
    }
    let xs: Vec<f64> = rates.values().map(|(sum, n)| sum / *n as f64).collect();
    let sum: f64 = xs.iter().sum();
    let squares: f64 = xs.iter().map(|x| x * x).sum();
    (squares > 0.0).then(|| round(sum * sum / (xs.len() as f64 * squares)))
}

fn utilisation(u: &Utilisation) -> Value {
    let opt = |x: Option<f64>| x.map_or(Value::Null, |v| json!(round(v)));
    let mut clusters = Map::new();
    for (cluster, value) in &u.per_cluster {
        clusters.insert(cluster.to_string(), opt(*value));
    }
    json!({
        "per_tier": {"bronze": opt(u.per_tier[0]), "silver": opt(u.per_tier[1]), "gold": opt(u.per_tier[2])},
        "per_cluster": clusters,
    })
}

/// Notebook figures: cells by outcome, cell latency (queueing + cold start + restore, the
/// restore alone on a warm-pool slice, zero on a warm lease), and the GPU time sessions held, computed on, or left idle.
fn notebook(cells: &[&JobRecord], stats: &NotebookStats) -> Value {
    let count = |outcome: Outcome| cells.iter().filter(|r| r.outcome == outcome).count();
    let mut latency: Vec<u64> = cells.iter().filter_map(|r| r.wait()).map(|m| m.0).collect();
    let hours = |gpu_ms: u64| round(gpu_ms as f64 / 3_600_000.0);
    json!({
        "sessions": stats.sessions,
        "cells": {
            "total": cells.len(),
            "finished": count(Outcome::Finished),
            "rejected": count(Outcome::Rejected),
            "unfinished": count(Outcome::Unfinished),
        },
        "cold_starts": stats.cold_starts,
        "warm_starts": stats.warm_starts,
        "pool_starts": stats.pool_starts,
        "pool_slices": stats.pool_slices,
        "cell_latency_ms": distribution(&mut latency),
        "held_gpu_hours": hours(stats.held_gpu_ms),
        "busy_gpu_hours": hours(stats.busy_gpu_ms),
        "setup_gpu_hours": hours(stats.setup_gpu_ms),
        "idle_gpu_hours": round(stats.idle_gpu_hours()),
    })
}

/// Each tenant's billed public spend (provisioning, running and warm idle of the bursts of
/// its jobs) beside its budget, for every tenant that has either.
fn public_by_tenant(output: &RunOutput) -> Value {
    let mut tenants = Map::new();
    let names = output
        .public_budgets
        .keys()
        .chain(output.public_spend_by_tenant.keys());
    for tenant in names {
        let billed = output
            .public_spend_by_tenant
            .get(tenant)
            .map_or(0, |money| money.0);
        let budget = output.public_budgets.get(tenant).copied().flatten();
        tenants.insert(
            tenant.to_string(),
            json!({
                "billed": round(billed as f64 / 1e6),
                "budget": budget.map(|b| round(b.0 as f64 / 1e6)),
            }),
        );
    }
    Value::Object(tenants)
}

/// A GPU-count class for waits by size: its key in `summary.json`'s `wait_ms_by_gpus`, its
/// `compare.csv` columns, and the fewest and most whole GPUs its jobs ask for (a fraction
/// counts as one).
pub struct GpuClass {
    pub key: &'static str,
    pub p50_column: &'static str,
    pub p95_column: &'static str,
    pub fewest: u64,
    pub most: u64,
}

pub const GPU_CLASSES: [GpuClass; 5] = [
    GpuClass {
        key: "1",
        p50_column: "wait_p50_ms_gpus_1",
        p95_column: "wait_p95_ms_gpus_1",
        fewest: 0,
        most: 1,
    },
    GpuClass {
        key: "2",
        p50_column: "wait_p50_ms_gpus_2",
        p95_column: "wait_p95_ms_gpus_2",
        fewest: 2,
        most: 2,
    },
    GpuClass {
        key: "3-4",
        p50_column: "wait_p50_ms_gpus_3_4",
        p95_column: "wait_p95_ms_gpus_3_4",
        fewest: 3,
        most: 4,
    },
    GpuClass {
        key: "5-8",
        p50_column: "wait_p50_ms_gpus_5_8",
        p95_column: "wait_p95_ms_gpus_5_8",
        fewest: 5,
        most: 8,
    },
    GpuClass {
        key: "9+",
        p50_column: "wait_p50_ms_gpus_9plus",
        p95_column: "wait_p95_ms_gpus_9plus",
        fewest: 9,
        most: u64::MAX,
    },
];

/// Whole GPUs a job asks for, a fraction counted as one.
fn gpus_asked(record: &JobRecord) -> u64 {
    record.job.gpu.milli().0.div_ceil(1000)
}

/// Waits until first start of started batch jobs, per GPU-count class.
fn wait_by_gpus(records: &[&JobRecord]) -> Value {
    let mut out = Map::new();
    for class in GPU_CLASSES {
        let mut waits: Vec<u64> = records
            .iter()
            .filter(|r| (class.fewest..=class.most).contains(&gpus_asked(r)))
            .filter_map(|r| r.wait())
            .map(|m| m.0)
            .collect();
        out.insert(class.key.to_string(), distribution(&mut waits));
    }
    Value::Object(out)
}

pub fn summary(policy: &str, seed: u64, output: &RunOutput) -> Value {
    let (cells, batch): (Vec<&JobRecord>, Vec<&JobRecord>) =
        output.records.iter().partition(|r| r.session.is_some());
    let records = &batch[..];
    let count = |outcome: Outcome| records.iter().filter(|r| r.outcome == outcome).count();
    let finished: Vec<&JobRecord> = records
        .iter()
        .copied()
        .filter(|r| r.outcome == Outcome::Finished)
        .collect();
    let mut jct: Vec<u64> = finished
        .iter()
        .filter_map(|r| r.completion())
        .map(|m| m.0)
        .collect();
    let mut wait: Vec<u64> = records
        .iter()
        .filter_map(|r| r.wait())
        .map(|m| m.0)
        .collect();
    let with_deadline: Vec<bool> = records.iter().filter_map(|r| r.deadline_met()).collect();
    let met = with_deadline.iter().filter(|m| **m).count();
    // Notebook leases on public GPUs count too: the cells' share of them.
    let public_gpu_ms: u64 = output
        .records
        .iter()
        .filter(|r| r.public)
        .map(|r| r.gpu_ms)
        .sum();
    let public_cost = output.public_spend.0;
    // Cells lose the compute of a preempted lease; a lease's evictions are counted once, on
    // the lease, whichever cell (if any) it was running.
    let lost_gpu_ms: u64 = output.records.iter().map(|r| r.lost_gpu_ms).sum();
    let preemptions = records
        .iter()
        .map(|r| u64::from(r.preemptions))
        .sum::<u64>()
        + output.notebook.lease_preemptions;
    let most_evicted = records
        .iter()
        .map(|r| r.preemptions)
        .chain([output.notebook.lease_max_preemptions])
        .max()
        .unwrap_or(0);
    let mut summary = json!({
        "policy": policy,
        "seed": seed,
        "jobs": {
            "total": records.len(),
            "finished": count(Outcome::Finished),
            "rejected": count(Outcome::Rejected),
            "unfinished": count(Outcome::Unfinished),
        },
        "jct_ms": distribution(&mut jct),
        "wait_ms": distribution(&mut wait),
        "wait_ms_by_gpus": wait_by_gpus(records),
        "utilisation": utilisation(&output.utilisation),
        "jobs_with_deadline": with_deadline.len(),
        "deadline_met_ratio": ratio(met, with_deadline.len()),
        "deadline_misses": deadline_misses(records),
        "public_gpu_hours": round(public_gpu_ms as f64 / 3_600_000.0),
        "public_cost": round(public_cost as f64 / 1e6),
        "public_cost_by_tenant": public_by_tenant(output),
        "preemptions": preemptions,
        "max_preemptions_per_job": most_evicted,
        "interruptions": records.iter().map(|r| u64::from(r.interruptions)).sum::<u64>(),
        "lost_gpu_hours": round(lost_gpu_ms as f64 / 3_600_000.0),
        "sensitive_on_public": records.iter().filter(|r| r.public && r.job.data_class == DataClass::Sensitive).count(),
        "jain_fairness_tenants": jain_over_tenants(records.iter().copied()),
        "notebook": notebook(&cells, &output.notebook),
        "showback": super::costs::summary(&output.showback, output.private_gpu_hour_price),
        "end_ms": output.end.0,
        "events": output.events,
        "cycles": output.cycles,
    });
    // Named only when they happen, so that a run without them reads as it always did.
    if output.stuck > 0 {
        summary["jobs"]["stuck"] = json!(output.stuck);
    }
    if let Some(stopped) = &output.stopped {
        summary["stopped"] = json!(stopped);
    }
    summary
}

/// Missed deadlines per reason (`misses::CODES`, every code present, in that order).
fn deadline_misses(records: &[&JobRecord]) -> Value {
    let mut counts = Map::new();
    for code in super::misses::CODES {
        let n = records
            .iter()
            .filter(|r| r.deadline_miss() == Some(code))
            .count();
        counts.insert(code.to_string(), json!(n));
    }
    Value::Object(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut values: Vec<u64> = (1..=100).collect();
        let d = distribution(&mut values);
        assert_eq!(d["p50"], 50);
        assert_eq!(d["p95"], 95);
        assert_eq!(d["p99"], 99);
        assert_eq!(d["mean"], 50.5);
        assert_eq!(distribution(&mut [])["p50"], Value::Null);
    }
}
