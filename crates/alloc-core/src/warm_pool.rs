//! Warm notebook slices: what a new GPU lease costs a cell, and how many pre-started slices a
//! pool should hold so that a cell rarely pays it.
//!
//! A notebook cell that finds no GPU lease of its own has to get one. Started from nothing, the
//! lease pays the whole [`ColdStart`]: the container, the CUDA context (and the framework's
//! kernels), then the session's restore from the checkpoint store. A *warm pool* keeps a few
//! slices already past the first two steps, so a cell that takes one pays only the restore;
//! the shell refills the pool in the background.
//!
//! How many slices to keep is a decision, [`WarmPoolRule::target`]: lease demands arrive at a
//! rate λ (estimated by the shell from the demands in a trailing window); a slice taken now is
//! replaced after `refill` (the time a new slice takes to start). A cell finds the pool empty
//! when the pool's `k` slices were all taken within the last `refill`, which for Poisson
//! arrivals happens with probability P(N ≥ k), N ~ Poisson(λ · refill). The rule keeps the
//! smallest `k` with P(N ≥ k) ≤ 1 − quantile — and none at all when demands are so rare that a
//! slice would sit idle longer than `max_idle` on average before a cell takes it: an idle slice
//! is GPU time nobody uses, and it counts as notebook idle time.

use crate::units::Millis;
use serde::{Deserialize, Serialize};

/// The most slices one pool is ever sized to: a bound on what a mis-estimated rate can hold.
pub const MAX_POOL: u32 = 64;

/// What starting a notebook lease costs, step by step. Each step is a fixed figure except the
/// restore, which grows with the session's state: `restore_fixed + state ÷ bandwidth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColdStart {
    /// Starting the lease's container with its image already on the node.
    pub container: Millis,
    /// Creating the CUDA context and loading the framework's GPU kernels.
    pub cuda_context: Millis,
    /// The restore's fixed part: starting the kernel and deserialising its variables.
    pub restore_fixed: Millis,
    /// The session state read back from the checkpoint store, in MiB.
    pub state_mib: u64,
    /// The checkpoint store's read bandwidth for one session, in MiB per second.
    pub restore_mib_per_s: u64,
}

impl Default for ColdStart {
    /// The project's documented defaults (scenarios/README.md, "Notebook sessions", gives the
    /// public figures they come from): 5 s container, 10 s CUDA context, and a restore of
    /// 2 s + 2 GiB at 512 MiB/s = 6 s.
    fn default() -> Self {
        ColdStart {
            container: Millis::seconds(5),
            cuda_context: Millis::seconds(10),
            restore_fixed: Millis::seconds(2),
            state_mib: 2048,
            restore_mib_per_s: 512,
        }
    }
}

impl ColdStart {
    /// A model whose start-up and restore are given as totals (scenario files that set
    /// `cold_start_seconds` / `restore_seconds` directly): the restore has no state to read.
    pub fn totals(start: Millis, restore: Millis) -> ColdStart {
        ColdStart {
            container: start,
            cuda_context: Millis::ZERO,
            restore_fixed: restore,
            state_mib: 0,
            restore_mib_per_s: 0,
        }
    }

    /// Container plus CUDA context: what a warm-pool slice has already paid.
    pub fn start(&self) -> Millis {
        self.container + self.cuda_context
    }

    /// Reloading the session: the fixed part plus reading its state (rounded up to the
    /// millisecond). A bandwidth of 0 reads nothing: the model then has no state to read.
    pub fn restore(&self) -> Millis {
        let read = match self.restore_mib_per_s {
            0 => 0,
            rate => self.state_mib.saturating_mul(1000).div_ceil(rate),
        };
        self.restore_fixed + Millis(read)
    }

    /// A lease started from nothing.
    pub fn cold(&self) -> Millis {
        self.start() + self.restore()
    }
}

/// How many slices a pool holds: sized from the demand rate, a fixed count, or none (`Fixed(0)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WarmPoolSize {
    /// [`WarmPoolRule::target`] from the recent demand rate.
    Auto,
    /// Always this many (0: no pool).
    Fixed(u32),
}

/// The sizing rule's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmPoolRule {
    /// The share of demands, in per mille, that should find a slice ready.
    pub quantile_permille: u32,
    /// No pool when a slice would wait longer than this, on average, for its next demand.
    pub max_idle: Millis,
    /// The trailing window the shell counts demands in to estimate their rate.
    pub window: Millis,
}

impl Default for WarmPoolRule {
    fn default() -> Self {
        WarmPoolRule {
            quantile_permille: 950,
            max_idle: Millis::minutes(15),
            window: Millis::minutes(30),
        }
    }
}

impl WarmPoolRule {
    /// Slices to keep, given `demands` lease demands in the last [`WarmPoolRule::window`] and
    /// the time a new slice takes to become ready (`refill`). Decided by, in order:
    /// 1. no demands, or an empty window: 0;
    /// 2. rate × `max_idle` < 1 (a slice would idle longer than `max_idle` before use): 0;
    /// 3. otherwise 1 + the `quantile` of Poisson(rate × `refill`), at most [`MAX_POOL`].
    pub fn target(&self, demands: u64, refill: Millis) -> u32 {
        if demands == 0 || self.window == Millis::ZERO {
            return 0;
        }
        // demands / window × max_idle < 1, in integers.
        if u128::from(demands) * u128::from(self.max_idle.0) < u128::from(self.window.0) {
            return 0;
        }
        let mean = demands as f64 * refill.0 as f64 / self.window.0 as f64;
        let quantile = f64::from(self.quantile_permille.min(1000)) / 1000.0;
        poisson_quantile(mean, quantile)
            .saturating_add(1)
            .min(MAX_POOL)
    }

