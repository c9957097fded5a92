//! Inputs: everything that changes the scheduler's world. The sim produces them from its event
//! queue; the live adapter from Kubernetes watches. Both feed them through
//! [`Scheduler::apply`](crate::Scheduler::apply) and get the same state.

use crate::ids::{FlavorName, JobId, NodeName, QueueName};
use crate::model::{Job, NodeSpec, Quota, Resource};
use crate::units::{Millis, Money};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// A job enters its queue; it is considered from the next cycle on.
    JobSubmitted(Job),
    /// A running job ended; its GPUs, CPU, memory and quota are free at once.
    JobFinished(JobId),
    /// A running job stopped without finishing (evicted by the shell, its admission failed, its
    /// node lost it); it goes back to pending with its original submit time.
    JobRequeued(JobId),
    /// A pending or running job is withdrawn for good.
    JobCancelled(JobId),
    /// The reference work a pending job still has to do, as of its last checkpoint: what the
    /// shell knows of a stopped attempt (a preemption, a lost node, a failed admission). The
    /// core plans deadlines, burst prices and victim costs with it.
    JobProgress { job: JobId, remaining: Millis },
    /// The final bill of a burst's lease, `lease` as its [`PublicLease`] numbered it: what the
    /// cloud billed for it, provisioning, running and warm idle until its node was released
    /// or taken over. The rest of the lease's reservation is released.
    ///
    /// [`PublicLease`]: crate::decision::PublicLease
    PublicBilled { job: JobId, lease: u32, cost: Money },
    /// A node joins the fleet.
    NodeAdded(NodeSpec),
    /// A node leaves; jobs running on it go back to pending.
    NodeRemoved(NodeName),
    /// A ClusterQueue's quota for one flavor and resource changes. Jobs already admitted keep
    /// running even if the new quota is smaller, as in Kueue.
    QuotaChanged {
        queue: QueueName,
        flavor: FlavorName,
        resource: Resource,
        quota: Quota,
    },
}

/// What applying an input did besides changing state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// Jobs that were running and are pending again (their node left).
    pub requeued: Vec<JobId>,
}
