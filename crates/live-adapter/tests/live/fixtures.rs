//! A small cluster as the API server would serve it: one private GOLD flavor of V100 nodes,
//! one public A100 flavor rented through an offer, one ClusterQueue and one LocalQueue, one
//! AdmissionCheck of ours.

use alloc_core::Time;
use k8s_openapi::api::core::v1::Node;
use kube::api::DynamicObject;
use kube::runtime::watcher;
use live_adapter::index::Event;
use live_adapter::kueue::{AdmissionCheck, SetupKind, Workload};
use live_adapter::{Index, Platform};
use serde_json::{json, Value};

pub const CONTROLLER: &str = "gpu-alloc.dev/admission-check";
pub const CHECK: &str = "gpu-alloc";

/// 2026-01-01T00:00:00Z, when the fixtures' Workloads were created.
pub const CREATED: &str = "2026-01-01T00:00:00Z";
pub const T0: Time = Time(1_767_225_600_000);

pub fn at(seconds: u64) -> Time {
    Time(T0.0 + seconds * 1000)
}

pub const PLATFORM: &str = "
gpu_models:
- {name: V100, vram: 16384, speed_permille: 1000, max_mps_clients: 4}
- {name: A100, vram: 81920, speed_permille: 2500}
clusters:
- {name: private, kind: private}
- name: cloud
  kind: public
  offers:
  - {flavor: a100-cloud, gpu_model: A100, price_per_gpu_hour: 3000000, provisioning_latency: 120000, gpu_cap: 8}
tenants:
- {name: team-a, public_budget: 100000000}
gpu_products: {Tesla-V100-SXM2-16GB: V100}
";

pub fn platform() -> Platform {
    Platform::parse("platform.yaml", PLATFORM).expect("the fixture platform reads")
}

pub fn index() -> Index {
    Index::new(platform(), CONTROLLER)
}

pub fn dynamic(value: Value) -> DynamicObject {
    serde_json::from_value(value).expect("a dynamic object")
}

pub fn flavor(name: &str, tier: &str, cluster: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ResourceFlavor",
        "metadata": {"name": name, "annotations": {"gpu-alloc.dev/tier": tier, "gpu-alloc.dev/cluster": cluster}},
        "spec": {"nodeLabels": labels},
    })
}

pub fn cluster_queue(gpus: &str, public_gpus: &str) -> Value {
    json!({
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ClusterQueue",
        "metadata": {"name": "team-a"},
        "spec": {
            "namespaceSelector": {},
            "queueingStrategy": "BestEffortFIFO",
            "stopPolicy": "None",
            "flavorFungibility": {"whenCanBorrow": "MayStopSearch", "whenCanPreempt": "TryNextFlavor"},
            "preemption": {"withinClusterQueue": "Never", "reclaimWithinCohort": "Never", "borrowWithinCohort": {"policy": "Never"}},
            "admissionChecksStrategy": {"admissionChecks": [{"name": CHECK}]},
            "resourceGroups": [{
                "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
                "flavors": [
                    {"name": "v100-gold", "resources": [
                        {"name": "cpu", "nominalQuota": "64"},
                        {"name": "memory", "nominalQuota": "256Gi"},
                        {"name": "nvidia.com/gpu", "nominalQuota": gpus}]},
                    {"name": "a100-cloud", "resources": [
                        {"name": "cpu", "nominalQuota": "64"},
                        {"name": "memory", "nominalQuota": "256Gi"},
                        {"name": "nvidia.com/gpu", "nominalQuota": public_gpus}]},
                ],
            }],
        },
    })
}

pub fn local_queue() -> Value {
    json!({
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "LocalQueue",
        "metadata": {"name": "lq", "namespace": "team-a"},
        "spec": {"clusterQueue": "team-a"},
    })
}

pub fn node(name: &str, gpus: u32) -> Node {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name,
            "gpu.tier": "GOLD",
            "nvidia.com/gpu.product": "Tesla-V100-SXM2-16GB",
            "nvidia.com/gpu.count": gpus.to_string(),
        }},
        "status": {"allocatable": {"cpu": "32", "memory": "128Gi", "nvidia.com/gpu": gpus.to_string()}},
    }))
    .expect("a node")
}

