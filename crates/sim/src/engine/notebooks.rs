//! Notebook sessions in the twin: when a session holds a GPU, and what each cell waits for.
//!
//! A session's cells run one after another. The GPU share a cell runs on is a *lease*: an
//! ordinary alloc-core job, submitted by the engine on the session's behalf, that the scheduler
//! admits, places, preempts or bursts like any other. How long a lease lives is the notebook
//! mode ([`NotebookHold`]):
//! - `per-cell` (the platform): a lease is asked for when a cell arrives and no lease is held;
//!   when the cell ends the lease is kept for `keep_alive`, then released. A cell arriving
//!   within the window runs at once on the warm lease. With `lease_on_open` the first lease is
//!   asked for when the session opens (a notebook starts its kernel then), and kept for the
//!   window once ready.
//! - `whole-session` (what a Kubeflow notebook with a GPU does): one whole GPU is asked for
//!   when the session opens and held until the user closes it.
//!
//! Each new lease pays `cold_start` (container and CUDA context) plus `restore` (reloading the
//! session's state) before a cell can compute (alloc-core's [`alloc_core::ColdStart`] model
//! gives both). Under `per-cell`, a *warm pool* ([`super::warm_pool`]) may hold slices already
//! past their cold start: a cell that finds no lease takes one and pays only the restore. A
//! cell's latency (its `wait` in `jobs.csv`) is therefore queueing + cold start + restore on a
//! new lease, the restore on a pool slice, and zero on a warm lease. A lease
//! stopped by preemption or a node failure loses the running cell's compute (cells do not
//! checkpoint); the lease goes back to the queue and the cell reruns when it is placed again.
//! Idle GPU time is what leases held while no cell computed and no lease was starting up.

use super::warm_pool::{class_of, Pools};
use super::{Engine, Event};
use crate::record::jobs::{JobRecord, Outcome};
use crate::runtime_model::Start;
use crate::workload::Session;
use alloc_core::{
    GpuRequest, Input, Job, JobId, Millis, Time, VramMib, WarmPoolRule, WarmPoolSize,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What holds a GPU between a session's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotebookHold {
    /// Each cell's own request (usually an MPS fraction), released `keep_alive` after the
    /// cell ends.
    PerCell,
    /// One whole GPU from the moment the session opens until it closes.
    WholeSession,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotebookOptions {
    pub hold: NotebookHold,
    /// `per-cell` only: how long an idle lease stays with its session after a cell ends.
    pub keep_alive: Millis,
    /// Starting a lease's container and CUDA context.
    pub cold_start: Millis,
    /// Reloading the session's state onto a new lease.
    pub restore: Millis,
    /// `per-cell` only: a session's first lease is asked for when it opens (and held for
    /// `keep_alive` once ready), rather than when its first cell comes.
    pub lease_on_open: bool,
    /// `per-cell` only: how many pre-started slices each class of sessions keeps.
    pub warm_pool: WarmPoolSize,
    pub pool_rule: WarmPoolRule,
}

/// The engine's neutral mechanics: no keep-alive, no pool, the documented cold-start model.
/// Scenario files default to the platform's settings instead (`scenario::file::NotebookSettings`).
impl Default for NotebookOptions {
    fn default() -> Self {
        NotebookOptions {
            hold: NotebookHold::PerCell,
            keep_alive: Millis::ZERO,
            cold_start: alloc_core::ColdStart::default().start(),
            restore: alloc_core::ColdStart::default().restore(),
            lease_on_open: false,
            warm_pool: WarmPoolSize::Fixed(0),
            pool_rule: WarmPoolRule::default(),
        }
    }
}

/// What the sessions of a run add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NotebookStats {
    pub sessions: u64,
    /// Cells that ran on a lease started for them.
    pub cold_starts: u64,
    /// Cells that ran on a lease kept warm.
    pub warm_starts: u64,
    /// Cells that ran on a slice taken from a warm pool (they paid only the restore).
    pub pool_starts: u64,
    /// Slices the warm pools asked the scheduler for.
    pub pool_slices: u64,
    /// Times a preemption evicted a lease, and the most times one lease was evicted.
    pub lease_preemptions: u64,
    pub lease_max_preemptions: u32,
    /// milli-GPU × ms that leases held, and of that: computing cells, starting up.
    pub held_gpu_ms: u64,
    pub busy_gpu_ms: u64,
    pub setup_gpu_ms: u64,
}

