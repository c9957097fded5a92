//! One pending job's decision from a view of the state: the cycle's steps in order (see
//! `cycle`), each asked only what the step before it left open, and the caps on users and
//! tenants (step 3).

use crate::burst::{add_ahead, Ask, NoBurst};
use crate::decision::{Decision, Limit, RejectReason, WaitReason};
use crate::ids::QueueName;
use crate::memo::{CycleMemo, PreemptionKey};
use crate::model::{Config, Job, QueueingStrategy};
use crate::pending::Waiting;
use crate::policy::Admission;
use crate::preemption::{Family, Search};
use crate::units::{MilliGpu, Time};
use crate::view::View;

impl View<'_> {
    /// One pending job's decision, steps 1 to 6 of the cycle, as the state stands; `config`
    /// is the view's own, held by the cycle for as long as `memo` borrows it.
    pub(crate) fn decide<'c>(
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
            ahead,
            stuck,
            rooms,
            evictable,
            next_change,
            reservations,
            met_again,
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
        let wait =
            |reason: WaitReason, no_burst: Option<NoBurst>, blocked: &mut Vec<&'c QueueName>| {
                if strict && !blocked.contains(&&queue.name) {
                    blocked.push(&queue.name);
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
        if blocked.contains(&&queue.name) && met_again.is_none() {
            let reason = WaitReason::BlockedByHead {
                queue: queue.name.clone(),
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
                    Ok(placement) if reservations.is_empty() => {
                        return Decision::Admit {
                            job: job.id,
                            placement,
                        }
                    }
                    // Not kept as no room: the next job of the request may end in time.
                    Ok(placement) => {
                        let ask = (job, progress, queue, candidates);
                        match self.backfill(ask, placement, reservations, rooms, now) {
                            Ok(placement) => {
                                return Decision::Admit {
                                    job: job.id,
                                    placement,
                                }
                            }
                            Err(held) => held,
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
            // A held job has room without evicting anybody: it waits for the reservation, or
            // a shorter run, or bursts. A job met again once the walk is over (`again`) does
            // not search for victims there: the jobs started after it would count, its
            // eviction would come before theirs in the cycle's report, and the next cycle
            // searches for it anyway.
            let held = matches!(reason, WaitReason::HeldForReservation { .. });
            let mut held_by = None;
            if self.policy.preemption.enabled && !held && met_again.is_none() {
                let within = self.policy.preemption.rules(queue).within_cluster_queue;
                let key = PreemptionKey::of(class, job, within);
                if !no_preemption.knows(&key) {
                    let family = *screened
                        .family
                        .get_or_init(|| refusals.family(Family::of(&queue.name, candidates, job)));
                    if !refusals.cover(family, job, within) {
                        match self.preempt_for(job, queue, candidates, evictable, now) {
                            Search::Found(decision) => {
                                match reservations.admit_preemption(job, queue, &decision, now) {
                                    Ok(()) => return *decision,
                                    // not kept as refused: a shorter job of the class may pass
                                    Err(reason) => held_by = Some(reason),
                                }
                            }
                            Search::Refused(reach) => refusals.add(family, index, job, reach),
                            Search::NotFound => {}
                        }
                    }
                    if held_by.is_none() {
                        no_preemption.insert(key, index);
                    }
                }
            }
            held_by.unwrap_or(reason)
        };
        let counts_ahead = self.policy.burst.counts_queue_ahead();
        let ask = Ask {
            job,
            progress,
            queue,
            private: candidates,
            public: &screened.public,
            ahead: counts_ahead.then(|| met_again.as_ref().unwrap_or(&*ahead)),
            stuck,
        };
        let decision = match self.burst_for(&ask, &reason, now, outlooks, rooms, next_change) {
            Ok(decision) => return decision,
            // under a policy that never bursts, the question does not arise
            Err(NoBurst::PolicyNever) => wait(reason, None, blocked),
            Err(no_burst) => wait(reason, Some(no_burst), blocked),
        };
        if counts_ahead && met_again.is_none() {
            add_ahead(ahead, job, candidates);
        }
        decision
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
