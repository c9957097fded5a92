//! Decisions: what one cycle concluded for each pending job, as typed data with a `Display`
//! a user can read. Shells act on them; nothing else leaves the core.

use crate::burst::NoBurst;
use crate::ids::{
    ClusterName, FlavorName, JobId, LocalQueueName, NodeName, QueueName, TenantName, UserName,
};
use crate::model::{Resource, Tier};
use crate::units::{CpuMilli, MemMib, MilliGpu, VramMib};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// What a cycle concluded for one pending job: what the shell acts on and shows its user.
/// More kinds may come; a shell treats one it does not know as a fault rather than guess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Decision {
    /// Start the job now, here. The scheduler has already booked the resources.
    Admit {
        /// The job to start.
        job: JobId,
        /// Where it runs and on whose quota, already booked.
        placement: Placement,
    },
    /// Not now; the reason says what would change that, and `no_burst` why it does not burst
    /// instead (`None` when it waits for something a burst would wait for too: a StrictFIFO
    /// head, a user or tenant cap).
    Wait {
        /// The job that stays pending.
        job: JobId,
        /// What holds it back, for its explanation and what would unblock it.
        reason: WaitReason,
        /// The first burst rule it failed, when a burst could have helped.
        no_burst: Option<NoBurst>,
    },
    /// Evict `victims` to start the job here: they keep their capacity, marked evicting,
    /// until the shell reports each stopped (`JobRequeued`, or `JobFinished` if it ended
    /// first); the job waits for them (`WaitReason::VictimsStopping`) and is admitted by the
    /// first cycle after the last one stops, as Kueue admits a preemptor once its victims'
    /// quota is released. Nothing is booked for the job yet.
    Preempt {
        /// The preemptor.
        job: JobId,
        /// Where it will start once its victims have stopped; not booked yet.
        placement: Placement,
        /// The running jobs the shell is to stop.
        victims: Vec<JobId>,
    },
    /// Never, as things are configured; the job leaves the queue.
    Reject {
        /// The job that leaves the queue.
        job: JobId,
        /// Why it can never run, for its user.
        reason: RejectReason,
    },
}

impl Decision {
    /// The job decided for, whatever the decision: how a shell finds the job to act on.
    pub fn job(&self) -> JobId {
        match self {
            Decision::Admit { job, .. }
            | Decision::Preempt { job, .. }
            | Decision::Wait { job, .. }
            | Decision::Reject { job, .. } => *job,
        }
    }

    /// A stable code for the kind of decision (`admit`, `preempt`, `wait`, `reject`), for
    /// CSV columns and metric labels: it never changes once released, unlike the `Display`
    /// sentence, and a new kind gets a new code.
    pub fn code(&self) -> &'static str {
        match self {
            Decision::Admit { .. } => "admit",
            Decision::Preempt { .. } => "preempt",
            Decision::Wait { .. } => "wait",
            Decision::Reject { .. } => "reject",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Admit { job, placement } => write!(f, "{job}: admitted: {placement}"),
            Decision::Preempt {
                job,
                placement,
                victims,
            } => {
                write!(f, "{job}: preempts ")?;
                for (i, victim) in victims.iter().enumerate() {
                    match i {
                        0 => {}
                        _ if i + 1 == victims.len() => f.write_str(" and ")?,
                        _ => f.write_str(", ")?,
                    }
                    write!(f, "{victim}")?;
                }
                let (rank, resume, stopped) = match victims.len() {
                    1 => ("ranks", "resumes from its", "it has"),
                    _ => ("rank", "resume from their", "they have"),
                };
                write!(
                    f,
                    ", which {rank} below it and {resume} last checkpoint, and starts once \
                     {stopped} stopped: {placement}"
                )
            }
            Decision::Wait {
                job,
                reason,
                no_burst,
            } => {
                write!(f, "{job}: waits: {reason}; ")?;
                if let Some(no_burst) = no_burst {
                    write!(f, "does not burst: {no_burst}; ")?;
                }
                write!(f, "would start {}", reason.unblock())
            }
            Decision::Reject { job, reason } => write!(f, "{job}: rejected: {reason}"),
        }
    }
}

