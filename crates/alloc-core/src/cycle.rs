//! One scheduling cycle. For each pending job, in the policy's order ([`PendingKey`] or the
//! score, see `score`):
//!
//! 1. **screen** — reject what can never run: unknown queue, malformed request, no flavor of
//!    the right tier, a request above the queue's quota ceiling on every flavor or above a
//!    user's or tenant's GPU cap;
//! 2. **StrictFIFO** — a job behind a waiting job of the same StrictFIFO queue waits;
//! 3. **limits** — a user or tenant at a cap waits;
//! 4. **flavors** — candidate flavors in fungibility order; for each: quota (fit or borrow),
//!    then placement on nodes; the first that fits without borrowing wins, a borrowing fit wins
//!    at once or after the others per the queue's `whenCanBorrow`;
//! 5. **book** — an admitted job's resources are booked before the next job is looked at.
//!
//! Jobs with equal requests get equal answers while the flavors they could use are unchanged:
//! the cycle's memo (`memo`) keeps screening (`screen`), "no room" and failed preemption
//! searches per request class (`classes`), and drops an answer as soon as a decision changes
//! the quota or nodes of one of its flavors, so the cycle stays cheap with many alike pending
//! jobs and decides exactly as it would afresh.

use crate::burst::{BurstMode, NoBurst};
use crate::classes::ClassId;
use crate::decision::{Decision, WaitReason};
use crate::ids::FlavorName;
use crate::memo::CycleMemo;
use crate::model::Config;
use crate::order::PendingKey;
use crate::pending::{Slot, Waiting};
use crate::queue_order::Quiet;
use crate::room_lines::Line;
use crate::scheduler::Scheduler;
use crate::units::Time;
use crate::walk::{From, Walk};
use std::sync::Arc;

/// What a cycle reports to its shell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cycle {
    /// The decisions that differ from the last one reported for the same job, in the order
    /// the cycle made them: every admission, preemption and rejection, and each wait whose
    /// reason or explanation changed (including a job's first). Waits for room come after
    /// the rest: they quote the room as the cycle leaves it.
    pub changes: Vec<Decision>,
    /// The earliest instant at which the clock alone (no input) could change a decision
    /// (see `clock`): when to cycle again if nothing happens before. `None`: nothing waits on
    /// the clock.
    pub next_change: Option<Time>,
}

/// Which decisions a cycle hands back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    Changes,
    All,
}

impl Scheduler {
    /// Decides for every pending job (admissions booked at once) and reports the decisions
    /// that changed since the last report, with the next instant the clock could change one.
    pub fn cycle(&mut self, now: Time) -> Cycle {
        let (changes, next_change) = self.cycle_with(now, true, Report::Changes);
        Cycle {
            changes,
            next_change,
        }
    }

    /// Decides for every pending job and returns every decision, changed or not: what a
    /// shell that starts afresh needs, and what [`Scheduler::cycle`]'s changes add up to.
    pub fn decide_all(&mut self, now: Time) -> Vec<Decision> {
        self.cycle_with(now, true, Report::All).0
    }

