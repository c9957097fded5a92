//! Seeded inputs for the criterion benchmarks in `benches/`: fleets shaped like Alibaba's openb
//! cluster (nodes of 8 GPUs of mixed models) and workloads of whole-GPU and MPS-fraction jobs,
//! built with alloc-core's `testing` builders and public API only. The same seed always gives
//! the same scheduler, so figures are comparable between runs and machines.

use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    Config, Decision, FlavorName, GpuModel, GpuModelName, Input, Job, Millis, Policy, Quota,
    Scheduler, Tier, Time, VramMib,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The seed every benchmark starts from.
pub const SEED: u64 = 6;

/// The openb fleet's GPU count (Alibaba cluster-trace-gpu-v2023, `openb_node_list_gpu_node`).
pub const OPENB_GPUS: u32 = 6_212;

/// Queues, all in one cohort, each with an even share of every flavor's quota.
pub const QUEUES: [&str; 4] = ["lab-a", "lab-b", "lab-c", "lab-d"];

/// GPU models with their share of the fleet's nodes (per mille), tier and speed, roughly as
/// openb's node list mixes them: mostly older cards, a tail of newer ones.
const MODELS: [(&str, u32, Tier, u32, u64); 6] = [
    ("G2", 420, Tier::Bronze, 800, 16_384),
    ("T4", 180, Tier::Bronze, 600, 16_384),
    ("P100", 80, Tier::Bronze, 500, 16_384),
    ("V100M16", 150, Tier::Silver, 1000, 16_384),
    ("V100M32", 100, Tier::Silver, 1000, 32_768),
    ("A10", 70, Tier::Gold, 1300, 24_576),
];

/// How a fleet's nodes are built.
pub const GPUS_PER_NODE: u32 = 8;

/// The flavor (one per model) a node of `model` belongs to.
pub fn flavor_of(model: &str) -> String {
    model.to_lowercase()
}

/// A department-style configuration for a fleet of `gpus` GPUs: one private flavor per GPU
/// model (declaring its model, as the bundled fleets do), four queues in a cohort whose
/// nominal quotas add up to the fleet, and one public A100 offer to burst to.
pub fn config(gpus: u32) -> Config {
    let mut builder = ConfigBuilder::new();
    for (name, _, tier, speed, vram) in MODELS {
        builder = builder
            .gpu_model(GpuModel {
                name: GpuModelName::new(name),
                vram: VramMib(vram),
                speed_permille: speed,
                max_mps_clients: 48,
            })
            .private_flavor(&flavor_of(name), tier);
    }
    builder = builder.offer("cloud-a100", Tier::Gold, "A100", 3, 5, 64);
    for queue in QUEUES {
        let quotas: Vec<(String, Quota)> = MODELS
            .iter()
            .map(|(name, share, ..)| {
                let flavor_gpus = u64::from(gpus) * u64::from(*share) / 1000;
                let nominal = flavor_gpus * 1000 / QUEUES.len() as u64;
                (flavor_of(name), Quota::nominal(nominal.max(1000)))
            })
            .chain([("cloud-a100".to_string(), Quota::nominal(64_000))])
            .collect();
        let quotas: Vec<(&str, Quota)> = quotas.iter().map(|(f, q)| (f.as_str(), *q)).collect();
        builder = builder.queue_in_cohort(queue, "department", &quotas);
    }
    let mut config = builder.build();
    for (name, ..) in MODELS {
        if let Some(flavor) = config.flavors.get_mut(&FlavorName::new(flavor_of(name))) {
            flavor.gpu_model = Some(GpuModelName::new(name));
        }
    }
    config
}

/// A scheduler under `policy` with `gpus` GPUs in nodes of 8 (the last node takes the
/// remainder), node models drawn by their openb shares.
pub fn fleet(gpus: u32, policy: Policy, rng: &mut ChaCha8Rng) -> Scheduler {
    let mut scheduler = match Scheduler::new(config(gpus), policy) {
        Ok(scheduler) => scheduler,
        Err(error) => panic!("bench config is invalid: {error}"),
    };
    let total: u32 = MODELS.iter().map(|m| m.1).sum();
    let mut left = gpus;
    let mut index = 0;
    while left > 0 {
        let size = left.min(GPUS_PER_NODE);
        let mut draw = rng.gen_range(0..total);
        let model = MODELS
            .iter()
            .find(|m| {
                let found = draw < m.1;
                draw = draw.saturating_sub(m.1);
                found
            })
            .map_or("G2", |m| m.0);
        let node = NodeBuilder::new(&format!("node-{index:05}"), &flavor_of(model), size)
            .model(model)
            .cpu(96_000)
            .memory(768 * 1024)
            .build();
        apply(&mut scheduler, Input::NodeAdded(node));
        left -= size;
        index += 1;
    }
    scheduler
}

