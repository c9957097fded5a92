//! Rejections that need prices and runtimes, and the one for a job only public flavors could
//! run that may not burst.

use super::offers;
use crate::decision::RejectReason;
use crate::memo::Screened;
use crate::model::Job;
use crate::progress::Progress;
use crate::units::{Money, Time};
use crate::view::View;

impl View<'_> {
    /// A job no private flavor of its queue could ever take (none of its tier, or each above
    /// the queue's quota ceiling) runs only if it bursts: one that may not is rejected with
    /// the rule it fails.
    pub(crate) fn screen_public_only(
        &self,
        job: &Job,
        screened: &Screened<'_>,
    ) -> Result<(), RejectReason> {
        if screened.private_fits {
            return Ok(());
        }
        self.may_burst(job)
            .map_err(|why| RejectReason::MayNotBurst {
                queue: screened.queue.name.clone(),
                why,
            })
    }

    /// Rejections that need prices and runtimes: a deadline no flavor or offer can meet even
    /// if the job started now (only when the policy asks), and, for a job only public
    /// flavors could run, a flexible limit (with the policy's overrun) below every offer.
    pub(crate) fn screen_deadline_and_budget(
        &self,
        job: &Job,
        progress: &Progress,
        screened: &Screened<'_>,
        now: Time,
    ) -> Result<(), RejectReason> {
        let may_burst = self.may_burst(job).is_ok();
        let checks_budget = !screened.private_fits && may_burst && job.budget.limit.is_some();
        let deadline = job
            .deadline
            .filter(|_| self.policy.reject_infeasible_deadlines);
        let private_end = || {
            screened
                .fastest_private_run(job, progress)
                .map(|run| now + run)
        };
        // Every pending job passes here each cycle: price offers only when a rule needs them,
        // and not for a deadline the private fleet alone could meet.
        let checks_deadline =
            deadline.is_some_and(|deadline| private_end().is_none_or(|end| end > deadline));
        if !checks_budget && !checks_deadline {
            return Ok(());
        }
        // the cheapest offer and the earliest public end, in one pass over the public flavors
        // (none priced for a job that may not burst)
        let public = if may_burst { &screened.public[..] } else { &[] };
        let (cheapest, public_end) = public
            .iter()
            .filter_map(|flavor| offers::quote(self.offers, job, progress, flavor, now))
            .fold(
                (None, None),
                |(cost, end): (Option<Money>, Option<Time>), q| {
                    (
                        Some(cost.map_or(q.cost, |c| c.min(q.cost))),
                        Some(end.map_or(q.end, |e| e.min(q.end))),
                    )
                },
            );
        if checks_budget {
            if let (Some(limit), Some(cheapest)) = (job.budget.limit, cheapest) {
                if i128::from(cheapest.0) > self.policy.burst.flex_ceiling(limit) {
                    return Err(RejectReason::BudgetTooSmall { limit, cheapest });
                }
            }
        }
        let Some(deadline) = deadline else {
            return Ok(());
        };
        let earliest = match (private_end(), public_end) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return Ok(()),
        };
        if earliest > deadline {
            return Err(RejectReason::DeadlineInfeasible {
                deadline,
                earliest_end: earliest,
            });
        }
        Ok(())
    }
}
