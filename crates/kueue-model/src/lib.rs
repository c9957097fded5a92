//! `kueue-model`: Kueue's API objects, read and translated into alloc-core's model.
//!
//! This crate is the one place Kueue's API shape lives: the serde types of the Kueue kinds
//! ([`objects`]), Kubernetes quantities in alloc-core's units ([`quantity`]), and the
//! translation of a Kueue setup into the pieces of an [`alloc_core::Config`]. The simulator
//! reads the Kueue objects pasted into a scenario through it, and the live AdmissionCheck
//! controller is to read the cluster's objects through it, so both shells see one meaning of
//! every field. It does no I/O: text in, model out.
//!
//! A file of objects (`apiVersion: kueue.x-k8s.io/v1beta2`, or the deprecated `v1beta1`) is
//! given as `---`-separated documents, a YAML list of objects, or a `kind: List` with `items`.
//! [`parse`] reads it:
//! - `ResourceFlavor`: `metadata.name`, `spec.nodeLabels`. Kueue's flavors carry no tier, cluster
//!   or GPU model; the caller supplies those per flavor name ([`KueueFlavor`]).
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
//! [`KueueError`] with the file, the line, the object and the field, displayed as
//! `department-queues.yaml:44: ClusterQueue/lab-a:
//! spec.resourceGroups[0].flavors[1].resources[0].nominalQuota: ...`.
//!
//! [`objects`] also has the kinds an AdmissionCheck controller works with, `AdmissionCheck` and
//! `Workload`, as plain serde types; [`parse`] does not read them (a scenario has no use for
//! them).

mod cluster_queue;
mod documents;
mod error;
pub mod objects;
pub mod quantity;
mod read;
mod translate;

pub use error::{KueueError, ObjectRef, Place, Reason, Result};

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

/// A ResourceFlavor has no tier/cluster/GPU model in Kueue; the caller supplies them per
/// flavor name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KueueFlavor {
    pub name: FlavorName,
    pub node_labels: BTreeMap<String, String>,
}

/// Reads Kueue objects from `text` (the contents of `path`, which errors name): multi-document
/// YAML, a YAML list of objects, or a `kind: List` with `items`.
pub fn parse(path: &Path, text: &str) -> Result<KueueObjects> {
    let chunks = documents::split(text);
    let objects = read::objects(path, &chunks)?;
    translate::translate(path, &objects)
}
