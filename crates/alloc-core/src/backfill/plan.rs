//! Where and when a reservation is planned: the node of one of the job's flavors where its
//! GPUs are expected free first, by the running jobs' expected ends, no earlier than its
//! queue's quota there is expected back, and what will be spare then.

use super::{Reservation, Reservations};
use crate::decision::{FlavorMiss, Miss};
use crate::ids::{NodeName, QueueName};
use crate::model::{ClusterQueue, Flavor, GpuRequest, Job, Resource};
use crate::units::{MilliGpu, Time};
use crate::view::View;
use std::collections::BTreeMap;

impl Reservations {
    /// The reservation for `job` (of `queue`), which waits because no candidate flavor has
    /// room (`misses`): the node with the earliest expected start among the candidates where
    /// its queue has quota for the resources at all and that have fewer than `per_flavor`
    /// reservations; none if it is not a large whole-GPU job or no node could ever take it.
    pub(super) fn best_plan(
        &self,
        view: &View<'_>,
        job: &Job,
        queue: &ClusterQueue,
        candidates: &[&Flavor],
        misses: &[FlavorMiss],
    ) -> Option<Reservation> {
        let policy = view.policy.backfill;
        if !policy.may_reserve(job, view.ledgers.fleet.largest_node_gpus()) {
            return None;
        }
        let mut best: Option<Reservation> = None;
        for flavor in candidates {
            // A queue without quota for the resource here never runs it here; a quota short
            // now is not ruled out, so that whether a job may reserve does not change with
            // the admissions of the jobs behind it.
            let may_run_here = misses
                .iter()
                .any(|m| m.flavor == flavor.name && !matches!(m.miss, Miss::NoQuota { .. }));
            if !may_run_here || self.on_flavor(&flavor.name) >= policy.per_flavor as usize {
                continue;
            }
            if let Some(planned) = self.plan_on(view, job, queue, flavor) {
                if best.as_ref().is_none_or(|b| planned.start < b.start) {
                    best = Some(planned);
                }
            }
        }
        best
    }

    /// The node of `flavor` where `job` is expected to start first (ties: the first by name)
    /// among those no other reservation holds; `None` for a job too small to reserve for or
    /// one no node could ever take.
    pub(super) fn plan_on(
        &self,
        view: &View<'_>,
        job: &Job,
        queue: &ClusterQueue,
        flavor: &Flavor,
    ) -> Option<Reservation> {
        let GpuRequest::Whole { count, min_vram } = job.gpu else {
            return None;
        };
        if count < view.policy.backfill.min_gpus {
            return None;
        }
        // Quota: the queue's room now, and what the running jobs sharing it on the flavor
        // give back as they end. Approximate (borrowing and lending limits are read only
        // through the room now), as the expected ends are.
        let short = match view
            .quota_view()
            .assess(queue, &flavor.name, &job.quota_usage())
        {
            Ok(_) => 0,
            Err(Miss::Quota {
                resource: Resource::Gpu,
                needed,
                available,
                ..
            }) => needed.saturating_sub(available),
            Err(Miss::Quota { .. }) => 0,
            Err(_) => return None,
        };
        let needed = u64::from(count) * MilliGpu::WHOLE.0;
        let mut nodes: BTreeMap<&NodeName, Plan> = view
            .ledgers
            .fleet
            .nodes_of(&flavor.name)
            .filter(|node| {
                crate::placement::could_take(job, node)
                    && node.vram_per_gpu >= min_vram
                    && node.spec.gpus >= count
                    && !self.list.iter().any(|r| r.node == node.spec.name)
            })
            .map(|node| {
                let free = node.gpus.iter().map(|gpu| gpu.free.0).sum();
                (&node.spec.name, Plan::new(free))
            })
            .collect();
        if nodes.is_empty() {
            return None;
        }
        let mut quota = Plan::new(0);
        let shares_quota = |other: &QueueName| {
            *other == queue.name
                || view
                    .config
                    .cluster_queues
                    .get(other)
                    .is_some_and(|other| other.cohort.is_some() && other.cohort == queue.cohort)
        };
        for running in view.running.values() {
            let placement = &running.placement;
            // a victim's GPUs go to its preemptor, not to the reserved job
            if placement.public.is_some() || running.evicting.is_some() {
                continue;
            }
            let end = running.expected_end();
            for share in &placement.nodes {
                if let Some(plan) = nodes.get_mut(&share.node) {
                    let milli = share.gpus.iter().map(|gpu| gpu.milli.0).sum();
                    plan.ends.push((end, milli));
                }
            }
            if placement.flavor == flavor.name && shares_quota(&placement.queue) {
                quota.ends.push((end, running.job.gpu.milli().0));
            }
        }
        let mut best: Option<(Time, &NodeName, Plan)> = None;
        for (node, plan) in nodes {
            let Some((start, _)) = plan.clone().earliest_start(needed) else {
                continue;
            };
            if best.as_ref().is_none_or(|(b, _, _)| start < *b) {
                best = Some((start, node, plan));
            }
        }
        let (node_start, node, plan) = best?;
        let (quota_start, _) = quota.clone().earliest_start(short)?;
        let start = node_start.max(quota_start).max(self.now);
        Some(Reservation {
            job: job.id,
            priority: job.priority,
            flavor: flavor.name.clone(),
            node: node.clone(),
            start,
            spare: plan.freed_by(start).saturating_sub(needed),
            queue: queue.name.clone(),
            cohort: queue.cohort.clone(),
            quota_spare: quota.freed_by(start).saturating_sub(short),
        })
    }
}

