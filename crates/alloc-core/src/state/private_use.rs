use crate::ids::TenantName;
use crate::model::Job;
use std::collections::BTreeMap;

/// What one tenant's jobs on private nodes hold: milli-GPU, CPU millicores, memory MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantUse {
    /// Its jobs on private nodes.
    pub jobs: u32,
    /// What they hold: milli-GPU, CPU millicores, memory MiB.
    pub held: [u64; 3],
}

/// Per tenant, what its jobs on private nodes hold — the numerator of the fair-share term,
/// kept as jobs start and stop so that scoring a cycle does not walk every running job.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrivateUse {
    /// Per tenant; a tenant with no private job has no entry.
    pub tenants: BTreeMap<TenantName, TenantUse>,
}

impl PrivateUse {
    pub(crate) fn add(&mut self, job: &Job) {
        let entry = self.tenants.entry(job.tenant.clone()).or_default();
        entry.jobs += 1;
        for (total, amount) in entry.held.iter_mut().zip(amounts(job)) {
            *total += amount;
        }
    }

    pub(crate) fn subtract(&mut self, job: &Job) {
        let Some(entry) = self.tenants.get_mut(&job.tenant) else {
            return;
        };
        entry.jobs = entry.jobs.saturating_sub(1);
        for (total, amount) in entry.held.iter_mut().zip(amounts(job)) {
            *total = total.saturating_sub(amount);
        }
        // A tenant with nothing left is dropped so incremental state equals a rebuild.
        if entry.jobs == 0 {
            self.tenants.remove(&job.tenant);
        }
    }
}

fn amounts(job: &Job) -> [u64; 3] {
    let usage = job.quota_usage();
    [usage.gpu, usage.cpu, usage.memory]
}
