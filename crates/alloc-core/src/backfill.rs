//! Reservations and backfill (Slurm's EASY backfill, per flavor): a large job that cannot
//! start because smaller ones keep taking the GPUs it needs gets a reservation — the node of
//! one of its flavors where enough GPUs are expected to be free first, by the running jobs'
//! expected ends, no earlier than enough of its queue's quota there is expected back — and
//! the jobs decided after it may start on that node, or take quota it waits for, only if they
//! end (by their estimate) before the reservation's start or use what it will not need then.
//!
//! - **Who**: the first `per_flavor` waiting whole-GPU jobs of at least `min_gpus` GPUs per
//!   flavor that no flavor has room for (quota or nodes), in the cycle's order.
//! - **Until when**: a job keeps its reservation while it waits and is decided first in every
//!   cycle (`Scheduler::pending_order`), so a job is never held for one that then starts
//!   elsewhere in the same cycle, and which jobs hold one does not move with the scores. The
//!   node and start are planned again from the state every cycle: an early end, an arrival
//!   or an overrun changes the next plan, and nothing blocks for good.
//! - **Overruns**: a job past its expected end counts as ending now (the start is never before
//!   `now`), so it holds the node's GPUs from shorter jobs only while it actually runs.
//! - **Priority**: a job of higher priority than the reserved one is never held back.
//! - **Elsewhere**: a held job is placed again on the nodes no reservation needs before it
//!   waits (placement prefers the node a reservation drains: it has the most free).
//!
//! The plan reads only the running jobs' expected ends and the quota now, never `now`: which
//! jobs a reservation holds back can then only grow as the clock moves (a job held at `now`
//! ends after the start, and still does later), so a held wait needs no clock bound (`clock`).

use crate::decision::{FlavorMiss, Miss, Placement, WaitReason};
use crate::ids::{CohortName, FlavorName, JobId, NodeName, QueueName};
use crate::memo::Rooms;
use crate::model::{ClusterQueue, Flavor, GpuRequest, Job, Resource};
use crate::progress::Progress;
use crate::state::NodeState;
use crate::units::{MilliGpu, Time};
use crate::view::View;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether and for whom the cycle makes reservations (`Policy::backfill`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Backfill {
    /// Make reservations at all; off, smaller jobs take whatever is free (Kueue's behaviour).
    pub enabled: bool,
    /// Reservations per flavor: the first this many large jobs (in the cycle's order) that
    /// cannot fit get one there, and keep it until they start. One is EASY backfill; more
    /// approach Slurm's conservative backfill at more cost to the jobs behind.
    pub per_flavor: u32,
    /// Only whole-GPU jobs of at least this many GPUs get a reservation: a one-GPU job that
    /// cannot fit waits only for the next GPU to free, which it takes in the order anyway.
    /// Jobs spread over nodes are reserved one node like the rest (their GPUs fit one node
    /// of the flavor, or they get none).
    pub min_gpus: u32,
}

impl Default for Backfill {
    fn default() -> Self {
        Backfill {
            enabled: false,
            per_flavor: 1,
            min_gpus: 2,
        }
    }
}

impl Backfill {
    /// EASY backfill: one reservation per flavor, for jobs of two GPUs or more. No preset
    /// turns it on (see `Policy::preset`).
    pub fn easy() -> Backfill {
        Backfill {
            enabled: true,
            ..Backfill::default()
        }
    }
}

/// One reservation: the node where `job` is planned to start, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reservation {
    pub job: JobId,
    /// The reserved job's priority: a job of higher priority is never held back for it.
    pub priority: i32,
    pub flavor: FlavorName,
    pub node: NodeName,
    /// When the node is expected to have the job's GPUs free, by the running jobs' expected
    /// ends; `Time::ZERO` when they are free already (the job is short of something else). The
    /// reservation starts at this or `now`, whichever is later.
    pub start: Time,
    /// Milli-GPU the node is expected to have free at `start` beyond the job's need: what the
    /// jobs admitted after it that run past `start` may take there.
    pub spare: u64,
    /// The reserved job's ClusterQueue and its cohort: whose quota on `flavor` it needs.
    pub queue: QueueName,
    pub cohort: Option<CohortName>,
    /// GPU quota (milli) expected free for it on `flavor` at `start` beyond its need: what
    /// the jobs sharing that quota that run past `start` may take, on any node.
    pub quota_spare: u64,
}

