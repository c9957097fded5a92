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
//! A wait for room is told the room as the cycle leaves it, once the walk is over
//! (`room_told`): room only shrinks within a cycle, so that is true of every job of the class
//! that found none where it stood, and it changes only when the fleet does. Two waits are met
//! again once the walk is over (`again`), for the same reason: a job a reservation holds back
//! (`backfill`), as a job after it may take the room it was held from; and a deadline job whose
//! burst rule read when its private flavors free up, as a job after it may start on them. Jobs
//! whose answer
//! nothing but the cycle's end can change are *quiet* (`queue_order`): the walk (`walk`) meets
//! them only while what they wait for may have changed.
//!
//! Jobs with equal requests get equal answers while the flavors they could use are unchanged:
//! the cycle's memo (`memo`) keeps screening (`screen`), "no room" and failed preemption
//! searches per request class (`classes`), and drops an answer as soon as a decision changes
//! the quota or nodes of one of its flavors, so the cycle stays cheap with many alike pending
//! jobs and decides exactly as it would afresh.

use crate::again::{Again, Meeting};
use crate::burst::{ahead_of, share_of, BurstMode, Queued};
use crate::decision::{Decision, WaitReason};
use crate::ids::FlavorName;
use crate::memo::CycleMemo;
use crate::model::Config;
use crate::order::PendingKey;
use crate::pending::{Slot, Waiting};
use crate::queue_order::Quiet;
use crate::room_told::{Moves, RoomWait};
use crate::scheduler::Scheduler;
use crate::units::Time;
use crate::walk::{From, Walk};
use std::sync::Arc;

/// What a cycle reports to its shell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cycle {
    /// The decisions that differ from the last one reported for the same job, in the order
    /// the cycle met the jobs: every admission, preemption and rejection, and each wait whose
    /// reason or explanation changed (including a job's first). Waits for room come after
    /// the rest: they quote the room as the cycle leaves it. A job decided again once the
    /// walk is over (`again`) keeps its place.
    pub changes: Vec<Decision>,
    /// The earliest instant at which the clock alone (no input) could change a decision
    /// (see `clock`): when to cycle again if nothing happens before. `None`: nothing waits on
    /// the clock.
    pub next_change: Option<Time>,
}

