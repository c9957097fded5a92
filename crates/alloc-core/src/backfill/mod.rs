//! Reservations and backfill (Slurm's EASY backfill, per flavor): a large job that cannot
//! start because smaller ones keep taking the GPUs it needs gets a reservation — the node of
//! one of its flavors where enough GPUs are expected to be free first, by the running jobs'
//! expected ends, no earlier than enough of its queue's quota there is expected back — and
//! other jobs may start on that node, or take quota it waits for, only if they end (by their
//! estimate) before the reservation's start or use what it will not need then.
//!
//! - **Who**: the first `per_flavor` waiting whole-GPU jobs of at least `min_gpus` GPUs (and
//!   no more than one node holds) per flavor that no flavor has room for, in the cycle's
//!   order.
//! - **Until when**: a job keeps its reservation while it waits for room; any other decision
//!   (it starts, preempts, is rejected, is blocked behind its StrictFIFO queue's head) or its
//!   leaving ends it. Reserved jobs are decided first in every cycle, in the order they got
//!   their reservation (`queries`), so which jobs hold one does not move with the scores.
//! - **Planned once per input**: the node and start are planned when the reservation is made
//!   and again in the first cycle after an input that changes the running jobs, the nodes or
//!   the configuration (`Scheduler::replan_reservations`), or after a reservation decided
//!   before it started in the same cycle. Never otherwise: the admissions a cycle makes
//!   after a reserved job take quota and GPUs it waits for, so a plan made again from what
//!   they leave starts later, and a second cycle with nothing new would let through a job
//!   the first held back.
//! - **Held, then told as the cycle leaves things**: a job a reservation holds back has room,
//!   but a job after it may take that room by ending in time. The walk meets every held job
//!   again once the rest are decided (`again`): it is then told it is held, or
//!   that there is no room, as the next cycle would tell it.
//! - **Precedence**: a reservation never holds back a job reserved before it, nor a job of
//!   higher priority, nor one whose deadline falls before the planned start plus its run.
//! - **Overruns**: a start that has passed counts as now, so a job past its expected end
//!   holds the node's GPUs from shorter jobs only while it actually runs.
//! - **Preemption**: a preemptor starts only once its victims stop, so it may use a reserved
//!   node or quota only from what is spare at the start; a victim's GPUs count for its
//!   preemptor, not for a plan.
//! - **Elsewhere**: a held job is placed again on the nodes no reservation needs before it
//!   waits (placement prefers the node a reservation drains: it has the most free).
//!
//! A plan reads the running jobs' expected ends and the quota, and starts no earlier than the
//! cycle that makes it; which jobs it holds back can then only grow as the clock moves (a job
//! held at `now` ends after the start, and still does later), so a held wait needs no clock
//! bound (`clock`).

mod plan;

