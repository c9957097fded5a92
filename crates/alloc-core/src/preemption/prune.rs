//! A cheap, exact refusal ahead of the search: flavors on which no victim set can work.
//!
//! On a flavor where the preemptor's own ClusterQueue has no job it may evict (by the
//! `withinClusterQueue` rule and [`RunningPriorities`](crate::state::RunningPriorities)), every
//! victim would be a reclaim victim from another queue of the cohort. A set with reclaim
//! victims must let the job fit *without* borrowing (step 4 of the search), yet evicting other
//! queues' jobs leaves the preemptor's own usage as it is: if that usage plus the request is
//! above the queue's nominal quota for some resource, no set can work there. Deep backlogs in
//! a saturated cohort are mostly such jobs, and this answers them without reading the running
//! jobs. The test is conservative: it ignores deadline protection and start times, so it only
//! says "hopeless" when the search would find nothing.

use super::WithinClusterQueue;
use crate::model::{ClusterQueue, Flavor, Job, Resource};
use crate::scheduler::Scheduler;

impl Scheduler {
    /// No victim set on `flavor` can admit `job` of `queue` (see the module docs).
    pub(super) fn hopeless_on(&self, job: &Job, queue: &ClusterQueue, flavor: &Flavor) -> bool {
        let lowest = self.ledgers.priorities.lowest(&queue.name, &flavor.name);
        let own_victims =
            lowest.is_some_and(|lowest| match self.policy.preemption.within_cluster_queue {
                WithinClusterQueue::Never => false,
                WithinClusterQueue::LowerPriority => lowest < job.priority,
                WithinClusterQueue::LowerOrNewerEqualPriority => lowest <= job.priority,
            });
        if own_victims {
            return false;
        }
        let request = job.quota_usage();
        let used = self.ledgers.quota.of(&queue.name, &flavor.name);
        Resource::ALL.into_iter().any(|resource| {
            let needed = request.get(resource);
            let nominal = queue.quota(&flavor.name, resource).map_or(0, |q| q.nominal);
            needed > 0 && used.get(resource).saturating_add(needed) > nominal
        })
    }
}
