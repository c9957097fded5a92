//! `sim sweep`: how wall time and memory grow with the workload. Each size runs a synthetic
//! workload on a fleet scaled with it, in a child process of its own so that peak RSS belongs
//! to that size alone; the parent fits the growth exponent of wall time over job count.
//!
//! Load. The synthetic mix (`workload::synthetic`) asks on average for ≈129 GPU-minutes per
//! job: 40% MPS fractions of 0.5 GPU on average × a log-normal 20 min median, σ 0.8 (mean
//! 27.5 min) = 5.5; 60% whole-GPU jobs of 1.25 GPUs on average per job of the mix (40% one,
//! 15% two to four, 5% eight) × a log-normal 60 min median, σ 1 (mean 98.9 min) = 123.6. A
//! department fleet (56 GPUs) at 70% load then takes one job every 129.1 / (0.7 × 56) ≈ 3.3
//! minutes; `k` copies of it take one every 197.6 s / k. Sizes use k = ⌈jobs / 2000⌉, so every
//! size simulates about the same span (≈ 4.6 days) on a fleet that grows with it.

use crate::engine::{Engine, EngineOptions};
use crate::error::{Result, SimError};
use crate::fleet::FleetFile;
use crate::record::jobs::JobRecord;
use crate::rng::Seed;
use crate::scenario::baseline::baseline;
use crate::workload::synthetic::{generate, SyntheticSpec};
use crate::workload::Workload;
use alloc_core::{MilliGpu, Millis, Policy};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Mean reference GPU-minutes one job of the synthetic mix asks for (see the module docs).
pub const GPU_MINUTES_PER_JOB: f64 = 129.1;
/// Offered load the sweep aims at.
pub const TARGET_LOAD: f64 = 0.7;
/// Jobs per copy of the department fleet.
pub const JOBS_PER_COPY: usize = 2000;

/// `"10000,100000"` → sizes; each must be a positive integer.
pub fn parse_sizes(text: &str) -> Result<Vec<usize>> {
    let bad = |reason: String| SimError::BadArgument {
        flag: "--jobs".into(),
        reason,
    };
    let mut sizes = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let size: usize = part
            .replace('_', "")
            .parse()
            .map_err(|_| bad(format!("{part:?} is not a whole number of jobs")))?;
        if size == 0 {
            return Err(bad("a size of 0 jobs measures nothing".into()));
        }
        if !sizes.contains(&size) {
            sizes.push(size);
        }
    }
    if sizes.is_empty() {
        return Err(bad("give at least one size, e.g. 10000,100000".into()));
    }
    sizes.sort_unstable();
    Ok(sizes)
}

/// `k` copies of `base`'s nodes, with every quota and cap scaled by `k` so the queues'
/// shares of the fleet stay what they were.
pub fn scaled_fleet(base: &FleetFile, k: u32) -> FleetFile {
    let k64 = u64::from(k.max(1));
    let mut fleet = base.clone();
    for group in &mut fleet.nodes {
        group.count = group.count.saturating_mul(k.max(1));
    }
    for queue in &mut fleet.cluster_queues {
        for flavor in &mut queue.flavors {
            for quota in flavor.resources.values_mut() {
                quota.nominal = quota.nominal.saturating_mul(k64);
                quota.borrowing_limit = quota.borrowing_limit.map(|l| l.saturating_mul(k64));
                quota.lending_limit = quota.lending_limit.map(|l| l.saturating_mul(k64));
            }
        }
    }
    for tenant in &mut fleet.tenants {
        tenant.max_gpus = tenant.max_gpus.map(|g| MilliGpu(g.0.saturating_mul(k64)));
        tenant.public_budget = None;
    }
    fleet.failures = None;
    fleet
}

/// Least-squares slope of log(y) over log(x): the growth exponent. `None` with fewer than two
/// distinct sizes.
pub fn growth_exponent(points: &[(f64, f64)]) -> Option<f64> {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    let n = logs.len() as f64;
    let mean_x = logs.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = logs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = logs.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = logs.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (logs.len() >= 2 && sxx > 0.0).then(|| sxy / sxx)
}

/// Runs one size in this process and returns its measurements (the child's side).
pub fn measure_one(jobs: usize, fleet_path: &Path, policy: &str) -> Result<Value> {
    let baseline = baseline(policy)?;
    let policy_label = baseline.label.clone();
    let copies = jobs.div_ceil(JOBS_PER_COPY).max(1) as u32;
    let mut fleet = scaled_fleet(&FleetFile::load(fleet_path)?, copies);
    if let Some(strategy) = baseline.queueing {
        for queue in &mut fleet.cluster_queues {
            queue.strategy = strategy;
        }
    }
    let (config, nodes) = fleet.resolve(fleet_path)?;
    let gpus: u64 = nodes.iter().map(|n| u64::from(n.gpus)).sum();
    let interarrival_ms = GPU_MINUTES_PER_JOB * 60_000.0 / (TARGET_LOAD * gpus as f64);
    let spec = SyntheticSpec {
        jobs,
        mean_interarrival: Millis(interarrival_ms.round().max(1.0) as u64),
        ..SyntheticSpec::default()
    };
    let node_count = nodes.len();
    let started = Instant::now();
    let workload = generate(&spec, Seed(1));
    // Tier upgrades let the mix (half of it BRONZE) use the whole fleet, so the load is the
    // fleet's, not one tier's.
    let policy = Policy {
        allow_tier_upgrade: true,
        ..baseline.policy
    };
    let options = EngineOptions {
        seed: Seed(1),
        sample_period: Millis::hours(1),
        ..EngineOptions::default()
    };
    let engine = Engine::new(config, policy, nodes, Workload::batch(workload), options)?;
    let output = engine.run(|_, _| {})?;
    let wall = started.elapsed().as_secs_f64();
    let digest = outcome_digest(&output.records);
    Ok(json!({
        "jobs": jobs,
        "policy": policy_label,
        "nodes": node_count,
        "gpus": gpus,
        "events": output.events,
        "sim_days": output.end.0 as f64 / 86_400_000.0,
        "wall_s": wall,
        "events_per_s": output.events as f64 / wall.max(1e-9),
        "peak_rss_mib": peak_rss_mib(),
        "outcome_digest": format!("{digest:016x}"),
    }))
}

