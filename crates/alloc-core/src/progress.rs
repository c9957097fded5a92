//! What a job has done across its attempts: the work still to do as of its last checkpoint,
//! and how often a preemption evicted it. Deadlines, burst prices, victim costs and expected
//! ends are planned with the work still to do, not with the job's whole runtime.
//!
//! The core estimates the work a stop keeps when it evicts a victim itself (it knows when and
//! where the attempt ran); a shell that knows better (the twin's runtime model, a checkpoint
//! the job reported) says so with [`Input::JobProgress`](crate::Input::JobProgress), and
//! after a stop the core did not decide (a node lost, an admission that failed) only the
//! shell knows: until it says, the job is planned as if the attempt kept nothing.

use crate::model::Job;
use crate::units::{Millis, Time};
use serde::{Deserialize, Serialize};

/// A job's progress across attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Reference work still to do as of the last checkpoint: the job's runtime before it ran.
    pub remaining: Millis,
    /// Times a preemption evicted it.
    pub evictions: u32,
}

/// What stopping an attempt keeps and wastes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop {
    /// Reference work done up to the attempt's last checkpoint.
    pub kept: Millis,
    /// Wall time the attempt spent that the job will have to spend again: its restore and
    /// everything computed since its last checkpoint.
    pub lost: Millis,
}

impl Progress {
    /// A job that has not run yet.
    pub fn new(job: &Job) -> Progress {
        Progress {
            remaining: job.runtime,
            evictions: 0,
        }
    }

    /// Whether the job restarts from a checkpoint, paying its restore cost first.
    pub fn resumes(&self, job: &Job) -> bool {
        self.remaining < job.runtime
    }

    /// What the next attempt pays before it computes.
    pub fn restore(&self, job: &Job) -> Millis {
        if self.resumes(job) {
            job.restore_cost
        } else {
            Millis::ZERO
        }
    }

    /// Wall time the next attempt takes on a GPU of `speed_permille`: restore, then the
    /// remaining work at that speed.
    pub fn runtime_at(&self, job: &Job, speed_permille: u32) -> Millis {
        self.restore(job) + self.remaining.at_speed(speed_permille)
    }

    /// Stopping at `now` an attempt that began computing-or-restoring at `began` on a GPU of
    /// `speed_permille`, with this progress at its start: work kept at its last checkpoint
    /// (every `checkpoint_interval` of compute; nothing without checkpoints) and time lost.
    /// The twin's runtime model computes the same, with MPS interference on top.
    pub fn stop(&self, job: &Job, began: Time, now: Time, speed_permille: u32) -> Stop {
        let elapsed = now.since(began);
        let needed = self.remaining.at_speed(speed_permille);
        let computed = elapsed.saturating_sub(self.restore(job)).0.min(needed.0);
        let kept_wall = match job.checkpoint_interval {
            Some(interval) if interval.0 > 0 => computed - computed % interval.0,
            _ => 0,
        };
        let kept = if needed.0 == 0 {
            0
        } else {
            (u128::from(self.remaining.0) * u128::from(kept_wall) / u128::from(needed.0)) as u64
        };
        Stop {
            kept: Millis(kept),
            lost: Millis(elapsed.0.saturating_sub(kept_wall)),
        }
    }

    /// The progress after a stop that kept `kept`; `evicted` when a preemption stopped it.
    pub fn after(&self, kept: Millis, evicted: bool) -> Progress {
        Progress {
            remaining: self.remaining.saturating_sub(kept),
            evictions: self.evictions + u32::from(evicted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::JobBuilder;

    #[test]
    fn a_stop_keeps_work_up_to_the_last_checkpoint_and_loses_the_rest() {
        let mut job = JobBuilder::gpus(1).runtime(Millis::hours(2)).build();
        job.checkpoint_interval = Some(Millis::minutes(30));
        job.restore_cost = Millis::minutes(5);
        let fresh = Progress::new(&job);
        // 70 min on a 2× GPU: 70 min of compute, checkpoints at 30 and 60 = 120 min of work
        let stop = fresh.stop(&job, Time(0), Time(0) + Millis::minutes(70), 2000);
        assert_eq!(stop.kept, Millis::minutes(120));
        assert_eq!(stop.lost, Millis::minutes(10));
        // on a reference GPU: 60 min of work kept
        let stop = fresh.stop(&job, Time(0), Time(0) + Millis::minutes(70), 1000);
        assert_eq!(stop.kept, Millis::minutes(60));
        let resumed = fresh.after(stop.kept, true);
        assert_eq!(resumed.remaining, Millis::minutes(60));
        assert_eq!(resumed.evictions, 1);
        assert!(resumed.resumes(&job));
        assert_eq!(resumed.runtime_at(&job, 1000), Millis::minutes(65));
        // a resumed attempt pays its restore before computing: 34 min = 5 + 29, nothing kept
        let stop = resumed.stop(&job, Time(0), Time(0) + Millis::minutes(34), 1000);
        assert_eq!(stop.kept, Millis::ZERO);
        assert_eq!(stop.lost, Millis::minutes(34));
        job.checkpoint_interval = None;
        let stop = fresh.stop(&job, Time(0), Time(0) + Millis::minutes(70), 1000);
        assert_eq!((stop.kept, stop.lost), (Millis::ZERO, Millis::minutes(70)));
    }
}
