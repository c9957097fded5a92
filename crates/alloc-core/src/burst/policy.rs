//! The burst policy's knobs: when to rent, how long a job waits privately first, how far a
//! flexible budget may stretch.

use crate::model::{GpuRequest, Job};
use crate::units::{Millis, Money, Time};
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
        }
    }
}

impl BurstPolicy {
    /// Which rule let `job` burst at `now`, as a stable code for records and metrics:
    /// `policy-always` (the policy rents as soon as a job cannot start privately),
    /// `waited-threshold` (it waited the policy's full threshold) or `deadline` (its deadline
    /// shortened the threshold: the private fleet was predicted to finish it late, or with
    /// little slack).
    pub fn cause_code(&self, job: &Job, now: Time) -> &'static str {
        match self.mode {
            BurstMode::Always => "policy-always",
            _ if now.since(job.submit_time) >= self.wait.threshold(job) => "waited-threshold",
            _ => "deadline",
        }
    }

    /// Named presets: `never`, `always`, `tiered` (30 min, deadline-aware — the platform's
    /// default), and Starburst's waiting policies `starburst-constant` (30 min),
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
            "tiered" => threshold(WaitRule::default(), true),
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
    pub const PRESETS: [&'static str; 7] = [
        "never",
        "always",
        "tiered",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::JobBuilder;

    #[test]
    fn a_burst_names_the_rule_that_allowed_it() {
        let job = JobBuilder::gpus(1).submitted(Time(0)).build();
        let tiered = BurstPolicy::preset("tiered").expect("a preset");
        let threshold = tiered.wait.threshold(&job);
        assert_eq!(
            tiered.cause_code(&job, Time(threshold.0)),
            "waited-threshold"
        );
        assert_eq!(tiered.cause_code(&job, Time(threshold.0 - 1)), "deadline");
        let always = BurstPolicy::preset("always").expect("a preset");
        assert_eq!(always.cause_code(&job, Time(0)), "policy-always");
    }
}