/// Where an admitted job runs and on whose quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The cluster of the flavor: private, or the public one for a burst.
    pub cluster: ClusterName,
    /// The flavor the job was admitted on.
    pub flavor: FlavorName,
    /// The flavor's tier: above the job's own when it was upgraded.
    pub tier: Tier,
    /// The ClusterQueue whose quota it uses.
    pub queue: QueueName,
    /// One entry per node; more than one only for jobs that allow spreading.
    pub nodes: Vec<NodeShare>,
    /// The admission uses quota borrowed from the cohort.
    pub borrowing: bool,
    /// Flavors tried first, and why each was passed over.
    pub passed_over: Vec<FlavorMiss>,
    /// Set when the job bursts to a public offer: it has no node here, the cloud provides one.
    pub public: Option<PublicLease>,
}

/// A burst to a public offer: what is rented, what it is expected to cost, what it reserved,
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicLease {
    /// The offer's GPU model: what the cloud provisions and what the job's speed is planned on.
    pub gpu_model: crate::ids::GpuModelName,
    /// Whole GPUs rented (a fraction rents one GPU).
    pub gpus: u32,
    /// The job's n-th lease (from 1): what the shell's bill for it names
    /// ([`Input::PublicBilled`](crate::Input::PublicBilled)).
    pub lease: u32,
    /// Price × GPUs × (provisioning latency + restore + remaining work on the offer's model),
    /// rounded up: the expected bill, held to a flexible job's own limit.
    pub expected_cost: crate::units::Money,
    /// The expected bill plus the node's warm tail until scale-down: the most the lease can
    /// be billed, held against the tenant's budget until the bill comes in.
    pub reserved: crate::units::Money,
    /// When the GPUs are expected to be ready.
    pub ready_at: crate::units::Time,
    /// Expected end: ready time + restore + remaining work on the offer's model. Also the
    /// lease's time limit: its reservation pays for no more, so the shell stops the job there
    /// if it is still running (it resumes from its last checkpoint).
    pub expected_end: crate::units::Time,
    /// Why the job burst (how long it waited, against which threshold, and why it waits
    /// privately), for its user.
    pub reason: String,
    /// Which rule let it burst, as a code for records and metrics.
    #[serde(default)]
    pub cause: crate::burst::BurstCause,
}

impl Placement {
    /// On the nodes of private `flavor`, on `queue`'s quota (borrowed when `borrowing`),
    /// after passing over the flavors in `passed_over`: how admission and preemption place.
    pub(crate) fn on_nodes(
        flavor: &crate::model::Flavor,
        queue: &QueueName,
        nodes: Vec<NodeShare>,
        borrowing: bool,
        passed_over: Vec<FlavorMiss>,
    ) -> Placement {
        Placement {
            cluster: flavor.cluster.clone(),
            flavor: flavor.name.clone(),
            tier: flavor.tier,
            queue: queue.clone(),
            nodes,
            borrowing,
            passed_over,
            public: None,
        }
    }

    /// GPUs the job holds on the fleet, fractions counted as one: none for a burst.
    pub fn gpu_count(&self) -> usize {
        self.nodes.iter().map(|n| n.gpus.len()).sum()
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "flavor {} ({}) in cluster {} on ",
            self.flavor, self.tier, self.cluster
        )?;
        if let Some(lease) = &self.public {
            return write!(
                f,
                "{} rented {} GPU(s), ready at {}, expected cost {}: {}",
                lease.gpus, lease.gpu_model, lease.ready_at, lease.expected_cost, lease.reason
            );
        }
        for (i, share) in self.nodes.iter().enumerate() {
            if i > 0 {
                f.write_str(" + ")?;
            }
            write!(f, "{share}")?;
        }
        if self.borrowing {
            write!(f, ", borrowing quota through queue {}'s cohort", self.queue)?;
        } else {
            write!(f, ", within queue {}'s nominal quota", self.queue)?;
        }
        for miss in &self.passed_over {
            write!(f, "; passed over {miss}")?;
        }
        Ok(())
    }
}

