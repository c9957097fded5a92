//! Running jobs that hold private capacity, counted by ClusterQueue, flavor and priority, so
//! that the preemption step can tell in O(log) whether a queue has any job a preemptor could
//! evict on a flavor without scanning the running jobs.
//!
//! Invariant: for every (queue, flavor), `counts[queue][flavor][priority]` is the number of
//! running jobs admitted through that queue onto that flavor's nodes (not a public lease) at
//! that priority; no entry is zero, and empty maps are dropped — so the incremental index
//! equals one rebuilt from the running jobs (`Scheduler::check_invariants` compares them).

use crate::ids::{FlavorName, QueueName};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunningPriorities {
    counts: BTreeMap<QueueName, BTreeMap<FlavorName, BTreeMap<i32, u32>>>,
}

impl RunningPriorities {
    /// The lowest priority among `queue`'s running jobs on `flavor`; `None` when it has none.
    pub fn lowest(&self, queue: &QueueName, flavor: &FlavorName) -> Option<i32> {
        self.counts.get(queue)?.get(flavor)?.keys().next().copied()
    }

    pub(crate) fn add(&mut self, queue: &QueueName, flavor: &FlavorName, priority: i32) {
        *self
            .counts
            .entry(queue.clone())
            .or_default()
            .entry(flavor.clone())
            .or_default()
            .entry(priority)
            .or_default() += 1;
    }

    pub(crate) fn subtract(&mut self, queue: &QueueName, flavor: &FlavorName, priority: i32) {
        let Some(flavors) = self.counts.get_mut(queue) else {
            return;
        };
        if let Some(priorities) = flavors.get_mut(flavor) {
            if let Some(count) = priorities.get_mut(&priority) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    priorities.remove(&priority);
                }
            }
            if priorities.is_empty() {
                flavors.remove(flavor);
            }
        }
        if flavors.is_empty() {
            self.counts.remove(queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_follows_adds_and_subtracts_and_empties_are_dropped() {
        let (q, f) = (QueueName::new("q"), FlavorName::new("f"));
        let mut index = RunningPriorities::default();
        assert_eq!(index.lowest(&q, &f), None);
        index.add(&q, &f, 3);
        index.add(&q, &f, 1);
        index.add(&q, &f, 1);
        assert_eq!(index.lowest(&q, &f), Some(1));
        index.subtract(&q, &f, 1);
        assert_eq!(index.lowest(&q, &f), Some(1));
        index.subtract(&q, &f, 1);
        assert_eq!(index.lowest(&q, &f), Some(3));
        index.subtract(&q, &f, 3);
        assert_eq!(index, RunningPriorities::default());
    }
}
