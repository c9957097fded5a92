//! Batch jobs: training runs, hyper-parameter sweeps and the deadline-driven runs of main
//! authors before a conference. Each function draws one job (or one sweep) for a given user
//! and submit instant; when and by whom is the caller's business.

use super::calendar::{HOUR, MINUTE};
use super::people::Who;
use alloc_core::{
    Budget, BudgetKind, CpuMilli, DataClass, GpuRequest, Job, JobId, MemMib, MilliGpu, Millis,
    Money, Tier, Time, VramMib,
};
use rand::Rng;
use rand_distr::{Distribution, LogNormal, Normal};

/// Priorities within a lab's queue: people wait on notebooks; paper runs before a deadline
/// outrank routine training; sweeps fill what is left.
pub(crate) const NOTEBOOK_PRIORITY: i32 = 50;
pub(crate) const PAPER_PRIORITY: i32 = 10;
pub(crate) const TRAINING_PRIORITY: i32 = 0;
pub(crate) const SWEEP_PRIORITY: i32 = -10;

/// What every batch job shares: how sensitive the data is and how budgets are sized.
#[derive(Debug, Clone)]
pub(crate) struct Style {
    pub sensitive_share: f64,
    /// The cloud price budgets are sized against (an A100 hour).
    pub price_per_gpu_hour: Money,
    /// Share of budgets set below the cost of running in the cloud at all.
    pub small_budget_share: f64,
}

/// A training run's length: log-normal around `median_hours`, capped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Training {
    pub median_hours: f64,
    pub sigma: f64,
    pub cap_hours: f64,
    /// Share of runs with a deadline (a demo, a review, a shared slot).
    pub deadline_share: f64,
}

/// A term's training runs: median 5 h, about one in ten over a day, capped at three days.
pub(crate) const TERM_TRAINING: Training = Training {
    median_hours: 5.0,
    sigma: 1.1,
    cap_hours: 72.0,
    deadline_share: 0.15,
};

/// A log-normal draw with the given median; `sigma` is the spread of its logarithm.
pub(crate) fn log_normal<R: Rng>(rng: &mut R, median: f64, sigma: f64) -> f64 {
    // Only the generators' own constants reach here (median > 0, sigma > 0), so the fallback
    // to the median is never taken; it keeps the draw total.
    LogNormal::new(median.ln(), sigma).map_or(median, |d| d.sample(rng))
}

pub(crate) fn data_class<R: Rng>(rng: &mut R, sensitive_share: f64) -> DataClass {
    if rng.gen_bool(sensitive_share) {
        DataClass::Sensitive
    } else {
        DataClass::Internal
    }
}

/// 1, 2, 4 or 8 GPUs in proportions 45 : 20 : 25 : 10.
fn gpu_count<R: Rng>(rng: &mut R) -> u32 {
    match rng.gen_range(0..100) {
        0..=44 => 1,
        45..=64 => 2,
        65..=89 => 4,
        _ => 8,
    }
}

/// Big runs ask for better GPUs more often (memory, interconnect, speed).
fn tier_for<R: Rng>(rng: &mut R, gpus: u32) -> Tier {
    let (bronze, silver) = match gpus {
        1 => (50, 85),
        2 => (35, 75),
        4 => (20, 65),
        _ => (10, 50),
    };
    match rng.gen_range(0..100) {
        roll if roll < bronze => Tier::Bronze,
        roll if roll < silver => Tier::Silver,
        _ => Tier::Gold,
    }
}

fn budget<R: Rng>(
    rng: &mut R,
    style: &Style,
    gpu: MilliGpu,
    runtime: Millis,
    flex_share: f64,
) -> Budget {
    let full = Money::for_gpu_time(style.price_per_gpu_hour, gpu, runtime);
    let permille: i64 = if rng.gen_bool(style.small_budget_share) {
        rng.gen_range(50..=300)
    } else {
        rng.gen_range(1000..=3000)
    };
    Budget {
        kind: if rng.gen_bool(flex_share) {
            BudgetKind::Flex
        } else {
            BudgetKind::Fixed
        },
        limit: Some(Money(full.0.saturating_mul(permille) / 1000)),
    }
}

/// A job with the fields every kind shares; callers set the rest.
fn base(who: &Who, gpu: GpuRequest, runtime: Millis, submit: f64) -> Job {
    let (cpu, memory) = match gpu {
        GpuRequest::Whole { count, .. } => (4000 * u64::from(count), 16_384 * u64::from(count)),
        _ => (2000, 8192),
    };
    Job {
        id: JobId(0),
        queue: who.queue.clone(),
        tenant: who.tenant.clone(),
        user: who.user.clone(),
        gpu,
        spread: false,
        cpu: CpuMilli(cpu),
        memory: MemMib(memory),
        min_tier: Tier::Bronze,
        allow_upgrade: true,
        allowed_flavors: None,
        gpu_models: None,
        priority: TRAINING_PRIORITY,
        runtime,
        deadline: None,
        budget: Budget::default(),
        burstable: false,
        data_class: DataClass::Internal,
        checkpoint_interval: None,
        restore_cost: Millis::ZERO,
        submit_time: Time(submit as u64),
    }
}

