//! The pending jobs, each in a numbered slot: a cycle walks its order by slot instead of
//! searching a map by id for each of thousands of waiting jobs (≈10% of a cycle that admits
//! nothing), while inputs, which name jobs by id, find their slot through an index.

use crate::classes::ClassId;
use crate::ids::FlavorName;
use crate::ids::JobId;
use crate::model::Job;
use crate::progress::Progress;
use std::collections::{BTreeMap, BTreeSet};

/// A pending job, its request class and its progress.
#[derive(Debug, Clone)]
pub(crate) struct Waiting {
    /// Boxed, as running jobs are: slots move when the list grows.
    pub job: Box<Job>,
    pub class: ClassId,
    pub progress: Progress,
    /// The victims of its preemption that have not stopped yet: it starts once they have.
    pub awaiting: Vec<JobId>,
    /// Where its preemption made room: the first cycle after its victims stop books it there
    /// before deciding anybody else, as a Kueue workload nominated by a preemption keeps the
    /// room its victims free (otherwise the jobs ranked above it in the cycle's order that
    /// could not evict take the room, and it evicts again).
    pub nominated: Option<Box<crate::decision::Placement>>,
    /// The flavor Kueue reserved quota on, if it did (`Input::QuotaReserved`); `job` then
    /// allows only that flavor.
    pub reserved: Option<Box<Reserved>>,
    /// The decision last reported for it (`Scheduler::cycle` reports only changes).
    pub reported: Option<Box<crate::decision::Decision>>,
}

/// A quota reservation, and the flavors the job itself allows, to give back when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reserved {
    pub flavor: FlavorName,
    pub own: Option<BTreeSet<FlavorName>>,
}

/// What a pending job carries besides its spec and class, kept when its spec changes.
#[derive(Debug, Clone)]
pub(crate) struct Carried {
    pub progress: Progress,
    pub awaiting: Vec<JobId>,
    pub nominated: Option<Box<crate::decision::Placement>>,
    pub reserved: Option<Box<Reserved>>,
    pub reported: Option<Box<crate::decision::Decision>>,
}

impl Carried {
    pub(crate) fn new(progress: Progress) -> Carried {
        Carried {
            progress,
            awaiting: Vec::new(),
            nominated: None,
            reserved: None,
            reported: None,
        }
    }
}

impl Waiting {
    pub(crate) fn new(job: Box<Job>, class: ClassId, carried: Carried) -> Waiting {
        let Carried {
            progress,
            awaiting,
            nominated,
            reserved,
            reported,
        } = carried;
        Waiting {
            job,
            class,
            progress,
            awaiting,
            nominated,
            reserved,
            reported,
        }
    }

    /// What it carries besides its spec and class.
    pub(crate) fn carried(self) -> Carried {
        Carried {
            progress: self.progress,
            awaiting: self.awaiting,
            nominated: self.nominated,
            reserved: self.reserved,
            reported: self.reported,
        }
    }

    /// The job as submitted: without the narrowing of a quota reservation.
    pub(crate) fn own_spec(&self) -> Job {
        let mut job = Job::clone(&self.job);
        if let Some(reserved) = &self.reserved {
            job.allowed_flavors = reserved.own.clone();
        }
        job
    }
}

/// Where a pending job sits; good until that job leaves the pending jobs, after which the
/// slot may hold another. [`PendingJobs::at`] checks the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Slot {
    pub job: JobId,
    index: usize,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct PendingJobs {
    slots: Vec<Option<Waiting>>,
    /// Emptied slots, reused last-freed first (deterministic, like everything else here).
    free: Vec<usize>,
    by_id: BTreeMap<JobId, usize>,
    /// The jobs with a deadline: a cycle reads them all for the rescue rule (`burst::Stuck`),
    /// and a saturated backlog holds thousands of jobs without one.
    dated: BTreeSet<JobId>,
}

