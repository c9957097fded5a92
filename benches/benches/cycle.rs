//! One scheduling cycle in steady state, by pending-job count and fleet size.
//!
//! Each sample clones a prepared scheduler (not timed, `iter_batched`) and runs one cycle on
//! the clone, so every iteration decides the same backlog from the same state: a fleet filled
//! at time 0, a backlog submitted over an hour, and one cycle already run on it (see
//! `benches::backlog`). Policy: `default` (score order, FGD-pack, preemption, tiered burst).
//! Target: one cycle over 10k pending jobs on the 6,212-GPU fleet under 2 ms.

use alloc_core::Policy;
use benches::{backlog, OPENB_GPUS, SEED};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use std::hint::black_box;
use std::time::Duration;

fn cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("cycle");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for gpus in [100, 1_000, OPENB_GPUS] {
        for pending in [100, 1_000, 10_000] {
            let policy = Policy::preset("default").unwrap_or_default();
            let (scheduler, now) = backlog(gpus, pending, policy, SEED);
            let id = BenchmarkId::new(format!("{gpus}-gpus"), format!("{pending}-pending"));
            group.bench_with_input(id, &scheduler, |b, scheduler| {
                b.iter_batched(
                    || scheduler.clone(),
                    |mut scheduler| black_box(scheduler.cycle(now)),
                    BatchSize::LargeInput,
                );
            });
        }
    }
    group.finish();
}

criterion_group!(benches, cycle);
criterion_main!(benches);
