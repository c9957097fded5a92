use crate::ids::{CohortName, FlavorName, LocalQueueName, QueueName};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The resources quotas are kept for. GPU quota is counted in milli-GPU so whole GPUs and MPS
/// fractions share one ledger (a whole GPU is 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
// No doc comments on the variants: schemars would describe documented variants as `oneOf`,
// and the scenario schema would then accept any key in a flavor's quotas, not just these
// three. Their units are [`Resource::unit`]'s.
#[allow(missing_docs)]
pub enum Resource {
    Gpu,
    Cpu,
    Memory,
}

impl Resource {
    /// Every resource, in the order quota is checked and reported.
    pub const ALL: [Resource; 3] = [Resource::Gpu, Resource::Cpu, Resource::Memory];

    /// The unit quantities of this resource are counted in.
    pub fn unit(self) -> &'static str {
        match self {
            Resource::Gpu => "milli-GPU",
            Resource::Cpu => "milli-CPU",
            Resource::Memory => "MiB",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Gpu => "gpu",
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
        })
    }
}

/// An amount of each quota resource, in the units of [`Resource::unit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ResourceAmounts {
    /// Milli-GPU.
    pub gpu: u64,
    /// Milli-CPU.
    pub cpu: u64,
    /// MiB.
    pub memory: u64,
}

impl ResourceAmounts {
    /// The amount of `resource`, for code that walks [`Resource::ALL`].
    pub fn get(&self, resource: Resource) -> u64 {
        match resource {
            Resource::Gpu => self.gpu,
            Resource::Cpu => self.cpu,
            Resource::Memory => self.memory,
        }
    }

    /// The amount of `resource`, to change in place.
    pub fn get_mut(&mut self, resource: Resource) -> &mut u64 {
        match resource {
            Resource::Gpu => &mut self.gpu,
            Resource::Cpu => &mut self.cpu,
            Resource::Memory => &mut self.memory,
        }
    }

    /// Adds `other`, saturating: a ledger books a job.
    pub fn add(&mut self, other: &ResourceAmounts) {
        for resource in Resource::ALL {
            *self.get_mut(resource) = self.get(resource).saturating_add(other.get(resource));
        }
    }

    /// Subtracts `other`, stopping at zero: a ledger releases a job.
    pub fn subtract(&mut self, other: &ResourceAmounts) {
        for resource in Resource::ALL {
            *self.get_mut(resource) = self.get(resource).saturating_sub(other.get(resource));
        }
    }
}

/// Kueue's quota for one flavor and resource of a ClusterQueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// What the queue is given, in the resource's unit.
    pub nominal: u64,
    /// How much more than `nominal` the queue may borrow from its cohort; `None` = no limit.
    #[serde(default)]
    pub borrowing_limit: Option<u64>,
    /// How much of `nominal` the cohort may borrow; `None` = all of it.
    #[serde(default)]
    pub lending_limit: Option<u64>,
}

impl Quota {
    /// A quota of `nominal` with no borrowing or lending limit.
    pub fn nominal(nominal: u64) -> Quota {
        Quota {
            nominal,
            borrowing_limit: None,
            lending_limit: None,
        }
    }

    /// The part of `nominal` that only this queue may use (Kueue's guaranteed quota).
    pub fn guaranteed(&self) -> u64 {
        match self.lending_limit {
            Some(lend) => self.nominal.saturating_sub(lend),
            None => 0,
        }
    }

    /// The part of `nominal` that is put into the cohort's pool.
    pub fn lendable(&self) -> u64 {
        self.nominal - self.guaranteed()
    }
}

/// The quotas of one flavor in a ClusterQueue. A resource without a quota cannot be used on
/// that flavor at all, as in Kueue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FlavorQuotas {
    /// The flavor.
    pub flavor: FlavorName,
    /// The queue's quota for each resource on it.
    pub resources: BTreeMap<Resource, Quota>,
}

/// Kueue's queueing strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum QueueingStrategy {
    /// The head of the queue blocks everything behind it until it is admitted.
    StrictFIFO,
    /// A job that cannot be admitted now is set aside and the next one is tried.
    #[default]
    BestEffortFIFO,
}

/// Kueue's `flavorFungibility.whenCanBorrow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum WhenCanBorrow {
    /// Take the first flavor that fits by borrowing (Kueue's `MayStopSearch`, formerly `Borrow`).
    #[default]
    MayStopSearch,
    /// Look at later flavors first for one that fits without borrowing.
    TryNextFlavor,
}

/// Kueue's `flavorFungibility.whenCanPreempt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum WhenCanPreempt {
    /// Preempt in the first flavor where preemption would make room.
    MayStopSearch,
    /// Look at later flavors for free room before preempting (Kueue's default).
    #[default]
    TryNextFlavor,
}

