//! Preemption searches refused before any victim set was tried, and the other requests they
//! answer.
//!
//! A search is *refused* when, on every candidate flavor, one of these checks turned it down:
//! no job the queue may evict there (`prune`) or no lower-ranked job at all; the queue's quota
//! ceiling; quota short even with every candidate gone (or, when only borrowing could admit,
//! with every one of the queue's own candidates gone); and on each node that runs candidates,
//! too little even with all of them gone (`lower_bound`) or no room for the job there
//! (`room_without`). Each check only gets harder for a larger request of the same *family* —
//! same queue and candidate flavors in order, same kind of GPU request, spreading, accepted GPU
//! models and resources asked for, so the same jobs are its candidates — and for a lower
//! priority, whose candidates are a subset. So while the flavors it read are unchanged, a
//! refusal also answers every request of its family at least as large in GPUs, VRAM, CPU and
//! memory, at a priority no higher (strictly lower under `LowerOrNewerEqualPriority`, where
//! equal priorities also compare submit times). A search that tried victim sets and found
//! none answers only its own request (the memo's `no_preemption`): the sets are grown
//! greedily, which a larger request need not fail the same way.
//!
//! One refusal reaches further ([`Reach::AnySize`]): when every candidate flavor was searched
//! and none had a lower-ranked job at all. Who ranks below (the `preemption` module's
//! criteria 1–5) reads the request's family and priority, never its size, so that refusal
//! answers every request of the family at a priority no higher, whatever its size. Backlogs
//! whose requests differ only in CPU and memory are mostly answered so.

use super::WithinClusterQueue;
use crate::chains::{Chains, Grouped};
use crate::ids::{FlavorName, GpuModelName, QueueName};
use crate::model::{Flavor, GpuRequest, Job, Resource};
use std::collections::{BTreeMap, BTreeSet};

/// What a request's preemption search reads of it besides its size and priority.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Family<'c> {
    queue: &'c QueueName,
    candidates: Vec<&'c FlavorName>,
    /// 0: CPU only, 1: whole GPUs, 2: an MPS fraction.
    kind: u8,
    spread: bool,
    gpu_models: Option<BTreeSet<GpuModelName>>,
    /// Per resource of [`Resource::ALL`]: asked for at all.
    asks: [bool; 3],
}

impl<'c> Family<'c> {
    pub(crate) fn of(queue: &'c QueueName, candidates: &[&'c Flavor], job: &Job) -> Family<'c> {
        let usage = job.quota_usage();
        Family {
            queue,
            candidates: candidates.iter().map(|flavor| &flavor.name).collect(),
            kind: match job.gpu {
                GpuRequest::None => 0,
                GpuRequest::Whole { .. } => 1,
                GpuRequest::Fraction { .. } => 2,
            },
            spread: job.spread,
            gpu_models: job.gpu_models.clone(),
            asks: Resource::ALL.map(|resource| usage.get(resource) > 0),
        }
    }
}

/// Which requests of its family a refusal answers, besides those at a priority no higher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Those at least as large: some check read the request's size.
    LargerRequests,
    /// Every size: no check read it.
    AnySize,
}

/// A request's size within its family: GPUs (whole count or milli-GPU), VRAM, CPU, memory.
#[derive(Debug, Clone, Copy)]
struct Size([u64; 4]);

impl Size {
    fn of(job: &Job) -> Size {
        let (gpus, vram) = match job.gpu {
            GpuRequest::None => (0, 0),
            GpuRequest::Whole { count, min_vram } => (u64::from(count), min_vram.0),
            GpuRequest::Fraction { milli, vram } => (milli.0, vram.0),
        };
        Size([gpus, vram, job.cpu.0, job.memory.0])
    }

    fn within(&self, other: &Size) -> bool {
        self.0
            .iter()
            .zip(other.0)
            .all(|(mine, theirs)| *mine <= theirs)
    }
}

#[derive(Debug)]
struct Refusal {
    priority: i32,
    /// The refused request's size; `None` when the refusal answers every size.
    size: Option<Size>,
    /// The refused request's screening in the memo, whose candidates it read.
    screen: usize,
    family: usize,
}

impl Grouped for Refusal {
    fn group(&self) -> usize {
        self.family
    }
}

/// The refusals of one cycle, chained by family.
#[derive(Debug, Default)]
pub(crate) struct Refusals<'c> {
    families: BTreeMap<Family<'c>, usize>,
    refused: Chains<Refusal>,
}

