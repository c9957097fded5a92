//! What one cycle remembers between the pending jobs it decides, so that thousands of jobs
//! with few distinct requests cost few searches.
//!
//! Each answer is exactly what deciding the job afresh would give, and holds only while the
//! state it read is unchanged; `CycleMemo::after` drops what a decision changes. An answer for
//! a request reads only its candidate flavors: their nodes, the running jobs on them, and the
//! cohort's quota usage on them (quota is kept per flavor). An admission or a preemption
//! changes the quota of the flavor it books (and its victims') and the nodes it books or
//! frees, which every flavor selecting them reads (a node may belong to several); answers
//! over none of those flavors stay as they were, and the rest are dropped. A burst books quota
//! on a public flavor, which only the quota rooms read: no answer reads public flavors (their
//! candidates are the private ones). The answers:
//! - `no_room` (request class → why no flavor fits, with the shortfall on each);
//! - `no_preemption` (class, priority … → no preemption works), and `refusals`, the searches
//!   refused before trying any victim set, which also answer larger requests at lower
//!   priorities (`preemption::refusals`);
//! - `outlooks` (private flavor → when its GPUs free up, for the burst step's deadline slack);
//! - `rooms` (ClusterQueue, flavor → what its quota still admits there, read from every
//!   cohort member's usage of the flavor);
//! - `evictable` (flavor → the running jobs there that may be evicted at all now, with their
//!   eviction costs: `preemption::evictable`), which no decision of the cycle invalidates;
//! - `blocked`: the StrictFIFO queues whose line stopped at a waiting job, for the jobs behind it;
//! - `screened` (class → queue, candidate flavors, or the rejection): reads only the
//!   configuration and the fleet's GPU models, which no decision changes, so the scheduler
//!   keeps it across cycles too (`screenings`): the memo turns a kept answer back into
//!   references, and hands the new ones (`fresh`) back at the end of the cycle.
//!
//! Answers are kept by request class (`classes`): jobs of one local queue with equal requests,
//! numbered when they join the queue, so that looking an answer up compares no names.
//!
//! `CycleMemo::new(false)` keeps no answer from one job to the next; the test suite compares
//! cycles with and without the memo to show that it only ever saves work.

use crate::backfill::Reservations;
use crate::burst::{Ahead, Outlooks, Stuck};
use crate::chains::{Chains, Grouped};
use crate::classes::ClassId;
use crate::clock::NextChange;
use crate::decision::{RejectReason, WaitReason};
use crate::ids::{FlavorName, JobId, QueueName};
use crate::model::{ClusterQueue, Config, Flavor, Job};
use crate::preemption::{Evictable, Refusals, WithinClusterQueue};
use crate::progress::Progress;
use crate::quota::Room;
use crate::screenings::{Positions, Screening};
use crate::units::{Millis, Time};
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Everything of a job the preemption search reads: its class (queue and request, hence
/// candidate flavors), its priority, and — only under `LowerOrNewerEqualPriority`, where equal
/// priorities compare them — its submit time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PreemptionKey {
    class: ClassId,
    priority: i32,
    submitted: Option<(Time, JobId)>,
}

impl PreemptionKey {
    /// `within`: the job's queue's `withinClusterQueue` rule.
    pub(crate) fn of(class: ClassId, job: &Job, within: WithinClusterQueue) -> PreemptionKey {
        let equal_priority = within == WithinClusterQueue::LowerOrNewerEqualPriority;
        PreemptionKey {
            class,
            priority: job.priority,
            submitted: equal_priority.then_some((job.submit_time, job.id)),
        }
    }
}

/// Preemption searches that found no way to make room, each with the index in `screens` of
/// the request it was made for, chained by class (a class meets the search at a few
/// priorities).
#[derive(Debug)]
pub(crate) struct NoPreemption(Chains<Known>);

#[derive(Debug)]
struct Known {
    key: PreemptionKey,
    screen: usize,
}

impl Grouped for Known {
    fn group(&self) -> usize {
        self.key.class.index()
    }
}

impl NoPreemption {
    fn new(classes: usize) -> Self {
        NoPreemption(Chains::with_groups(classes))
    }

    pub(crate) fn knows(&self, key: &PreemptionKey) -> bool {
        self.0.of(key.class.index()).any(|known| known.key == *key)
    }

    pub(crate) fn insert(&mut self, key: PreemptionKey, screen: usize) {
        self.0.push(Known { key, screen });
    }

    /// Forgets the answers whose screening `read` says read a changed flavor.
    fn forget(&mut self, read: impl Fn(usize) -> bool) {
        self.0.retain(|known| !read(known.screen));
    }
}

