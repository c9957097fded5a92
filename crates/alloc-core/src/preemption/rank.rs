//! Who ranks below a preemptor (the numbered criteria of the module docs), and what an
//! eviction costs.

use super::{ReclaimWithinCohort, WithinClusterQueue};
use crate::ids::{FlavorName, QueueName};
use crate::model::{ClusterQueue, Flavor, Job, Resource, ResourceAmounts};
use crate::scheduler::{Running, Scheduler};
use crate::state::QuotaUsage;
use crate::units::{Millis, Time};
use std::cmp::{Ordering, Reverse};
use std::collections::BTreeMap;

/// What evicting a running job now costs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VictimCost {
    /// Compute since its last checkpoint (all of it without checkpoints).
    pub lost: Millis,
    /// `(lost + restore_cost) × GPUs`, in milli-GPU·ms (a CPU-only job counts as 1 milli-GPU).
    pub gpu_milli_ms: u128,
    /// Estimated end if it resumed at once: `now + restore_cost + runtime − kept work`.
    pub resumed_end: Time,
}

impl VictimCost {
    pub fn of(running: &Running, now: Time) -> VictimCost {
        let job = &running.job;
        let elapsed = now.since(running.started);
        let lost = match job.checkpoint_interval {
            Some(interval) if interval.0 > 0 => Millis(elapsed.0 % interval.0),
            _ => elapsed,
        };
        let kept = elapsed.saturating_sub(lost);
        let weight = u128::from(job.gpu.milli().0.max(1));
        VictimCost {
            lost,
            gpu_milli_ms: weight * u128::from(lost.0.saturating_add(job.restore_cost.0)),
            resumed_end: now + job.restore_cost + job.runtime.saturating_sub(kept),
        }
    }
}

/// A running job that ranks below the preemptor, with what evicting it costs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    pub running: &'a Running,
    pub cost: VictimCost,
    /// It is in another ClusterQueue of the cohort (reclaim), not in the preemptor's own.
    pub reclaim: bool,
}

impl Candidate<'_> {
    /// The order victims are taken in:
    /// 1. least lost work + restore cost (GPU·ms) first;
    /// 2. lower priority first;
    /// 3. later start first (it has run least);
    /// 4. lower job id (stable tie-break).
    pub fn order(&self, other: &Candidate<'_>) -> Ordering {
        let key = |c: &Candidate<'_>| {
            (
                c.cost.gpu_milli_ms,
                c.running.job.priority,
                Reverse(c.running.started),
                c.running.job.id,
            )
        };
        key(self).cmp(&key(other))
    }
}

impl Scheduler {
    /// Criteria 1, 3, 4 and 5 of the module docs (the caller checks the flavor): whether
    /// `running` ranks below `job` of `queue`; `borrowing` says whether the victim's queue
    /// borrows on its flavor (asked only for a victim of another queue of the cohort).
    pub(crate) fn ranks_below<'a>(
        &self,
        running: &'a Running,
        job: &Job,
        queue: &ClusterQueue,
        borrowing: impl FnOnce() -> bool,
        now: Time,
    ) -> Option<Candidate<'a>> {
        let policy = &self.policy.preemption;
        let victim = &running.job;
        if victim.id == job.id || running.placement.public.is_some() || running.started >= now {
            return None;
        }
        let reclaim = running.placement.queue != queue.name;
        let allowed = if reclaim {
            let same_cohort = queue.cohort.is_some()
                && self
                    .config
                    .cluster_queues
                    .get(&running.placement.queue)
                    .is_some_and(|other| other.cohort == queue.cohort);
            let by_priority = match policy.reclaim_within_cohort {
                ReclaimWithinCohort::Never => false,
                ReclaimWithinCohort::LowerPriority => victim.priority < job.priority,
                ReclaimWithinCohort::Any => true,
            };
            same_cohort && by_priority && borrowing()
        } else {
            match policy.within_cluster_queue {
                WithinClusterQueue::Never => false,
                WithinClusterQueue::LowerPriority => victim.priority < job.priority,
                WithinClusterQueue::LowerOrNewerEqualPriority => {
                    victim.priority < job.priority
                        || (victim.priority == job.priority
                            && (victim.submit_time, victim.id) > (job.submit_time, job.id))
                }
            }
        };
        if !allowed {
            return None;
        }
        let cost = VictimCost::of(running, now);
        let protected = !policy.allow_deadline_misses
            && victim
                .deadline
                .is_some_and(|deadline| cost.resumed_end > deadline);
        (!protected).then_some(Candidate {
            running,
            cost,
            reclaim,
        })
    }

    /// `queue` uses more than its nominal quota on `flavor` of a resource `request` asks for
    /// (of GPU when it asks for nothing).
    pub(crate) fn borrowing(
        &self,
        usage: &QuotaUsage,
        queue: &QueueName,
        flavor: &FlavorName,
        request: &ResourceAmounts,
    ) -> bool {
        let Some(cluster_queue) = self.config.cluster_queues.get(queue) else {
            return false;
        };
        let used = usage.of(queue, flavor);
        let asks_nothing = Resource::ALL.iter().all(|r| request.get(*r) == 0);
        Resource::ALL
            .into_iter()
            .filter(|r| request.get(*r) > 0 || (asks_nothing && *r == Resource::Gpu))
            .any(|r| {
                let nominal = cluster_queue.quota(flavor, r).map_or(0, |q| q.nominal);
                used.get(r) > nominal
            })
    }

    /// The lower-ranked running jobs on each candidate flavor (criterion 2), in the running
    /// jobs' id order. One pass over the running jobs; a priority comparison turns most away
    /// before anything else is read, and whether a queue borrows is asked once per queue.
    pub(crate) fn victim_pools<'a>(
        &'a self,
        job: &Job,
        queue: &ClusterQueue,
        candidates: &[&Flavor],
        now: Time,
    ) -> Vec<Vec<Candidate<'a>>> {
        let policy = &self.policy.preemption;
        let any_priority =
            policy.reclaim_within_cohort == ReclaimWithinCohort::Any && queue.cohort.is_some();
        let equal_priority =
            policy.within_cluster_queue == WithinClusterQueue::LowerOrNewerEqualPriority;
        let request = job.quota_usage();
        let mut borrowing: BTreeMap<(&QueueName, &FlavorName), bool> = BTreeMap::new();
        let mut pools: Vec<Vec<Candidate<'a>>> = vec![Vec::new(); candidates.len()];
        for running in self.running.values() {
            let priority = running.job.priority;
            let beyond = priority > job.priority || (priority == job.priority && !equal_priority);
            if beyond && !any_priority {
                continue;
            }
            let placement = &running.placement;
            let Some(position) = candidates.iter().position(|f| f.name == placement.flavor) else {
                continue;
            };
            let borrows = || {
                *borrowing
                    .entry((&placement.queue, &placement.flavor))
                    .or_insert_with(|| {
                        self.borrowing(
                            &self.ledgers.quota,
                            &placement.queue,
                            &placement.flavor,
                            &request,
                        )
                    })
            };
            if let Some(candidate) = self.ranks_below(running, job, queue, borrows, now) {
                pools[position].push(candidate);
            }
        }
        pools
    }
}
