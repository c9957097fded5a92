//! Tier matching: which flavors of a ClusterQueue may take a job, in the order they are tried.
//!
//! Fungibility order:
//! 1. the job's requested tier, then each higher tier in turn — higher tiers only when the job
//!    (`allow_upgrade`) or the policy (`allow_tier_upgrade`) allows upgrades; never a lower tier;
//! 2. within a tier, the order the ClusterQueue lists its flavors (as Kueue tries them).
//!
//! A flavor is left out when the job names flavors and this is not one, when the flavor's GPU
//! model is not one the job accepts, or when the job's data is sensitive and the flavor is in a
//! public cluster, or when its GPU model could never hold the request (too little VRAM, or a
//! fraction on a model without MPS).

use crate::model::{ClusterQueue, Config, DataClass, Flavor, GpuRequest, Job};
use crate::policy::Policy;

pub fn candidates<'a>(
    config: &'a Config,
    queue: &ClusterQueue,
    job: &Job,
    policy: &Policy,
) -> Vec<&'a Flavor> {
    let upgrade = job.allow_upgrade || policy.allow_tier_upgrade;
    let mut flavors: Vec<(usize, &Flavor)> = queue
        .flavors
        .iter()
        .enumerate()
        .filter_map(|(position, quotas)| Some((position, config.flavors.get(&quotas.flavor)?)))
        .filter(|(_, flavor)| {
            flavor.tier == job.min_tier || (upgrade && flavor.tier > job.min_tier)
        })
        .filter(|(_, flavor)| {
            job.allowed_flavors
                .as_ref()
                .is_none_or(|allowed| allowed.contains(&flavor.name))
        })
        .filter(|(_, flavor)| {
            flavor.gpu_model.is_none() || job.accepts_model(flavor.gpu_model.as_ref())
        })
        .filter(|(_, flavor)| can_ever_serve(config, flavor, job))
        .filter(|(_, flavor)| {
            job.data_class != DataClass::Sensitive
                || config
                    .clusters
                    .get(&flavor.cluster)
                    .is_some_and(|c| !c.is_public())
        })
        .collect();
    flavors.sort_by_key(|(position, flavor)| (flavor.tier, *position));
    flavors.into_iter().map(|(_, flavor)| flavor).collect()
}

/// False when the flavor names a GPU model that could never hold the request: too little
/// VRAM, or a fraction on a model without MPS.
fn can_ever_serve(config: &Config, flavor: &Flavor, job: &Job) -> bool {
    let Some(model) = flavor
        .gpu_model
        .as_ref()
        .and_then(|m| config.gpu_models.get(m))
    else {
        return true;
    };
    match job.gpu {
        GpuRequest::None => true,
        GpuRequest::Whole { min_vram, .. } => model.vram >= min_vram,
        GpuRequest::Fraction { vram, .. } => model.mps_capable() && model.vram >= vram,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FlavorName, QueueName};
    use crate::model::{Quota, Tier};
    use crate::testing::{ConfigBuilder, JobBuilder};

    fn names(flavors: &[&Flavor]) -> Vec<String> {
        flavors.iter().map(|f| f.name.to_string()).collect()
    }

    fn config() -> Config {
        let q = Quota::nominal(1_000_000);
        ConfigBuilder::new()
            .private_flavor("gold-a", Tier::Gold)
            .private_flavor("bronze-a", Tier::Bronze)
            .private_flavor("silver-a", Tier::Silver)
            .private_flavor("bronze-b", Tier::Bronze)
            .public_flavor("cloud-gold", Tier::Gold)
            .queue(
                "q",
                &[
                    ("gold-a", q),
                    ("bronze-a", q),
                    ("silver-a", q),
                    ("bronze-b", q),
                    ("cloud-gold", q),
                ],
            )
            .build()
    }

    #[test]
    fn requested_tier_only_without_upgrade() {
        let config = config();
        let queue = &config.cluster_queues[&QueueName::new("q")];
        let job = JobBuilder::gpus(1).tier(Tier::Bronze).build();
        assert_eq!(
            names(&candidates(&config, queue, &job, &Policy::default())),
            ["bronze-a", "bronze-b"]
        );
    }

    #[test]
    // `..Policy::default()` keeps this test compiling when the policy grows knobs
    #[allow(clippy::needless_update)]
    fn upgrades_come_after_the_requested_tier_in_tier_order() {
        let config = config();
        let queue = &config.cluster_queues[&QueueName::new("q")];
        let job = JobBuilder::gpus(1)
            .tier(Tier::Bronze)
            .allow_upgrade()
            .build();
        assert_eq!(
            names(&candidates(&config, queue, &job, &Policy::default())),
            ["bronze-a", "bronze-b", "silver-a", "gold-a", "cloud-gold"]
        );
        let silver = JobBuilder::gpus(1).tier(Tier::Silver).build();
        let policy = Policy {
            allow_tier_upgrade: true,
            ..Policy::default()
        };
        assert_eq!(
            names(&candidates(&config, queue, &silver, &policy)),
            ["silver-a", "gold-a", "cloud-gold"]
        );
    }

    #[test]
    fn sensitive_data_never_sees_public_flavors() {
        let config = config();
        let queue = &config.cluster_queues[&QueueName::new("q")];
        let job = JobBuilder::gpus(1).tier(Tier::Gold).sensitive().build();
        assert_eq!(
            names(&candidates(&config, queue, &job, &Policy::default())),
            ["gold-a"]
        );
    }

    #[test]
    fn allowed_flavor_list_filters() {
        let config = config();
        let queue = &config.cluster_queues[&QueueName::new("q")];
        let job = JobBuilder::gpus(1)
            .tier(Tier::Bronze)
            .only_flavors(&["bronze-b"])
            .build();
        assert_eq!(
            names(&candidates(&config, queue, &job, &Policy::default())),
            ["bronze-b"]
        );
        let _ = FlavorName::new("unused");
    }

    #[test]
    fn flavors_whose_gpu_could_never_hold_the_request_are_left_out() {
        let mut config = ConfigBuilder::new()
            .gpu_model(crate::model::GpuModel {
                name: "K80".into(),
                vram: crate::units::VramMib(12_288),
                speed_permille: 300,
                max_mps_clients: 0,
            })
            .private_flavor("old", Tier::Bronze)
            .private_flavor("v100", Tier::Bronze)
            .queue(
                "q",
                &[
                    ("old", Quota::nominal(8000)),
                    ("v100", Quota::nominal(8000)),
                ],
            )
            .build();
        for (name, model) in [("old", "K80"), ("v100", "V100")] {
            if let Some(flavor) = config.flavors.get_mut(&FlavorName::new(name)) {
                flavor.gpu_model = Some(model.into());
            }
        }
        let queue = &config.cluster_queues[&QueueName::new("q")];
        let fraction = JobBuilder::fraction(500, 4096).build();
        assert_eq!(
            names(&candidates(&config, queue, &fraction, &Policy::default())),
            ["v100"]
        );
        let mut big = JobBuilder::gpus(1).build();
        big.gpu = GpuRequest::Whole {
            count: 1,
            min_vram: crate::units::VramMib(20_000),
        };
        assert!(candidates(&config, queue, &big, &Policy::default()).is_empty());
    }
}