impl<'c> Refusals<'c> {
    /// The number of `family`, given on first sight.
    pub(crate) fn family(&mut self, family: Family<'c>) -> usize {
        let next = self.families.len();
        *self.families.entry(family).or_insert(next)
    }

    /// A refusal in `family` answers `job` too (see the module docs).
    /// `within`: the family's queue's `withinClusterQueue` rule.
    pub(crate) fn cover(&self, family: usize, job: &Job, within: WithinClusterQueue) -> bool {
        let equal_is_different = within == WithinClusterQueue::LowerOrNewerEqualPriority;
        let size = Size::of(job);
        self.refused.of(family).any(|refusal| {
            let ranks = job.priority < refusal.priority
                || (job.priority == refusal.priority && !equal_is_different);
            ranks && refusal.size.is_none_or(|refused| refused.within(&size))
        })
    }

    /// Records that `job`'s search (screened at `screen`) was refused, reaching `reach`.
    pub(crate) fn add(&mut self, family: usize, screen: usize, job: &Job, reach: Reach) {
        self.refused.push(Refusal {
            priority: job.priority,
            size: (reach == Reach::LargerRequests).then(|| Size::of(job)),
            screen,
            family,
        });
    }

    /// Keeps the refusals whose screening `keep` accepts.
    pub(crate) fn retain(&mut self, keep: impl Fn(usize) -> bool) {
        self.refused.retain(|refusal| keep(refusal.screen));
    }

    /// Forgets every refusal (the families stay: they depend on the configuration only).
    pub(crate) fn clear(&mut self) {
        self.refused.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preemption::PreemptionPolicy;
    use crate::testing::JobBuilder;

    #[test]
    fn a_refusal_reaches_larger_requests_or_every_size_at_a_priority_no_higher() {
        let policy = PreemptionPolicy::default();
        let big = JobBuilder::gpus(4).cpu(8_000).priority(5).build();
        let smaller = JobBuilder::gpus(2).cpu(16_000).priority(5).build();
        let larger = JobBuilder::gpus(8).cpu(16_000).priority(3).build();
        let higher = JobBuilder::gpus(8).cpu(16_000).priority(6).build();
        let mut refusals = Refusals::default();
        refusals.add(0, 0, &big, Reach::LargerRequests);
        assert!(refusals.cover(0, &larger, policy.within_cluster_queue));
        assert!(!refusals.cover(0, &smaller, policy.within_cluster_queue));
        assert!(!refusals.cover(0, &higher, policy.within_cluster_queue));
        assert!(
            !refusals.cover(1, &larger, policy.within_cluster_queue),
            "another family"
        );
        refusals.add(0, 0, &big, Reach::AnySize);
        assert!(refusals.cover(0, &smaller, policy.within_cluster_queue));
        assert!(!refusals.cover(0, &higher, policy.within_cluster_queue));
        let strict = PreemptionPolicy {
            within_cluster_queue: WithinClusterQueue::LowerOrNewerEqualPriority,
            ..policy
        };
        assert!(
            !refusals.cover(0, &smaller, strict.within_cluster_queue),
            "equal priority compares submit times"
        );
    }

    #[test]
    fn every_refusal_of_a_family_answers_until_its_screening_is_forgotten() {
        let policy = PreemptionPolicy::default();
        let any_size = JobBuilder::gpus(4).priority(5).build();
        let large_only = JobBuilder::gpus(8).priority(2).build();
        let other_family = JobBuilder::gpus(1).priority(9).build();
        let small = JobBuilder::gpus(1).priority(4).build();
        let mut refusals = Refusals::default();
        // family 0's first refusal, another family's, then family 0's second
        refusals.add(0, 10, &any_size, Reach::AnySize);
        refusals.add(1, 11, &other_family, Reach::AnySize);
        refusals.add(0, 12, &large_only, Reach::LargerRequests);
        assert!(
            refusals.cover(0, &small, policy.within_cluster_queue),
            "by the family's first refusal"
        );
        assert!(refusals.cover(1, &small, policy.within_cluster_queue));
        // forgetting the first refusal's screening leaves the second, which is too large
        refusals.retain(|screen| screen != 10);
        assert!(!refusals.cover(0, &small, policy.within_cluster_queue));
        assert!(refusals.cover(
            0,
            &JobBuilder::gpus(8).priority(1).build(),
            policy.within_cluster_queue
        ));
        assert!(
            refusals.cover(1, &small, policy.within_cluster_queue),
            "other families keep theirs"
        );
        refusals.clear();
        assert!(!refusals.cover(1, &small, policy.within_cluster_queue));
    }
}