/// FNV-1a over every job record's debug text: two builds that decide alike print the same
/// digest, so a speed-up can be checked for changed decisions at sizes too big to diff.
pub fn outcome_digest(records: &[JobRecord]) -> u64 {
    struct Fnv(u64);
    impl std::fmt::Write for Fnv {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            for byte in text.bytes() {
                self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
            Ok(())
        }
    }
    let mut fnv = Fnv(0xcbf2_9ce4_8422_2325);
    for record in records {
        // Writing into the hasher cannot fail.
        let _ = std::fmt::Write::write_fmt(&mut fnv, format_args!("{record:?}\n"));
    }
    fnv.0
}

/// Where the sweep's page goes: beside the CSV `out`, with the extension `html`. An `out` that
/// is itself an HTML file is refused before anything runs, as the page would overwrite it.
pub fn report_path(out: &Path) -> Result<PathBuf> {
    let report = out.with_extension("html");
    if report == out {
        return Err(SimError::BadArgument {
            flag: "--out".into(),
            reason: format!(
                "{} names the CSV; the HTML report is written beside it (e.g. --out sweep.csv \
                 gives sweep.html)",
                out.display()
            ),
        });
    }
    Ok(report)
}

/// The process's peak resident set (VmHWM), in MiB; `None` where /proc is not there.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The sweep's table, as CSV.
pub fn csv(rows: &[Value]) -> String {
    let columns = [
        "jobs",
        "policy",
        "nodes",
        "gpus",
        "events",
        "sim_days",
        "wall_s",
        "events_per_s",
        "peak_rss_mib",
        "outcome_digest",
    ];
    let mut out = columns.join(",");
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match &row[*c] {
                Value::Number(n) => match n.as_u64() {
                    Some(i) => i.to_string(),
                    None => format!("{:.3}", n.as_f64().unwrap_or(f64::NAN)),
                },
                Value::String(text) => text.clone(),
                _ => String::new(),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_report_goes_beside_the_csv_and_never_over_it() {
        let beside = |out: &str| report_path(Path::new(out)).map_err(|e| e.to_string());
        assert_eq!(beside("out/sweep.csv"), Ok(PathBuf::from("out/sweep.html")));
        assert_eq!(beside("sweep"), Ok(PathBuf::from("sweep.html")));
        let refused = beside("sweep.html").unwrap_err();
        assert!(
            refused.contains("--out") && refused.contains("sweep.html"),
            "{refused}"
        );
    }

    #[test]
    fn sizes_parse_and_refuse_nonsense() {
        assert_eq!(
            parse_sizes("100000,10000,10000").unwrap(),
            vec![10_000, 100_000]
        );
        assert_eq!(parse_sizes("1_000_000").unwrap(), vec![1_000_000]);
        assert!(parse_sizes("0").is_err());
        assert!(parse_sizes("ten").is_err());
        assert!(parse_sizes(",").is_err());
    }

    #[test]
    fn the_exponent_of_known_power_laws() {
        let linear = [(1e4, 0.1), (1e5, 1.0), (1e6, 10.0)];
        assert!((growth_exponent(&linear).unwrap() - 1.0).abs() < 1e-9);
        let quadratic = [(10.0, 1.0), (100.0, 100.0)];
        assert!((growth_exponent(&quadratic).unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(growth_exponent(&[(10.0, 1.0)]), None);
    }

    #[test]
    fn a_scaled_fleet_keeps_quota_shares_and_unique_names() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/fleets/department.yaml");
        let base = FleetFile::load(&path).unwrap();
        let scaled = scaled_fleet(&base, 3);
        let (_, base_nodes) = base.resolve(&path).unwrap();
        let (config, nodes) = scaled.resolve(&path).unwrap();
        assert_eq!(nodes.len(), 3 * base_nodes.len());
        let gpus = |n: &[alloc_core::NodeSpec]| n.iter().map(|x| u64::from(x.gpus)).sum::<u64>();
        assert_eq!(gpus(&nodes), 3 * gpus(&base_nodes));
        for (queue, original) in config.cluster_queues.values().zip(&base.cluster_queues) {
            for (flavor, before) in queue.flavors.iter().zip(&original.flavors) {
                for (resource, quota) in &flavor.resources {
                    assert_eq!(quota.nominal, 3 * before.resources[resource].nominal);
                }
            }
        }
    }
}
