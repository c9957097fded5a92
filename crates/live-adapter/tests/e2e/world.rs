//! The objects the tests create, as a platform team would write them: private BRONZE, SILVER
//! and GOLD flavors and a public GOLD flavor with its own quota, a ClusterQueue naming our
//! AdmissionCheck, a LocalQueue, Nodes with GPU Feature Discovery's labels and GPU capacity,
//! Workloads with the platform's `gpu-alloc.dev/` annotations on their pod templates; and the
//! job side that minimalkueue lacks.

use crate::bed::{is_true, Bed, CHECK, CONTROLLER, NAMESPACE};
use alloc_core::burst::{BurstMode, WaitRule};
use alloc_core::{Millis, Policy};
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

const KUEUE: &str = "kueue.x-k8s.io/v1beta2";

/// The platform file: GPU models, the private cluster, a cloud with an A100 offer on the
/// public flavor, the tenant `team-a` (the namespace) with a public budget.
pub const PLATFORM: &str = "
gpu_models:
- {name: TITAN-RTX, vram: 24576, speed_permille: 1100, max_mps_clients: 4}
- {name: V100, vram: 16384, speed_permille: 1000, max_mps_clients: 4}
- {name: A30, vram: 24576, speed_permille: 1400, max_mps_clients: 4}
- {name: A100, vram: 81920, speed_permille: 2500}
clusters:
- {name: private, kind: private}
- name: cloud
  kind: public
  offers:
  - {flavor: a100-cloud, gpu_model: A100, price_per_gpu_hour: 3000000, provisioning_latency: 60000, gpu_cap: 8}
tenants:
- {name: team-a, public_budget: 500000000}
gpu_products:
  NVIDIA-TITAN-RTX: TITAN-RTX
  Tesla-V100-SXM2-16GB: V100
  NVIDIA-A30: A30
mps_replicas: 4
default_runtime: 3600000
";

/// The private flavors: (name, tier, GPU model, GFD product).
pub const PRIVATE: [(&str, &str, &str, &str); 3] = [
    ("titan-bronze", "BRONZE", "TITAN-RTX", "NVIDIA-TITAN-RTX"),
    ("v100-silver", "SILVER", "V100", "Tesla-V100-SXM2-16GB"),
    ("a30-gold", "GOLD", "A30", "NVIDIA-A30"),
];
/// The public flavor.
pub const PUBLIC: &str = "a100-cloud";

/// Writes the platform file into the scratch folder.
pub fn platform(bed: &Bed) -> PathBuf {
    bed.file("platform.yaml", PLATFORM)
}

/// The default policy with the burst threshold at `wait` (the default's 30 minutes would
/// outlast a test), as a policy file.
pub fn policy_with_burst_after(bed: &Bed, wait: Duration) -> String {
    let mut policy = Policy::preset("default").expect("the default policy");
    policy.burst.mode = BurstMode::Threshold;
    policy.burst.wait = WaitRule::Constant {
        wait: Millis(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)),
    };
    let text = serde_norway::to_string(&policy).expect("a policy as YAML");
    bed.file("policy.yaml", &text).display().to_string()
}

/// The flavors, our AdmissionCheck, the ClusterQueue `team-a` over every flavor with GPU
/// quotas `gpu_quota` (bronze, silver, gold, public), and the LocalQueue `gpu`.
pub async fn queues(bed: &Bed, gpu_quota: [u32; 4]) {
    let mut flavors = Vec::new();
    for (i, (name, tier, model, _)) in PRIVATE.iter().enumerate() {
        bed.apply(json!({
            "apiVersion": KUEUE, "kind": "ResourceFlavor",
            "metadata": {"name": name, "annotations": {
                "gpu-alloc.dev/tier": tier, "gpu-alloc.dev/gpu-model": model}},
            "spec": {"nodeLabels": {"gpu.tier": tier}},
        }))
        .await;
        flavors.push(flavor_quota(name, gpu_quota[i]));
    }
    bed.apply(json!({
        "apiVersion": KUEUE, "kind": "ResourceFlavor",
        "metadata": {"name": PUBLIC, "annotations": {
            "gpu-alloc.dev/tier": "GOLD", "gpu-alloc.dev/cluster": "cloud",
            "gpu-alloc.dev/gpu-model": "A100"}},
        "spec": {"nodeLabels": {"gpu-alloc.dev/cluster": "cloud"}},
    }))
    .await;
    flavors.push(flavor_quota(PUBLIC, gpu_quota[3]));
    bed.apply(json!({
        "apiVersion": KUEUE, "kind": "AdmissionCheck",
        "metadata": {"name": CHECK},
        "spec": {"controllerName": CONTROLLER},
    }))
    .await;
    bed.apply(json!({
        "apiVersion": KUEUE, "kind": "ClusterQueue",
        "metadata": {"name": "team-a"},
        "spec": {
            "namespaceSelector": {},
            "admissionChecksStrategy": {"admissionChecks": [{"name": CHECK}]},
            "resourceGroups": [{
                "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
                "flavors": flavors,
            }],
        },
    }))
    .await;
    bed.apply(json!({
        "apiVersion": KUEUE, "kind": "LocalQueue",
        "metadata": {"name": "gpu", "namespace": NAMESPACE},
        "spec": {"clusterQueue": "team-a"},
    }))
    .await;
}

fn flavor_quota(name: &str, gpus: u32) -> Value {
    json!({"name": name, "resources": [
        {"name": "cpu", "nominalQuota": "100000"},
        {"name": "memory", "nominalQuota": "100000Gi"},
        {"name": "nvidia.com/gpu", "nominalQuota": gpus.to_string()},
    ]})
}