use crate::decision::{Decision, Placement, WaitReason};
use crate::ids::{CohortName, FlavorName, JobId, NodeName, QueueName};
use crate::memo::{CycleMemo, Rooms, Screened};
use crate::model::{ClusterQueue, Flavor, GpuRequest, Job};
use crate::pending::Waiting;
use crate::progress::Progress;
use crate::state::NodeState;
use crate::units::Time;
use crate::view::View;
use serde::{Deserialize, Serialize};

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
    /// Whether `job` may hold a reservation: backfill is on and it asks for at least
    /// `min_gpus` whole GPUs, no more than one node of the fleet (`largest`) holds.
    pub(crate) fn may_reserve(&self, job: &Job, largest: u32) -> bool {
        self.enabled
            && matches!(job.gpu, GpuRequest::Whole { count, .. }
                if count >= self.min_gpus && count <= largest)
    }

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
    /// ends, and its queue the quota; the cycle that planned it when they are already (the
    /// job is short of something else). Once it passes (an overrun), it counts as now.
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
        // A job whose deadline falls before the planned start plus its run would miss it
        // held; it is not, as a job of higher priority is not. Read against the planned start,
        // not the clock, so that what is held does not change as the clock alone moves.
        let runtime = end.0.saturating_sub(now.0);
        if job
            .deadline
            .is_some_and(|deadline| deadline.0 < self.start.0.saturating_add(runtime))
        {
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

/// The reservations held: each job's node and planned start, in the order they were made.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reservations {
    list: Vec<Reservation>,
    /// A reserved job started (or preempted for room) in this cycle: the reservations decided
    /// after it are planned again.
    one_started: bool,
    /// The cycle's instant: no plan starts before the cycle that makes it.
    now: Time,
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
        let outranking = self.outranking(job.id);
        let delayed = self.list[..outranking].iter().find(|r| {
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
        for reservation in &mut self.list[..outranking] {
            let (node, quota) = takes(reservation);
            reservation.spare -= node;
            reservation.quota_spare -= quota;
        }
        Ok(())
    }

    /// [`Reservations::admit`] for the room a preemption (`decision`, any other is let
    /// through) makes for `job` of `queue`. A preemptor starts only once its victims have
    /// stopped, so when it will end is not known: it may not backfill, only use what is spare
    /// at the start.
    pub(crate) fn admit_preemption(
        &mut self,
        job: &Job,
        queue: &ClusterQueue,
        decision: &Decision,
        now: Time,
    ) -> Result<(), WaitReason> {
        match decision {
            Decision::Preempt { placement, .. } if !self.is_empty() => {
                self.admit(job, queue, placement, Time(u64::MAX), now)
            }
            _ => Ok(()),
        }
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
        self.list[..self.outranking(job.id)].iter().any(|r| {
            let on_node = if r.node == *node { milli } else { 0 };
            let (node, quota) = r.takes(job, queue, &r.flavor, on_node, end, now);
            let on_flavor = flavors.contains(&r.flavor);
            node > r.spare || (on_flavor && quota > r.quota_spare)
        })
    }

    /// How many reservations come before `job`'s own (all of them if it holds none): the
    /// ones that may hold it back. A reservation never holds back a job reserved before it,
    /// which the cycle decides first: held for a later one, it would be held for a job that
    /// is yet to be decided and may start elsewhere.
    fn outranking(&self, job: JobId) -> usize {
        self.position(job).unwrap_or(self.list.len())
    }

    fn position(&self, job: JobId) -> Option<usize> {
        self.list.iter().position(|r| r.job == job)
    }

    fn on_flavor(&self, flavor: &FlavorName) -> usize {
        self.list.iter().filter(|r| r.flavor == *flavor).count()
    }

    /// Ends `job`'s reservation: it starts, was rejected, or left.
    pub(crate) fn release(&mut self, job: JobId) {
        self.list.retain(|r| r.job != job);
    }

    /// Ends the reservations on `node`, which left the fleet: their jobs are planned afresh
    /// when next met, as jobs holding none.
    pub(crate) fn release_on(&mut self, node: &NodeName) {
        self.list.retain(|r| r.node != *node);
    }

    /// Whether `job` holds a reservation.
    pub(crate) fn holds(&self, job: JobId) -> bool {
        self.position(job).is_some()
    }

    /// Readies the reservations for a cycle at `now`.
    pub(crate) fn start_cycle(&mut self, now: Time) {
        self.one_started = false;
        self.now = now;
    }

    /// The reserved jobs, in the order they got their reservation: the cycle decides them
    /// first (`Walk`), before anybody their reservations may hold back.
    pub(crate) fn jobs(&self) -> impl Iterator<Item = JobId> + '_ {
        self.list.iter().map(|r| r.job)
    }

    /// Follows what the cycle decided for `job` (of `screened`'s queue and candidates): a job
    /// that still waits keeps its reservation, planned again only when an input changed the
    /// running jobs, the nodes or the configuration since the last cycle (`replan`); a large
    /// job that waits for room and holds none gets one; a start, a preemption, a rejection or
    /// a wait behind its StrictFIFO queue's head ends it.
    ///
    /// A plan is never made again without such an input: the admissions a cycle makes after a
    /// reserved job take quota and GPUs it waits for, so a plan made again from the state they
    /// leave starts later, and a second cycle with nothing new would let through a job the
    /// first held back.
    pub(crate) fn follow(
        &mut self,
        view: &View<'_>,
        job: &Job,
        decision: &Decision,
        screened: Option<&Screened<'_>>,
        replan: bool,
        met_again: bool,
    ) {
        let at = self.position(job.id);
        let reason = match decision {
            Decision::Wait { reason, .. } => Some(reason),
            _ => None,
        };
        let misses = match reason {
            Some(WaitReason::NoFlavorFits { misses }) => Some(&misses[..]),
            _ => None,
        };
        // Waiting for anything but its queue's head, it is still the job to start there next:
        // a cap on its user reached by a job decided after it, say, which the next cycle
        // would tell it first.
        let keeps = match reason {
            Some(WaitReason::BlockedByHead { .. }) | None => false,
            Some(_) => true,
        };
        // A reserved job that starts may take what the reservations after its own count on.
        let replan = !met_again && (replan || self.one_started);
        match (at, screened) {
            (Some(at), _) if !keeps => {
                self.one_started |= reason.is_none();
                self.list.remove(at);
            }
            (Some(at), Some(screened)) if replan => {
                let old = self.list.remove(at);
                let (queue, candidates) = (screened.queue, &screened.candidates);
                let planned = match misses {
                    Some(misses) => self.best_plan(view, job, queue, candidates, misses),
                    // it has room, or waits for something else: plan on its flavor again
                    None => candidates
                        .iter()
                        .find(|flavor| flavor.name == old.flavor)
                        .and_then(|flavor| self.plan_on(view, job, queue, flavor)),
                };
                if let Some(planned) = planned {
                    self.list.insert(at, planned);
                }
            }
            (None, Some(screened)) => {
                let Some(misses) = misses else {
                    return;
                };
                let (queue, candidates) = (screened.queue, &screened.candidates);
                let planned = self.best_plan(view, job, queue, candidates, misses);
                self.list.extend(planned);
            }
            _ => {}
        }
    }
}

