//! A job that holds resources, as the scheduler books it and the steps read it.

use crate::decision::Placement;
use crate::ids::JobId;
use crate::model::Job;
use crate::progress::Progress;
use crate::units::{Millis, Time};

/// A job that holds resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// The job as it was admitted.
    pub job: Job,
    /// Where it runs, booked in the ledgers.
    pub placement: Placement,
    /// When this attempt was admitted.
    pub started: Time,
    /// The job's progress when this attempt started.
    pub progress: Progress,
    /// The speed it computes at (‰ of the reference GPU): its rented model for a burst, the
    /// slowest model it runs on otherwise. Fixed for the attempt, and read for every victim
    /// cost and expected end, so kept rather than looked up.
    pub speed_permille: u32,
    /// Set once a preemption chose it as a victim: it keeps its capacity until the shell
    /// reports it stopped, and nobody may choose it again.
    pub evicting: Option<Evicting>,
}

/// A victim on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evicting {
    /// The job that evicts it, which starts once its victims have stopped.
    pub by: JobId,
    /// The reference work the core expects it to keep, as of the preemption; the shell may
    /// correct it after the stop (`Input::JobProgress`).
    pub kept: Millis,
}

impl Running {
    /// When the attempt began restoring or computing: at admission on a private node, once
    /// the rented GPUs are ready for a burst.
    pub fn began(&self) -> Time {
        self.placement
            .public
            .as_ref()
            .map_or(self.started, |lease| lease.ready_at.max(self.started))
    }

    /// When the attempt is expected to end: when it began, plus its restore and the work it
    /// had left then, at the speed it runs at; a burst's lease says when it ends.
    pub fn expected_end(&self) -> Time {
        if let Some(lease) = &self.placement.public {
            return lease.expected_end;
        }
        self.began() + self.progress.runtime_at(&self.job, self.speed_permille)
    }
}
