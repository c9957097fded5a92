//! Preemption (step 5 of the cycle): when a job cannot start as things stand, which running
//! jobs it may evict so that it can, and where it then runs.
//!
//! The rules are Kueue's `preemption` block of the preemptor's ClusterQueue — its own
//! (`ClusterQueue::preemption`, as pasted Kueue objects give it) or, for a queue without one,
//! the policy's: `withinClusterQueue` says whom a job may evict in its own ClusterQueue,
//! `reclaimWithinCohort` whom in the other ClusterQueues of its cohort (only those borrowing, as
//! Kueue reclaims lent quota), `borrowWithinCohort` which of those a job that must itself
//! borrow may still take. On top, a running job whose deadline would be missed because of the
//! eviction is protected unless the policy allows deadline misses, and the platform's guards
//! keep preemption from throwing work away or falling on the same job again and again.
//!
//! ## Who ranks below the preemptor
//! A running job may be a victim of pending job `P` only when every one of these holds:
//! 1. it is not `P`, it holds private capacity (not a public lease), and it started before
//!    `now` (a job admitted in this very cycle is never evicted by a later decision of it);
//! 2. it runs on one of `P`'s candidate flavors;
//! 3. either it is in `P`'s ClusterQueue and `within_cluster_queue` allows it:
//!    `LowerPriority` — its priority is lower than `P`'s; `LowerOrNewerEqualPriority` — lower,
//!    or equal and it was submitted after `P` (submit time, then id);
//! 4. or it is in another ClusterQueue of `P`'s cohort, that queue is borrowing on the
//!    victim's flavor (uses more than its nominal quota of a resource `P` asks for), and
//!    `reclaim_within_cohort` allows it: `LowerPriority` — lower priority than `P`; `Any`;
//! 5. it has no deadline, or the policy allows deadline misses, or (unless the policy
//!    protects every deadline, `protect_deadlines`) it would still meet the deadline after the
//!    eviction: `now + restore_cost + remaining ≤ deadline`, where
//!    `remaining` is its work still to do after the attempt's last checkpoint (the core keeps a
//!    job's work across attempts: `progress`);
//! 6. the guards: it has run at least `min_run` since it started, it was evicted fewer than
//!    `max_evictions` times, and evicting it now loses at most `max_loss` (its restore and its
//!    compute since its last checkpoint).
//!
//! ## Which victims
//! See the `search` module: on each candidate flavor, victims are taken cheapest first until
//! the job fits one node and its queue's quota; the set is then made minimal, and the cheapest
//! set over all flavors and nodes wins. A victim's cost is the GPU time it loses: time since
//! its last checkpoint (all of it without checkpoints) plus its restore cost, times its GPUs,
//! and — when the policy says so — times one more than the evictions it already took, so that
//! a job that just restarted is not always the cheapest victim again. A set with reclaim
//! victims must let `P` fit without borrowing, except for the victims `borrowWithinCohort`
//! lets a borrowing job take (lower priority than `P`, at most its threshold).
//!
//! Limits, on purpose: room is made on one node — a job spread over several nodes is found
//! room only where one node's victims (with those freeing quota elsewhere) suffice; the
//! search is greedy per node, so the set is minimal but not always the cheapest possible.
//! Victims go back to pending; the shell stops them and they resume from their last
//! checkpoint, paying their restore cost.

mod evictable;
mod prune;
mod rank;
mod refusals;
mod search;
mod trial;

pub(crate) use evictable::Evictable;
pub use rank::VictimCost;
pub(crate) use refusals::{Family, Refusals};
pub(crate) use search::Search;

use crate::model::{BorrowWithinCohort, ClusterQueue, QueuePreemption};
use crate::units::Millis;
use serde::{Deserialize, Serialize};

pub use crate::model::{ReclaimWithinCohort, WithinClusterQueue};

/// When preemption is allowed and whom it may take. Kueue's own API defaults both choices to
/// `Never`; these defaults are the configuration Kueue's documentation shows for priority
/// classes with cohorts (`LowerPriority` within, `Any` reclaim). `enabled` is off by default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreemptionPolicy {
    /// Never preempt when false.
    #[serde(default)]
    pub enabled: bool,
    /// Whom a job may evict in its own ClusterQueue.
    #[serde(default)]
    pub within_cluster_queue: WithinClusterQueue,
    /// Whom a job may evict in other ClusterQueues of its cohort that are borrowing.
    #[serde(default)]
    pub reclaim_within_cohort: ReclaimWithinCohort,
    /// Evict a job even when the eviction would make it miss its deadline.
    #[serde(default)]
    pub allow_deadline_misses: bool,
    /// Never evict a job with a deadline, however much slack it has (unless deadline misses
    /// are allowed): an evicted job queues again, and the rule against misses counts only its
    /// restore and remaining work, not that wait.
    #[serde(default)]
    pub protect_deadlines: bool,
    /// At most this many victims for one admission; `None` = no bound.
    #[serde(default)]
    pub max_victims: Option<u32>,
    /// A job that has run less than this since it last started is not a victim (Slurm's
    /// `PreemptExemptTime`): the job just restarted would otherwise be the cheapest victim
    /// again at once, having lost least since starting.
    #[serde(default)]
    pub min_run: Millis,
    /// A job evicted this many times is not evicted again; `None` = no bound.
    #[serde(default)]
    pub max_evictions: Option<u32>,
    /// A victim's cost counts once more for each time it was evicted before, so that
    /// evictions spread over jobs instead of falling on the same one.
    #[serde(default)]
    pub cost_grows_with_evictions: bool,
    /// A job that would lose more than this — the time its attempt spent since its last
    /// checkpoint, its restore included — is not evicted: the preemptor waits (or bursts)
    /// rather than throw that much work away. `None` = no bound.
    #[serde(default)]
    pub max_loss: Option<Millis>,
}

impl PreemptionPolicy {
    /// Kueue's own rules with the platform's guards against preemption that does not pay: a
    /// job is evicted only while it would lose at most 5 minutes of work (it checkpointed
    /// lately, or it has only just started), at most 3 times, and each past eviction makes it
    /// a costlier victim. The figures behind them are in `scenarios/README.md`.
    pub fn platform() -> PreemptionPolicy {
        PreemptionPolicy {
            enabled: true,
            max_evictions: Some(3),
            cost_grows_with_evictions: true,
            max_loss: Some(Millis::minutes(5)),
            ..PreemptionPolicy::default()
        }
    }

    /// The rules for a job of `queue`: the queue's own `spec.preemption` where it has one,
    /// the policy's otherwise.
    pub fn rules(&self, queue: &ClusterQueue) -> QueuePreemption {
        queue.preemption.unwrap_or(QueuePreemption {
            within_cluster_queue: self.within_cluster_queue,
            reclaim_within_cohort: self.reclaim_within_cohort,
            borrow_within_cohort: BorrowWithinCohort::default(),
        })
    }
}

#[cfg(test)]
mod tests;
