//! Kueue and Kubernetes objects, and policy files, → the core's model, and bad objects → errors
//! naming the object and field.

use crate::fixtures::{self, *};
use alloc_core::{BudgetKind, ConfigObject, DataClass, GpuRequest, MilliGpu, Millis, Tier};
use live_adapter::kueue::SetupKind;
use live_adapter::labels::job_of;
use live_adapter::nodes::node_spec;
use live_adapter::setup::config_object;
use serde_json::json;
use std::path::Path;

#[test]
fn a_workload_with_every_key_reads_into_a_job() {
    let workload = fixtures::workload(
        "train",
        0,
        json!({
            "gpu-alloc.dev/tier": "silver", "gpu-alloc.dev/deadline": "2026-01-01T06:00:00Z",
            "gpu-alloc.dev/budget": "12.5", "gpu-alloc.dev/budget-mode": "fixed",
            "gpu-alloc.dev/burstable": "true", "gpu-alloc.dev/data-class": "sensitive",
            "gpu-alloc.dev/runtime": "1h30m", "gpu-alloc.dev/gpu-memory": "4Gi",
        }),
    );
    let mut workload = workload;
    workload["spec"]["podSets"][0]["template"]["spec"]["containers"][0]["resources"]["requests"] =
        json!({"cpu": "500m", "memory": "2Gi", "nvidia.com/gpu.shared": "1"});
    let job = job_of(&typed(&workload), &platform(), T0).expect("reads");
    assert_eq!(job.queue.as_str(), "team-a/lq");
    assert_eq!(job.min_tier, Tier::Silver);
    assert_eq!(
        job.gpu,
        GpuRequest::Fraction {
            milli: MilliGpu(250),
            vram: alloc_core::VramMib(4096)
        }
    );
    assert_eq!(job.runtime, Millis::minutes(90));
    assert_eq!(job.deadline, Some(at(6 * 3600)));
    assert_eq!(job.budget.kind, BudgetKind::Fixed);
    assert_eq!(job.budget.limit, Some(alloc_core::Money(12_500_000)));
    assert!(job.burstable);
    assert_eq!(job.data_class, DataClass::Sensitive);
    assert_eq!(job.cpu.0, 500);
    assert_eq!(job.memory.0, 2048);
    assert_eq!(job.submit_time, T0);
    assert_eq!(job.tenant.as_str(), "team-a");
}

#[test]
fn bad_workload_fields_are_named() {
    let cases = [
        (
            json!({"gpu-alloc.dev/tier": "PLATINUM"}),
            "spec.podSets[0].template.metadata.annotations[\"gpu-alloc.dev/tier\"]",
            "is not a tier",
        ),
        (
            json!({"gpu-alloc.dev/deadline": "tomorrow"}),
            "annotations[\"gpu-alloc.dev/deadline\"]",
            "RFC 3339",
        ),
        (
            json!({"gpu-alloc.dev/runtime": "2 weeks"}),
            "annotations[\"gpu-alloc.dev/runtime\"]",
            "not a duration",
        ),
        (
            json!({"gpu-alloc.dev/budget": "-3"}),
            "annotations[\"gpu-alloc.dev/budget\"]",
            "not negative",
        ),
        (
            json!({"gpu-alloc.dev/budget": "lots"}),
            "annotations[\"gpu-alloc.dev/budget\"]",
            "money",
        ),
    ];
    for (annotations, field, reason) in cases {
        let workload = typed(&fixtures::workload("bad", 1, annotations));
        let error = job_of(&workload, &platform(), T0).expect_err("refused");
        assert_eq!(error.object, "Workload team-a/bad");
        assert!(error.field.contains(field), "{error}");
        assert!(error.reason.contains(reason), "{error}");
    }
    let mut fractional = fixtures::workload("half", 0, json!({}));
    fractional["spec"]["podSets"][0]["template"]["spec"]["containers"][0]["resources"]
        ["requests"]["nvidia.com/gpu"] = json!("500m");
    let error = job_of(&typed(&fractional), &platform(), T0).expect_err("refused");
    assert!(error.to_string().contains("whole GPUs"), "{error}");
}

#[test]
fn nodes_read_gpu_feature_discovery_labels() {
    let spec = node_spec(&node("node-a", 4), &platform()).expect("reads");
    assert_eq!(spec.gpus, 4);
    assert_eq!(spec.gpu_model.as_ref().map(|m| m.as_str()), Some("V100"));
    assert_eq!(spec.cluster.as_str(), "private");
    assert_eq!(spec.cpu.0, 32_000);
    assert_eq!(
        spec.labels.get("gpu.tier").map(String::as_str),
        Some("GOLD")
    );
    let mut unknown = node("node-b", 2);
    if let Some(labels) = unknown.metadata.labels.as_mut() {
        labels.insert("nvidia.com/gpu.product".into(), "Quadro-9000".into());
    }
    let error = node_spec(&unknown, &platform()).expect_err("refused");
    assert_eq!(error.object, "Node node-b");
    assert!(error.field.contains("nvidia.com/gpu.product"), "{error}");
}