impl NotebookStats {
    /// GPU-hours held while no cell computed and no lease was starting.
    pub fn idle_gpu_hours(&self) -> f64 {
        let idle = self
            .held_gpu_ms
            .saturating_sub(self.busy_gpu_ms + self.setup_gpu_ms);
        idle as f64 / 3_600_000.0
    }
}

pub(super) struct Notebooks {
    pub(super) options: NotebookOptions,
    sessions: Vec<Session>,
    pub(super) states: Vec<SessionState>,
    /// Each session's warm-pool class (empty without a pool).
    pub(super) classes: Vec<String>,
    /// Lease job → session index.
    pub(super) leases: BTreeMap<JobId, usize>,
    pub(super) next_lease: u64,
    /// Cells that finished or were rejected.
    records: Vec<JobRecord>,
    pub(super) stats: NotebookStats,
    pub(super) pools: Pools,
}

#[derive(Default)]
pub(super) struct SessionState {
    next_cell: usize,
    pub(super) cell: Option<CellInFlight>,
    pub(super) lease: Option<Lease>,
    /// Bumped whenever a scheduled session event may have become stale.
    generation: u64,
}

pub(super) struct CellInFlight {
    index: usize,
    pub(super) record: JobRecord,
    pub(super) computing_since: Option<Time>,
}

pub(super) struct Lease {
    pub(super) id: JobId,
    pub(super) milli: u64,
    /// Where the lease runs, once placed; cells are planned on it.
    pub(super) placed: Option<Start>,
    pub(super) ready: bool,
    /// Taken from a warm pool and not stopped since: its start-up was the restore alone.
    pub(super) from_pool: bool,
}

impl Notebooks {
    pub(super) fn new(
        sessions: Vec<Session>,
        options: NotebookOptions,
        first_lease: JobId,
    ) -> Self {
        let pooled =
            options.hold == NotebookHold::PerCell && options.warm_pool != WarmPoolSize::Fixed(0);
        Notebooks {
            options,
            states: sessions.iter().map(|_| SessionState::default()).collect(),
            classes: match pooled {
                true => sessions.iter().map(|s| class_of(&s.template)).collect(),
                false => Vec::new(),
            },
            pools: Pools::default(),
            stats: NotebookStats {
                sessions: sessions.len() as u64,
                ..NotebookStats::default()
            },
            sessions,
            leases: BTreeMap::new(),
            next_lease: first_lease.0,
            records: Vec::new(),
        }
    }

    pub(super) fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    pub(super) fn is_lease(&self, id: JobId) -> bool {
        self.leases.contains_key(&id) || self.pools.is_slice(id)
    }

    /// Cell records, every cell of every session included (those that never ran are
    /// unfinished), and the totals. Lease records are folded into the totals.
    pub(super) fn finish(
        mut self,
        lease_records: impl Iterator<Item = JobRecord>,
        end: Time,
    ) -> (Vec<JobRecord>, NotebookStats) {
        for lease in lease_records {
            self.stats.held_gpu_ms += lease.gpu_ms;
            self.stats.lease_preemptions += u64::from(lease.preemptions);
            self.stats.lease_max_preemptions =
                self.stats.lease_max_preemptions.max(lease.preemptions);
        }
        for (session, state) in self.sessions.iter().zip(&mut self.states) {
            let mut next = state.next_cell;
            if let Some(cell) = state.cell.take() {
                self.records.push(cell.record);
                next = cell.index + 1;
            }
            for index in next..session.cells.len() {
                if let Some(job) = session.cell_job(index, end) {
                    self.records.push(cell_record(job, session.id));
                }
            }
        }
        (self.records, self.stats)
    }
}

