use crate::ids::{ClusterName, FlavorName, GpuModelName};
use crate::units::{Millis, Money};
use serde::{Deserialize, Serialize};

/// A place jobs can run: the department's private fleet, or a public cloud with offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    pub name: ClusterName,
    pub kind: ClusterKind,
    /// What a public cluster rents out; empty for a private one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<Offer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClusterKind {
    Private,
    Public,
}

impl Cluster {
    pub fn private(name: impl Into<String>) -> Cluster {
        Cluster {
            name: ClusterName::new(name),
            kind: ClusterKind::Private,
            offers: Vec::new(),
        }
    }

    pub fn public(name: impl Into<String>, offers: Vec<Offer>) -> Cluster {
        Cluster {
            name: ClusterName::new(name),
            kind: ClusterKind::Public,
            offers,
        }
    }

    pub fn is_public(&self) -> bool {
        self.kind == ClusterKind::Public
    }
}

/// Rentable capacity in a public cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Offer {
    /// The flavor a job lands on when it takes this offer.
    pub flavor: FlavorName,
    pub gpu_model: GpuModelName,
    pub price_per_gpu_hour: Money,
    pub provisioning_latency: Millis,
    /// Most GPUs of this offer leased to jobs at once.
    pub gpu_cap: u32,
    /// How long a rented node stays warm (and billed) after its job ends before it is
    /// released, unless another burst reuses it. A burst reserves this tail of its bill too.
    #[serde(default)]
    pub scale_down_after: Millis,
}
