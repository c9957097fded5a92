//! Waits for room, told the room as the cycle leaves it (see `Scheduler::tell_no_room`). The
//! walk keeps what telling a wait needs of its job while the job is in the cache
//! ([`RoomWait`]); once the walk is over, each request class that waits for room gets one
//! answer, shared with the one before when equal, and a wait is told again only where its
//! class's answer changed. Quiet jobs (`room_lines`) are hushed and woken here too.

use crate::burst::NoBurst;
use crate::classes::ClassId;
use crate::decision::{Decision, WaitReason};
use crate::memo::CycleMemo;
use crate::model::Config;
use crate::order::PendingKey;
use crate::pending::{Slot, Waiting};
use crate::queue_order::Quiet;
use crate::room_lines::Line;
use crate::scheduler::Scheduler;
use crate::view::View;
use crate::walk::From;
use std::sync::Arc;

/// The jobs to hush (quiet for good) and wake (a quiet job met again that is no longer quiet)
/// once the cycle is over: its order must not change under the walk.
#[derive(Debug, Default)]
pub(crate) struct Moves {
    pub hush: Vec<(Quiet, PendingKey)>,
    pub wake: Vec<PendingKey>,
}

impl Scheduler {
    /// Tells each wait for room the walk found (`room_waits`, emptied) its class's answer as
    /// the cycle ends: in its place among `decisions` where it has one (every wait of a cycle
    /// that reports every decision, a wait met again in any), noting in `unchanged` where it
    /// tells its job what it was told before; appended to them where it changed what the job
    /// was told otherwise. Then tells the quiet jobs of lines whose class's answer changed.
    pub(crate) fn tell_room_waits<'c>(
        &mut self,
        config: &'c Config,
        memo: &mut CycleMemo<'c>,
        room_waits: &mut Vec<RoomWait>,
        (decisions, unchanged): (&mut Vec<Decision>, &mut Vec<usize>),
        moves: &mut Moves,
    ) {
        let mut told = self.tell_no_room(config, memo, room_waits);
        for wait in room_waits.iter_mut() {
            let Some((end, _)) = told.of(wait.class) else {
                continue;
            };
            if let Some(at) = wait.at {
                if let Some(Decision::Wait { reason, .. }) = decisions.get_mut(at) {
                    reason.clone_from(end);
                }
                if let Some(decision) = decisions.get(at) {
                    if !self.remember(wait.slot, decision) {
                        unchanged.push(at);
                    }
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
                From::Blocked | From::Again => (false, false),
            };
            if !(hushes || wakes) {
                continue;
            }
            if let Some(waiting) = self.pending.at(wait.slot) {
                let key = PendingKey::of(&waiting.job);
                match hushes {
                    true => moves.hush.push((Quiet::NoRoom(Line::of(waiting)), key)),
                    false => moves.wake.push(key),
                }
            }
        }
        room_waits.clear();
        self.tell_lines(&told, decisions);
        told.clear();
        self.told = told;
    }

    /// Keeps `decision` as what `slot`'s job was last told (a job that left needs nothing);
    /// whether that changed it.
    pub(crate) fn remember(&mut self, slot: Slot, decision: &Decision) -> bool {
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
    /// class was told last.
    fn tell_no_room<'c>(
        &mut self,
        config: &'c Config,
        memo: &mut CycleMemo<'c>,
        room_waits: &[RoomWait],
    ) -> Told {
        let mut told = std::mem::take(&mut self.told);
        // Every class whose lines the walk passed by found no room in a wait among these
        // (`Walk::pass_lines_by`), so the lines' classes are all here.
        for wait in room_waits {
            if told.of(wait.class).is_some() {
                continue;
            }
            let Some(waiting) = self.pending.at(wait.slot) else {
                continue;
            };
            if let Some(end) = self.no_room_at_end(config, memo, waiting) {
                told.set(wait.class, self.last_no_room.share(wait.class, end));
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

impl RoomWait {
    /// What telling `waiting`'s wait for room (`decision`, found at `slot` where the walk
    /// came `from`) needs of the job; `at`: its place among the decisions of a cycle that
    /// reports every one; `view` and `memo` as the walk left them. Where the job was last told
    /// another wait than this one but for the room, the wait keeps its burst rule
    /// ([`RoomWait::keep`]).
    #[inline]
    pub(crate) fn new(
        view: View<'_>,
        memo: &CycleMemo<'_>,
        waiting: &Waiting,
        (slot, from): (Slot, From),
        at: Option<usize>,
        decision: &Decision,
    ) -> RoomWait {
        let quiet = memo.keeps()
            && from != From::Blocked
            && match memo.screened.get(waiting.class.index()) {
                Some(Some(Ok(index))) => memo.screens.get(*index).is_some_and(|screened| {
                    view.may_wait_quietly(waiting, decision, screened.queue)
                }),
                _ => false,
            };
        RoomWait {
            slot,
            class: waiting.class,
            from,
            at,
            quiet,
            told: Told::last(waiting.reported.as_deref(), decision).unwrap_or(0),
            own: None,
        }
    }

    /// Whether the wait needs its own burst rule kept: it is not the same as the one the job
    /// was last told but for the room, nor kept among every decision.
    pub(crate) fn keeps_own(&self) -> bool {
        self.told == 0 && self.at.is_none()
    }

    /// Keeps the wait's own burst rule.
    pub(crate) fn keep(&mut self, no_burst: Option<NoBurst>) {
        self.own = Some(no_burst);
    }
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