/// A wait met again once the walk is over (`again`), with the queue ahead of it as it stood.
enum Later<'c> {
    Held(Queued<'c>),
    /// Its burst rule read the outlook of the candidates of the memo's screening at `.1`.
    ReadOutlook(Queued<'c>, usize),
}

impl<'c> Later<'c> {
    /// `waiting`'s wait just decided, `held` for a reservation or else read the outlook;
    /// `None` for the latter when it was not screened (it always is).
    fn of(memo: &CycleMemo<'c>, waiting: &Waiting, held: bool) -> Option<Later<'c>> {
        let screen = match memo.screened.get(waiting.class.index()) {
            Some(Some(Ok(index))) => Some(*index),
            _ => None,
        };
        let ahead = screen
            .and_then(|index| memo.screens.get(index))
            .map(|screened| ahead_of(&memo.ahead, &waiting.job, &screened.candidates))
            .unwrap_or_default();
        match (held, screen) {
            (true, _) => Some(Later::Held(ahead)),
            (false, Some(screen)) => Some(Later::ReadOutlook(ahead, screen)),
            (false, None) => None,
        }
    }

    /// What `waiting`'s job, waiting for room, adds to the queue ahead of the jobs after it.
    fn share(memo: &CycleMemo<'c>, waiting: &Waiting) -> Option<Queued<'c>> {
        let Some(Some(Ok(index))) = memo.screened.get(waiting.class.index()) else {
            return None;
        };
        let screened = memo.screens.get(*index)?;
        Some(share_of(&waiting.job, &screened.candidates)).filter(|share| !share.is_empty())
    }
}

/// Drops from a report of changes the decisions held in their place (`again`) that tell
/// their job what it was told before (`unchanged`: where they stand).
fn give_up_unchanged(decisions: &mut Vec<Decision>, mut unchanged: Vec<usize>) {
    if unchanged.is_empty() {
        return;
    }
    unchanged.sort_unstable();
    let mut at = 0;
    decisions.retain(|_| {
        let keep = unchanged.binary_search(&at).is_err();
        at += 1;
        keep
    });
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

    /// `decide_all`, with the reservations (`backfill`) still held at the end of the cycle:
    /// each job, its node and its planned start there.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn decide_all_with_reservations(
        &mut self,
        now: Time,
    ) -> (Vec<Decision>, Vec<crate::testing::Reserved>) {
        let (decisions, _) = self.cycle_with(now, true, Report::All);
        (decisions, self.reservations.planned())
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
        if !self.reservations.is_empty() {
            for job in self.reserved_behind_heads(self.queue_order.active()) {
                self.reservations.release(job);
            }
        }
        let mut walk = Walk::new(self, now, report == Report::All);
        memo.reservations = std::mem::take(&mut self.reservations);
        memo.reservations.start_cycle(now);
        // The waits for room, told once the walk is over (`tell_no_room`); kept between
        // cycles so that a cycle does not grow it again.
        let mut room_waits = std::mem::take(&mut self.room_waits);
        let mut moves = Moves::default();
        let mut again = Again::default();
        // where the decisions of the jobs met again that changed nothing stand
        let mut unchanged = Vec::new();
        // how many steps the walk has taken, to tell which job it met first
        let mut walked: u64 = 0;
        loop {
            let (step, ahead) = match walk.next(self, &memo) {
                Some(step) => (step, None),
                None => match again.next(&memo) {
                    Some(Meeting { step, ahead }) => (step, Some(ahead)),
                    None => break,
                },
            };
            walked += 1;
            let slot = step.slot;
            let Some(waiting) = self.pending.at(slot) else {
                continue;
            };
            // met again with nothing it read changed (no queue ahead to decide it with): its
            // first decision stands, in its place
            if let (Some(None), Some(at)) = (&ahead, step.at) {
                let Some(decision) = decisions.get(at) else {
                    continue;
                };
                if matches!(
                    decision,
                    Decision::Wait {
                        reason: WaitReason::NoFlavorFits { .. },
                        ..
                    }
                ) {
                    let found = (slot, From::Again);
                    let wait =
                        RoomWait::new(self.view(), &memo, waiting, found, Some(at), decision);
                    room_waits.push(wait);
                } else if !self.remember(slot, decision) {
                    unchanged.push(at);
                }
                continue;
            }
            let (id, key) = (slot.job, PendingKey::of(&waiting.job));
            // A fresh view per decision: the one before may have booked resources.
            let view = self.view();
            memo.met_again = ahead.flatten();
            let decision = view.decide(&config, waiting, now, &mut memo);
            if self.policy.backfill.enabled {
                let replan = self.replan_reservations;
                let held_one = memo.reservations.holds(id);
                memo.follow_reservation(&view, waiting, &decision, replan);
                let reserved = !held_one && memo.reservations.holds(id);
                let counts_ahead = self.policy.burst.counts_queue_ahead();
                if reserved && counts_ahead && step.from != From::Again {
                    if let Some(share) = Later::share(&memo, waiting) {
                        again.reserved(walked, id, share);
                    }
                }
            }
            memo.met_again = None;
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
                ) if stays_blocked => moves.hush.push((Quiet::Blocked(queue.clone()), key)),
                (_, From::Blocked) if !stays_blocked => moves.wake.push(key),
                _ => {}
            }
            let later = match &decision {
                Decision::Wait {
                    reason, no_burst, ..
                } if step.from != From::Again => {
                    let held = matches!(reason, WaitReason::HeldForReservation { .. });
                    let read_outlook = view.wait_read_outlook(&waiting.job, no_burst.as_ref());
                    (held || read_outlook)
                        .then(|| Later::of(&memo, waiting, held))
                        .flatten()
                }
                _ => None,
            };
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
            // A wait that a decision after it may change is told once the walk is over
            // (`again`), in its place: it may act then, and the actions a cycle reports come
            // in the order it met the jobs. A report of changes gives the place up at the end
            // if the job is told what it was told before.
            if let Some(later) = later {
                // it waits for more than room: it leaves its line
                if step.from == From::Line {
                    moves.wake.push(key);
                }
                let at = decisions.len();
                decisions.push(decision);
                match later {
                    Later::Held(ahead) => again.held((slot, walked), at, ahead),
                    Later::ReadOutlook(ahead, screen) => {
                        again.read_outlook((slot, walked), at, ahead, (&memo, screen));
                    }
                }
                continue;
            }
            if !matches!(
                &decision,
                Decision::Wait {
                    reason: WaitReason::NoFlavorFits { .. },
                    ..
                }
            ) {
                if step.from == From::Line {
                    moves.wake.push(key);
                }
                match step.at {
                    Some(at) => {
                        if !self.remember(slot, &decision) {
                            unchanged.push(at);
                        }
                        decisions[at] = decision;
                    }
                    None => self.report(slot, decision, report, &mut decisions),
                }
                continue;
            }
            // told once the walk is over, the room as it leaves it
            let at = step
                .at
                .or((report == Report::All).then_some(decisions.len()));
            let Some(waiting) = self.pending.at(slot) else {
                continue;
            };
            let found = (slot, step.from);
            let mut wait = RoomWait::new(self.view(), &memo, waiting, found, at, &decision);
            match (decision, step.at) {
                (decision, Some(placed)) => decisions[placed] = decision,
                (decision, None) if at.is_some() => decisions.push(decision),
                (Decision::Wait { no_burst, .. }, None) if wait.keeps_own() => wait.keep(no_burst),
                _ => {}
            }
            room_waits.push(wait);
        }
        let told = (&mut decisions, &mut unchanged);
        self.tell_room_waits(&config, &mut memo, &mut room_waits, told, &mut moves);
        self.room_waits = room_waits;
        if report == Report::Changes {
            give_up_unchanged(&mut decisions, unchanged);
        }
        self.reservations = std::mem::take(&mut memo.reservations);
        self.replan_reservations = false;
        for (group, key) in moves.hush {
            self.queue_order.hush(group, key);
        }
        for key in moves.wake {
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
