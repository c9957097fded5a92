//! The order pending jobs are considered in each cycle.

use serde::{Deserialize, Serialize};

/// How pending jobs are ordered.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Kueue's order: priority, then submit time, then id ([`crate::PendingKey`]).
    #[default]
    PriorityFifo,
}

use crate::ids::JobId;
use crate::scheduler::Scheduler;
use crate::units::Time;

impl Scheduler {
    /// Pending jobs in the order this cycle considers them.
    pub(crate) fn consideration_order(&self, _now: Time) -> Vec<JobId> {
        match self.policy.ordering {
            Ordering::PriorityFifo => self.queue_order.iter().map(|key| key.job()).collect(),
        }
    }
}
