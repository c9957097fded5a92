//! Prometheus metrics, served at `/metrics` in OpenMetrics text. Names are prefixed
//! `gpu_alloc_`, labels are the core's stable codes (never its sentences):
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `gpu_alloc_decisions_total` | counter | `kind` (admit, wait, reject, preempt), `reason` (the code) |
//! | `gpu_alloc_decision_latency_seconds` | histogram | — (one watch event: inputs, cycle and the writes it calls for) |
//! | `gpu_alloc_pending_jobs` | gauge | `queue` (LocalQueue), `tier` |
//! | `gpu_alloc_gpus_admitted` | gauge | `flavor` (GPUs held by running jobs, fractions as parts) |
//! | `gpu_alloc_public_spend` | gauge | `tenant` (billed plus reserved, currency units) |
//! | `gpu_alloc_unadmittable_gpus` | gauge | `flavor` (GPUs of its nodes beyond the nominal quota of every ClusterQueue: never admitted) |
//! | `gpu_alloc_reconcile_errors_total` | counter | `kind` (object, refused-input, write) |
//! | `gpu_alloc_status_writes_total` | counter | `state` (Ready, Retry, Rejected, Active) |
//! | `gpu_alloc_leader` | gauge | — (1 while this replica holds the lease) |

use alloc_core::{Decision, Scheduler, StrandedGpus};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

/// A decision's labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// `admit`, `wait`, `reject`, `preempt`.
    pub kind: String,
    /// The reason's stable code.
    pub reason: String,
}

/// A pending job's labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PendingLabels {
    /// Its LocalQueue.
    pub queue: String,
    /// Its tier.
    pub tier: String,
}

/// One label `name`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Flavor {
    /// The flavor.
    pub flavor: String,
}

/// One label `tenant`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Tenant {
    /// The tenant.
    pub tenant: String,
}

/// One label `kind`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    /// What failed.
    pub kind: String,
}

/// One label `state`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct State {
    /// The state written.
    pub state: String,
}

/// The controller's metrics.
#[derive(Debug)]
pub struct Metrics {
    /// Decisions by kind and reason code.
    pub decisions: Family<DecisionLabels, Counter>,
    /// Seconds from a watch event to its writes being known.
    pub latency: Histogram,
    /// Pending jobs by queue and tier.
    pub pending: Family<PendingLabels, Gauge>,
    /// GPUs held by running jobs per flavor.
    pub gpus: Family<Flavor, Gauge<f64, AtomicU64>>,
    /// Public spend per tenant.
    pub spend: Family<Tenant, Gauge<f64, AtomicU64>>,
    /// GPUs no quota can admit, per private flavor.
    pub unadmittable: Family<Flavor, Gauge<f64, AtomicU64>>,
    /// Failures by kind.
    pub errors: Family<Kind, Counter>,
    /// Status writes by state.
    pub writes: Family<State, Counter>,
    /// 1 while leading.
    pub leader: Gauge,
}

impl Metrics {
    /// The metrics, registered in `registry`.
    pub fn register(registry: &mut Registry) -> Metrics {
        let metrics = Metrics {
            decisions: Family::default(),
            latency: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            pending: Family::default(),
            gpus: Family::default(),
            spend: Family::default(),
            unadmittable: Family::default(),
            errors: Family::default(),
            writes: Family::default(),
            leader: Gauge::default(),
        };
        let registry = registry.sub_registry_with_prefix("gpu_alloc");
        registry.register(
            "decisions",
            "Decisions the core made, by kind and reason code",
            metrics.decisions.clone(),
        );
        registry.register(
            "decision_latency_seconds",
            "Time from a watch event to the writes it calls for",
            metrics.latency.clone(),
        );
        registry.register(
            "pending_jobs",
            "Jobs waiting, by LocalQueue and tier",
            metrics.pending.clone(),
        );
        registry.register(
            "gpus_admitted",
            "GPUs held by running jobs, by flavor",
            metrics.gpus.clone(),
        );
        registry.register(
            "public_spend",
            "Public spend billed and reserved, by tenant, in currency units",
            metrics.spend.clone(),
        );
        registry.register(
            "unadmittable_gpus",
            "GPUs of a flavor's nodes beyond the nominal quota of every ClusterQueue",
            metrics.unadmittable.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failures, by kind",
            metrics.errors.clone(),
        );
        registry.register(
            "status_writes",
            "Status writes, by state",
            metrics.writes.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the lease",
            metrics.leader.clone(),
        );
        metrics
    }

    /// Counts a cycle's changed decisions.
    pub fn decided(&self, changes: &[Decision]) {
        for decision in changes {
            self.decisions
                .get_or_create(&DecisionLabels {
                    kind: decision.code().into(),
                    reason: reason_code(decision).into(),
                })
                .inc();
        }
    }

    /// Sets the gauges from the core's state.
    pub fn observe(&self, scheduler: &Scheduler) {
        let mut pending: BTreeMap<(String, String), i64> = BTreeMap::new();
        for job in scheduler.pending_by_id() {
            *pending
                .entry((job.queue.to_string(), job.min_tier.to_string()))
                .or_default() += 1;
        }
        self.pending.clear();
        for ((queue, tier), count) in pending {
            self.pending
                .get_or_create(&PendingLabels { queue, tier })
                .set(count);
        }
        let mut gpus: BTreeMap<String, f64> = BTreeMap::new();
        for running in scheduler.running() {
            let milli = running.job.gpu.milli().0 as f64;
            *gpus
                .entry(running.placement.flavor.to_string())
                .or_default() += milli / 1000.0;
        }
        self.gpus.clear();
        for (flavor, count) in gpus {
            self.gpus.get_or_create(&Flavor { flavor }).set(count);
        }
        for tenant in scheduler.config().tenants.keys() {
            let micros = scheduler.spend().tenant(tenant).0 as f64;
            self.spend
                .get_or_create(&Tenant {
                    tenant: tenant.to_string(),
                })
                .set(micros / 1_000_000.0);
        }
    }

    /// Sets the GPUs no quota can admit, per flavor, to `stranded` (flavors not in it: none).
    pub fn stranded(&self, stranded: &[StrandedGpus]) {
        self.unadmittable.clear();
        for flavor in stranded {
            self.unadmittable
                .get_or_create(&Flavor {
                    flavor: flavor.flavor.to_string(),
                })
                .set(flavor.idle() as f64 / 1000.0);
        }
    }

    /// Counts a failure of `kind`.
    pub fn error(&self, kind: &str) {
        self.errors.get_or_create(&Kind { kind: kind.into() }).inc();
    }
}

/// The stable code of a decision's reason: `admit`, a wait's or a rejection's code.
pub fn reason_code(decision: &Decision) -> &'static str {
    match decision {
        Decision::Wait { reason, .. } => reason.code(),
        Decision::Reject { reason, .. } => reason.code(),
        other => other.code(),
    }
}
