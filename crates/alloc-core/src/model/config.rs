use crate::error::ConfigError;
use crate::ids::{
    ClusterName, FlavorName, GpuModelName, LocalQueueName, QueueName, TenantName, UserName,
};
use crate::model::{Cluster, ClusterQueue, Cohort, Flavor, GpuModel, LocalQueue, Tenant, User};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Everything configured about the platform except nodes (which come and go as inputs) and
/// jobs. Maps are keyed by name, so lookups and iteration are ordered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Config {
    /// The GPU models nodes and offers may have.
    pub gpu_models: BTreeMap<GpuModelName, GpuModel>,
    /// The private cluster and the public ones.
    pub clusters: BTreeMap<ClusterName, Cluster>,
    /// Kueue's ResourceFlavors.
    pub flavors: BTreeMap<FlavorName, Flavor>,
    /// Kueue's ClusterQueues: quota and preemption rules.
    pub cluster_queues: BTreeMap<QueueName, ClusterQueue>,
    /// Kueue's LocalQueues: what jobs name.
    pub local_queues: BTreeMap<LocalQueueName, LocalQueue>,
    /// Kueue's Cohorts: who borrows from whom.
    pub cohorts: BTreeMap<crate::ids::CohortName, Cohort>,
    /// Tenants: caps, fair-share weight, public budget.
    pub tenants: BTreeMap<TenantName, Tenant>,
    /// Users, each in a tenant, with their own caps.
    pub users: BTreeMap<UserName, User>,
}

impl Config {
    /// The ClusterQueue a LocalQueue points at; `None` when either is not configured.
    pub fn cluster_queue_of(&self, local: &LocalQueueName) -> Option<&ClusterQueue> {
        let local = self.local_queues.get(local)?;
        self.cluster_queues.get(&local.cluster_queue)
    }

