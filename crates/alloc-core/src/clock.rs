//! When the clock alone could change a decision. Between inputs, a waiting job's answer moves
//! only through the rules that read `now`; each gives the earliest instant it could flip, a
//! lower bound, so that a shell that cycles again then (a controller's `requeueAfter`) misses
//! no change, and one that cycles earlier finds none:
//!
//! - **burst wait**: a job too early to burst may once it has waited its threshold, which
//!   shrinks as its deadline nears (at most `base ÷ slack_reference` per unit of time, as the
//!   slack shrinks at most as fast as time passes);
//! - **deadline**: a deadline that can still be met cannot once `now` plus the fastest private
//!   run (or, with no private candidate, the fastest burst) passes it;
//! - **preemption**: a running job becomes a possible victim once it has run `min_run` (and
//!   at least a moment), and may again at each checkpoint, where what evicting it loses
//!   drops; it stops being one once its deadline or the loss bound protects it; a search
//!   takes victims cheapest first up to `max_victims`, and costs grow at different rates, so
//!   where two cross, or one drops out, the search may find what it did not;
//! - **score order**: under a scored order a StrictFIFO queue's head may change as scores
//!   move; with such queues waiting, the order is looked at again after [`SCORE_RECHECK`].

use crate::burst::quote;
use crate::decision::{Decision, WaitReason};
use crate::ids::FlavorName;
use crate::memo::Screened;
use crate::model::Job;
use crate::progress::Progress;
use crate::units::{Millis, Time};
use crate::view::View;
use std::collections::BTreeMap;

/// How long a scored order with waiting StrictFIFO queues is trusted not to change their
/// heads: scores move continuously, so there is no exact instant to give.
pub const SCORE_RECHECK: Millis = Millis(60_000);

/// The earliest of the instants offered.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NextChange(Option<Time>);

impl NextChange {
    pub(crate) fn at(&mut self, time: Time) {
        self.0 = Some(self.0.map_or(time, |known| known.min(time)));
    }

    pub(crate) fn get(self) -> Option<Time> {
        self.0
    }
}