/// The part of a job placed on one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeShare {
    /// The node.
    pub node: NodeName,
    /// The GPUs it takes there, by index; empty for a CPU-only job.
    pub gpus: Vec<GpuShare>,
    /// CPU booked on the node.
    pub cpu: CpuMilli,
    /// Memory booked on the node.
    pub memory: MemMib,
}

impl fmt::Display for NodeShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.node)?;
        match self.gpus.as_slice() {
            [] => Ok(()),
            [only] if only.milli < MilliGpu::WHOLE => {
                write!(
                    f,
                    " GPU {} ({} milli, {} MiB VRAM, MPS)",
                    only.index, only.milli.0, only.vram.0
                )
            }
            gpus => {
                f.write_str(" GPU ")?;
                for (i, gpu) in gpus.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}", gpu.index)?;
                }
                Ok(())
            }
        }
    }
}

/// What a job takes of one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuShare {
    /// The GPU's index on its node: what the shell pins the job to.
    pub index: u32,
    /// How much of it: [`MilliGpu::WHOLE`] for a whole GPU, less for an MPS share.
    pub milli: MilliGpu,
    /// VRAM it holds there: the whole GPU's for a whole GPU, what it asked for on an MPS share.
    pub vram: VramMib,
}

/// Why a flavor could not take the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlavorMiss {
    /// The flavor passed over.
    pub flavor: FlavorName,
    /// What it lacked.
    pub miss: Miss,
}

impl fmt::Display for FlavorMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flavor {}: {}", self.flavor, self.miss)
    }
}

/// What one flavor lacked for a job: the first check it failed, quota before room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Miss {
    /// The queue's quota (with what it may borrow) is short.
    Quota {
        /// The ClusterQueue that is short.
        queue: QueueName,
        /// The first resource short.
        resource: Resource,
        /// What the job asks for, in the resource's unit.
        needed: u64,
        /// What the queue has left, borrowing included, in the resource's unit.
        available: u64,
    },
    /// The queue has no quota for this resource on this flavor.
    NoQuota {
        /// The ClusterQueue without quota.
        queue: QueueName,
        /// The resource it has none of.
        resource: Resource,
    },
    /// Quota allows it but no node of the flavor has the room right now.
    Capacity {
        /// Nodes of the flavor whose GPU model the job accepts.
        nodes: u32,
        /// The most fully free GPUs on any one of them.
        most_free_gpus: u32,
        /// The most free milli-GPU on any single MPS-capable GPU.
        most_free_milli: MilliGpu,
    },
    /// It would fit only by borrowing, and the queue prefers to look further first.
    BorrowingDeferred {
        /// The queue whose `whenCanBorrow` defers it.
        queue: QueueName,
    },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Quota { queue, resource, needed, available } => write!(
                f,
                "queue {queue} has {available} {unit} of {resource} quota left (borrowing included), needs {needed}",
                unit = resource.unit()
            ),
            Miss::NoQuota { queue, resource } => {
                write!(f, "queue {queue} has no {resource} quota on this flavor")
            }
            Miss::Capacity { nodes: 0, .. } => f.write_str("no node of this flavor carries a GPU model the job accepts"),
            Miss::Capacity { nodes, most_free_gpus, most_free_milli } => write!(
                f,
                "none of its {nodes} nodes has room (at most {most_free_gpus} free GPUs on a node, {} milli free on one GPU)",
                most_free_milli.0
            ),
            Miss::BorrowingDeferred { queue } => {
                write!(f, "fits only by borrowing and queue {queue} tries other flavors first")
            }
        }
    }
}

