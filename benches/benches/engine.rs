//! Engine event throughput: a seeded synthetic 2,000-job workload (the department job mix)
//! replayed on the bundled department fleet under the default policy, end to end — events
//! popped, cycles run, decisions applied, records kept. Throughput is in events.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
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
    let events = match build().run(|_, _| {}) {
        Ok(output) => output.events,
        Err(error) => panic!("bench engine: {error}"),
    };
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(events));
    group.bench_function("department_2000_jobs", |b| {
        b.iter_batched(build, |engine| engine.run(|_, _| {}), BatchSize::LargeInput)
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