/// A request that passed screening in a queue: where it may go.
#[derive(Debug)]
pub(crate) struct Screened<'c> {
    pub queue: &'c ClusterQueue,
    /// Private candidate flavors in fungibility order: where it may be placed on nodes.
    pub candidates: Vec<&'c Flavor>,
    /// Public candidate flavors in fungibility order: where it may burst.
    pub public: Vec<&'c Flavor>,
    /// Some private candidate is within the queue's quota ceiling for the request: without
    /// one, the job runs only if it bursts.
    pub private_fits: bool,
    /// The known GPU speeds of the private candidates, in candidate order.
    pub private_speeds: Arc<[u32]>,
    /// The request's family for refused preemption searches (`Refusals::family`), numbered
    /// when a job of it first reaches the preemption step.
    pub family: OnceCell<usize>,
}

impl Screened<'_> {
    /// The shortest the job would take on one of its private candidates, restore included;
    /// `None` when no private candidate's speed is known.
    pub(crate) fn fastest_private_run(&self, job: &Job, progress: &Progress) -> Option<Millis> {
        self.private_speeds
            .iter()
            .map(|speed| progress.runtime_at(job, *speed))
            .min()
    }
}

/// Each ClusterQueue's quota room and ceiling per flavor (`quota::Room`): thousands of
/// requests meet the same few pairs, and working either out reads every cohort member's
/// quota.
#[derive(Debug, Default)]
pub(crate) struct Rooms<'c> {
    /// A short list: a configuration has few (queue, flavor) pairs, and most cycles meet one.
    pairs: Vec<PairRoom<'c>>,
}

#[derive(Debug)]
struct PairRoom<'c> {
    queue: &'c QueueName,
    flavor: &'c FlavorName,
    /// While the flavor's usage is unchanged.
    room: Option<Room>,
    /// The ceiling (with nothing running) reads only the configuration.
    ceiling: Option<[Option<u64>; 3]>,
}

impl<'c> Rooms<'c> {
    /// `queue`'s room on `flavor`, worked out by `work_out` unless known.
    pub(crate) fn room(
        &mut self,
        queue: &'c QueueName,
        flavor: &'c FlavorName,
        work_out: impl FnOnce() -> Room,
    ) -> Room {
        *self.pair(queue, flavor).room.get_or_insert_with(work_out)
    }

    /// `queue`'s ceiling on `flavor`, worked out by `work_out` unless known.
    pub(crate) fn ceiling(
        &mut self,
        queue: &'c QueueName,
        flavor: &'c FlavorName,
        work_out: impl FnOnce() -> [Option<u64>; 3],
    ) -> [Option<u64>; 3] {
        *self
            .pair(queue, flavor)
            .ceiling
            .get_or_insert_with(work_out)
    }

    fn pair(&mut self, queue: &'c QueueName, flavor: &'c FlavorName) -> &mut PairRoom<'c> {
        // The names are the configuration's own, so the same pair is at the same addresses;
        // a name from elsewhere would only get an entry of its own.
        let at = self
            .pairs
            .iter()
            .position(|pair| std::ptr::eq(pair.queue, queue) && std::ptr::eq(pair.flavor, flavor));
        let at = at.unwrap_or_else(|| {
            self.pairs.push(PairRoom {
                queue,
                flavor,
                room: None,
                ceiling: None,
            });
            self.pairs.len() - 1
        });
        &mut self.pairs[at]
    }

    /// Forgets the rooms on `changed` flavors (or on every flavor); ceilings stay.
    fn forget(&mut self, changed: Option<&[FlavorName]>) {
        for pair in &mut self.pairs {
            if changed.is_none_or(|changed| changed.contains(pair.flavor)) {
                pair.room = None;
            }
        }
    }
}

