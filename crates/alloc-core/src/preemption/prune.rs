//! Cheap, exact refusals ahead of the search: flavors on which no victim set can work, or
//! where there is nobody to evict.
//!
//! 1. On a flavor where the preemptor's own ClusterQueue has no job it may evict (by the
//!    `withinClusterQueue` rule and [`RunningPriorities`](crate::state::RunningPriorities)),
//!    every victim would be a reclaim victim from another queue of the cohort. A set with
//!    reclaim victims must let the job fit *without* borrowing (step 4 of the search), yet
//!    evicting other queues' jobs leaves the preemptor's own usage as it is: if that usage
//!    plus the request is above the queue's nominal quota for some resource, no set can work
//!    there.
//! 2. Quota only loosens as usage falls, so if the queue's quota would still be short with
//!    every job the preemptor may evict on the flavor gone, no set can work there; nor can one
//!    if quota would then admit the job only by borrowing (so no reclaim victim may be taken)
//!    and it is still short with every such job of its own queue gone. The index keeps the
//!    quota each priority level holds, so this reads no running job.
//! 3. Tests 1 and 2 count every job of a priority level, but the search's candidates leave out
//!    the jobs that deadline protection or a start at `now` keeps. So on a flavor still open,
//!    the preemptor's own candidates are read (only those; other queues' jobs are often most
//!    of a pool). Reclaim victims never change the queue's own usage: if the request is still
//!    above its nominal quota with all of its own candidates gone, no set fits without
//!    borrowing, so no set may hold a reclaim victim, and if quota is then still short, no set
//!    can work. The search makes these very checks before trying any set (step 1 of
//!    `search`), so a flavor this test turns down is one the search turns down too; on a
//!    flavor it leaves open, the search's victim pool starts from the candidates it read.
//!
//! Before test 2, the same reading tells a flavor where the preemptor may evict nothing at
//! all ([`Prospect::NoVictims`]): nobody ranks below it there, whatever its size, so the
//! search need not build that flavor's victim pool either.
//!
//! Deep backlogs in a saturated cohort are mostly such jobs, and tests 1 and 2 answer them
//! without reading the running jobs. Both are conservative: they ignore deadline protection and
//! start times, and test 2 counts another queue's jobs as gone when it is over its nominal
//! quota for any resource (the search asks only of the resources the request asks for), so
//! they only say "hopeless" when the search would find nothing (a property test holds them to
//! it). All three only get harder for a larger request or a lower priority (whose candidates
//! are a subset), as `refusals` needs of a refusal.

use super::evictable::Evictable;
use super::rank::Candidate;
use super::trial::Released;
use super::WithinClusterQueue;
use crate::ids::{FlavorName, QueueName};
use crate::model::{
    BorrowWithinCohortPolicy, ClusterQueue, Flavor, Job, Resource, ResourceAmounts,
};
use crate::quota::Mode;
use crate::state::RunningPriorities;
use crate::units::Time;
use crate::view::View;

/// What pruning finds of one candidate flavor.
#[derive(Debug)]
pub(super) enum Prospect<'a> {
    /// No victim set there can admit the job (test 1, 2 or 3).
    Hopeless,
    /// No job the preemptor may evict runs there, whatever its deadline or start: nobody
    /// ranks below it there, whatever its size.
    NoVictims,
    /// To be searched, from the preemptor's own candidates there as test 3 read them.
    Open(Vec<Candidate<'a>>),
}