fn whole(count: u32) -> GpuRequest {
    GpuRequest::Whole {
        count,
        min_vram: VramMib::ZERO,
    }
}

fn minutes<R: Rng>(rng: &mut R, low: u64, high: u64) -> Millis {
    Millis::minutes(rng.gen_range(low..=high))
}

/// Sensitive data stays private because of its data class, not because the user declined to
/// burst: the flag is drawn independently so the platform's rule is what keeps it home.
pub(crate) fn training<R: Rng>(
    rng: &mut R,
    style: &Style,
    who: &Who,
    submit: f64,
    shape: &Training,
) -> Job {
    let gpus = gpu_count(rng);
    let hours = log_normal(rng, shape.median_hours, shape.sigma).clamp(1.0 / 6.0, shape.cap_hours);
    let runtime = Millis((hours * HOUR) as u64);
    let mut job = base(who, whole(gpus), runtime, submit);
    job.min_tier = tier_for(rng, gpus);
    job.allow_upgrade = rng.gen_bool(0.6);
    job.spread = gpus >= 4 && rng.gen_bool(0.3);
    if rng.gen_bool(shape.deadline_share) {
        let margin = rng.gen_range(1.5..4.0);
        job.deadline = Some(job.submit_time + Millis((runtime.0 as f64 * margin) as u64));
    }
    job.budget = budget(rng, style, job.gpu.milli(), runtime, 0.5);
    job.burstable = rng.gen_bool(0.5);
    job.data_class = data_class(rng, style.sensitive_share);
    job.checkpoint_interval = Some(minutes(rng, 30, 60));
    job.restore_cost = minutes(rng, 2, 5);
    job
}

/// 20–100 short jobs of one shape (one GPU or half of one), submitted seconds apart.
pub(crate) fn sweep<R: Rng>(rng: &mut R, style: &Style, who: &Who, start: f64) -> Vec<Job> {
    let size = rng.gen_range(20..=100);
    let gpu = if rng.gen_bool(0.5) {
        whole(1)
    } else {
        GpuRequest::Fraction {
            milli: MilliGpu(500),
            vram: VramMib(500 * 16),
        }
    };
    let typical = rng.gen_range(10.0..60.0) * MINUTE;
    let spread = Normal::new(1.0, 0.15).ok();
    let data = data_class(rng, style.sensitive_share);
    let mut submit = start;
    let mut jobs = Vec::with_capacity(size);
    for _ in 0..size {
        let jitter = spread.map_or(1.0, |d| d.sample(rng));
        let runtime = Millis((typical * jitter).clamp(10.0 * MINUTE, 60.0 * MINUTE) as u64);
        let mut job = base(who, gpu, runtime, submit);
        job.priority = SWEEP_PRIORITY;
        job.budget = budget(rng, style, gpu.milli(), runtime, 1.0);
        job.burstable = rng.gen_bool(0.9);
        job.data_class = data;
        jobs.push(job);
        submit += rng.gen_range(1.0..10.0) * 1000.0;
    }
    jobs
}

/// A main author's run before a conference deadline. `urgent` runs tolerate at most an hour
/// of delay; the rest can wait 6–48 h. No deadline falls after `latest` (the conference
/// deadline plus slack); near it, authors shorten their runs to fit.
pub(crate) fn paper<R: Rng>(
    rng: &mut R,
    style: &Style,
    who: &Who,
    submit: f64,
    latest: f64,
    urgent_share: f64,
) -> Job {
    let urgent = rng.gen_bool(urgent_share);
    let gpus = gpu_count(rng);
    let mut runtime = (log_normal(rng, 5.0, 0.8) * HOUR).clamp(10.0 * MINUTE, 24.0 * HOUR);
    let mut extra = if urgent {
        rng.gen_range(5.0..=60.0) * MINUTE
    } else {
        rng.gen_range(6.0..=48.0) * HOUR
    };
    let remaining = (latest - submit).max(2.0 * MINUTE);
    if runtime + extra > remaining {
        if remaining - extra >= 10.0 * MINUTE {
            runtime = remaining - extra;
        } else {
            runtime = runtime.min(remaining / 2.0);
            extra = remaining - runtime;
        }
    }
    let runtime = Millis(runtime as u64);
    let mut job = base(who, whole(gpus), runtime, submit);
    job.priority = PAPER_PRIORITY;
    job.min_tier = tier_for(rng, gpus);
    job.allow_upgrade = rng.gen_bool(if urgent { 0.8 } else { 0.5 });
    job.spread = gpus >= 4 && rng.gen_bool(0.3);
    job.deadline = Some(job.submit_time + runtime + Millis(extra as u64));
    let flex = if urgent { 0.8 } else { 0.4 };
    job.budget = budget(rng, style, job.gpu.milli(), runtime, flex);
    job.burstable = rng.gen_bool(if urgent { 0.9 } else { 0.5 });
    job.data_class = data_class(rng, style.sensitive_share);
    job.checkpoint_interval = Some(minutes(rng, 30, 60));
    job.restore_cost = minutes(rng, 2, 5);
    job
}
