//! Queues as the cluster had them: one ClusterQueue (and LocalQueue of the same name) per
//! virtual cluster of a trace — the `queue` column the importers fill from Philly's VC, ITP's
//! cluster file or Chronus' `user` — all in one cohort `trace`, so that a VC over its share
//! waits for quota or borrows what the others leave idle.
//!
//! Each VC's share `s` of the fleet comes from a rule ([`QuotaRule`]); every flavor's GPU quota
//! is `s` × the flavor's GPUs, rounded down to whole GPUs, and its CPU and memory quota the same
//! share of the flavor's CPU and memory. Rounding leaves a few GPUs in no queue's nominal
//! quota. Borrowing has no limit by default, so a VC may run on anything the cohort has idle;
//! [`Borrowing::Percent`] caps what a VC may borrow at a share of its own nominal quota (Kueue's
//! `borrowingLimit`), down to none at 0%.
//!
//! - `gpu-time`: `s` = the VC's GPU-time (GPUs × recorded duration) ÷ the trace's.
//! - `p95-demand`: `s` = the VC's 95th-percentile concurrent GPU demand (its jobs counted from
//!   submission for their recorded durations, as if nothing waited) ÷ the sum of those over
//!   all VCs.
//!
//! Neither is the quota the cluster had (the traces do not record quotas); both are rules a
//! user can read, and the Kueue objects written with `--kueue-out` can be edited.

use super::FleetFile;
use crate::trace::TraceJob;
use alloc_core::{LocalQueue, LocalQueueName, QueueName, Quota, Resource};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

/// How each VC's share of the fleet is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaRule {
    GpuTime,
    P95Demand,
}

impl FromStr for QuotaRule {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "gpu-time" => Ok(QuotaRule::GpuTime),
            "p95-demand" => Ok(QuotaRule::P95Demand),
            other => Err(format!("expected gpu-time or p95-demand, found {other:?}")),
        }
    }
}

/// How much a VC may borrow from the cohort beyond its nominal quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Borrowing {
    /// Anything the cohort has idle.
    #[default]
    Unlimited,
    /// At most this percent of its own nominal quota, per flavor and resource.
    Percent(u32),
}

impl FromStr for Borrowing {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text == "none" {
            return Ok(Borrowing::Unlimited);
        }
        text.strip_suffix('%')
            .and_then(|number| number.parse::<u32>().ok())
            .filter(|percent| *percent <= 100_000)
            .map(Borrowing::Percent)
            .ok_or_else(|| {
                format!(
                    "expected none (no limit) or a percentage of the VC's own quota such as 50%, \
                     found {text:?}"
                )
            })
    }
}

/// Each VC's weight under `rule` (the shares are the weights over their sum), by queue name.
pub fn weights(jobs: &[TraceJob], rule: QuotaRule) -> BTreeMap<String, u128> {
    let gpu_milli = |job: &TraceJob| u128::from(job.gpus) * u128::from(job.gpu_milli);
    let mut weights: BTreeMap<String, u128> = BTreeMap::new();
    match rule {
        QuotaRule::GpuTime => {
            for job in jobs {
                *weights.entry(job.queue.clone()).or_default() +=
                    gpu_milli(job) * u128::from(job.runtime_ms);
            }
        }
        QuotaRule::P95Demand => {
            let mut events: BTreeMap<&str, Vec<(u64, i128)>> = BTreeMap::new();
            for job in jobs {
                let list = events.entry(&job.queue).or_default();
                let demand = gpu_milli(job) as i128;
                list.push((job.submit_ms, demand));
                list.push((job.submit_ms.saturating_add(job.runtime_ms), -demand));
            }
            for (queue, mut list) in events {
                // Ends before starts at one instant; demand weighted by how long it lasted.
                list.sort();
                let mut level: i128 = 0;
                let mut held: BTreeMap<u128, u64> = BTreeMap::new();
                for pair in list.windows(2) {
                    level += pair[0].1;
                    *held.entry(level.max(0) as u128).or_default() += pair[1].0 - pair[0].0;
                }
                let total: u64 = held.values().sum();
                let mut seen = 0u64;
                let mut p95 = 0;
                for (value, span) in held {
                    seen += span;
                    p95 = value;
                    if seen * 100 >= total * 95 {
                        break;
                    }
                }
                weights.insert(queue.to_string(), p95);
            }
        }
    }
    weights
}