    /// Builds a config from lists, refusing duplicates and dangling references. Cohorts named
    /// by a ClusterQueue but not listed are created, as Kueue does with implicit cohorts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        gpu_models: Vec<GpuModel>,
        clusters: Vec<Cluster>,
        flavors: Vec<Flavor>,
        cluster_queues: Vec<ClusterQueue>,
        local_queues: Vec<LocalQueue>,
        tenants: Vec<Tenant>,
        users: Vec<User>,
    ) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        for model in gpu_models {
            insert_unique(
                &mut config.gpu_models,
                model.name.clone(),
                model,
                "gpu_models",
            )?;
        }
        for cluster in clusters {
            insert_unique(
                &mut config.clusters,
                cluster.name.clone(),
                cluster,
                "clusters",
            )?;
        }
        for flavor in flavors {
            insert_unique(&mut config.flavors, flavor.name.clone(), flavor, "flavors")?;
        }
        for queue in cluster_queues {
            if let Some(cohort) = &queue.cohort {
                config
                    .cohorts
                    .entry(cohort.clone())
                    .or_insert_with(|| Cohort {
                        name: cohort.clone(),
                    });
            }
            insert_unique(
                &mut config.cluster_queues,
                queue.name.clone(),
                queue,
                "cluster_queues",
            )?;
        }
        for queue in local_queues {
            insert_unique(
                &mut config.local_queues,
                queue.name.clone(),
                queue,
                "local_queues",
            )?;
        }
        for tenant in tenants {
            insert_unique(&mut config.tenants, tenant.name.clone(), tenant, "tenants")?;
        }
        for user in users {
            insert_unique(&mut config.users, user.name.clone(), user, "users")?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks that every name refers to something that exists.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for flavor in self.flavors.values() {
            let place = format!("flavors[{}]", flavor.name);
            if !self.clusters.contains_key(&flavor.cluster) {
                return Err(ConfigError::unknown(place, "cluster", &flavor.cluster));
            }
            if let Some(model) = &flavor.gpu_model {
                if !self.gpu_models.contains_key(model) {
                    return Err(ConfigError::unknown(place, "gpu_model", model));
                }
            }
        }
        for cluster in self.clusters.values() {
            if !cluster.is_public() && !cluster.offers.is_empty() {
                return Err(ConfigError::Invalid {
                    place: format!("clusters[{}]", cluster.name),
                    field: "offers".into(),
                    reason: "only a public cluster has offers".into(),
                });
            }
            {
                for (index, offer) in cluster.offers.iter().enumerate() {
                    let place = format!("clusters[{}].offers[{index}]", cluster.name);
                    match self.flavors.get(&offer.flavor) {
                        None => return Err(ConfigError::unknown(place, "flavor", &offer.flavor)),
                        Some(flavor) if flavor.cluster != cluster.name => {
                            return Err(ConfigError::Invalid {
                                place,
                                field: "flavor".into(),
                                reason: format!(
                                    "flavor {} belongs to cluster {}, not {}",
                                    flavor.name, flavor.cluster, cluster.name
                                ),
                            })
                        }
                        Some(_) => {}
                    }
                    if !self.gpu_models.contains_key(&offer.gpu_model) {
                        return Err(ConfigError::unknown(place, "gpu_model", &offer.gpu_model));
                    }
                }
            }
        }
        let offered: BTreeSet<&FlavorName> = self
            .clusters
            .values()
            .flat_map(|cluster| &cluster.offers)
            .map(|offer| &offer.flavor)
            .collect();
        for queue in self.cluster_queues.values() {
            let mut seen = BTreeSet::new();
            for quotas in &queue.flavors {
                let place = format!("cluster_queues[{}].flavors[{}]", queue.name, quotas.flavor);
                let Some(flavor) = self.flavors.get(&quotas.flavor) else {
                    return Err(ConfigError::unknown(place, "flavor", &quotas.flavor));
                };
                let public = self
                    .clusters
                    .get(&flavor.cluster)
                    .is_some_and(|c| c.is_public());
                if public && !offered.contains(&flavor.name) {
                    return Err(ConfigError::Invalid {
                        place,
                        field: "flavor".into(),
                        reason: format!(
                            "flavor {} is in public cluster {} but no offer of that cluster \
                             rents it; public capacity is rented through an offer",
                            flavor.name, flavor.cluster
                        ),
                    });
                }
                if !seen.insert(&quotas.flavor) {
                    return Err(ConfigError::Invalid {
                        place,
                        field: "flavor".into(),
                        reason: "listed twice".into(),
                    });
                }
                for (resource, quota) in &quotas.resources {
                    if quota.lending_limit.is_some_and(|lend| lend > quota.nominal) {
                        return Err(ConfigError::Invalid {
                            place: format!("{place}.{resource}"),
                            field: "lending_limit".into(),
                            reason: "must not exceed nominal".into(),
                        });
                    }
                    if queue.cohort.is_none()
                        && (quota.borrowing_limit.is_some() || quota.lending_limit.is_some())
                    {
                        return Err(ConfigError::Invalid {
                            place: format!("{place}.{resource}"),
                            field: "borrowing_limit".into(),
                            reason: "borrowing and lending limits need a cohort".into(),
                        });
                    }
                }
            }
        }
        for local in self.local_queues.values() {
            if !self.cluster_queues.contains_key(&local.cluster_queue) {
                let place = format!("local_queues[{}]", local.name);
                return Err(ConfigError::unknown(
                    place,
                    "cluster_queue",
                    &local.cluster_queue,
                ));
            }
        }
        for user in self.users.values() {
            if !self.tenants.contains_key(&user.tenant) {
                let place = format!("users[{}]", user.name);
                return Err(ConfigError::unknown(place, "tenant", &user.tenant));
            }
        }
        Ok(())
    }
}

fn insert_unique<K: Ord + std::fmt::Display, V>(
    map: &mut BTreeMap<K, V>,
    key: K,
    value: V,
    list: &str,
) -> Result<(), ConfigError> {
    if map.contains_key(&key) {
        return Err(ConfigError::Invalid {
            place: format!("{list}[{key}]"),
            field: "name".into(),
            reason: "defined twice".into(),
        });
    }
    map.insert(key, value);
    Ok(())
}
