//! What one cycle remembers between the pending jobs it decides, so that thousands of jobs
//! with few distinct requests cost few searches.
//!
//! Each answer is exactly what deciding the job afresh would give, and holds only while the
//! state it read is unchanged; `CycleMemo::after` drops what a decision changes. An answer for
//! a request reads only its candidate flavors: their nodes, the running jobs on them, and the
//! cohort's quota usage on them (quota is kept per flavor). An admission or a preemption
//! changes the quota of the flavor it books (and its victims') and the nodes it books or
//! frees, which every flavor selecting them reads (a node may belong to several); answers
//! over none of those flavors stay as they were, and the rest are dropped. A burst books only
//! a public lease, which no answer reads. The answers:
//! - `no_room` (request shape → why no flavor fits, with the shortfall on each);
//! - `no_preemption` (shape, priority … → no preemption works), and `refusals`, the searches
//!   refused before trying any victim set, which also answer larger requests at lower
//!   priorities (`preemption::refusals`);
//! - `outlooks` (private flavor → when its GPUs free up, for the burst step's deadline slack);
//! - `blocked`: the first waiting job of each StrictFIFO queue, for the jobs behind it;
//! - `screened` (local queue, request → queue, candidate flavors, or the rejection): reads only
//!   the configuration and the fleet's GPU models, which no decision changes.
//!
//! `CycleMemo::new(false)` keeps no answer from one job to the next; the test suite compares
//! cycles with and without the memo to show that it only ever saves work.

use crate::burst::Outlooks;
use crate::decision::{RejectReason, WaitReason};
use crate::ids::{FlavorName, GpuModelName, JobId, LocalQueueName, QueueName};
use crate::model::{ClusterQueue, DataClass, Flavor, GpuRequest, Job, Tier};
use crate::preemption::{PreemptionPolicy, Refusals, WithinClusterQueue};
use crate::units::{CpuMilli, MemMib, Time};
use std::cell::OnceCell;
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
    /// The request's family for refused preemption searches (`Refusals::family`), numbered
    /// when a job of it first reaches the preemption step.
    pub family: OnceCell<usize>,
}

/// The answers of one cycle; the `usize` beside an answer is the index in `screens` of the
/// request it was computed for, whose candidates say which flavors it read.
#[derive(Debug)]
pub(crate) struct CycleMemo<'c> {
    /// Index into `screens`, or why the request is rejected.
    pub screened: BTreeMap<(&'c LocalQueueName, Request), Result<usize, RejectReason>>,
    pub screens: Vec<Screened<'c>>,
    pub blocked: Vec<(&'c QueueName, JobId)>,
    pub no_room: BTreeMap<Shape<'c>, (usize, WaitReason)>,
    pub no_preemption: BTreeMap<PreemptionKey<'c>, usize>,
    /// Preemption searches refused outright, which answer larger requests too.
    pub refusals: Refusals<'c>,
    /// Each private flavor's outlook for the burst step's deadline slack.
    pub outlooks: Outlooks<'c>,
    /// Whether answers are kept from one job to the next.
    keep: bool,
}

impl CycleMemo<'_> {
    /// A memo that keeps answers while they hold, or with `keep` false one that forgets them
    /// after each decision (StrictFIFO blocking is not an answer but a rule, and stays): the
    /// reference the memo is tested against.
    pub(crate) fn new(keep: bool) -> Self {
        CycleMemo {
            screened: BTreeMap::new(),
            screens: Vec::new(),
            blocked: Vec::new(),
            no_room: BTreeMap::new(),
            no_preemption: BTreeMap::new(),
            refusals: Refusals::default(),
            outlooks: BTreeMap::new(),
            keep,
        }
    }

    /// Drops the answers over `changed`, the flavors whose nodes or quota a decision changed
    /// (see the module docs); with the memo off, every answer.
    pub(crate) fn after(&mut self, changed: &[FlavorName]) {
        if !self.keep {
            self.no_room.clear();
            self.no_preemption.clear();
            self.refusals.clear();
            self.outlooks.clear();
            return;
        }
        if changed.is_empty() {
            return;
        }
        let screens = &self.screens;
        let over = |screen: usize| {
            screens[screen]
                .candidates
                .iter()
                .any(|candidate| changed.contains(&candidate.name))
        };
        self.no_room.retain(|_, (screen, _)| !over(*screen));
        self.no_preemption.retain(|_, screen| !over(*screen));
        self.refusals.retain(|screen| !over(screen));
        self.outlooks.retain(|flavor, _| !changed.contains(flavor));
    }
}
