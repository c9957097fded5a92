use crate::error::{Result, SimError};
use alloc_core::{
    Cluster, ClusterQueue, Config, Flavor, GpuModel, GpuModelName, LocalQueue, NodeName, NodeSpec,
    Tenant, User,
};
use alloc_core::{ClusterName, CpuMilli, MemMib};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A fleet file (YAML). Field names follow alloc-core's model; see `scenarios/README.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    pub gpu_models: Vec<GpuModel>,
    pub clusters: Vec<Cluster>,
    pub flavors: Vec<Flavor>,
    pub cluster_queues: Vec<ClusterQueue>,
    pub local_queues: Vec<LocalQueue>,
    #[serde(default)]
    pub tenants: Vec<Tenant>,
    #[serde(default)]
    pub users: Vec<User>,
    pub nodes: Vec<NodeGroup>,
    #[serde(default)]
    pub failures: Option<FailureModel>,
}

/// `count` identical nodes named `name-000`, `name-001`, … (just `name` when `count` is 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeGroup {
    pub name: String,
    #[serde(default = "one")]
    pub count: u32,
    pub cluster: ClusterName,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub cpu: CpuMilli,
    pub memory: MemMib,
    #[serde(default)]
    pub gpu_model: Option<GpuModelName>,
    #[serde(default)]
    pub gpus: u32,
}

fn one() -> u32 {
    1
}

/// Random node failures: exponential time between failures per node, fixed repair time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailureModel {
    pub mtbf_hours: f64,
    pub repair_hours: f64,
}

impl FleetFile {
    pub fn load(path: &Path) -> Result<FleetFile> {
        crate::yaml::load(path)
    }

    /// The scheduler configuration and the node list, checked for dangling names.
    pub fn resolve(&self, path: &Path) -> Result<(Config, Vec<NodeSpec>)> {
        let config = Config::new(
            self.gpu_models.clone(),
            self.clusters.clone(),
            self.flavors.clone(),
            self.cluster_queues.clone(),
            self.local_queues.clone(),
            self.tenants.clone(),
            self.users.clone(),
        )
        .map_err(|error| SimError::BadFile {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
        let mut nodes = Vec::new();
        let mut names = BTreeSet::new();
        for (index, group) in self.nodes.iter().enumerate() {
            let bad = |field: &str, reason: String| SimError::BadFile {
                path: path.to_path_buf(),
                reason: format!("nodes[{index}] ({}): {field}: {reason}", group.name),
            };
            if !config.clusters.contains_key(&group.cluster) {
                return Err(bad(
                    "cluster",
                    format!("no such cluster: {}", group.cluster),
                ));
            }
            match &group.gpu_model {
                Some(model) if !config.gpu_models.contains_key(model) => {
                    return Err(bad("gpu_model", format!("no such GPU model: {model}")));
                }
                None if group.gpus > 0 => {
                    return Err(bad("gpu_model", "nodes with GPUs need a model".into()))
                }
                _ => {}
            }
            for i in 0..group.count {
                let name = if group.count == 1 {
                    group.name.clone()
                } else {
                    format!("{}-{i:03}", group.name)
                };
                if !names.insert(name.clone()) {
                    return Err(bad("name", format!("node {name} is defined twice")));
                }
                nodes.push(NodeSpec {
                    name: NodeName::new(name),
                    cluster: group.cluster.clone(),
                    labels: group.labels.clone(),
                    cpu: group.cpu,
                    memory: group.memory,
                    gpu_model: group.gpu_model.clone(),
                    gpus: group.gpus,
                });
            }
        }
        if let Some(failures) = &self.failures {
            if !(failures.mtbf_hours > 0.0 && failures.repair_hours >= 0.0) {
                return Err(SimError::BadFile {
                    path: path.to_path_buf(),
                    reason: "failures: mtbf_hours must be > 0 and repair_hours >= 0".into(),
                });
            }
        }
        Ok((config, nodes))
    }
}
