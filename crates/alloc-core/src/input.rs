//! Inputs: everything that changes the scheduler's world. The sim produces them from its event
//! queue; the live adapter from Kubernetes watches. Both feed them through
//! [`Scheduler::apply`](crate::Scheduler::apply) and get the same state.

use crate::ids::{FlavorName, JobId, NodeName, QueueName};
use crate::model::{Job, NodeSpec, Quota, Resource};
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
