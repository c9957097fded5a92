//! The platform file (`--platform FILE`): what the cluster's objects do not say. Kueue's
//! ResourceFlavors name node labels and Kubernetes nodes name a GPU product, but the core also
//! needs each GPU model's VRAM, speed and MPS client limit, the clusters (the private fleet,
//! and the public clouds with their offers: price, provisioning latency, GPU cap), and the
//! tenants and users with their caps and budgets. Those are the core's own types, read as YAML
//! with the same field names as the sim's fleet files.

use alloc_core::{Cluster, ClusterName, Config, GpuModel, Millis, Tenant, User};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What the controller knows besides the cluster's objects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// GPU models, by the name nodes and flavors use.
    pub gpu_models: Vec<GpuModel>,
    /// The private cluster and the public ones with their offers.
    pub clusters: Vec<Cluster>,
    /// Tenants with caps and public budgets.
    #[serde(default)]
    pub tenants: Vec<Tenant>,
    /// Users with caps.
    #[serde(default)]
    pub users: Vec<User>,
    /// The cluster of a node or flavor that names none (`<prefix>/cluster`).
    #[serde(default = "default_cluster")]
    pub default_cluster: ClusterName,
    /// GPU Feature Discovery's `nvidia.com/gpu.product` values → GPU model names (a product
    /// that is itself a model name needs no entry).
    #[serde(default)]
    pub gpu_products: BTreeMap<String, String>,
    /// How many MPS clients share one GPU when a pod asks for the MPS-shared resource
    /// (`nvidia.com/gpu.shared`): the device plugin's `sharing.mps.resources[].replicas`.
    #[serde(default = "default_replicas")]
    pub mps_replicas: u32,
    /// A job's estimated runtime when its Workload names none, in ms.
    #[serde(default = "default_runtime")]
    pub default_runtime: Millis,
}

fn default_cluster() -> ClusterName {
    ClusterName::new("private")
}

fn default_replicas() -> u32 {
    4
}

fn default_runtime() -> Millis {
    Millis::hours(1)
}

/// A platform file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The file cannot be opened.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML does not describe a platform.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, with the field and line.
        reason: String,
    },
}

impl Platform {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Platform, PlatformError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlatformError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Platform::parse(&path.display().to_string(), &text)
    }

    /// Reads the YAML `text` of the file `path`.
    pub fn parse(path: &str, text: &str) -> Result<Platform, PlatformError> {
        let platform: Platform =
            serde_norway::from_str(text).map_err(|error| PlatformError::Invalid {
                path: path.into(),
                reason: error.to_string(),
            })?;
        if platform.mps_replicas == 0 {
            return Err(PlatformError::Invalid {
                path: path.into(),
                reason: "mps_replicas: must be at least 1".into(),
            });
        }
        Ok(platform)
    }

    /// The configuration the core starts from before any Kueue object: GPU models, clusters,
    /// tenants and users. Public offers name flavors, so the flavors come with it
    /// ([`crate::Index::start_config`]).
    pub(crate) fn base_config(&self) -> Config {
        let mut config = Config::default();
        for model in &self.gpu_models {
            config.gpu_models.insert(model.name.clone(), model.clone());
        }
        for cluster in &self.clusters {
            config
                .clusters
                .insert(cluster.name.clone(), cluster.clone());
        }
        for tenant in &self.tenants {
            config.tenants.insert(tenant.name.clone(), tenant.clone());
        }
        for user in &self.users {
            config.users.insert(user.name.clone(), user.clone());
        }
        config
    }
}