/// Why a job waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WaitReason {
    /// StrictFIFO: an earlier job of the same ClusterQueue cannot start, so none behind it may.
    /// The head is not named: it changes each time one starts, and naming it would tell every
    /// job behind it something new each time (thousands of status writes for a controller).
    /// The head's own wait says why the line does not move.
    BlockedByHead {
        /// The StrictFIFO ClusterQueue.
        queue: QueueName,
    },
    /// The user is at a limit.
    UserLimit {
        /// The job's user.
        user: UserName,
        /// The cap reached, with the numbers.
        limit: Limit,
    },
    /// The tenant is at a limit.
    TenantLimit {
        /// The job's tenant.
        tenant: TenantName,
        /// The cap reached, with the numbers.
        limit: Limit,
    },
    /// Every candidate flavor is short of quota or room; in the order they were tried. Shared:
    /// the jobs of one request that wait in a cycle all hold the same list.
    NoFlavorFits {
        /// Each candidate flavor and what it lacked.
        misses: Arc<[FlavorMiss]>,
    },
    /// Only public flavors of the queue could run it: it starts when it bursts.
    PublicOnly {
        /// The job's ClusterQueue.
        queue: QueueName,
    },
    /// It preempted these jobs, which keep their capacity until the shell reports them
    /// stopped; it starts after that.
    VictimsStopping {
        /// The victims not yet reported stopped.
        victims: Vec<JobId>,
    },
    /// Kueue decides flavors and quota first (`Admission::TwoPhase`) and has reserved none
    /// for it yet.
    NoReservation,
    /// It would fit now, but on the node reserved for a larger job that cannot start yet
    /// (`Policy::backfill`), and it would still run when that job is planned to start there.
    HeldForReservation {
        /// The job the node is reserved for.
        job: JobId,
        /// The flavor of the reservation.
        flavor: FlavorName,
        /// The reserved node.
        node: NodeName,
    },
    /// Kueue reserved quota for it on a flavor that cannot run it, for a reason that would
    /// reject it were that its only flavor; another reservation may do (Kueue's Retry).
    ReservationUnusable {
        /// The flavor Kueue reserved quota on.
        flavor: FlavorName,
        /// Why that flavor cannot run it.
        why: Box<RejectReason>,
    },
}

/// A per-user or per-tenant cap that is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Limit {
    /// The cap on jobs running at once.
    RunningJobs {
        /// Jobs running now.
        running: u32,
        /// The cap.
        max: u32,
    },
    /// The cap on GPUs held at once: the job's request would take it over.
    Gpus {
        /// GPUs held now.
        in_use: MilliGpu,
        /// What the job asks for.
        requested: MilliGpu,
        /// The cap.
        max: MilliGpu,
    },
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::RunningJobs { running, max } => write!(f, "{running} of {max} running jobs"),
            Limit::Gpus {
                in_use,
                requested,
                max,
            } => write!(
                f,
                "{} milli-GPU in use + {} requested > {} allowed",
                in_use.0, requested.0, max.0
            ),
        }
    }
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitReason::BlockedByHead { queue } => {
                write!(
                    f,
                    "queue {queue} is StrictFIFO and the job at its head cannot start"
                )
            }
            WaitReason::UserLimit { user, limit } => {
                write!(f, "user {user} is at its limit: {limit}")
            }
            WaitReason::TenantLimit { tenant, limit } => {
                write!(f, "tenant {tenant} is at its limit: {limit}")
            }
            WaitReason::PublicOnly { queue } => {
                write!(f, "only public flavors of queue {queue} can run it")
            }
            WaitReason::NoReservation => f.write_str("Kueue has reserved no quota for it yet"),
            WaitReason::HeldForReservation { job, flavor, node } => write!(
                f,
                "node {node} of flavor {flavor} is reserved for {job}, which it would delay"
            ),
            WaitReason::ReservationUnusable { flavor, why } => write!(
                f,
                "the quota Kueue reserved on flavor {flavor} cannot be used: {why}"
            ),
            WaitReason::VictimsStopping { victims } => {
                f.write_str("the jobs it preempted are stopping: ")?;
                for (i, victim) in victims.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{victim}")?;
                }
                Ok(())
            }
            WaitReason::NoFlavorFits { misses } => {
                f.write_str("no flavor can take it now: ")?;
                for (i, miss) in misses.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{miss}")?;
                }
                Ok(())
            }
        }
    }
}

