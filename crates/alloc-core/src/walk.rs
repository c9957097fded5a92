//! The order a cycle meets the pending jobs in: the jobs it looks at, in the policy's order,
//! merged with the quiet jobs (`queue_order`) it must meet again:
//!
//! - each StrictFIFO queue's quiet jobs, in Kueue's order, for as long as that queue's line
//!   moves, that is until one of its jobs waits; after that every quiet job of the queue would
//!   be told what it was told last, that it is blocked, so the cycle passes them by;
//! - each line of jobs waiting for room (`room_lines`), in its place in the policy's order,
//!   until their request class has found no room in the cycle: after that every job of the
//!   class finds none, so the cycle passes the line by. It meets them all the same while a
//!   job of the line could evict someone (a lower-priority job runs), and while a job with a
//!   deadline that counts the queue ahead of it (`burst::Ahead`) is still to come.

use crate::burst::BurstMode;
use crate::classes::ClassId;
use crate::memo::CycleMemo;
use crate::order::PendingKey;
use crate::pending::Slot;
use crate::queue_order::Quiet;
use crate::scheduler::Scheduler;
use crate::score::{FrozenScore, Ordering, Scorer};
use crate::units::Time;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The cycle reads jobs this many at a time, a block ahead of the one it decides: the order
/// scatters the jobs in memory, and reading a block's jobs together lets their cache misses
/// overlap one another and the decisions before them (reading one job ahead at a time gained
/// ≈4% of a cycle over 10k waiting jobs; a block at a time ≈3% more).
const READ_AHEAD: usize = 8;

/// Where the walk found the job it hands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum From {
    /// The jobs the cycle looks at.
    Active,
    /// A StrictFIFO queue's quiet jobs, met because its line moved.
    Blocked,
    /// A line of jobs waiting for room, met because their class may find some.
    Line,
    /// A job that waited, met again once every other job has been met (`again`).
    Again,
}

/// The next job to decide.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub slot: Slot,
    pub from: From,
    /// Met again, in a cycle that reports every decision: where its first decision stands.
    pub at: Option<usize>,
}

/// A job's place in the policy's order: its score's first criterion (0 for all under Kueue's
/// order), then Kueue's order, which breaks the score's ties the same way.
type Place = (u64, PendingKey);

#[derive(Debug)]
pub(crate) struct Walk {
    /// The jobs the cycle looks at, in the policy's order, with their score's first
    /// criterion.
    order: Vec<(u64, Slot)>,
    at: usize,
    /// How many jobs at the head of `order` hold a reservation (`backfill`): met before any
    /// quiet job, as the reservations they hold may hold those back.
    reserved: usize,
    /// Per StrictFIFO queue holding quiet jobs, the next one not met yet; under a scored
    /// order there are none (`View::may_stay_quiet`).
    quiet: Vec<(Quiet, Option<(PendingKey, Slot)>)>,
    lines: Vec<LineWalk>,
    /// The next job of each line not met yet, first in order first.
    heads: BinaryHeap<Reverse<(Place, Slot, usize)>>,
    /// Where in `order` the last job whose decision reads the queue ahead of it stands.
    last_reading_ahead: Option<usize>,
    /// Meet every quiet job: the cycle reports every decision.
    meet_all: bool,
}

#[derive(Debug)]
struct LineWalk {
    group: Quiet,
    class: ClassId,
    /// Its jobs' scores as the cycle started; `None` under Kueue's order.
    score: Option<FrozenScore>,
    /// A job of the line could find a victim.
    may_evict: bool,
}

impl Walk {
    /// The walk of a cycle at `now`, over the scheduler as the cycle starts; with `meet_all`,
    /// one that meets every quiet job too, in its place.
    pub(crate) fn new(scheduler: &Scheduler, now: Time, meet_all: bool) -> Walk {
        let queues = &scheduler.queue_order;
        let order = scheduler.cycle_order(now);
        let quiet: Vec<_> = queues
            .quiet_queues()
            .map(|queue| {
                let group = Quiet::Blocked(queue.clone());
                let next = queues.next_quiet(&group, None);
                (group, next)
            })
            .collect();
        let view = scheduler.view();
        // only a rescue reads the queue ahead, for a job that may burst (`burst_for`)
        let burst = &view.policy.burst;
        let counts_ahead = burst.mode == BurstMode::Threshold && burst.counts_queue_ahead();
        // A StrictFIFO queue's quiet job met once its line moves may have a deadline too:
        // finding out would read them all, so lines are then met throughout.
        let last_reading_ahead = match counts_ahead {
            false => None,
            true if quiet.is_empty() => order.iter().rposition(|(_, slot)| {
                scheduler.pending.at(*slot).is_some_and(|waiting| {
                    waiting.job.deadline.is_some() && view.may_burst(&waiting.job).is_ok()
                })
            }),
            true => Some(usize::MAX),
        };
        let mut scorer = match &view.policy.ordering {
            Ordering::PriorityFifo => None,
            Ordering::Scored(weights) => Some(Scorer::new(view, now, weights)),
        };
        let lowest_running = || scheduler.running.values().map(|r| r.job.priority).min();
        let mut lowest = None;
        let (mut lines, mut heads) = (Vec::new(), BinaryHeap::new());
        for line in queues.lines() {
            let group = Quiet::NoRoom(line.clone());
            let Some((key, slot)) = queues.next_quiet(&group, None) else {
                continue;
            };
            let Some(head) = scheduler.pending.at(slot) else {
                continue;
            };
            let queue = view.config.cluster_queue_of(&head.job.queue);
            let may_evict = queue.is_some_and(|queue| {
                let lowest = *lowest.get_or_insert_with(lowest_running);
                view.may_evict_for(queue, line.priority, lowest)
            });
            let score = scorer
                .as_mut()
                .map(|scorer| scorer.frozen(&head.job.tenant));
            let first = score.map_or(0, |score| score.score(&head.job).first_key());
            heads.push(Reverse(((first, key), slot, lines.len())));
            lines.push(LineWalk {
                group,
                class: line.class,
                score,
                may_evict,
            });
        }
        let reservations = &scheduler.reservations;
        let reserved = order
            .iter()
            .take_while(|(_, slot)| reservations.holds(slot.job))
            .count();
        Walk {
            order,
            at: 0,
            reserved,
            quiet,
            lines,
            heads,
            last_reading_ahead,
            meet_all,
        }
    }

