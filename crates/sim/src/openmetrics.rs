//! A run's metrics as Prometheus would have scraped them from the live controller: OpenMetrics
//! text with timestamps, one metric family after another and each series' samples in time
//! order, ending `# EOF` — what `promtool tsdb create-blocks-from openmetrics` loads.
//!
//! Names, types and labels are the controller's (`live-adapter`'s `metrics` module):
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `gpu_alloc_decisions_total` | counter | `kind`, `reason` |
//! | `gpu_alloc_pending_jobs` | gauge | `queue`, `tier` |
//! | `gpu_alloc_gpus_admitted` | gauge | `flavor` |
//! | `gpu_alloc_public_spend` | gauge | `tenant` |
//!
//! The controller's other metrics have nothing to read in the twin: `gpu_alloc_decision_latency_seconds`
//! is wall-clock time from a watch event to its writes, `gpu_alloc_reconcile_errors_total` and
//! `gpu_alloc_status_writes_total` count API-server work, `gpu_alloc_leader` the lease.
//!
//! Simulated time 0 is written as `start` seconds after the Unix epoch; a series is absent at
//! an instant when the controller would have cleared it (no job pending in that queue and
//! tier, no job running on that flavor).

use crate::engine::MetricSample;
use crate::error::{Result, SimError};
use alloc_core::Time;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// One family's series: label pairs → (time, value) in time order.
type Series = BTreeMap<Vec<(&'static str, String)>, Vec<(Time, String)>>;

struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    /// The samples' name: the family's, `_total` added for a counter.
    sample: &'static str,
    series: Series,
}

fn float(x: f64) -> String {
    if x.is_finite() {
        // The shortest text that reads back as the same number, never in exponent form.
        format!("{x}")
    } else if x.is_nan() {
        "NaN".into()
    } else if x > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

fn families(samples: &[MetricSample]) -> Vec<Family> {
    let mut decisions = Series::new();
    let mut pending = Series::new();
    let mut gpus = Series::new();
    let mut spend = Series::new();
    for sample in samples {
        let at = sample.at;
        for ((kind, reason), count) in &sample.decisions {
            decisions
                .entry(vec![
                    ("kind", kind.to_string()),
                    ("reason", reason.to_string()),
                ])
                .or_default()
                .push((at, count.to_string()));
        }
        for ((queue, tier), count) in &sample.pending {
            pending
                .entry(vec![("queue", queue.clone()), ("tier", tier.clone())])
                .or_default()
                .push((at, count.to_string()));
        }
        for (flavor, count) in &sample.gpus {
            gpus.entry(vec![("flavor", flavor.clone())])
                .or_default()
                .push((at, float(*count)));
        }
        for (tenant, money) in &sample.spend {
            spend
                .entry(vec![("tenant", tenant.clone())])
                .or_default()
                .push((at, float(*money)));
        }
    }
    vec![
        Family {
            name: "gpu_alloc_decisions",
            kind: "counter",
            help: "Decisions the core made, by kind and reason code",
            sample: "gpu_alloc_decisions_total",
            series: decisions,
        },
        Family {
            name: "gpu_alloc_pending_jobs",
            kind: "gauge",
            help: "Jobs waiting, by LocalQueue and tier",
            sample: "gpu_alloc_pending_jobs",
            series: pending,
        },
        Family {
            name: "gpu_alloc_gpus_admitted",
            kind: "gauge",
            help: "GPUs held by running jobs, by flavor",
            sample: "gpu_alloc_gpus_admitted",
            series: gpus,
        },
        Family {
            name: "gpu_alloc_public_spend",
            kind: "gauge",
            help: "Public spend billed and reserved, by tenant, in currency units",
            sample: "gpu_alloc_public_spend",
            series: spend,
        },
    ]
}

/// A label value escaped as OpenMetrics asks: backslash, double quote and newline.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The OpenMetrics text of `samples`, simulated time 0 at `start` seconds after the epoch.
pub fn text(samples: &[MetricSample], start: u64) -> String {
    let mut out = String::new();
    for family in families(samples) {
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        for (labels, points) in &family.series {
            let labels: Vec<String> = labels
                .iter()
                .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
                .collect();
            let labels = labels.join(",");
            for (at, value) in points {
                let ms = u128::from(start) * 1000 + u128::from(at.0);
                let _ = writeln!(
                    out,
                    "{}{{{labels}}} {value} {}.{:03}",
                    family.sample,
                    ms / 1000,
                    ms % 1000
                );
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// Writes [`text`] to `path`.
pub fn write(path: &Path, samples: &[MetricSample], start: u64) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|e| SimError::io(path, e))?;
    file.write_all(text(samples, start).as_bytes())
        .map_err(|e| SimError::io(path, e))
}
