//! The time a job placed on a private node takes to start computing: binding, image pull,
//! container start. Drawn per start from the fleet's log-normal (`start_latency` in the fleet
//! file), from its own random stream so that turning it on changes nothing else a run draws.
//! Off unless the fleet file asks for it; the bundled synthetic scenarios leave it off.

use crate::fleet::StartLatency;
use alloc_core::Millis;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

/// The 95th percentile of a standard normal: p95 = median × e^(1.645 σ).
const Z95: f64 = 1.644_853_626_951_472_2;

/// A draw longer than this many 95th percentiles is cut there: a log-normal's tail is long,
/// and one start taking days would be a different fault, not a slow pull.
const TAIL_CUT: f64 = 10.0;

/// The fleet's start latency, ready to draw.
#[derive(Debug, Clone)]
pub(super) struct StartLatencies {
    distribution: LogNormal<f64>,
    cut_ms: f64,
}

impl StartLatencies {
    /// `None` when the fleet has no start latency; the fleet file's checks keep the figures
    /// positive and ordered, so the distribution is always valid then.
    pub(super) fn of(latency: Option<StartLatency>) -> Option<StartLatencies> {
        let latency = latency?;
        let median_ms = latency.median_seconds * 1_000.0;
        let sigma = (latency.p95_seconds / latency.median_seconds).ln() / Z95;
        let distribution = LogNormal::new(median_ms.ln(), sigma).ok()?;
        Some(StartLatencies {
            distribution,
            cut_ms: latency.p95_seconds * 1_000.0 * TAIL_CUT,
        })
    }

    pub(super) fn draw(&self, rng: &mut ChaCha8Rng) -> Millis {
        let ms = self.distribution.sample(rng).min(self.cut_ms);
        Millis(ms.round().max(0.0) as u64)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rng::Seed;

    #[test]
    fn draws_have_the_median_and_95th_percentile_asked_for() {
        let latencies = StartLatencies::of(Some(StartLatency {
            median_seconds: 8.0,
            p95_seconds: 40.0,
        }))
        .unwrap();
        let mut rng = Seed(3).stream("start-latency");
        let mut draws: Vec<u64> = (0..20_000).map(|_| latencies.draw(&mut rng).0).collect();
        draws.sort_unstable();
        let at = |q: f64| draws[((draws.len() - 1) as f64 * q) as usize] as f64 / 1_000.0;
        assert!((at(0.5) - 8.0).abs() < 0.4, "median {}", at(0.5));
        assert!((at(0.95) - 40.0).abs() < 3.0, "p95 {}", at(0.95));
        assert!(at(1.0) <= 400.0, "cut at 10 × p95: {}", at(1.0));
        assert!(StartLatencies::of(None).is_none());
    }
}
