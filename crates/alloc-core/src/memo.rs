//! What one cycle remembers between the pending jobs it decides, so that thousands of jobs
//! with few distinct requests cost few searches.
//!
//! Each memo holds only while the state it was computed on has not changed in a way that could
//! change the answer; `CycleMemo::after` drops what a decision invalidates:
//! - `no_room` (request shape → why no flavor fits): within a cycle capacity and quota only
//!   shrink as jobs are admitted, so a shape that found no room finds none later — until an
//!   eviction frees some (a `Preempt` clears it);
//! - `no_preemption` (shape, priority … → no preemption works): the search reads the running
//!   jobs, the fleet's free capacity and the quota usage. Jobs admitted in this cycle are never
//!   victims (they started `now`), but booking their private capacity or quota can change the
//!   search either way (a cohort member that starts to borrow becomes reclaimable), so any
//!   admission that books private resources, and any preemption, clears it. A burst books
//!   only a public lease, which the search never reads;
//! - `blocked`: the first waiting job of each StrictFIFO queue, for the jobs behind it;
//! - `screened` (local queue, request → queue, candidate flavors, or the rejection): reads only
//!   the configuration and the fleet's GPU models, which no decision changes.

use crate::decision::{Decision, RejectReason, WaitReason};
use crate::ids::{FlavorName, GpuModelName, JobId, LocalQueueName, QueueName};
use crate::model::{ClusterQueue, DataClass, Flavor, GpuRequest, Job, Tier};
use crate::preemption::{PreemptionPolicy, WithinClusterQueue};
use crate::units::{CpuMilli, MemMib, Time};
use std::collections::{BTreeMap, BTreeSet};

/// The parts of a job's request that decide its candidate flavors and where it fits. Cloning
/// it allocates only for jobs that name flavors or GPU models.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Request {
    gpu: GpuRequest,
    spread: bool,
    cpu: CpuMilli,
    memory: MemMib,
    min_tier: Tier,
    allow_upgrade: bool,
    allowed_flavors: Option<BTreeSet<FlavorName>>,
    gpu_models: Option<BTreeSet<GpuModelName>>,
    data_class: DataClass,
}

impl Request {
    pub(crate) fn of(job: &Job) -> Request {
        Request {
            gpu: job.gpu,
            spread: job.spread,
            cpu: job.cpu,
            memory: job.memory,
            min_tier: job.min_tier,
            allow_upgrade: job.allow_upgrade,
            allowed_flavors: job.allowed_flavors.clone(),
            gpu_models: job.gpu_models.clone(),
            data_class: job.data_class,
        }
    }
}

/// A request in a ClusterQueue: equal shapes share one answer per cycle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Shape<'c> {
    pub queue: &'c QueueName,
    pub request: Request,
}

/// Everything of a job the preemption search reads: its shape (request, queue, candidate
/// flavors), its priority, and — only under `LowerOrNewerEqualPriority`, where equal
/// priorities compare them — its submit time and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PreemptionKey<'c> {
    shape: Shape<'c>,
    priority: i32,
    submitted: Option<(Time, JobId)>,
}

impl<'c> PreemptionKey<'c> {
    pub(crate) fn of(shape: Shape<'c>, job: &Job, policy: &PreemptionPolicy) -> PreemptionKey<'c> {
        let equal_priority =
            policy.within_cluster_queue == WithinClusterQueue::LowerOrNewerEqualPriority;
        PreemptionKey {
            shape,
            priority: job.priority,
            submitted: equal_priority.then_some((job.submit_time, job.id)),
        }
    }
}

/// A request that passed screening in a queue: where it may go.
#[derive(Debug)]
pub(crate) struct Screened<'c> {
    pub queue: &'c ClusterQueue,
    /// Candidate flavors in fungibility order.
    pub candidates: Vec<&'c Flavor>,
    /// Some candidate is in a private cluster.
    pub has_private: bool,
    /// The known GPU speeds of the private candidates, in candidate order.
    pub private_speeds: Vec<u32>,
}

#[derive(Debug, Default)]
pub(crate) struct CycleMemo<'c> {
    /// Index into `screens`, or why the request is rejected.
    pub screened: BTreeMap<(&'c LocalQueueName, Request), Result<usize, RejectReason>>,
    pub screens: Vec<Screened<'c>>,
    pub blocked: Vec<(&'c QueueName, JobId)>,
    pub no_room: BTreeMap<Shape<'c>, WaitReason>,
    pub no_preemption: BTreeSet<PreemptionKey<'c>>,
}

impl CycleMemo<'_> {
    /// Drops the answers `decision` may have made stale (see the module docs).
    pub(crate) fn after(&mut self, decision: &Decision) {
        match decision {
            Decision::Preempt { .. } => {
                self.no_room.clear();
                self.no_preemption.clear();
            }
            Decision::Admit { placement, .. } if placement.public.is_none() => {
                self.no_preemption.clear();
            }
            Decision::Admit { .. } | Decision::Wait { .. } | Decision::Reject { .. } => {}
        }
    }
}
