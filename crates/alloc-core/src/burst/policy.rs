//! The burst policy's knobs: when to rent, how long a job waits privately first, how far a
//! flexible budget may stretch.

use super::rescue::Rescue;
use crate::model::{GpuRequest, Job};
use crate::units::{Millis, Money};
use serde::{Deserialize, Serialize};

/// When to burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BurstMode {
    /// Never rent public GPUs.
    #[default]
    Never,
    /// Rent as soon as a job cannot start privately.
    Always,
    /// Rent once the job has waited its threshold.
    Threshold,
}

/// How long a job waits privately before it may burst (Starburst, ATC'24, waiting policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum WaitRule {
    /// The same wait for every job.
    Constant {
        /// The wait.
        wait: Millis,
    },
    /// `permille` ‰ of the job's reference runtime.
    PerRuntime {
        /// The share of the runtime, in ‰.
        permille: u32,
    },
    /// `per_gpu` for each GPU asked for (a fraction counts as one).
    PerGpu {
        /// The wait per GPU.
        per_gpu: Millis,
    },
    /// `permille` ‰ of the job's GPU-time (runtime × GPUs).
    PerGpuHour {
        /// The share of the GPU-time, in ‰.
        permille: u32,
    },
}

impl Default for WaitRule {
    fn default() -> Self {
        WaitRule::Constant {
            wait: Millis::minutes(30),
        }
    }
}

impl WaitRule {
    /// How long `job` waits privately before it may burst, before its deadline shortens it.
    pub fn threshold(&self, job: &Job) -> Millis {
        let gpus = gpus_rented(job);
        match *self {
            WaitRule::Constant { wait } => wait,
            WaitRule::PerRuntime { permille } => {
                Millis(job.runtime.0.saturating_mul(u64::from(permille)) / 1000)
            }
            WaitRule::PerGpu { per_gpu } => Millis(per_gpu.0.saturating_mul(u64::from(gpus))),
            WaitRule::PerGpuHour { permille } => Millis(
                job.runtime
                    .0
                    .saturating_mul(u64::from(gpus))
                    .saturating_mul(u64::from(permille))
                    / 1000,
            ),
        }
    }
}

/// When a job that cannot start privately may rent public GPUs, and how much it may spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstPolicy {
    /// Whether to burst at all, and whether at once or after a wait.
    #[serde(default)]
    pub mode: BurstMode,
    /// How long a job waits privately first, under [`BurstMode::Threshold`].
    #[serde(default)]
    pub wait: WaitRule,
    /// Shrink the wait as the deadline nears, and burst at once when the private prediction
    /// misses the deadline.
    #[serde(default = "yes")]
    pub deadline_aware: bool,
    /// Slack at or above which the full wait applies.
    #[serde(default = "four_hours")]
    pub slack_reference: Millis,
    /// How far above its own limit a `flex` job's expected public cost may go, in percent.
    /// The tenant's `public_budget` has no such give.
    #[serde(default = "twenty_five")]
    pub flex_overrun_percent: u32,
    /// Spend budgets where they save deadlines (`rescue`): a deadline job the private fleet is
    /// predicted to finish late bursts at once onto an offer that meets its deadline, and every
    /// other burst follows the wait rule from the budget above the rescue reserve. `None`: every
    /// burst follows the wait rule from the whole budget.
    #[serde(default)]
    pub rescue: Option<Rescue>,
}

/// Which rule let a job burst: a stable code for records and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BurstCause {
    /// The policy rents as soon as a job cannot start privately.
    PolicyAlways,
    /// The job waited the policy's full threshold.
    #[default]
    WaitedThreshold,
    /// Its deadline shortened the threshold: the private fleet was predicted to finish it
    /// late, or with little slack.
    Deadline,
    /// The private fleet was predicted to miss its deadline and the offer to meet it: the
    /// rescue rule.
    DeadlineRescue,
    /// A deadline job that may not burst waited for one of its private flavors, and it left
    /// them to that job without waiting its threshold: rescue by displacement.
    Displacement,
}

