//! Every job's state, in one vector found by id: workload jobs from the start (so the workload
//! is not kept beside them), notebook leases as they are made. At the end the workload's states
//! turn into records in place, so a million-job run never holds two copies of its jobs.

use super::JobState;
use crate::record::jobs::JobRecord;
use alloc_core::{Job, JobId};
use rustc_hash::FxHashMap;

pub(super) struct JobTable {
    states: Vec<JobState>,
    /// Looked up on every event; never walked, so its order does not matter. Fx, not SipHash:
    /// ids are the trace's own, and a lookup per event should cost a multiply.
    by_id: FxHashMap<JobId, usize>,
    /// The first states are the workload's, in workload order.
    workload: usize,
}

impl JobTable {
    /// States for the workload's jobs, none of them arrived yet; ids must be unique.
    pub fn new(mut workload: Vec<Job>) -> JobTable {
        let by_id = workload
            .iter()
            .enumerate()
            .map(|(index, job)| (job.id, index))
            .collect();
        // Moved over from the back a block at a time, the workload giving its memory back as it
        // shrinks, so that the two never both hold every job.
        const BLOCK: usize = 1 << 16;
        let mut states: Vec<JobState> = Vec::with_capacity(workload.len());
        while !workload.is_empty() {
            let from = workload.len().saturating_sub(BLOCK);
            states.extend(workload.drain(from..).rev().map(JobState::new));
            workload.shrink_to_fit();
        }
        states.reverse();
        JobTable {
            workload: states.len(),
            states,
            by_id,
        }
    }

    /// The workload's job at `index` (arrivals name jobs by workload index).
    pub fn workload_job(&self, index: usize) -> Option<&Job> {
        self.states[..self.workload]
            .get(index)
            .map(|state| &state.record.job)
    }

    pub fn workload_len(&self) -> usize {
        self.workload
    }

    /// Adds the state of a job made during the run (a notebook lease).
    pub fn insert(&mut self, state: JobState) {
        let id = state.record.job.id;
        match self.by_id.get(&id) {
            Some(&index) => self.states[index] = state,
            None => {
                self.by_id.insert(id, self.states.len());
                self.states.push(state);
            }
        }
    }

    pub fn get(&self, id: &JobId) -> Option<&JobState> {
        self.by_id.get(id).map(|&index| &self.states[index])
    }

    pub fn get_mut(&mut self, id: &JobId) -> Option<&mut JobState> {
        self.by_id.get(id).map(|&index| &mut self.states[index])
    }

    /// The jobs with an attempt under way, by id.
    pub fn active(&self) -> Vec<JobId> {
        let mut ids: Vec<JobId> = self
            .states
            .iter()
            .filter(|state| state.active.is_some())
            .map(|state| state.record.job.id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The workload's records (in workload order) and the states made during the run.
    pub fn into_records(self) -> (Vec<JobRecord>, Vec<JobState>) {
        let mut states = self.states;
        drop(self.by_id);
        let made = states.split_off(self.workload);
        // Same-size-or-smaller items: the vector's buffer is reused, not copied.
        let records = states.into_iter().map(|state| state.record).collect();
        (records, made)
    }
}