/// A job as openb's pods ask: mostly one GPU or a fraction of one, some 2–8 GPUs; a tier
/// drawn to match the fleet; priorities 0–2; a third with a deadline; all burstable.
pub fn job(id: u64, submitted: Time, rng: &mut ChaCha8Rng) -> Job {
    let builder = match rng.gen_range(0..100) {
        0..=39 => JobBuilder::fraction(
            [100, 250, 500, 750][rng.gen_range(0..4)],
            [2048, 4096, 8192][rng.gen_range(0..3)],
        ),
        40..=84 => JobBuilder::gpus(1),
        85..=94 => JobBuilder::gpus(2),
        95..=98 => JobBuilder::gpus(4),
        _ => JobBuilder::gpus(8),
    };
    let tier = match rng.gen_range(0..100) {
        0..=64 => Tier::Bronze,
        65..=89 => Tier::Silver,
        _ => Tier::Gold,
    };
    let queue = QUEUES[rng.gen_range(0..QUEUES.len())];
    let runtime = Millis::minutes(rng.gen_range(10..600));
    let mut builder = builder
        .id(id)
        .queue(queue)
        .user(&format!("{queue}-user-{}", rng.gen_range(0..8)), queue)
        .tier(tier)
        .priority(rng.gen_range(0..3))
        .cpu([2000, 4000, 8000][rng.gen_range(0..3)])
        .memory([8192, 16_384, 32_768][rng.gen_range(0..3)])
        .runtime(runtime)
        .submitted(submitted)
        .burstable();
    if rng.gen_range(0..3) == 0 {
        builder = builder.deadline(submitted + runtime + Millis::hours(rng.gen_range(1..24)));
    }
    builder.build()
}

/// A scheduler in steady state under a deep backlog: a fleet of `gpus` GPUs filled by one
/// cycle at time 0 with jobs asking for 90% of it, then jobs submitted over the next hour until
/// `pending` wait, and one cycle run at `now` (which admits, preempts and bursts what it can).
/// Returns the scheduler and the time of the next cycle, one second later: that cycle finds
/// the state as the previous one left it, as most cycles of a long replay do.
pub fn backlog(gpus: u32, pending: usize, policy: Policy, seed: u64) -> (Scheduler, Time) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut scheduler = fleet(gpus, policy, &mut rng);
    let mut id = 0;
    let mut asked = 0;
    while asked < u64::from(gpus) * 900 {
        id += 1;
        let job = job(id, Time::ZERO, &mut rng);
        asked += job.gpu.milli().0;
        apply(&mut scheduler, Input::JobSubmitted(job));
    }
    let changes = scheduler.cycle(Time::ZERO).changes;
    stop_victims(&mut scheduler, &changes);
    let hour = Millis::hours(1).0;
    let more = pending.saturating_sub(scheduler.pending_count()) as u64;
    for offset in 0..more {
        id += 1;
        let submitted = Time(hour * offset / more.max(1));
        apply(
            &mut scheduler,
            Input::JobSubmitted(job(id, submitted, &mut rng)),
        );
    }
    let changes = scheduler.cycle(Time(hour)).changes;
    stop_victims(&mut scheduler, &changes);
    (scheduler, Time(hour + 1000))
}

/// The shell's part of a preemption: its victims stop before the next cycle.
fn stop_victims(scheduler: &mut Scheduler, changes: &[Decision]) {
    for decision in changes {
        if let Decision::Preempt { victims, .. } = decision {
            for victim in victims {
                apply(scheduler, Input::JobRequeued(*victim));
            }
        }
    }
}

/// Cycles a [`backlog`] one second apart until one admits, preempts and rejects nothing (at
/// most `MAX_SETTLING` cycles), then lets one running job finish: the state a live
/// controller's next cycle meets after a single event. Returns the scheduler and the time of
/// that cycle, one second after the last.
pub fn settled(gpus: u32, pending: usize, policy: Policy, seed: u64) -> (Scheduler, Time) {
    const MAX_SETTLING: usize = 20;
    let (mut scheduler, mut now) = backlog(gpus, pending, policy, seed);
    for _ in 0..MAX_SETTLING {
        let changes = scheduler.cycle(now).changes;
        now = now + Millis(1000);
        if changes.iter().all(|d| matches!(d, Decision::Wait { .. })) {
            break;
        }
        stop_victims(&mut scheduler, &changes);
    }
    let finished = scheduler
        .running()
        .filter(|running| running.placement.public.is_none())
        .map(|running| running.job.id)
        .min();
    if let Some(job) = finished {
        apply(&mut scheduler, Input::JobFinished(job));
    }
    (scheduler, now)
}

/// Applies an input the fixtures built; they never build a bad one.
pub fn apply(scheduler: &mut Scheduler, input: Input) {
    if let Err(error) = scheduler.apply(input) {
        panic!("bench input refused: {error}");
    }
}

/// The flavor with the most nodes in `scheduler`'s fleet.
pub fn largest_flavor(scheduler: &Scheduler) -> FlavorName {
    let fleet = &scheduler.ledgers().fleet;
    fleet
        .flavors()
        .max_by_key(|name| (fleet.count_of(name), std::cmp::Reverse(*name)))
        .map_or_else(|| FlavorName::new("g2"), |name| name.clone())
}
