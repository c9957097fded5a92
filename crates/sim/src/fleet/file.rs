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
    /// How long a job placed on a private node takes to start computing (image pull,
    /// container start); none when absent.
    #[serde(default)]
    pub start_latency: Option<StartLatency>,
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

/// The time from a private placement to the job computing (binding, image pull, container
/// start): log-normal with this median and 95th percentile, in seconds, drawn per start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartLatency {
    pub median_seconds: f64,
    pub p95_seconds: f64,
}

impl FleetFile {
    pub fn load(path: &Path) -> Result<FleetFile> {
        crate::yaml::load(path)
    }

    /// The scheduler configuration and the node list, checked for dangling names.
    pub fn resolve(&self, path: &Path) -> Result<(Config, Vec<NodeSpec>)> {
        self.check_limits(path)?;
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
        Ok((config, nodes))
    }

    /// Refuses values that cannot be meant, before anything is built from them: speeds of 0,
    /// negative prices and budgets, more nodes or GPUs than [`crate::limits`] allows, failure
    /// rates too high to simulate, durations beyond ten years.
    fn check_limits(&self, path: &Path) -> Result<()> {
        let bad = |field: String, reason: String| SimError::BadFile {
            path: path.to_path_buf(),
            reason: format!("{field}: {reason}"),
        };
        let limits = crate::limits::SPEED_PERMILLE;
        for (index, model) in self.gpu_models.iter().enumerate() {
            if !limits.contains(&model.speed_permille) {
                return Err(bad(
                    format!("gpu_models[{index}] ({}).speed_permille", model.name),
                    format!(
                        "expected {}..={} (‰ of the reference GPU's throughput, 1000 = as \
                         fast), found {}",
                        limits.start(),
                        limits.end(),
                        model.speed_permille
                    ),
                ));
            }
        }
        for cluster in &self.clusters {
            for (index, offer) in cluster.offers.iter().enumerate() {
                let field = |name: &str| {
                    format!(
                        "clusters[{}].offers[{index}] ({}).{name}",
                        cluster.name, offer.flavor
                    )
                };
                if offer.price_per_gpu_hour.0 < 0 {
                    return Err(bad(
                        field("price_per_gpu_hour"),
                        format!(
                            "must not be negative, found {} (micro-units of currency)",
                            offer.price_per_gpu_hour.0
                        ),
                    ));
                }
                for (name, value) in [
                    ("provisioning_latency", offer.provisioning_latency),
                    ("scale_down_after", offer.scale_down_after),
                ] {
                    crate::limits::ms(value.0).map_err(|reason| bad(field(name), reason))?;
                }
            }
        }
        check_budgets(&self.tenants).map_err(|(field, reason)| bad(field, reason))?;
        let mut total: u64 = 0;
        for (index, group) in self.nodes.iter().enumerate() {
            let field = |name: &str| format!("nodes[{index}] ({}).{name}", group.name);
            total = total.saturating_add(u64::from(group.count));
            if total > crate::limits::MAX_NODES {
                return Err(bad(
                    field("count"),
                    format!(
                        "{} nodes in all is more than a fleet may have ({})",
                        total,
                        crate::limits::MAX_NODES
                    ),
                ));
            }
            if group.gpus > crate::limits::MAX_GPUS_PER_NODE {
                return Err(bad(
                    field("gpus"),
                    format!(
                        "{} GPUs is more than one node may carry ({})",
                        group.gpus,
                        crate::limits::MAX_GPUS_PER_NODE
                    ),
                ));
            }
        }
        if let Some(failures) = &self.failures {
            let mtbf = failures.mtbf_hours;
            if mtbf.is_nan() || mtbf < crate::limits::MIN_MTBF_HOURS {
                return Err(bad(
                    "failures.mtbf_hours".into(),
                    format!(
                        "expected at least {} hours between a node's failures, found {mtbf}",
                        crate::limits::MIN_MTBF_HOURS
                    ),
                ));
            }
            crate::limits::hours(mtbf)
                .map_err(|reason| bad("failures.mtbf_hours".into(), reason))?;
            crate::limits::hours(failures.repair_hours)
                .map_err(|reason| bad("failures.repair_hours".into(), reason))?;
        }
        if let Some(latency) = &self.start_latency {
            let (median, p95) = (latency.median_seconds, latency.p95_seconds);
            crate::limits::seconds(median)
                .map_err(|reason| bad("start_latency.median_seconds".into(), reason))?;
            crate::limits::seconds(p95)
                .map_err(|reason| bad("start_latency.p95_seconds".into(), reason))?;
            if median <= 0.0 {
                return Err(bad(
                    "start_latency.median_seconds".into(),
                    format!("expected more than 0 seconds, found {median}"),
                ));
            }
            if p95 < median {
                return Err(bad(
                    "start_latency.p95_seconds".into(),
                    format!("expected at least the median ({median} s), found {p95}"),
                ));
            }
        }
        Ok(())
    }
}

/// Tenants' public budgets are money to spend: never negative.
pub fn check_budgets(tenants: &[Tenant]) -> std::result::Result<(), (String, String)> {
    for (index, tenant) in tenants.iter().enumerate() {
        if let Some(budget) = tenant.public_budget.filter(|b| b.0 < 0) {
            return Err((
                format!("tenants[{index}] ({}).public_budget", tenant.name),
                format!(
                    "must not be negative, found {} (micro-units of currency)",
                    budget.0
                ),
            ));
        }
    }
    Ok(())
}