    /// The cycle deciding each job afresh, without the memo: what `decide_all` must equal.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn cycle_without_memo(&mut self, now: Time) -> Vec<Decision> {
        self.cycle_with(now, false, Report::All).0
    }

    fn cycle_with(
        &mut self,
        now: Time,
        memo: bool,
        report: Report,
    ) -> (Vec<Decision>, Option<Time>) {
        let mut decisions = Vec::new();
        self.admit_nominated(now, &mut decisions);
        // Only a cycle that reports changes may pass quiet jobs by: their answer is the one
        // they were last told. One that reports everything meets them all in their place; one
        // that decides without the memo (to check the memo against) wakes them all.
        if !memo {
            self.queue_order.wake_all();
        }
        let (mut waits_for_room, mut blocked_by_head) = (false, false);
        // The configuration does not change within a cycle; holding it apart from `self` lets the
        // memo borrow from it while admissions change the rest.
        let config = Arc::clone(&self.config);
        let (screenings, speeds) = (&mut self.screenings, &mut self.speeds);
        let last_no_room = &mut self.last_no_room;
        self.classes.recycle(|class| {
            screenings.forget(class);
            speeds.forget(class);
            last_no_room.forget(class);
        });
        let mut memo = CycleMemo::new(memo, self.classes.bound(), &config);
        self.gather_stuck(&config, &mut memo);
        let mut walk = Walk::new(self, now, report == Report::All);
        // The waits for room, told once the walk is over (`tell_no_room`); kept between
        // cycles so that a cycle does not grow it again.
        let mut room_waits = std::mem::take(&mut self.room_waits);
        // Jobs to hush (quiet for good) or wake (a quiet job met again that is no longer
        // quiet), once the walk is over.
        let (mut hush, mut wake) = (Vec::new(), Vec::new());
        while let Some(step) = walk.next(self, &memo) {
            let slot = step.slot;
            let Some(waiting) = self.pending.at(slot) else {
                continue;
            };
            let (id, key) = (slot.job, PendingKey::of(&waiting.job));
            // A fresh view per decision: the one before may have booked resources.
            let view = self.view();
            let decision = view.decide(&config, waiting, now, &mut memo);
            if let Decision::Wait { reason, .. } = &decision {
                if matches!(reason, WaitReason::NoFlavorFits { .. }) {
                    waits_for_room = true;
                    memo.no_room_for(waiting.class, reason);
                }
                blocked_by_head |= matches!(reason, WaitReason::BlockedByHead { .. });
                let screened = match memo.screened.get(waiting.class.index()) {
                    Some(Some(Ok(index))) => memo.screens.get(*index),
                    _ => None,
                };
                let (job, progress) = (&waiting.job, &waiting.progress);
                let mut next = memo.next_change;
                view.wait_may_change(job, progress, &decision, screened, now, &mut next);
                memo.next_change = next;
            }
            let stays_blocked = matches!(
                &decision,
                Decision::Wait {
                    reason: WaitReason::BlockedByHead { .. },
                    ..
                }
            ) && memo.keeps()
                && view.may_stay_quiet(waiting);
            match (&decision, step.from) {
                (
                    Decision::Wait {
                        reason: WaitReason::BlockedByHead { queue },
                        ..
                    },
                    From::Active,
                ) if stays_blocked => hush.push((Quiet::Blocked(queue.clone()), key)),
                (_, From::Blocked) if !stays_blocked => wake.push(key),
                _ => {}
            }
            memo.after(&self.flavors_changed_by(&decision));
            match &decision {
                Decision::Admit { placement, .. } => self.admit(id, placement.clone(), now),
                // The job starts once the shell reports its victims stopped, as under Kueue:
                // until then they keep their capacity and it waits for them.
                Decision::Preempt {
                    placement, victims, ..
                } => self.nominate(id, placement, victims, now),
                Decision::Reject { .. } => self.reject(id),
                Decision::Wait { .. } => {}
            }
            if !matches!(
                &decision,
                Decision::Wait {
                    reason: WaitReason::NoFlavorFits { .. },
                    ..
                }
            ) {
                if step.from == From::Line {
                    wake.push(key);
                }
                self.report(slot, decision, report, &mut decisions);
                continue;
            }
            // told once the walk is over: the room as it leaves it. What the finish needs of
            // the job is read now, while it is in the cache: most waits end up unchanged.
            let Some(waiting) = self.pending.at(slot) else {
                continue;
            };
            let quiet = memo.keeps()
                && step.from != From::Blocked
                && match memo.screened.get(waiting.class.index()) {
                    Some(Some(Ok(index))) => memo.screens.get(*index).is_some_and(|screened| {
                        self.view()
                            .may_wait_quietly(waiting, &decision, screened.queue)
                    }),
                    _ => false,
                };
            let told = Told::last(waiting.reported.as_deref(), &decision);
            let at = (report == Report::All).then_some(decisions.len());
            let mut own = None;
            match (at, told) {
                (Some(_), _) => decisions.push(decision),
                // the same wait as before but for the room: rebuilt from it if that changed
                (None, Some(_)) => {}
                (None, None) => {
                    if let Decision::Wait { no_burst, .. } = decision {
                        own = Some(no_burst);
                    }
                }
            }
            room_waits.push(RoomWait {
                slot,
                class: waiting.class,
                from: step.from,
                at,
                quiet,
                told: told.unwrap_or(0),
                own,
            });
        }
        let mut told = self.tell_no_room(&config, &mut memo, &room_waits);
        for wait in &mut room_waits {
            let Some((end, _)) = told.of(wait.class) else {
                continue;
            };
            if let Some(at) = wait.at {
                if let Some(Decision::Wait { reason, .. }) = decisions.get_mut(at) {
                    reason.clone_from(end);
                }
                if let Some(decision) = decisions.get(at) {
                    let decision = decision.clone();
                    self.remember(wait.slot, &decision);
                }
            } else if wait.told != miss_ptr(end) {
                let no_burst = match wait.own.take() {
                    Some(no_burst) => no_burst,
                    None => match self
                        .pending
                        .at(wait.slot)
                        .and_then(|w| w.reported.as_deref())
                    {
                        Some(Decision::Wait { no_burst, .. }) => no_burst.clone(),
                        _ => None,
                    },
                };
                let decision = Decision::Wait {
                    job: wait.slot.job,
                    reason: end.clone(),
                    no_burst,
                };
                if self.remember(wait.slot, &decision) {
                    decisions.push(decision);
                }
            }
            // quiet jobs hold their class's answer as the cycle ends
            let (hushes, wakes) = match wait.from {
                From::Active => (wait.quiet, false),
                From::Line => (false, !wait.quiet),
                From::Blocked => (false, false),
            };
            if let Some(waiting) = self.pending.at(wait.slot).filter(|_| hushes || wakes) {
                let key = PendingKey::of(&waiting.job);
                match hushes {
                    true => hush.push((Quiet::NoRoom(Line::of(waiting)), key)),
                    false => wake.push(key),
                }
            }
        }
        room_waits.clear();
        self.room_waits = room_waits;
        self.tell_lines(&told, &mut decisions);
        told.clear();
        self.told = told;
        for (group, key) in hush {
            self.queue_order.hush(group, key);
        }
        for key in wake {
            self.queue_order.wake(key);
        }
        // Jobs quiet in lines wait for room too: a cycle meeting them would say so.
        waits_for_room |= self.queue_order.lines().next().is_some();
        let mut next = memo.next_change;
        for (class, answer) in memo.fresh {
            self.screenings.keep(class, answer);
        }
        if waits_for_room {
            let mut kept = self.victims_clock;
            self.view().victims_may_change(&mut kept, now, &mut next);
            self.victims_clock = kept;
        }
        if blocked_by_head {
            self.view().heads_may_change(now, &mut next);
        }
        (decisions, next.get())
    }

    /// Keeps `decision` as what `slot`'s job was last told, and hands it to the shell if that
    /// changed it or the cycle reports everything.
    #[inline]
    fn report(&mut self, slot: Slot, decision: Decision, report: Report, to: &mut Vec<Decision>) {
        if self.remember(slot, &decision) || report == Report::All {
            to.push(decision);
        }
    }

    /// Keeps `decision` as what `slot`'s job was last told (a job that left needs nothing);
    /// whether that changed it.
    fn remember(&mut self, slot: Slot, decision: &Decision) -> bool {
        match self.pending.at_mut(slot) {
            Some(waiting) if waiting.reported.as_deref() == Some(decision) => false,
            Some(waiting) => {
                waiting.reported = Some(Box::new(decision.clone()));
                true
            }
            None => true,
        }
    }

    /// What each request class that waits for room is told: the room as the cycle ends, not
    /// where each of its jobs stood in it. Room only shrinks within a cycle, so a job that
    /// found none at its place finds none at the end either, and every job of a class hears
    /// the same answer, which changes only when the fleet does — not each time a job starts
    /// ahead of or behind it. Per class: the answer and whether it differs from the one the
    /// class was told last; `None` where (against the rule above) the class finds room now.
    fn tell_no_room<'c>(
        &mut self,
        config: &'c Config,
        memo: &mut CycleMemo<'c>,
        room_waits: &[RoomWait],
    ) -> Told {
        let mut told = std::mem::take(&mut self.told);
        // the classes of lines the walk passed by before meeting any of their jobs too
        let heads: Vec<Slot> = self
            .queue_order
            .lines()
            .filter_map(|line| {
                let group = Quiet::NoRoom(line.clone());
                self.queue_order.next_quiet(&group, None)
            })
            .map(|(_, slot)| slot)
            .collect();
        let slots = room_waits.iter().map(|wait| wait.slot).chain(heads);
        for slot in slots {
            let Some(waiting) = self.pending.at(slot) else {
                continue;
            };
            if told.of(waiting.class).is_some() {
                continue;
            }
            if let Some(end) = self.no_room_at_end(config, memo, waiting) {
                told.set(waiting.class, self.last_no_room.share(waiting.class, end));
            }
        }
        told
    }

    /// Why `waiting`'s class finds no room as things stand at the end of the walk: the cycle's
    /// answer if still good, worked out again if a decision since changed one of its flavors
    /// (and, were room to show up against the rule, the first answer the class had).
    fn no_room_at_end<'c>(
        &self,
        config: &'c Config,
        memo: &mut CycleMemo<'c>,
        waiting: &Waiting,
    ) -> Option<WaitReason> {
        let class = waiting.class;
        if let Some(Some((_, reason))) = memo.no_room.get(class.index()) {
            return Some(reason.clone());
        }
        let view = self.view();
        let index = view.screen(config, &waiting.job, class, memo).ok()?;
        let CycleMemo { screens, rooms, .. } = memo;
        let screened = &screens[index];
        let queue = screened.queue;
        match view.assign(&waiting.job, queue, &screened.candidates, rooms) {
            Err(reason) => Some(reason),
            Ok(_) => memo.first_no_room(class).cloned(),
        }
    }

    /// Tells the quiet jobs of each line (`room_lines`) their class's new answer where it
    /// changed.
    fn tell_lines(&mut self, told: &Told, decisions: &mut Vec<Decision>) {
        let changed = |line: &&Line| told.of(line.class).is_some_and(|(_, changed)| *changed);
        let lines: Vec<Quiet> = self
            .queue_order
            .lines()
            .filter(changed)
            .cloned()
            .map(Quiet::NoRoom)
            .collect();
        for group in lines {
            let Quiet::NoRoom(line) = &group else {
                continue;
            };
            let Some((end, _)) = told.of(line.class) else {
                continue;
            };
            let members: Vec<Slot> = self.queue_order.members(&group).map(|(_, s)| s).collect();
            for slot in members {
                let Some(waiting) = self.pending.at_mut(slot) else {
                    continue;
                };
                let Some(Decision::Wait { reason, .. }) = waiting.reported.as_deref_mut() else {
                    continue;
                };
                if reason != end {
                    reason.clone_from(end);
                    decisions.extend(waiting.reported.as_deref().cloned());
                }
            }
        }
    }

    /// Under a rescue policy that displaces (`burst::Stuck`): counts, before the cycle's first
    /// decision, the pending deadline jobs that may not burst, on their private candidate
    /// flavors. Jobs whose victims are stopping are about to start and do not count. Every
    /// pending deadline job is read, quiet ones too (`queue_order`): a count, in no order.
    fn gather_stuck<'c>(&self, config: &'c Config, memo: &mut CycleMemo<'c>) {
        let burst = &self.policy.burst;
        let displaces = burst.mode == BurstMode::Threshold
            && burst.rescue.is_some_and(|rescue| rescue.displace);
        if !displaces {
            return;
        }
        let view = self.view();
        for waiting in self.pending.dated() {
            let job = &*waiting.job;
            if job.deadline.is_none() || !waiting.awaiting.is_empty() {
                continue;
            }
            let Ok(index) = view.screen(config, job, waiting.class, memo) else {
                continue;
            };
            let screened = &memo.screens[index];
            if view.may_burst(job).is_err() || screened.public.is_empty() {
                memo.stuck.add(&screened.candidates);
            }
        }
    }

    /// The flavors whose quota or nodes `decision` changes once applied: the flavor it books
    /// (a burst's public one too) and its victims free, and every flavor selecting a node
    /// either touches. None for a wait or a rejection.
    fn flavors_changed_by(&self, decision: &Decision) -> Vec<FlavorName> {
        let (placement, victims) = match decision {
            Decision::Admit { placement, .. } => (placement, &[][..]),
            Decision::Preempt {
                placement, victims, ..
            } => (placement, victims.as_slice()),
            Decision::Wait { .. } | Decision::Reject { .. } => return Vec::new(),
        };
        let freed = victims
            .iter()
            .filter_map(|victim| self.running.get(victim))
            .map(|running| &running.placement);
        let fleet = &self.ledgers.fleet;
        let mut changed = Vec::new();
        for placement in std::iter::once(placement).chain(freed) {
            changed.push(placement.flavor.clone());
            for share in &placement.nodes {
                changed.extend(fleet.flavors_of(&share.node).iter().cloned());
            }
        }
        changed.sort();
        changed.dedup();
        changed
    }
}

