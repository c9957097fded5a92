//! A simple synthetic workload: Poisson arrivals of a department's job mix. Used by the
//! project's own tests, the bundled example trace and the scale sweep; the richer scenario
//! generators (semester-peak and friends) build on the same pieces.

use crate::rng::Seed;
use alloc_core::{
    Budget, BudgetKind, CpuMilli, DataClass, GpuRequest, Job, JobId, LocalQueueName, MemMib,
    MilliGpu, Millis, Money, TenantName, Tier, Time, UserName, VramMib,
};
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct SyntheticSpec {
    pub jobs: usize,
    /// Mean time between arrivals.
    pub mean_interarrival: Millis,
    /// Tenants `lab-0` … `lab-(n-1)`, each submitting to LocalQueue `lab-i`.
    pub tenants: usize,
    pub users_per_tenant: usize,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        SyntheticSpec {
            jobs: 500,
            mean_interarrival: Millis::seconds(90),
            tenants: 3,
            users_per_tenant: 4,
        }
    }
}

/// Generates the workload: 40% MPS fractions, 40% one GPU, 15% 2–4 GPUs, 5% 8 GPUs;
/// log-normal runtimes (median 20 min for fractions, 1 h for whole GPUs); a third with
/// deadlines; 10% sensitive; half burstable.
pub fn generate(spec: &SyntheticSpec, seed: Seed) -> Vec<Job> {
    let mut rng = seed.stream("synthetic");
    let arrivals = Exp::new(1.0 / spec.mean_interarrival.0.max(1) as f64).ok();
    let short = LogNormal::new((20.0f64 * 60_000.0).ln(), 0.8).ok();
    let long = LogNormal::new((60.0f64 * 60_000.0).ln(), 1.0).ok();
    let mut now = 0f64;
    let mut jobs = Vec::with_capacity(spec.jobs);
    // One shared set of names per (lab, user), not a copy per job.
    let mut names: BTreeMap<(usize, usize), (LocalQueueName, TenantName, UserName)> =
        BTreeMap::new();
    for index in 0..spec.jobs {
        now += arrivals.map_or(spec.mean_interarrival.0 as f64, |d| d.sample(&mut rng));
        let tenant = rng.gen_range(0..spec.tenants.max(1));
        let user = rng.gen_range(0..spec.users_per_tenant.max(1));
        let kind: f64 = rng.gen();
        let (gpu, runtime) = if kind < 0.4 {
            let milli = [250, 500, 500, 750][rng.gen_range(0..4)];
            let vram = milli * 16;
            (
                GpuRequest::Fraction {
                    milli: MilliGpu(milli),
                    vram: VramMib(vram),
                },
                short.map_or(1.2e6, |d| d.sample(&mut rng)),
            )
        } else {
            let count = if kind < 0.8 {
                1
            } else if kind < 0.95 {
                rng.gen_range(2..=4)
            } else {
                8
            };
            (
                GpuRequest::Whole {
                    count,
                    min_vram: VramMib::ZERO,
                },
                long.map_or(3.6e6, |d| d.sample(&mut rng)),
            )
        };
        let runtime = Millis((runtime as u64).clamp(60_000, 48 * 3_600_000));
        let submit = Time(now as u64);
        let tier = [Tier::Bronze, Tier::Bronze, Tier::Silver, Tier::Gold][rng.gen_range(0..4)];
        let deadline = rng
            .gen_bool(1.0 / 3.0)
            .then(|| submit + Millis(runtime.0 * rng.gen_range(2..=6)));
        let gpus = gpu.milli().0.div_ceil(1000).max(1);
        let (queue, tenant, user) = names
            .entry((tenant, user))
            .or_insert_with(|| {
                (
                    LocalQueueName::new(format!("lab-{tenant}")),
                    TenantName::new(format!("lab-{tenant}")),
                    UserName::new(format!("lab-{tenant}-user-{user}")),
                )
            })
            .clone();
        jobs.push(Job {
            id: JobId(index as u64 + 1),
            queue,
            tenant,
            user,
            gpu,
            spread: false,
            cpu: CpuMilli(4000 * gpus),
            memory: MemMib(16_384 * gpus),
            min_tier: tier,
            allow_upgrade: rng.gen_bool(0.5),
            allowed_flavors: None,
            gpu_models: None,
            priority: [0, 0, 100][rng.gen_range(0..3)],
            runtime,
            deadline,
            budget: Budget {
                kind: if rng.gen_bool(0.5) {
                    BudgetKind::Flex
                } else {
                    BudgetKind::Fixed
                },
                limit: Some(Money::units(rng.gen_range(5..=50))),
            },
            burstable: rng.gen_bool(0.5),
            data_class: if rng.gen_bool(0.1) {
                DataClass::Sensitive
            } else {
                DataClass::Internal
            },
            checkpoint_interval: rng.gen_bool(0.5).then(|| Millis::minutes(30)),
            restore_cost: Millis::minutes(2),
            submit_time: submit,
        });
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_jobs() {
        let spec = SyntheticSpec {
            jobs: 50,
            ..SyntheticSpec::default()
        };
        assert_eq!(generate(&spec, Seed(3)), generate(&spec, Seed(3)));
        assert_ne!(generate(&spec, Seed(3)), generate(&spec, Seed(4)));
        let jobs = generate(&spec, Seed(3));
        assert!(jobs
            .windows(2)
            .all(|w| w[0].submit_time <= w[1].submit_time));
    }
}
