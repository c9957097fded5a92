//! A preemption search with many running low-priority jobs.
//!
//! The fleet (V100 nodes of 8 GPUs) is full of one-GPU jobs at priority 0 (1,000 or 6,212 of them, admitted at time
//! 0); one job at priority 5 asking for 4 GPUs arrives and the next cycle must evict some to
//! admit it. Each sample clones the prepared scheduler and runs that cycle, whose cost is the
//! preemption search; cloning and dropping the clone are not timed (`iter_batched_ref`). Policy: `default` (preemption of lower priorities).

use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{Decision, Input, Millis, Policy, Quota, Scheduler, Tier, Time};
use benches::{apply, OPENB_GPUS};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use std::hint::black_box;
use std::time::Duration;

/// `gpus` V100 GPUs in nodes of 8, each GPU held by its own priority-0 job; four queues of a
/// cohort, each using exactly its nominal quota (a quarter of the fleet).
fn full_fleet(gpus: u32) -> Scheduler {
    let quota = Quota::nominal(u64::from(gpus) * 1000 / 4);
    let mut builder = ConfigBuilder::new().private_flavor("v100", Tier::Silver);
    for queue in benches::QUEUES {
        builder = builder.queue_in_cohort(queue, "department", &[("v100", quota)]);
    }
    let policy = Policy::preset("default").unwrap_or_default();
    let mut scheduler = match Scheduler::new(builder.build(), policy) {
        Ok(scheduler) => scheduler,
        Err(error) => panic!("bench config is invalid: {error}"),
    };
    for node in 0..gpus.div_ceil(8) {
        let spec = NodeBuilder::new(&format!("node-{node:05}"), "v100", 8.min(gpus - node * 8));
        apply(&mut scheduler, Input::NodeAdded(spec.build()));
    }
    let queues = benches::QUEUES;
    for id in 1..=u64::from(gpus) {
        // Queues in blocks, so that best fit fills each node with one queue's jobs and the
        // preemptor's queue alone can free a node.
        let queue = queues[((id - 1) * queues.len() as u64 / u64::from(gpus)) as usize];
        let job = JobBuilder::gpus(1)
            .id(id)
            .queue(queue)
            .user("student", queue)
            .tier(Tier::Silver)
            .runtime(Millis::hours(1 + id % 7))
            .build();
        apply(&mut scheduler, Input::JobSubmitted(job));
    }
    scheduler.cycle(Time::ZERO);
    scheduler
}

fn preemption(c: &mut Criterion) {
    let mut group = c.benchmark_group("preemption");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for gpus in [1_000, OPENB_GPUS] {
        let mut scheduler = full_fleet(gpus);
        let urgent = JobBuilder::gpus(4)
            .id(u64::from(gpus) + 1)
            .queue(benches::QUEUES[0])
            .tier(Tier::Silver)
            .priority(5)
            .submitted(Time(60_000))
            .build();
        apply(&mut scheduler, Input::JobSubmitted(urgent));
        // four minutes in: the victims (no checkpoints) lose four, within the default's bound
        let now = Time(Millis::minutes(4).0);
        let decisions = scheduler.clone().cycle(now).changes;
        assert!(
            matches!(decisions.as_slice(), [Decision::Preempt { .. }]),
            "the bench must measure a preemption: {decisions:?}"
        );
        let id = BenchmarkId::new("running-low-priority", gpus);
        group.bench_with_input(id, &scheduler, |b, scheduler| {
            b.iter_batched_ref(
                || scheduler.clone(),
                |scheduler| black_box(scheduler.cycle(now)),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, preemption);
criterion_main!(benches);