/// Waits until Kueue says the ClusterQueue is active: our check is Active (the adapter set
/// it) and the flavors exist.
pub async fn wait_queue_active(bed: &Bed) {
    let api = bed.api(KUEUE, "ClusterQueue", false);
    crate::bed::until(
        "ClusterQueue team-a active",
        Duration::from_secs(60),
        || {
            let api = api.clone();
            async move {
                let queue = serde_json::to_value(api.get("team-a").await.ok()?).ok()?;
                is_true(&queue, "Active").then_some(())
            }
        },
    )
    .await;
}

/// A Node with `gpus` GPUs of the tier's model (GFD's labels), 32 CPUs and 128 GiB.
pub fn node(name: &str, tier: usize, gpus: u32) -> Value {
    let (_, tier_name, _, product) = PRIVATE[tier];
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name,
            "gpu.tier": tier_name,
            "nvidia.com/gpu.product": product,
            "nvidia.com/gpu.count": gpus.to_string(),
        }},
    })
}

/// Creates a Node and sets its capacity (status is a subresource: a create ignores it).
pub async fn add_node(bed: &Bed, node: Value) {
    let name = node["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let gpus = node["metadata"]["labels"]["nvidia.com/gpu.count"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    bed.apply(node).await;
    let capacity = json!({"cpu": "32", "memory": "128Gi", "pods": "110", "nvidia.com/gpu": gpus});
    bed.api("v1", "Node", false)
        .patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"capacity": capacity, "allocatable": capacity}})),
        )
        .await
        .unwrap_or_else(|error| panic!("Node {name} capacity: {error}"));
}

/// A Workload in the LocalQueue `gpu` asking `gpus` whole GPUs, with `annotations` on its pod
/// template (as a Job's `spec.template.metadata`, which Kueue copies) and, when `tier` is
/// given, the pod's nodeSelector on that tier (how a user pins Kueue's flavor choice).
pub fn workload(name: &str, gpus: u32, tier: Option<&str>, annotations: Value) -> Value {
    let mut spec = json!({
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": "trainer:1", "resources": {
            "requests": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": gpus.to_string()},
            "limits": {"nvidia.com/gpu": gpus.to_string()}}}],
    });
    if let Some(tier) = tier {
        spec["nodeSelector"] = json!({"gpu.tier": tier});
    }
    json!({
        "apiVersion": KUEUE, "kind": "Workload",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "queueName": "gpu",
            "podSets": [{"name": "main", "count": 1, "template": {
                "metadata": {"annotations": annotations},
                "spec": spec,
            }}],
        },
    })
}

/// What Kueue's job framework does for an evicted Workload once its job has stopped, which
/// minimalkueue (no job integrations) never does: clear the quota reservation with a
/// condition (`workload.UnsetQuotaReservationWithCondition`, reason Pending, and the
/// `Requeued` condition; v0.17.0 `jobframework/reconciler.go`, "handle eviction"). Without
/// it an evicted Workload keeps `QuotaReserved=True` and is never reserved again.
pub struct JobSide {
    task: tokio::task::JoinHandle<()>,
}

impl JobSide {
    /// Plays the job side for the test namespace until dropped.
    pub fn start(bed: &Bed) -> JobSide {
        let api = bed.workloads();
        let task = tokio::spawn(async move {
            loop {
                if let Ok(list) = api.list(&ListParams::default()).await {
                    for object in list.items {
                        let Ok(workload) = serde_json::to_value(&object) else {
                            continue;
                        };
                        if is_true(&workload, "Evicted") && is_true(&workload, "QuotaReserved") {
                            clear_reservation(&api, &workload).await;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        JobSide { task }
    }
}

impl Drop for JobSide {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn clear_reservation(api: &kube::Api<kube::api::DynamicObject>, workload: &Value) {
    let name = workload["metadata"]["name"].as_str().unwrap_or_default();
    let evicted = crate::bed::condition(workload, "Evicted")
        .cloned()
        .unwrap_or_default();
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let generation = workload["metadata"]["generation"].clone();
    let mut conditions: Vec<Value> = workload["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut set = |condition: Value| {
        let type_ = condition["type"].clone();
        match conditions.iter_mut().find(|c| c["type"] == type_) {
            Some(old) if old["status"] == condition["status"] => {
                old["reason"] = condition["reason"].clone();
                old["message"] = condition["message"].clone();
            }
            Some(old) => *old = condition,
            None => conditions.push(condition),
        }
    };
    set(
        json!({"type": "QuotaReserved", "status": "False", "reason": "Pending",
        "message": evicted["message"], "lastTransitionTime": now, "observedGeneration": generation}),
    );
    set(
        json!({"type": "Requeued", "status": "False", "reason": evicted["reason"],
        "message": evicted["message"], "lastTransitionTime": now, "observedGeneration": generation}),
    );
    if is_true(workload, "Admitted") {
        set(
            json!({"type": "Admitted", "status": "False", "reason": "NoReservation",
            "message": "The workload has no reservation", "lastTransitionTime": now,
            "observedGeneration": generation}),
        );
    }
    let patch = json!({
        "metadata": {"resourceVersion": workload["metadata"]["resourceVersion"]},
        "status": {"admission": null, "conditions": conditions},
    });
    // a 409 (Kueue wrote in between) is tried again on the next pass
    let _ = api
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await;
}
