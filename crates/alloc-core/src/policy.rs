//! Policy knobs that shape decisions without changing the rules. Each part lives beside the
//! step it tunes; this gathers them so a shell passes one value.

use crate::burst::BurstPolicy;
use crate::placement::MpsPacking;
use crate::preemption::PreemptionPolicy;
use crate::score::Ordering;
use serde::{Deserialize, Serialize};

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
}
