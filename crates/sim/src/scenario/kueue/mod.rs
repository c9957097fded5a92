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
//!   (`withinClusterQueue`, `reclaimWithinCohort`, `borrowWithinCohort` with its
//!   `maxPriorityThreshold`; Kueue's `Never` where a field is absent), which every policy
//!   that preempts honours for the queue's jobs.
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

use alloc_core::{ClusterQueue, FlavorName, LocalQueue, LocalQueueName};
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

/// Reads Kueue objects from `text` (the contents of `path`): multi-document YAML, a YAML list
/// of objects, or a `kind: List` with `items`.
pub fn parse(path: &Path, text: &str) -> crate::Result<KueueObjects> {
    let chunks = documents::split(text);
    let objects = read::objects(path, &chunks)?;
    translate::translate(path, &objects)
}