fn cell_record(job: Job, session: u64) -> JobRecord {
    let mut record = JobRecord::new(job);
    record.session = Some(session);
    record
}

impl Engine {
    pub(super) fn session_open(&mut self, s: usize, now: Time) {
        let Some(first) = self.notebooks.sessions.get(s).and_then(|x| x.cells.first()) else {
            return;
        };
        let arrive = now + first.think;
        let options = self.notebooks.options;
        // Opening a notebook starts its kernel: under `per-cell` with `lease_on_open`, its
        // first lease starts then too, and is kept `keep_alive` once ready if no cell comes.
        let on_open = match options.hold {
            NotebookHold::WholeSession => true,
            NotebookHold::PerCell => options.lease_on_open && options.keep_alive > Millis::ZERO,
        };
        if on_open {
            self.submit_lease(s, now);
        }
        self.push(arrive, Event::CellArrive(s));
    }

    pub(super) fn cell_arrive(&mut self, s: usize, now: Time) {
        let (Some(session), Some(state)) = (
            self.notebooks.sessions.get(s),
            self.notebooks.states.get_mut(s),
        ) else {
            return;
        };
        let index = state.next_cell;
        let Some(job) = session.cell_job(index, now) else {
            return;
        };
        state.cell = Some(CellInFlight {
            index,
            record: cell_record(job, session.id),
            computing_since: None,
        });
        // A warm lease's pending release is off.
        state.generation += 1;
        match &state.lease {
            Some(lease) if lease.ready => {
                self.notebooks.stats.warm_starts += 1;
                self.compute_cell(s, now);
            }
            Some(_) => {}
            None => {
                if !self.pool_demand(s, now) {
                    self.submit_lease(s, now);
                }
            }
        }
    }

    fn submit_lease(&mut self, s: usize, now: Time) {
        let options = self.notebooks.options;
        let Some(session) = self.notebooks.sessions.get(s) else {
            return;
        };
        let state = &self.notebooks.states[s];
        // The lease's runtime estimate (for the scheduler's scoring and burst decisions): the
        // next cell plus the keep-alive window, or what is left of the whole session.
        let remaining = &session.cells[state.next_cell.min(session.cells.len())..];
        let (gpu, runtime) = match options.hold {
            NotebookHold::PerCell => (
                session.template.gpu,
                remaining.first().map_or(Millis::ZERO, |c| c.compute) + options.keep_alive,
            ),
            NotebookHold::WholeSession => (
                GpuRequest::Whole {
                    count: 1,
                    min_vram: VramMib::ZERO,
                },
                remaining
                    .iter()
                    .fold(session.close_after, |total, c| total + c.think + c.compute),
            ),
        };
        let id = JobId(self.notebooks.next_lease);
        self.notebooks.next_lease += 1;
        let job = Job {
            id,
            gpu,
            runtime: runtime + options.cold_start + options.restore,
            submit_time: now,
            deadline: None,
            checkpoint_interval: None,
            restore_cost: options.restore,
            ..session.template.clone()
        };
        let milli = job.gpu.milli().0;
        self.notebooks.leases.insert(id, s);
        self.notebooks.states[s].lease = Some(Lease {
            id,
            milli,
            placed: None,
            ready: false,
            from_pool: false,
        });
        self.jobs.insert(super::JobState::new(job.clone()));
        if self.apply(Input::JobSubmitted(job), now).is_some() {
            self.request_cycle(now);
        }
    }

    /// The scheduler placed lease `id`; it can serve cells once started up.
    pub(super) fn lease_started(&mut self, id: JobId, begins: Time, start: Start) {
        let Some(start) = self.pool_slice_started_or(id, begins, start) else {
            return;
        };
        let Some(&s) = self.notebooks.leases.get(&id) else {
            return;
        };
        let options = self.notebooks.options;
        let Some(lease) = self.notebooks.states[s].lease.as_mut() else {
            return;
        };
        lease.placed = Some(start);
        self.notebooks.stats.setup_gpu_ms +=
            lease.milli * (options.cold_start + options.restore).0 / 1000;
        let attempt = self.jobs.get(&id).map_or(0, |j| j.attempt_no);
        self.push(
            begins + options.cold_start + options.restore,
            Event::LeaseReady { lease: id, attempt },
        );
    }

