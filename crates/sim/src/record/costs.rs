//! `costs.csv` / `costs.parquet` and `summary.json`'s `showback`: where the money went, per
//! tenant, LocalQueue, tier and cluster. Public money is what the cloud billed, split into
//! running, provisioning and warm idle (the parts add up to `public_cost`); private GPU-hours
//! are what jobs held on the fleet, priced at the run's amortised price per GPU-hour.

use super::summary::round;
use super::table::Table;
use crate::engine::{CostLine, Showback};
use alloc_core::Money;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

fn hours(gpu_ms: u64) -> f64 {
    gpu_ms as f64 / 3_600_000.0
}

fn units(money: Money) -> f64 {
    money.0 as f64 / 1e6
}

/// The private GPU time of `line` at `price` per GPU-hour, in currency units.
fn private_cost(line: &CostLine, price: Money) -> f64 {
    hours(line.private_gpu_ms) * units(price)
}

/// One row per (tenant, queue, tier, cluster) with GPU time or a bill.
pub fn table(showback: &Showback, price: Money) -> Table {
    let rows: Vec<(_, &CostLine)> = showback.iter().collect();
    let text = |f: &dyn Fn(&crate::engine::CostKey) -> String| {
        rows.iter().map(|(k, _)| Some(f(k))).collect::<Vec<_>>()
    };
    let float = |f: &dyn Fn(&CostLine) -> f64| {
        rows.iter()
            .map(|(_, line)| Some(round(f(line))))
            .collect::<Vec<_>>()
    };
    Table::new()
        .text("tenant", text(&|k| k.tenant.clone()))
        .text("queue", text(&|k| k.queue.clone()))
        .text("tier", text(&|k| k.tier.to_string()))
        .text("cluster", text(&|k| k.cluster.to_string()))
        .float("private_gpu_hours", float(&|l| hours(l.private_gpu_ms)))
        .float("private_cost", float(&|l| private_cost(l, price)))
        .float("public_gpu_hours", float(&|l| hours(l.public_gpu_ms)))
        .float("public_running_cost", float(&|l| units(l.running)))
        .float(
            "public_provisioning_cost",
            float(&|l| units(l.provisioning)),
        )
        .float("public_warm_idle_cost", float(&|l| units(l.warm_idle)))
        .float("public_cost", float(&|l| units(l.public_billed())))
        .float(
            "total_cost",
            float(&|l| units(l.public_billed()) + private_cost(l, price)),
        )
}

fn line_json(line: &CostLine, price: Money) -> Value {
    json!({
        "private_gpu_hours": round(hours(line.private_gpu_ms)),
        "private_cost": round(private_cost(line, price)),
        "public_gpu_hours": round(hours(line.public_gpu_ms)),
        "public_running": round(units(line.running)),
        "public_provisioning": round(units(line.provisioning)),
        "public_warm_idle": round(units(line.warm_idle)),
        "public_billed": round(units(line.public_billed())),
        "total": round(units(line.public_billed()) + private_cost(line, price)),
    })
}

/// Lines summed by one part of the key.
fn by(
    showback: &Showback,
    price: Money,
    part: impl Fn(&crate::engine::CostKey) -> String,
) -> Value {
    let mut sums: BTreeMap<String, CostLine> = BTreeMap::new();
    for (key, line) in showback {
        sums.entry(part(key)).or_default().add(line);
    }
    let mut out = Map::new();
    for (name, line) in &sums {
        out.insert(name.clone(), line_json(line, price));
    }
    Value::Object(out)
}

/// `summary.json`'s `showback`: the price, the totals, and sums per tenant, queue, tier and
/// cluster (each adding up to the totals).
pub fn summary(showback: &Showback, price: Money) -> Value {
    let mut total = CostLine::default();
    for line in showback.values() {
        total.add(line);
    }
    json!({
        "private_gpu_hour_price": round(units(price)),
        "total": line_json(&total, price),
        "by_tenant": by(showback, price, |k| k.tenant.clone()),
        "by_queue": by(showback, price, |k| k.queue.clone()),
        "by_tier": by(showback, price, |k| k.tier.to_string()),
        "by_cluster": by(showback, price, |k| k.cluster.to_string()),
    })
}