    /// What `size` asks for under this rule.
    pub fn size(&self, size: WarmPoolSize, demands: u64, refill: Millis) -> u32 {
        match size {
            WarmPoolSize::Auto => self.target(demands, refill),
            WarmPoolSize::Fixed(count) => count.min(MAX_POOL),
        }
    }
}

/// The smallest `k` with P(N ≤ k) ≥ `quantile` for N ~ Poisson(`mean`), at most [`MAX_POOL`].
fn poisson_quantile(mean: f64, quantile: f64) -> u32 {
    if !(mean.is_finite() && mean > 0.0) {
        return 0;
    }
    // Past ~700 e^-mean underflows; such a mean already needs more than MAX_POOL slices.
    if mean > 700.0 {
        return MAX_POOL;
    }
    let mut pmf = (-mean).exp();
    let mut cdf = pmf;
    let mut k = 0u32;
    while cdf < quantile && k < MAX_POOL {
        k += 1;
        pmf *= mean / f64::from(k);
        cdf += pmf;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cold_start_adds_up_its_parts() {
        let model = ColdStart::default();
        assert_eq!(model.start(), Millis::seconds(15));
        // 2 s fixed + 2048 MiB at 512 MiB/s = 4 s
        assert_eq!(model.restore(), Millis::seconds(6));
        assert_eq!(model.cold(), Millis::seconds(21));
    }

    #[test]
    fn the_restore_grows_with_state_and_shrinks_with_bandwidth() {
        let model = ColdStart {
            state_mib: 8192,
            ..ColdStart::default()
        };
        assert_eq!(model.restore(), Millis::seconds(18));
        let faster = ColdStart {
            restore_mib_per_s: 2048,
            ..model
        };
        assert_eq!(faster.restore(), Millis::seconds(6));
        // rounded up, never down, to the millisecond
        let odd = ColdStart {
            restore_fixed: Millis::ZERO,
            state_mib: 1,
            restore_mib_per_s: 3,
            ..ColdStart::default()
        };
        assert_eq!(odd.restore(), Millis(334));
        let totals = ColdStart::totals(Millis::seconds(20), Millis::seconds(15));
        assert_eq!(
            (totals.start(), totals.restore()),
            (Millis::seconds(20), Millis::seconds(15))
        );
    }

    #[test]
    fn no_demand_or_rare_demand_keeps_no_pool() {
        let rule = WarmPoolRule::default();
        assert_eq!(rule.target(0, Millis::seconds(15)), 0);
        // one demand in 30 min: a slice would idle ~30 min > 15 min
        assert_eq!(rule.target(1, Millis::seconds(15)), 0);
        // two in 30 min: one every 15 min, just worth a slice
        assert_eq!(rule.target(2, Millis::seconds(15)), 1);
        let no_window = WarmPoolRule {
            window: Millis::ZERO,
            ..rule
        };
        assert_eq!(no_window.target(10, Millis::seconds(15)), 0);
    }

    #[test]
    fn the_pool_grows_with_demands_within_a_refill() {
        let rule = WarmPoolRule::default();
        let refill = Millis::seconds(15);
        // 60 demands in 30 min, 15 s refill: mean 0.5 in a refill; P(N ≤ 1) = 0.91,
        // P(N ≤ 2) = 0.986 ⇒ quantile 2, pool 3
        assert_eq!(rule.target(60, refill), 3);
        // a lab class: 600 demands in 30 min ⇒ mean 5; the 95% quantile of Poisson(5) is 9
        assert_eq!(rule.target(600, refill), 10);
        let sizes: Vec<u32> = [2, 10, 60, 200, 600, 2_000]
            .iter()
            .map(|&d| rule.target(d, refill))
            .collect();
        assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
        // a slower refill needs more slices for the same rate
        assert!(rule.target(600, Millis::seconds(60)) > rule.target(600, refill));
        // a stricter quantile never needs fewer
        let strict = WarmPoolRule {
            quantile_permille: 990,
            ..rule
        };
        assert!(strict.target(600, refill) >= rule.target(600, refill));
    }

    #[test]
    fn the_pool_is_bounded() {
        let rule = WarmPoolRule::default();
        assert_eq!(rule.target(u64::MAX, Millis::hours(1)), MAX_POOL);
        assert_eq!(rule.target(10_000_000, Millis::seconds(15)), MAX_POOL);
        assert_eq!(
            rule.size(WarmPoolSize::Fixed(1_000), 0, Millis::ZERO),
            MAX_POOL
        );
        assert_eq!(
            rule.size(WarmPoolSize::Fixed(0), 600, Millis::seconds(15)),
            0
        );
        assert_eq!(rule.size(WarmPoolSize::Fixed(2), 0, Millis::ZERO), 2);
    }

    #[test]
    fn poisson_quantiles_match_tables() {
        // P(N ≤ 0) = e^-1 = 0.368; P(N ≤ 2) = 0.920; P(N ≤ 3) = 0.981
        assert_eq!(poisson_quantile(1.0, 0.95), 3);
        assert_eq!(poisson_quantile(1.0, 0.3), 0);
        // P(N ≤ 8) = 0.932, P(N ≤ 9) = 0.968 for mean 5
        assert_eq!(poisson_quantile(5.0, 0.95), 9);
        assert_eq!(poisson_quantile(0.0, 0.95), 0);
        assert_eq!(poisson_quantile(f64::NAN, 0.95), 0);
    }
}
