//! Preemption (step 5 of the cycle): when a job cannot start as things stand, which running
//! jobs it may evict so that it can, and where it then runs.
//!
//! The rules are Kueue's `preemption` block of a ClusterQueue, taken as one platform policy:
//! `withinClusterQueue` says whom a job may evict in its own ClusterQueue, `reclaimWithinCohort`
//! whom in the other ClusterQueues of its cohort (only those borrowing, as Kueue reclaims lent
//! quota). On top, a running job whose deadline would be missed because of the eviction is
//! protected unless the policy allows deadline misses.
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
//! 5. it has no deadline, or the policy allows deadline misses, or it would still meet the
//!    deadline after the eviction: `now + restore_cost + remaining ≤ deadline`, where
//!    `remaining = runtime − work kept at the last checkpoint` (reference runtime; the core does
//!    not know earlier attempts' progress, so this errs on the side of protecting the job).
//!
//! ## Which victims
//! See the `search` module: on each candidate flavor, victims are taken cheapest first until
//! the job fits one node and its queue's quota; the set is then made minimal, and the cheapest
//! set over all flavors and nodes wins. A victim's cost is the GPU time it loses: time since
//! its last checkpoint (wall time since it started, modulo its checkpoint interval; all of it
//! without checkpoints) plus its restore cost, times its GPUs.
//!
//! Limits, on purpose: room is made on one node — a job spread over several nodes is found
//! room only where one node's victims (with those freeing quota elsewhere) suffice; the
//! search is greedy per node, so the set is minimal but not always the cheapest possible.
//! Victims go back to pending; the shell stops them and they resume from their last
//! checkpoint, paying their restore cost.

mod prune;
mod rank;
mod refusals;
mod search;
mod trial;

pub use rank::VictimCost;
pub(crate) use refusals::{Family, Refusals};
pub(crate) use search::Search;

use serde::{Deserialize, Serialize};

/// Kueue's `preemption.withinClusterQueue`: whom a job may evict in its own ClusterQueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum WithinClusterQueue {
    /// Never within the queue.
    Never,
    /// Jobs of lower priority.
    #[default]
    LowerPriority,
    /// Jobs of lower priority, or of equal priority submitted later.
    LowerOrNewerEqualPriority,
}

/// Kueue's `preemption.reclaimWithinCohort`: whom a job may evict in the other ClusterQueues of
/// its cohort, always only from queues that borrow on the contested flavor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ReclaimWithinCohort {
    /// Never from other queues.
    Never,
    /// Jobs of lower priority in borrowing queues.
    LowerPriority,
    /// Any job in a borrowing queue: a queue gets back the quota it lent.
    #[default]
    Any,
}

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
    /// At most this many victims for one admission; `None` = no bound.
    #[serde(default)]
    pub max_victims: Option<u32>,
}

#[cfg(test)]
mod tests;
