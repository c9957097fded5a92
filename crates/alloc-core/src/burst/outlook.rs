//! When a waiting job would finish privately, from when the running jobs are expected to end:
//! the burst step's deadline slack.

use crate::decision::Placement;
use crate::ids::FlavorName;
use crate::model::{Flavor, Job};
use crate::progress::Progress;
use crate::units::Time;
use crate::view::View;
use std::collections::BTreeMap;

/// When GPUs free up on a private flavor: the milli-GPU free now, and the running jobs'
/// expected ends in order, each with the milli-GPU freed by then. It changes only when a
/// decision books or frees capacity on the flavor, so a cycle builds it once per flavor and
/// keeps it with the memo's answers (`memo::CycleMemo::after` drops it with them).
#[derive(Debug)]
pub(crate) struct Outlook {
    free: u64,
    ends: Vec<(Time, u64)>,
}

/// Each private flavor's [`Outlook`], built on first use in a cycle.
pub(crate) type Outlooks<'c> = BTreeMap<&'c FlavorName, Outlook>;

/// The milli-GPU that jobs decided earlier in the cycle, and still waiting for room, want on
/// each private flavor: a job wanting several flavors counts on each in equal parts. Only
/// the order puts a job ahead of another, so this grows through a cycle and starts empty in
/// the next.
pub(crate) type Ahead<'c> = BTreeMap<&'c FlavorName, u64>;

/// What a waiting job adds to the queue ahead on each of its candidates: its milli-GPU in
/// equal parts; `None` without a candidate.
fn share(job: &Job, candidates: &[&Flavor]) -> Option<u64> {
    job.gpu.milli().0.checked_div(candidates.len() as u64)
}

/// Adds a job that waits for room to the queue ahead of the jobs decided after it.
pub(crate) fn add_ahead<'c>(ahead: &mut Ahead<'c>, job: &Job, candidates: &[&'c Flavor]) {
    let Some(share) = share(job, candidates) else {
        return;
    };
    for flavor in candidates {
        *ahead.entry(&flavor.name).or_default() += share;
    }
}

/// A few flavors' milli-GPU of the queue ahead, kept without a map's allocation: a job's
/// candidates are few.
pub(crate) type Queued<'c> = Vec<(&'c FlavorName, u64)>;

/// What a waiting job adds to the queue ahead of the jobs after it.
pub(crate) fn share_of<'c>(job: &Job, candidates: &[&'c Flavor]) -> Queued<'c> {
    let Some(share) = share(job, candidates) else {
        return Vec::new();
    };
    candidates
        .iter()
        .map(|flavor| (&flavor.name, share))
        .collect()
}

/// The queue ahead of a job that waited as `ahead` holds it just after, on its candidates:
/// without the job's own share, which its decision added. What meeting it again reads
/// (`again`).
pub(crate) fn ahead_of<'c>(ahead: &Ahead<'c>, job: &Job, candidates: &[&'c Flavor]) -> Queued<'c> {
    let share = share(job, candidates).unwrap_or(0);
    candidates
        .iter()
        .filter_map(|flavor| {
            let queued = ahead.get(&flavor.name)?.saturating_sub(share);
            Some((&flavor.name, queued))
        })
        .collect()
}

/// When a waiting job would finish privately, and from when that prediction misses its
/// deadline as the clock alone moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Forecast {
    /// The predicted private end; `Time(u64::MAX)` when no private flavor could ever hold it.
    pub end: Time,
    /// The first instant at which `end` would pass `deadline` with nothing else changing;
    /// `None` when it already does, or there is no deadline.
    pub misses_from: Option<Time>,
}

impl Outlook {
    /// When `needed` milli-GPU are free at the earliest, not before `now`; `None` when not even
    /// every running job ending frees enough.
    fn start(&self, needed: u64, now: Time) -> Option<Time> {
        if self.free >= needed {
            return Some(now);
        }
        let at = self
            .ends
            .partition_point(|(_, freed)| self.free + freed < needed);
        self.ends.get(at).map(|(end, _)| (*end).max(now))
    }
}

