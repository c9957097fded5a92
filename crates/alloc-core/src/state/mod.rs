//! Incremental ledgers: free capacity per node and GPU, quota usage per queue and flavor, and
//! what each user and tenant holds. They change only by booking and releasing placements, and
//! can be rebuilt from the running jobs to check that the increments added up.

mod fleet;
mod free_index;
mod holdings;
mod priorities;
mod private_use;
mod public;
mod quota_usage;
mod shape_index;

pub use fleet::{Fleet, GpuState, NodeState};
pub use free_index::{FreeIndex, GpuKey, HostKey};
pub use holdings::{Holding, Holdings};
pub use priorities::{ByPriority, Level, RunningPriorities};
pub use private_use::{PrivateUse, TenantUse};
pub use public::{PublicLeases, Spend};
pub use quota_usage::QuotaUsage;
pub use shape_index::ShapeIndex;

use crate::decision::Placement;
use crate::model::Job;

/// All ledgers together, so that booking a placement touches each one in the same way.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ledgers {
    /// Every node and what is free on it.
    pub fleet: Fleet,
    /// What each ClusterQueue has admitted, per flavor.
    pub quota: QuotaUsage,
    /// What each user and tenant runs, for their caps.
    pub holdings: Holdings,
    /// Public GPUs leased per offer, for their caps.
    pub public: PublicLeases,
    /// Private running jobs by queue, flavor and priority, for the preemption step.
    pub priorities: RunningPriorities,
    /// What each tenant holds on private nodes, for the fair-share term.
    pub private_use: PrivateUse,
}

impl Ledgers {
    /// A burst holds leased GPUs of its offer and quota on its public flavor (a burst is an
    /// admission on a public flavor within the queue's quota, as Kueue would make it); it
    /// holds no node here, and is nobody's preemption victim.
    pub(crate) fn book(&mut self, job: &Job, placement: &Placement) {
        let usage = job.quota_usage();
        self.quota.add(&placement.queue, &placement.flavor, &usage);
        match &placement.public {
            Some(lease) => self.public.add(&placement.flavor, lease.gpus),
            None => {
                self.fleet.book(placement);
                self.priorities.add(
                    &placement.queue,
                    &placement.flavor,
                    job.priority,
                    job.id,
                    &usage,
                );
                self.private_use.add(job);
            }
        }
        self.holdings.add(job);
    }

    /// Releases what `book` booked; `evictable` is false for a victim already on its way out
    /// (`priorities_leave`).
    pub(crate) fn release(&mut self, job: &Job, placement: &Placement, evictable: bool) {
        let usage = job.quota_usage();
        self.quota
            .subtract(&placement.queue, &placement.flavor, &usage);
        match &placement.public {
            Some(lease) => self.public.subtract(&placement.flavor, lease.gpus),
            None => {
                self.fleet.release(placement);
                if evictable {
                    self.priorities.subtract(
                        &placement.queue,
                        &placement.flavor,
                        job.priority,
                        job.id,
                        &usage,
                    );
                }
                self.private_use.subtract(job);
            }
        }
        self.holdings.subtract(job);
    }

    /// A victim on its way out keeps its capacity and quota, but no preemption may choose it
    /// again.
    pub(crate) fn priorities_leave(&mut self, job: &Job, placement: &Placement) {
        if placement.public.is_none() {
            self.priorities.subtract(
                &placement.queue,
                &placement.flavor,
                job.priority,
                job.id,
                &job.quota_usage(),
            );
        }
    }
}
