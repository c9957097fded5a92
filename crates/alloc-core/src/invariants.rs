//! Checks of the properties DESIGN.md promises, computed from scratch from the running jobs so
//! that they do not trust the incremental ledgers they check.

use crate::classes::{ClassId, ClassKey};
use crate::decision::{Decision, WaitReason};
use crate::ids::{CohortName, FlavorName, NodeName, QueueName};
use crate::model::Resource;
use crate::order::PendingKey;
use crate::queue_order::Quiet;
use crate::room_lines::Line;
use crate::scheduler::Scheduler;
use crate::state::{Ledgers, NodeState};
use crate::units::Money;
use std::collections::BTreeMap;

/// Where quota is over-used: one queue's own ceiling, or a cohort's shared pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaScope {
    /// A ClusterQueue beyond its nominal quota plus what it may borrow.
    Queue(QueueName),
    /// A cohort's members beyond the pool they share.
    Cohort(CohortName),
}

/// Usage of a flavor's resource above what the scope may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaOverrun {
    /// The queue or cohort.
    pub scope: QuotaScope,
    /// The flavor.
    pub flavor: FlavorName,
    /// The resource.
    pub resource: Resource,
    /// What running jobs use, in the resource's unit.
    pub usage: u64,
    /// What the scope may hold.
    pub limit: u64,
}

impl Scheduler {
    /// Rebuilds every ledger from the node list and the running jobs.
    pub fn rebuilt_ledgers(&self) -> Ledgers {
        let mut ledgers = Ledgers::default();
        for node in self.ledgers.fleet.nodes() {
            let model = node
                .spec
                .gpu_model
                .as_ref()
                .and_then(|m| self.config.gpu_models.get(m));
            ledgers.fleet.add(
                NodeState::new(node.spec.clone(), model),
                &self.config.flavors,
            );
        }
        for running in self.running.values() {
            ledgers.book(&running.job, &running.placement);
            if running.evicting.is_some() {
                ledgers.priorities_leave(&running.job, &running.placement);
            }
        }
        ledgers
    }

    /// Every capacity and limit invariant, plus "incremental ledgers equal a rebuild".
    /// Returns a readable line per violation.
    pub fn check_invariants(&self) -> Result<(), Vec<String>> {
        let mut violations = Vec::new();
        self.check_capacity(&mut violations);
        self.check_limits(&mut violations);
        self.check_data_class(&mut violations);
        self.check_public(&mut violations);
        self.check_placements(&mut violations);
        if self.rebuilt_ledgers() != self.ledgers {
            violations
                .push("incremental ledgers differ from a rebuild from the running jobs".into());
        }
        if !self.ledgers.fleet.free_indexes_match_nodes() {
            violations.push("a flavor's free-capacity index differs from its nodes".into());
        }
        self.check_classes(&mut violations);
        self.check_queue_order(&mut violations);
        self.check_screenings(&mut violations);
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }

    /// Each pending job's class holds its queue and request, and each open class counts
    /// exactly its pending members.
    fn check_classes(&self, violations: &mut Vec<String>) {
        let mut members: BTreeMap<ClassId, u32> = BTreeMap::new();
        for waiting in self.pending.by_id() {
            let id = waiting.job.id;
            *members.entry(waiting.class).or_default() += 1;
            match self.classes.get(waiting.class) {
                Some((key, _)) if *key == ClassKey::of(&waiting.job) => {}
                _ => violations.push(format!("{id}: its request class is not its request")),
            }
        }
        for (class, _, count) in self.classes.open() {
            let pending = members.get(&class).copied().unwrap_or(0);
            // an emptied class stays open until the next cycle recycles it
            if count != pending {
                violations.push(format!(
                    "request class {class:?} counts {count} pending jobs, {pending} hold it"
                ));
            }
        }
    }

