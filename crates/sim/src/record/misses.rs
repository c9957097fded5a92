//! Why a job missed its deadline: one stable code per missed job, for `jobs.csv`
//! (`deadline_miss`), `summary.json` (`deadline_misses`) and the report. The codes, in the
//! order they are tried (the first that fits names the miss):
//!
//! - `infeasible-at-submission`: refused the moment it arrived (no wait at all): nothing could
//!   have finished it in time, or nothing could run it;
//! - `preempted`: evicted at least once, and the work it lost made it late;
//! - `provisioning-latency`: it burst, and would have met its deadline but for the time its
//!   rented GPUs took to come up;
//! - `burst-too-late`: it burst, and finished late anyway;
//! - `sensitive-stuck-private`: its data may not leave the private fleet, which was full;
//! - `may-not-burst`: not burstable, or its budget is fixed: private only, and that was full;
//! - `budget-spent`: it could have burst, but its own or its tenant's budget (or the part of
//!   it the policy lets it spend) had run out;
//! - `no-public-option`: no public flavor, quota, offer GPUs or offer fast enough for it;
//! - `queued-private`: it waited privately for any other reason (the policy never bursts, its
//!   wait had not passed, or it ran late on a private GPU).

use super::jobs::{JobRecord, Outcome, PROVISIONING};
use alloc_core::{BudgetKind, DataClass};

/// Every code, in the order they are tried: the report's column order.
pub const CODES: [&str; 9] = [
    "infeasible-at-submission",
    "preempted",
    "provisioning-latency",
    "burst-too-late",
    "sensitive-stuck-private",
    "may-not-burst",
    "budget-spent",
    "no-public-option",
    "queued-private",
];

impl JobRecord {
    /// Why the job missed its deadline; `None` when it has none or met it.
    pub fn deadline_miss(&self) -> Option<&'static str> {
        if self.deadline_met()? {
            return None;
        }
        let waited: u64 = self.waited_for.iter().map(|(_, ms)| ms).sum();
        if self.outcome == Outcome::Rejected && waited == 0 {
            return Some("infeasible-at-submission");
        }
        if self.preemptions > 0 {
            return Some("preempted");
        }
        if self.public {
            let provisioning = self
                .waited_for
                .iter()
                .find(|(code, _)| *code == PROVISIONING)
                .map_or(0, |(_, ms)| *ms);
            let on_time_without = match (self.end, self.job.deadline) {
                (Some(end), Some(deadline)) => end.0.saturating_sub(provisioning) <= deadline.0,
                _ => false,
            };
            return Some(if on_time_without && provisioning > 0 {
                "provisioning-latency"
            } else {
                "burst-too-late"
            });
        }
        if self.job.data_class == DataClass::Sensitive {
            return Some("sensitive-stuck-private");
        }
        if !self.job.burstable || self.job.budget.kind == BudgetKind::Fixed {
            return Some("may-not-burst");
        }
        Some(match self.no_burst_reason {
            Some(
                "tenant-budget" | "job-budget" | "kept-for-deadlines" | "budget-paced"
                | "rescue-cap",
            ) => "budget-spent",
            Some("no-public-flavor" | "public-quota" | "offer-cap" | "public-too-late") => {
                "no-public-option"
            }
            _ => "queued-private",
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc_core::testing::JobBuilder;
    use alloc_core::{Millis, Time};

    fn missed() -> JobRecord {
        let job = JobBuilder::gpus(1)
            .burstable()
            .runtime(Millis::hours(1))
            .deadline(Time(2 * 3_600_000))
            .build();
        let mut record = JobRecord::new(job);
        record.outcome = Outcome::Finished;
        record.end = Some(Time(3 * 3_600_000));
        record.charge("no-flavor-fits", 3_600_000);
        record
    }

    #[test]
    fn every_miss_gets_the_first_reason_that_fits() {
        let mut record = missed();
        assert_eq!(record.deadline_miss(), Some("queued-private"));
        record.no_burst_reason = Some("kept-for-deadlines");
        assert_eq!(record.deadline_miss(), Some("budget-spent"));
        record.no_burst_reason = Some("public-too-late");
        assert_eq!(record.deadline_miss(), Some("no-public-option"));
        record.job.burstable = false;
        assert_eq!(record.deadline_miss(), Some("may-not-burst"));
        record.job.data_class = DataClass::Sensitive;
        assert_eq!(record.deadline_miss(), Some("sensitive-stuck-private"));
        record.preemptions = 1;
        assert_eq!(record.deadline_miss(), Some("preempted"));
    }

    #[test]
    fn a_burst_late_only_by_its_provisioning_says_so() {
        let mut record = missed();
        record.public = true;
        assert_eq!(record.deadline_miss(), Some("burst-too-late"));
        // ended 1 h late after 70 min of provisioning
        record.charge(PROVISIONING, 70 * 60_000);
        assert_eq!(record.deadline_miss(), Some("provisioning-latency"));
    }

    #[test]
    fn a_refusal_on_arrival_is_infeasible_and_a_met_deadline_is_no_miss() {
        let mut record = JobRecord::new(missed().job);
        record.outcome = Outcome::Rejected;
        assert_eq!(record.deadline_miss(), Some("infeasible-at-submission"));
        let mut met = missed();
        met.end = Some(Time(3_600_000));
        assert_eq!(met.deadline_miss(), None);
        let mut no_deadline = missed();
        no_deadline.job.deadline = None;
        assert_eq!(no_deadline.deadline_miss(), None);
        assert!(CODES.contains(&missed().deadline_miss().unwrap()));
    }
}
