//! Kueue's setup objects (ResourceFlavor, Cohort, ClusterQueue, LocalQueue) as the API server
//! serves them → the core's configuration objects, read by kueue-model, so a setup means the
//! same in the twin and in the cluster. What the controller adds before kueue-model reads an
//! object:
//!
//! - a ResourceFlavor's tier, cluster and GPU model, which Kueue's flavors do not carry, from
//!   its annotations (or labels) `gpu-alloc.dev/tier` (required), `gpu-alloc.dev/cluster`
//!   (default: the platform's `default_cluster`) and `gpu-alloc.dev/gpu-model`;
//! - a ClusterQueue's admission checks are the controller's own business, not a scheduling
//!   rule, so `spec.admissionChecks` and `spec.admissionChecksStrategy` are set aside;
//! - quota of the MPS-shared resource (`nvidia.com/gpu.shared`) is counted in milli-GPU as
//!   the core counts a share: `n` clients of `mps_replicas` per GPU is `n ÷ replicas` GPUs,
//!   added to the flavor's `nvidia.com/gpu` quota;
//! - a LocalQueue is named `namespace/name`, as Workloads name it.

use crate::error::ObjectError;
use crate::kueue::SetupKind;
use crate::labels::{GPU, PREFIX, SHARED_GPU};
use crate::platform::Platform;
use alloc_core::{
    ClusterName, Cohort, CohortName, ConfigObject, Flavor, GpuModelName, LocalQueueName, Resource,
    Tier,
};
use kueue_model::quantity;
use serde_json::{Map, Value};
use std::path::Path;

/// Where errors say a served object came from.
const SOURCE: &str = "apiserver";

/// The core's object for a served setup object (its JSON, as `DynamicObject` serializes it).
pub fn config_object(
    kind: SetupKind,
    object: &Value,
    platform: &Platform,
) -> Result<ConfigObject, ObjectError> {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let label = match kind {
        SetupKind::LocalQueue => format!("{} {namespace}/{name}", kind.kind()),
        _ => format!("{} {name}", kind.kind()),
    };
    let mut object = object.clone();
    if let Some(root) = object.as_object_mut() {
        root.insert(
            "apiVersion".into(),
            Value::String(format!("{}/{}", crate::kueue::GROUP, crate::kueue::VERSION)),
        );
        root.insert("kind".into(), Value::String(kind.kind().into()));
        if let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("admissionChecks");
            spec.remove("admissionChecksStrategy");
            if kind == SetupKind::ClusterQueue {
                shared_quota_as_gpu(spec, platform)
                    .map_err(|(field, reason)| ObjectError::new(&label, field, reason))?;
            }
        }
    }
    let text = serde_json::to_string(&object)
        .map_err(|error| ObjectError::new(&label, "(object)", error.to_string()))?;
    let read = kueue_model::parse(Path::new(SOURCE), &text).map_err(|error| {
        let field = error.field().to_string();
        ObjectError::new(&label, field, error.reason().to_string())
    })?;
    match kind {
        SetupKind::ResourceFlavor => {
            let flavor = read
                .flavors
                .into_iter()
                .next()
                .ok_or_else(|| missing(&label))?;
            let get = |key: &str| {
                let full = format!("{PREFIX}{key}");
                ["annotations", "labels"].into_iter().find_map(|place| {
                    object
                        .pointer(&format!("/metadata/{place}"))
                        .and_then(|map| map.get(&full))
                        .and_then(Value::as_str)
                        .map(|value| (format!("metadata.{place}[\"{full}\"]"), value.to_string()))
                })
            };
            let tier = match get("tier") {
                None => {
                    return Err(ObjectError::new(
                        &label,
                        format!("metadata.annotations[\"{PREFIX}tier\"]"),
                        "a flavor needs its tier (BRONZE, SILVER or GOLD)",
                    ))
                }
                Some((field, value)) => match value.to_ascii_uppercase().as_str() {
                    "BRONZE" => Tier::Bronze,
                    "SILVER" => Tier::Silver,
                    "GOLD" => Tier::Gold,
                    _ => {
                        return Err(ObjectError::new(
                            &label,
                            field,
                            format!("{value:?} is not a tier (BRONZE, SILVER or GOLD)"),
                        ))
                    }
                },
            };
            let cluster = get("cluster").map_or_else(
                || platform.default_cluster.clone(),
                |(_, c)| ClusterName::new(c),
            );
            let gpu_model = match get("gpu-model") {
                None => None,
                Some((field, model)) => {
                    if !platform.gpu_models.iter().any(|m| m.name.as_str() == model) {
                        return Err(ObjectError::new(
                            &label,
                            field,
                            format!("GPU model {model:?} is not in the platform file's gpu_models"),
                        ));
                    }
                    Some(GpuModelName::new(model))
                }
            };
            Ok(ConfigObject::Flavor(Flavor {
                name: flavor.name,
                tier,
                cluster,
                node_labels: flavor.node_labels,
                gpu_model,
            }))
        }
        SetupKind::Cohort => {
            let cohort = read
                .cohorts
                .into_iter()
                .next()
                .ok_or_else(|| missing(&label))?;
            Ok(ConfigObject::Cohort(Cohort {
                name: CohortName::new(cohort),
            }))
        }
        SetupKind::ClusterQueue => read
            .cluster_queues
            .into_iter()
            .next()
            .map(ConfigObject::ClusterQueue)
            .ok_or_else(|| missing(&label)),
        SetupKind::LocalQueue => {
            let mut queue = read
                .local_queues
                .into_iter()
                .next()
                .ok_or_else(|| missing(&label))?;
            queue.name = LocalQueueName::new(format!("{namespace}/{}", queue.name));
            Ok(ConfigObject::LocalQueue(queue))
        }
    }
}

