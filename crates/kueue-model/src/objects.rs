//! Serde types for the part of the Kueue API (`kueue.x-k8s.io` v1beta2, and v1beta1 where it
//! differs) that alloc-core's shells read: the one place Kueue's API shape lives, so an API
//! change is an edit here. Field names follow the CustomResourceDefinitions.
//!
//! Two families:
//! - The setup kinds — `ResourceFlavor`, `ClusterQueue`, `Cohort`, `LocalQueue` — as
//!   [`Envelope`]s of their spec. Spec types refuse unknown fields so a typo or a feature
//!   alloc-core does not model is an error naming it. Fields that exist in Kueue but are not
//!   modelled are read as raw values ([`Unmodelled`]) so the translator can refuse them with a
//!   reason, or accept them when empty. `metadata` tolerates everything Kubernetes puts there
//!   (labels, annotations, uid, ...) and `status` is ignored: neither changes what the
//!   scheduler may decide.
//! - The kinds an AdmissionCheck controller works with — [`AdmissionCheck`] and [`Workload`] —
//!   as plain serde types with their status. They come from the API server, whose objects may
//!   carry fields a newer Kueue added, so they tolerate unknown fields; they serialize with
//!   empty optional fields left out, as a server-side-apply patch needs.

use alloc_core::{BorrowWithinCohortPolicy, ReclaimWithinCohort, WithinClusterQueue};
use serde::de::{self, IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// A raw value of a field Kueue has and alloc-core does not model.
pub type Unmodelled = Option<serde_norway::Value>;

/// Whether an unmodelled field is absent or empty (`{}`, `[]`, `null`), hence harmless.
pub(crate) fn is_empty(value: &Unmodelled) -> bool {
    match value {
        None | Some(serde_norway::Value::Null) => true,
        Some(serde_norway::Value::Mapping(map)) => map.is_empty(),
        Some(serde_norway::Value::Sequence(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// One Kubernetes object of a setup kind with the spec type of its kind.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope<S> {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    // No `#[serde(default)]`: it would demand `S: Default`; a missing Option is None anyway.
    pub spec: Option<S>,
    /// Accepted (a pasted object may carry it) and never read: status is Kueue's output.
    pub status: Option<IgnoredAny>,
}

/// The part of `metadata` that is read; the rest is ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceFlavorSpec {
    #[serde(default)]
    pub node_labels: BTreeMap<String, String>,
    /// Accepted and ignored: see the crate docs.
    #[serde(default)]
    pub node_taints: Option<IgnoredAny>,
    /// Accepted and ignored: see the crate docs.
    #[serde(default)]
    pub tolerations: Option<IgnoredAny>,
    #[serde(default)]
    pub topology_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterQueueSpec {
    /// v1beta1's name for the cohort.
    #[serde(default)]
    pub cohort: Option<String>,
    /// v1beta2's name for the cohort.
    #[serde(default)]
    pub cohort_name: Option<String>,
    #[serde(default)]
    pub queueing_strategy: Option<alloc_core::QueueingStrategy>,
    #[serde(default)]
    pub resource_groups: Vec<ResourceGroup>,
    #[serde(default)]
    pub flavor_fungibility: Option<FlavorFungibility>,
    #[serde(default)]
    pub preemption: Option<Preemption>,
    #[serde(default)]
    pub stop_policy: Option<StopPolicy>,
    #[serde(default)]
    pub namespace_selector: Unmodelled,
    #[serde(default)]
    pub fair_sharing: Unmodelled,
    #[serde(default)]
    pub admission_checks: Unmodelled,
    #[serde(default)]
    pub admission_checks_strategy: Unmodelled,
    #[serde(default)]
    pub admission_scope: Unmodelled,
    #[serde(default)]
    pub concurrent_admission_policy: Unmodelled,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceGroup {
    #[serde(default)]
    pub covered_resources: Vec<String>,
    #[serde(default)]
    pub flavors: Vec<FlavorQuotas>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlavorQuotas {
    pub name: String,
    #[serde(default)]
    pub resources: Vec<ResourceQuota>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceQuota {
    pub name: String,
    pub nominal_quota: Quantity,
    #[serde(default)]
    pub borrowing_limit: Option<Quantity>,
    #[serde(default)]
    pub lending_limit: Option<Quantity>,
}

/// `whenCanBorrow`; `Borrow` is v1beta1's name for `MayStopSearch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum WhenCanBorrow {
    MayStopSearch,
    TryNextFlavor,
    Borrow,
}

/// `whenCanPreempt`; `Preempt` is v1beta1's name for `MayStopSearch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum WhenCanPreempt {
    MayStopSearch,
    TryNextFlavor,
    Preempt,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlavorFungibility {
    #[serde(default)]
    pub when_can_borrow: Option<WhenCanBorrow>,
    #[serde(default)]
    pub when_can_preempt: Option<WhenCanPreempt>,
    #[serde(default)]
    pub preference: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preemption {
    #[serde(default)]
    pub within_cluster_queue: Option<WithinClusterQueue>,
    #[serde(default)]
    pub reclaim_within_cohort: Option<ReclaimWithinCohort>,
    #[serde(default)]
    pub borrow_within_cohort: Option<BorrowWithinCohort>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BorrowWithinCohort {
    #[serde(default)]
    pub policy: Option<BorrowWithinCohortPolicy>,
    #[serde(default)]
    pub max_priority_threshold: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum StopPolicy {
    None,
    Hold,
    HoldAndDrain,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalQueueSpec {
    pub cluster_queue: String,
    #[serde(default)]
    pub stop_policy: Option<StopPolicy>,
    #[serde(default)]
    pub fair_sharing: Unmodelled,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CohortSpec {
    #[serde(default)]
    pub parent_name: Option<String>,
    #[serde(default)]
    pub resource_groups: Vec<ResourceGroup>,
    #[serde(default)]
    pub fair_sharing: Unmodelled,
}

/// A Kubernetes quantity as written (`4`, `1.5`, `500m`, `16Gi`); YAML may give it as a number
/// or a string, so both are kept as text and parsed per resource by [`crate::quantity`].
/// Written back as a string, as Kubernetes writes quantities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity(pub String);

impl Quantity {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuantityVisitor;
        impl Visitor<'_> for QuantityVisitor {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes quantity such as 4, \"500m\" or \"16Gi\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Quantity, E> {
                Ok(Quantity(text.to_string()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Quantity, E> {
                Ok(Quantity(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Quantity, E> {
                Ok(Quantity(value.to_string()))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Quantity, E> {
                Ok(Quantity(value.to_string()))
            }
        }
        deserializer.deserialize_any(QuantityVisitor)
    }
}

/// An `AdmissionCheck`: the controller that decides the check, and where its parameters are.
/// The controller keeps the check's `Active` condition True, or ClusterQueues that name the
/// check go inactive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionCheck {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    pub metadata: Metadata,
    pub spec: AdmissionCheckSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AdmissionCheckStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionCheckSpec {
    /// Which controller decides the check (`kueue.x-k8s.io/provisioning-request`, ...).
    pub controller_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<AdmissionCheckParameters>,
}

/// A reference to the object that holds the check's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionCheckParameters {
    pub api_group: String,
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionCheckStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A Kubernetes condition (`metav1.Condition`), as in `status.conditions[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Active`, `QuotaReserved`, `Admitted`, `Finished`, `Evicted`, ...
    #[serde(rename = "type")]
    pub type_: String,
    pub status: ConditionStatus,
    pub reason: String,
    pub message: String,
    /// RFC 3339 time, as the API server writes it.
    pub last_transition_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// A `Workload`: the pod sets a job asks for, and what Kueue made of it — the quota reserved
/// and the flavors chosen (`status.admission`), then each admission check's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    pub metadata: Metadata,
    #[serde(default)]
    pub spec: WorkloadSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkloadStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSpec {
    /// The LocalQueue, in the workload's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    /// The priority Kueue resolved from the priority class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_sets: Vec<PodSet>,
}

/// A group of identical pods (a Job's pods, a leader or its workers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSet {
    #[serde(default = "main_pod_set")]
    pub name: String,
    #[serde(default = "one")]
    pub count: u32,
    /// Only the containers' resources are read from the pod template.
    pub template: PodTemplate,
}

fn main_pod_set() -> String {
    "main".into()
}

fn one() -> u32 {
    1
}

/// The part of a pod template that says what the pods request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplate {
    #[serde(default)]
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    #[serde(default)]
    pub resources: ResourceRequirements,
}

/// A container's `resources`, by Kubernetes resource name (`nvidia.com/gpu`, `cpu`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequirements {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, Quantity>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, Quantity>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadStatus {
    /// Set once quota is reserved: the ClusterQueue and the flavors chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission: Option<Admission>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// One entry per admission check of the ClusterQueue, keyed by `name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admission_checks: Vec<AdmissionCheckState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Admission {
    pub cluster_queue: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_set_assignments: Vec<PodSetAssignment>,
}

/// The flavor chosen for each resource of one pod set, and the quota it uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSetAssignment {
    #[serde(default = "main_pod_set")]
    pub name: String,
    /// Resource name → ResourceFlavor name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flavors: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_usage: BTreeMap<String, Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// One admission check's verdict on a workload (`status.admissionChecks[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionCheckState {
    /// The AdmissionCheck's name; the list's key.
    pub name: String,
    pub state: CheckState,
    pub message: String,
    /// RFC 3339 time, as the API server writes it.
    pub last_transition_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requeue_after_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_count: Option<i32>,
    /// Additions to a pod set's pods once the check is Ready.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_set_updates: Vec<PodSetUpdate>,
}

/// `Pending` until decided; `Ready` lets Kueue admit, `Retry` releases the quota and requeues,
/// `Rejected` deactivates the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckState {
    Pending,
    Ready,
    Retry,
    Rejected,
}

/// Labels, annotations, node selector and tolerations a check adds to one pod set (additive
/// only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSetUpdate {
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}
