//! Kueue objects pasted into a scenario, translated to alloc-core's model.
//!
//! A scenario may give its queues and quotas as Kueue objects (`apiVersion:
//! kueue.x-k8s.io/v1beta2`, or the deprecated `v1beta1`) instead of the short form: as
//! `---`-separated documents, a YAML list of objects, or a `kind: List` with `items`. [`parse`]
//! reads them; it is pure (text in, model out).
//!
//! What is read:
//! - `ResourceFlavor`: `metadata.name`, `spec.nodeLabels`. Kueue's flavors carry no tier, cluster
//!   or GPU model; the scenario supplies those per flavor name ([`KueueFlavor`]).
//!   `spec.nodeTaints` and `spec.tolerations` are read and ignored: the simulator's nodes carry
//!   no taints and its jobs no tolerations, so a flavor's taints could never change a decision.
//! - `ClusterQueue`: the cohort (`spec.cohort` in v1beta1, `spec.cohortName` in v1beta2),
//!   `queueingStrategy`, `resourceGroups[].flavors[]` in order with each resource's
//!   `nominalQuota`, `borrowingLimit` and `lendingLimit`, `flavorFungibility`, and `preemption`
//!   (returned as plain data in [`KueueObjects::preemption`] for the `kueue-like` baseline).
//!   Resources: `nvidia.com/gpu` and any `*/gpu` in milli-GPU, `cpu` in milli-CPU, `memory` in
//!   MiB (quantities rounded down to the unit); any other resource must have zero quota.
//! - `LocalQueue`: `metadata.name` and `spec.clusterQueue`. Queues are named without their
//!   namespace (recorded in [`KueueObjects::namespaces`]), so a name used twice is an error.
//! - `Cohort`: its name. Its own quota and `parentName` (hierarchical cohorts) are refused:
//!   alloc-core models a cohort as a flat set of ClusterQueues.
//! - `Namespace` objects are skipped; every other kind is an error naming it.
//!
//! Spec fields that Kueue has and alloc-core does not model (admission checks, fair sharing,
//! stop policies, namespace selectors that select, ...) are errors naming the field unless
//! empty; `metadata` beyond name and namespace, and `status`, are ignored. Every error is a
//! [`SimError::BadRow`](crate::SimError::BadRow) with the file, the line and a field such as
//! `ClusterQueue/team: spec.resourceGroups[0].flavors[1].resources[0].nominalQuota`.

mod cluster_queue;
mod documents;
mod objects;
mod quantity;
mod read;
mod translate;

#[cfg(test)]
mod tests;

use alloc_core::{ClusterQueue, FlavorName, LocalQueue, LocalQueueName, QueueName};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Everything read from a file of Kueue objects, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KueueObjects {
    pub flavors: Vec<KueueFlavor>,
    pub cluster_queues: Vec<ClusterQueue>,
    pub local_queues: Vec<LocalQueue>,
    /// Names of the `Cohort` objects (ClusterQueues may also name cohorts with no object).
    pub cohorts: Vec<String>,
    /// Each ClusterQueue's `spec.preemption`, Kueue's defaults where it is absent.
    pub preemption: BTreeMap<QueueName, KueuePreemption>,
    /// The namespace each LocalQueue was given (`default` when none).
    pub namespaces: BTreeMap<LocalQueueName, String>,
}

/// A ResourceFlavor has no tier/cluster/GPU model in Kueue; the scenario supplies them per
/// flavor name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KueueFlavor {
    pub name: FlavorName,
    pub node_labels: BTreeMap<String, String>,
}

/// A ClusterQueue's `spec.preemption`, as Kueue defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KueuePreemption {
    pub within_cluster_queue: WithinClusterQueue,
    pub reclaim_within_cohort: ReclaimWithinCohort,
    pub borrow_within_cohort: BorrowWithinCohort,
}

/// `preemption.withinClusterQueue`: which workloads of its own queue a pending one may preempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum WithinClusterQueue {
    #[default]
    Never,
    LowerPriority,
    LowerOrNewerEqualPriority,
}

/// `preemption.reclaimWithinCohort`: which borrowing workloads of other queues in the cohort a
/// pending one may preempt to get its nominal quota back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ReclaimWithinCohort {
    #[default]
    Never,
    LowerPriority,
    Any,
}

/// `preemption.borrowWithinCohort`: whether a workload that needs to borrow may preempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BorrowWithinCohort {
    pub policy: BorrowWithinCohortPolicy,
    /// Only workloads with priority up to this may be preempted; `None` = no threshold.
    pub max_priority_threshold: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum BorrowWithinCohortPolicy {
    #[default]
    Never,
    LowerPriority,
}

/// Reads Kueue objects from `text` (the contents of `path`): multi-document YAML, a YAML list
/// of objects, or a `kind: List` with `items`.
pub fn parse(path: &Path, text: &str) -> crate::Result<KueueObjects> {
    let chunks = documents::split(text);
    let objects = read::objects(path, &chunks)?;
    translate::translate(path, &objects)
}
