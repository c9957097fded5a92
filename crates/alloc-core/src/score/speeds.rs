//! The fastest GPU speed among a job's candidate flavors, remembered across cycles. It depends
//! only on the configuration, the policy and the GPU models of the fleet's nodes, so the
//! scheduler forgets it when nodes come or go or the configuration changes — not every cycle,
//! where working it out again for each job shape was a tenth of a busy simulation's time.
//!
//! The cycle's order asks it for every pending job with a deadline, so it is also kept by
//! request class (whose key holds the shape): a look-up by number instead of building and
//! comparing a shape. A class's answer is forgotten when the class is closed, as its number
//! may then be reused for another request.

use crate::classes::ClassId;
use crate::flavors;
use crate::ids::{FlavorName, GpuModelName, LocalQueueName};
use crate::model::{DataClass, GpuRequest, Job, Tier};
use crate::view::View;
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
    /// The same answers by class number; `None` where not asked yet.
    by_class: RefCell<Vec<Option<Option<u32>>>>,
    flavor_models: RefCell<Option<FlavorModels>>,
}

impl SpeedCache {
    /// Forgets everything: nodes or the configuration changed.
    pub(crate) fn clear(&mut self) {
        self.fastest.get_mut().clear();
        self.by_class.get_mut().clear();
        *self.flavor_models.get_mut() = None;
    }

    /// The class was closed: its number may come back for another request.
    pub(crate) fn forget(&mut self, class: ClassId) {
        if let Some(known) = self.by_class.get_mut().get_mut(class.index()) {
            *known = None;
        }
    }

    /// [`SpeedCache::fastest`] for `job` of request class `class`.
    pub(crate) fn fastest_in_class(
        &self,
        view: &View<'_>,
        job: &Job,
        class: ClassId,
    ) -> Option<u32> {
        if let Some(Some(known)) = self.by_class.borrow().get(class.index()) {
            return *known;
        }
        let fastest = self.fastest(view, job);
        let mut by_class = self.by_class.borrow_mut();
        if by_class.len() <= class.index() {
            by_class.resize(class.index() + 1, None);
        }
        by_class[class.index()] = Some(fastest);
        fastest
    }

    /// What the cache holds for `class`, if anything: for `check_invariants`.
    pub(crate) fn known_in_class(&self, class: ClassId) -> Option<Option<u32>> {
        self.by_class.borrow().get(class.index()).copied().flatten()
    }

    /// The fastest GPU speed among the job's candidate flavors, counting only GPU models the
    /// job accepts; `None` for CPU-only work, an unknown queue, or when no candidate's speed
    /// is known (then the reference runtime holds).
    pub(crate) fn fastest(&self, view: &View<'_>, job: &Job) -> Option<u32> {
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
        let models = models.get_or_insert_with(|| flavor_models(view));
        let config = &view.config;
        let fastest = config.cluster_queue_of(&job.queue).and_then(|queue| {
            flavors::candidates(config, queue, job, view.policy)
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
fn flavor_models(view: &View<'_>) -> FlavorModels {
    let config = &view.config;
    let mut all = BTreeMap::new();
    for flavor in config.flavors.values() {
        let mut models: BTreeSet<&GpuModelName> = BTreeSet::new();
        match &flavor.gpu_model {
            Some(model) => {
                models.insert(model);
            }
            None => {
                let nodes = view
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::input::Input;
    use crate::model::{Quota, Tier};
    use crate::policy::Policy;
    use crate::scheduler::Scheduler;
    use crate::score::{Ordering, ScoreWeights};
    use crate::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
    use crate::units::{Millis, Time};

    /// Flavors `fast` (one A100 node) and `slow` (one T4 node), both open to queue `q`; the
    /// deadline counts in the order.
    fn two_speeds() -> Scheduler {
        let config = ConfigBuilder::new()
            .private_flavor("fast", Tier::Bronze)
            .private_flavor("slow", Tier::Bronze)
            .queue(
                "q",
                &[
                    ("fast", Quota::nominal(8_000)),
                    ("slow", Quota::nominal(8_000)),
                ],
            )
            .build();
        let policy = Policy {
            ordering: Ordering::Scored(ScoreWeights {
                priority: 0.0,
                aging_per_hour: 1.0,
                deadline: 1.0,
                fair_share: 0.0,
                budget: 0.0,
            }),
            ..Policy::default()
        };
        let mut s = Scheduler::new(config, policy).unwrap();
        for (node, flavor, model) in [("nf", "fast", "A100"), ("ns", "slow", "T4")] {
            s.apply(Input::NodeAdded(node_of(node, flavor, model)))
                .unwrap();
        }
        s
    }

    fn node_of(name: &str, flavor: &str, model: &str) -> crate::model::NodeSpec {
        NodeBuilder::new(name, flavor, 1).model(model).build()
    }

    fn job(id: u64, flavor: &str) -> JobBuilder {
        JobBuilder::gpus(1)
            .id(id)
            .queue("q")
            .only_flavors(&[flavor])
            .runtime(Millis::hours(1))
    }

    const DEADLINE: Time = Time(8 * 3_600_000);

    #[test]
    fn a_class_number_reused_for_another_request_is_not_given_the_old_speed() {
        let mut s = two_speeds();
        let deadline = DEADLINE;
        // the first class, on the A100, is asked its speed, then empties and is recycled
        s.apply(Input::JobSubmitted(
            job(1, "fast").deadline(deadline).build(),
        ))
        .unwrap();
        s.decide_all(Time(0));
        s.decide_all(Time(1_000));
        // its number goes to a request for the T4 only, asked its speed for the deadline job
        s.apply(Input::JobSubmitted(job(2, "slow").build()))
            .unwrap();
        s.apply(Input::JobSubmitted(
            job(3, "slow").deadline(deadline).build(),
        ))
        .unwrap();
        s.decide_all(Time(2_000));
        assert_eq!(s.pending_count(), 1);
        assert_eq!(s.check_invariants(), Ok(()));
    }

    #[test]
    fn a_faster_node_joining_a_flavor_changes_the_speed_kept_for_its_classes() {
        let mut s = two_speeds();
        s.apply(Input::JobSubmitted(job(1, "slow").build()))
            .unwrap();
        s.apply(Input::JobSubmitted(
            job(2, "slow").deadline(DEADLINE).build(),
        ))
        .unwrap();
        s.decide_all(Time(0));
        assert_eq!(s.pending_count(), 1);
        s.apply(Input::NodeAdded(node_of("ns2", "slow", "A100")))
            .unwrap();
        assert_eq!(s.check_invariants(), Ok(()));
    }
}