    /// Lease `id` finished starting up, unless it was stopped since (`attempt` differs).
    pub(super) fn lease_ready(&mut self, id: JobId, attempt: u32, now: Time) {
        if self.pool_slice_ready(id, attempt, now) {
            return;
        }
        let current = self.jobs.get(&id).is_some_and(|j| j.attempt_no == attempt);
        let Some(&s) = self.notebooks.leases.get(&id) else {
            return;
        };
        let state = &mut self.notebooks.states[s];
        let Some(lease) = state
            .lease
            .as_mut()
            .filter(|l| current && l.id == id && l.placed.is_some())
        else {
            return;
        };
        lease.ready = true;
        let from_pool = lease.from_pool;
        match &state.cell {
            Some(cell) if cell.computing_since.is_none() => {
                match from_pool {
                    true => self.notebooks.stats.pool_starts += 1,
                    false => self.notebooks.stats.cold_starts += 1,
                }
                self.compute_cell(s, now);
            }
            Some(_) => {}
            // Started when the session opened, before its first cell: kept for the
            // keep-alive window, as after a cell.
            None if self.notebooks.options.hold == NotebookHold::PerCell => {
                state.generation += 1;
                let generation = state.generation;
                let hold = self.notebooks.options.keep_alive;
                self.push(
                    now + hold,
                    Event::LeaseRelease {
                        session: s,
                        generation,
                    },
                );
            }
            None => {}
        }
    }

    fn compute_cell(&mut self, s: usize, now: Time) {
        let state = &mut self.notebooks.states[s];
        let (Some(cell), Some(lease)) = (state.cell.as_mut(), state.lease.as_ref()) else {
            return;
        };
        let Some(placed) = lease.placed.as_ref() else {
            return;
        };
        let lease_record = self.jobs.get(&lease.id).map(|j| &j.record);
        let start = Start {
            remaining: cell.record.job.runtime,
            resumed: false,
            now,
            ..placed.clone()
        };
        let attempt = self
            .options
            .runtime
            .plan(self.scheduler.config(), &cell.record.job, &start);
        cell.computing_since = Some(now);
        let record = &mut cell.record;
        record.first_start.get_or_insert(now);
        if let Some(lease_record) = lease_record {
            record.cluster.clone_from(&lease_record.cluster);
            record.flavor.clone_from(&lease_record.flavor);
            record.tier = lease_record.tier;
            record.gpus = lease_record.gpus;
            record.public = lease_record.public;
        }
        state.generation += 1;
        let generation = state.generation;
        self.push(
            attempt.end(),
            Event::CellDone {
                session: s,
                generation,
            },
        );
    }

    /// Returns true when a cell finished.
    pub(super) fn cell_done(&mut self, s: usize, generation: u64, now: Time) -> bool {
        let options = self.notebooks.options;
        let (Some(session), Some(state)) = (
            self.notebooks.sessions.get(s),
            self.notebooks.states.get_mut(s),
        ) else {
            return false;
        };
        if state.generation != generation {
            return false;
        }
        let Some(mut cell) = state.cell.take() else {
            return false;
        };
        let (Some(since), Some(lease)) = (cell.computing_since, state.lease.as_ref()) else {
            state.cell = Some(cell);
            return false;
        };
        cell.record.end = Some(now);
        cell.record.outcome = Outcome::Finished;
        let busy = lease.milli * now.since(since).0 / 1000;
        cell.record.gpu_ms += busy;
        self.notebooks.stats.busy_gpu_ms += busy;
        self.notebooks.records.push(cell.record);
        state.next_cell = cell.index + 1;
        let next = session.cells.get(state.next_cell).copied();
        let close_after = session.close_after;
        state.generation += 1;
        let generation = state.generation;
        if let Some(next) = next {
            self.push(now + next.think, Event::CellArrive(s));
        }
        let hold = match (options.hold, next) {
            (NotebookHold::WholeSession, Some(_)) => None,
            (NotebookHold::WholeSession, None) => Some(close_after),
            (NotebookHold::PerCell, Some(_)) => Some(options.keep_alive),
            (NotebookHold::PerCell, None) => Some(options.keep_alive.min(close_after)),
        };
        match hold {
            Some(Millis::ZERO) => self.release_lease(s, now),
            Some(hold) => self.push(
                now + hold,
                Event::LeaseRelease {
                    session: s,
                    generation,
                },
            ),
            None => {}
        }
        true
    }