    /// Kueue's order holds each pending job once, under its own key and slot; a quiet job
    /// (`queue_order`) has nothing of its own that could change its answer, and was last told
    /// it: blocked behind its StrictFIFO queue's head, or its class's last "no room" in its own
    /// line.
    fn check_queue_order(&self, violations: &mut Vec<String>) {
        if self.queue_order.len() != self.pending.len() {
            violations.push(format!(
                "the pending order holds {} jobs, {} are pending",
                self.queue_order.len(),
                self.pending.len()
            ));
        }
        let with_deadline = self.pending.by_id().filter(|w| w.job.deadline.is_some());
        let indexed = self.pending.dated().map(|waiting| waiting.job.id);
        if !with_deadline.map(|waiting| waiting.job.id).eq(indexed) {
            violations.push("the pending jobs with a deadline are not the ones indexed".into());
        }
        for (key, slot, quiet) in self.queue_order.entries() {
            let Some(waiting) = self
                .pending
                .at(slot)
                .filter(|waiting| PendingKey::of(&waiting.job) == key)
            else {
                violations.push(format!(
                    "{}: the pending order's slot does not hold it",
                    key.job()
                ));
                continue;
            };
            let told = waiting.reported.as_deref();
            match quiet {
                None => {}
                Some(Quiet::Blocked(queue)) => {
                    let own = self.config.cluster_queue_of(&waiting.job.queue);
                    let blocked = matches!(
                        told,
                        Some(Decision::Wait {
                            reason: WaitReason::BlockedByHead { queue: told },
                            no_burst: None,
                            ..
                        }) if told == queue
                    );
                    if own.is_none_or(|own| own.name != *queue)
                        || !blocked
                        || !self.view().may_stay_quiet(waiting)
                    {
                        violations.push(format!(
                            "{}: quiet in queue {queue} without being blocked there for good",
                            key.job()
                        ));
                    }
                }
                Some(Quiet::NoRoom(line)) => {
                    let class_told = self.last_no_room.of(waiting.class);
                    let as_class = matches!(
                        told,
                        Some(Decision::Wait { reason, .. }) if Some(reason) == class_told
                    );
                    let queue = self.config.cluster_queue_of(&waiting.job.queue);
                    let quiet = told.zip(queue).is_some_and(|(told, queue)| {
                        self.view().may_wait_quietly(waiting, told, queue)
                    });
                    if *line != Line::of(waiting) || !as_class || !quiet {
                        violations.push(format!(
                            "{}: quiet in a line for room without waiting there for good, as its \
                             class was told",
                            key.job()
                        ));
                    }
                }
            }
        }
    }

    /// Each screening and fastest candidate speed kept for a pending job's class is what
    /// working it out afresh for the job gives.
    fn check_screenings(&self, violations: &mut Vec<String>) {
        let afresh = crate::score::SpeedCache::default();
        for waiting in self.pending.by_id() {
            let known = self.speeds.known_in_class(waiting.class);
            if known.is_some_and(|fastest| fastest != afresh.fastest(&self.view(), &waiting.job)) {
                violations.push(format!(
                    "{}: the fastest speed kept for its class is not its own",
                    waiting.job.id
                ));
            }
            let Some(kept) = self.screenings.get(waiting.class) else {
                continue;
            };
            if self.view().screening_afresh(&waiting.job).as_ref() != Some(kept) {
                violations.push(format!(
                    "{}: the screening kept for its class is not its own",
                    waiting.job.id
                ));
            }
        }
    }

    fn check_capacity(&self, violations: &mut Vec<String>) {
        // (cpu, memory, per GPU: (milli, vram, clients))
        type Use = (u64, u64, BTreeMap<u32, (u64, u64, u32)>);
        let mut used: BTreeMap<&NodeName, Use> = BTreeMap::new();
        for running in self.running.values() {
            for share in &running.placement.nodes {
                let entry = used.entry(&share.node).or_default();
                entry.0 += share.cpu.0;
                entry.1 += share.memory.0;
                for gpu in &share.gpus {
                    let slot = entry.2.entry(gpu.index).or_default();
                    slot.0 += gpu.milli.0;
                    slot.1 += gpu.vram.0;
                    slot.2 += u32::from(gpu.milli.0 < 1000);
                }
            }
        }
        for (name, (cpu, memory, gpus)) in used {
            let Some(node) = self.ledgers.fleet.node(name) else {
                violations.push(format!("a running job is placed on unknown node {name}"));
                continue;
            };
            if cpu > node.spec.cpu.0 || memory > node.spec.memory.0 {
                violations.push(format!("node {name}: CPU or memory over-committed"));
            }
            for (index, (milli, vram, clients)) in gpus {
                if index >= node.spec.gpus {
                    violations.push(format!("node {name}: GPU {index} does not exist"));
                } else if milli > 1000 || vram > node.vram_per_gpu.0 {
                    violations.push(format!(
                        "node {name} GPU {index}: {milli} milli-GPU, {vram} MiB VRAM booked"
                    ));
                } else if clients > 0 && clients > node.max_mps_clients {
                    violations.push(format!(
                        "node {name} GPU {index}: {clients} MPS clients over the model's limit"
                    ));
                }
            }
        }
    }

    fn check_limits(&self, violations: &mut Vec<String>) {
        let holdings = &self.rebuilt_ledgers().holdings;
        for user in self.config.users.values() {
            let held = holdings.user(&user.name);
            if user
                .max_running_jobs
                .is_some_and(|max| held.running_jobs > max)
                || user.max_gpus.is_some_and(|max| held.gpus > max)
            {
                violations.push(format!("user {} is over a cap: {held:?}", user.name));
            }
        }
        for tenant in self.config.tenants.values() {
            let held = holdings.tenant(&tenant.name);
            if tenant
                .max_running_jobs
                .is_some_and(|max| held.running_jobs > max)
                || tenant.max_gpus.is_some_and(|max| held.gpus > max)
            {
                violations.push(format!("tenant {} is over a cap: {held:?}", tenant.name));
            }
        }
    }

