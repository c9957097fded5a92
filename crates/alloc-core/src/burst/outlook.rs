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
    /// When the job would finish privately: the earliest time one of its private candidate
    /// flavors has enough GPUs free, counting running jobs as ending at their expected end,
    /// plus its restore and remaining work there. An estimate: it ignores other waiting jobs
    /// and node shapes. Each flavor's [`Outlook`] is read from `outlooks`, built there on
    /// first use.
    pub(crate) fn predicted_private_end<'c>(
        &self,
        job: &Job,
        progress: &Progress,
        candidates: &[&'c Flavor],
        now: Time,
        outlooks: &mut Outlooks<'c>,
    ) -> Time {
        let needed = job.gpu.milli().0;
        let mut best: Option<Time> = None;
        for flavor in candidates {
            let Some(speed) = self.flavor_speed(&flavor.name) else {
                continue;
            };
            let outlook = outlooks
                .entry(&flavor.name)
                .or_insert_with(|| self.outlook(&flavor.name));
            let Some(start) = outlook.start(needed, now) else {
                continue;
            };
            let end = start + progress.runtime_at(job, speed);
            best = Some(best.map_or(end, |b: Time| b.min(end)));
        }
        // No private flavor could ever hold it: it never finishes privately.
        best.unwrap_or(Time(u64::MAX))
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
