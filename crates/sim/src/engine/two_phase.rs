//! Admission in two phases (`--two-phase`), as in a cluster where the core is Kueue's
//! AdmissionCheck: before each cycle, Kueue's flavor assigner reserves quota on one flavor for
//! the pending jobs that have none (by quota alone, in Kueue's order and fungibility order:
//! [`Scheduler::kueue_reservations`](alloc_core::Scheduler::kueue_reservations)); the cycle
//! then decides each reserved job within its flavor (Ready: admitted; Retry: told to wait);
//! after it, every job still holding a reservation that was told to wait loses it, as Kueue
//! evicts and requeues a workload whose check says Retry, and is reserved afresh at a later
//! cycle. A job awaiting its preemption's victims keeps its reservation: it is admitted there
//! once they have stopped.
//!
//! Every reservation and release is an input sent through `to_core`, so an inputs log holds
//! them and replays as the run went. The engine runs the core under `Admission::TwoPhase`,
//! so a job without a reservation waits for one, as in a cluster.

use super::Engine;
use alloc_core::{Input, JobId, Time};
use std::collections::BTreeSet;

impl Engine {
    /// Kueue's first phase: reserves quota for the pending jobs that have none.
    pub(super) fn reserve_quota(&mut self, now: Time) {
        for (job, flavor) in self.scheduler.kueue_reservations() {
            self.apply(
                Input::QuotaReserved {
                    job,
                    flavor: Some(flavor),
                },
                now,
            );
        }
    }

    /// Kueue's Retry: every job told to wait gives its reservation back.
    pub(super) fn release_reservations(&mut self, now: Time) {
        let nominated: BTreeSet<JobId> = self.scheduler.nominated().collect();
        let waiting: Vec<JobId> = self
            .scheduler
            .reservations()
            .map(|(job, _)| job)
            .filter(|job| !nominated.contains(job))
            .collect();
        for job in waiting {
            self.apply(Input::QuotaReserved { job, flavor: None }, now);
        }
    }
}
