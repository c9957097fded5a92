//! Engine event throughput, end to end — events popped, cycles run, decisions applied,
//! records kept; throughput is in events:
//! - a seeded synthetic 2,000-job workload (the department job mix) replayed on the bundled
//!   department fleet under the default policy;
//! - a saturated replay shaped like Philly on 448 GPUs (issue 24): 224 two-GPU nodes, one
//!   queue, 20,000 jobs of Philly's sizes arriving at 1.5× what the fleet serves, so that the
//!   backlog grows to thousands: under `fifo` (Kueue's order, a StrictFIFO queue), and under
//!   the default policy (scored order, preemption, burst rules; a BestEffortFIFO queue).

use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{Millis, Policy, Quota, Tier, Time};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::engine::{Engine, EngineOptions};
use sim::fleet::FleetFile;
use sim::rng::Seed;
use sim::workload::synthetic::{generate, SyntheticSpec};
use sim::workload::Workload;
use std::path::Path;
use std::time::Duration;

fn engine(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/fleets/department.yaml");
    let (config, nodes) = match FleetFile::load(&path).and_then(|f| f.resolve(&path)) {
        Ok(resolved) => resolved,
        Err(error) => panic!("bench fleet: {error}"),
    };
    // One job every 200 s keeps the 56 GPUs at about 70% load (see `sim::sweep`).
    let jobs = generate(
        &SyntheticSpec {
            jobs: 2_000,
            mean_interarrival: alloc_core::Millis::seconds(200),
            ..SyntheticSpec::default()
        },
        Seed(1),
    );
    let policy = alloc_core::Policy::preset("default").unwrap_or_default();
    let run = (config, policy);
    bench_replay(
        c,
        "department_2000_jobs",
        run,
        nodes,
        jobs,
        Duration::from_secs(10),
    );
}

/// Times whole replays of `jobs` on `nodes` (a fresh engine per sample, built untimed), with
/// throughput in events; prints what one replay was, for the figures in benches/README.md.
fn bench_replay(
    c: &mut Criterion,
    name: &str,
    (config, policy): (alloc_core::Config, Policy),
    nodes: Vec<alloc_core::NodeSpec>,
    jobs: Vec<alloc_core::Job>,
    measurement: Duration,
) {
    let build = || match Engine::new(
        config.clone(),
        policy.clone(),
        nodes.clone(),
        Workload::batch(jobs.clone()),
        EngineOptions::default(),
    ) {
        Ok(engine) => engine,
        Err(error) => panic!("bench engine: {error}"),
    };
    let output = match build().run(|_, _| {}) {
        Ok(output) => output,
        Err(error) => panic!("bench engine: {error}"),
    };
    let finished = output
        .records
        .iter()
        .filter(|r| r.outcome == sim::record::jobs::Outcome::Finished)
        .count();
    let backlog = output.samples.iter().map(|s| s.pending).max().unwrap_or(0);
    eprintln!(
        "{name}: {} events, {finished} of {} jobs finished, backlog up to {backlog}",
        output.events,
        jobs.len()
    );
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.measurement_time(measurement);
    group.throughput(Throughput::Elements(output.events));
    group.bench_function(name, |b| {
        b.iter_batched(build, |engine| engine.run(|_, _| {}), BatchSize::LargeInput)
    });
    group.finish();
}

/// Philly-like jobs: mostly one GPU, a tail up to 16 spanning nodes; log-uniform runtimes
/// from a minute to two days; arrivals spaced so that the fleet is offered 1.5× its GPU-time.
fn saturating_jobs(count: u64, gpus: u64) -> Vec<alloc_core::Job> {
    let mut rng = ChaCha8Rng::seed_from_u64(benches::SEED);
    let mut specs: Vec<(u32, u64)> = (0..count)
        .map(|_| {
            let size = [1, 1, 1, 1, 1, 1, 1, 2, 2, 4, 8, 16][rng.gen_range(0..12)];
            let minutes = (rng.gen_range(0.0f64..(2.0 * 24.0 * 60.0f64).ln())).exp();
            (size, (minutes * 60_000.0) as u64)
        })
        .collect();
    let work: u64 = specs.iter().map(|(size, ms)| u64::from(*size) * ms).sum();
    let span = work * 2 / (3 * gpus);
    let mut now = 0;
    specs
        .drain(..)
        .enumerate()
        .map(|(index, (size, runtime))| {
            now += rng.gen_range(0..=2 * span / count);
            let job = JobBuilder::gpus(size)
                .id(index as u64 + 1)
                .queue("q")
                .tier(Tier::Bronze)
                .submitted(Time(now))
                .runtime(Millis(runtime.max(60_000)));
            // distributed jobs span the two-GPU nodes, as Philly's did
            match size > 2 {
                true => job.spread().build(),
                false => job.build(),
            }
        })
        .collect()
}

fn saturated(c: &mut Criterion) {
    let (nodes, gpus_per_node) = (224u32, 2u32);
    let gpus = u64::from(nodes * gpus_per_node);
    let config = |strict: bool| {
        let config = ConfigBuilder::new()
            .private_flavor("philly", Tier::Bronze)
            .queue("q", &[("philly", Quota::nominal(gpus * 1000))]);
        match strict {
            true => config.strict_fifo().build(),
            false => config.build(),
        }
    };
    let fleet: Vec<_> = (0..nodes)
        .map(|node| NodeBuilder::new(&format!("node-{node}"), "philly", gpus_per_node).build())
        .collect();
    let jobs = saturating_jobs(20_000, gpus);
    let runs = [
        (
            "saturated_strict_fifo_448_gpus_20000_jobs",
            (config(true), Policy::default()),
        ),
        (
            "saturated_default_policy_448_gpus_20000_jobs",
            (config(false), Policy::preset("default").unwrap_or_default()),
        ),
    ];
    for (name, run) in runs {
        let (fleet, jobs) = (fleet.clone(), jobs.clone());
        bench_replay(c, name, run, fleet, jobs, Duration::from_secs(20));
    }
}

criterion_group!(benches, engine, saturated);
criterion_main!(benches);
