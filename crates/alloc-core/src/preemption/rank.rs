//! Who ranks below a preemptor (the numbered criteria of the module docs), and what an
//! eviction costs.

use super::evictable::{within, Evictable, Victim};
use super::{ReclaimWithinCohort, WithinClusterQueue};
use crate::ids::{FlavorName, QueueName};
use crate::model::{ClusterQueue, Flavor, Job, Resource, ResourceAmounts};
use crate::running::Running;
use crate::state::RunningPriorities;
use crate::units::{Millis, Time};
use crate::view::View;
use std::cmp::{Ordering, Reverse};
use std::ops::Bound;

/// What evicting a running job now costs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VictimCost {
    /// Wall time the attempt spent that the job will spend again: its restore and its compute
    /// since its last checkpoint (all of it without checkpoints).
    pub lost: Millis,
    /// `(lost + restore_cost) × GPUs`, in milli-GPU·ms (a CPU-only job counts as 1 milli-GPU);
    /// times `1 + evictions so far` when the policy makes cost grow with evictions.
    pub gpu_milli_ms: u128,
    /// Estimated end if it resumed at once, at reference speed:
    /// `now + restore_cost + work left after its last checkpoint`.
    pub resumed_end: Time,
}

impl VictimCost {
    /// Evicting `running` at `now`; `grows`: whether each past eviction counts its cost once
    /// more.
    pub fn of(running: &Running, now: Time, grows: bool) -> VictimCost {
        let job = &running.job;
        let progress = &running.progress;
        let stop = progress.stop(job, running.began(), now, running.speed_permille);
        let weight = u128::from(job.gpu.milli().0.max(1));
        let times = if grows {
            u128::from(progress.evictions) + 1
        } else {
            1
        };
        VictimCost {
            lost: stop.lost,
            gpu_milli_ms: weight
                * u128::from(stop.lost.0.saturating_add(job.restore_cost.0))
                * times,
            resumed_end: now + job.restore_cost + progress.remaining.saturating_sub(stop.kept),
        }
    }
}

/// How the search takes one candidate flavor.
#[derive(Debug)]
pub(crate) enum Opening<'a> {
    /// Not searched: pruning turned it down.
    Closed,
    /// Searched, starting from the preemptor's own candidates there as pruning read them
    /// (`own_candidates`); the other queues' are read with the pool.
    From(Vec<Candidate<'a>>),
    /// Searched, every candidate read with the pool: the tests' unpruned reference search.
    #[cfg(test)]
    Unread,
}

/// A running job that ranks below the preemptor, with what evicting it costs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    pub running: &'a Running,
    pub cost: VictimCost,
    /// It is in another ClusterQueue of the cohort (reclaim), not in the preemptor's own.
    pub reclaim: bool,
    /// A reclaim victim the preemptor may take even while it borrows (its queue's
    /// `borrowWithinCohort`).
    pub while_borrowing: bool,
}

impl Candidate<'_> {
    /// Taking it means the job must then fit without borrowing: a reclaim victim that
    /// `borrowWithinCohort` does not cover (Kueue's rule against two queues taking turns
    /// evicting each other).
    pub fn forbids_borrowing(&self) -> bool {
        self.reclaim && !self.while_borrowing
    }

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

