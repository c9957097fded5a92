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
//! Within one cycle capacity and quota only shrink, so a request shape that found no flavor
//! finds none later in the same cycle: its answer is reused (the cycle stays cheap with many
//! identical pending jobs).

use crate::decision::{Decision, FlavorMiss, Limit, Miss, Placement, RejectReason, WaitReason};
use crate::flavors;
use crate::ids::{FlavorName, GpuModelName, JobId, QueueName};
use crate::model::{
    ClusterQueue, DataClass, Flavor, GpuRequest, Job, QueueingStrategy, Tier, WhenCanBorrow,
};
use crate::placement;
use crate::quota::{Mode, QuotaView};
use crate::scheduler::Scheduler;
use crate::units::{CpuMilli, MemMib, MilliGpu, Time};
use std::collections::{BTreeMap, BTreeSet};

/// The parts of a job that decide where it can go, so equal shapes share one answer per cycle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Shape {
    queue: QueueName,
    gpu: GpuRequest,
    spread: bool,
    cpu: CpuMilli,
    memory: MemMib,
    min_tier: Tier,
    allow_upgrade: bool,
    allowed_flavors: Option<BTreeSet<FlavorName>>,
    gpu_models: Option<BTreeSet<GpuModelName>>,
    data_class: DataClass,
}

impl Shape {
    fn of(job: &Job, queue: &QueueName) -> Shape {
        Shape {
            queue: queue.clone(),
            gpu: job.gpu,
            spread: job.spread,
            cpu: job.cpu,
            memory: job.memory,
            min_tier: job.min_tier,
            allow_upgrade: job.allow_upgrade,
            allowed_flavors: job.allowed_flavors.clone(),
            gpu_models: job.gpu_models.clone(),
            data_class: job.data_class,
        }
    }
}

impl Scheduler {
    /// Decides for every pending job: admit (resources booked at once), wait or reject.
    pub fn cycle(&mut self, now: Time) -> Vec<Decision> {
        let order = self.consideration_order(now);
        let mut decisions = Vec::with_capacity(order.len());
        let mut blocked: BTreeMap<QueueName, JobId> = BTreeMap::new();
        let mut no_room: BTreeMap<Shape, WaitReason> = BTreeMap::new();
        for id in order {
            let Some(job) = self.pending.get(&id) else {
                continue;
            };
            let decision = self.decide(job, now, &mut blocked, &mut no_room);
            if matches!(decision, Decision::Preempt { .. }) {
                // Evictions free room: answers cached for request shapes no longer hold.
                no_room.clear();
            }
            match &decision {
                Decision::Admit { placement, .. } => self.admit(id, placement.clone(), now),
                Decision::Preempt {
                    placement, victims, ..
                } => {
                    for victim in victims {
                        self.requeue(*victim);
                    }
                    self.admit(id, placement.clone(), now);
                }
                Decision::Reject { .. } => self.reject(id),
                Decision::Wait { .. } => {}
            }
            decisions.push(decision);
        }
        decisions
    }

    fn decide(
        &self,
        job: &Job,
        now: Time,
        blocked: &mut BTreeMap<QueueName, JobId>,
        no_room: &mut BTreeMap<Shape, WaitReason>,
    ) -> Decision {
        let (queue, candidates) = match self.screen(job).and_then(|(queue, candidates)| {
            self.screen_deadline_and_budget(job, &candidates, now)?;
            Ok((queue, candidates))
        }) {
            Ok(found) => found,
            Err(reason) => {
                return Decision::Reject {
                    job: job.id,
                    reason,
                }
            }
        };
        let strict = queue.strategy == QueueingStrategy::StrictFIFO;
        let wait = |reason: WaitReason, blocked: &mut BTreeMap<QueueName, JobId>| {
            if strict {
                blocked.entry(queue.name.clone()).or_insert(job.id);
            }
            Decision::Wait {
                job: job.id,
                reason,
            }
        };
        if let Some(head) = blocked.get(&queue.name) {
            let reason = WaitReason::BlockedByHead {
                queue: queue.name.clone(),
                head: *head,
            };
            return Decision::Wait {
                job: job.id,
                reason,
            };
        }
        if let Some(reason) = self.limit_reached(job) {
            return wait(reason, blocked);
        }
        let shape = Shape::of(job, &queue.name);
        let reason = match no_room.get(&shape) {
            Some(reason) => reason.clone(),
            None => match self.assign(job, queue, &candidates) {
                Ok(placement) => {
                    return Decision::Admit {
                        job: job.id,
                        placement,
                    }
                }
                Err(reason) => {
                    no_room.insert(shape, reason.clone());
                    reason
                }
            },
        };
        // No room as things stand: step 5 may make room by preemption, step 6 may rent it.
        if let Some(decision) = self.preempt_for(job, queue, &candidates, now) {
            return decision;
        }
        if let Some(decision) = self.burst_for(job, &candidates, &reason, now) {
            return decision;
        }
        wait(reason, blocked)
    }

