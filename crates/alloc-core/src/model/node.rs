use crate::ids::{ClusterName, GpuModelName, NodeName};
use crate::units::{CpuMilli, MemMib};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A node's allocatable capacity. Its free capacity lives in the scheduler's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique in the fleet.
    pub name: NodeName,
    /// Its cluster: a private one (public GPUs come through offers).
    pub cluster: ClusterName,
    /// What flavors select it by.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Allocatable CPU.
    pub cpu: CpuMilli,
    /// Allocatable host memory.
    pub memory: MemMib,
    /// All GPUs of a node are of one model (as in every fleet list we import).
    #[serde(default)]
    pub gpu_model: Option<GpuModelName>,
    /// How many GPUs it has, indexed from 0.
    #[serde(default)]
    pub gpus: u32,
}