impl View<'_> {
    /// Whether a victim set on `flavor` might admit `job` of `queue` (see the module docs).
    pub(super) fn prospect_on<'c>(
        &self,
        job: &Job,
        queue: &ClusterQueue,
        flavor: &'c Flavor,
        evictable: &mut Evictable<'c>,
        now: Time,
    ) -> Prospect<'_> {
        // Tests 1 and 3, and test 2's second question, rest on "no reclaim victim while the
        // job borrows", which `borrowWithinCohort` lifts for some victims.
        let borrow_within = self
            .policy
            .preemption
            .rules(queue)
            .borrow_within_cohort
            .policy
            != BorrowWithinCohortPolicy::Never;
        if !borrow_within && self.only_reclaim_over_nominal(job, queue, flavor) {
            return Prospect::Hopeless;
        }
        if let Some(prospect) = self.prospect_by_quota(job, queue, flavor, borrow_within) {
            return prospect;
        }
        let own = self.own_candidates(job, queue, &flavor.name, evictable, now);
        let request = job.quota_usage();
        if !borrow_within && self.own_candidates_fall_short(queue, &flavor.name, &request, &own) {
            Prospect::Hopeless
        } else {
            Prospect::Open(own)
        }
    }

    /// Test 1 of the module docs.
    fn only_reclaim_over_nominal(&self, job: &Job, queue: &ClusterQueue, flavor: &Flavor) -> bool {
        let lowest = self.ledgers.priorities.lowest(&queue.name, &flavor.name);
        let within = self.policy.preemption.rules(queue).within_cluster_queue;
        let own_victims = lowest.is_some_and(|lowest| match within {
            WithinClusterQueue::Never => false,
            WithinClusterQueue::LowerPriority => lowest < job.priority,
            WithinClusterQueue::LowerOrNewerEqualPriority => lowest <= job.priority,
        });
        if own_victims {
            return false;
        }
        let used = self.ledgers.quota.of(&queue.name, &flavor.name);
        above_nominal(queue, &flavor.name, &used, &job.quota_usage())
    }

    /// Test 2 of the module docs, after finding whether `job` may evict anything at all;
    /// `None` when neither answers.
    fn prospect_by_quota(
        &self,
        job: &Job,
        queue: &ClusterQueue,
        flavor: &Flavor,
        borrow_within: bool,
    ) -> Option<Prospect<'static>> {
        let flavor = &flavor.name;
        // what the jobs `job` may evict hold: all of them, and those of its own queue
        let (mut all, mut own) = (Released::default(), Released::default());
        for (owner, jobs) in self.ledgers.priorities.on(flavor) {
            let Some(priorities) = self.victim_priorities(job, queue, owner) else {
                continue;
            };
            let is_own = *owner == queue.name;
            if !is_own && !self.over_nominal(owner, flavor) {
                continue;
            }
            if let Some(held) = RunningPriorities::held(jobs, priorities) {
                all.insert(owner, flavor, &held);
                if is_own {
                    own.insert(owner, flavor, &held);
                }
            }
        }
        if all.is_empty() {
            return Some(Prospect::NoVictims);
        }
        let request = job.quota_usage();
        let hopeless = match self.mode_with(queue, flavor, &request, &all) {
            None => true,
            Some(Mode::Fit) => false,
            Some(Mode::Borrow) => {
                !borrow_within && self.mode_with(queue, flavor, &request, &own).is_none()
            }
        };
        hopeless.then_some(Prospect::Hopeless)
    }

    /// Test 3 of the module docs: with every candidate of `queue`'s own gone, the request is
    /// still above the queue's nominal quota, so no set fits without borrowing, and quota is
    /// still short.
    fn own_candidates_fall_short(
        &self,
        queue: &ClusterQueue,
        flavor: &FlavorName,
        request: &ResourceAmounts,
        own: &[Candidate<'_>],
    ) -> bool {
        let released = Released::of(own);
        let used = released.usage_of(&self.ledgers.quota, &queue.name, flavor);
        above_nominal(queue, flavor, &used, request)
            && self.mode_with(queue, flavor, request, &released).is_none()
    }

    /// `queue` uses more than its nominal quota on `flavor` of some resource: only such a
    /// queue can be reclaimed from (the search asks only of the resources the request asks
    /// for).
    fn over_nominal(&self, queue: &QueueName, flavor: &FlavorName) -> bool {
        let Some(quotas) = self
            .config
            .cluster_queues
            .get(queue)
            .and_then(|queue| queue.flavors.iter().find(|f| f.flavor == *flavor))
        else {
            return self.ledgers.quota.of(queue, flavor) != ResourceAmounts::default();
        };
        let used = self.ledgers.quota.of(queue, flavor);
        Resource::ALL.into_iter().any(|resource| {
            let nominal = quotas.resources.get(&resource).map_or(0, |q| q.nominal);
            used.get(resource) > nominal
        })
    }
}

/// `queue`, using `used` of `flavor`, would go above its nominal quota there by admitting
/// `request`, for some resource the request asks for: it could admit it only by borrowing.
fn above_nominal(
    queue: &ClusterQueue,
    flavor: &FlavorName,
    used: &ResourceAmounts,
    request: &ResourceAmounts,
) -> bool {
    Resource::ALL.into_iter().any(|resource| {
        let needed = request.get(resource);
        let nominal = queue.quota(flavor, resource).map_or(0, |q| q.nominal);
        needed > 0 && used.get(resource).saturating_add(needed) > nominal
    })
}
