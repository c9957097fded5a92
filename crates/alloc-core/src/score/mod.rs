//! The order pending jobs are considered in each cycle.
//!
//! Two orders:
//! - [`Ordering::PriorityFifo`] (the default): Kueue's order — priority, then submit time,
//!   then id ([`crate::PendingKey`]), kept incrementally, no work per cycle;
//! - [`Ordering::Scored`]: each cycle every pending job gets a [`Score`], a weighted sum of
//!   - its **priority** class,
//!   - **aging**: hours waited since submission,
//!   - **deadline urgency**: rising as the slack `deadline − now − runtime` shrinks, the runtime
//!     taken on the job's fastest candidate flavor ([`terms::urgency`]),
//!   - **fair share**: its tenant's dominant share of the fleet (largest of GPU, CPU and
//!     memory held ÷ fleet capacity) divided by the tenant's weight, counted against it,
//!   - **budget headroom**: flex budgets a little earlier ([`terms::budget_headroom`]),
//!
//!   under [`ScoreWeights`] (named presets: [`PRESET_NAMES`]), then jobs are sorted by the
//!   total order documented on [`Score`]'s `Ord`. [`Scheduler::score_of`](crate::Scheduler::score_of) explains a job's score
//!   part by part.
//!
//! Cost per cycle: each scored tenant's share read once from its ledger, one pass over the
//! flavors' nodes for GPU speeds (only when a pending job has a deadline), candidate flavors
//! once per distinct job shape, then O(P log P) for P pending jobs. Nothing iterates a hash map.

mod context;
mod rank;
mod speeds;
pub mod terms;
mod weights;

pub use rank::{DeadlineTerm, Score, ScoreBreakdown};
pub use weights::{BadWeight, ScoreWeights, PRESET_NAMES};

pub(crate) use context::{FrozenScore, Scorer};
pub(crate) use speeds::SpeedCache;

use serde::{Deserialize, Serialize};

/// How pending jobs are ordered.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Kueue's order: priority, then submit time, then id ([`crate::PendingKey`]).
    #[default]
    PriorityFifo,
    /// Highest [`Score`] first under these weights.
    Scored(ScoreWeights),
}

impl Ordering {
    /// The scored order under the named preset (see [`PRESET_NAMES`]).
    pub fn preset(name: &str) -> Option<Ordering> {
        ScoreWeights::preset(name).map(Ordering::Scored)
    }
}
