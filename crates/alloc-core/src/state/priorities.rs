//! Running jobs that hold private capacity, by flavor, ClusterQueue and priority, so that the
//! preemption step reads only the jobs a preemptor could evict — its own queue's lower
//! priorities, and the queues it may reclaim from — instead of every running job, and tells in
//! O(log) whether a queue has any such job at all.
//!
//! Each level also sums the quota its jobs hold, so that the preemption step can tell that
//! evicting every job a preemptor may evict would still leave its quota short without reading
//! any of them (`preemption::prune`).
//!
//! Invariant: for every (flavor, queue, priority), `jobs[flavor][queue][priority]` holds the
//! ids of the running jobs admitted through that queue onto that flavor's nodes (not a public
//! lease) at that priority, and the sum of their quota usage; no set is empty, and empty maps
//! are dropped — so the incremental index equals one rebuilt from the running jobs
//! (`Scheduler::check_invariants` compares them).

use crate::ids::{FlavorName, JobId, QueueName};
use crate::model::ResourceAmounts;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeBounds;

/// One queue's running jobs on one flavor, by priority.
pub type ByPriority = BTreeMap<i32, Level>;

/// The running jobs of one queue, flavor and priority.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Level {
    jobs: BTreeSet<JobId>,
    /// The quota they hold together.
    held: ResourceAmounts,
}

/// Private running jobs by flavor, queue and priority: where the preemption step looks for
/// victims, and whether it can find any below a priority without walking every job.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunningPriorities {
    /// By flavor first: the preemption step reads every queue's jobs on one flavor at a time.
    jobs: BTreeMap<FlavorName, BTreeMap<QueueName, ByPriority>>,
}

impl RunningPriorities {
    /// The lowest priority among `queue`'s running jobs on `flavor`; `None` when it has none.
    pub fn lowest(&self, queue: &QueueName, flavor: &FlavorName) -> Option<i32> {
        self.of(queue, flavor)?.keys().next().copied()
    }

    /// `queue`'s running jobs on `flavor` by priority; `None` when it has none.
    pub fn of(&self, queue: &QueueName, flavor: &FlavorName) -> Option<&ByPriority> {
        self.jobs.get(flavor)?.get(queue)
    }

    /// The queues with running jobs on `flavor`, each with its jobs there by priority.
    pub fn on<'a>(
        &'a self,
        flavor: &'a FlavorName,
    ) -> impl Iterator<Item = (&'a QueueName, &'a ByPriority)> + 'a {
        self.jobs.get(flavor).into_iter().flatten()
    }

    /// The ids of the jobs in `by_priority` whose priority is in `priorities`, by priority and
    /// then id.
    pub fn within(
        by_priority: &ByPriority,
        priorities: impl RangeBounds<i32>,
    ) -> impl Iterator<Item = JobId> + '_ {
        by_priority
            .range(priorities)
            .flat_map(|(_, level)| level.jobs.iter().copied())
    }

    /// The quota held by the jobs in `by_priority` whose priority is in `priorities`; `None`
    /// when there are none.
    pub fn held(
        by_priority: &ByPriority,
        priorities: impl RangeBounds<i32>,
    ) -> Option<ResourceAmounts> {
        let mut levels = by_priority
            .range(priorities)
            .map(|(_, level)| level)
            .peekable();
        levels.peek()?;
        let mut held = ResourceAmounts::default();
        for level in levels {
            held.add(&level.held);
        }
        Some(held)
    }

    /// Job `id` of `queue` runs on `flavor` at `priority`, holding `usage` of quota.
    pub(crate) fn add(
        &mut self,
        queue: &QueueName,
        flavor: &FlavorName,
        priority: i32,
        id: JobId,
        usage: &ResourceAmounts,
    ) {
        let level = self
            .jobs
            .entry(flavor.clone())
            .or_default()
            .entry(queue.clone())
            .or_default()
            .entry(priority)
            .or_default();
        if level.jobs.insert(id) {
            level.held.add(usage);
        }
    }

    pub(crate) fn subtract(
        &mut self,
        queue: &QueueName,
        flavor: &FlavorName,
        priority: i32,
        id: JobId,
        usage: &ResourceAmounts,
    ) {
        let Some(queues) = self.jobs.get_mut(flavor) else {
            return;
        };
        if let Some(priorities) = queues.get_mut(queue) {
            if let Some(level) = priorities.get_mut(&priority) {
                if level.jobs.remove(&id) {
                    level.held.subtract(usage);
                }
                if level.jobs.is_empty() {
                    priorities.remove(&priority);
                }
            }
            if priorities.is_empty() {
                queues.remove(queue);
            }
        }
        if queues.is_empty() {
            self.jobs.remove(flavor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_jobs_and_held_quota_follow_adds_and_subtracts_and_empties_are_dropped() {
        let (q, f) = (QueueName::new("q"), FlavorName::new("f"));
        let gpus = |gpu: u64| ResourceAmounts {
            gpu,
            cpu: 1,
            memory: 2,
        };
        let mut index = RunningPriorities::default();
        assert_eq!(index.lowest(&q, &f), None);
        index.add(&q, &f, 3, JobId(7), &gpus(1000));
        index.add(&q, &f, 1, JobId(9), &gpus(250));
        index.add(&q, &f, 1, JobId(2), &gpus(2000));
        // a second add of a job already there changes nothing
        index.add(&q, &f, 1, JobId(2), &gpus(2000));
        let held = |index: &RunningPriorities, priority: i32| -> ResourceAmounts {
            let mut held = ResourceAmounts::default();
            for (_, jobs) in index.on(&f) {
                held.add(&RunningPriorities::held(jobs, ..priority).unwrap_or_default());
            }
            held
        };
        let jobs = index.of(&q, &f).expect("q runs jobs on f");
        assert_eq!(RunningPriorities::held(jobs, ..1), None);
        assert_eq!(
            held(&index, 3),
            ResourceAmounts {
                gpu: 2250,
                cpu: 2,
                memory: 4
            }
        );
        assert_eq!(held(&index, 4).gpu, 3250);
        assert_eq!(index.lowest(&q, &f), Some(1));
        let below = |index: &RunningPriorities, priority: i32| -> Vec<JobId> {
            index
                .on(&f)
                .flat_map(|(_, jobs)| RunningPriorities::within(jobs, ..priority))
                .collect()
        };
        assert_eq!(below(&index, 3), [JobId(2), JobId(9)]);
        assert_eq!(below(&index, 4), [JobId(2), JobId(9), JobId(7)]);
        index.subtract(&q, &f, 1, JobId(2), &gpus(2000));
        assert_eq!(index.lowest(&q, &f), Some(1));
        assert_eq!(held(&index, 4).gpu, 1250);
        // a job not there subtracts nothing
        index.subtract(&q, &f, 1, JobId(2), &gpus(2000));
        assert_eq!(held(&index, 4).gpu, 1250);
        index.subtract(&q, &f, 1, JobId(9), &gpus(250));
        assert_eq!(index.lowest(&q, &f), Some(3));
        assert_eq!(below(&index, 3), []);
        index.subtract(&q, &f, 3, JobId(7), &gpus(1000));
        assert_eq!(index, RunningPriorities::default());
        assert_eq!(index.on(&f).count(), 0);
    }
}
