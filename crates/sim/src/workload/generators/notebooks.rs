//! Notebook sessions: who opens one, what each cell asks for, and the rhythm of think time and
//! compute inside it. Think times are log-normal with a heavy tail (a coffee, a meeting);
//! compute is short with a tail of several minutes (a small training loop in a cell).

use super::batch::{data_class, log_normal, NOTEBOOK_PRIORITY};
use super::calendar::MINUTE;
use super::people::Who;
use crate::workload::{Cell, Session};
use alloc_core::{
    Budget, CpuMilli, GpuRequest, Job, JobId, MemMib, MilliGpu, Millis, Tier, Time, VramMib,
};
use rand::Rng;

/// The rhythm inside a session, in seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CellShape {
    pub think_median: f64,
    pub think_sigma: f64,
    pub think_max: f64,
    pub compute_median: f64,
    pub compute_sigma: f64,
    pub compute_max: f64,
}

/// Researchers: ~2.5 min between cells (p99 ~25 min), ~40 s of compute (p99 ~8 min).
pub(crate) const RESEARCH: CellShape = CellShape {
    think_median: 150.0,
    think_sigma: 1.0,
    think_max: 45.0 * 60.0,
    compute_median: 40.0,
    compute_sigma: 1.1,
    compute_max: 15.0 * 60.0,
};

/// A lab class: students follow exercises, so cells come quicker and compute less.
pub(crate) const CLASS: CellShape = CellShape {
    think_median: 90.0,
    think_sigma: 0.8,
    think_max: 20.0 * 60.0,
    compute_median: 20.0,
    compute_sigma: 0.9,
    compute_max: 5.0 * 60.0,
};

/// Shares of quarter-GPU and half-GPU MPS requests; the rest ask for a whole GPU.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestMix {
    pub quarter: f64,
    pub half: f64,
}

pub(crate) const RESEARCH_MIX: RequestMix = RequestMix {
    quarter: 0.6,
    half: 0.25,
};

pub(crate) const CLASS_MIX: RequestMix = RequestMix {
    quarter: 0.8,
    half: 0.2,
};

/// What every cell of a session asks for. Fractions carry 16 MiB of VRAM per milli-GPU, so
/// a quarter GPU gets ~4 GiB, enough for a small model on any private card.
pub(crate) fn template<R: Rng>(
    rng: &mut R,
    who: &Who,
    mix: RequestMix,
    sensitive_share: f64,
) -> Job {
    let roll: f64 = rng.gen();
    let (gpu, cpu, memory) = if roll < mix.quarter + mix.half {
        let milli = if roll < mix.quarter { 250 } else { 500 };
        let gpu = GpuRequest::Fraction {
            milli: MilliGpu(milli),
            vram: VramMib(milli * 16),
        };
        (gpu, 2000, 8192)
    } else {
        let gpu = GpuRequest::Whole {
            count: 1,
            min_vram: VramMib::ZERO,
        };
        (gpu, 4000, 16_384)
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
        priority: NOTEBOOK_PRIORITY,
        runtime: Millis::ZERO,
        deadline: None,
        // Nobody waits five minutes for a cloud node to run a 40-second cell.
        budget: Budget::default(),
        burstable: false,
        data_class: data_class(rng, sensitive_share),
        checkpoint_interval: None,
        restore_cost: Millis::ZERO,
        submit_time: Time::ZERO,
    }
}

/// A researcher's session length: median 75 min, between 30 min and 3 h.
pub(crate) fn research_length<R: Rng>(rng: &mut R) -> f64 {
    (log_normal(rng, 75.0, 0.6) * MINUTE).clamp(30.0 * MINUTE, 180.0 * MINUTE)
}

fn seconds<R: Rng>(rng: &mut R, median: f64, sigma: f64, min: f64, max: f64) -> Millis {
    Millis((log_normal(rng, median, sigma).clamp(min, max) * 1000.0) as u64)
}

/// A session opened at `opened` (ms) whose user keeps running cells for about `length` (ms).
/// Ids are placeholders until the workload is assembled.
pub(crate) fn session<R: Rng>(
    rng: &mut R,
    template: Job,
    opened: f64,
    length: f64,
    shape: &CellShape,
) -> Session {
    let mut cells = Vec::new();
    let mut elapsed = 0u64;
    // Every session runs at least one cell: opening a notebook and leaving is not GPU demand.
    while cells.is_empty() || (elapsed as f64) < length {
        let think = seconds(
            rng,
            shape.think_median,
            shape.think_sigma,
            5.0,
            shape.think_max,
        );
        let compute = seconds(
            rng,
            shape.compute_median,
            shape.compute_sigma,
            2.0,
            shape.compute_max,
        );
        elapsed += think.0 + compute.0;
        cells.push(Cell { think, compute });
    }
    let close_after = seconds(
        rng,
        shape.think_median,
        shape.think_sigma,
        5.0,
        shape.think_max,
    );
    Session {
        id: 0,
        template,
        opened: Time(opened as u64),
        cells,
        close_after,
        first_cell_id: JobId(0),
    }
}