impl View<'_> {
    /// When the job would finish privately, and from when that misses its deadline: the
    /// earliest time one of its private candidate flavors has enough GPUs free, counting
    /// running jobs as ending at their expected end, plus its restore and remaining work
    /// there. An estimate that ignores node shapes, and other waiting jobs unless `ahead` is
    /// given: then the GPUs the jobs ahead in the order wait for count as taken first. Each
    /// flavor's [`Outlook`] is read from `outlooks`, built there on first use.
    ///
    /// The start on a flavor is `max(when enough GPUs free up, now)`, so as the clock moves
    /// on alone a flavor that meets the deadline stops meeting it once `now` passes `deadline
    /// − runtime there`; the job misses once every flavor does.
    pub(crate) fn forecast<'c>(
        &self,
        job: &Job,
        progress: &Progress,
        candidates: &[&'c Flavor],
        now: Time,
        outlooks: &mut Outlooks<'c>,
        ahead: Option<&Ahead<'c>>,
    ) -> Forecast {
        let needed = job.gpu.milli().0;
        let mut best: Option<Time> = None;
        let mut misses_from: Option<Time> = None;
        for flavor in candidates {
            let Some(speed) = self.flavor_speed(&flavor.name) else {
                continue;
            };
            let outlook = outlooks
                .entry(&flavor.name)
                .or_insert_with(|| self.outlook(&flavor.name));
            let queued = ahead.and_then(|a| a.get(&flavor.name)).copied();
            let Some(start) = outlook.start(needed + queued.unwrap_or(0), now) else {
                continue;
            };
            let runtime = progress.runtime_at(job, speed);
            let end = start + runtime;
            best = Some(best.map_or(end, |b: Time| b.min(end)));
            if let Some(deadline) = job.deadline.filter(|deadline| end <= *deadline) {
                let from = Time(deadline.0.saturating_sub(runtime.0).saturating_add(1));
                misses_from = Some(misses_from.map_or(from, |m: Time| m.max(from)));
            }
        }
        // No private flavor could ever hold it: it never finishes privately.
        Forecast {
            end: best.unwrap_or(Time(u64::MAX)),
            misses_from,
        }
    }

    /// `flavor`'s free milli-GPU now and its running private jobs' expected ends.
    fn outlook(&self, flavor: &FlavorName) -> Outlook {
        let free = self
            .ledgers
            .fleet
            .nodes_of(flavor)
            .flat_map(|n| n.gpus.iter())
            .map(|g| g.free.0)
            .sum();
        let mut ends: Vec<(Time, u64)> = self
            .running
            .values()
            .filter(|r| r.placement.flavor == *flavor && r.placement.public.is_none())
            .map(|r| (r.expected_end(), r.job.gpu.milli().0))
            .collect();
        ends.sort_unstable();
        let mut freed = 0;
        for (_, milli) in &mut ends {
            freed += *milli;
            *milli = freed;
        }
        Outlook { free, ends }
    }

    /// The fastest GPU model among the flavor's nodes (or its declared model).
    pub(crate) fn flavor_speed(&self, flavor: &FlavorName) -> Option<u32> {
        let declared = self
            .config
            .flavors
            .get(flavor)
            .and_then(|f| f.gpu_model.as_ref())
            .and_then(|m| self.config.gpu_models.get(m))
            .map(|m| m.speed_permille);
        declared.or_else(|| {
            self.ledgers
                .fleet
                .nodes_of(flavor)
                .filter_map(|n| n.spec.gpu_model.as_ref())
                .filter_map(|m| self.config.gpu_models.get(m))
                .map(|m| m.speed_permille)
                .max()
        })
    }

    /// The speed a job placed so computes at: its rented GPU model for a burst, the slowest
    /// model it runs on otherwise (1000 for CPU-only work).
    pub(crate) fn placement_speed(&self, placement: &Placement) -> u32 {
        let model = |name| self.config.gpu_models.get(name).map(|m| m.speed_permille);
        if let Some(lease) = &placement.public {
            return model(&lease.gpu_model).unwrap_or(1000);
        }
        placement
            .nodes
            .iter()
            .filter_map(|share| self.ledgers.fleet.node(&share.node))
            .filter_map(|n| n.spec.gpu_model.as_ref())
            .filter_map(model)
            .min()
            .unwrap_or(1000)
    }
}
