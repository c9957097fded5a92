//! Which running jobs may be evicted at all at a cycle's `now`, by flavor and ClusterQueue,
//! with what evicting each costs.
//!
//! Criteria 1, 5 and 6 of the module docs read only the victim and the time: it started before
//! `now`, holds private capacity, would still meet its deadline, and passes the guards (minimum
//! run, eviction cap, loss bound). Under the guards most running jobs are not evictable at a
//! given moment, which pruning cannot see (it counts whole priority levels), so every search
//! would read them all again. They are worked out once per flavor, queue and cycle instead, on
//! first need, and kept with the cycle's memo for the rest of the cycle: no decision of the cycle
//! makes them wrong. An admission adds only jobs started at `now`, never evictable in the
//! cycle that admits them; an eviction marks its victims evicting, and every reader looks a
//! listed job up (and skips it when it is evicting or gone); a job's cost reads only the job
//! and `now`.

use super::rank::VictimCost;
use crate::ids::{FlavorName, JobId, QueueName};
use crate::running::Running;
use crate::state::RunningPriorities;
use crate::units::Time;
use crate::view::View;
use std::ops::{Bound, RangeBounds};

/// A running job that may be evicted now, with what that costs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Victim {
    pub priority: i32,
    pub job: JobId,
    pub cost: VictimCost,
}

/// The victims of `victims` whose priority is in `priorities`.
pub(crate) fn within(
    victims: &[Victim],
    priorities: (Bound<i32>, Bound<i32>),
) -> impl Iterator<Item = &Victim> {
    victims
        .iter()
        .filter(move |victim| priorities.contains(&victim.priority))
}

/// The lists the cycle's searches have read so far: one per flavor and ClusterQueue holding
/// jobs there, each by priority, then id. By queue as well as flavor because a search reads
/// only its own queue and the borrowing queues of its cohort.
#[derive(Debug, Default)]
pub(crate) struct Evictable<'c> {
    /// A short list: a configuration has a handful of flavors and queues.
    lists: Vec<(&'c FlavorName, QueueName, Vec<Victim>)>,
}

impl<'c> Evictable<'c> {
    /// `owner`'s evictable jobs on `flavor` at `now`, worked out unless known.
    pub(crate) fn of(
        &mut self,
        view: &View<'_>,
        flavor: &'c FlavorName,
        owner: &QueueName,
        now: Time,
    ) -> &[Victim] {
        let known = self
            .lists
            .iter()
            .position(|(name, queue, _)| *name == flavor && queue == owner);
        let at = match known {
            Some(at) => at,
            None => {
                let victims = view.evictable_of(flavor, owner, now);
                self.lists.push((flavor, owner.clone(), victims));
                self.lists.len() - 1
            }
        };
        &self.lists[at].2
    }

    /// Forgets every list (the memo-free reference cycle does after each decision).
    pub(crate) fn clear(&mut self) {
        self.lists.clear();
    }
}

impl View<'_> {
    /// Criteria 1, 5 and 6: what evicting `running` at `now` costs, or `None` when it may not
    /// be evicted now by anybody.
    pub(crate) fn evictable_now(&self, running: &Running, now: Time) -> Option<VictimCost> {
        let policy = &self.policy.preemption;
        if running.placement.public.is_some() || running.started >= now {
            return None;
        }
        // the platform's guards against preemption that does not pay
        if now.since(running.started) < policy.min_run
            || policy
                .max_evictions
                .is_some_and(|max| running.progress.evictions >= max)
        {
            return None;
        }
        let cost = self.victim_cost(running, now);
        let protected = !policy.allow_deadline_misses
            && running
                .job
                .deadline
                .is_some_and(|deadline| policy.protect_deadlines || cost.resumed_end > deadline);
        let too_costly = policy.max_loss.is_some_and(|max| cost.lost > max);
        (!protected && !too_costly).then_some(cost)
    }

    /// `owner`'s evictable jobs on `flavor` at `now`.
    fn evictable_of(&self, flavor: &FlavorName, owner: &QueueName, now: Time) -> Vec<Victim> {
        let Some(by_priority) = self.ledgers.priorities.of(owner, flavor) else {
            return Vec::new();
        };
        RunningPriorities::within(by_priority, ..)
            .filter_map(|id| {
                let running = self.running.get(&id)?;
                let cost = self.evictable_now(running, now)?;
                Some(Victim {
                    priority: running.job.priority,
                    job: id,
                    cost,
                })
            })
            .collect()
    }
}
