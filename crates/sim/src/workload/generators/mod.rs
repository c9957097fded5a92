//! Scenario workload generators: a department's term with conference surges
//! (`semester-peak`), one teaching day of notebooks (`notebook-day`), the run-up to one
//! deadline (`conference-deadline`) and plain Poisson arrivals (`poisson`).
//!
//! Every generator is deterministic per seed. Each part (training, sweeps, paper runs,
//! notebooks) draws from its own named stream, `<generator>/<part>`, so changing one part's
//! parameters never shifts another part's numbers. Batch jobs are numbered 1..=N in submit
//! order; session cells take the ids right after, session by session in opening order.

mod batch;
mod calendar;
#[cfg(test)]
mod calibration_tests;
mod check;
mod conference_deadline;
mod notebook_day;
mod notebooks;
mod people;
mod poisson;
mod semester_peak;
mod term;
#[cfg(test)]
mod tests;

pub use conference_deadline::ConferenceDeadline;
pub use notebook_day::NotebookDay;
pub use poisson::PoissonMix;
pub use semester_peak::SemesterPeak;

use crate::rng::Seed;
use crate::workload::{Session, Workload};
use alloc_core::{Job, JobId};
use serde::{Deserialize, Serialize};

/// A workload generator and its parameters. In YAML, the generator's name holds its
/// parameters; omitted parameters take the calibrated defaults: `semester-peak: {weeks: 16}`,
/// `notebook-day: {}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum GeneratorSpec {
    /// A university department's term: weekly and daily rhythm, batch training, sweeps and
    /// notebooks, and surges before conference deadlines.
    SemesterPeak(SemesterPeak),
    /// One teaching day: a lab class of many simultaneous notebook sessions on top of
    /// researchers' notebooks and a light batch background.
    NotebookDay(NotebookDay),
    /// The run-up to one conference deadline: background load plus main authors' urgent runs.
    ConferenceDeadline(ConferenceDeadline),
    /// Poisson arrivals of a generic department job mix, without rhythm or sessions.
    Poisson(PoissonMix),
}

impl GeneratorSpec {
    /// The generator's name as written in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            GeneratorSpec::SemesterPeak(_) => semester_peak::NAME,
            GeneratorSpec::NotebookDay(_) => notebook_day::NAME,
            GeneratorSpec::ConferenceDeadline(_) => conference_deadline::NAME,
            GeneratorSpec::Poisson(_) => poisson::NAME,
        }
    }

    /// The workload for `seed`; `Err` names the parameter that is out of range.
    pub fn generate(&self, seed: Seed) -> Result<Workload, String> {
        match self {
            GeneratorSpec::SemesterPeak(params) => params.generate(seed),
            GeneratorSpec::NotebookDay(params) => params.generate(seed),
            GeneratorSpec::ConferenceDeadline(params) => params.generate(seed),
            GeneratorSpec::Poisson(params) => params.generate(seed),
        }
    }
}

/// Numbers and orders what the parts generated: jobs by submit time (ties keep generation
/// order, which is itself deterministic), ids 1..=N; then sessions by opening time, each
/// taking the next `cells.len()` ids.
pub(crate) fn assemble(mut jobs: Vec<Job>, mut sessions: Vec<Session>) -> Workload {
    jobs.sort_by_key(|job| job.submit_time);
    for (index, job) in jobs.iter_mut().enumerate() {
        job.id = JobId(index as u64 + 1);
    }
    sessions.sort_by_key(|session| session.opened);
    let mut next = jobs.len() as u64 + 1;
    for (index, session) in sessions.iter_mut().enumerate() {
        session.id = index as u64 + 1;
        session.first_cell_id = JobId(next);
        session.template.id = JobId(next);
        session.template.submit_time = session.opened;
        next += session.cells.len() as u64;
    }
    Workload { jobs, sessions }
}
