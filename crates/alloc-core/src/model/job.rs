use crate::ids::{FlavorName, GpuModelName, JobId, LocalQueueName, TenantName, UserName};
use crate::model::{ResourceAmounts, Tier};
use crate::units::{CpuMilli, MemMib, MilliGpu, Millis, Money, Time, VramMib};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// What a job asks of GPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GpuRequest {
    /// CPU-only work.
    None,
    /// `count` whole GPUs, each with at least `min_vram`.
    Whole {
        /// GPUs wanted.
        count: u32,
        /// The least VRAM each must have.
        min_vram: VramMib,
    },
    /// A share of one GPU through CUDA MPS: `milli` of its compute (1..1000) and `vram`.
    Fraction {
        /// Compute share.
        milli: MilliGpu,
        /// VRAM reserved on the GPU.
        vram: VramMib,
    },
}

impl GpuRequest {
    /// Milli-GPU charged against quota and limits.
    pub fn milli(&self) -> MilliGpu {
        match *self {
            GpuRequest::None => MilliGpu::ZERO,
            GpuRequest::Whole { count, .. } => MilliGpu::whole(u64::from(count)),
            GpuRequest::Fraction { milli, .. } => milli,
        }
    }
}

impl fmt::Display for GpuRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuRequest::None => f.write_str("no GPU"),
            GpuRequest::Whole { count: 1, .. } => f.write_str("1 GPU"),
            GpuRequest::Whole { count, .. } => write!(f, "{count} GPUs"),
            GpuRequest::Fraction { milli, vram } => {
                write!(
                    f,
                    "{}.{:03} GPU with {} MiB VRAM",
                    milli.0 / 1000,
                    milli.0 % 1000,
                    vram.0
                )
            }
        }
    }
}

/// Whether a job's public budget is a hard limit or a target.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum BudgetKind {
    /// The limit is hard: the job never spends more.
    Fixed,
    /// The limit is a target the platform may exceed within the policy's flex cap.
    #[default]
    Flex,
}

/// How much a job may spend on public GPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Hard or flexible; only a flexible budget is spent on bursts.
    pub kind: BudgetKind,
    /// `None` = no limit.
    pub limit: Option<Money>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            kind: BudgetKind::Flex,
            limit: None,
        }
    }
}

/// How sensitive a job's data is. Sensitive data never leaves the private fleet.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DataClass {
    /// Data anyone may see; may burst.
    Public,
    /// The department's own data, the default; may burst.
    #[default]
    Internal,
    /// Data that must stay on the private fleet: never bursts.
    Sensitive,
}

/// A unit of GPU work as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Unique among the jobs a scheduler holds; the last tie-break of every order.
    pub id: JobId,
    /// The LocalQueue it is submitted to.
    pub queue: LocalQueueName,
    /// The tenant billed and capped for it.
    pub tenant: TenantName,
    /// The user capped for it.
    pub user: UserName,
    /// What it asks of GPUs.
    pub gpu: GpuRequest,
    /// Whole-GPU jobs only: may the GPUs come from several nodes?
    #[serde(default)]
    pub spread: bool,
    /// CPU it asks for, in all.
    pub cpu: CpuMilli,
    /// Host memory it asks for, in all.
    pub memory: MemMib,
    /// The lowest tier it may run on.
    #[serde(default)]
    pub min_tier: Tier,
    /// May the job run on a higher tier than it asked for?
    #[serde(default)]
    pub allow_upgrade: bool,
    /// Flavors the job accepts; `None` = any flavor of a matching tier.
    #[serde(default)]
    pub allowed_flavors: Option<BTreeSet<FlavorName>>,
    /// GPU models the job accepts; `None` = any.
    #[serde(default)]
    pub gpu_models: Option<BTreeSet<GpuModelName>>,
    /// Higher goes first, and may preempt lower where the queue allows.
    #[serde(default)]
    pub priority: i32,
    /// Estimated runtime on the reference GPU.
    pub runtime: Millis,
    /// When it should be done; a job that could not meet it even if started now is rejected.
    #[serde(default)]
    pub deadline: Option<Time>,
    /// What it may spend on public GPUs.
    #[serde(default)]
    pub budget: Budget,
    /// Whether it asked to be run on public GPUs when the private fleet cannot take it.
    #[serde(default)]
    pub burstable: bool,
    /// How far its data may travel.
    #[serde(default)]
    pub data_class: DataClass,
    /// How often the job checkpoints; `None` = never (preemption loses everything).
    #[serde(default)]
    pub checkpoint_interval: Option<Millis>,
    /// Time to restore from a checkpoint after preemption.
    #[serde(default)]
    pub restore_cost: Millis,
    /// When it entered its queue: the tie-break after priority, and kept across requeues.
    pub submit_time: Time,
}

impl Job {
    /// What the job charges against quota on whichever flavor it lands.
    pub fn quota_usage(&self) -> ResourceAmounts {
        ResourceAmounts {
            gpu: self.gpu.milli().0,
            cpu: self.cpu.0,
            memory: self.memory.0,
        }
    }

    /// Whether it may run on GPUs of `model`. `None`, no GPUs, suits any job that names no
    /// models, and only a CPU-only one that does.
    pub fn accepts_model(&self, model: Option<&GpuModelName>) -> bool {
        match (&self.gpu_models, model) {
            (None, _) => true,
            (Some(models), Some(model)) => models.contains(model),
            (Some(_), None) => matches!(self.gpu, GpuRequest::None),
        }
    }
}