/// What would let a waiting job start: the first thing to change, for the first flavor tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unblock {
    /// The jobs ahead of it in its StrictFIFO queue start.
    HeadStarts {
        /// The StrictFIFO ClusterQueue.
        queue: QueueName,
    },
    /// A job of its user finishes, taking the user below the cap.
    UserJobFinishes {
        /// The user at its cap.
        user: UserName,
    },
    /// A job of its tenant finishes, taking the tenant below the cap.
    TenantJobFinishes {
        /// The tenant at its cap.
        tenant: TenantName,
    },
    /// Enough of the queue's quota (or its cohort's) is released on the flavor.
    QuotaFrees {
        /// The ClusterQueue that is short.
        queue: QueueName,
        /// The first flavor tried.
        flavor: FlavorName,
        /// The resource that is short.
        resource: Resource,
        /// How much more must be free, in the resource's unit.
        amount: u64,
    },
    /// The queue is given quota it has none of on the flavor.
    QuotaAdded {
        /// The ClusterQueue without quota.
        queue: QueueName,
        /// The first flavor tried.
        flavor: FlavorName,
        /// The resource it lacks.
        resource: Resource,
    },
    /// Jobs on the flavor's nodes finish and leave a node with room.
    CapacityFrees {
        /// The first flavor tried.
        flavor: FlavorName,
    },
    /// A node the job could use joins the flavor: it has none now.
    NodeAdded {
        /// The first flavor tried.
        flavor: FlavorName,
    },
    /// The burst rule lets it go to a public flavor.
    Burst,
    /// Its preemption's victims have stopped.
    VictimsStop,
    /// Kueue reserves quota for it (again).
    Reservation,
    /// The job holding a reservation on the node it would take starts (or the reservation
    /// moves).
    ReservedJobStarts {
        /// The job the node is reserved for.
        job: JobId,
    },
}

impl fmt::Display for Unblock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unblock::HeadStarts { queue } => {
                write!(f, "once the jobs ahead of it in queue {queue} start")
            }
            Unblock::UserJobFinishes { user } => write!(f, "when a job of user {user} finishes"),
            Unblock::TenantJobFinishes { tenant } => write!(f, "when a job of tenant {tenant} finishes"),
            Unblock::QuotaFrees { queue, flavor, resource, amount } => write!(
                f,
                "when {amount} {unit} more {resource} quota is free for queue {queue} on flavor {flavor}",
                unit = resource.unit()
            ),
            Unblock::QuotaAdded { queue, flavor, resource } => {
                write!(f, "once queue {queue} gets {resource} quota on flavor {flavor}")
            }
            Unblock::CapacityFrees { flavor } => {
                write!(f, "when jobs on flavor {flavor} finish and free a node with room")
            }
            Unblock::NodeAdded { flavor } => {
                write!(f, "once a node of flavor {flavor} with a GPU model the job accepts joins")
            }
            Unblock::Burst => f.write_str("once it may burst"),
            Unblock::VictimsStop => f.write_str("once they have stopped"),
            Unblock::Reservation => f.write_str("once Kueue reserves quota for it"),
            Unblock::ReservedJobStarts { job } => write!(f, "once {job} starts"),
        }
    }
}

