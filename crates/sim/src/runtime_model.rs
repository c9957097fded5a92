//! How long a job runs where it was placed, and what a stop costs it.
//!
//! - Duration on a GPU model = remaining reference work ÷ the model's relative speed; a job
//!   spread over several nodes runs at the pace of its slowest GPU.
//! - CPU-only jobs run at the same pace on every node: a node's GPU speed does not scale them.
//! - MPS co-location: each other client sharing the GPU when the job starts slows it by the
//!   model's interference factor (default 15%). The factor is fixed for the attempt: clients
//!   that come and go later do not change it — a documented simplification that keeps a job's
//!   end time known at start.
//!   A replay of a recorded trace uses [`RuntimeModel::recorded`], with no interference: the
//!   recorded durations already include the sharing the cluster had, and the trace does not
//!   say how many co-tenants each job had, so nothing is added on top.
//! - A resumed job pays its restore cost first. A stopped job keeps the work up to its last
//!   checkpoint (every `checkpoint_interval` of compute); without checkpoints it starts over.

use alloc_core::{Config, GpuModelName, Job, Millis, Placement, Time};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeModel {
    /// Slowdown per extra MPS client, in thousandths, by GPU model.
    pub mps_interference_permille: BTreeMap<GpuModelName, u32>,
    pub default_interference_permille: u32,
}

impl Default for RuntimeModel {
    fn default() -> Self {
        RuntimeModel {
            mps_interference_permille: BTreeMap::new(),
            default_interference_permille: 150,
        }
    }
}

impl RuntimeModel {
    /// For replays of recorded traces: durations already include the sharing the cluster had,
    /// so co-location adds no slowdown.
    pub fn recorded() -> RuntimeModel {
        RuntimeModel {
            mps_interference_permille: BTreeMap::new(),
            default_interference_permille: 0,
        }
    }
}

/// One attempt of a job on its placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub started: Time,
    /// Restore time paid before computing.
    pub restore: Millis,
    /// Compute time this attempt needs to finish the remaining work.
    pub compute: Millis,
}

impl Attempt {
    pub fn end(&self) -> Time {
        self.started + self.restore + self.compute
    }
}

/// Where and when an attempt starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// GPU models of the placement (the slowest sets the pace).
    pub models: Vec<GpuModelName>,
    /// MPS clients on the job's GPU including itself (1 for whole GPUs).
    pub clients: u32,
    /// Reference work still to do.
    pub remaining: Millis,
    /// The job ran before and restores from a checkpoint first.
    pub resumed: bool,
    pub now: Time,
}

impl RuntimeModel {
    /// Plans the attempt `start` describes for `job`.
    pub fn plan(&self, config: &Config, job: &Job, start: &Start) -> Attempt {
        let Start {
            models,
            clients,
            remaining,
            resumed,
            now,
        } = start;
        let (clients, remaining, now) = (*clients, *remaining, *now);
        // A CPU-only job's pace does not depend on the GPUs of the node it runs on.
        let slowest = models
            .iter()
            .filter(|_| job.gpu != alloc_core::GpuRequest::None)
            .filter_map(|name| config.gpu_models.get(name))
            .min_by_key(|model| model.speed_permille);
        let mut compute = slowest.map_or(remaining, |model| model.runtime(remaining));
        if clients > 1 {
            let factor = slowest
                .and_then(|m| self.mps_interference_permille.get(&m.name))
                .copied()
                .unwrap_or(self.default_interference_permille);
            let slowdown = 1000 + u64::from(factor) * u64::from(clients - 1);
            compute = Millis((compute.0.saturating_mul(slowdown)).div_ceil(1000));
        }
        let restore = if *resumed {
            job.restore_cost
        } else {
            Millis::ZERO
        };
        Attempt {
            started: now,
            restore,
            compute,
        }
    }

    /// Reference work still to do after stopping `attempt` at `now`, and compute time lost.
    pub fn stop(job: &Job, attempt: &Attempt, remaining: Millis, now: Time) -> (Millis, Millis) {
        let elapsed = now.since(attempt.started);
        let computed = elapsed
            .saturating_sub(attempt.restore)
            .0
            .min(attempt.compute.0);
        let kept = match job.checkpoint_interval {
            Some(interval) if interval.0 > 0 => computed - computed % interval.0,
            _ => 0,
        };
        let kept_reference = if attempt.compute.0 == 0 {
            0
        } else {
            (u128::from(remaining.0) * u128::from(kept) / u128::from(attempt.compute.0)) as u64
        };
        (
            remaining.saturating_sub(Millis(kept_reference)),
            Millis(elapsed.0 - kept.min(elapsed.0)),
        )
    }
}

/// The GPU models a placement runs on, for runtime planning.
pub fn placement_models(
    placement: &Placement,
    fleet: &alloc_core::state::Fleet,
) -> Vec<GpuModelName> {
    placement
        .nodes
        .iter()
        .filter_map(|share| fleet.node(&share.node))
        .filter_map(|node| node.spec.gpu_model.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc_core::testing::{ConfigBuilder, JobBuilder};

    #[test]
    fn faster_models_finish_sooner_and_mps_slows() {
        let config = ConfigBuilder::new().build();
        let job = JobBuilder::gpus(1).runtime(Millis::hours(2)).build();
        let model = RuntimeModel::default();
        let a100 = model.plan(
            &config,
            &job,
            &Start {
                models: vec![GpuModelName::new("A100")],
                clients: 1,
                remaining: job.runtime,
                resumed: false,
                now: Time(0),
            },
        );
        assert_eq!(a100.compute, Millis::hours(1));
        let shared = model.plan(
            &config,
            &job,
            &Start {
                models: vec![GpuModelName::new("V100")],
                clients: 3,
                remaining: job.runtime,
                resumed: false,
                now: Time(0),
            },
        );
        assert_eq!(shared.compute, Millis(Millis::hours(2).0 * 1300 / 1000));
    }

    #[test]
    fn stopping_keeps_work_up_to_the_last_checkpoint() {
        let mut job = JobBuilder::gpus(1).runtime(Millis::hours(2)).build();
        job.checkpoint_interval = Some(Millis::minutes(30));
        let attempt = Attempt {
            started: Time(0),
            restore: Millis::ZERO,
            compute: Millis::hours(2),
        };
        let (remaining, lost) =
            RuntimeModel::stop(&job, &attempt, job.runtime, Time(0) + Millis::minutes(70));
        assert_eq!(remaining, Millis::minutes(60));
        assert_eq!(lost, Millis::minutes(10));
        job.checkpoint_interval = None;
        let (remaining, lost) =
            RuntimeModel::stop(&job, &attempt, job.runtime, Time(0) + Millis::minutes(70));
        assert_eq!(remaining, Millis::hours(2));
        assert_eq!(lost, Millis::minutes(70));
    }
}