/// A job the walk found waiting for room, told once it is over: what the finish needs of
/// it, read while the walk had it in the cache.
#[derive(Debug, Clone)]
pub(crate) struct RoomWait {
    slot: Slot,
    class: ClassId,
    from: From,
    /// Its place among the decisions of a cycle that reports every one.
    at: Option<usize>,
    /// Nothing of its own could change its answer (`View::may_wait_quietly`).
    quiet: bool,
    /// Where the shared "no room" it was last told is held (`miss_ptr`), when the rest of
    /// that wait is this one's; 0 otherwise.
    told: usize,
    /// Otherwise, its burst rule.
    own: Option<Option<NoBurst>>,
}

/// Where a "no room" answer's shortfalls are held: answers shared through `LastNoRoom` hold
/// them at the same place, so an unchanged one is found without reading the job again.
fn miss_ptr(reason: &WaitReason) -> usize {
    match reason {
        WaitReason::NoFlavorFits { misses } => Arc::as_ptr(misses).cast::<u8>() as usize,
        _ => 0,
    }
}

/// Per request class, what `Scheduler::tell_no_room` worked out for it this cycle: its
/// answer, and whether that differs from what it was told before. Kept between cycles (empty)
/// so that a cycle does not size it again for every class.
#[derive(Debug, Clone, Default)]
pub(crate) struct Told {
    by_class: Vec<Option<(WaitReason, bool)>>,
    set: Vec<ClassId>,
}

impl Told {
    /// The shared "no room" `reported` told, where the rest of it equals `decision`'s.
    fn last(reported: Option<&Decision>, decision: &Decision) -> Option<usize> {
        match (reported, decision) {
            (
                Some(Decision::Wait {
                    reason: reason @ WaitReason::NoFlavorFits { .. },
                    no_burst,
                    job,
                }),
                Decision::Wait {
                    no_burst: now,
                    job: id,
                    ..
                },
            ) if no_burst == now && job == id => Some(miss_ptr(reason)),
            _ => None,
        }
    }

    /// What `class` is told; `None` if the walk found none of it waiting for room.
    fn of(&self, class: ClassId) -> Option<&(WaitReason, bool)> {
        self.by_class.get(class.index())?.as_ref()
    }

    fn set(&mut self, class: ClassId, told: (WaitReason, bool)) {
        let at = class.index();
        if self.by_class.len() <= at {
            self.by_class.resize(at + 1, None);
        }
        self.by_class[at] = Some(told);
        self.set.push(class);
    }

    /// Empties it for the next cycle.
    fn clear(&mut self) {
        for class in self.set.drain(..) {
            if let Some(told) = self.by_class.get_mut(class.index()) {
                *told = None;
            }
        }
    }
}