fn missing(label: &str) -> ObjectError {
    ObjectError::new(label, "kind", "kueue-model read no object of this kind")
}

/// Rewrites the shared GPU resource's quota of every flavor as milli-GPU of `nvidia.com/gpu`.
fn shared_quota_as_gpu(
    spec: &mut Map<String, Value>,
    platform: &Platform,
) -> Result<(), (String, String)> {
    let Some(groups) = spec.get_mut("resourceGroups").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for (g, group) in groups.iter_mut().enumerate() {
        if let Some(covered) = group
            .get_mut("coveredResources")
            .and_then(Value::as_array_mut)
        {
            let had_shared = covered.iter().any(|r| r.as_str() == Some(SHARED_GPU));
            covered.retain(|r| r.as_str() != Some(SHARED_GPU));
            if had_shared && !covered.iter().any(|r| r.as_str() == Some(GPU)) {
                covered.push(Value::String(GPU.into()));
            }
        }
        let Some(flavors) = group.get_mut("flavors").and_then(Value::as_array_mut) else {
            continue;
        };
        for (f, flavor) in flavors.iter_mut().enumerate() {
            let Some(resources) = flavor.get_mut("resources").and_then(Value::as_array_mut) else {
                continue;
            };
            let Some(at) = resources
                .iter()
                .position(|r| r.get("name").and_then(Value::as_str) == Some(SHARED_GPU))
            else {
                continue;
            };
            let shared = resources.remove(at);
            let mut gpu_at = resources
                .iter()
                .position(|r| r.get("name").and_then(Value::as_str) == Some(GPU));
            if gpu_at.is_none() {
                resources.push(serde_json::json!({"name": GPU, "nominalQuota": "0"}));
                gpu_at = Some(resources.len() - 1);
            }
            let Some(gpu) = gpu_at.and_then(|at| resources.get_mut(at)) else {
                continue;
            };
            for field in ["nominalQuota", "borrowingLimit", "lendingLimit"] {
                let Some(extra) = shared.get(field) else {
                    continue;
                };
                let place =
                    format!("spec.resourceGroups[{g}].flavors[{f}].resources[{at}].{field}");
                let text = quantity_text(extra);
                let clients = quantity::to_units(&text, Resource::Gpu)
                    .map_err(|e| (place.clone(), e.to_string()))?;
                let milli = clients / u64::from(platform.mps_replicas);
                let own = gpu.get(field).map(quantity_text);
                let own = match own {
                    Some(text) => quantity::to_units(&text, Resource::Gpu)
                        .map_err(|e| (place.clone(), e.to_string()))?,
                    None => 0,
                };
                gpu[field] = Value::String(format!("{}m", own + milli));
            }
        }
    }
    Ok(())
}

fn quantity_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
