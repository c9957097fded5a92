//! Jobs that wait for room in a BestEffortFIFO queue, kept quiet in lines.
//!
//! A saturated BestEffortFIFO queue holds thousands of jobs that each cycle tells "no flavor
//! fits" again (Philly on 448 GPUs: up to 19k of them over ≈160k cycles). Within a cycle room
//! only shrinks: admissions book, preemptions keep their victims' capacity until they stop,
//! bursts book public flavors. So once one job of a request class finds no room, every job of
//! the class after it in the order finds none either; and a wait for room quotes the state the
//! cycle ends in (`Scheduler::cycle`), the same for the whole class. A job whose answer is
//! read off its class alone — nothing of its own that a cycle could change: no deadline, no
//! cap on its user or tenant, no budget screen, no burst rule but a fixed one, no way to
//! preempt — is quiet. It sits in a line of its class, tenant, priority and budget kind:
//! everything its score reads but its wait, so each line keeps its order under the scored
//! order too, and a cycle meets a line's jobs in their place only while their class may still
//! find room. See `walk` for what else makes a cycle meet them.

use crate::classes::ClassId;
use crate::decision::{Decision, WaitReason};
use crate::ids::TenantName;
use crate::model::{ClusterQueue, QueueingStrategy};
use crate::pending::Waiting;
use crate::policy::Admission;
use crate::preemption::{ReclaimWithinCohort, WithinClusterQueue};
use crate::score::terms::budget_headroom;
use crate::view::View;

/// A line of quiet jobs: everything their place in the order and their answer share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Line {
    pub class: ClassId,
    pub tenant: TenantName,
    pub priority: i32,
    /// The budget term of the score, as bits: equal budget kinds score equal.
    headroom: u64,
}

impl Line {
    pub(crate) fn of(waiting: &Waiting) -> Line {
        let job = &waiting.job;
        Line {
            class: waiting.class,
            tenant: job.tenant.clone(),
            priority: job.priority,
            headroom: budget_headroom(&job.budget).to_bits(),
        }
    }
}

impl View<'_> {
    /// Whether `waiting`, told `decision`, may wait quietly in its line: it waits for room
    /// in a BestEffortFIFO queue (`queue`, its ClusterQueue), and nothing of its own could change its answer while its
    /// class finds none. A deadline may become infeasible or call for a rescue; a cap on its
    /// user or tenant may be reached; a budget screen reads prices; a burst rule other than a
    /// fixed one (not burstable, sensitive, fixed budget, no public flavor) reads the clock or
    /// the spend; awaited victims, a nomination or a reservation decide first; and a queue
    /// that may preempt by reclaiming in its cohort, or evict equal priorities, could find
    /// victims (evicting lower priorities is checked per cycle, see `walk`). Under backfill a
    /// job large enough to hold a reservation is never quiet: it may get one whenever it is
    /// met, and is then decided first. A smaller one a reservation holds back leaves its line
    /// (`cycle`): it waits for more than room.
    pub(crate) fn may_wait_quietly(
        &self,
        waiting: &Waiting,
        decision: &Decision,
        queue: &ClusterQueue,
    ) -> bool {
        let Decision::Wait {
            reason: WaitReason::NoFlavorFits { .. },
            no_burst,
            ..
        } = decision
        else {
            return false;
        };
        let fixed_burst_rule = match no_burst {
            None => self.policy.burst.mode == crate::burst::BurstMode::Never,
            Some(why) => why.for_good(),
        };
        let job = &waiting.job;
        fixed_burst_rule
            && self.policy.admission == Admission::OnePhase
            && !self
                .policy
                .backfill
                .may_reserve(job, self.ledgers.fleet.largest_node_gpus())
            && job.deadline.is_none()
            && waiting.awaiting.is_empty()
            && waiting.nominated.is_none()
            && waiting.reserved.is_none()
            && queue.strategy == QueueingStrategy::BestEffortFIFO
            && self.evicts_only_lower_priorities(queue)
            && (job.budget.limit.is_none() || self.may_burst(job).is_err())
            && !self.capped(job)
    }

    /// Whether a cap on running jobs or GPUs applies to the job's user or tenant.
    fn capped(&self, job: &crate::model::Job) -> bool {
        let user = self.config.users.get(&job.user);
        let tenant = self.config.tenants.get(&job.tenant);
        user.is_some_and(|user| user.max_running_jobs.is_some() || user.max_gpus.is_some())
            || tenant.is_some_and(|t| t.max_running_jobs.is_some() || t.max_gpus.is_some())
    }

    /// Whether a job of `queue` could preempt only lower-priority jobs of its own queue (or
    /// nobody): no reclaiming or borrowing in a cohort, no equal priorities.
    fn evicts_only_lower_priorities(&self, queue: &ClusterQueue) -> bool {
        let preemption = &self.policy.preemption;
        if !preemption.enabled {
            return true;
        }
        let rules = preemption.rules(queue);
        let within = matches!(
            rules.within_cluster_queue,
            WithinClusterQueue::Never | WithinClusterQueue::LowerPriority
        );
        let cohort = queue.cohort.is_none()
            || (rules.reclaim_within_cohort == ReclaimWithinCohort::Never
                && rules.borrow_within_cohort == Default::default());
        within && cohort
    }

    /// Whether a job of `queue` at `priority` could find a victim now: a running job of lower
    /// priority under `LowerPriority` (any queue's: a bound, cheap to keep per cycle).
    pub(crate) fn may_evict_for(
        &self,
        queue: &ClusterQueue,
        priority: i32,
        lowest_running: Option<i32>,
    ) -> bool {
        let preemption = &self.policy.preemption;
        preemption.enabled
            && preemption.rules(queue).within_cluster_queue == WithinClusterQueue::LowerPriority
            && lowest_running.is_some_and(|lowest| lowest < priority)
    }
}
