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
use crate::QueueingStrategy;
use std::collections::BTreeMap;

impl Scheduler {
    /// Pending jobs in the order a cycle at `now` considers them, quiet ones (`queue_order`)
    /// included, the jobs holding a reservation (`backfill`) first.
    pub fn consideration_order(&self, now: Time) -> Vec<JobId> {
        let order = self.ordered(self.queue_order.all(), now);
        order.into_iter().map(|(_, slot)| slot.job).collect()
    }

    /// The jobs a cycle at `now` looks at, in order, each with its score's first criterion
    /// (0 under Kueue's order): what the cycle's walk merges quiet jobs into.
    pub(crate) fn cycle_order(&self, now: Time) -> Vec<(u64, Slot)> {
        self.ordered(self.queue_order.active().collect(), now)
    }

    /// `kueue`, a list in Kueue's order, in the policy's, but with the jobs holding a
    /// reservation (`backfill`) first, in the order they got it (first criterion 0): a
    /// reserved job is decided before the jobs its reservation may hold back, so which jobs
    /// hold one does not move with the scores, and a reservation made after it plans around
    /// what it takes. One in a StrictFIFO queue goes first only while it heads its queue
    /// (`reserved_behind_heads`).
    fn ordered(&self, kueue: Vec<Slot>, now: Time) -> Vec<(u64, Slot)> {
        if self.reservations.is_empty() {
            return self.policy_order(kueue, now);
        }
        let behind = self.reserved_behind_heads(kueue.iter().copied());
        let place = |slot: &Slot| {
            let at = self.reservations.jobs().position(|job| job == slot.job)?;
            (!behind.contains(&slot.job)).then_some(at)
        };
        let order = self.policy_order(kueue, now);
        let (mut first, rest): (Vec<_>, Vec<_>) = order
            .into_iter()
            .partition(|(_, slot)| place(slot).is_some());
        first.sort_by_key(|(_, slot)| place(slot));
        first.iter_mut().for_each(|(key, _)| *key = 0);
        first.extend(rest);
        first
    }

    /// The reserved jobs among `kueue` (in Kueue's order) that no longer head their StrictFIFO
    /// queue: a job ahead of them arrived or came back. Blocked behind it, they give their
    /// reservation up before the next cycle's first decision.
    pub(crate) fn reserved_behind_heads(
        &self,
        kueue: impl IntoIterator<Item = Slot>,
    ) -> Vec<JobId> {
        let mut heads = BTreeMap::new();
        let mut behind = Vec::new();
        for slot in kueue {
            let queue = self.pending.at(slot).and_then(|waiting| {
                self.config
                    .cluster_queue_of(&waiting.job.queue)
                    .filter(|queue| queue.strategy == QueueingStrategy::StrictFIFO)
            });
            let Some(queue) = queue else {
                continue;
            };
            let head = *heads.entry(&queue.name).or_insert(slot.job);
            if head != slot.job && self.reservations.holds(slot.job) {
                behind.push(slot.job);
            }
        }
        behind
    }

    fn policy_order(&self, kueue: Vec<Slot>, now: Time) -> Vec<(u64, Slot)> {
        match &self.policy.ordering {
            Ordering::PriorityFifo => kueue.into_iter().map(|slot| (0, slot)).collect(),
            Ordering::Scored(weights) => {
                let mut scorer = Scorer::new(self.view(), now, weights);
                // Kueue's order is the score's order after its first criterion, so sorting
                // (first criterion as an integer, place in Kueue's order) gives the whole
                // order without comparing scores: backlogs hold thousands of equal scores
                // (jobs submitted together at one priority). Jobs are scored where they sit
                // in memory; reading them in Kueue's order costs more than the sort saves.
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
                    .map(|(first, place)| (first, kueue[place as usize]))
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
