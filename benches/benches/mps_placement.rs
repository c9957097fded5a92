//! One MPS fraction placement on a busy fleet, per packing policy.
//!
//! The fleet is the 1,000- or 6,212-GPU fleet in steady state (`benches::backlog`: full, with
//! a backlog); the job asks for 250 milli-GPU and 4 GiB on the flavor with the most nodes.
//! `placement::place` only reads the fleet, so the same state serves every iteration.

use alloc_core::placement::{self, MpsPacking};
use alloc_core::testing::JobBuilder;
use alloc_core::Policy;
use benches::{backlog, largest_flavor, OPENB_GPUS, SEED};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::time::Duration;

fn mps_placement(c: &mut Criterion) {
    let mut group = c.benchmark_group("mps_placement");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    for gpus in [1_000, OPENB_GPUS] {
        let policy = Policy::preset("default").unwrap_or_default();
        let (scheduler, _) = backlog(gpus, 1_000, policy, SEED);
        let flavor = largest_flavor(&scheduler);
        let job = JobBuilder::fraction(250, 4096).cpu(2000).build();
        let fleet = &scheduler.ledgers().fleet;
        for packing in MpsPacking::ALL {
            let id = BenchmarkId::new(format!("{gpus}-gpus"), format!("{packing:?}"));
            group.bench_function(id, |b| {
                b.iter(|| {
                    black_box(placement::place(
                        fleet,
                        &flavor,
                        &job,
                        packing,
                        scheduler.mix(),
                    ))
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, mps_placement);
criterion_main!(benches);
