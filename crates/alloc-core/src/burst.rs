//! Burst: when a job that cannot start privately goes to a public offer.

use serde::{Deserialize, Serialize};

/// When to burst.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstPolicy {
    /// Never burst when false.
    #[serde(default)]
    pub enabled: bool,
}

use crate::decision::{Decision, WaitReason};
use crate::model::{Flavor, Job};
use crate::scheduler::Scheduler;
use crate::units::Time;

impl Scheduler {
    /// Step 6 of the cycle: an admission to a public offer for a job that cannot start
    /// privately now, when the policy says it should burst; `None` otherwise.
    pub(crate) fn burst_for(
        &self,
        _job: &Job,
        _candidates: &[&Flavor],
        _why_waiting: &WaitReason,
        _now: Time,
    ) -> Option<Decision> {
        if !self.policy.burst.enabled {
            return None;
        }
        None
    }
}
