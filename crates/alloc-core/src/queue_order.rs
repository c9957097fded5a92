//! The pending jobs in Kueue's order, split in two: the jobs a cycle looks at, and the jobs it
//! need not (*quiet* jobs), whose answer nothing of their own can change:
//!
//! - jobs blocked behind the head of their StrictFIFO queue, which stay blocked until that
//!   queue's line moves;
//! - jobs waiting for room in a BestEffortFIFO queue, whose answer is their request class's
//!   (`room_lines`), which stay so while their class finds no room.
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
use crate::room_lines::Line;
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
    /// Under backfill the jobs holding a reservation are decided first, out of Kueue's order,
    /// which the walk's merge of quiet jobs reads.
    pub(crate) fn may_stay_quiet(&self, waiting: &Waiting) -> bool {
        let job = &waiting.job;
        matches!(self.policy.ordering, Ordering::PriorityFifo)
            && self.policy.admission == Admission::OnePhase
            && !self.policy.backfill.enabled
            && waiting.awaiting.is_empty()
            && waiting.nominated.is_none()
            && waiting.reserved.is_none()
            && (job.deadline.is_none() || !self.policy.reject_infeasible_deadlines)
            && (job.budget.limit.is_none() || self.may_burst(job).is_err())
    }
}

/// Where a quiet job waits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Quiet {
    /// Behind the head of this StrictFIFO ClusterQueue.
    Blocked(QueueName),
    /// For room, in this line (`room_lines`).
    NoRoom(Line),
}

/// Every pending job once, under its key: either looked at each cycle or quiet.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueueOrder {
    /// The jobs each cycle decides, in Kueue's order.
    active: BTreeMap<PendingKey, Slot>,
    /// The quiet jobs of each StrictFIFO ClusterQueue or line, in Kueue's order.
    quiet: BTreeMap<Quiet, BTreeMap<PendingKey, Slot>>,
    /// Where each quiet job is: an admission takes one out without searching every group (a
    /// saturated replay holds hundreds of lines).
    home: BTreeMap<PendingKey, Quiet>,
}

impl QueueOrder {
    /// A newly pending job: cycles look at it.
    pub(crate) fn insert(&mut self, key: PendingKey, slot: Slot) {
        self.active.insert(key, slot);
    }

    /// Takes a job out, wherever it is.
    pub(crate) fn remove(&mut self, key: &PendingKey) {
        if self.active.remove(key).is_none() {
            self.take_quiet(key);
        }
    }

    /// Takes a quiet job out of its group.
    fn take_quiet(&mut self, key: &PendingKey) -> Option<Slot> {
        let group = self.home.remove(key)?;
        let jobs = self.quiet.get_mut(&group)?;
        let slot = jobs.remove(key);
        if jobs.is_empty() {
            self.quiet.remove(&group);
        }
        slot
    }

    pub(crate) fn len(&self) -> usize {
        self.active.len() + self.home.len()
    }

    /// The jobs cycles look at, in order.
    pub(crate) fn active(&self) -> impl Iterator<Item = Slot> + '_ {
        self.active.values().copied()
    }

    /// Every pending job in Kueue's order, quiet ones included.
    pub(crate) fn all(&self) -> Vec<Slot> {
        if self.home.is_empty() {
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

    /// Every job, quiet ones included, with its key and, if quiet, where; in no order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (PendingKey, Slot, Option<&Quiet>)> {
        let active = self.active.iter().map(|(key, slot)| (*key, *slot, None));
        let quiet = self.quiet.iter().flat_map(|(group, jobs)| {
            jobs.iter()
                .map(move |(key, slot)| (*key, *slot, Some(group)))
        });
        active.chain(quiet)
    }

    /// The StrictFIFO queues holding quiet jobs.
    pub(crate) fn quiet_queues(&self) -> impl Iterator<Item = &QueueName> {
        self.quiet.keys().filter_map(|group| match group {
            Quiet::Blocked(queue) => Some(queue),
            Quiet::NoRoom(_) => None,
        })
    }

    /// The lines holding quiet jobs.
    pub(crate) fn lines(&self) -> impl Iterator<Item = &Line> {
        self.quiet.keys().filter_map(|group| match group {
            Quiet::Blocked(_) => None,
            Quiet::NoRoom(line) => Some(line),
        })
    }

    /// The jobs of `group` in order.
    pub(crate) fn members(&self, group: &Quiet) -> impl Iterator<Item = (PendingKey, Slot)> + '_ {
        self.quiet
            .get(group)
            .into_iter()
            .flatten()
            .map(|(key, slot)| (*key, *slot))
    }

    /// The first quiet job of `group` after `after` (from its first with `None`).
    pub(crate) fn next_quiet(
        &self,
        group: &Quiet,
        after: Option<PendingKey>,
    ) -> Option<(PendingKey, Slot)> {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        let jobs = self.quiet.get(group)?;
        jobs.range((from, Bound::Unbounded))
            .next()
            .map(|(key, slot)| (*key, *slot))
    }

    /// A job cycles looked at is quiet in `group` until something wakes it.
    pub(crate) fn hush(&mut self, group: Quiet, key: PendingKey) {
        if let Some(slot) = self.active.remove(&key) {
            self.home.insert(key, group.clone());
            self.quiet.entry(group).or_default().insert(key, slot);
        }
    }

    /// A quiet job is looked at again (one that is not quiet stays as it is).
    pub(crate) fn wake(&mut self, key: PendingKey) {
        if let Some(slot) = self.take_quiet(&key) {
            self.active.insert(key, slot);
        }
    }

    /// Every quiet job is looked at again: something it reads may have changed.
    pub(crate) fn wake_all(&mut self) {
        for (_, jobs) in std::mem::take(&mut self.quiet) {
            self.active.extend(jobs);
        }
        self.home.clear();
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
        let queue = Quiet::Blocked(QueueName::new("q"));
        order.hush(queue.clone(), keys[1]);
        order.hush(queue.clone(), keys[3]);
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
        order.hush(queue, keys[0]);
        order.wake_all();
        assert_eq!(ids(&pending, order.active()), [1, 2, 3, 5]);
        assert_eq!(order.len(), 4);
    }
}
