//! What scoring needs to know about the fleet, gathered once per cycle so that scoring each of
//! thousands of pending jobs is a few map lookups: every tenant's share of the fleet, every
//! flavor's fastest GPU speed (on first need), and the fastest candidate speed per job shape.

use super::rank::{DeadlineTerm, Score, ScoreBreakdown};
use super::terms;
use super::weights::ScoreWeights;
use crate::flavors;
use crate::ids::{FlavorName, GpuModelName, LocalQueueName, TenantName};
use crate::model::{DataClass, GpuRequest, Job, Tier};
use crate::scheduler::Scheduler;
use crate::units::{Millis, Time};
use std::collections::{BTreeMap, BTreeSet};

/// The parts of a job that decide its candidate flavors (with the policy, which is fixed).
type CandidateShape<'a> = (
    &'a LocalQueueName,
    Tier,
    bool,
    Option<&'a BTreeSet<FlavorName>>,
    Option<&'a BTreeSet<GpuModelName>>,
    DataClass,
    GpuRequest,
);

/// A tenant's place in the fair-share term.
#[derive(Debug, Clone, Copy)]
struct TenantShare {
    dominant: f64,
    weight: u32,
    weighted: f64,
}

/// Scores pending jobs at one instant under one set of weights.
pub(crate) struct Scorer<'a> {
    scheduler: &'a Scheduler,
    weights: ScoreWeights,
    now: Time,
    /// Tenants that hold something on the fleet; the others are at share 0.
    shares: BTreeMap<&'a TenantName, TenantShare>,
    /// The GPU models each flavor offers with their speeds, fastest first; filled on the first
    /// job with a deadline.
    flavor_models: Option<BTreeMap<&'a FlavorName, Vec<(&'a GpuModelName, u32)>>>,
    /// Fastest candidate speed per job shape; `None` = no candidate's speed is known.
    fastest: BTreeMap<CandidateShape<'a>, Option<u32>>,
}

impl<'a> Scorer<'a> {
    pub(crate) fn new(scheduler: &'a Scheduler, now: Time, weights: &ScoreWeights) -> Self {
        Scorer {
            scheduler,
            weights: weights.effective(),
            now,
            shares: tenant_shares(scheduler),
            flavor_models: None,
            fastest: BTreeMap::new(),
        }
    }

    /// The job's place in the scored order, without building its explanation.
    pub(crate) fn score(&mut self, job: &'a Job) -> Score {
        let urgency = match job.deadline {
            Some(deadline) if self.weights.deadline > 0.0 => {
                Some(self.deadline_term(job, deadline).urgency)
            }
            _ => None,
        };
        let share = self.shares.get(&job.tenant).map_or(0.0, |s| s.weighted);
        let points = Points::of(
            &self.weights,
            job.priority,
            self.now.since(job.submit_time),
            urgency,
            share,
            terms::budget_headroom(&job.budget),
        );
        Score::new(points.total(), job.priority, job.submit_time, job.id)
    }

    /// The job's score part by part.
    pub(crate) fn breakdown(&mut self, job: &'a Job) -> ScoreBreakdown {
        let deadline = job.deadline.map(|at| self.deadline_term(job, at));
        let configured_weight = self
            .scheduler
            .config
            .tenants
            .get(&job.tenant)
            .map_or(1, |tenant| tenant.weight);
        let (dominant_share, tenant_weight) = self
            .shares
            .get(&job.tenant)
            .map_or((0.0, configured_weight), |s| (s.dominant, s.weight));
        ScoreBreakdown {
            job: job.id,
            weights: self.weights,
            priority: job.priority,
            submit_time: job.submit_time,
            waited: self.now.since(job.submit_time),
            deadline,
            tenant: job.tenant.clone(),
            tenant_weight,
            dominant_share,
            budget: job.budget,
            budget_headroom: terms::budget_headroom(&job.budget),
        }
    }

    fn deadline_term(&mut self, job: &'a Job, deadline: Time) -> DeadlineTerm {
        let runtime = match self.fastest_speed(job) {
            Some(speed) => terms::runtime_at(job.runtime, speed),
            None => job.runtime,
        };
        let slack_ms = terms::slack_ms(deadline, self.now, runtime);
        DeadlineTerm {
            deadline,
            runtime,
            slack_ms,
            urgency: terms::urgency(slack_ms),
        }
    }