    pub(super) fn lease_release(&mut self, s: usize, generation: u64, now: Time) {
        let current = self
            .notebooks
            .states
            .get(s)
            .is_some_and(|state| state.generation == generation && state.cell.is_none());
        if current {
            self.release_lease(s, now);
        }
    }

    fn release_lease(&mut self, s: usize, now: Time) {
        let Some(lease) = self.notebooks.states[s].lease.take() else {
            return;
        };
        if self.apply(Input::JobFinished(lease.id), now).is_some() {
            self.close_attempt(lease.id, now, false);
            if let Some(state) = self.jobs.get_mut(&lease.id) {
                state.record.end = Some(now);
                state.record.outcome = Outcome::Finished;
            }
            self.request_cycle(now);
        }
    }

    /// Lease `id` was stopped (preempted, or its node failed) and is pending again. The
    /// running cell loses its compute; an idle per-cell lease is withdrawn instead.
    pub(super) fn lease_stopped(&mut self, id: JobId, preempted: bool, now: Time) {
        if self.pool_slice_stopped(id, now) {
            return;
        }
        let Some(&s) = self.notebooks.leases.get(&id) else {
            return;
        };
        let hold = self.notebooks.options.hold;
        let state = &mut self.notebooks.states[s];
        state.generation += 1;
        if let Some(lease) = state.lease.as_mut() {
            lease.placed = None;
            lease.ready = false;
            lease.from_pool = false;
        }
        match state.cell.as_mut() {
            Some(cell) => {
                if let Some(since) = cell.computing_since.take() {
                    let milli = state.lease.as_ref().map_or(0, |l| l.milli);
                    cell.record.lost_gpu_ms += milli * now.since(since).0 / 1000;
                }
                if preempted {
                    cell.record.preemptions += 1;
                } else {
                    cell.record.interruptions += 1;
                }
            }
            None if hold == NotebookHold::PerCell => {
                state.lease = None;
                if self.apply(Input::JobCancelled(id), now).is_some() {
                    if let Some(lease) = self.jobs.get_mut(&id) {
                        lease.record.end = Some(now);
                    }
                }
            }
            None => {}
        }
    }

    /// The scheduler rejected lease `id`: the session's cells can never run. Returns how many
    /// cells that settles.
    pub(super) fn lease_rejected(&mut self, id: JobId, reason: &str, now: Time) -> u64 {
        if self.pool_slice_rejected(id) {
            return 0;
        }
        let Some(&s) = self.notebooks.leases.get(&id) else {
            return 0;
        };
        let session = &self.notebooks.sessions[s];
        let state = &mut self.notebooks.states[s];
        state.lease = None;
        state.generation += 1;
        let mut first = state.next_cell;
        let mut settled = Vec::new();
        if let Some(cell) = state.cell.take() {
            first = cell.index + 1;
            settled.push(cell.record);
        }
        for index in first..session.cells.len() {
            if let Some(job) = session.cell_job(index, now) {
                settled.push(cell_record(job, session.id));
            }
        }
        state.next_cell = session.cells.len();
        let count = settled.len() as u64;
        for mut record in settled {
            record.outcome = Outcome::Rejected;
            record.reject_reason = Some(reason.to_string());
            self.notebooks.records.push(record);
        }
        count
    }
}
