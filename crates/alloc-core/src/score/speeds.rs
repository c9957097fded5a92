//! The fastest GPU speed among a job's candidate flavors, remembered across cycles. It depends
//! only on the configuration, the policy and the GPU models of the fleet's nodes, so the
//! scheduler forgets it when nodes come or go or the configuration changes — not every cycle,
//! where working it out again for each job shape was a tenth of a busy simulation's time.

use crate::flavors;
use crate::ids::{FlavorName, GpuModelName, LocalQueueName};
use crate::model::{DataClass, GpuRequest, Job, Tier};
use crate::scheduler::Scheduler;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// The parts of a job that decide its candidate flavors (with the policy, which is fixed).
type CandidateShape = (
    LocalQueueName,
    Tier,
    bool,
    Option<BTreeSet<FlavorName>>,
    Option<BTreeSet<GpuModelName>>,
    DataClass,
    GpuRequest,
);

/// Each flavor's GPU models with their speeds, fastest first.
type FlavorModels = BTreeMap<FlavorName, Vec<(GpuModelName, u32)>>;

#[derive(Debug, Clone, Default)]
pub(crate) struct SpeedCache {
    /// `None` = no candidate's speed is known.
    fastest: RefCell<BTreeMap<CandidateShape, Option<u32>>>,
    flavor_models: RefCell<Option<FlavorModels>>,
}

impl SpeedCache {
    /// Forgets everything: nodes or the configuration changed.
    pub(crate) fn clear(&mut self) {
        self.fastest.get_mut().clear();
        *self.flavor_models.get_mut() = None;
    }

    /// The fastest GPU speed among the job's candidate flavors, counting only GPU models the
    /// job accepts; `None` for CPU-only work, an unknown queue, or when no candidate's speed
    /// is known (then the reference runtime holds).
    pub(crate) fn fastest(&self, scheduler: &Scheduler, job: &Job) -> Option<u32> {
        if job.gpu == GpuRequest::None {
            return None;
        }
        let shape: CandidateShape = (
            job.queue.clone(),
            job.min_tier,
            job.allow_upgrade,
            job.allowed_flavors.clone(),
            job.gpu_models.clone(),
            job.data_class,
            job.gpu,
        );
        if let Some(known) = self.fastest.borrow().get(&shape) {
            return *known;
        }
        let mut models = self.flavor_models.borrow_mut();
        let models = models.get_or_insert_with(|| flavor_models(scheduler));
        let config = &scheduler.config;
        let fastest = config
            .local_queues
            .get(&job.queue)
            .and_then(|local| config.cluster_queues.get(&local.cluster_queue))
            .and_then(|queue| {
                flavors::candidates(config, queue, job, &scheduler.policy)
                    .into_iter()
                    .filter_map(|flavor| {
                        models
                            .get(&flavor.name)?
                            .iter()
                            .find(|(model, _)| job.accepts_model(Some(model)))
                            .map(|(_, speed)| *speed)
                    })
                    .max()
            });
        self.fastest.borrow_mut().insert(shape, fastest);
        fastest
    }
}

/// The GPU models of each flavor with their speeds, fastest first (ties by name): its own GPU
/// model when it names one, otherwise the models of its nodes in the ledger and of its
/// cluster's offers for it. Flavors with none of these are left out.
fn flavor_models(scheduler: &Scheduler) -> FlavorModels {
    let config = &scheduler.config;
    let mut all = BTreeMap::new();
    for flavor in config.flavors.values() {
        let mut models: BTreeSet<&GpuModelName> = BTreeSet::new();
        match &flavor.gpu_model {
            Some(model) => {
                models.insert(model);
            }
            None => {
                let nodes = scheduler
                    .ledgers
                    .fleet
                    .nodes_of(&flavor.name)
                    .filter_map(|node| node.spec.gpu_model.as_ref());
                let offers = config
                    .clusters
                    .get(&flavor.cluster)
                    .into_iter()
                    .flat_map(|cluster| &cluster.offers)
                    .filter(|offer| offer.flavor == flavor.name)
                    .map(|offer| &offer.gpu_model);
                models.extend(nodes.chain(offers));
            }
        }
        let mut speeds: Vec<(GpuModelName, u32)> = models
            .into_iter()
            .filter_map(|name| Some((name.clone(), config.gpu_models.get(name)?.speed_permille)))
            .collect();
        speeds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if !speeds.is_empty() {
            all.insert(flavor.name.clone(), speeds);
        }
    }
    all
}