impl Reservation {
    /// Whether the reservation may hold `job` back: not its own job, nor one of higher
    /// priority (which Kueue's order puts first; Slurm reserves for the highest priority and
    /// backfills the rest).
    fn holds_back(&self, job: &Job) -> bool {
        self.job != job.id && job.priority <= self.priority
    }

    /// Whether a job of `queue` draws on the quota the reserved job waits for.
    fn shares_quota(&self, queue: &ClusterQueue) -> bool {
        queue.name == self.queue || (queue.cohort.is_some() && queue.cohort == self.cohort)
    }

    /// What `job` of `queue`, booked on `flavor` with `on_node` milli-GPU on the reserved
    /// node until `end`, would take from the node's and the quota's spare at the start.
    fn takes(
        &self,
        job: &Job,
        queue: &ClusterQueue,
        flavor: &FlavorName,
        on_node: u64,
        end: Time,
        now: Time,
    ) -> (u64, u64) {
        if !self.holds_back(job) || end <= self.start.max(now) {
            return (0, 0);
        }
        let quota = if *flavor == self.flavor && self.shares_quota(queue) {
            job.gpu.milli().0
        } else {
            0
        };
        (on_node, quota)
    }
}

/// The reservations made so far in one cycle.
#[derive(Debug, Default)]
pub(crate) struct Reservations {
    list: Vec<Reservation>,
}

impl Reservations {
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn list(&self) -> &[Reservation] {
        &self.list
    }