impl Unblock {
    /// A stable code for what would unblock the job, for CSV columns and metric labels: it
    /// never changes once released, unlike the `Display` sentence, and a new variant gets a
    /// new code.
    pub fn code(&self) -> &'static str {
        match self {
            Unblock::HeadStarts { .. } => "head-starts",
            Unblock::UserJobFinishes { .. } => "user-job-finishes",
            Unblock::TenantJobFinishes { .. } => "tenant-job-finishes",
            Unblock::QuotaFrees { .. } => "quota-frees",
            Unblock::QuotaAdded { .. } => "quota-added",
            Unblock::CapacityFrees { .. } => "capacity-frees",
            Unblock::NodeAdded { .. } => "node-added",
            Unblock::Burst => "burst",
            Unblock::VictimsStop => "victims-stop",
            Unblock::Reservation => "reservation",
            Unblock::ReservedJobStarts { .. } => "reserved-job-starts",
        }
    }
}

impl WaitReason {
    /// A stable code for why the job waits, for CSV columns and metric labels: it never
    /// changes once released, unlike the `Display` sentence, and a new variant gets a new
    /// code.
    pub fn code(&self) -> &'static str {
        match self {
            WaitReason::BlockedByHead { .. } => "blocked-by-head",
            WaitReason::UserLimit { .. } => "user-limit",
            WaitReason::TenantLimit { .. } => "tenant-limit",
            WaitReason::NoFlavorFits { .. } => "no-flavor-fits",
            WaitReason::PublicOnly { .. } => "public-only",
            WaitReason::VictimsStopping { .. } => "victims-stopping",
            WaitReason::NoReservation => "no-reservation",
            WaitReason::ReservationUnusable { .. } => "reservation-unusable",
            WaitReason::HeldForReservation { .. } => "held-for-reservation",
        }
    }

    /// What would change the wait: the "would start ..." part of a wait's explanation.
    pub fn unblock(&self) -> Unblock {
        match self {
            WaitReason::BlockedByHead { queue } => Unblock::HeadStarts {
                queue: queue.clone(),
            },
            WaitReason::UserLimit { user, .. } => Unblock::UserJobFinishes { user: user.clone() },
            WaitReason::TenantLimit { tenant, .. } => Unblock::TenantJobFinishes {
                tenant: tenant.clone(),
            },
            WaitReason::PublicOnly { .. } => Unblock::Burst,
            WaitReason::VictimsStopping { .. } => Unblock::VictimsStop,
            WaitReason::HeldForReservation { job, .. } => Unblock::ReservedJobStarts { job: *job },
            WaitReason::NoReservation | WaitReason::ReservationUnusable { .. } => {
                Unblock::Reservation
            }
            WaitReason::NoFlavorFits { misses } => {
                let first = misses
                    .iter()
                    .find(|m| !matches!(m.miss, Miss::BorrowingDeferred { .. }))
                    .or(misses.first());
                match first.map(|m| (&m.flavor, &m.miss)) {
                    Some((
                        flavor,
                        Miss::Quota {
                            queue,
                            resource,
                            needed,
                            available,
                        },
                    )) => Unblock::QuotaFrees {
                        queue: queue.clone(),
                        flavor: flavor.clone(),
                        resource: *resource,
                        amount: needed - available,
                    },
                    Some((flavor, Miss::NoQuota { queue, resource })) => Unblock::QuotaAdded {
                        queue: queue.clone(),
                        flavor: flavor.clone(),
                        resource: *resource,
                    },
                    Some((flavor, Miss::Capacity { nodes: 0, .. })) => Unblock::NodeAdded {
                        flavor: flavor.clone(),
                    },
                    Some((flavor, _)) => Unblock::CapacityFrees {
                        flavor: flavor.clone(),
                    },
                    None => Unblock::CapacityFrees {
                        flavor: FlavorName::new("?"),
                    },
                }
            }
        }
    }
}

