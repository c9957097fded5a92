//! What the live controller's Prometheus metrics would have read, sampled with the time
//! series when a run is asked for them ([`super::EngineOptions::metrics`]). Read from the core
//! exactly as `live-adapter`'s `Metrics::observe` and `Metrics::decided` read it, so the two
//! tell the same story: pending jobs by LocalQueue and tier, GPUs held by running jobs per
//! flavor, public spend (billed plus reserved) per tenant, and the cycles' changed decisions
//! counted by kind and reason code.

use alloc_core::{Decision, Scheduler, Time};
use std::collections::BTreeMap;

/// The metrics at one instant. Gauges list only the label sets the controller would set at
/// that instant (it clears pending and GPU gauges before each observation); the decision
/// counter holds every label set counted so far.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricSample {
    pub at: Time,
    /// `gpu_alloc_pending_jobs`: (queue, tier) → jobs.
    pub pending: BTreeMap<(String, String), u64>,
    /// `gpu_alloc_gpus_admitted`: flavor → GPUs (fractions as parts).
    pub gpus: BTreeMap<String, f64>,
    /// `gpu_alloc_public_spend`: tenant → currency units billed plus reserved.
    pub spend: BTreeMap<String, f64>,
    /// `gpu_alloc_decisions_total`: (kind, reason) → decisions so far.
    pub decisions: BTreeMap<(&'static str, &'static str), u64>,
}

/// The running counters and the samples taken.
#[derive(Debug, Clone, Default)]
pub(super) struct Metrics {
    decisions: BTreeMap<(&'static str, &'static str), u64>,
    pub samples: Vec<MetricSample>,
}

impl Metrics {
    /// Counts a cycle's changed decisions, as the controller counts them.
    pub fn decided(&mut self, changes: &[Decision]) {
        for decision in changes {
            *self
                .decisions
                .entry((decision.code(), reason_code(decision)))
                .or_default() += 1;
        }
    }

    /// Reads the gauges from the core at `now`; a second sample at the same instant replaces
    /// the first, as the time series' does.
    pub fn observe(&mut self, scheduler: &Scheduler, now: Time) {
        let mut sample = MetricSample {
            at: now,
            decisions: self.decisions.clone(),
            ..MetricSample::default()
        };
        for job in scheduler.pending_by_id() {
            *sample
                .pending
                .entry((job.queue.to_string(), job.min_tier.to_string()))
                .or_default() += 1;
        }
        for running in scheduler.running() {
            *sample
                .gpus
                .entry(running.placement.flavor.to_string())
                .or_default() += running.job.gpu.milli().0 as f64 / 1000.0;
        }
        for tenant in scheduler.config().tenants.keys() {
            let micros = scheduler.spend().tenant(tenant).0 as f64;
            sample.spend.insert(tenant.to_string(), micros / 1e6);
        }
        if self.samples.last().is_some_and(|last| last.at == now) {
            self.samples.pop();
        }
        self.samples.push(sample);
    }
}

/// The stable code of a decision's reason: `admit` or `preempt`, a wait's or a rejection's
/// code (the controller's `reason_code`).
pub fn reason_code(decision: &Decision) -> &'static str {
    match decision {
        Decision::Wait { reason, .. } => reason.code(),
        Decision::Reject { reason, .. } => reason.code(),
        other => other.code(),
    }
}
