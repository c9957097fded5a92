use crate::ids::{ClusterName, FlavorName, GpuModelName};
use crate::units::{Millis, Money};
use serde::{Deserialize, Serialize};

/// A place jobs can run: the department's private fleet, or a public cloud with offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// What flavors and nodes name it by.
    pub name: ClusterName,
    /// Private or public.
    pub kind: ClusterKind,
    /// What a public cluster rents out; empty for a private one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<Offer>,
}

/// Whose GPUs a cluster has: the department's own, or rented ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClusterKind {
    /// The department's fleet: nodes join and leave as inputs.
    Private,
    /// A cloud: GPUs rented through offers, one node per burst.
    Public,
}

impl Cluster {
    /// A private cluster: its nodes come as inputs.
    pub fn private(name: impl Into<String>) -> Cluster {
        Cluster {
            name: ClusterName::new(name),
            kind: ClusterKind::Private,
            offers: Vec::new(),
        }
    }

    /// A public cluster renting out `offers`.
    pub fn public(name: impl Into<String>, offers: Vec<Offer>) -> Cluster {
        Cluster {
            name: ClusterName::new(name),
            kind: ClusterKind::Public,
            offers,
        }
    }

    /// Whether its GPUs are rented: jobs on it burst, and only some jobs may.
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
    /// The GPU model rented.
    pub gpu_model: GpuModelName,
    /// What one GPU costs per hour, billed from the burst until its node is released.
    pub price_per_gpu_hour: Money,
    /// How long rented GPUs take to be ready after a burst; billed.
    pub provisioning_latency: Millis,
    /// Most GPUs of this offer leased to jobs at once.
    pub gpu_cap: u32,
    /// How long a rented node stays warm (and billed) after its job ends before it is
    /// released, unless another burst reuses it. A burst reserves this tail of its bill too.
    #[serde(default)]
    pub scale_down_after: Millis,
}
