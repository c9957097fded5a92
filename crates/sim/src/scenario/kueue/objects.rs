//! Serde types for the part of the Kueue API (`kueue.x-k8s.io` v1beta1 and v1beta2) that the
//! simulator reads. Spec types refuse unknown fields so a typo or a feature we do not model is
//! an error naming it. Fields that exist in Kueue but are not modelled are read as raw values
//! (`Unmodelled`) so the translator can refuse them with a reason, or accept them when empty.
//! `metadata` tolerates everything Kubernetes puts there (labels, annotations, uid, ...) and
//! `status` is ignored: neither changes what the scheduler may decide.

use alloc_core::{BorrowWithinCohortPolicy, ReclaimWithinCohort, WithinClusterQueue};
use serde::de::{self, IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;

/// A raw value of a field Kueue has and the simulator does not model.
pub(crate) type Unmodelled = Option<serde_norway::Value>;

/// Whether an unmodelled field is absent or empty (`{}`, `[]`, `null`), hence harmless.
pub(crate) fn is_empty(value: &Unmodelled) -> bool {
    match value {
        None | Some(serde_norway::Value::Null) => true,
        Some(serde_norway::Value::Mapping(map)) => map.is_empty(),
        Some(serde_norway::Value::Sequence(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// One Kubernetes object with the spec type of its kind.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Envelope<S> {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    // No `#[serde(default)]`: it would demand `S: Default`; a missing Option is None anyway.
    pub spec: Option<S>,
    /// Accepted (a pasted object may carry it) and never read: status is Kueue's output.
    #[allow(dead_code)]
    pub status: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Metadata {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ResourceFlavorSpec {
    #[serde(default)]
    pub node_labels: BTreeMap<String, String>,
    /// Accepted and ignored: see the module docs of `kueue`.
    #[allow(dead_code)]
    #[serde(default)]
    pub node_taints: Option<IgnoredAny>,
    /// Accepted and ignored: see the module docs of `kueue`.
    #[allow(dead_code)]
    #[serde(default)]
    pub tolerations: Option<IgnoredAny>,
    #[serde(default)]
    pub topology_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ClusterQueueSpec {
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
pub(crate) struct ResourceGroup {
    #[serde(default)]
    pub covered_resources: Vec<String>,
    #[serde(default)]
    pub flavors: Vec<FlavorQuotas>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FlavorQuotas {
    pub name: String,
    #[serde(default)]
    pub resources: Vec<ResourceQuota>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ResourceQuota {
    pub name: String,
    pub nominal_quota: Quantity,
    #[serde(default)]
    pub borrowing_limit: Option<Quantity>,
    #[serde(default)]
    pub lending_limit: Option<Quantity>,
}

/// `whenCanBorrow`; `Borrow` is v1beta1's name for `MayStopSearch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum WhenCanBorrow {
    MayStopSearch,
    TryNextFlavor,
    Borrow,
}

/// `whenCanPreempt`; `Preempt` is v1beta1's name for `MayStopSearch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum WhenCanPreempt {
    MayStopSearch,
    TryNextFlavor,
    Preempt,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FlavorFungibility {
    #[serde(default)]
    pub when_can_borrow: Option<WhenCanBorrow>,
    #[serde(default)]
    pub when_can_preempt: Option<WhenCanPreempt>,
    #[serde(default)]
    pub preference: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Preemption {
    #[serde(default)]
    pub within_cluster_queue: Option<WithinClusterQueue>,
    #[serde(default)]
    pub reclaim_within_cohort: Option<ReclaimWithinCohort>,
    #[serde(default)]
    pub borrow_within_cohort: Option<BorrowWithinCohort>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct BorrowWithinCohort {
    #[serde(default)]
    pub policy: Option<BorrowWithinCohortPolicy>,
    #[serde(default)]
    pub max_priority_threshold: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum StopPolicy {
    None,
    Hold,
    HoldAndDrain,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct LocalQueueSpec {
    pub cluster_queue: String,
    #[serde(default)]
    pub stop_policy: Option<StopPolicy>,
    #[serde(default)]
    pub fair_sharing: Unmodelled,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CohortSpec {
    #[serde(default)]
    pub parent_name: Option<String>,
    #[serde(default)]
    pub resource_groups: Vec<ResourceGroup>,
    #[serde(default)]
    pub fair_sharing: Unmodelled,
}

/// A Kubernetes quantity as written (`4`, `1.5`, `500m`, `16Gi`); YAML may give it as a number
/// or a string, so both are kept as text and parsed per resource by `quantity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Quantity(pub String);

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
