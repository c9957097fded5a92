//! Pending jobs grouped by request. Jobs of one local queue with equal requests get equal
//! answers within a cycle (see `memo`), and a backlog of thousands of jobs holds few distinct
//! requests. Each pending job is given its class number when it joins the queue, so a cycle
//! finds a job's answers by number instead of comparing requests job by job.
//!
//! A class lives while it has pending members. Its number is reused only after `recycle`, which
//! the cycle calls before it starts: within a cycle a number always means one request, even when
//! a class empties and a preemption victim's new class is opened.

use crate::ids::{FlavorName, GpuModelName, LocalQueueName};
use crate::model::{DataClass, GpuRequest, Job, Tier};
use crate::units::{CpuMilli, MemMib};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

/// The parts of a job's request that decide its candidate flavors and where it fits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Request {
    gpu: GpuRequest,
    spread: bool,
    cpu: CpuMilli,
    memory: MemMib,
    min_tier: Tier,
    allow_upgrade: bool,
    allowed_flavors: Option<BTreeSet<FlavorName>>,
    gpu_models: Option<BTreeSet<GpuModelName>>,
    data_class: DataClass,
}

impl Request {
    pub(crate) fn of(job: &Job) -> Request {
        Request {
            gpu: job.gpu,
            spread: job.spread,
            cpu: job.cpu,
            memory: job.memory,
            min_tier: job.min_tier,
            allow_upgrade: job.allow_upgrade,
            allowed_flavors: job.allowed_flavors.clone(),
            gpu_models: job.gpu_models.clone(),
            data_class: job.data_class,
        }
    }
}

/// What makes two pending jobs alike: their request and local queue. The request comes first
/// in the order, so that comparing keys mostly compares numbers, not names: every job that
/// joins the queue looks its class up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ClassKey {
    request: Request,
    queue: LocalQueueName,
}

impl ClassKey {
    pub(crate) fn of(job: &Job) -> ClassKey {
        ClassKey {
            request: Request::of(job),
            queue: job.queue.clone(),
        }
    }
}

/// A class's number: an index into per-class tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ClassId(u32);

impl ClassId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, Clone)]
struct Slot {
    /// `None` once recycled, until reused.
    key: Option<ClassKey>,
    members: u32,
}

/// The classes of the pending jobs.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestClasses {
    ids: BTreeMap<ClassKey, ClassId>,
    slots: Vec<Slot>,
    /// Classes that lost their last member since the last `recycle`.
    emptied: Vec<ClassId>,
    /// Recycled numbers, the last recycled reused first.
    free: Vec<ClassId>,
}

impl RequestClasses {
    /// Counts `job` as a pending member of its class, opening the class if needed.
    pub(crate) fn join(&mut self, job: &Job) -> ClassId {
        let unknown = match self.ids.entry(ClassKey::of(job)) {
            Entry::Occupied(known) => {
                let id = *known.get();
                self.slots[id.index()].members += 1;
                return id;
            }
            Entry::Vacant(unknown) => unknown,
        };
        let slot = Slot {
            key: Some(unknown.key().clone()),
            members: 1,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id.index()] = slot;
                id
            }
            None => {
                // More classes than u32 numbers would need more pending jobs than memory holds.
                let id = ClassId(u32::try_from(self.slots.len()).unwrap_or(u32::MAX));
                self.slots.push(slot);
                id
            }
        };
        *unknown.insert(id)
    }

    /// A member of `id` left the pending jobs (admitted, rejected or cancelled).
    pub(crate) fn leave(&mut self, id: ClassId) {
        if let Some(slot) = self.slots.get_mut(id.index()) {
            slot.members = slot.members.saturating_sub(1);
            if slot.members == 0 {
                self.emptied.push(id);
            }
        }
    }

    /// Closes the classes left empty, so that their numbers can be reused; never within a
    /// cycle. `closed` hears of each, so that what was kept for it can be forgotten.
    pub(crate) fn recycle(&mut self, mut closed: impl FnMut(ClassId)) {
        for id in std::mem::take(&mut self.emptied) {
            let slot = &mut self.slots[id.index()];
            if slot.members > 0 {
                continue; // joined again since
            }
            if let Some(key) = slot.key.take() {
                self.ids.remove(&key);
                self.free.push(id);
                closed(id);
            }
        }
    }

    /// One past the highest class number in use: the size of a table indexed by class.
    pub(crate) fn bound(&self) -> usize {
        self.slots.len()
    }

    /// The class's key and its member count, when it is open.
    pub(crate) fn get(&self, id: ClassId) -> Option<(&ClassKey, u32)> {
        let slot = self.slots.get(id.index())?;
        Some((slot.key.as_ref()?, slot.members))
    }

    /// The open classes.
    pub(crate) fn open(&self) -> impl Iterator<Item = (ClassId, &ClassKey, u32)> {
        self.ids
            .iter()
            .map(|(key, id)| (*id, key, self.slots[id.index()].members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::JobBuilder;

    #[test]
    fn alike_jobs_share_a_class_and_numbers_are_reused_only_after_recycling() {
        let mut classes = RequestClasses::default();
        let one_gpu = JobBuilder::gpus(1).id(1).build();
        let two_gpus = JobBuilder::gpus(2).id(2).build();
        let a = classes.join(&one_gpu);
        let b = classes.join(&JobBuilder::gpus(1).id(3).build());
        assert_eq!(a, b);
        let c = classes.join(&two_gpus);
        assert_ne!(a, c);
        classes.leave(c);
        // emptied, but not yet reusable: a new request gets a new number
        let d = classes.join(&JobBuilder::gpus(3).id(4).build());
        assert_ne!(d, c);
        // the emptied class comes back to life when an alike job joins before recycling
        assert_eq!(classes.join(&two_gpus), c);
        classes.leave(c);
        classes.recycle(|_| {});
        assert!(classes.get(c).is_none());
        let e = classes.join(&JobBuilder::gpus(4).id(5).build());
        assert_eq!(e, c, "a recycled number is reused");
        assert_eq!(classes.get(a).map(|(_, members)| members), Some(2));
        assert_eq!(classes.bound(), 3);
    }

    #[test]
    fn a_class_that_empties_and_refills_before_recycling_stays_open() {
        let mut classes = RequestClasses::default();
        let job = JobBuilder::gpus(1).id(1).build();
        let a = classes.join(&job);
        classes.leave(a);
        let again = classes.join(&job);
        classes.recycle(|_| {});
        assert_eq!(again, a);
        assert_eq!(classes.get(a).map(|(_, members)| members), Some(1));
    }
}