/// The answers of one cycle, by request class (`classes`); the `usize` beside an answer is the
/// index in `screens` of the request it was computed for, whose candidates say which flavors
/// it read.
#[derive(Debug)]
pub(crate) struct CycleMemo<'c> {
    /// Per class: index into `screens`, or why the request is rejected.
    pub screened: Vec<Option<Result<usize, RejectReason>>>,
    pub screens: Vec<Screened<'c>>,
    /// The StrictFIFO queues one of whose jobs has waited this cycle: the rest of each is
    /// blocked.
    pub blocked: Vec<&'c QueueName>,
    /// Per class: why no flavor fits, with the index into `screens` it was found for.
    pub no_room: Vec<Option<(usize, WaitReason)>>,
    /// Per class: whether a job of it found no room this cycle. Not an answer but a fact that
    /// holds for the rest of the cycle: room only shrinks within one (`room_lines`).
    found_no_room: Vec<bool>,
    /// The first "no room" each of those classes found, in the order found.
    first_no_room: Vec<(ClassId, WaitReason)>,
    pub no_preemption: NoPreemption,
    /// Preemption searches refused outright, which answer larger requests too.
    pub refusals: Refusals<'c>,
    /// Each private flavor's outlook for the burst step's deadline slack.
    pub outlooks: Outlooks<'c>,
    /// Not an answer: the GPUs the jobs decided so far wait for, per private flavor (only
    /// gathered under a rescue policy that counts the queue ahead).
    pub ahead: Ahead<'c>,
    /// Not an answer: the deadline jobs that may not burst, waiting at the cycle's start for
    /// each private flavor (only gathered under a rescue policy that displaces).
    pub stuck: Stuck<'c>,
    /// Each queue's quota room per flavor.
    pub rooms: Rooms<'c>,
    /// Who may be evicted now on each flavor a search read, and at what cost.
    pub evictable: Evictable<'c>,
    /// Screenings worked out this cycle, for the scheduler to keep.
    pub fresh: Vec<(ClassId, Result<Screening, RejectReason>)>,
    /// Not an answer but the plan: the reservations held (`backfill`), lent to the cycle by
    /// the scheduler, which other jobs must not delay; kept with the memo off too.
    pub reservations: Reservations,
    /// Not an answer: the job being decided waited earlier in the cycle and is met again
    /// (`again`): it heads its StrictFIFO queue and is counted in the queue ahead already;
    /// this is the queue ahead of it as it stood when it was first met.
    pub met_again: Option<Ahead<'c>>,
    /// Not an answer: how many decisions so far changed some flavor's nodes or quota, and the
    /// last of them to change each flavor, so that a job met again knows whether what it read
    /// changed since (`again`). Counted with the memo off too.
    changes: u64,
    changed_at: BTreeMap<&'c FlavorName, u64>,
    /// Not an answer: the earliest instant the clock could change one of the cycle's waits,
    /// gathered as the steps that read the clock decide.
    pub next_change: NextChange,
    /// Gathered on first need: a simulation runs many cycles that restore no screening.
    positions: OnceCell<Positions<'c>>,
    config: &'c Config,
    /// Whether answers are kept from one job to the next.
    keep: bool,
}

/// The "no room" each request class was last told, as of the end of the cycle that told it
/// (`Scheduler::cycle`), kept across cycles so that an answer equal to the one before is the
/// same shared value: comparing what each waiting job was last told with its new answer then
/// stops at the pointer, not at every flavor's shortfall (18% of a saturated replay's time
/// under a BestEffortFIFO queue was that comparison), and the quiet jobs of a class
/// (`room_lines`) need meeting only when it changes.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastNoRoom(Vec<Option<WaitReason>>);

impl LastNoRoom {
    /// `reason` as `class` last had it, if equal, and `false`; kept as the class's last
    /// otherwise, and `true`.
    pub(crate) fn share(&mut self, class: ClassId, reason: WaitReason) -> (WaitReason, bool) {
        let at = class.index();
        if self.0.len() <= at {
            self.0.resize(at + 1, None);
        }
        match &self.0[at] {
            Some(last) if *last == reason => (last.clone(), false),
            _ => {
                self.0[at] = Some(reason.clone());
                (reason, true)
            }
        }
    }

    /// What `class` was last told.
    pub(crate) fn of(&self, class: ClassId) -> Option<&WaitReason> {
        self.0.get(class.index())?.as_ref()
    }

    /// `class` now stands for another request.
    pub(crate) fn forget(&mut self, class: ClassId) {
        if let Some(last) = self.0.get_mut(class.index()) {
            *last = None;
        }
    }
}

impl<'c> CycleMemo<'c> {
    /// A memo that keeps answers while they hold, or with `keep` false one that forgets them
    /// after each decision (StrictFIFO blocking is not an answer but a rule, and stays): the
    /// reference the memo is tested against. `classes`: one past the highest class number of
    /// the jobs the cycle decides.
    pub(crate) fn new(keep: bool, classes: usize, config: &'c Config) -> Self {
        CycleMemo {
            fresh: Vec::new(),
            reservations: Reservations::default(),
            next_change: NextChange::default(),
            met_again: None,
            changes: 0,
            changed_at: BTreeMap::new(),
            positions: OnceCell::new(),
            config,
            screened: vec![None; classes],
            screens: Vec::new(),
            blocked: Vec::new(),
            no_room: vec![None; classes],
            found_no_room: vec![false; classes],
            first_no_room: Vec::new(),
            no_preemption: NoPreemption::new(classes),
            refusals: Refusals::default(),
            outlooks: BTreeMap::new(),
            ahead: BTreeMap::new(),
            stuck: Stuck::default(),
            rooms: Rooms::default(),
            evictable: Evictable::default(),
            keep,
        }
    }