/// Why a job can never run as things are configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RejectReason {
    /// The job names a LocalQueue that does not exist.
    UnknownQueue(LocalQueueName),
    /// The request itself is malformed (zero GPUs, a fraction above one GPU, ...).
    InvalidRequest(String),
    /// No flavor of the queue matches the job's tier, flavor list, GPU models and data class.
    NoMatchingFlavor {
        /// The job's ClusterQueue.
        queue: QueueName,
        /// The job's tier.
        min_tier: Tier,
        /// Whether higher tiers were looked at too.
        upgrade_allowed: bool,
    },
    /// On every candidate flavor the request exceeds what the queue could ever get, borrowing
    /// included, even with nothing else running.
    ExceedsQuotaCeiling {
        /// The job's ClusterQueue.
        queue: QueueName,
        /// Each candidate flavor and the quota it could never give.
        misses: Vec<FlavorMiss>,
    },
    /// Even started now, no flavor or offer would finish before the deadline.
    DeadlineInfeasible {
        /// The job's deadline.
        deadline: crate::units::Time,
        /// The soonest it could end on any flavor or offer.
        earliest_end: crate::units::Time,
    },
    /// Only public flavors could run the job, and it may not burst.
    MayNotBurst {
        /// The job's ClusterQueue.
        queue: QueueName,
        /// The burst rule it fails for good.
        why: NoBurst,
    },
    /// Only public flavors could run the job, and its flexible limit (with the policy's
    /// overrun) covers none of their offers.
    BudgetTooSmall {
        /// The job's limit with the overrun.
        limit: crate::units::Money,
        /// The cheapest offer's expected cost.
        cheapest: crate::units::Money,
    },
    /// The request alone exceeds a user or tenant GPU cap.
    ExceedsCap {
        /// Whose cap, as a user reads it: `user alice`, `tenant lab`.
        who: String,
        /// What the job asks for.
        requested: MilliGpu,
        /// The cap.
        max: MilliGpu,
    },
}

impl RejectReason {
    /// A stable code for why the job was rejected, for CSV columns and metric labels: it
    /// never changes once released, unlike the `Display` sentence, and a new variant gets a
    /// new code.
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::UnknownQueue(_) => "unknown-queue",
            RejectReason::InvalidRequest(_) => "invalid-request",
            RejectReason::NoMatchingFlavor { .. } => "no-matching-flavor",
            RejectReason::ExceedsQuotaCeiling { .. } => "exceeds-quota-ceiling",
            RejectReason::DeadlineInfeasible { .. } => "deadline-infeasible",
            RejectReason::MayNotBurst { .. } => "may-not-burst",
            RejectReason::BudgetTooSmall { .. } => "budget-too-small",
            RejectReason::ExceedsCap { .. } => "exceeds-cap",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::DeadlineInfeasible {
                deadline,
                earliest_end,
            } => write!(
                f,
                "the deadline {deadline} cannot be met: started now it would end at {earliest_end} at the earliest"
            ),
            RejectReason::MayNotBurst { queue, why } => write!(
                f,
                "only public flavors of queue {queue} could run it, and it may not burst: {why}"
            ),
            RejectReason::BudgetTooSmall { limit, cheapest } => write!(
                f,
                "only public flavors can run it and its budget {limit}, with the flexible overrun, is below the cheapest offer, {cheapest}"
            ),
            RejectReason::UnknownQueue(queue) => write!(f, "local queue {queue} does not exist"),
            RejectReason::InvalidRequest(why) => write!(f, "invalid request: {why}"),
            RejectReason::NoMatchingFlavor { queue, min_tier, upgrade_allowed } => write!(
                f,
                "queue {queue} has no flavor of tier {min_tier}{} that the job's flavor list, GPU models and data class allow and whose GPUs could hold the request",
                if *upgrade_allowed { " or above" } else { "" }
            ),
            RejectReason::ExceedsQuotaCeiling { queue, misses } => {
                write!(f, "the request exceeds queue {queue}'s quota ceiling on every flavor: ")?;
                for (i, miss) in misses.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{miss}")?;
                }
                Ok(())
            }
            RejectReason::ExceedsCap { who, requested, max } => write!(
                f,
                "{who} may hold at most {} milli-GPU, the job asks for {}",
                max.0, requested.0
            ),
        }
    }
}

#[cfg(test)]
mod tests;
