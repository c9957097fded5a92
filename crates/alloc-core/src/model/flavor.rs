use crate::ids::{ClusterName, FlavorName, GpuModelName};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Service tiers, ordered: a job asking for SILVER may run on SILVER or, when upgrades are
/// allowed, GOLD; never on BRONZE.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The lowest tier, and a job's default.
    #[default]
    Bronze,
    /// The middle tier.
    Silver,
    /// The highest tier.
    Gold,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Bronze => "BRONZE",
            Tier::Silver => "SILVER",
            Tier::Gold => "GOLD",
        })
    }
}

/// A Kueue ResourceFlavor with the tier it sells. A node belongs to a flavor when it is in the
/// flavor's cluster and carries every label of `node_labels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Flavor {
    /// What quotas, offers and jobs name it by.
    pub name: FlavorName,
    /// The tier it sells.
    pub tier: Tier,
    /// The cluster whose nodes it selects.
    pub cluster: ClusterName,
    /// Labels a node must carry, all of them, to belong to the flavor.
    #[serde(default)]
    pub node_labels: BTreeMap<String, String>,
    /// The GPU model the flavor's nodes carry, when the flavor is that specific; lets the core
    /// honour a job's model constraint and estimate runtime before looking at nodes.
    #[serde(default)]
    pub gpu_model: Option<GpuModelName>,
}

impl Flavor {
    /// Whether `node` belongs to the flavor: its cluster, every label, and its GPU model when
    /// the flavor names one.
    pub fn selects(&self, node: &crate::model::NodeSpec) -> bool {
        node.cluster == self.cluster
            && self
                .node_labels
                .iter()
                .all(|(key, value)| node.labels.get(key) == Some(value))
            && self
                .gpu_model
                .as_ref()
                .is_none_or(|model| node.gpu_model.as_ref() == Some(model))
    }
}