    /// Whether a job of `class` found no room this cycle: none of the class will.
    pub(crate) fn found_no_room(&self, class: ClassId) -> bool {
        self.found_no_room.get(class.index()) == Some(&true)
    }

    /// The first "no room" a job of `class` found this cycle.
    pub(crate) fn first_no_room(&self, class: ClassId) -> Option<&WaitReason> {
        let first = self.first_no_room.iter().find(|(found, _)| *found == class);
        first.map(|(_, reason)| reason)
    }

    /// A job of `class` found no room, for `reason`.
    pub(crate) fn no_room_for(&mut self, class: ClassId, reason: &WaitReason) {
        if let Some(found @ false) = self.found_no_room.get_mut(class.index()) {
            *found = true;
            self.first_no_room.push((class, reason.clone()));
        }
    }

    /// Whether answers are kept from one job to the next (and screenings across cycles).
    pub(crate) fn keeps(&self) -> bool {
        self.keep
    }

    /// Turns a kept screening into this cycle's; `None` if the configuration lost its queue or
    /// a flavor (it never does while the answer is kept).
    pub(crate) fn restore(&mut self, kept: &Screening) -> Option<usize> {
        let config = self.config;
        let positions = self.positions.get_or_init(|| Positions::of(config));
        let queue = positions.queue_at(kept.queue)?;
        let flavors = |at: &[usize]| {
            at.iter()
                .map(|&at| positions.flavor_at(at))
                .collect::<Option<Vec<_>>>()
        };
        let (candidates, public) = (flavors(&kept.candidates)?, flavors(&kept.public)?);
        self.screens.push(Screened {
            queue,
            candidates,
            public,
            private_fits: kept.private_fits,
            private_speeds: Arc::clone(&kept.private_speeds),
            family: OnceCell::new(),
        });
        Some(self.screens.len() - 1)
    }

    /// This cycle's screening at `index`, by position in the configuration, for the scheduler
    /// to keep.
    pub(crate) fn screening(&self, index: usize) -> Option<Screening> {
        let screened = self.screens.get(index)?;
        let config = self.config;
        let positions = self.positions.get_or_init(|| Positions::of(config));
        let at = |flavors: &[&Flavor]| {
            flavors
                .iter()
                .map(|flavor| positions.flavor_position(flavor))
                .collect::<Option<Box<[usize]>>>()
        };
        Some(Screening {
            queue: positions.queue_position(screened.queue)?,
            candidates: at(&screened.candidates)?,
            public: at(&screened.public)?,
            private_fits: screened.private_fits,
            private_speeds: Arc::clone(&screened.private_speeds),
        })
    }

    /// How many decisions so far changed some flavor: a mark to ask
    /// [`CycleMemo::changed_since`] about.
    pub(crate) fn changes(&self) -> u64 {
        self.changes
    }

    /// Whether a decision after the `mark` changed one of `flavors`.
    pub(crate) fn changed_since(&self, mark: u64, flavors: &[&Flavor]) -> bool {
        mark < self.changes
            && flavors.iter().any(|flavor| {
                self.changed_at
                    .get(&flavor.name)
                    .is_some_and(|last| *last > mark)
            })
    }

    /// Drops the answers over `changed`, the flavors whose nodes or quota a decision changed
    /// (see the module docs); with the memo off, every answer.
    pub(crate) fn after(&mut self, changed: &[FlavorName]) {
        if !changed.is_empty() {
            self.changes += 1;
            for flavor in changed {
                if let Some((name, _)) = self.config.flavors.get_key_value(flavor) {
                    self.changed_at.insert(name, self.changes);
                }
            }
        }
        if !self.keep {
            self.no_room.fill(None);
            self.no_preemption.forget(|_| true);
            self.refusals.clear();
            self.outlooks.clear();
            self.rooms.forget(None);
            self.evictable.clear();
            return;
        }
        if changed.is_empty() {
            return;
        }
        let screens = &self.screens;
        let over = |screen: usize| {
            screens[screen]
                .candidates
                .iter()
                .any(|candidate| changed.contains(&candidate.name))
        };
        for answer in &mut self.no_room {
            if answer.as_ref().is_some_and(|(screen, _)| over(*screen)) {
                *answer = None;
            }
        }
        self.no_preemption.forget(over);
        self.refusals.retain(|screen| !over(screen));
        self.outlooks.retain(|flavor, _| !changed.contains(flavor));
        self.rooms.forget(Some(changed));
        // the evictable lists hold for the whole cycle (see `preemption::evictable`)
    }
}