impl View<'_> {
    /// When the clock could change `decision`, a wait of `job` decided at `now` with its
    /// screening `screened` (`None`: not kept; the earliest instant is assumed).
    pub(crate) fn wait_may_change(
        &self,
        job: &Job,
        progress: &Progress,
        decision: &Decision,
        screened: Option<&Screened<'_>>,
        now: Time,
        next: &mut NextChange,
    ) {
        let Decision::Wait { reason, .. } = decision else {
            return;
        };
        if matches!(reason, WaitReason::VictimsStopping { .. }) {
            return;
        }
        if let (Some(deadline), true) = (job.deadline, self.policy.reject_infeasible_deadlines) {
            match screened {
                Some(screened) => {
                    if let Some(run) = self.fastest_run(job, progress, screened, now) {
                        next.at(Time(deadline.0.saturating_sub(run.0) + 1).max(now + Millis(1)));
                    }
                }
                None => next.at(now + Millis(1)),
            }
        }
    }

    /// The earliest instant a job too early to burst at `now` (until `from` at the current
    /// threshold) may: `from` itself unless the threshold shrinks with the deadline.
    pub(crate) fn burst_wait_ends(&self, job: &Job, from: Time, now: Time) -> Time {
        let policy = &self.policy.burst;
        if !policy.deadline_aware || job.deadline.is_none() {
            return from;
        }
        let base = u128::from(policy.wait.threshold(job).0);
        let reference = u128::from(policy.slack_reference.0.max(1));
        let ahead = u128::from(from.since(now).0);
        // waited grows at 1, the threshold falls at most at base / reference
        let bound = ahead * reference / (reference + base);
        now + Millis((bound as u64).max(1))
    }

    /// The shortest the job could take from `now`: on its fastest private candidate, or with
    /// none, its fastest burst; `None` when nothing could run it.
    fn fastest_run(
        &self,
        job: &Job,
        progress: &Progress,
        screened: &Screened<'_>,
        now: Time,
    ) -> Option<Millis> {
        screened.fastest_private_run(job, progress).or_else(|| {
            screened
                .public
                .iter()
                .filter_map(|flavor| quote(self.offers, job, progress, flavor, now))
                .map(|quote| quote.end.since(now))
                .min()
        })
    }

    /// When the clock could change what a preemption search finds: a running job becomes a
    /// possible victim once it has run `min_run` (and a moment); at each checkpoint what
    /// evicting it loses drops (which may bring it under `max_loss` or let it meet its
    /// deadline again); it stops being one when its deadline or `max_loss` comes to protect
    /// it (which changes what a search bounded by `max_victims` takes instead); and the
    /// cheapest-first order the search takes victims in changes
    /// where two victims' costs cross (each grows with its GPUs, times its evictions when the
    /// policy says so): among all of a flavor's running jobs the first crossing is between
    /// two that are adjacent in that order now.
    ///
    /// The answer holds until it comes or the running jobs change (an admission, a stop, an
    /// eviction, a node's jobs moved), so it is kept until then: a quiet cycle over 6,000
    /// running jobs would otherwise spend a quarter of a millisecond on it.
    ///
    /// `kept`: the answer as worked out at an earlier instant, which the scheduler forgets
    /// when the running jobs change; replaced when it no longer holds.
    pub(crate) fn victims_may_change(
        &self,
        kept: &mut Option<(Time, Option<Time>)>,
        now: Time,
        next: &mut NextChange,
    ) {
        if !self.policy.preemption.enabled {
            return;
        }
        let earliest = match *kept {
            Some((at, earliest)) if at <= now && earliest.is_none_or(|e| now < e) => earliest,
            _ => {
                let mut found = NextChange::default();
                self.victims_change_after(now, &mut found);
                *kept = Some((now, found.get()));
                found.get()
            }
        };
        if let Some(earliest) = earliest {
            next.at(earliest);
        }
    }

    fn victims_change_after(&self, now: Time, next: &mut NextChange) {
        let policy = &self.policy.preemption;
        let mut by_flavor: BTreeMap<&FlavorName, Vec<(u128, u128)>> = BTreeMap::new();
        for running in self.running.values() {
            if running.placement.public.is_some() || running.evicting.is_some() {
                continue;
            }
            let eligible = running.started + policy.min_run.max(Millis(1));
            if eligible > now {
                next.at(eligible);
            }
            if let Some(interval) = running.job.checkpoint_interval.filter(|i| i.0 > 0) {
                let computing = running.began() + running.progress.restore(&running.job);
                let done = now.since(computing).0;
                next.at(computing + Millis((done / interval.0 + 1) * interval.0));
            }
            let victim = self.victim_cost(running, now);
            // a victim that may no longer be taken changes what a bounded search takes
            // instead (`max_victims`): its deadline comes to protect it, or it would lose
            // more than `max_loss`
            if let Some(deadline) = running
                .job
                .deadline
                .filter(|_| !policy.allow_deadline_misses)
            {
                if victim.resumed_end <= deadline {
                    next.at(now + deadline.since(victim.resumed_end) + Millis(1));
                }
            }
            if let Some(max) = policy.max_loss.filter(|max| victim.lost <= *max) {
                next.at(now + max.saturating_sub(victim.lost) + Millis(1));
            }
            let cost = victim.gpu_milli_ms;
            let times = match policy.cost_grows_with_evictions {
                true => u128::from(running.progress.evictions) + 1,
                false => 1,
            };
            let slope = u128::from(running.job.gpu.milli().0.max(1)) * times;
            by_flavor
                .entry(&running.placement.flavor)
                .or_default()
                .push((cost, slope));
        }
        for costs in by_flavor.values_mut() {
            costs.sort_unstable();
            for pair in costs.windows(2) {
                let ((low, fast), (high, slow)) = (pair[0], pair[1]);
                if fast > slow {
                    let ahead = (high - low) / (fast - slow);
                    next.at(now + Millis(u64::try_from(ahead).unwrap_or(u64::MAX / 2).max(1)));
                }
            }
        }
    }

    /// Under a scored order, which waiting job heads a StrictFIFO queue (and blocks the
    /// others) may change as scores move.
    pub(crate) fn heads_may_change(&self, now: Time, next: &mut NextChange) {
        if !matches!(self.policy.ordering, crate::score::Ordering::PriorityFifo) {
            next.at(now + SCORE_RECHECK);
        }
    }
}
