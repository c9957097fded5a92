//! Pod order and node priorities for one seed, as the reference experiment makes them: shuffle
//! the trace, then inflate it to `tune` × GPU capacity by drawing pods with replacement and
//! appending them, stopping at the first draw whose per-GPU milli would cross the target
//! (that pod is discarded). If the trace already asks for more than the target, random pods
//! are removed instead.

use alloc_core::packing::PodShape;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Independent ChaCha streams of one seed, so that changing one never shifts the other.
const ORDER_STREAM: u64 = 1;
const PRIORITY_STREAM: u64 = 2;

fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Indices into `pods` in arrival order.
pub(crate) fn arrival_order(pods: &[PodShape], capacity: u64, tune: f64, seed: u64) -> Vec<usize> {
    let mut rng = stream(seed, ORDER_STREAM);
    let mut order: Vec<usize> = (0..pods.len()).collect();
    order.shuffle(&mut rng);
    let target = tune * capacity as f64;
    let mut requested: u64 = pods.iter().map(|p| p.total_milli().0).sum();
    let any_gpu = pods.iter().any(|p| p.gpu_milli.0 > 0);
    if (requested as f64) > target {
        while requested as f64 > target && !order.is_empty() {
            let removed = order.remove(rng.gen_range(0..order.len()));
            requested -= pods[removed].total_milli().0;
        }
    } else if any_gpu {
        loop {
            let drawn = rng.gen_range(0..pods.len());
            let pod = &pods[drawn];
            // The reference tests the per-GPU milli, not the pod's total, so a multi-GPU pod
            // can overshoot the target; kept for fidelity (and nothing is removed after).
            if (requested + pod.gpu_milli.0) as f64 > target {
                break;
            }
            requested += pod.total_milli().0;
            order.push(drawn);
        }
    }
    order
}

/// A random permutation of 0..nodes: node `n`'s tie-break priority (lowest wins).
pub(crate) fn node_priorities(nodes: usize, seed: u64) -> Vec<u32> {
    let mut rng = stream(seed, PRIORITY_STREAM);
    let mut priorities: Vec<u32> = (0..nodes as u32).collect();
    priorities.shuffle(&mut rng);
    priorities
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc_core::{CpuMilli, MemMib, MilliGpu};

    fn pod(count: u32, milli: u64) -> PodShape {
        PodShape::gpus(CpuMilli(1), MemMib(1), count, MilliGpu(milli))
    }

    #[test]
    fn inflation_keeps_the_trace_and_stops_below_the_target() {
        let pods = vec![pod(1, 300), pod(1, 700), pod(0, 0), pod(1, 1000)];
        for seed in 0..20 {
            let order = arrival_order(&pods, 10_000, 1.3, seed);
            let mut head = order[..4].to_vec();
            head.sort_unstable();
            assert_eq!(
                head,
                vec![0, 1, 2, 3],
                "the shuffled trace comes first, whole"
            );
            let total: u64 = order.iter().map(|&i| pods[i].total_milli().0).sum();
            assert!(
                total <= 13_000 && total > 13_000 - 1000,
                "seed {seed}: {total}"
            );
            assert_eq!(order, arrival_order(&pods, 10_000, 1.3, seed));
        }
    }

    #[test]
    fn the_stop_test_uses_per_gpu_milli_and_trims_when_over() {
        // A 4-GPU pod passes the per-GPU test at 9000 + 1000 and lands at 13000 > 10000.
        let pods = vec![pod(4, 1000), pod(1, 1000)];
        let order = arrival_order(&pods, 5_000, 2.0, 3);
        let total: u64 = order.iter().map(|&i| pods[i].total_milli().0).sum();
        assert!(total <= 10_000 + 3000);
        // Demand above the target: random pods are removed until it fits.
        let order = arrival_order(&pods, 5_000, 0.5, 3);
        let total: u64 = order.iter().map(|&i| pods[i].total_milli().0).sum();
        assert!(total <= 2_500, "{total}");
    }
}