pub fn admission_check(active: bool) -> AdmissionCheck {
    let mut check = json!({
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "AdmissionCheck",
        "metadata": {"name": CHECK},
        "spec": {"controllerName": CONTROLLER},
    });
    if active {
        check["status"] = json!({"conditions": [{"type": "Active", "status": "True", "reason": "Active", "message": "", "lastTransitionTime": CREATED}]});
    }
    serde_json::from_value(check).expect("an admission check")
}

/// A Workload in `team-a/lq` asking `gpus` whole GPUs, with `annotations` on its pod
/// template, not yet reserved.
pub fn workload(name: &str, gpus: u32, annotations: Value) -> Value {
    json!({
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "Workload",
        "metadata": {"name": name, "namespace": "team-a", "creationTimestamp": CREATED, "resourceVersion": "1"},
        "spec": {
            "queueName": "lq",
            "priority": 0,
            "podSets": [{"name": "main", "count": 1, "template": {
                "metadata": {"annotations": annotations},
                "spec": {"containers": [{"name": "c", "resources": {"requests": {
                    "cpu": "2", "memory": "8Gi", "nvidia.com/gpu": gpus.to_string()}}}]},
            }}],
        },
        "status": {"admissionChecks": [
            {"name": CHECK, "state": "Pending", "message": "", "lastTransitionTime": CREATED}]},
    })
}

/// `workload` with Kueue's quota reservation on `flavor`.
pub fn reserve(mut workload: Value, flavor: &str) -> Value {
    workload["status"]["admission"] = json!({
        "clusterQueue": "team-a",
        "podSetAssignments": [{"name": "main", "flavors": {"cpu": flavor, "memory": flavor, "nvidia.com/gpu": flavor}, "count": 1}],
    });
    workload["status"]["conditions"] = json!([
        {"type": "QuotaReserved", "status": "True", "reason": "QuotaReserved", "message": "", "lastTransitionTime": CREATED}]);
    workload
}

pub fn typed(workload: &Value) -> Workload {
    serde_json::from_value(workload.clone()).expect("a workload")
}

pub fn apply<K>(object: K) -> watcher::Event<K> {
    watcher::Event::Apply(object)
}

/// The events of a first list of every watch: setup, nodes, the check, `workloads`.
pub fn initial_list(nodes: &[Node], workloads: &[Value], check_active: bool) -> Vec<Event> {
    let mut events = Vec::new();
    let setups = [
        (
            SetupKind::ResourceFlavor,
            vec![
                flavor("v100-gold", "GOLD", "private", json!({"gpu.tier": "GOLD"})),
                flavor("a100-cloud", "GOLD", "cloud", json!({"cloud": "yes"})),
            ],
        ),
        (SetupKind::Cohort, vec![]),
        (SetupKind::ClusterQueue, vec![cluster_queue("8", "8")]),
        (SetupKind::LocalQueue, vec![local_queue()]),
    ];
    for (kind, objects) in setups {
        events.push(Event::Setup(kind, watcher::Event::Init));
        for object in objects {
            events.push(Event::Setup(
                kind,
                watcher::Event::InitApply(dynamic(object)),
            ));
        }
        events.push(Event::Setup(kind, watcher::Event::InitDone));
    }
    events.push(Event::Node(Box::new(watcher::Event::Init)));
    for node in nodes {
        events.push(Event::Node(Box::new(watcher::Event::InitApply(
            node.clone(),
        ))));
    }
    events.push(Event::Node(Box::new(watcher::Event::InitDone)));
    events.push(Event::Check(watcher::Event::Init));
    events.push(Event::Check(watcher::Event::InitApply(admission_check(
        check_active,
    ))));
    events.push(Event::Check(watcher::Event::InitDone));
    events.push(Event::Workload(Box::new(watcher::Event::Init)));
    for workload in workloads {
        events.push(Event::Workload(Box::new(watcher::Event::InitApply(typed(
            workload,
        )))));
    }
    events.push(Event::Workload(Box::new(watcher::Event::InitDone)));
    events
}

pub fn workload_event(workload: &Value) -> Event {
    Event::Workload(Box::new(apply(typed(workload))))
}