/// Replaces `fleet`'s queues with one ClusterQueue per VC in cohort `trace`, quotas by
/// `weights`, borrowing up to `borrowing`. Returns (queue, share) pairs for the terminal.
pub fn per_vc(
    fleet: &mut FleetFile,
    weights: &BTreeMap<String, u128>,
    borrowing: Borrowing,
) -> Vec<(String, f64)> {
    let total: u128 = weights.values().sum::<u128>().max(1);
    let Some(template) = fleet.cluster_queues.first().cloned() else {
        return Vec::new();
    };
    let mut queues = Vec::new();
    let mut locals = Vec::new();
    let mut shares = Vec::new();
    for (name, weight) in weights {
        let scale = |value: u64, whole: u64| -> u64 {
            let share = u128::from(value) * weight / total;
            (share as u64) / whole * whole
        };
        let mut queue = template.clone();
        queue.name = QueueName::new(name.as_str());
        queue.cohort = Some(alloc_core::CohortName::new("trace"));
        for flavor in &mut queue.flavors {
            for (resource, quota) in &mut flavor.resources {
                let whole = if *resource == Resource::Gpu { 1000 } else { 1 };
                let nominal = scale(quota.nominal, whole);
                *quota = Quota {
                    borrowing_limit: match borrowing {
                        Borrowing::Unlimited => None,
                        Borrowing::Percent(percent) => {
                            Some(nominal.saturating_mul(u64::from(percent)) / 100 / whole * whole)
                        }
                    },
                    ..Quota::nominal(nominal)
                };
            }
        }
        queues.push(queue);
        locals.push(LocalQueue {
            name: LocalQueueName::new(name.as_str()),
            cluster_queue: QueueName::new(name.as_str()),
        });
        shares.push((name.clone(), *weight as f64 / total as f64));
    }
    fleet.cluster_queues = queues;
    fleet.local_queues = locals;
    shares
}

