//! The order pending jobs are considered in.

use crate::ids::JobId;
use crate::model::Job;
use crate::units::Time;
use std::cmp::{Ordering, Reverse};

/// Kueue's queue order (priority, then creation time), made total.
///
/// Criteria, in order:
/// 1. higher `priority` first;
/// 2. earlier `submit_time` first;
/// 3. lower job id first (stable tie-break).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingKey {
    priority: Reverse<i32>,
    submit_time: Time,
    id: JobId,
}

impl PendingKey {
    /// Where `job` stands in the queue order.
    pub fn of(job: &Job) -> PendingKey {
        PendingKey {
            priority: Reverse(job.priority),
            submit_time: job.submit_time,
            id: job.id,
        }
    }

    /// The job it orders, for a shell that keeps its own queue view.
    pub fn job(&self) -> JobId {
        self.id
    }
}

impl Ord for PendingKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then(self.submit_time.cmp(&other.submit_time))
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for PendingKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::JobBuilder;

    #[test]
    fn priority_then_submit_then_id() {
        let high = JobBuilder::gpus(1)
            .id(9)
            .priority(5)
            .submitted(Time(100))
            .build();
        let early = JobBuilder::gpus(1).id(8).submitted(Time(10)).build();
        let late_low_id = JobBuilder::gpus(1).id(1).submitted(Time(20)).build();
        let late_high_id = JobBuilder::gpus(1).id(2).submitted(Time(20)).build();
        let mut keys: Vec<_> = [&late_high_id, &early, &high, &late_low_id]
            .map(PendingKey::of)
            .to_vec();
        keys.sort();
        let ids: Vec<u64> = keys.iter().map(|k| k.job().0).collect();
        assert_eq!(ids, [9, 8, 1, 2]);
    }
}