impl BurstCause {
    /// `policy-always`, `waited-threshold`, `deadline`, `deadline-rescue` or `displacement`.
    pub fn code(&self) -> &'static str {
        match self {
            BurstCause::PolicyAlways => "policy-always",
            BurstCause::WaitedThreshold => "waited-threshold",
            BurstCause::Deadline => "deadline",
            BurstCause::DeadlineRescue => "deadline-rescue",
            BurstCause::Displacement => "displacement",
        }
    }
}

fn yes() -> bool {
    true
}
fn four_hours() -> Millis {
    Millis::hours(4)
}
fn twenty_five() -> u32 {
    25
}

impl Default for BurstPolicy {
    fn default() -> Self {
        BurstPolicy {
            mode: BurstMode::Never,
            wait: WaitRule::default(),
            deadline_aware: true,
            slack_reference: four_hours(),
            flex_overrun_percent: twenty_five(),
            rescue: None,
        }
    }
}

impl BurstPolicy {
    /// Whether the cycle gathers the queue ahead of each waiting job (`Ahead`): under a rescue
    /// rule that counts it.
    pub(crate) fn counts_queue_ahead(&self) -> bool {
        self.rescue.is_some_and(|rescue| rescue.count_queue_ahead)
    }

    /// Named presets: `never`, `always`, `tiered` (30 min, deadline-aware, rescuing deadlines
    /// from a reserved part of each budget — the platform's default), `tiered-plain` (the same
    /// without the rescue rule), and Starburst's waiting policies `starburst-constant` (30 min),
    /// `starburst-runtime` (25% of runtime), `starburst-gpus` (15 min per GPU) and
    /// `starburst-gpu-hours` (25% of GPU-time), none deadline-aware.
    pub fn preset(name: &str) -> Option<BurstPolicy> {
        let threshold = |wait: WaitRule, deadline_aware: bool| BurstPolicy {
            mode: BurstMode::Threshold,
            wait,
            deadline_aware,
            ..BurstPolicy::default()
        };
        Some(match name {
            "never" => BurstPolicy::default(),
            "always" => BurstPolicy {
                mode: BurstMode::Always,
                ..BurstPolicy::default()
            },
            "tiered" => BurstPolicy {
                rescue: Some(Rescue::default()),
                ..threshold(WaitRule::default(), true)
            },
            "tiered-plain" => threshold(WaitRule::default(), true),
            "starburst-constant" => threshold(WaitRule::default(), false),
            "starburst-runtime" => threshold(WaitRule::PerRuntime { permille: 250 }, false),
            "starburst-gpus" => threshold(
                WaitRule::PerGpu {
                    per_gpu: Millis::minutes(15),
                },
                false,
            ),
            "starburst-gpu-hours" => threshold(WaitRule::PerGpuHour { permille: 250 }, false),
            _ => return None,
        })
    }

    /// The most a flexible budget of `limit` may pay: the limit plus the overrun.
    pub fn flex_ceiling(&self, limit: Money) -> i128 {
        i128::from(limit.0) * (100 + i128::from(self.flex_overrun_percent)) / 100
    }

    /// The names [`BurstPolicy::preset`] knows, for help texts and errors.
    pub const PRESETS: [&'static str; 8] = [
        "never",
        "always",
        "tiered",
        "tiered-plain",
        "starburst-constant",
        "starburst-runtime",
        "starburst-gpus",
        "starburst-gpu-hours",
    ];
}

/// Whole GPUs a burst rents: the count for whole-GPU jobs, one for a fraction.
pub fn gpus_rented(job: &Job) -> u32 {
    match job.gpu {
        GpuRequest::None => 0,
        GpuRequest::Whole { count, .. } => count,
        GpuRequest::Fraction { .. } => 1,
    }
}
