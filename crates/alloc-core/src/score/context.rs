//! What scoring needs to know about the fleet, gathered once per cycle so that scoring each of
//! thousands of pending jobs is a few map lookups: each tenant's share of the fleet and each
//! flavor's fastest GPU speed (both on first need), and the fastest candidate speed per job
//! shape.

use super::rank::{DeadlineTerm, Score, ScoreBreakdown};
use super::terms;
use super::weights::ScoreWeights;
use crate::classes::ClassId;
use crate::ids::TenantName;
use crate::model::Job;
use crate::units::{Millis, Time};
use crate::view::View;
use std::collections::BTreeMap;

/// A tenant's place in the fair-share term.
#[derive(Debug, Clone, Copy)]
struct TenantShare {
    dominant: f64,
    weight: u32,
    weighted: f64,
}

/// Scores pending jobs at one instant under one set of weights.
pub(crate) struct Scorer<'a> {
    view: View<'a>,
    weights: ScoreWeights,
    now: Time,
    /// Each tenant's share, worked out on first need (`None`: it holds nothing on the fleet,
    /// share 0): a replay's cycle scores a job or two, and need not read every tenant.
    shares: BTreeMap<&'a TenantName, Option<TenantShare>>,
}

impl<'a> Scorer<'a> {
    pub(crate) fn new(view: View<'a>, now: Time, weights: &ScoreWeights) -> Self {
        Scorer {
            view,
            weights: weights.effective(),
            now,
            shares: BTreeMap::new(),
        }
    }

    /// The place in the scored order of `job`, of request class `class`, without building its
    /// explanation.
    pub(crate) fn score(&mut self, job: &'a Job, class: ClassId) -> Score {
        let urgency = match job.deadline {
            Some(deadline) if self.weights.deadline > 0.0 => {
                let fastest = self.view.speeds.fastest_in_class(&self.view, job, class);
                Some(self.deadline_term(job, deadline, fastest).urgency)
            }
            _ => None,
        };
        let share = self.share_of(&job.tenant).map_or(0.0, |s| s.weighted);
        score_with(&self.weights, self.now, job, urgency, share)
    }

    /// What scoring jobs of `tenant` without a deadline reads besides the job itself, fixed
    /// as it stands now: scores a cycle works out later, for jobs it meets as it goes.
    pub(crate) fn frozen(&mut self, tenant: &'a TenantName) -> FrozenScore {
        FrozenScore {
            weights: self.weights,
            now: self.now,
            share: self.share_of(tenant).map_or(0.0, |s| s.weighted),
        }
    }

    /// The job's score part by part.
    pub(crate) fn breakdown(&mut self, job: &'a Job) -> ScoreBreakdown {
        let fastest = self.view.speeds.fastest(&self.view, job);
        let deadline = job.deadline.map(|at| self.deadline_term(job, at, fastest));
        let configured_weight = self
            .view
            .config
            .tenants
            .get(&job.tenant)
            .map_or(1, |tenant| tenant.weight);
        let (dominant_share, tenant_weight) = self
            .share_of(&job.tenant)
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

    /// The tenant's place in the fair-share term, worked out on its first job.
    fn share_of(&mut self, tenant: &'a TenantName) -> Option<TenantShare> {
        if let Some(share) = self.shares.get(tenant) {
            return *share;
        }
        let share = tenant_share(&self.view, tenant);
        self.shares.insert(tenant, share);
        share
    }

    /// `fastest`: the fastest GPU speed among the job's candidate flavors (see `speeds`).
    fn deadline_term(&self, job: &Job, deadline: Time, fastest: Option<u32>) -> DeadlineTerm {
        let runtime = match fastest {
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
}

/// One tenant's part of [`Scorer::score`] fixed at an instant: the score of each of its jobs
/// without a deadline (or under a zero deadline weight), worked out by the same formula.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrozenScore {
    weights: ScoreWeights,
    now: Time,
    share: f64,
}

impl FrozenScore {
    /// `job`'s score, as [`Scorer::score`] gives it; `job` is the tenant's and has no deadline
    /// that counts.
    pub(crate) fn score(&self, job: &Job) -> Score {
        score_with(&self.weights, self.now, job, None, self.share)
    }
}

fn score_with(
    weights: &ScoreWeights,
    now: Time,
    job: &Job,
    urgency: Option<f64>,
    share: f64,
) -> Score {
    let points = Points::of(
        weights,
        job.priority,
        now.since(job.submit_time),
        urgency,
        share,
        terms::budget_headroom(&job.budget),
    );
    Score::new(points.total(), job.priority, job.submit_time, job.id)
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

/// A tenant's dominant share of the private fleet's nodes: what its running jobs placed on
/// nodes hold (GPU in milli-GPU, CPU, memory) against the capacity of every node in the
/// ledger; `None` when it holds nothing there. Jobs running on leased public GPUs are paid
/// from budgets and hold no node, so they do not count.
fn tenant_share(view: &View<'_>, tenant: &TenantName) -> Option<TenantShare> {
    let usage = view.ledgers.private_use.tenants.get(tenant)?;
    let capacity = view.ledgers.fleet.capacity();
    let weight = view.config.tenants.get(tenant).map_or(1, |t| t.weight);
    let dominant = terms::dominant_share(usage.held, capacity);
    Some(TenantShare {
        dominant,
        weight,
        weighted: terms::weighted_share(dominant, weight),
    })
}
