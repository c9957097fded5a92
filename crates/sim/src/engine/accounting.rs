//! Running integrals of allocated and available GPU capacity, per tier and per cluster, for
//! utilisation; kept incrementally so each event costs O(1) here.

use alloc_core::{ClusterName, Config, NodeSpec, Tier};
use std::collections::BTreeMap;

pub fn tier_index(tier: Tier) -> usize {
    match tier {
        Tier::Bronze => 0,
        Tier::Silver => 1,
        Tier::Gold => 2,
    }
}

#[derive(Debug, Clone, Default)]
struct Level {
    /// milli-GPU now
    current: u64,
    /// milli-GPU × ms so far
    integral: u128,
}

#[derive(Debug, Clone, Default)]
pub struct Accounting {
    last: u64,
    allocated_tier: [Level; 3],
    capacity_tier: [Level; 3],
    allocated_cluster: BTreeMap<ClusterName, Level>,
    capacity_cluster: BTreeMap<ClusterName, Level>,
}

/// Utilisation figures at the end of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Utilisation {
    pub per_tier: [Option<f64>; 3],
    pub per_cluster: BTreeMap<ClusterName, Option<f64>>,
    pub allocated_gpu_ms_per_cluster: BTreeMap<ClusterName, u128>,
}

impl Accounting {
    pub fn advance(&mut self, now: u64) {
        let dt = u128::from(now.saturating_sub(self.last));
        if dt == 0 {
            return;
        }
        let levels = self
            .allocated_tier
            .iter_mut()
            .chain(self.capacity_tier.iter_mut())
            .chain(self.allocated_cluster.values_mut())
            .chain(self.capacity_cluster.values_mut());
        for level in levels {
            level.integral += u128::from(level.current) * dt;
        }
        self.last = now;
    }

    pub fn allocate(&mut self, tier: Tier, cluster: &ClusterName, milli: u64) {
        self.allocated_tier[tier_index(tier)].current += milli;
        self.allocated_cluster
            .entry(cluster.clone())
            .or_default()
            .current += milli;
    }

    pub fn free(&mut self, tier: Tier, cluster: &ClusterName, milli: u64) {
        let level = &mut self.allocated_tier[tier_index(tier)];
        level.current = level.current.saturating_sub(milli);
        if let Some(level) = self.allocated_cluster.get_mut(cluster) {
            level.current = level.current.saturating_sub(milli);
        }
    }

    /// A node comes (`sign` true) or goes: its GPUs count toward each tier some flavor of
    /// which selects it, and toward its cluster.
    pub fn node(&mut self, config: &Config, node: &NodeSpec, up: bool) {
        let milli = u64::from(node.gpus) * 1000;
        let mut tiers = [false; 3];
        for flavor in config.flavors.values().filter(|f| f.selects(node)) {
            tiers[tier_index(flavor.tier)] = true;
        }
        let change = |level: &mut Level| {
            level.current = if up {
                level.current + milli
            } else {
                level.current.saturating_sub(milli)
            };
        };
        for (index, selected) in tiers.iter().enumerate() {
            if *selected {
                change(&mut self.capacity_tier[index]);
            }
        }
        change(
            self.capacity_cluster
                .entry(node.cluster.clone())
                .or_default(),
        );
    }

    pub fn allocated_now(&self) -> [u64; 3] {
        [0, 1, 2].map(|i| self.allocated_tier[i].current)
    }

    pub fn utilisation(&self) -> Utilisation {
        let ratio = |a: u128, c: u128| (c > 0).then(|| a as f64 / c as f64);
        let mut out = Utilisation::default();
        for i in 0..3 {
            out.per_tier[i] = ratio(
                self.allocated_tier[i].integral,
                self.capacity_tier[i].integral,
            );
        }
        for (cluster, capacity) in &self.capacity_cluster {
            let allocated = self
                .allocated_cluster
                .get(cluster)
                .map_or(0, |l| l.integral);
            out.per_cluster
                .insert(cluster.clone(), ratio(allocated, capacity.integral));
        }
        for (cluster, allocated) in &self.allocated_cluster {
            out.allocated_gpu_ms_per_cluster
                .insert(cluster.clone(), allocated.integral / 1000);
        }
        out
    }
}