/// One node's free milli-GPU now and its running jobs' expected ends with what each frees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    free: u64,
    ends: Vec<(Time, u64)>,
}

impl Plan {
    pub(crate) fn new(free: u64) -> Plan {
        Plan {
            free,
            ends: Vec::new(),
        }
    }

    /// Milli-GPU free now plus what the jobs expected to end by `at` free.
    pub(crate) fn freed_by(&self, at: Time) -> u64 {
        let ended: u64 = self
            .ends
            .iter()
            .filter(|(end, _)| *end <= at)
            .map(|(_, milli)| milli)
            .sum();
        self.free + ended
    }

    /// When `needed` milli-GPU are expected free at the earliest (`Time::ZERO`: already), and
    /// how much more than `needed` is free then; `None` if not even every running job ending
    /// frees enough. Independent of the clock (see the module docs).
    pub(crate) fn earliest_start(mut self, needed: u64) -> Option<(Time, u64)> {
        if self.free >= needed {
            return Some((Time::ZERO, self.free - needed));
        }
        self.ends.sort_unstable();
        let mut free = self.free;
        let mut start = None;
        for (end, milli) in self.ends {
            if start.is_some_and(|start| end > start) {
                break;
            }
            free += milli;
            if free >= needed {
                start = Some(end);
            }
        }
        start.map(|start| (start, free - needed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(free: u64, ends: &[(u64, u64)]) -> Plan {
        Plan {
            free,
            ends: ends.iter().map(|&(t, m)| (Time(t), m)).collect(),
        }
    }

    #[test]
    fn start_is_the_end_that_frees_enough_and_spare_counts_ties() {
        // 2 GPUs free, jobs of 2, 2 and 4 GPUs end at 30, 10 and 10: 8 are free at 10
        let p = plan(2000, &[(30, 2000), (10, 2000), (10, 4000)]);
        assert_eq!(p.clone().earliest_start(8000), Some((Time(10), 0)));
        assert_eq!(p.clone().earliest_start(6000), Some((Time(10), 2000)));
        assert_eq!(p.clone().earliest_start(10_000), Some((Time(30), 0)));
        assert_eq!(p.earliest_start(10_001), None);
    }

    #[test]
    fn free_gpus_mean_a_start_before_any_clock() {
        assert_eq!(
            plan(8000, &[(5, 1000)]).earliest_start(4000),
            Some((Time::ZERO, 4000))
        );
    }
}
