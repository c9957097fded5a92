//! Jobs met again once the walk is over (`walk::From::Again`), so that a wait tells what the
//! next cycle would tell with nothing new: the walk meets a job before the jobs after it are
//! decided, and two kinds of wait read what those decisions change.
//!
//! - **Held** (`backfill`): a reservation held the job back from room it had, and a job after
//!   it may take that room by ending in time. Always decided afresh.
//! - **Burst rule read the outlook** (`View::wait_read_outlook`): a deadline job that may burst
//!   waited because its predicted private end met its deadline (or its wait to burst was not
//!   over). A job after it that starts on one of its private flavors pushes that end later,
//!   and the next cycle would rescue it. Decided afresh only if a decision since it changed
//!   one of those flavors; otherwise told its first decision.
//!
//! Held jobs are met first, so that the waits whose burst rule read the outlook see a held job
//! that starts after all. Each job is decided with the queue ahead of it as it stood when it
//! was first met (`burst::Ahead`), not with the jobs after it — but for those that got a
//! reservation after it, which the next cycle decides first — and keeps its place among the
//! cycle's decisions. It does not search for victims there (`decide`) nor plan its
//! reservation again (`backfill`), and is met once: a decision of this phase that changes the
//! private flavors of a job met before it in the phase is not followed by another round.

use crate::burst::{Ahead, Queued};
use crate::ids::JobId;
use crate::memo::CycleMemo;
use crate::pending::Slot;
use crate::walk::{From, Step};

/// The jobs to meet again, in the order they were first met within each kind.
#[derive(Debug, Default)]
pub(crate) struct Again<'c> {
    held: Vec<Later<'c>>,
    read_outlook: Vec<Later<'c>>,
    /// The waiting jobs that got a reservation in this cycle, each with when the walk met it
    /// and its share of the queue ahead on its candidates: the next cycle decides reserved
    /// jobs first (`queries::ordered`), so they count ahead of the jobs met before them.
    reserved: Vec<(u64, JobId, Queued<'c>)>,
    met: usize,
}

#[derive(Debug)]
struct Later<'c> {
    slot: Slot,
    /// When the walk met it, counted in steps.
    step: u64,
    /// Its place among the cycle's decisions.
    at: usize,
    ahead: Queued<'c>,
    /// For a wait that read the outlook, what tells whether its first decision stands: the
    /// memo's mark of changes when it was made, and its screening's index in the memo.
    first: Option<(u64, usize)>,
}

/// A job met again: the walk's step, and the queue ahead of it to decide it with, `None` when
/// its first decision stands.
#[derive(Debug)]
pub(crate) struct Meeting<'c> {
    pub step: Step,
    pub ahead: Option<Ahead<'c>>,
}

impl<'c> Again<'c> {
    /// A job held for a reservation, met at `step` of the walk, whose decision stands `at`
    /// among the cycle's; `ahead`: the queue ahead of it then.
    pub(crate) fn held(&mut self, (slot, step): (Slot, u64), at: usize, ahead: Queued<'c>) {
        self.held.push(Later {
            slot,
            step,
            at,
            ahead,
            first: None,
        });
    }

    /// A wait whose burst rule read the outlook of the private candidates screened at
    /// `screen` in `memo`, as the memo stands just after it; its decision stands `at` among
    /// the cycle's.
    pub(crate) fn read_outlook(
        &mut self,
        (slot, step): (Slot, u64),
        at: usize,
        ahead: Queued<'c>,
        (memo, screen): (&CycleMemo<'c>, usize),
    ) {
        self.read_outlook.push(Later {
            slot,
            step,
            at,
            ahead,
            first: Some((memo.changes(), screen)),
        });
    }

    /// A waiting job that got a reservation at `step` of the walk; `share`: what it adds to
    /// the queue ahead on its candidates.
    pub(crate) fn reserved(&mut self, step: u64, job: JobId, share: Queued<'c>) {
        self.reserved.push((step, job, share));
    }

    /// The next job to meet again, once the walk is over.
    pub(crate) fn next(&mut self, memo: &CycleMemo<'c>) -> Option<Meeting<'c>> {
        let at = self.met;
        let later = match at.checked_sub(self.held.len()) {
            None => &mut self.held[at],
            Some(at) => self.read_outlook.get_mut(at)?,
        };
        self.met += 1;
        // the jobs reserved after it that still hold their reservation come first next cycle
        let passed_by = self
            .reserved
            .iter()
            .filter(|(step, job, _)| *step > later.step && memo.reservations.holds(*job));
        let stands = match later.first {
            None => false,
            Some((mark, screen)) => {
                passed_by.clone().next().is_none()
                    && memo
                        .screens
                        .get(screen)
                        .is_some_and(|screened| !memo.changed_since(mark, &screened.candidates))
            }
        };
        let ahead = (!stands).then(|| {
            let mut ahead: Ahead<'c> = later.ahead.iter().copied().collect();
            for (flavor, milli) in passed_by.flat_map(|(_, _, share)| share) {
                *ahead.entry(*flavor).or_default() += milli;
            }
            ahead
        });
        Some(Meeting {
            step: Step {
                slot: later.slot,
                from: From::Again,
                at: Some(later.at),
            },
            ahead,
        })
    }
}
