//! One scheduling cycle. For each pending job, in the policy's order ([`PendingKey`] or the
//! score, see `score`):
//!
//! 1. **screen** — reject what can never run: unknown queue, malformed request, no flavor of
//!    the right tier, a request above the queue's quota ceiling on every flavor or above a
//!    user's or tenant's GPU cap;
//! 2. **StrictFIFO** — a job behind a waiting job of the same StrictFIFO queue waits;
//! 3. **limits** — a user or tenant at a cap waits;
//! 4. **flavors** — candidate flavors in fungibility order; for each: quota (fit or borrow),
//!    then placement on nodes; the first that fits without borrowing wins, a borrowing fit wins
//!    at once or after the others per the queue's `whenCanBorrow`;
//! 5. **book** — an admitted job's resources are booked before the next job is looked at.
//!
//! Jobs with equal requests get equal answers while the flavors they could use are unchanged:
//! the cycle's memo (`memo`) keeps screening (`screen`), "no room" and failed preemption
//! searches per request class (`classes`), and drops an answer as soon as a decision changes
//! the quota or nodes of one of its flavors, so the cycle stays cheap with many alike pending
//! jobs and decides exactly as it would afresh.

use crate::burst::{Ask, NoBurst};
use crate::decision::RejectReason;
use crate::decision::{Decision, FlavorMiss, Limit, Miss, Placement, WaitReason};
use crate::ids::{FlavorName, JobId, QueueName};
use crate::memo::{CycleMemo, PreemptionKey, Rooms};
use crate::model::{ClusterQueue, Config, Flavor, Job, QueueingStrategy};
use crate::pending::Waiting;
use crate::placement;
use crate::policy::Admission;
use crate::preemption::{Family, Search};
use crate::quota::{Mode, QuotaView};
use crate::scheduler::Scheduler;
use crate::units::{MilliGpu, Time};
use std::sync::Arc;

/// The cycle reads jobs this many at a time, a block ahead of the one it decides: the order
/// scatters the jobs in memory, and reading a block's jobs together lets their cache misses
/// overlap one another and the decisions before them (reading one job ahead at a time gained
/// ≈4% of a cycle over 10k waiting jobs; a block at a time ≈3% more).
const READ_AHEAD: usize = 8;

/// What a cycle reports to its shell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cycle {
    /// The decisions that differ from the last one reported for the same job, in the order
    /// the cycle made them: every admission, preemption and rejection, and each wait whose
    /// reason or explanation changed (including a job's first).
    pub changes: Vec<Decision>,
    /// The earliest instant at which the clock alone (no input) could change a decision
    /// (see `clock`): when to cycle again if nothing happens before. `None`: nothing waits on
    /// the clock.
    pub next_change: Option<Time>,
}

/// Which decisions a cycle hands back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    Changes,
    All,
}

impl Scheduler {
    /// Decides for every pending job (admissions booked at once) and reports the decisions
    /// that changed since the last report, with the next instant the clock could change one.
    pub fn cycle(&mut self, now: Time) -> Cycle {
        let (changes, next_change) = self.cycle_with(now, true, Report::Changes);
        Cycle {
            changes,
            next_change,
        }
    }

    /// Decides for every pending job and returns every decision, changed or not: what a
    /// shell that starts afresh needs, and what [`Scheduler::cycle`]'s changes add up to.
    pub fn decide_all(&mut self, now: Time) -> Vec<Decision> {
        self.cycle_with(now, true, Report::All).0
    }

