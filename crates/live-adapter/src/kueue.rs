//! The Kueue kinds the controller watches and writes, in one place: a Kueue API change is an
//! edit here. The spec and status types are kueue-model's (the one place Kueue's shape lives);
//! this module adds what a controller needs on top: Kubernetes metadata (labels, annotations,
//! resourceVersion, creation time), the pod templates' own metadata (where a Job's pod
//! annotations reach its Workload), and `kube::Resource` so the client can watch and patch.
//!
//! ResourceFlavors, ClusterQueues, LocalQueues and Cohorts are watched as `DynamicObject`s
//! ([`setup_kind`]) and read by kueue-model from their JSON, so a setup means the same in
//! the twin and in the cluster.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::{ApiResource, ClusterResourceScope, GroupVersionKind, NamespaceResourceScope};
use kueue_model::objects::{
    AdmissionCheckSpec, AdmissionCheckStatus, WorkloadSpec, WorkloadStatus,
};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Kueue's API group.
pub const GROUP: &str = "kueue.x-k8s.io";
/// The version read and written: the stored and preferred one.
pub const VERSION: &str = "v1beta2";

/// The setup kinds, watched as dynamic objects and translated by kueue-model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SetupKind {
    /// `ResourceFlavor`.
    ResourceFlavor,
    /// `Cohort`.
    Cohort,
    /// `ClusterQueue`.
    ClusterQueue,
    /// `LocalQueue` (namespaced).
    LocalQueue,
}

impl SetupKind {
    /// Every setup kind, in the order their objects can be added without dangling names.
    pub const ALL: [SetupKind; 4] = [
        SetupKind::ResourceFlavor,
        SetupKind::Cohort,
        SetupKind::ClusterQueue,
        SetupKind::LocalQueue,
    ];

    /// The kind's name.
    pub fn kind(self) -> &'static str {
        match self {
            SetupKind::ResourceFlavor => "ResourceFlavor",
            SetupKind::Cohort => "Cohort",
            SetupKind::ClusterQueue => "ClusterQueue",
            SetupKind::LocalQueue => "LocalQueue",
        }
    }

    /// Its plural, as in the API path.
    pub fn plural(self) -> &'static str {
        match self {
            SetupKind::ResourceFlavor => "resourceflavors",
            SetupKind::Cohort => "cohorts",
            SetupKind::ClusterQueue => "clusterqueues",
            SetupKind::LocalQueue => "localqueues",
        }
    }
}

/// The `ApiResource` of a setup kind, for `Api<DynamicObject>`.
pub fn setup_kind(kind: SetupKind) -> ApiResource {
    let gvk = GroupVersionKind::gvk(GROUP, VERSION, kind.kind());
    ApiResource::from_gvk_with_plural(&gvk, kind.plural())
}

/// Labels and annotations of one pod set's pod template: a Job's
/// `spec.template.metadata`, which Kueue copies into the Workload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TemplateMeta {
    /// `metadata.labels`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A Kueue `Workload` as the API server serves it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// Kubernetes metadata.
    pub metadata: ObjectMeta,
    /// kueue-model's spec: queue, priority, pod sets and their requests.
    pub spec: WorkloadSpec,
    /// kueue-model's status: the admission and each check's state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkloadStatus>,
    /// `spec.active`: false once deactivated (by a Rejected check, or a user).
    #[serde(skip)]
    pub active: bool,
    /// Each pod set's template metadata, in pod set order.
    #[serde(skip)]
    pub templates: Vec<TemplateMeta>,
}

impl<'de> Deserialize<'de> for Workload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            metadata: ObjectMeta,
            #[serde(default)]
            spec: serde_json::Value,
            #[serde(default)]
            status: Option<WorkloadStatus>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Extra {
            #[serde(default = "yes")]
            active: bool,
            #[serde(default)]
            pod_sets: Vec<PodSetMeta>,
        }
        #[derive(Deserialize)]
        struct PodSetMeta {
            #[serde(default)]
            template: TemplateOnly,
        }
        #[derive(Deserialize, Default)]
        struct TemplateOnly {
            #[serde(default)]
            metadata: TemplateMeta,
        }
        fn yes() -> bool {
            true
        }
        let raw = Raw::deserialize(deserializer)?;
        let spec_value = match raw.spec {
            serde_json::Value::Null => serde_json::Value::Object(Default::default()),
            value => value,
        };
        let extra: Extra = serde_json::from_value(spec_value.clone()).map_err(D::Error::custom)?;
        let spec: WorkloadSpec = serde_json::from_value(spec_value).map_err(D::Error::custom)?;
        Ok(Workload {
            metadata: raw.metadata,
            spec,
            status: raw.status,
            active: extra.active,
            templates: extra
                .pod_sets
                .into_iter()
                .map(|set| set.template.metadata)
                .collect(),
        })
    }
}

impl Workload {
    /// `namespace/name`: how logs, errors and the controller's maps name it.
    pub fn key(&self) -> String {
        format!(
            "{}/{}",
            self.metadata.namespace.as_deref().unwrap_or("default"),
            self.metadata.name.as_deref().unwrap_or_default()
        )
    }
}

impl kube::Resource for Workload {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "Workload".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "workloads".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// A Kueue `AdmissionCheck`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdmissionCheck {
    /// Kubernetes metadata.
    pub metadata: ObjectMeta,
    /// kueue-model's spec: the controller name and parameters.
    pub spec: AdmissionCheckSpec,
    /// Its conditions (`Active`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AdmissionCheckStatus>,
}

impl AdmissionCheck {
    /// Whether its `Active` condition is True.
    pub fn is_active(&self) -> bool {
        self.status.as_ref().is_some_and(|status| {
            status.conditions.iter().any(|c| {
                c.type_ == "Active" && c.status == kueue_model::objects::ConditionStatus::True
            })
        })
    }
}

impl kube::Resource for AdmissionCheck {
    type DynamicType = ();
    type Scope = ClusterResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "AdmissionCheck".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "admissionchecks".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}
