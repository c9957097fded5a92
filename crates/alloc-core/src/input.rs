//! Inputs: everything that changes the scheduler's world. The sim produces them from its event
//! queue; the live adapter from Kubernetes watches. Both feed them through
//! [`Scheduler::apply`](crate::Scheduler::apply) and get the same state.

use crate::decision::Placement;
use crate::ids::{CohortName, FlavorName, JobId, LocalQueueName, NodeName, QueueName};
use crate::model::{ClusterQueue, Cohort, Flavor, Job, LocalQueue, NodeSpec, Quota, Resource};
use crate::units::{Millis, Money, Time};
use serde::{Deserialize, Serialize};

/// One change to the scheduler's world, as its shell saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
    JobProgress {
        /// The pending job.
        job: JobId,
        /// Reference work left, as of its last checkpoint.
        remaining: Millis,
    },
    /// The final bill of a burst's lease, `lease` as its [`PublicLease`] numbered it: what the
    /// cloud billed for it, provisioning, running and warm idle until its node was released
    /// or taken over. The rest of the lease's reservation is released.
    ///
    /// [`PublicLease`]: crate::decision::PublicLease
    PublicBilled {
        /// The job that burst.
        job: JobId,
        /// The lease's number.
        lease: u32,
        /// What the cloud billed.
        cost: Money,
    },
    /// A node joins the fleet.
    NodeAdded(NodeSpec),
    /// A node leaves; jobs running on it go back to pending.
    NodeRemoved(NodeName),
    /// A ClusterQueue's quota for one flavor and resource changes. Jobs already admitted keep
    /// running even if the new quota is smaller, as in Kueue.
    QuotaChanged {
        /// The ClusterQueue.
        queue: QueueName,
        /// The flavor whose quota changes.
        flavor: FlavorName,
        /// The resource whose quota changes.
        resource: Resource,
        /// The new quota.
        quota: Quota,
    },

    // What a controller sends: each object as a watch reports it now, applied twice or
    // applied after a restart with the same effect (see `protocol`).
    /// A job as its Workload now is. New: it is submitted. Pending and changed: the new spec
    /// replaces the old, its progress and any preemption it awaits kept. Unchanged, or
    /// running: nothing happens (Kueue does not let an admitted Workload's pod sets change;
    /// a running job keeps the spec it was admitted with).
    JobUpserted(Job),
    /// The cluster runs `job` at `placement` since `started`: how a controller that starts
    /// with Workloads already admitted rebuilds the running jobs. A pending or unknown job is
    /// booked there if the placement fits what is free; a running one with the same booking
    /// is left alone, one booked elsewhere is moved.
    JobAdmitted {
        /// The job as its Workload is.
        job: Job,
        /// Where the cluster runs it.
        placement: Box<Placement>,
        /// When it started, for its progress.
        started: Time,
    },
    /// Kueue reserved quota for a pending job on `flavor` (`None`: the reservation is gone).
    /// The core then decides only within that flavor: placement, deadline and budget,
    /// limits, burst. Admission or a requeue ends a reservation.
    QuotaReserved {
        /// The pending job.
        job: JobId,
        /// The flavor Kueue reserved quota on, or `None`.
        flavor: Option<FlavorName>,
    },
    /// A node as it now is. New: added. Unchanged: nothing. Changed: its jobs are booked on
    /// the new spec where they still fit and requeued where they do not.
    NodeUpserted(NodeSpec),
    /// A ResourceFlavor, ClusterQueue, LocalQueue or Cohort as it now is.
    ObjectUpserted(ConfigObject),
    /// A ResourceFlavor, ClusterQueue, LocalQueue or Cohort is gone. Refused while a running
    /// job holds quota through it (Kueue keeps such objects with a finalizer).
    ObjectRemoved(ConfigKey),
    /// A re-list begins: every object the controller still sees comes next, as upserts.
    ResyncStarted,
    /// The re-list is over: jobs, nodes and objects not upserted since `ResyncStarted` are
    /// gone, and removed (jobs as if cancelled, nodes with their jobs requeued; objects still
    /// in use are kept).
    ResyncFinished,
}

/// A configuration object a controller watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConfigObject {
    /// A ResourceFlavor.
    Flavor(Flavor),
    /// A ClusterQueue.
    ClusterQueue(ClusterQueue),
    /// A LocalQueue.
    LocalQueue(LocalQueue),
    /// A Cohort.
    Cohort(Cohort),
}

/// The name of a [`ConfigObject`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConfigKey {
    /// A ResourceFlavor's name.
    Flavor(FlavorName),
    /// A ClusterQueue's name.
    ClusterQueue(QueueName),
    /// A LocalQueue's name.
    LocalQueue(LocalQueueName),
    /// A Cohort's name.
    Cohort(CohortName),
}

impl ConfigObject {
    /// Its kind and name: what a removal or an error names it by.
    pub fn key(&self) -> ConfigKey {
        match self {
            ConfigObject::Flavor(flavor) => ConfigKey::Flavor(flavor.name.clone()),
            ConfigObject::ClusterQueue(queue) => ConfigKey::ClusterQueue(queue.name.clone()),
            ConfigObject::LocalQueue(queue) => ConfigKey::LocalQueue(queue.name.clone()),
            ConfigObject::Cohort(cohort) => ConfigKey::Cohort(cohort.name.clone()),
        }
    }
}

impl std::fmt::Display for ConfigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigKey::Flavor(name) => write!(f, "ResourceFlavor {name}"),
            ConfigKey::ClusterQueue(name) => write!(f, "ClusterQueue {name}"),
            ConfigKey::LocalQueue(name) => write!(f, "LocalQueue {name}"),
            ConfigKey::Cohort(name) => write!(f, "Cohort {name}"),
        }
    }
}

/// What applying an input did besides changing state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// Jobs that were running and are pending again (their node left or shrank).
    pub requeued: Vec<JobId>,
    /// Jobs a resync found gone and removed.
    pub removed: Vec<JobId>,
}

impl Input {
    /// Whether the input leaves every quiet job (blocked behind its StrictFIFO queue's head,
    /// see `queue_order`) with the answer it had: it brings, starts or ends jobs, or bills a
    /// burst, and changes no pending job's screening. Any other input wakes them (a job's own
    /// progress wakes that job).
    pub(crate) fn leaves_quiet_jobs_quiet(&self) -> bool {
        matches!(
            self,
            Input::JobSubmitted(_)
                | Input::JobFinished(_)
                | Input::JobRequeued(_)
                | Input::JobCancelled(_)
                | Input::JobProgress { .. }
                | Input::PublicBilled { .. }
                | Input::JobAdmitted { .. }
        )
    }
}
