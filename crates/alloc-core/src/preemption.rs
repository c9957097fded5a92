//! Preemption: which running jobs a higher-ranked job that cannot fit may evict.

use serde::{Deserialize, Serialize};

/// When preemption is allowed (Kueue's `preemption` block of a ClusterQueue, as policy).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreemptionPolicy {
    /// Never preempt when false.
    #[serde(default)]
    pub enabled: bool,
}

use crate::decision::Decision;
use crate::model::{ClusterQueue, Flavor, Job};
use crate::scheduler::Scheduler;
use crate::units::Time;

impl Scheduler {
    /// Step 5 of the cycle: a `Decision::Preempt` that makes room for `job` by evicting
    /// lower-ranked running jobs, when the policy allows and it pays; `None` otherwise.
    pub(crate) fn preempt_for(
        &self,
        _job: &Job,
        _queue: &ClusterQueue,
        _candidates: &[&Flavor],
        _now: Time,
    ) -> Option<Decision> {
        if !self.policy.preemption.enabled {
            return None;
        }
        None
    }
}