impl View<'_> {
    /// What evicting `running` at `now` would cost it, under the policy.
    pub(crate) fn victim_cost(&self, running: &Running, now: Time) -> VictimCost {
        let grows = self.policy.preemption.cost_grows_with_evictions;
        VictimCost::of(running, now, grows)
    }

    /// Criteria 1 and 3–6 of the module docs (the caller checks the flavor): whether
    /// `running` ranks below `job` of `queue`; `borrowing` says whether the victim's queue
    /// borrows on its flavor (asked only for a victim of another queue of the cohort).
    #[cfg(test)]
    pub(crate) fn ranks_below<'a>(
        &self,
        running: &'a Running,
        job: &Job,
        queue: &ClusterQueue,
        borrowing: impl FnOnce() -> bool,
        now: Time,
    ) -> Option<Candidate<'a>> {
        let same_cohort = || {
            queue.cohort.is_some()
                && self
                    .config
                    .cluster_queues
                    .get(&running.placement.queue)
                    .is_some_and(|other| other.cohort == queue.cohort)
        };
        let cost = self.evictable_now(running, now)?;
        self.ranks_below_given(running, cost, job, queue, same_cohort, borrowing)
    }

    /// Criteria 3 and 4 for a job evictable now at `cost` (criteria 1, 5 and 6, which read only
    /// the victim: [`View::evictable_now`]), told whether the victim's queue is in the
    /// preemptor's cohort (asked only for a victim of another queue), for callers that know it
    /// per queue.
    fn ranks_below_given<'a>(
        &self,
        running: &'a Running,
        cost: VictimCost,
        job: &Job,
        queue: &ClusterQueue,
        same_cohort: impl FnOnce() -> bool,
        borrowing: impl FnOnce() -> bool,
    ) -> Option<Candidate<'a>> {
        let rules = self.policy.preemption.rules(queue);
        let victim = &running.job;
        if victim.id == job.id {
            return None;
        }
        let reclaim = running.placement.queue != queue.name;
        let allowed = if reclaim {
            let same_cohort = same_cohort();
            let by_priority = match rules.reclaim_within_cohort {
                ReclaimWithinCohort::Never => false,
                ReclaimWithinCohort::LowerPriority => victim.priority < job.priority,
                ReclaimWithinCohort::Any => true,
            };
            same_cohort && by_priority && borrowing()
        } else {
            match rules.within_cluster_queue {
                WithinClusterQueue::Never => false,
                WithinClusterQueue::LowerPriority => victim.priority < job.priority,
                WithinClusterQueue::LowerOrNewerEqualPriority => {
                    victim.priority < job.priority
                        || (victim.priority == job.priority
                            && (victim.submit_time, victim.id) > (job.submit_time, job.id))
                }
            }
        };
        let while_borrowing = reclaim
            && rules
                .borrow_within_cohort
                .allows(job.priority, victim.priority);
        allowed.then_some(Candidate {
            running,
            cost,
            reclaim,
            while_borrowing,
        })
    }

    /// `queue`, using `used` of `flavor`, uses more than its nominal quota there of a resource
    /// `request` asks for (of GPU when it asks for nothing).
    pub(crate) fn borrowing(
        &self,
        used: ResourceAmounts,
        queue: &QueueName,
        flavor: &FlavorName,
        request: &ResourceAmounts,
    ) -> bool {
        let Some(cluster_queue) = self.config.cluster_queues.get(queue) else {
            return false;
        };
        let asks_nothing = Resource::ALL.iter().all(|r| request.get(*r) == 0);
        Resource::ALL
            .into_iter()
            .filter(|r| request.get(*r) > 0 || (asks_nothing && *r == Resource::Gpu))
            .any(|r| {
                let nominal = cluster_queue.quota(flavor, r).map_or(0, |q| q.nominal);
                used.get(r) > nominal
            })
    }

    /// The lower-ranked running jobs on each candidate flavor (criterion 2) that `openings`
    /// leaves open (none on the others), in job id order. Only the jobs evictable now are read
    /// (`evictable`, the cycle's lists), and of those only what criteria 3 and 4 could admit:
    /// the preemptor's own queue below (or at) its priority, and the other queues of its
    /// cohort that borrow on the flavor.
    pub(crate) fn victim_pools<'a, 'c>(
        &'a self,
        job: &Job,
        queue: &ClusterQueue,
        candidates: &[&'c Flavor],
        openings: Vec<Opening<'a>>,
        evictable: &mut Evictable<'c>,
        now: Time,
    ) -> Vec<Vec<Candidate<'a>>> {
        let request = job.quota_usage();
        candidates
            .iter()
            .zip(openings)
            .map(|(flavor, opening)| {
                let (mut pool, read_own) = match opening {
                    Opening::Closed => return Vec::new(),
                    Opening::From(own) => (own, true),
                    #[cfg(test)]
                    Opening::Unread => (Vec::new(), false),
                };
                for (owner, by_priority) in self.ledgers.priorities.on(&flavor.name) {
                    if read_own && *owner == queue.name {
                        continue;
                    }
                    let Some(priorities) = self.victim_priorities(job, queue, owner) else {
                        continue;
                    };
                    if RunningPriorities::within(by_priority, priorities)
                        .next()
                        .is_none()
                    {
                        continue;
                    }
                    let reclaim = *owner != queue.name;
                    let borrows = reclaim
                        && self.borrowing(
                            self.ledgers.quota.of(owner, &flavor.name),
                            owner,
                            &flavor.name,
                            &request,
                        );
                    if reclaim && !borrows {
                        continue;
                    }
                    let victims = evictable.of(self, &flavor.name, owner, now);
                    pool.extend(self.candidates_among(job, queue, victims, priorities, borrows));
                }
                pool.sort_by_key(|candidate| candidate.running.job.id);
                pool
            })
            .collect()
    }

    /// The candidates of `queue`'s own running jobs on `flavor`: the flavor's victim pool
    /// (see `victim_pools`) less its reclaim victims.
    pub(super) fn own_candidates<'c>(
        &self,
        job: &Job,
        queue: &ClusterQueue,
        flavor: &'c FlavorName,
        evictable: &mut Evictable<'c>,
        now: Time,
    ) -> Vec<Candidate<'_>> {
        let Some(priorities) = self.victim_priorities(job, queue, &queue.name) else {
            return Vec::new();
        };
        let victims = evictable.of(self, flavor, &queue.name, now);
        self.candidates_among(job, queue, victims, priorities, false)
            .collect()
    }

    /// The jobs of one owner's evictable `victims` within `priorities` that rank below `job`;
    /// `borrows`: whether that owner borrows there (read only of another queue's jobs).
    fn candidates_among<'a: 'b, 'b>(
        &'a self,
        job: &'b Job,
        queue: &'b ClusterQueue,
        victims: &'b [Victim],
        priorities: (Bound<i32>, Bound<i32>),
        borrows: bool,
    ) -> impl Iterator<Item = Candidate<'a>> + 'b {
        within(victims, priorities).filter_map(move |victim| {
            // a victim of an earlier decision of this cycle is on its way out
            let running = self
                .running
                .get(&victim.job)
                .filter(|running| running.evicting.is_none())?;
            // `victim_priorities` let this owner through: of the cohort, if another
            self.ranks_below_given(running, victim.cost, job, queue, || true, || borrows)
        })
    }

    /// The priorities of `owner`'s running jobs that criteria 3 and 4 may let `job` of
    /// `queue` evict; `None` when they let it evict none of `owner`'s.
    pub(super) fn victim_priorities(
        &self,
        job: &Job,
        queue: &ClusterQueue,
        owner: &QueueName,
    ) -> Option<(Bound<i32>, Bound<i32>)> {
        let rules = self.policy.preemption.rules(queue);
        let below = (Bound::Unbounded, Bound::Excluded(job.priority));
        if *owner == queue.name {
            return match rules.within_cluster_queue {
                WithinClusterQueue::Never => None,
                WithinClusterQueue::LowerPriority => Some(below),
                WithinClusterQueue::LowerOrNewerEqualPriority => {
                    Some((Bound::Unbounded, Bound::Included(job.priority)))
                }
            };
        }
        let same_cohort = queue.cohort.is_some()
            && self
                .config
                .cluster_queues
                .get(owner)
                .is_some_and(|other| other.cohort == queue.cohort);
        if !same_cohort {
            return None;
        }
        match rules.reclaim_within_cohort {
            ReclaimWithinCohort::Never => None,
            ReclaimWithinCohort::LowerPriority => Some(below),
            ReclaimWithinCohort::Any => Some((Bound::Unbounded, Bound::Unbounded)),
        }
    }
}
