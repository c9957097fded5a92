//! Interactive notebook sessions. A user opens a session, runs cells one after another with
//! think time between them, and closes it. Cells are short GPU jobs, usually MPS fractions;
//! what holds the GPU between cells (nothing, a keep-alive window, or a whole GPU for the whole
//! session) is the engine's notebook mode, not part of the workload.

use alloc_core::{Job, JobId, Millis, Time};

/// One session: its cells run strictly in order; cell `i` arrives `think` after cell `i - 1`
/// ended (the first `think` after the session opened).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: u64,
    /// What every cell asks for: queue, tenant, user, GPU request, tier, priority, data class,
    /// budget. Its `id`, `runtime` and `submit_time` are ignored.
    pub template: Job,
    pub opened: Time,
    pub cells: Vec<Cell>,
    /// Think time after the last cell before the user closes the session.
    pub close_after: Millis,
    /// Cell `i`'s job id is `first_cell_id + i`; ids must not collide with batch jobs.
    pub first_cell_id: JobId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// Idle time before the cell is run (after the previous cell ended, or the session opened).
    pub think: Millis,
    /// GPU compute on the reference GPU.
    pub compute: Millis,
}

impl Session {
    /// The job a cell becomes when it is run at `submit`.
    pub fn cell_job(&self, index: usize, submit: Time) -> Option<Job> {
        let cell = self.cells.get(index)?;
        Some(Job {
            id: JobId(self.first_cell_id.0 + index as u64),
            runtime: cell.compute,
            submit_time: submit,
            ..self.template.clone()
        })
    }
}

/// Everything a scenario submits: batch jobs (training, sweeps, …) and notebook sessions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workload {
    /// Sorted by submit time.
    pub jobs: Vec<Job>,
    /// Sorted by opening time.
    pub sessions: Vec<Session>,
}

impl Workload {
    pub fn batch(jobs: Vec<Job>) -> Workload {
        Workload {
            jobs,
            sessions: Vec::new(),
        }
    }

    /// Batch jobs plus cells.
    pub fn job_count(&self) -> usize {
        self.jobs.len() + self.sessions.iter().map(|s| s.cells.len()).sum::<usize>()
    }

    /// The first id after every batch job and cell: where the engine numbers its own leases.
    pub fn next_free_id(&self) -> JobId {
        let batch = self.jobs.iter().map(|j| j.id.0 + 1).max().unwrap_or(1);
        let cells = self
            .sessions
            .iter()
            .map(|s| s.first_cell_id.0 + s.cells.len() as u64)
            .max()
            .unwrap_or(1);
        JobId(batch.max(cells))
    }
}
