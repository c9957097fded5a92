//! The pending jobs in Kueue's order, split in two: the jobs a cycle looks at, and the jobs it
//! need not — those blocked behind the head of their StrictFIFO queue whose answer nothing but
//! that queue's line moving can change (*quiet* jobs).
//!
//! A StrictFIFO queue in a saturated replay holds thousands of jobs behind a head that does
//! not fit, each told "blocked" every cycle: deciding them again is most of the cycle (Philly
//! on 448 GPUs: 19k of them, ≈150k cycles). A blocked job's answer is read off its queue's
//! line alone once its own screening cannot change it (no deadline the clock may make
//! infeasible, no budget screen against prices, no victims awaited, no quota reservation,
//! no scored order to move it past the head): until the line moves it stays "blocked", and
//! when the line moves the cycle meets the quiet jobs again in their place in the order, up
//! to the next job that waits. Inputs that could change a screening (configuration, nodes,
//! quota, a job's spec or progress) wake the quiet jobs first; see `Scheduler::apply`.

use crate::ids::QueueName;
use crate::order::PendingKey;
use crate::pending::{Slot, Waiting};
use crate::policy::Admission;
use crate::score::Ordering;
use crate::view::View;
use std::collections::BTreeMap;
use std::ops::Bound;

impl View<'_> {
    /// Whether cycles may leave `waiting`, told it is blocked behind its StrictFIFO queue's
    /// head, out until the line moves: its answer depends on nothing of its own that can
    /// change meanwhile. Under a scored order it could pass the head, under Kueue's two
    /// phases a reservation decides first; a deadline may become infeasible with the clock,
    /// a budget screen reads prices, and awaited victims or a nomination change its answer.
    pub(crate) fn may_stay_quiet(&self, waiting: &Waiting) -> bool {
        let job = &waiting.job;
        matches!(self.policy.ordering, Ordering::PriorityFifo)
            && self.policy.admission == Admission::OnePhase
            && waiting.awaiting.is_empty()
            && waiting.nominated.is_none()
            && waiting.reserved.is_none()
            && (job.deadline.is_none() || !self.policy.reject_infeasible_deadlines)
            && (job.budget.limit.is_none() || self.may_burst(job).is_err())
    }
}

/// Every pending job once, under its key: either looked at each cycle or quiet in its queue.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueueOrder {
    /// The jobs each cycle decides, in Kueue's order.
    active: BTreeMap<PendingKey, Slot>,
    /// Per StrictFIFO ClusterQueue, its quiet jobs in Kueue's order.
    quiet: BTreeMap<QueueName, BTreeMap<PendingKey, Slot>>,
    quiet_len: usize,
}

impl QueueOrder {
    /// A newly pending job: cycles look at it.
    pub(crate) fn insert(&mut self, key: PendingKey, slot: Slot) {
        self.active.insert(key, slot);
    }

    /// Takes a job out, wherever it is.
    pub(crate) fn remove(&mut self, key: &PendingKey) {
        if self.active.remove(key).is_some() {
            return;
        }
        for jobs in self.quiet.values_mut() {
            if jobs.remove(key).is_some() {
                self.quiet_len -= 1;
                break;
            }
        }
        self.quiet.retain(|_, jobs| !jobs.is_empty());
    }

    pub(crate) fn len(&self) -> usize {
        self.active.len() + self.quiet_len
    }

