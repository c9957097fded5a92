//! Native trace rows ⇄ alloc-core jobs. The trace layer knows CSV; this knows the model.

use crate::error::Result;
use crate::trace::native::{self, TraceJob};
use crate::trace::{BudgetKind as TraceBudget, DataClass as TraceData, Tier as TraceTier};
use alloc_core::{
    Budget, BudgetKind, CpuMilli, DataClass, GpuModelName, GpuRequest, Job, JobId, LocalQueueName,
    MemMib, MilliGpu, Millis, Money, TenantName, Tier, Time, UserName, VramMib,
};
use std::collections::BTreeSet;
use std::path::Path;

/// Jobs read from a native trace, and how many rows were skipped.
pub struct ReadJobs {
    pub jobs: Vec<Job>,
    pub skipped: u64,
}

pub fn read_jobs(path: &Path, skip_bad_rows: bool) -> Result<ReadJobs> {
    let report = native::read_native(path, skip_bad_rows)?;
    let skipped = report.skipped.len() as u64;
    Ok(ReadJobs {
        jobs: to_jobs(&report.jobs),
        skipped,
    })
}

pub fn write_jobs(path: &Path, jobs: &[Job]) -> Result<()> {
    let rows: Vec<TraceJob> = jobs.iter().map(to_row).collect();
    native::write_native(path, &rows)
}

/// Jobs of trace rows, sharing one value per distinct queue, tenant, user and GPU model name.
pub fn to_jobs(rows: &[TraceJob]) -> Vec<Job> {
    let mut names = Names::default();
    rows.iter()
        .map(|row| {
            let mut job = to_job(row);
            job.queue = names.queues.share(job.queue);
            job.tenant = names.tenants.share(job.tenant);
            job.user = names.users.share(job.user);
            job.gpu_models = job
                .gpu_models
                .map(|models| models.into_iter().map(|m| names.models.share(m)).collect());
            job
        })
        .collect()
}

#[derive(Default)]
struct Names {
    queues: Shared<LocalQueueName>,
    tenants: Shared<TenantName>,
    users: Shared<UserName>,
    models: Shared<GpuModelName>,
}

/// The first value seen of each name, handed out for every later equal one.
struct Shared<T>(BTreeSet<T>);

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared(BTreeSet::new())
    }
}

impl<T: Ord + Clone> Shared<T> {
    fn share(&mut self, name: T) -> T {
        match self.0.get(&name) {
            Some(known) => known.clone(),
            None => {
                self.0.insert(name.clone());
                name
            }
        }
    }
}

pub fn to_job(row: &TraceJob) -> Job {
    let gpu = match (row.gpus, row.gpu_milli) {
        (0, _) => GpuRequest::None,
        (1, milli) if milli < 1000 => GpuRequest::Fraction {
            milli: MilliGpu(u64::from(milli)),
            vram: VramMib(row.vram_mib),
        },
        (count, _) => GpuRequest::Whole {
            count,
            min_vram: VramMib(row.vram_mib),
        },
    };
    Job {
        id: JobId(row.job_id),
        queue: LocalQueueName::new(row.queue.as_str()),
        tenant: TenantName::new(row.tenant.as_str()),
        user: UserName::new(row.user.as_str()),
        gpu,
        spread: row.spread,
        cpu: CpuMilli(row.cpu_milli),
        memory: MemMib(row.memory_mib),
        min_tier: match row.min_tier {
            TraceTier::Bronze => Tier::Bronze,
            TraceTier::Silver => Tier::Silver,
            TraceTier::Gold => Tier::Gold,
        },
        allow_upgrade: false,
        allowed_flavors: None,
        gpu_models: (!row.gpu_models.is_empty()).then(|| {
            row.gpu_models
                .iter()
                .map(|m| GpuModelName::new(m.as_str()))
                .collect()
        }),
        priority: row.priority,
        runtime: Millis(row.runtime_ms),
        deadline: row.deadline_ms.map(Time),
        budget: Budget {
            kind: match row.budget_kind {
                TraceBudget::Fixed => BudgetKind::Fixed,
                TraceBudget::Flex => BudgetKind::Flex,
            },
            limit: row.budget.map(Money),
        },
        burstable: row.burstable,
        data_class: match row.data_class {
            TraceData::Public => DataClass::Public,
            TraceData::Internal => DataClass::Internal,
            TraceData::Sensitive => DataClass::Sensitive,
        },
        checkpoint_interval: row.checkpoint_interval_ms.map(Millis),
        restore_cost: Millis(row.restore_ms),
        submit_time: Time(row.submit_ms),
    }
}

pub fn to_row(job: &Job) -> TraceJob {
    let (gpus, gpu_milli, vram_mib) = match job.gpu {
        GpuRequest::None => (0, 1000, 0),
        GpuRequest::Whole { count, min_vram } => (count, 1000, min_vram.0),
        GpuRequest::Fraction { milli, vram } => (1, milli.0 as u32, vram.0),
    };
    TraceJob {
        job_id: job.id.0,
        submit_ms: job.submit_time.0,
        tenant: job.tenant.to_string(),
        user: job.user.to_string(),
        queue: job.queue.to_string(),
        gpus,
        gpu_milli,
        vram_mib,
        spread: job.spread,
        cpu_milli: job.cpu.0,
        memory_mib: job.memory.0,
        gpu_models: job
            .gpu_models
            .iter()
            .flatten()
            .map(|m| m.to_string())
            .collect(),
        min_tier: match job.min_tier {
            Tier::Bronze => TraceTier::Bronze,
            Tier::Silver => TraceTier::Silver,
            Tier::Gold => TraceTier::Gold,
        },
        priority: job.priority,
        runtime_ms: job.runtime.0,
        deadline_ms: job.deadline.map(|t| t.0),
        budget_kind: match job.budget.kind {
            BudgetKind::Fixed => TraceBudget::Fixed,
            BudgetKind::Flex => TraceBudget::Flex,
        },
        budget: job.budget.limit.map(|m| m.0),
        burstable: job.burstable,
        data_class: match job.data_class {
            DataClass::Public => TraceData::Public,
            DataClass::Internal => TraceData::Internal,
            DataClass::Sensitive => TraceData::Sensitive,
        },
        checkpoint_interval_ms: job.checkpoint_interval.map(|m| m.0),
        restore_ms: job.restore_cost.0,
    }
}
