//! Incremental ledgers: free capacity per node and GPU, quota usage per queue and flavor, and
//! what each user and tenant holds. They change only by booking and releasing placements, and
//! can be rebuilt from the running jobs to check that the increments added up.

mod fleet;
mod holdings;
mod quota_usage;

pub use fleet::{Fleet, GpuState, NodeState};
pub use holdings::{Holding, Holdings};
pub use quota_usage::QuotaUsage;

use crate::decision::Placement;
use crate::model::Job;

/// All ledgers together, so that booking a placement touches each one in the same way.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ledgers {
    pub fleet: Fleet,
    pub quota: QuotaUsage,
    pub holdings: Holdings,
}

impl Ledgers {
    pub(crate) fn book(&mut self, job: &Job, placement: &Placement) {
        self.fleet.book(placement);
        self.quota
            .add(&placement.queue, &placement.flavor, &job.quota_usage());
        self.holdings.add(job);
    }

    pub(crate) fn release(&mut self, job: &Job, placement: &Placement) {
        self.fleet.release(placement);
        self.quota
            .subtract(&placement.queue, &placement.flavor, &job.quota_usage());
        self.holdings.subtract(job);
    }
}