    /// The next job in order, given what the cycle decided so far (`memo`: which StrictFIFO
    /// queues have a waiting job, which classes found no room).
    pub(crate) fn next(&mut self, scheduler: &Scheduler, memo: &CycleMemo<'_>) -> Option<Step> {
        let leads = self.at < self.reserved;
        if !leads && (!self.quiet.is_empty() || !self.heads.is_empty()) {
            if let Some(step) = self.next_quiet(scheduler, memo) {
                return Some(step);
            }
        }
        if self.at.is_multiple_of(READ_AHEAD) {
            let ahead = self
                .order
                .iter()
                .skip(self.at + READ_AHEAD)
                .take(READ_AHEAD);
            scheduler.pending.read_ahead(ahead.map(|(_, slot)| *slot));
        }
        let &(_, slot) = self.order.get(self.at)?;
        self.at += 1;
        Some(Step {
            slot,
            from: From::Active,
            at: None,
        })
    }

    /// The next quiet job to meet, if it comes before the next job the cycle looks at.
    fn next_quiet(&mut self, scheduler: &Scheduler, memo: &CycleMemo<'_>) -> Option<Step> {
        self.pass_lines_by(memo);
        let active = self.order.get(self.at).map(|(first, slot)| {
            // a slot whose job left is passed on as it is, for the cycle to skip
            let key = scheduler
                .pending
                .at(*slot)
                .map(|waiting| PendingKey::of(&waiting.job));
            (*first, key)
        });
        let before_active = |place: Place| match active {
            None => true,
            Some((first, key)) => key.is_some_and(|key| place < (first, key)),
        };
        if let Some((at, key)) = self.first_blocked(memo) {
            let line = self.heads.peek().map(|Reverse((place, ..))| *place);
            if before_active((0, key)) && line.is_none_or(|line| (0, key) < line) {
                let (group, next) = &mut self.quiet[at];
                let (_, slot) = next.take()?;
                *next = scheduler.queue_order.next_quiet(group, Some(key));
                return Some(Step {
                    slot,
                    from: From::Blocked,
                    at: None,
                });
            }
        }
        let &Reverse((place, slot, line)) = self.heads.peek()?;
        if !before_active(place) {
            return None;
        }
        self.heads.pop();
        self.advance(scheduler, line, place.1);
        Some(Step {
            slot,
            from: From::Line,
            at: None,
        })
    }

    /// The first StrictFIFO queue's next quiet job whose line still moves.
    fn first_blocked(&self, memo: &CycleMemo<'_>) -> Option<(usize, PendingKey)> {
        let mut first: Option<(usize, PendingKey)> = None;
        for (at, (group, next)) in self.quiet.iter().enumerate() {
            let (Some((key, _)), Quiet::Blocked(queue)) = (next, group) else {
                continue;
            };
            let blocked = || !self.meet_all && memo.blocked.contains(&queue);
            if first.is_none_or(|(_, best)| *key < best) && !blocked() {
                first = Some((at, *key));
            }
        }
        first
    }

    /// Drops the first lines whose jobs the cycle need not meet any more: their class found
    /// no room, none of them could evict, and no job still to come reads the queue ahead.
    fn pass_lines_by(&mut self, memo: &CycleMemo<'_>) {
        let reads_ahead = self.last_reading_ahead.is_some_and(|last| last >= self.at);
        if self.meet_all {
            return;
        }
        while let Some(Reverse((_, _, line))) = self.heads.peek() {
            let line = &self.lines[*line];
            if reads_ahead || line.may_evict || !memo.found_no_room(line.class) {
                return;
            }
            self.heads.pop();
        }
    }

    /// Puts the job after `key` in its line among the heads.
    fn advance(&mut self, scheduler: &Scheduler, line: usize, key: PendingKey) {
        let walk = &self.lines[line];
        let Some((key, slot)) = scheduler.queue_order.next_quiet(&walk.group, Some(key)) else {
            return;
        };
        let first = match (walk.score, scheduler.pending.at(slot)) {
            (Some(score), Some(waiting)) => score.score(&waiting.job).first_key(),
            _ => 0,
        };
        self.heads.push(Reverse(((first, key), slot, line)));
    }
}
