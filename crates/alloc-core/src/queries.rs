//! What a shell or a test may ask the scheduler between cycles besides its state: the order a
//! cycle would consider the pending jobs in, why each scores what it does, what evicting a
//! running job would cost. The score and preemption steps answer over a view.

use crate::ids::JobId;
use crate::pending::Slot;
use crate::preemption::VictimCost;
use crate::running::Running;
use crate::scheduler::Scheduler;
use crate::score::{Ordering, ScoreBreakdown, ScoreWeights, Scorer};
use crate::units::Time;

impl Scheduler {
    /// Pending jobs in the order a cycle at `now` considers them.
    pub fn consideration_order(&self, now: Time) -> Vec<JobId> {
        let order = self.pending_order(now);
        order.into_iter().map(|slot| slot.job).collect()
    }

    /// [`Scheduler::consideration_order`], as the slots the cycle finds the jobs in.
    pub(crate) fn pending_order(&self, now: Time) -> Vec<Slot> {
        match &self.policy.ordering {
            Ordering::PriorityFifo => self.queue_order.active().collect(),
            Ordering::Scored(weights) => {
                let mut scorer = Scorer::new(self.view(), now, weights);
                // Kueue's order is the score's order after its first criterion, so sorting
                // (first criterion as an integer, place in Kueue's order) gives the whole
                // order without comparing scores: backlogs hold thousands of equal scores
                // (jobs submitted together at one priority). Jobs are scored where they sit
                // in memory; reading them in Kueue's order costs more than the sort saves.
                let kueue: Vec<Slot> = self.queue_order.all();
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
        Some(Scorer::new(self.view(), now, weights).breakdown(job))
    }

    /// What evicting `running` at `now` would cost it, under the policy.
    pub fn victim_cost(&self, running: &Running, now: Time) -> VictimCost {
        self.view().victim_cost(running, now)
    }
}