    /// Each reservation's job, node and start, for the tests.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn planned(&self) -> Vec<crate::testing::Reserved> {
        self.list
            .iter()
            .map(|r| crate::testing::Reserved {
                job: r.job,
                node: r.node.clone(),
                start: r.start,
            })
            .collect()
    }

    /// Books `placement` of `job` (of `queue`), expected to end at `end`, against the other
    /// jobs' reservations: `Err` names the first one it would delay (and nothing is booked);
    /// otherwise the GPUs and quota it keeps past a reservation's start come out of that
    /// reservation's spare.
    pub(crate) fn admit(
        &mut self,
        job: &Job,
        queue: &ClusterQueue,
        placement: &Placement,
        end: Time,
        now: Time,
    ) -> Result<(), WaitReason> {
        if placement.public.is_some() {
            return Ok(());
        }
        let takes = |reservation: &Reservation| {
            let on_node = placement
                .nodes
                .iter()
                .filter(|share| share.node == reservation.node)
                .flat_map(|share| share.gpus.iter())
                .map(|gpu| gpu.milli.0)
                .sum();
            reservation.takes(job, queue, &placement.flavor, on_node, end, now)
        };
        let delayed = self.list.iter().find(|r| {
            let (node, quota) = takes(r);
            node > r.spare || quota > r.quota_spare
        });
        if let Some(delayed) = delayed {
            return Err(WaitReason::HeldForReservation {
                job: delayed.job,
                flavor: delayed.flavor.clone(),
                node: delayed.node.clone(),
            });
        }
        for reservation in &mut self.list {
            let (node, quota) = takes(reservation);
            reservation.spare -= node;
            reservation.quota_spare -= quota;
        }
        Ok(())
    }

    /// Whether `job` of `queue` on `node` (of `flavors`) until `end` would delay a reservation
    /// that may hold it back: where a held job may not go instead.
    pub(crate) fn delays(
        &self,
        job: &Job,
        queue: &ClusterQueue,
        node: &NodeName,
        flavors: &[FlavorName],
        end: Time,
        now: Time,
    ) -> bool {
        let milli = job.gpu.milli().0;
        self.list.iter().any(|r| {
            let on_node = if r.node == *node { milli } else { 0 };
            let flavor = flavors
                .iter()
                .find(|f| **f == r.flavor)
                .unwrap_or(&r.flavor);
            let quota = flavors.contains(&r.flavor);
            let (node, quota_taken) = r.takes(job, queue, flavor, on_node, end, now);
            node > r.spare || (quota && quota_taken > r.quota_spare)
        })
    }

    fn on_flavor(&self, flavor: &FlavorName) -> usize {
        self.list.iter().filter(|r| r.flavor == *flavor).count()
    }

    /// Ends `job`'s reservation: it starts, was rejected, or left.
    pub(crate) fn release(&mut self, job: JobId) {
        self.list.retain(|r| r.job != job);
    }

    /// Which job holds a reservation on which flavor: what the next cycle plans again.
    pub(crate) fn kept(&self) -> Vec<(JobId, FlavorName)> {
        self.list
            .iter()
            .map(|r| (r.job, r.flavor.clone()))
            .collect()
    }

    /// Plans again the reservation `job` (of `queue`) held on `flavor` last cycle; the cycle
    /// decides the jobs holding one first, so this comes before anybody it may hold back. A
    /// job keeps its reservation until it starts, so which job holds one follows neither the
    /// order (which a score moves with the clock) nor what held it up last time.
    pub(crate) fn plan_again(
        &mut self,
        view: &View<'_>,
        job: &Job,
        queue: &ClusterQueue,
        flavor: &Flavor,
    ) {
        if self.list.iter().any(|r| r.job == job.id) {
            return;
        }
        let planned = self.plan_on(view, job, queue, flavor);
        self.list.extend(planned);
    }

    /// Reserves for `job` (of `queue`), which waits because no candidate flavor has room
    /// (`misses`), the node with the earliest expected start among the candidates where its
    /// queue has quota for the resources at all and that have fewer than `per_flavor`
    /// reservations; nothing if it holds one already, is not a large whole-GPU job, or no
    /// node could ever take it.
    pub(crate) fn reserve(
        &mut self,
        view: &View<'_>,
        job: &Job,
        queue: &ClusterQueue,
        candidates: &[&Flavor],
        misses: &[FlavorMiss],
    ) {
        let policy = view.policy.backfill;
        let large = matches!(job.gpu, GpuRequest::Whole { count, .. } if count >= policy.min_gpus);
        if !policy.enabled || !large || self.list.iter().any(|r| r.job == job.id) {
            return;
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
        self.list.extend(best);
    }

    /// The node of `flavor` where `job` is expected to start first (ties: the first by name)
    /// among those no other reservation holds; `None` for a job too small to reserve for or
    /// one no node could ever take.
    fn plan_on(
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
            if placement.public.is_some() {
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
        let start = node_start.max(quota_start);
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

impl View<'_> {
    /// Whether `placement`, where the job (with its progress, queue and private candidates)
    /// fits, delays no reservation: then it is booked against them; otherwise the job is
    /// placed again on the nodes no reservation needs — placement prefers the node a
    /// reservation drains, which has the most free — and `Err` says which reservation holds
    /// it back if none will do.
    pub(crate) fn backfill<'c>(
        &self,
        (job, progress, queue, candidates): (&Job, &Progress, &'c ClusterQueue, &[&'c Flavor]),
        placement: Placement,
        reservations: &mut Reservations,
        rooms: &mut Rooms<'c>,
        now: Time,
    ) -> Result<Placement, WaitReason> {
        let end_on =
            |placement: &Placement| now + progress.runtime_at(job, self.placement_speed(placement));
        let end = end_on(&placement);
        let held = match reservations.admit(job, queue, &placement, end, now) {
            Ok(()) => return Ok(placement),
            Err(held) => held,
        };
        let fleet = &self.ledgers.fleet;
        let avoid = |node: &NodeState| {
            let name = &node.spec.name;
            reservations.delays(job, queue, name, fleet.flavors_of(name), end, now)
        };
        let Ok(elsewhere) = self.assign_avoiding(job, queue, candidates, rooms, Some(&avoid))
        else {
            return Err(held);
        };
        let end = end_on(&elsewhere);
        match reservations.admit(job, queue, &elsewhere, end, now) {
            Ok(()) => Ok(elsewhere),
            Err(_) => Err(held),
        }
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
    use crate::decision::{GpuShare, NodeShare};
    use crate::ids::{ClusterName, QueueName};
    use crate::model::Tier;
    use crate::units::{CpuMilli, MemMib, VramMib};

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

    fn placement(node: &str, gpus: u32) -> Placement {
        let share = NodeShare {
            node: NodeName::new(node),
            gpus: (0..gpus)
                .map(|index| GpuShare {
                    index,
                    milli: MilliGpu::WHOLE,
                    vram: VramMib(1),
                })
                .collect(),
            cpu: CpuMilli(0),
            memory: MemMib(0),
        };
        Placement {
            cluster: ClusterName::new("c"),
            flavor: FlavorName::new("f"),
            tier: Tier::Bronze,
            queue: QueueName::new("q"),
            nodes: vec![share],
            borrowing: false,
            passed_over: Vec::new(),
            public: None,
        }
    }

    /// A queue that shares no quota with the reservations' queue: only nodes are held.
    fn other_queue() -> ClusterQueue {
        let config = crate::testing::ConfigBuilder::new()
            .private_flavor("f", Tier::Bronze)
            .queue("q", &[("f", crate::Quota::nominal(8000))])
            .build();
        config.cluster_queues[&QueueName::new("q")].clone()
    }

    fn small() -> Job {
        crate::testing::JobBuilder::gpus(1).id(1).build()
    }

    fn reserved(start: u64, spare: u64) -> Reservations {
        Reservations {
            list: vec![Reservation {
                job: JobId(7),
                priority: 0,
                flavor: FlavorName::new("f"),
                node: NodeName::new("n1"),
                start: Time(start),
                spare,
                queue: QueueName::new("reserved"),
                cohort: None,
                quota_spare: 0,
            }],
        }
    }

    #[test]
    fn a_job_ending_before_the_start_backfills_and_one_ending_after_is_held() {
        let mut r = reserved(100, 0);
        assert_eq!(
            r.admit(
                &small(),
                &other_queue(),
                &placement("n1", 2),
                Time(100),
                Time(0)
            ),
            Ok(())
        );
        let held = r.admit(
            &small(),
            &other_queue(),
            &placement("n1", 1),
            Time(101),
            Time(0),
        );
        assert!(matches!(
            held,
            Err(WaitReason::HeldForReservation { job: JobId(7), .. })
        ));
        // other nodes are never held
        assert_eq!(
            r.admit(
                &small(),
                &other_queue(),
                &placement("n2", 8),
                Time(10_000),
                Time(0)
            ),
            Ok(())
        );
    }

    #[test]
    fn spare_gpus_take_long_jobs_until_used_up() {
        let mut r = reserved(100, 2000);
        assert_eq!(
            r.admit(
                &small(),
                &other_queue(),
                &placement("n1", 1),
                Time(500),
                Time(0)
            ),
            Ok(())
        );
        assert_eq!(
            r.admit(
                &small(),
                &other_queue(),
                &placement("n1", 1),
                Time(500),
                Time(0)
            ),
            Ok(())
        );
        assert!(r
            .admit(
                &small(),
                &other_queue(),
                &placement("n1", 1),
                Time(500),
                Time(0)
            )
            .is_err());
        assert_eq!(r.list()[0].spare, 0);
    }

    #[test]
    fn quota_the_reserved_job_waits_for_is_held_on_every_node() {
        // reserved for a job of queue q, which waits for q's quota on f too
        let mut r = reserved(100, 8000);
        r.list[0].queue = QueueName::new("q");
        r.list[0].quota_spare = 1000;
        let (queue, job) = (other_queue(), small());
        // another node, same flavor and queue: it takes the one spare GPU of quota...
        assert_eq!(
            r.admit(&job, &queue, &placement("n2", 1), Time(500), Time(0)),
            Ok(())
        );
        // ...and the next is held though n1 keeps all its GPUs spare
        assert!(matches!(
            r.admit(&job, &queue, &placement("n2", 1), Time(500), Time(0)),
            Err(WaitReason::HeldForReservation { job: JobId(7), .. })
        ));
        assert!(r.delays(
            &job,
            &queue,
            &NodeName::new("n3"),
            &[FlavorName::new("f")],
            Time(500),
            Time(0)
        ));
        assert!(!r.delays(
            &job,
            &queue,
            &NodeName::new("n3"),
            &[FlavorName::new("g")],
            Time(500),
            Time(0)
        ));
        // ending by the start it takes nothing
        assert_eq!(
            r.admit(&job, &queue, &placement("n2", 1), Time(100), Time(0)),
            Ok(())
        );
    }

    #[test]
    fn an_overrun_start_counts_as_now() {
        // the jobs expected to free the node by 100 still run at 1000: any job that runs past
        // now keeps GPUs the reserved job would take as soon as they end
        let mut r = reserved(100, 0);
        assert!(r
            .admit(
                &small(),
                &other_queue(),
                &placement("n1", 1),
                Time(1001),
                Time(1000)
            )
            .is_err());
        assert_eq!(
            r.admit(
                &small(),
                &other_queue(),
                &placement("n1", 1),
                Time(1000),
                Time(1000)
            ),
            Ok(())
        );
    }
}
