//! Showback: where the money and GPU time went, per tenant, LocalQueue, tier and cluster.
//! Public bills are split into running, provisioning and warm idle as the cloud billed them
//! (so they add up to `public_cost` exactly); private GPU time is what jobs held (notebook
//! leases included, idle between cells), priced later at an amortised rate per GPU-hour.

use super::public_cloud::Bill;
use alloc_core::{ClusterName, Config, Job, Money, Tier};
use std::collections::BTreeMap;

/// Who used it and where: the job's tenant and LocalQueue, the flavor's tier and cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CostKey {
    pub tenant: String,
    pub queue: String,
    pub tier: Tier,
    pub cluster: ClusterName,
}

impl CostKey {
    fn new(job: &Job, tier: Tier, cluster: &ClusterName) -> CostKey {
        CostKey {
            tenant: job.tenant.to_string(),
            queue: job.queue.to_string(),
            tier,
            cluster: cluster.clone(),
        }
    }
}

/// One key's GPU time and public bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CostLine {
    /// GPU-milliseconds held on private nodes (milli-GPU × ms ÷ 1000).
    pub private_gpu_ms: u64,
    /// GPU-milliseconds held on rented GPUs while the job ran.
    pub public_gpu_ms: u64,
    /// Public bills: while jobs ran, while nodes were provisioned, while kept warm after.
    pub running: Money,
    pub provisioning: Money,
    pub warm_idle: Money,
}

impl CostLine {
    /// Everything billed by the public cloud.
    pub fn public_billed(&self) -> Money {
        self.running + self.provisioning + self.warm_idle
    }

    /// Adds `other` to this line.
    pub fn add(&mut self, other: &CostLine) {
        self.private_gpu_ms += other.private_gpu_ms;
        self.public_gpu_ms += other.public_gpu_ms;
        self.running = self.running + other.running;
        self.provisioning = self.provisioning + other.provisioning;
        self.warm_idle = self.warm_idle + other.warm_idle;
    }
}

/// The run's lines, in key order.
pub type Showback = BTreeMap<CostKey, CostLine>;

/// Charges an attempt's GPU time: `gpu_ms` on `tier`/`cluster`, public when rented.
pub(super) fn held(
    showback: &mut Showback,
    job: &Job,
    tier: Tier,
    cluster: &ClusterName,
    gpu_ms: u64,
    public: bool,
) {
    let line = showback
        .entry(CostKey::new(job, tier, cluster))
        .or_default();
    if public {
        line.public_gpu_ms += gpu_ms;
    } else {
        line.private_gpu_ms += gpu_ms;
    }
}

/// Charges a lease's bill to the job that took it, on its offer's tier and cluster.
pub(super) fn billed(showback: &mut Showback, config: &Config, job: &Job, bill: &Bill) {
    let Some(flavor) = config.flavors.get(&bill.offer) else {
        return;
    };
    let line = showback
        .entry(CostKey::new(job, flavor.tier, &flavor.cluster))
        .or_default();
    line.running = line.running + bill.running();
    line.provisioning = line.provisioning + bill.provisioning;
    line.warm_idle = line.warm_idle + bill.warm_idle;
}
