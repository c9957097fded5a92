//! A Kubernetes Node → the core's [`NodeSpec`], from the labels NVIDIA's GPU Feature Discovery
//! puts on GPU nodes and the node's allocatable CPU and memory:
//!
//! - GPU model: `gpu-alloc.dev/gpu-model`, else GFD's `nvidia.com/gpu.product` mapped through
//!   the platform file's `gpu_products` (or itself a model name);
//! - GPU count: GFD's `nvidia.com/gpu.count`, else allocatable `nvidia.com/gpu`;
//! - cluster: `gpu-alloc.dev/cluster`, else the platform's `default_cluster` (a node
//!   provisioner labels the cloud nodes it makes);
//! - every label is kept, so that ResourceFlavors' `nodeLabels` (a tier label such as
//!   `gpu.tier: GOLD`, a chipset) select nodes as Kueue's do.
//!
//! MPS sharing (`nvidia.com/gpu.replicas`, `nvidia.com/gpu.sharing-strategy: mps`) is the GPU
//! model's `max_mps_clients` in the platform file: the core keeps MPS limits per model.

use crate::error::ObjectError;
use crate::labels::{GPU, PREFIX};
use crate::platform::Platform;
use alloc_core::{ClusterName, CpuMilli, GpuModelName, MemMib, NodeName, NodeSpec, Resource};
use k8s_openapi::api::core::v1::Node;
use kueue_model::quantity;

/// GFD's product label.
pub const GFD_PRODUCT: &str = "nvidia.com/gpu.product";
/// GFD's GPU count label.
pub const GFD_COUNT: &str = "nvidia.com/gpu.count";

/// The node as the core models it.
pub fn node_spec(node: &Node, platform: &Platform) -> Result<NodeSpec, ObjectError> {
    let name = node.metadata.name.clone().unwrap_or_default();
    let object = format!("Node {name}");
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let allocatable = node
        .status
        .as_ref()
        .and_then(|status| status.allocatable.clone())
        .unwrap_or_default();
    let amount = |resource_name: &str, resource: Resource| -> Result<u64, ObjectError> {
        allocatable.get(resource_name).map_or(Ok(0), |value| {
            quantity::to_units(&value.0, resource).map_err(|error| {
                ObjectError::new(
                    &object,
                    format!("status.allocatable[\"{resource_name}\"]"),
                    error.to_string(),
                )
            })
        })
    };
    let own_model = format!("{PREFIX}gpu-model");
    let gpu_model = match (labels.get(&own_model), labels.get(GFD_PRODUCT)) {
        (Some(model), _) => Some((format!("metadata.labels[\"{own_model}\"]"), model.clone())),
        (None, Some(product)) => Some((
            format!("metadata.labels[\"{GFD_PRODUCT}\"]"),
            platform
                .gpu_products
                .get(product)
                .cloned()
                .unwrap_or_else(|| product.clone()),
        )),
        (None, None) => None,
    };
    let gpu_model = match gpu_model {
        None => None,
        Some((field, model)) => {
            if !platform.gpu_models.iter().any(|m| m.name.as_str() == model) {
                return Err(ObjectError::new(
                    &object,
                    field,
                    format!("GPU model {model:?} is not in the platform file's gpu_models (map a GFD product in gpu_products)"),
                ));
            }
            Some(GpuModelName::new(model))
        }
    };
    let gpus = match labels.get(GFD_COUNT) {
        Some(count) => count.trim().parse::<u32>().map_err(|_| {
            ObjectError::new(
                &object,
                format!("metadata.labels[\"{GFD_COUNT}\"]"),
                format!("{count:?} is not a GPU count"),
            )
        })?,
        None => u32::try_from(amount(GPU, Resource::Gpu)? / 1000).unwrap_or(u32::MAX),
    };
    if gpus > 0 && gpu_model.is_none() {
        return Err(ObjectError::new(
            &object,
            "metadata.labels",
            format!("{gpus} GPUs and no GPU model: label it {GFD_PRODUCT} (GPU Feature Discovery) or {own_model}"),
        ));
    }
    let cluster_label = format!("{PREFIX}cluster");
    let cluster = labels
        .get(&cluster_label)
        .map_or_else(|| platform.default_cluster.clone(), ClusterName::new);
    Ok(NodeSpec {
        name: NodeName::new(name),
        cluster,
        cpu: CpuMilli(amount("cpu", Resource::Cpu)?),
        memory: MemMib(amount("memory", Resource::Memory)?),
        gpu_model,
        gpus,
        labels: labels.into_iter().collect(),
    })
}