impl PendingJobs {
    /// Adds a job whose id is not pending yet (the caller checks); returns its slot.
    pub(crate) fn insert(&mut self, waiting: Waiting) -> Slot {
        let id = waiting.job.id;
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index] = Some(waiting);
                index
            }
            None => {
                self.slots.push(Some(waiting));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id, index);
        if self.slots[index]
            .as_ref()
            .is_some_and(|w| w.job.deadline.is_some())
        {
            self.dated.insert(id);
        }
        Slot { job: id, index }
    }

    pub(crate) fn remove(&mut self, id: JobId) -> Option<Waiting> {
        let index = self.by_id.remove(&id)?;
        self.dated.remove(&id);
        let waiting = self.slots.get_mut(index)?.take();
        self.free.push(index);
        waiting
    }

    /// The ids of every pending job, in id order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = JobId> + '_ {
        self.by_id.keys().copied()
    }

    pub(crate) fn get(&self, id: JobId) -> Option<&Waiting> {
        self.slots.get(*self.by_id.get(&id)?)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: JobId) -> Option<&mut Waiting> {
        self.slots.get_mut(*self.by_id.get(&id)?)?.as_mut()
    }

    pub(crate) fn at_mut(&mut self, slot: Slot) -> Option<&mut Waiting> {
        self.slots
            .get_mut(slot.index)?
            .as_mut()
            .filter(|waiting| waiting.job.id == slot.job)
    }

    /// The job at `slot`, if it is still the job the slot was taken for.
    pub(crate) fn at(&self, slot: Slot) -> Option<&Waiting> {
        self.slots
            .get(slot.index)?
            .as_ref()
            .filter(|waiting| waiting.job.id == slot.job)
    }

    /// Reads what deciding the jobs at `slots` reads first, ahead of need (see the cycle's
    /// `READ_AHEAD`); the values are thrown away. A stale slot is read all the same: it is
    /// only a hint.
    pub(crate) fn read_ahead(&self, slots: impl Iterator<Item = Slot>) {
        let mut sum = 0u64;
        for slot in slots {
            if let Some(waiting) = self.slots.get(slot.index).and_then(Option::as_ref) {
                let job = &waiting.job;
                sum = sum
                    .wrapping_add(job.id.0)
                    .wrapping_add(job.submit_time.0)
                    .wrapping_add(u64::from(job.burstable))
                    .wrapping_add(job.deadline.map_or(0, |d| d.0));
            }
        }
        std::hint::black_box(sum);
    }

    pub(crate) fn contains(&self, id: JobId) -> bool {
        self.by_id.contains_key(&id)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// The pending jobs at `order`'s slots, in slot order (as they sit in memory), each with
    /// its place in `order`.
    pub(crate) fn placed_in<'a>(
        &'a self,
        order: &[Slot],
    ) -> impl Iterator<Item = (u32, &'a Waiting)> + 'a {
        let mut places = vec![None; self.slots.len()];
        for (place, slot) in (0u32..).zip(order) {
            if let Some(entry) = places.get_mut(slot.index) {
                *entry = Some(place);
            }
        }
        self.slots
            .iter()
            .zip(places)
            .filter_map(|(waiting, place)| Some((place?, waiting.as_ref()?)))
    }

    /// Every pending job with a deadline, by id.
    pub(crate) fn dated(&self) -> impl Iterator<Item = &Waiting> {
        self.dated.iter().filter_map(|id| self.get(*id))
    }

    /// Every pending job, by id.
    pub(crate) fn by_id(&self) -> impl Iterator<Item = &Waiting> {
        self.by_id
            .values()
            .filter_map(|&index| self.slots.get(index)?.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classes::RequestClasses;
    use crate::testing::JobBuilder;

    fn waiting(id: u64, classes: &mut RequestClasses) -> Waiting {
        let job = JobBuilder::gpus(1).id(id).build();
        let class = classes.join(&job);
        Waiting {
            progress: Progress::new(&job),
            job: Box::new(job),
            class,
            awaiting: Vec::new(),
            nominated: None,
            reserved: None,
            reported: None,
        }
    }

    #[test]
    fn a_slot_taken_for_a_job_that_left_finds_nothing_even_when_reused() {
        let mut classes = RequestClasses::default();
        let mut pending = PendingJobs::default();
        let slot = pending.insert(waiting(1, &mut classes));
        pending.insert(waiting(2, &mut classes));
        assert_eq!(pending.at(slot).map(|w| w.job.id), Some(JobId(1)));
        assert!(pending.remove(JobId(1)).is_some());
        assert!(pending.at(slot).is_none());
        let reused = pending.insert(waiting(3, &mut classes));
        // job 3 took job 1's slot; the old slot must not answer for it
        assert!(pending.at(slot).is_none());
        assert_eq!(pending.at(reused).map(|w| w.job.id), Some(JobId(3)));
        assert_eq!(pending.get(JobId(3)).map(|w| w.job.id), Some(JobId(3)));
        assert_eq!(pending.len(), 2);
        let ids: Vec<JobId> = pending.by_id().map(|w| w.job.id).collect();
        assert_eq!(ids, [JobId(2), JobId(3)]);
        assert!(pending.remove(JobId(1)).is_none());
    }
}
