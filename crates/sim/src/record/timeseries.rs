//! The sampled time series: what the fleet looked like every sample period.

use super::table::Table;
use alloc_core::{Money, Time};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    pub at: Time,
    /// Allocated GPUs (milli-GPU ÷ 1000) on BRONZE, SILVER and GOLD flavors.
    pub allocated: [f64; 3],
    pub pending: u64,
    pub running: u64,
    pub public_gpus: f64,
    pub spend: Money,
}

pub fn table(samples: &[Sample]) -> Table {
    let float = |f: &dyn Fn(&Sample) -> f64| samples.iter().map(|s| Some(f(s))).collect::<Vec<_>>();
    let int = |f: &dyn Fn(&Sample) -> u64| {
        samples
            .iter()
            .map(|s| i64::try_from(f(s)).ok())
            .collect::<Vec<_>>()
    };
    Table::new()
        .int("time_ms", int(&|s| s.at.0))
        .float("gpus_bronze", float(&|s| s.allocated[0]))
        .float("gpus_silver", float(&|s| s.allocated[1]))
        .float("gpus_gold", float(&|s| s.allocated[2]))
        .int("pending", int(&|s| s.pending))
        .int("running", int(&|s| s.running))
        .float("public_gpus", float(&|s| s.public_gpus))
        .int(
            "spend_micros",
            samples.iter().map(|s| Some(s.spend.0)).collect(),
        )
}