#[test]
fn setup_objects_read_through_kueue_model() {
    let ConfigObject::Flavor(flavor) = config_object(
        SetupKind::ResourceFlavor,
        &flavor("v100-gold", "GOLD", "private", json!({"gpu.tier": "GOLD"})),
        &platform(),
    )
    .expect("reads") else {
        panic!("not a flavor");
    };
    assert_eq!(flavor.tier, Tier::Gold);
    let ConfigObject::ClusterQueue(queue) = config_object(
        SetupKind::ClusterQueue,
        &cluster_queue("8", "4"),
        &platform(),
    )
    .expect("reads") else {
        panic!("not a ClusterQueue");
    };
    assert_eq!(queue.flavors.len(), 2);
    let ConfigObject::LocalQueue(local) =
        config_object(SetupKind::LocalQueue, &local_queue(), &platform()).expect("reads")
    else {
        panic!("not a LocalQueue");
    };
    assert_eq!(local.name.as_str(), "team-a/lq");
}

#[test]
fn shared_gpu_quota_counts_as_milli_gpu() {
    let mut queue = cluster_queue("2", "0");
    queue["spec"]["resourceGroups"][0]["coveredResources"] =
        json!(["cpu", "memory", "nvidia.com/gpu", "nvidia.com/gpu.shared"]);
    queue["spec"]["resourceGroups"][0]["flavors"][0]["resources"]
        .as_array_mut()
        .expect("resources")
        .push(json!({"name": "nvidia.com/gpu.shared", "nominalQuota": "8"}));
    let ConfigObject::ClusterQueue(queue) =
        config_object(SetupKind::ClusterQueue, &queue, &platform()).expect("reads")
    else {
        panic!("not a ClusterQueue");
    };
    // 2 GPUs + 8 clients of 4 per GPU = 4 GPUs
    let gpu = &queue.flavors[0].resources[&alloc_core::Resource::Gpu];
    assert_eq!(gpu.nominal, 4000);
}

#[test]
fn bad_setup_objects_name_object_and_field() {
    let untiered = json!({"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ResourceFlavor", "metadata": {"name": "plain"}, "spec": {}});
    let error =
        config_object(SetupKind::ResourceFlavor, &untiered, &platform()).expect_err("refused");
    assert_eq!(error.object, "ResourceFlavor plain");
    assert!(error.field.contains("gpu-alloc.dev/tier"), "{error}");
    let mut queue = cluster_queue("8", "8");
    queue["spec"]["resourceGroups"][0]["flavors"][0]["resources"][2]["nominalQuota"] = json!("8GB");
    let error = config_object(SetupKind::ClusterQueue, &queue, &platform()).expect_err("refused");
    assert_eq!(error.object, "ClusterQueue team-a");
    assert!(error.field.contains("resources[2].nominalQuota"), "{error}");
}

/// Every object of Kueue's own samples either translates or is refused with an error that
/// names it: none panics.
#[test]
fn kueue_samples_translate_or_name_the_field() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/kueue/samples");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        eprintln!("skipped: {} is absent", folder.display());
        return;
    };
    let mut seen = 0;
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("a sample reads");
        for document in text.split("\n---") {
            let Ok(value) = serde_norway::from_str::<serde_json::Value>(document) else {
                continue;
            };
            let kind = match value.get("kind").and_then(|k| k.as_str()) {
                Some("ResourceFlavor") => SetupKind::ResourceFlavor,
                Some("ClusterQueue") => SetupKind::ClusterQueue,
                Some("LocalQueue") => SetupKind::LocalQueue,
                Some("Cohort") => SetupKind::Cohort,
                _ => continue,
            };
            seen += 1;
            let name = value
                .pointer("/metadata/name")
                .and_then(|n| n.as_str())
                .unwrap_or_default();
            if let Err(error) = config_object(kind, &value, &platform()) {
                assert!(
                    error.object.starts_with(kind.kind()) && error.object.contains(name),
                    "{error}"
                );
                assert!(!error.field.is_empty(), "{error}");
            }
        }
    }
    assert!(seen > 5, "only {seen} objects in the samples");
}

#[test]
fn a_policy_file_the_sim_wrote_runs_as_measured() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/examples/policy-deadlines-and-large-jobs.yaml"
    );
    let policy = live_adapter::policy::read(path).expect("the example reads");
    assert!(policy.backfill.enabled);
    assert_eq!(
        (policy.backfill.per_flavor, policy.backfill.min_gpus),
        (2, 5)
    );
    assert!(policy.preemption.protect_deadlines);
    assert_eq!(
        policy.ordering,
        alloc_core::Ordering::preset("deadline-first").expect("a preset")
    );
    assert_eq!(
        live_adapter::policy::read("default").expect("a preset"),
        alloc_core::Policy::preset("default").expect("a preset")
    );
    let missing = live_adapter::policy::read("no-such-policy").expect_err("neither");
    assert!(
        missing.to_string().contains("neither a preset"),
        "{missing}"
    );
    let bad = std::env::temp_dir().join(format!("bad-policy-{}.yaml", std::process::id()));
    std::fs::write(
        &bad,
        "allow_tier_upgrade: false\nbackfill:\n  enabled: yes-please\n",
    )
    .expect("a temporary file");
    let error = live_adapter::policy::read(bad.to_str().expect("a path"))
        .expect_err("not a policy")
        .to_string();
    let _ = std::fs::remove_file(&bad);
    assert!(
        error.contains(":3: not a policy: backfill.enabled: invalid type"),
        "{error}"
    );
}