    /// The cycle deciding each job afresh, without the memo: what `decide_all` must equal.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn cycle_without_memo(&mut self, now: Time) -> Vec<Decision> {
        self.cycle_with(now, false, Report::All).0
    }

    fn cycle_with(
        &mut self,
        now: Time,
        memo: bool,
        report: Report,
    ) -> (Vec<Decision>, Option<Time>) {
        let mut decisions = Vec::new();
        self.admit_nominated(now, &mut decisions);
        let order = self.pending_order(now);
        if report == Report::All {
            decisions.reserve(order.len());
        }
        let (mut waits_for_room, mut blocked_by_head) = (false, false);
        // The configuration does not change within a cycle; holding it apart from `self` lets the
        // memo borrow from it while admissions change the rest.
        let config = Arc::clone(&self.config);
        let (screenings, speeds) = (&mut self.screenings, &mut self.speeds);
        self.classes.recycle(|class| {
            screenings.forget(class);
            speeds.forget(class);
        });
        let mut memo = CycleMemo::new(memo, self.classes.bound(), &config);
        for (at, &slot) in order.iter().enumerate() {
            if at % READ_AHEAD == 0 {
                let ahead = order.iter().skip(at + READ_AHEAD).take(READ_AHEAD);
                self.pending.read_ahead(ahead.copied());
            }
            // Only the job being decided leaves the pending jobs, so every slot still holds
            // its job; `at` checks anyway.
            let Some(waiting) = self.pending.at(slot) else {
                continue;
            };
            let id = slot.job;
            let decision = self.decide(&config, waiting, now, &mut memo);
            if let Decision::Wait { reason, .. } = &decision {
                waits_for_room |= matches!(reason, WaitReason::NoFlavorFits { .. });
                blocked_by_head |= matches!(reason, WaitReason::BlockedByHead { .. });
                let screened = match memo.screened.get(waiting.class.index()) {
                    Some(Some(Ok(index))) => memo.screens.get(*index),
                    _ => None,
                };
                let (job, progress) = (&waiting.job, &waiting.progress);
                let mut next = memo.next_change;
                self.wait_may_change(job, progress, &decision, screened, now, &mut next);
                memo.next_change = next;
            }
            memo.after(&self.flavors_changed_by(&decision));
            match &decision {
                Decision::Admit { placement, .. } => self.admit(id, placement.clone(), now),
                // The job starts once the shell reports its victims stopped, as under Kueue:
                // until then they keep their capacity and it waits for them.
                Decision::Preempt {
                    placement, victims, ..
                } => self.nominate(id, placement, victims, now),
                Decision::Reject { .. } => self.reject(id),
                Decision::Wait { .. } => {}
            }
            // A job still pending keeps what it was last told; one that left needs nothing.
            let changed = match self.pending.at_mut(slot) {
                Some(waiting) if waiting.reported.as_deref() == Some(&decision) => false,
                Some(waiting) => {
                    waiting.reported = Some(Box::new(decision.clone()));
                    true
                }
                None => true,
            };
            if changed || report == Report::All {
                decisions.push(decision);
            }
        }
        let mut next = memo.next_change;
        for (class, answer) in memo.fresh {
            self.screenings.keep(class, answer);
        }
        if waits_for_room {
            self.victims_may_change(now, &mut next);
        }
        if blocked_by_head {
            self.heads_may_change(now, &mut next);
        }
        (decisions, next.get())
    }

    fn decide<'c>(
        &self,
        config: &'c Config,
        waiting: &Waiting,
        now: Time,
        memo: &mut CycleMemo<'c>,
    ) -> Decision {
        let (job, class, progress) = (&*waiting.job, waiting.class, &waiting.progress);
        let reject = |reason| {
            let Some(reserved) = waiting
                .reserved
                .as_ref()
                .filter(|_| rejects_for_the_flavor(&reason))
            else {
                return Decision::Reject {
                    job: job.id,
                    reason,
                };
            };
            // The reservation narrowed the job to a flavor that cannot run it. If another
            // could, Kueue may reserve that one: a Retry, not a Rejected check.
            match self.rejected_on_its_own(&waiting.own_spec(), progress, now) {
                Some(reason) => Decision::Reject {
                    job: job.id,
                    reason,
                },
                None => Decision::Wait {
                    job: job.id,
                    reason: WaitReason::ReservationUnusable {
                        flavor: reserved.flavor.clone(),
                        why: Box::new(reason),
                    },
                    no_burst: None,
                },
            }
        };
        let index = match self.screen(config, job, class, memo) {
            Ok(found) => found,
            Err(reason) => return reject(reason),
        };
        let CycleMemo {
            screens,
            blocked,
            no_room,
            no_preemption,
            refusals,
            outlooks,
            rooms,
            evictable,
            next_change,
            ..
        } = memo;
        let screened = &screens[index];
        if let Err(reason) = self
            .screen_public_only(job, screened)
            .and_then(|()| self.screen_deadline_and_budget(job, progress, screened, now))
        {
            return reject(reason);
        }
        let (queue, candidates) = (screened.queue, screened.candidates.as_slice());
        let strict = queue.strategy == QueueingStrategy::StrictFIFO;
        let wait = |reason: WaitReason,
                    no_burst: Option<NoBurst>,
                    blocked: &mut Vec<(&'c QueueName, JobId)>| {
            if strict && !blocked.iter().any(|(name, _)| **name == queue.name) {
                blocked.push((&queue.name, job.id));
            }
            Decision::Wait {
                job: job.id,
                reason,
                no_burst,
            }
        };
        if self.policy.admission == Admission::TwoPhase && waiting.reserved.is_none() {
            return Decision::Wait {
                job: job.id,
                reason: WaitReason::NoReservation,
                no_burst: None,
            };
        }
        if !waiting.awaiting.is_empty() {
            let reason = WaitReason::VictimsStopping {
                victims: waiting.awaiting.clone(),
            };
            return wait(reason, None, blocked);
        }
        if let Some((_, head)) = blocked.iter().find(|(name, _)| **name == queue.name) {
            let reason = WaitReason::BlockedByHead {
                queue: queue.name.clone(),
                head: *head,
            };
            return Decision::Wait {
                job: job.id,
                reason,
                no_burst: None,
            };
        }
        if let Some(reason) = self.limit_reached(job) {
            return wait(reason, None, blocked);
        }
        let reason = if candidates.is_empty() {
            WaitReason::PublicOnly {
                queue: queue.name.clone(),
            }
        } else {
            let known = no_room.get_mut(class.index());
            let reason = match known {
                Some(Some((_, reason))) => reason.clone(),
                // A class opened after the memo was sized has no slot: worked out, not kept.
                slot => match self.assign(job, queue, candidates, rooms) {
                    Ok(placement) => {
                        return Decision::Admit {
                            job: job.id,
                            placement,
                        }
                    }
                    Err(reason) => {
                        if let Some(slot) = slot {
                            *slot = Some((index, reason.clone()));
                        }
                        reason
                    }
                },
            };
            // No room as things stand: step 5 may make room by preemption, step 6 may rent it.
            if self.policy.preemption.enabled {
                let within = self.policy.preemption.rules(queue).within_cluster_queue;
                let key = PreemptionKey::of(class, job, within);
                if !no_preemption.knows(&key) {
                    let family = *screened
                        .family
                        .get_or_init(|| refusals.family(Family::of(&queue.name, candidates, job)));
                    if !refusals.cover(family, job, within) {
                        match self.preempt_for(job, queue, candidates, evictable, now) {
                            Search::Found(decision) => return *decision,
                            Search::Refused(reach) => refusals.add(family, index, job, reach),
                            Search::NotFound => {}
                        }
                    }
                    no_preemption.insert(key, index);
                }
            }
            reason
        };
        let ask = Ask {
            job,
            progress,
            queue,
            private: candidates,
            public: &screened.public,
        };
        match self.burst_for(&ask, &reason, now, outlooks, rooms, next_change) {
            Ok(decision) => decision,
            // under a policy that never bursts, the question does not arise
            Err(NoBurst::PolicyNever) => wait(reason, None, blocked),
            Err(no_burst) => wait(reason, Some(no_burst), blocked),
        }
    }

    /// The flavors whose quota or nodes `decision` changes once applied: the flavor it books
    /// (a burst's public one too) and its victims free, and every flavor selecting a node
    /// either touches. None for a wait or a rejection.
    fn flavors_changed_by(&self, decision: &Decision) -> Vec<FlavorName> {
        let (placement, victims) = match decision {
            Decision::Admit { placement, .. } => (placement, &[][..]),
            Decision::Preempt {
                placement, victims, ..
            } => (placement, victims.as_slice()),
            Decision::Wait { .. } | Decision::Reject { .. } => return Vec::new(),
        };
        let freed = victims
            .iter()
            .filter_map(|victim| self.running.get(victim))
            .map(|running| &running.placement);
        let fleet = &self.ledgers.fleet;
        let mut changed = Vec::new();
        for placement in std::iter::once(placement).chain(freed) {
            changed.push(placement.flavor.clone());
            for share in &placement.nodes {
                changed.extend(fleet.flavors_of(&share.node).iter().cloned());
            }
        }
        changed.sort();
        changed.dedup();
        changed
    }

    /// Step 3: per-user and per-tenant caps on running jobs and GPUs.
    pub(crate) fn limit_reached(&self, job: &Job) -> Option<WaitReason> {
        let requested = job.gpu.milli();
        let reached =
            |holding: crate::state::Holding, max_jobs: Option<u32>, max_gpus: Option<MilliGpu>| {
                if let Some(max) = max_jobs.filter(|max| holding.running_jobs >= *max) {
                    return Some(Limit::RunningJobs {
                        running: holding.running_jobs,
                        max,
                    });
                }
                max_gpus
                    .filter(|max| holding.gpus + requested > *max)
                    .map(|max| Limit::Gpus {
                        in_use: holding.gpus,
                        requested,
                        max,
                    })
            };
        if let Some(user) = self.config.users.get(&job.user) {
            let holding = self.ledgers.holdings.user(&job.user);
            if let Some(limit) = reached(holding, user.max_running_jobs, user.max_gpus) {
                return Some(WaitReason::UserLimit {
                    user: job.user.clone(),
                    limit,
                });
            }
        }
        if let Some(tenant) = self.config.tenants.get(&job.tenant) {
            let holding = self.ledgers.holdings.tenant(&job.tenant);
            if let Some(limit) = reached(holding, tenant.max_running_jobs, tenant.max_gpus) {
                return Some(WaitReason::TenantLimit {
                    tenant: job.tenant.clone(),
                    limit,
                });
            }
        }
        None
    }

    /// Step 4: the first flavor whose quota and nodes both have room, in fungibility order.
    /// `rooms`: the cycle's quota rooms, for `queue` on each candidate.
    fn assign<'c>(
        &self,
        job: &Job,
        queue: &'c ClusterQueue,
        candidates: &[&'c Flavor],
        rooms: &mut Rooms<'c>,
    ) -> Result<Placement, WaitReason> {
        let view = self.quota_view();
        let request = job.quota_usage();
        let mut misses = Vec::new();
        let mut deferred: Option<Placement> = None;
        for flavor in candidates {
            let miss = |miss: Miss| FlavorMiss {
                flavor: flavor.name.clone(),
                miss,
            };
            let room = rooms.room(&queue.name, &flavor.name, || view.room(queue, &flavor.name));
            let mode = match room.assess(queue, &request) {
                Ok(mode) => mode,
                Err(shortfall) => {
                    misses.push(miss(shortfall));
                    continue;
                }
            };
            let fleet = &self.ledgers.fleet;
            let packing = self.policy.mps_packing;
            let nodes = match placement::place(fleet, &flavor.name, job, packing, &self.mix) {
                Ok(nodes) => nodes,
                Err(shortfall) => {
                    misses.push(miss(shortfall));
                    continue;
                }
            };
            let placement = Placement {
                cluster: flavor.cluster.clone(),
                flavor: flavor.name.clone(),
                tier: flavor.tier,
                queue: queue.name.clone(),
                nodes,
                borrowing: mode == Mode::Borrow,
                passed_over: misses.clone(),
                public: None,
            };
            if mode.ends_search(queue) {
                return Ok(placement);
            }
            misses.push(miss(Miss::BorrowingDeferred {
                queue: queue.name.clone(),
            }));
            deferred.get_or_insert(placement);
        }
        deferred.ok_or(WaitReason::NoFlavorFits {
            misses: misses.into(),
        })
    }

    pub(crate) fn quota_view(&self) -> QuotaView<'_> {
        QuotaView {
            config: &self.config,
            cohort_members: &self.cohort_members,
            usage: &self.ledgers.quota,
        }
    }
}

/// Whether `reason` rejects a job for what its flavors cannot do (which a quota reservation,
/// narrowing it to one flavor, may cause) rather than for the job itself.
fn rejects_for_the_flavor(reason: &RejectReason) -> bool {
    match reason {
        RejectReason::NoMatchingFlavor { .. }
        | RejectReason::ExceedsQuotaCeiling { .. }
        | RejectReason::DeadlineInfeasible { .. }
        | RejectReason::MayNotBurst { .. }
        | RejectReason::BudgetTooSmall { .. } => true,
        RejectReason::UnknownQueue(_)
        | RejectReason::InvalidRequest(_)
        | RejectReason::ExceedsCap { .. } => false,
    }
}