/// The fleet's flavors and queues as Kueue objects (v1beta2), for a user to edit and apply,
/// or to read back with a scenario's `kueue: {file: ...}`.
pub fn kueue_yaml(fleet: &FleetFile) -> String {
    let mut text = String::from(
        "# Written by `sim fleet`: one ClusterQueue per virtual cluster of the trace.\n",
    );
    for flavor in &fleet.flavors {
        let _ = write!(
            text,
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: \"{}\"\nspec:\n  nodeLabels:\n",
            flavor.name
        );
        for (key, value) in &flavor.node_labels {
            let _ = writeln!(text, "    {key}: {value:?}");
        }
    }
    let cohorts: std::collections::BTreeSet<String> = fleet
        .cluster_queues
        .iter()
        .filter_map(|queue| queue.cohort.as_ref().map(|c| c.to_string()))
        .collect();
    for cohort in cohorts {
        let _ = write!(
            text,
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata:\n  name: \"{cohort}\"\n"
        );
    }
    for queue in &fleet.cluster_queues {
        let _ = write!(
            text,
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: \"{}\"\nspec:\n",
            queue.name
        );
        if let Some(cohort) = &queue.cohort {
            let _ = writeln!(text, "  cohortName: \"{cohort}\"");
        }
        text.push_str(
            "  namespaceSelector: {}\n  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\", \"cpu\", \"memory\"]\n    flavors:\n",
        );
        for flavor in &queue.flavors {
            let _ = writeln!(text, "    - name: \"{}\"\n      resources:", flavor.flavor);
            for (resource, name, unit) in [
                (Resource::Gpu, "nvidia.com/gpu", ""),
                (Resource::Cpu, "cpu", "m"),
                (Resource::Memory, "memory", "Mi"),
            ] {
                let quota = flavor.resources.get(&resource);
                // the model counts GPUs in milli-GPU; Kueue in whole GPUs
                let shown = |value: u64| match resource {
                    Resource::Gpu => value / 1000,
                    _ => value,
                };
                let _ = writeln!(
                    text,
                    "      - name: {name}\n        nominalQuota: {}{unit}",
                    shown(quota.map_or(0, |q| q.nominal))
                );
                if let Some(limit) = quota.and_then(|q| q.borrowing_limit) {
                    let _ = writeln!(text, "        borrowingLimit: {}{unit}", shown(limit));
                }
            }
        }
    }
    for local in &fleet.local_queues {
        let _ = write!(
            text,
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: LocalQueue\nmetadata:\n  name: \"{}\"\n  namespace: default\nspec:\n  clusterQueue: \"{}\"\n",
            local.name, local.cluster_queue
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(queue: &str, submit_ms: u64, runtime_ms: u64, gpus: u32) -> TraceJob {
        let mut job = TraceJob::new(0, submit_ms, runtime_ms);
        job.queue = queue.to_string();
        job.gpus = gpus;
        job
    }

    #[test]
    fn gpu_time_and_p95_weights() {
        let jobs = [
            job("a", 0, 1000, 1),
            job("a", 0, 1000, 1),
            job("b", 0, 3000, 2),
        ];
        let time = weights(&jobs, QuotaRule::GpuTime);
        assert_eq!(time["a"] * 3, time["b"]);
        let p95 = weights(&jobs, QuotaRule::P95Demand);
        assert_eq!((p95["a"], p95["b"]), (2000, 2000));
    }

    #[test]
    fn per_vc_queues_split_the_fleet_and_read_back_as_kueue_objects() {
        let dir = std::env::temp_dir().join(format!("sim-vc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let list = dir.join("machines");
        std::fs::write(
            &list,
            "machineId, number of GPUs, single GPU mem\nm0,8, 12GB\nm1,8, 24GB\n",
        )
        .ok();
        let options = crate::fleet::replay::BuildOptions::default();
        let mut built = crate::fleet::from_machines::build(
            crate::fleet::from_machines::MachineList::Philly,
            &list,
            options,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let jobs = [job("1e5", 0, 3000, 1), job("vc-b", 0, 1000, 1)];
        let shares = per_vc(
            &mut built.fleet,
            &weights(&jobs, QuotaRule::GpuTime),
            Borrowing::Unlimited,
        );
        assert_eq!(shares.len(), 2);
        assert_eq!(built.fleet.cluster_queues.len(), 2);
        // 3/4 of each flavor's 8 GPUs, rounded down to whole GPUs.
        let gpu = built.fleet.cluster_queues[0].flavors[0].resources[&Resource::Gpu].nominal;
        assert_eq!(gpu, 6000);
        let text = kueue_yaml(&built.fleet);
        let objects = kueue_model::parse(&dir.join("kueue.yaml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(objects.flavors.len(), 2);
        built.fleet.resolve(&list).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_borrowing_limit_is_a_share_of_each_vcs_own_quota_and_reaches_kueue() {
        assert_eq!("none".parse(), Ok(Borrowing::Unlimited));
        assert_eq!("50%".parse(), Ok(Borrowing::Percent(50)));
        assert!("50".parse::<Borrowing>().is_err());
        let dir = std::env::temp_dir().join(format!("vc-borrow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let list = dir.join("machines.csv");
        std::fs::write(
            &list,
            "machineId, number of GPUs, single GPU mem\nm0,8, 12GB\nm1,8, 24GB\n",
        )
        .ok();
        let mut built = crate::fleet::from_machines::build(
            crate::fleet::from_machines::MachineList::Philly,
            &list,
            crate::fleet::replay::BuildOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let jobs = [job("vc-a", 0, 3000, 1), job("vc-b", 0, 1000, 1)];
        per_vc(
            &mut built.fleet,
            &weights(&jobs, QuotaRule::GpuTime),
            Borrowing::Percent(50),
        );
        // vc-a: 6 of each flavor's 8 GPUs, and may borrow 3 more; vc-b: 2, and 1 more
        let gpu =
            |queue: usize| built.fleet.cluster_queues[queue].flavors[0].resources[&Resource::Gpu];
        assert_eq!((gpu(0).nominal, gpu(0).borrowing_limit), (6000, Some(3000)));
        assert_eq!((gpu(1).nominal, gpu(1).borrowing_limit), (2000, Some(1000)));
        let text = kueue_yaml(&built.fleet);
        assert!(
            text.contains("nominalQuota: 6\n        borrowingLimit: 3\n"),
            "{text}"
        );
        let objects = kueue_model::parse(&dir.join("kueue.yaml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(objects.flavors.len(), 2);
        built.fleet.resolve(&list).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