    /// Leases within each offer's GPU cap; only burstable, flexible jobs on public flavors;
    /// no money committed for a fixed-budget job; no tenant's billed and reserved money above
    /// its public budget.
    fn check_public(&self, violations: &mut Vec<String>) {
        for cluster in self.config.clusters.values() {
            for offer in &cluster.offers {
                let leased: u32 = self
                    .running
                    .values()
                    .filter(|r| r.placement.flavor == offer.flavor)
                    .filter_map(|r| r.placement.public.as_ref())
                    .map(|lease| lease.gpus)
                    .sum();
                if leased > offer.gpu_cap {
                    violations.push(format!(
                        "offer {}: {leased} GPUs leased over its cap {}",
                        offer.flavor, offer.gpu_cap
                    ));
                }
            }
        }
        for running in self.running.values() {
            let job = &running.job;
            if running.placement.public.is_some() {
                if let Err(why) = self.view().may_burst(job) {
                    violations.push(format!("{} burst though {why}", job.id));
                }
            }
            if job.budget.kind == crate::model::BudgetKind::Fixed
                && self.spend.job(job.id) > Money::ZERO
            {
                violations.push(format!(
                    "{} has a fixed budget and committed {} to public GPUs",
                    job.id,
                    self.spend.job(job.id)
                ));
            }
        }
        for tenant in self.config.tenants.values() {
            let committed = self.spend.tenant(&tenant.name);
            if tenant
                .public_budget
                .is_some_and(|budget| committed > budget)
            {
                violations.push(format!(
                    "tenant {} billed and reserved {committed}, over its public budget",
                    tenant.name
                ));
            }
        }
    }

    /// Each running job holds quota of its own ClusterQueue, on one of that queue's flavors.
    fn check_placements(&self, violations: &mut Vec<String>) {
        for running in self.running.values() {
            let (job, placement) = (&running.job, &running.placement);
            let queue = self.config.cluster_queue_of(&job.queue);
            match queue {
                Some(queue) if queue.name == placement.queue => {
                    if !queue.flavors.iter().any(|f| f.flavor == placement.flavor) {
                        violations.push(format!(
                            "{} runs on flavor {}, which queue {} does not list",
                            job.id, placement.flavor, queue.name
                        ));
                    }
                }
                _ => violations.push(format!(
                    "{} holds quota of queue {}, not of its local queue {}'s",
                    job.id, placement.queue, job.queue
                )),
            }
        }
    }

    fn check_data_class(&self, violations: &mut Vec<String>) {
        for running in self.running.values() {
            let public = self
                .config
                .clusters
                .get(&running.placement.cluster)
                .is_some_and(|c| c.is_public());
            if public && running.job.data_class == crate::model::DataClass::Sensitive {
                violations.push(format!(
                    "{} has sensitive data and runs on public cluster {}",
                    running.job.id, running.placement.cluster
                ));
            }
        }
    }

    /// Quota held beyond what Kueue allows: a queue above `nominal + borrowingLimit` (or above
    /// `nominal` without a cohort), or a cohort whose members use more of the shared pool than
    /// they lent to it. Admissions never cause this; a quota cut below current usage does
    /// (running jobs keep running, as in Kueue).
    pub fn quota_overruns(&self) -> Vec<QuotaOverrun> {
        let usage = self.rebuilt_ledgers().quota;
        let mut overruns = Vec::new();
        // (cohort, flavor, resource) -> (pool used, pool)
        let mut pools: BTreeMap<(CohortName, FlavorName, Resource), (u64, u64)> = BTreeMap::new();
        for queue in self.config.cluster_queues.values() {
            for quotas in &queue.flavors {
                let used = usage.of(&queue.name, &quotas.flavor);
                for (resource, quota) in &quotas.resources {
                    let held = used.get(*resource);
                    let limit = match (&queue.cohort, quota.borrowing_limit) {
                        (None, _) => Some(quota.nominal),
                        (Some(_), Some(borrow)) => Some(quota.nominal.saturating_add(borrow)),
                        (Some(_), None) => None,
                    };
                    if let Some(limit) = limit.filter(|limit| held > *limit) {
                        overruns.push(QuotaOverrun {
                            scope: QuotaScope::Queue(queue.name.clone()),
                            flavor: quotas.flavor.clone(),
                            resource: *resource,
                            usage: held,
                            limit,
                        });
                    }
                    if let Some(cohort) = &queue.cohort {
                        let pool = pools
                            .entry((cohort.clone(), quotas.flavor.clone(), *resource))
                            .or_default();
                        pool.0 += held.saturating_sub(quota.guaranteed());
                        pool.1 += quota.lendable();
                    }
                }
                for resource in Resource::ALL {
                    if used.get(resource) > 0 && !quotas.resources.contains_key(&resource) {
                        overruns.push(QuotaOverrun {
                            scope: QuotaScope::Queue(queue.name.clone()),
                            flavor: quotas.flavor.clone(),
                            resource,
                            usage: used.get(resource),
                            limit: 0,
                        });
                    }
                }
            }
        }
        for ((cohort, flavor, resource), (used, pool)) in pools {
            if used > pool {
                overruns.push(QuotaOverrun {
                    scope: QuotaScope::Cohort(cohort),
                    flavor,
                    resource,
                    usage: used,
                    limit: pool,
                });
            }
        }
        overruns
    }
}
