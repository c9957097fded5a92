//! One scheduling cycle under a deep backlog, by pending-job count and fleet size.
//!
//! Each sample clones a prepared scheduler and runs one cycle on the clone, so every iteration
//! decides the same backlog from the same state; cloning and dropping the clone are not timed
//! (`iter_batched_ref`). Policy:
//! `default` (score order, FGD-pack, preemption, tiered burst). Two states:
//! - `cycle`: a fleet filled at time 0, a backlog submitted over an hour, and one cycle already
//!   run on it (`benches::backlog`); the timed cycle, a second later, is busy: it may evict
//!   what the previous one admitted;
//! - `cycle-after-one-finish`: the same, cycled until a cycle changes nothing, then one running
//!   job finishes (`benches::settled`); the timed cycle is what a live controller runs after
//!   each event;
//! - `cycle-after-one-finish-without-steps-5-6`: that cycle at 10k pending under the default
//!   policy with preemption and burst turned off (settled under that policy): what ordering the
//!   backlog, placing each request class and walking the waiting jobs cost on their own.
//!
//! Target: one cycle over 10k pending jobs on the 6,212-GPU fleet under 2 ms.

use alloc_core::{BurstMode, Policy, Scheduler, Time};
use benches::{backlog, settled, OPENB_GPUS, SEED};
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion,
};
use std::hint::black_box;
use std::time::Duration;

fn group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group
}

/// Times `scheduler`'s cycle at `now` on a fresh clone per iteration.
fn time_cycle(
    group: &mut BenchmarkGroup<'_, WallTime>,
    gpus: u32,
    pending: usize,
    (scheduler, now): (Scheduler, Time),
) {
    let id = BenchmarkId::new(format!("{gpus}-gpus"), format!("{pending}-pending"));
    group.bench_with_input(id, &scheduler, |b, scheduler| {
        b.iter_batched_ref(
            || scheduler.clone(),
            |scheduler| black_box(scheduler.cycle(now)),
            BatchSize::LargeInput,
        );
    });
}

fn cycle(c: &mut Criterion) {
    let mut group = group(c, "cycle");
    for gpus in [100, 1_000, OPENB_GPUS] {
        for pending in [100, 1_000, 10_000] {
            let policy = Policy::preset("default").unwrap_or_default();
            let state = backlog(gpus, pending, policy, SEED);
            time_cycle(&mut group, gpus, pending, state);
        }
    }
    group.finish();
}

fn cycle_after_one_finish(c: &mut Criterion) {
    let mut group = group(c, "cycle-after-one-finish");
    for pending in [100, 1_000, 10_000] {
        let policy = Policy::preset("default").unwrap_or_default();
        let state = settled(OPENB_GPUS, pending, policy, SEED);
        time_cycle(&mut group, OPENB_GPUS, pending, state);
    }
    group.finish();
}

fn cycle_without_steps_5_6(c: &mut Criterion) {
    let mut group = group(c, "cycle-after-one-finish-without-steps-5-6");
    let mut policy = Policy::preset("default").unwrap_or_default();
    policy.preemption.enabled = false;
    policy.burst.mode = BurstMode::Never;
    let pending = 10_000;
    let state = settled(OPENB_GPUS, pending, policy, SEED);
    time_cycle(&mut group, OPENB_GPUS, pending, state);
    group.finish();
}

criterion_group!(
    benches,
    cycle,
    cycle_after_one_finish,
    cycle_without_steps_5_6
);
criterion_main!(benches);
