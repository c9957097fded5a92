//! Running jobs that hold private capacity, by ClusterQueue, flavor and priority, so that the
//! preemption step reads only the jobs a preemptor could evict — its own queue's lower
//! priorities, and the queues it may reclaim from — instead of every running job, and tells in
//! O(log) whether a queue has any such job at all.
//!
//! Invariant: for every (queue, flavor, priority), `jobs[queue][flavor][priority]` holds the
//! ids of the running jobs admitted through that queue onto that flavor's nodes (not a public
//! lease) at that priority; no set is empty, and empty maps are dropped — so the incremental
//! index equals one rebuilt from the running jobs (`Scheduler::check_invariants` compares
//! them).

use crate::ids::{FlavorName, JobId, QueueName};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeBounds;

type ByPriority = BTreeMap<i32, BTreeSet<JobId>>;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunningPriorities {
    jobs: BTreeMap<QueueName, BTreeMap<FlavorName, ByPriority>>,
}

impl RunningPriorities {
    /// The lowest priority among `queue`'s running jobs on `flavor`; `None` when it has none.
    pub fn lowest(&self, queue: &QueueName, flavor: &FlavorName) -> Option<i32> {
        self.jobs.get(queue)?.get(flavor)?.keys().next().copied()
    }

    /// The queues with running jobs on `flavor`, each with its jobs there by priority.
    pub fn on<'a>(
        &'a self,
        flavor: &'a FlavorName,
    ) -> impl Iterator<Item = (&'a QueueName, &'a ByPriority)> + 'a {
        self.jobs
            .iter()
            .filter_map(move |(queue, flavors)| Some((queue, flavors.get(flavor)?)))
    }

    /// The ids of the jobs in `by_priority` whose priority is in `priorities`, by priority and
    /// then id.
    pub fn within(
        by_priority: &ByPriority,
        priorities: impl RangeBounds<i32>,
    ) -> impl Iterator<Item = JobId> + '_ {
        by_priority
            .range(priorities)
            .flat_map(|(_, ids)| ids.iter().copied())
    }

    pub(crate) fn add(&mut self, queue: &QueueName, flavor: &FlavorName, priority: i32, id: JobId) {
        self.jobs
            .entry(queue.clone())
            .or_default()
            .entry(flavor.clone())
            .or_default()
            .entry(priority)
            .or_default()
            .insert(id);
    }

    pub(crate) fn subtract(
        &mut self,
        queue: &QueueName,
        flavor: &FlavorName,
        priority: i32,
        id: JobId,
    ) {
        let Some(flavors) = self.jobs.get_mut(queue) else {
            return;
        };
        if let Some(priorities) = flavors.get_mut(flavor) {
            if let Some(ids) = priorities.get_mut(&priority) {
                ids.remove(&id);
                if ids.is_empty() {
                    priorities.remove(&priority);
                }
            }
            if priorities.is_empty() {
                flavors.remove(flavor);
            }
        }
        if flavors.is_empty() {
            self.jobs.remove(queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_and_jobs_follow_adds_and_subtracts_and_empties_are_dropped() {
        let (q, f) = (QueueName::new("q"), FlavorName::new("f"));
        let mut index = RunningPriorities::default();
        assert_eq!(index.lowest(&q, &f), None);
        index.add(&q, &f, 3, JobId(7));
        index.add(&q, &f, 1, JobId(9));
        index.add(&q, &f, 1, JobId(2));
        assert_eq!(index.lowest(&q, &f), Some(1));
        let below = |index: &RunningPriorities, priority: i32| -> Vec<JobId> {
            index
                .on(&f)
                .flat_map(|(_, jobs)| RunningPriorities::within(jobs, ..priority))
                .collect()
        };
        assert_eq!(below(&index, 3), [JobId(2), JobId(9)]);
        assert_eq!(below(&index, 4), [JobId(2), JobId(9), JobId(7)]);
        index.subtract(&q, &f, 1, JobId(2));
        assert_eq!(index.lowest(&q, &f), Some(1));
        index.subtract(&q, &f, 1, JobId(9));
        assert_eq!(index.lowest(&q, &f), Some(3));
        assert_eq!(below(&index, 3), []);
        index.subtract(&q, &f, 3, JobId(7));
        assert_eq!(index, RunningPriorities::default());
        assert_eq!(index.on(&f).count(), 0);
    }
}