    /// Step 1: what can never run is rejected with the reason.
    fn screen(&self, job: &Job) -> Result<(&ClusterQueue, Vec<&Flavor>), RejectReason> {
        let queue = self
            .config
            .local_queues
            .get(&job.queue)
            .and_then(|local| self.config.cluster_queues.get(&local.cluster_queue))
            .ok_or_else(|| RejectReason::UnknownQueue(job.queue.clone()))?;
        validate_request(job)?;
        let candidates = flavors::candidates(&self.config, queue, job, &self.policy);
        if candidates.is_empty() {
            return Err(RejectReason::NoMatchingFlavor {
                queue: queue.name.clone(),
                min_tier: job.min_tier,
                upgrade_allowed: job.allow_upgrade || self.policy.allow_tier_upgrade,
            });
        }
        let view = self.quota_view();
        let request = job.quota_usage();
        let mut misses = Vec::new();
        for flavor in &candidates {
            match view.exceeds_ceiling(queue, &flavor.name, &request) {
                Some(miss) => misses.push(FlavorMiss {
                    flavor: flavor.name.clone(),
                    miss,
                }),
                None => break,
            }
        }
        if misses.len() == candidates.len() {
            return Err(RejectReason::ExceedsQuotaCeiling {
                queue: queue.name.clone(),
                misses,
            });
        }
        let requested = job.gpu.milli();
        let caps = [
            self.config
                .users
                .get(&job.user)
                .and_then(|u| u.max_gpus)
                .map(|max| (format!("user {}", job.user), max)),
            self.config
                .tenants
                .get(&job.tenant)
                .and_then(|t| t.max_gpus)
                .map(|max| (format!("tenant {}", job.tenant), max)),
        ];
        if let Some((who, max)) = caps.into_iter().flatten().find(|(_, max)| requested > *max) {
            return Err(RejectReason::ExceedsCap {
                who,
                requested,
                max,
            });
        }
        Ok((queue, candidates))
    }

    /// Step 3: per-user and per-tenant caps on running jobs and GPUs.
    fn limit_reached(&self, job: &Job) -> Option<WaitReason> {
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
    fn assign(
        &self,
        job: &Job,
        queue: &ClusterQueue,
        candidates: &[&Flavor],
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
            let mode = match view.assess(queue, &flavor.name, &request) {
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
            match (mode, queue.fungibility.when_can_borrow) {
                (Mode::Fit, _) | (Mode::Borrow, WhenCanBorrow::MayStopSearch) => {
                    return Ok(placement)
                }
                (Mode::Borrow, WhenCanBorrow::TryNextFlavor) => {
                    misses.push(miss(Miss::BorrowingDeferred {
                        queue: queue.name.clone(),
                    }));
                    deferred.get_or_insert(placement);
                }
            }
        }
        deferred.ok_or(WaitReason::NoFlavorFits { misses })
    }

    pub(crate) fn quota_view(&self) -> QuotaView<'_> {
        QuotaView {
            config: &self.config,
            cohort_members: &self.cohort_members,
            usage: &self.ledgers.quota,
        }
    }
}

fn validate_request(job: &Job) -> Result<(), RejectReason> {
    let invalid = |why: &str| Err(RejectReason::InvalidRequest(why.to_string()));
    match job.gpu {
        GpuRequest::Whole { count: 0, .. } => invalid("a whole-GPU request needs at least one GPU"),
        GpuRequest::Fraction { milli, .. } if milli.0 == 0 || milli >= MilliGpu::WHOLE => {
            invalid("a fraction must be between 1 and 999 milli-GPU; ask for whole GPUs otherwise")
        }
        _ => Ok(()),
    }
}