impl CycleMemo<'_> {
    /// [`Reservations::follow`] for `waiting`'s job, with its screening. A job met again once
    /// the walk is over (`again`) keeps its plan: one made again from what the cycle's later
    /// admissions leave would start later, and let through, in the next cycle, jobs the held
    /// ones met before it were told to wait for it.
    pub(crate) fn follow_reservation(
        &mut self,
        view: &View<'_>,
        waiting: &Waiting,
        decision: &Decision,
        replan: bool,
    ) {
        let again = self.met_again.is_some();
        let screened = match self.screened.get(waiting.class.index()) {
            Some(Some(Ok(index))) => self.screens.get(*index),
            _ => None,
        };
        let job = &waiting.job;
        self.reservations
            .follow(view, job, decision, screened, replan, again);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{GpuShare, NodeShare};
    use crate::ids::{ClusterName, QueueName};
    use crate::model::Tier;
    use crate::units::{CpuMilli, MemMib, MilliGpu, VramMib};

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

    /// `admit` of a one-GPU job of a queue sharing no quota with the reservations, on `gpus`
    /// GPUs of `node` until `end`, at `now`.
    fn admit_small(
        r: &mut Reservations,
        (node, gpus): (&str, u32),
        end: u64,
        now: u64,
    ) -> Result<(), WaitReason> {
        r.admit(
            &small(),
            &other_queue(),
            &placement(node, gpus),
            Time(end),
            Time(now),
        )
    }

    fn reserved(start: u64, spare: u64) -> Reservations {
        Reservations {
            one_started: false,
            now: Time::ZERO,
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
        assert_eq!(admit_small(&mut r, ("n1", 2), 100, 0), Ok(()));
        let held = admit_small(&mut r, ("n1", 1), 101, 0);
        assert!(matches!(
            held,
            Err(WaitReason::HeldForReservation { job: JobId(7), .. })
        ));
        // other nodes are never held
        assert_eq!(admit_small(&mut r, ("n2", 8), 10_000, 0), Ok(()));
    }

    #[test]
    fn spare_gpus_take_long_jobs_until_used_up() {
        let mut r = reserved(100, 2000);
        assert_eq!(admit_small(&mut r, ("n1", 1), 500, 0), Ok(()));
        assert_eq!(admit_small(&mut r, ("n1", 1), 500, 0), Ok(()));
        assert!(admit_small(&mut r, ("n1", 1), 500, 0).is_err());
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
        assert!(admit_small(&mut r, ("n1", 1), 1001, 1000).is_err());
        assert_eq!(admit_small(&mut r, ("n1", 1), 1000, 1000), Ok(()));
    }
}
