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
//!   total order documented on [`Score`]'s `Ord`. [`Scheduler::score_of`] explains a job's score
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

pub(crate) use context::Scorer;
pub(crate) use speeds::SpeedCache;

use crate::ids::JobId;
use crate::pending::Slot;
use crate::scheduler::Scheduler;
use crate::units::Time;
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

impl Scheduler {
    /// Pending jobs in the order a cycle at `now` considers them.
    pub fn consideration_order(&self, now: Time) -> Vec<JobId> {
        let order = self.pending_order(now);
        order.into_iter().map(|slot| slot.job).collect()
    }

    /// [`Scheduler::consideration_order`], as the slots the cycle finds the jobs in.
    pub(crate) fn pending_order(&self, now: Time) -> Vec<Slot> {
        match &self.policy.ordering {
            Ordering::PriorityFifo => self.queue_order.values().copied().collect(),
            Ordering::Scored(weights) => {
                let mut scorer = Scorer::new(self, now, weights);
                // Kueue's order is the score's order after its first criterion, so sorting
                // (first criterion as an integer, place in Kueue's order) gives the whole
                // order without comparing scores: backlogs hold thousands of equal scores
                // (jobs submitted together at one priority). Jobs are scored where they sit
                // in memory; reading them in Kueue's order costs more than the sort saves.
                let kueue: Vec<Slot> = self.queue_order.values().copied().collect();
                let mut keys: Vec<(u64, u32)> = self
                    .pending
                    .placed_in(&kueue)
                    .map(|(place, waiting)| {
                        let score = scorer.score(&waiting.job, waiting.class);
                        (score.first_key(), place)
                    })
                    .collect();
                // Places are unique, so the order is strict and an unstable sort deterministic.
                keys.sort_unstable();
                keys.into_iter()
                    .map(|(_, place)| kueue[place as usize])
                    .collect()
            }
        }
    }

    /// Why a pending job scores what it does at `now` under the policy's weights; `None` when
    /// the job is not pending or the policy does not score (`PriorityFifo`).
    pub fn score_of(&self, job: JobId, now: Time) -> Option<ScoreBreakdown> {
        match &self.policy.ordering {
            Ordering::PriorityFifo => None,
            Ordering::Scored(weights) => self.score_with(job, now, weights),
        }
    }

    /// Why a pending job would score what it does at `now` under `weights`, whatever the
    /// policy; `None` when the job is not pending.
    pub fn score_with(
        &self,
        job: JobId,
        now: Time,
        weights: &ScoreWeights,
    ) -> Option<ScoreBreakdown> {
        let job = &self.pending.get(job)?.job;
        Some(Scorer::new(self, now, weights).breakdown(job))
    }
}
