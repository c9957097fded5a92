//! Policy knobs that shape decisions without changing the rules. Each part lives beside the
//! step it tunes; this gathers them so a shell passes one value.

use crate::backfill::Backfill;
use crate::burst::BurstPolicy;
use crate::placement::MpsPacking;
use crate::preemption::PreemptionPolicy;
use crate::score::{Ordering, ScoreWeights};
use serde::{Deserialize, Serialize};

/// How the scheduler weighs its choices: one value a shell reads from its configuration and
/// passes to [`Scheduler::new`](crate::Scheduler::new). The default: Kueue's order, best-fit
/// MPS packing, no preemption, no bursting.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Let every job run on a higher tier than it asked for when its own tier is full.
    #[serde(default)]
    pub allow_tier_upgrade: bool,
    /// The order pending jobs are considered in.
    #[serde(default)]
    pub ordering: Ordering,
    /// How MPS fractions are packed onto GPUs.
    #[serde(default)]
    pub mps_packing: MpsPacking,
    /// When and whom a job that cannot fit may preempt.
    #[serde(default)]
    pub preemption: PreemptionPolicy,
    /// When a job that cannot start privately goes to a public offer.
    #[serde(default)]
    pub burst: BurstPolicy,
    /// Reject a job whose deadline no flavor or offer could meet even if it started now.
    #[serde(default)]
    pub reject_infeasible_deadlines: bool,
    /// Who picks a job's flavor and reserves its quota.
    #[serde(default)]
    pub admission: Admission,
    /// Reservations for large jobs that cannot start, and backfill around them
    /// ([`Backfill`]); off unless set.
    #[serde(default)]
    pub backfill: Backfill,
}

/// Who picks a job's flavor and reserves its quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Admission {
    /// The core does, following Kueue's rules, and decides the rest in the same step: the
    /// twin's own cycle.
    #[default]
    OnePhase,
    /// Kueue does first, as in a cluster: the core admits only jobs that hold a quota
    /// reservation (`Input::QuotaReserved`), on the reserved flavor, and tells the others to
    /// wait for one. What the live controller runs, and the twin under `--two-phase`.
    TwoPhase,
}

impl Policy {
    /// Named policies both shells accept:
    /// - `tiered-burst` (also `default`): the `balanced` score order (priority, aging, deadline
    ///   urgency, fair share, budget); MPS fractions packed by FGD-pack; preemption of lower
    ///   priorities and of cohort borrowers at the least lost work, with the platform's guards
    ///   against evicting one job again and again ([`PreemptionPolicy::platform`]); burst after
    ///   30 min, sooner as a deadline nears (only flexible budgets, never sensitive data);
    ///   infeasible deadlines rejected. No reservations for large jobs ([`Backfill`] off):
    ///   measured on semester-peak they bring the 8-GPU median wait to the target of issue 23,
    ///   but not its p95, and the 3–4-GPU jobs pay with a p95 wait three to six times as long
    ///   (scenarios/README.md); `backfill: Backfill::easy()` or the sim's `@backfill=on` turns
    ///   them on;
    /// - `never-burst`, `always-burst`: the same without bursting, or bursting at once;
    /// - `tier-upgrade`: never burst, but any job may run on a higher tier;
    /// - `starburst-constant`, `starburst-runtime`, `starburst-gpus`, `starburst-gpu-hours`:
    ///   Starburst's waiting policies (ATC'24), not deadline-aware;
    /// - `scored-<weights>`: `default` with the score order under those weights
    ///   ([`ScoreWeights::preset`]: `scored-balanced`, `scored-deadline-first`, …).
    pub fn preset(name: &str) -> Option<Policy> {
        if let Some(weights) = name.strip_prefix("scored-") {
            return Some(Policy {
                ordering: Ordering::Scored(ScoreWeights::preset(weights)?),
                ..Policy::preset("default")?
            });
        }
        let with_burst = |burst: &str| {
            Some(Policy {
                ordering: Ordering::Scored(ScoreWeights::default()),
                mps_packing: MpsPacking::FgdPack,
                preemption: PreemptionPolicy::platform(),
                burst: BurstPolicy::preset(burst)?,
                reject_infeasible_deadlines: true,
                ..Policy::default()
            })
        };
        match name {
            "default" | "tiered-burst" => with_burst("tiered"),
            "never-burst" => with_burst("never"),
            "always-burst" => with_burst("always"),
            "tier-upgrade" => Some(Policy {
                allow_tier_upgrade: true,
                ..Policy::default()
            }),
            starburst if starburst.starts_with("starburst-") => with_burst(starburst),
            _ => None,
        }
    }

    /// Every name [`Policy::preset`] accepts.
    pub fn preset_names() -> Vec<String> {
        let scored = crate::score::PRESET_NAMES
            .iter()
            .map(|w| format!("scored-{w}"));
        Self::PRESETS
            .iter()
            .map(|p| p.to_string())
            .chain(scored)
            .collect()
    }

    /// The fixed names [`Policy::preset`] accepts; `scored-<weights>` adds more.
    pub const PRESETS: [&'static str; 9] = [
        "default",
        "tiered-burst",
        "never-burst",
        "always-burst",
        "tier-upgrade",
        "starburst-constant",
        "starburst-runtime",
        "starburst-gpus",
        "starburst-gpu-hours",
    ];
}