/// Kueue's `flavorFungibility`: when a queue stops at a flavor and when it looks further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FlavorFungibility {
    /// What to do with a flavor that fits only by borrowing.
    #[serde(default)]
    pub when_can_borrow: WhenCanBorrow,
    /// What to do with a flavor that fits only by preempting.
    #[serde(default)]
    pub when_can_preempt: WhenCanPreempt,
}

/// Kueue's `preemption.withinClusterQueue`: whom a job may evict in its own ClusterQueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ReclaimWithinCohort {
    /// Never from other queues.
    Never,
    /// Jobs of lower priority in borrowing queues.
    LowerPriority,
    /// Any job in a borrowing queue: a queue gets back the quota it lent.
    #[default]
    Any,
}

/// Kueue's `preemption.borrowWithinCohort.policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum BorrowWithinCohortPolicy {
    /// A job that must borrow never evicts another queue's jobs.
    #[default]
    Never,
    /// A job that must borrow may evict lower-priority jobs of other (borrowing) queues.
    LowerPriority,
}

/// Kueue's `preemption.borrowWithinCohort`: whether a job that can only be admitted by
/// borrowing may still evict jobs of other queues of its cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BorrowWithinCohort {
    /// Whether a borrowing job may evict at all.
    #[serde(default)]
    pub policy: BorrowWithinCohortPolicy,
    /// Only jobs of at most this priority may be evicted so; `None` = no threshold.
    #[serde(default)]
    pub max_priority_threshold: Option<i32>,
}

impl BorrowWithinCohort {
    /// Whether a job of `preemptor` priority that borrows may evict another queue's job of
    /// `victim` priority: strictly lower, and at most the threshold (Kueue's
    /// `isAboveBorrowingThreshold`, negated).
    pub fn allows(&self, preemptor: i32, victim: i32) -> bool {
        self.policy == BorrowWithinCohortPolicy::LowerPriority
            && victim < preemptor
            && self
                .max_priority_threshold
                .is_none_or(|threshold| victim <= threshold)
    }
}

/// A ClusterQueue's `spec.preemption`: whom its jobs may evict. Kueue defaults every field to
/// `Never`; the simulator's short fleet form leaves it out, and the policy's defaults apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct QueuePreemption {
    /// Whom a job may evict in its own queue.
    #[serde(default)]
    pub within_cluster_queue: WithinClusterQueue,
    /// Whom a job may evict in other queues of its cohort to take back lent quota.
    #[serde(default)]
    pub reclaim_within_cohort: ReclaimWithinCohort,
    /// Whom a job that must borrow may evict in other queues of its cohort.
    #[serde(default)]
    pub borrow_within_cohort: BorrowWithinCohort,
}

impl QueuePreemption {
    /// Kueue's defaults: nobody may be evicted.
    pub const KUEUE_DEFAULT: QueuePreemption = QueuePreemption {
        within_cluster_queue: WithinClusterQueue::Never,
        reclaim_within_cohort: ReclaimWithinCohort::Never,
        borrow_within_cohort: BorrowWithinCohort {
            policy: BorrowWithinCohortPolicy::Never,
            max_priority_threshold: None,
        },
    };
}

/// A Kueue ClusterQueue: flavors in the order they are tried, with quotas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ClusterQueue {
    /// What LocalQueues point at it by.
    pub name: QueueName,
    /// The cohort it borrows from and lends to; `None` = it neither borrows nor lends.
    #[serde(default)]
    pub cohort: Option<CohortName>,
    /// Whether a head that cannot start blocks the jobs behind it.
    #[serde(default)]
    pub strategy: QueueingStrategy,
    /// Its flavors in the order they are tried, each with its quotas.
    pub flavors: Vec<FlavorQuotas>,
    /// When it stops at a flavor that fits only by borrowing or preempting.
    #[serde(default)]
    pub fungibility: FlavorFungibility,
    /// Whom the queue's jobs may evict; `None` = the policy's defaults
    /// ([`crate::preemption::PreemptionPolicy`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preemption: Option<QueuePreemption>,
}

impl ClusterQueue {
    /// Its quota for `resource` on `flavor`; `None`: it may not use that resource there.
    pub fn quota(&self, flavor: &FlavorName, resource: Resource) -> Option<&Quota> {
        self.flavors
            .iter()
            .find(|f| &f.flavor == flavor)
            .and_then(|f| f.resources.get(&resource))
    }
}

/// A Kueue LocalQueue: where users submit; it points at one ClusterQueue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LocalQueue {
    /// What jobs name it by.
    pub name: LocalQueueName,
    /// The ClusterQueue whose quota its jobs use.
    pub cluster_queue: QueueName,
}

/// A Kueue Cohort: ClusterQueues that lend unused quota to each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Cohort {
    /// What ClusterQueues name it by.
    pub name: CohortName,
}