    /// The fastest GPU speed among the job's candidate flavors, counting only GPU models the
    /// job accepts; `None` for CPU-only work, an unknown queue, or when no candidate's speed is
    /// known (then the reference runtime holds).
    fn fastest_speed(&mut self, job: &'a Job) -> Option<u32> {
        if job.gpu == GpuRequest::None {
            return None;
        }
        let shape: CandidateShape<'a> = (
            &job.queue,
            job.min_tier,
            job.allow_upgrade,
            job.allowed_flavors.as_ref(),
            job.gpu_models.as_ref(),
            job.data_class,
            job.gpu,
        );
        if let Some(known) = self.fastest.get(&shape) {
            return *known;
        }
        let scheduler = self.scheduler;
        let config = &scheduler.config;
        let flavor_models = self
            .flavor_models
            .get_or_insert_with(|| flavor_models(scheduler));
        let fastest = config
            .local_queues
            .get(&job.queue)
            .and_then(|local| config.cluster_queues.get(&local.cluster_queue))
            .and_then(|queue| {
                flavors::candidates(config, queue, job, &scheduler.policy)
                    .into_iter()
                    .filter_map(|flavor| {
                        flavor_models
                            .get(&flavor.name)?
                            .iter()
                            .find(|(model, _)| job.accepts_model(Some(model)))
                            .map(|(_, speed)| *speed)
                    })
                    .max()
            });
        self.fastest.insert(shape, fastest);
        fastest
    }
}

/// The weighted parts of a score. One formula, used both to order and to explain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Points {
    pub priority: f64,
    pub aging: f64,
    pub deadline: f64,
    pub fair_share: f64,
    pub budget: f64,
}

impl Points {
    /// `urgency` is `None` without a deadline; `weighted_share` is the tenant's dominant share
    /// divided by its weight.
    pub(crate) fn of(
        weights: &ScoreWeights,
        priority: i32,
        waited: Millis,
        urgency: Option<f64>,
        weighted_share: f64,
        budget_headroom: f64,
    ) -> Points {
        Points {
            priority: weights.priority * f64::from(priority),
            aging: weights.aging_per_hour * (waited.0 as f64 / terms::HOUR_MS),
            deadline: urgency.map_or(0.0, |u| weights.deadline * u),
            // `+ 0.0` turns −0 into 0, so a zero weight reads as "+0.000".
            fair_share: -(weights.fair_share * weighted_share) + 0.0,
            budget: weights.budget * budget_headroom,
        }
    }

    pub(crate) fn total(&self) -> f64 {
        self.priority + self.aging + self.deadline + self.fair_share + self.budget
    }
}

/// Each tenant's dominant share of the private fleet's nodes: what its running jobs placed on
/// nodes hold (GPU in milli-GPU, CPU, memory) against the capacity of every node in the
/// ledger. Jobs running on leased public GPUs are paid from budgets and hold no node, so they
/// do not count.
fn tenant_shares(scheduler: &Scheduler) -> BTreeMap<&TenantName, TenantShare> {
    let capacity = scheduler.ledgers.fleet.capacity();
    let private = &scheduler.ledgers.private_use.tenants;
    private
        .iter()
        .map(|(tenant, usage)| {
            let weight = scheduler.config.tenants.get(tenant).map_or(1, |t| t.weight);
            let dominant = terms::dominant_share(usage.held, capacity);
            let share = TenantShare {
                dominant,
                weight,
                weighted: terms::weighted_share(dominant, weight),
            };
            (tenant, share)
        })
        .collect()
}

/// The GPU models of each flavor with their speeds, fastest first (ties by name): its own GPU
/// model when it names one, otherwise the models of its nodes in the ledger and of its
/// cluster's offers for it. Flavors with none of these are left out.
fn flavor_models(scheduler: &Scheduler) -> BTreeMap<&FlavorName, Vec<(&GpuModelName, u32)>> {
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
        let mut speeds: Vec<(&GpuModelName, u32)> = models
            .into_iter()
            .filter_map(|name| Some((name, config.gpu_models.get(name)?.speed_permille)))
            .collect();
        speeds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        if !speeds.is_empty() {
            all.insert(&flavor.name, speeds);
        }
    }
    all
}