    /// The jobs cycles look at, in order.
    pub(crate) fn active(&self) -> impl Iterator<Item = Slot> + '_ {
        self.active.values().copied()
    }

    /// Every pending job in Kueue's order, quiet ones included.
    pub(crate) fn all(&self) -> Vec<Slot> {
        if self.quiet_len == 0 {
            return self.active().collect();
        }
        let mut all: Vec<(PendingKey, Slot)> = self
            .active
            .iter()
            .chain(self.quiet.values().flatten())
            .map(|(key, slot)| (*key, *slot))
            .collect();
        all.sort_unstable_by_key(|(key, _)| *key);
        all.into_iter().map(|(_, slot)| slot).collect()
    }

    /// Every job, quiet ones included, with its key and, if quiet, its queue; in no order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (PendingKey, Slot, Option<&QueueName>)> {
        let active = self.active.iter().map(|(key, slot)| (*key, *slot, None));
        let quiet = self.quiet.iter().flat_map(|(queue, jobs)| {
            jobs.iter()
                .map(move |(key, slot)| (*key, *slot, Some(queue)))
        });
        active.chain(quiet)
    }

    /// The queues holding quiet jobs.
    pub(crate) fn quiet_queues(&self) -> impl Iterator<Item = &QueueName> {
        self.quiet.keys()
    }

    /// The first quiet job of `queue` after `after` (from its first with `None`).
    pub(crate) fn next_quiet(
        &self,
        queue: &QueueName,
        after: Option<PendingKey>,
    ) -> Option<(PendingKey, Slot)> {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        let jobs = self.quiet.get(queue)?;
        jobs.range((from, Bound::Unbounded))
            .next()
            .map(|(key, slot)| (*key, *slot))
    }

    /// A job cycles looked at is blocked in `queue` and stays so until the line moves.
    pub(crate) fn hush(&mut self, queue: &QueueName, key: PendingKey) {
        if let Some(slot) = self.active.remove(&key) {
            self.quiet
                .entry(queue.clone())
                .or_default()
                .insert(key, slot);
            self.quiet_len += 1;
        }
    }

    /// A quiet job is looked at again (one that is not quiet stays as it is).
    pub(crate) fn wake(&mut self, key: PendingKey) {
        for jobs in self.quiet.values_mut() {
            if let Some(slot) = jobs.remove(&key) {
                self.quiet_len -= 1;
                self.active.insert(key, slot);
                break;
            }
        }
        self.quiet.retain(|_, jobs| !jobs.is_empty());
    }

    /// Every quiet job is looked at again: something it reads may have changed.
    pub(crate) fn wake_all(&mut self) {
        for (_, jobs) in std::mem::take(&mut self.quiet) {
            self.active.extend(jobs);
        }
        self.quiet_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classes::RequestClasses;
    use crate::pending::{Carried, PendingJobs, Waiting};
    use crate::progress::Progress;
    use crate::testing::JobBuilder;

    fn add(order: &mut QueueOrder, pending: &mut PendingJobs, id: u64) -> PendingKey {
        let job = JobBuilder::gpus(1).id(id).build();
        let key = PendingKey::of(&job);
        let class = RequestClasses::default().join(&job);
        let progress = Progress::new(&job);
        let slot = pending.insert(Waiting::new(Box::new(job), class, Carried::new(progress)));
        order.insert(key, slot);
        key
    }

    fn ids(pending: &PendingJobs, slots: impl IntoIterator<Item = Slot>) -> Vec<u64> {
        slots
            .into_iter()
            .filter_map(|slot| pending.at(slot).map(|waiting| waiting.job.id.0))
            .collect()
    }

    #[test]
    fn quiet_jobs_leave_the_walk_but_not_the_order() {
        let (mut order, mut pending) = (QueueOrder::default(), PendingJobs::default());
        let keys: Vec<PendingKey> = (1..=5)
            .map(|id| add(&mut order, &mut pending, id))
            .collect();
        let queue = QueueName::new("q");
        order.hush(&queue, keys[1]);
        order.hush(&queue, keys[3]);
        assert_eq!(ids(&pending, order.active()), [1, 3, 5]);
        assert_eq!(ids(&pending, order.all()), [1, 2, 3, 4, 5]);
        assert_eq!(order.len(), 5);
        let first = order.next_quiet(&queue, None).map(|(key, _)| key);
        assert_eq!(first, Some(keys[1]));
        let second = order.next_quiet(&queue, first).map(|(key, _)| key);
        assert_eq!(second, Some(keys[3]));
        assert_eq!(order.next_quiet(&queue, second), None);
        order.remove(&keys[3]);
        order.wake(keys[1]);
        assert_eq!(order.quiet_queues().count(), 0);
        assert_eq!(ids(&pending, order.all()), [1, 2, 3, 5]);
        order.hush(&queue, keys[0]);
        order.wake_all();
        assert_eq!(ids(&pending, order.active()), [1, 2, 3, 5]);
        assert_eq!(order.len(), 4);
    }
}
