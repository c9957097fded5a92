//! Property tests: DESIGN.md's invariants after every cycle of generated histories, placements
//! that honour their jobs, determinism under reordered simultaneous inputs, "more capacity
//! never hurts the head job", and "a cycle leaves nothing admissible behind".

use crate::strategies::{
    bursting_history, bursting_world, history, world, JobShape, NodeShape, Step, World, MODELS,
};
use alloc_core::testing::FLAVOR_LABEL;
use alloc_core::{
    Decision, FlavorName, GpuRequest, Input, InputError, Job, JobId, Miss, Money, NodeName,
    NodeSpec, Quota, QuotaOverrun, Resource, Scheduler, Time, WaitReason,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet};

/// A step as it was applied, so that the run can be replayed.
#[derive(Debug, Clone)]
pub enum Traced {
    Input(Box<Input>),
    Cycle(Time),
}

/// What an input or a cycle produced, compared between runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Applied(Result<alloc_core::Applied, InputError>),
    Cycle(Vec<Decision>),
}

/// Drives one scheduler through a generated history and checks it after every step.
pub struct Run {
    pub s: Scheduler,
    next_id: u64,
    next_node: u64,
    now: u64,
    /// A quota change that may have cut quota below usage happened.
    quota_cut: bool,
    /// Bursts whose bill has not come in: job, lease number, reservation.
    unbilled: Vec<(JobId, u32, Money)>,
    pub trace: Vec<Traced>,
    pub outcomes: Vec<Outcome>,
    /// What the shell was last told about each pending job: the cycle's changes folded in.
    told: BTreeMap<JobId, Decision>,
    /// Every job as submitted, as a controller's watch would show it again.
    specs: BTreeMap<JobId, Job>,
}

type Checked = Result<(), TestCaseError>;

/// Everything an input could change, to compare before and after a refused one.
fn state(s: &Scheduler) -> impl PartialEq + std::fmt::Debug {
    (
        s.ledgers().clone(),
        s.pending().cloned().collect::<Vec<_>>(),
        s.running().cloned().collect::<Vec<_>>(),
        s.config().clone(),
    )
}

/// What the clock reads of each running job, for a failure that says the clock changed a
/// decision before the cycle said it could: its guards' inputs and its victim cost at `then`
/// and `now`.
fn running_costs(s: &Scheduler, then: Time, now: Time) -> Vec<impl std::fmt::Debug + '_> {
    s.running()
        .map(|r| {
            let job = &r.job;
            let costs = (s.victim_cost(r, then), s.victim_cost(r, now));
            (
                (job.id, r.started, job.priority, job.deadline),
                (job.checkpoint_interval, r.progress, r.evicting, costs),
            )
        })
        .collect()
}

/// Known job ids: pending and running, in id order.
fn known_jobs(s: &Scheduler) -> Vec<JobId> {
    let mut ids: Vec<JobId> = s
        .pending()
        .map(|j| j.id)
        .chain(s.running().map(|r| r.job.id))
        .collect();
    ids.sort();
    ids
}

/// Whether a new quota can leave usage above what is allowed where the old one did not.
fn may_cut(old: Option<Quota>, new: Quota) -> bool {
    let Some(old) = old else { return false };
    let borrowing_kept = match (old.borrowing_limit, new.borrowing_limit) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(old), Some(new)) => new >= old,
    };
    !(new.nominal >= old.nominal && borrowing_kept && new.lending_limit == old.lending_limit)
}

impl Run {
    pub fn new(world: &World) -> Result<Run, TestCaseError> {
        let s = Scheduler::new(world.config.clone(), world.policy.clone())
            .map_err(|e| TestCaseError::fail(format!("generated config refused: {e}")))?;
        let mut run = Run {
            s,
            next_id: 1,
            next_node: 0,
            now: 0,
            quota_cut: false,
            unbilled: Vec::new(),
            trace: Vec::new(),
            outcomes: Vec::new(),
            told: BTreeMap::new(),
            specs: BTreeMap::new(),
        };
        for node in &world.nodes {
            run.add_node(node)?;
        }
        Ok(run)
    }

    fn apply(&mut self, input: Input) -> Result<alloc_core::Applied, InputError> {
        self.trace.push(Traced::Input(Box::new(input.clone())));
        let result = self.s.apply(input);
        // a job that left the pending jobs is new to the shell if it comes back
        let pending: BTreeSet<JobId> = self.s.pending().map(|j| j.id).collect();
        self.told.retain(|id, _| pending.contains(id));
        self.outcomes.push(Outcome::Applied(result.clone()));
        result
    }

    /// Tells the core again, as a controller's re-list would, about one pending job (as
    /// submitted), running job (admitted where it runs) or node: nothing may change.
    fn told_again(&mut self, index: proptest::sample::Index) -> Checked {
        let mut inputs: Vec<Input> = self
            .s
            .pending()
            .filter_map(|job| self.specs.get(&job.id))
            .map(|job| Input::JobUpserted(job.clone()))
            .collect();
        inputs.extend(self.s.running().map(|running| {
            Input::JobAdmitted {
                job: self
                    .specs
                    .get(&running.job.id)
                    .unwrap_or(&running.job)
                    .clone(),
                placement: Box::new(running.placement.clone()),
                started: running.started,
            }
        }));
        inputs.extend(
            self.s
                .ledgers()
                .fleet
                .nodes()
                .map(|node| Input::NodeUpserted(node.spec.as_ref().clone())),
        );
        if inputs.is_empty() {
            return Ok(());
        }
        let input = inputs.swap_remove(index.index(inputs.len()));
        let before = state(&self.s);
        let result = self.apply(input.clone());
        prop_assert!(
            result.is_ok(),
            "{input:?} told again was refused: {result:?}"
        );
        prop_assert_eq!(
            state(&self.s),
            before,
            "{:?} told again changed the state",
            input
        );
        Ok(())
    }

    /// Applies an input that must be refused, and checks it changed nothing.
    fn apply_refused(&mut self, input: Input) -> Checked {
        let before = state(&self.s);
        let result = self.apply(input.clone());
        prop_assert!(result.is_err(), "{input:?} was accepted");
        prop_assert_eq!(
            state(&self.s),
            before,
            "refused {:?} changed the state",
            input
        );
        Ok(())
    }

    fn add_node(&mut self, shape: &NodeShape) -> Checked {
        if self.s.ledgers().fleet.len() >= 6 {
            return Ok(());
        }
        let spec = shape.spec(format!("n{}", self.next_node), self.s.config());
        self.next_node += 1;
        let result = self.apply(Input::NodeAdded(spec));
        prop_assert!(result.is_ok(), "node refused: {result:?}");
        Ok(())
    }

    pub fn submit(&mut self, shape: &JobShape) -> Checked {
        let job = shape.job(self.next_id, Time(self.now), self.s.config());
        self.next_id += 1;
        self.specs.insert(job.id, job.clone());
        let result = self.apply(Input::JobSubmitted(job));
        prop_assert!(result.is_ok(), "submission refused: {result:?}");
        Ok(())
    }

    pub fn step(&mut self, step: &Step) -> Checked {
        match step {
            Step::Submit(shape, copies) => {
                for _ in 0..*copies {
                    self.submit(shape)?;
                }
            }
            Step::Resubmit(index) => {
                let known: Vec<Job> = self
                    .s
                    .pending()
                    .cloned()
                    .chain(self.s.running().map(|r| r.job.clone()))
                    .collect();
                if !known.is_empty() {
                    let job = known[index.index(known.len())].clone();
                    self.apply_refused(Input::JobSubmitted(job))?;
                }
            }
            Step::Finish(index) | Step::Requeue(index) => {
                let known = known_jobs(&self.s);
                if known.is_empty() {
                    return Ok(());
                }
                let id = known[index.index(known.len())];
                let input = match step {
                    Step::Finish(_) => Input::JobFinished(id),
                    _ => Input::JobRequeued(id),
                };
                if self.s.running_job(id).is_some() {
                    let result = self.apply(input);
                    prop_assert!(result.is_ok(), "{result:?}");
                    prop_assert!(self.s.running_job(id).is_none());
                    if matches!(step, Step::Requeue(_)) {
                        prop_assert!(self.s.pending().any(|j| j.id == id));
                    }
                } else {
                    self.apply_refused(input)?;
                }
            }
            Step::StopVictims => {
                let evicting: Vec<JobId> = self
                    .s
                    .running()
                    .filter(|r| r.evicting.is_some())
                    .map(|r| r.job.id)
                    .collect();
                for id in evicting {
                    let result = self.apply(Input::JobRequeued(id));
                    prop_assert!(result.is_ok(), "{result:?}");
                    prop_assert!(self.s.pending().any(|j| j.id == id));
                }
            }
            Step::ToldAgain(index) => self.told_again(*index)?,
            Step::Reserve(job, flavor) => {
                let pending: Vec<JobId> = self.s.pending().map(|j| j.id).collect();
                if pending.is_empty() {
                    return Ok(());
                }
                let id = pending[job.index(pending.len())];
                let flavors: Vec<_> = self.s.config().flavors.keys().cloned().collect();
                let at = flavor.index(flavors.len() + 1);
                let input = Input::QuotaReserved {
                    job: id,
                    flavor: flavors.get(at).cloned(),
                };
                let result = self.apply(input.clone());
                prop_assert!(result.is_ok(), "{result:?}");
                // told twice, the same
                let before = state(&self.s);
                let result = self.apply(input);
                prop_assert!(result.is_ok(), "{result:?}");
                prop_assert_eq!(
                    state(&self.s),
                    before,
                    "a reservation told twice changed the state"
                );
            }
            Step::Cancel(index) => {
                let known = known_jobs(&self.s);
                if !known.is_empty() {
                    let id = known[index.index(known.len())];
                    let result = self.apply(Input::JobCancelled(id));
                    prop_assert!(result.is_ok(), "{result:?}");
                    prop_assert!(!known_jobs(&self.s).contains(&id));
                }
            }
            Step::Bill(index, permille) => {
                // only a lease that ended: its job no longer runs on it
                let ended: Vec<usize> = (0..self.unbilled.len())
                    .filter(|at| {
                        let (job, lease, _) = self.unbilled[*at];
                        self.s.running_job(job).is_none_or(|r| {
                            r.placement.public.as_ref().is_none_or(|l| l.lease != lease)
                        })
                    })
                    .collect();
                if ended.is_empty() {
                    return Ok(());
                }
                let (job, lease, reserved) = self.unbilled.remove(ended[index.index(ended.len())]);
                let cost = Money(reserved.0 * i64::from(*permille) / 1000);
                let result = self.apply(Input::PublicBilled { job, lease, cost });
                prop_assert!(result.is_ok(), "{result:?}");
                self.apply_refused(Input::PublicBilled { job, lease, cost })?;
                if let Err(violations) = self.s.check_invariants() {
                    return Err(TestCaseError::fail(format!(
                        "invariants broken by a bill: {violations:#?}"
                    )));
                }
            }
            Step::AddNode(shape) => self.add_node(shape)?,
            Step::RemoveNode(index) => {
                let mut names: Vec<NodeName> = self
                    .s
                    .ledgers()
                    .fleet
                    .nodes()
                    .map(|n| n.spec.name.clone())
                    .collect();
                names.push(NodeName::new("ghost"));
                let name = names[index.index(names.len())].clone();
                if name.as_str() == "ghost" {
                    return self.apply_refused(Input::NodeRemoved(name));
                }
                let on_node: Vec<JobId> = self
                    .s
                    .running()
                    .filter(|r| r.placement.nodes.iter().any(|n| n.node == name))
                    .map(|r| r.job.id)
                    .collect();
                let result = self.apply(Input::NodeRemoved(name.clone()));
                let applied = match result {
                    Ok(applied) => applied,
                    Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
                };
                prop_assert_eq!(&applied.requeued, &on_node);
                for id in on_node {
                    prop_assert!(self.s.pending().any(|j| j.id == id));
                }
                prop_assert!(!self.s.ledgers().fleet.contains(&name));
            }
            Step::ChangeQuota {
                queue,
                flavor,
                quota,
            } => {
                let queues: Vec<_> = self.s.config().cluster_queues.values().cloned().collect();
                let queue = &queues[queue.index(queues.len())];
                let flavor = queue.flavors[flavor.index(queue.flavors.len())]
                    .flavor
                    .clone();
                let new = quota.quota(queue.cohort.is_some());
                let old = queue.quota(&flavor, Resource::Gpu).copied();
                let result = self.apply(Input::QuotaChanged {
                    queue: queue.name.clone(),
                    flavor: flavor.clone(),
                    resource: Resource::Gpu,
                    quota: new,
                });
                prop_assert!(result.is_ok(), "{result:?}");
                self.quota_cut |= may_cut(old, new);
            }
            Step::Cycle => self.cycle()?,
        }
        Ok(())
    }

    /// One cycle, with every check of the suite around it.
    pub fn cycle(&mut self) -> Checked {
        let now = Time(self.now);
        self.now += 1_000;
        head_job_gains_from_capacity(&self.s, now)?;
        let pending: Vec<Job> = self.s.pending().cloned().collect();
        let nominated_before: Vec<JobId> = self.s.nominated().collect();
        let reserved_before = alloc_core::testing::reserved_jobs(&self.s);
        let overruns_before = self.s.quota_overruns();
        let preempting = self.s.policy().preemption.enabled;
        let before = preempting.then(|| self.s.clone());
        let mut afresh = self.s.clone();
        let mut all_told = self.s.clone();
        self.trace.push(Traced::Cycle(now));
        let cycle = self.s.cycle(now);
        let (decisions, reserved) =
            alloc_core::testing::decide_all_with_reservations(&mut all_told, now);
        crate::backfill::check_reservations_hold(&all_told, &reserved, now)?;
        self.outcomes.push(Outcome::Cycle(decisions.clone()));
        self.check_changes(&decisions, &cycle)?;

        // The memo only saves work: deciding every job afresh gives the same decisions.
        let expected = alloc_core::testing::cycle_without_memo(&mut afresh, now);
        prop_assert_eq!(&decisions, &expected, "the cycle's memo changed a decision");

        if let Err(violations) = self.s.check_invariants() {
            return Err(TestCaseError::fail(format!(
                "invariants broken: {violations:#?}\ndecisions: {decisions:#?}"
            )));
        }
        let overruns = self.s.quota_overruns();
        if !self.quota_cut {
            prop_assert!(overruns.is_empty(), "quota overrun: {overruns:#?}");
        }
        for overrun in &overruns {
            prop_assert!(
                overruns_before
                    .iter()
                    .any(|b| same_scope(b, overrun) && b.usage >= overrun.usage),
                "the cycle made a quota overrun worse: {overrun:?} (before: {overruns_before:?})"
            );
        }

        // Settled: capacity, quota and caps only shrink during a cycle, so a second cycle with
        // nothing new admits and rejects nothing. Preemption frees room and sends victims back
        // (which may then evict others), so with it only the decisions before the second
        // cycle's first eviction are checked, and only when the first cycle evicted nobody.
        let evicted = decisions
            .iter()
            .any(|d| matches!(d, Decision::Preempt { .. }));
        let again = if evicted {
            Vec::new()
        } else {
            self.s.clone().decide_all(now)
        };
        let mut settled = again
            .iter()
            .take_while(|d| !(preempting && matches!(d, Decision::Preempt { .. })));
        if let Some(changed) = settled.find(|d| !matches!(d, Decision::Wait { .. })) {
            return Err(TestCaseError::fail(format!(
                "a second cycle with no new input decided {changed}"
            )));
        }

        // Jobs whose victims have stopped are booked where their preemptions made room,
        // before the cycle's order; everyone else follows in it.
        let nominated: Vec<JobId> = decisions
            .iter()
            .take_while(|d| {
                matches!(d, Decision::Admit { .. }) && nominated_before.contains(&d.job())
            })
            .map(Decision::job)
            .collect();
        for (decision, id) in decisions.iter().zip(&nominated) {
            if let Decision::Admit { placement, .. } = decision {
                let job = pending.iter().find(|job| job.id == *id);
                prop_assert!(job.is_some(), "{} was not pending", id);
                if let Some(job) = job {
                    self.check_placement(job, placement)?;
                }
            }
        }
        let all = &decisions;
        let decisions = &decisions[nominated.len()..];
        let ids: Vec<JobId> = decisions.iter().map(Decision::job).collect();
        let mut pending = pending;
        pending.retain(|job| !nominated.contains(&job.id));
        // each StrictFIFO queue's first job in Kueue's order: the only one of the queue that
        // goes first for its reservation
        let config = self.s.config();
        let mut heads = std::collections::BTreeMap::new();
        for job in &pending {
            if let Some(queue) = config.cluster_queue_of(&job.queue) {
                if queue.strategy == alloc_core::QueueingStrategy::StrictFIFO {
                    heads.entry(queue.name.clone()).or_insert(job.id);
                }
            }
        }
        let heads_or_free = |job: &Job| {
            config
                .cluster_queue_of(&job.queue)
                .and_then(|queue| heads.get(&queue.name))
                .is_none_or(|head| *head == job.id)
        };
        if self.s.policy().ordering != alloc_core::Ordering::PriorityFifo {
            // a score order: the cycle's own order, checked against the queue's jobs below
            pending.sort_by_key(|job| ids.iter().position(|id| *id == job.id));
        }
        // jobs holding a reservation come first, in the order they got it
        let reserved_at = |job: &Job| {
            let at = reserved_before.iter().position(|id| *id == job.id)?;
            heads_or_free(job).then_some(at)
        };
        let (mut first, rest): (Vec<Job>, Vec<Job>) = pending
            .into_iter()
            .partition(|job| reserved_at(job).is_some());
        first.sort_by_key(|job| reserved_at(job));
        first.extend(rest);
        let pending = first;
        let expected: Vec<JobId> = pending.iter().map(|j| j.id).collect();
        prop_assert_eq!(
            ids,
            expected,
            "one decision per pending job, in queue order"
        );
        for (decision, job) in decisions.iter().zip(&pending) {
            match decision {
                Decision::Admit { placement, .. } => {
                    if let Some(lease) = &placement.public {
                        self.unbilled.push((job.id, lease.lease, lease.reserved));
                    }
                    self.check_placement(job, placement)?;
                    let running = self.s.running_job(job.id).map(|r| &r.placement);
                    prop_assert_eq!(running, Some(placement));
                }
                Decision::Preempt { placement, .. } => {
                    prop_assert!(preempting, "preemption is off: {decision}");
                    self.check_placement(job, placement)?;
                }
                Decision::Wait { reason, .. } => {
                    prop_assert!(self.s.pending().any(|j| j.id == job.id));
                    if let WaitReason::NoFlavorFits { misses } = reason {
                        prop_assert!(!misses.is_empty());
                    }
                    // every wait explains itself
                    prop_assert!(decision.to_string().contains("would start"));
                }
                Decision::Reject { .. } => {
                    prop_assert!(!known_jobs(&self.s).contains(&job.id));
                }
                other => prop_assert!(false, "a decision this check does not know: {other}"),
            }
        }
        if let Some(before) = &before {
            crate::preemption::check_evictions(before, &self.s, all, now)?;
        }
        Ok(())
    }

    /// The cycle reported exactly the decisions that differ from what the shell was last
    /// told of each job still pending (a job that left and came back is new), and folding
    /// them into what it was told gives every decision of the cycle. When the cycle settled
    /// (it only told jobs to wait), a cycle at any instant before its `next_change` with no
    /// input in between changes nothing.
    fn check_changes(&mut self, all: &[Decision], cycle: &alloc_core::Cycle) -> Checked {
        let expected: Vec<&Decision> = all
            .iter()
            .filter(|d| self.told.get(&d.job()) != Some(d))
            .collect();
        // Admissions, preemptions and rejections come in the order the cycle made them; waits
        // for room come after the rest (they quote the room as the cycle leaves it), so
        // decisions are compared by job too.
        let acts = |decisions: &[&Decision]| -> Vec<Decision> {
            let acts = decisions
                .iter()
                .filter(|d| !matches!(d, Decision::Wait { .. }));
            acts.map(|d| (*d).clone()).collect()
        };
        let by_job = |decisions: &[&Decision]| -> Vec<Decision> {
            let mut all: Vec<Decision> = decisions.iter().map(|d| (*d).clone()).collect();
            all.sort_by_key(Decision::job);
            all
        };
        let changes: Vec<&Decision> = cycle.changes.iter().collect();
        prop_assert_eq!(
            acts(&changes),
            acts(&expected),
            "the cycle's actions are not the changed decisions' in order"
        );
        prop_assert_eq!(
            by_job(&changes),
            by_job(&expected),
            "the cycle's changes are not the changed decisions"
        );
        for decision in all {
            self.told.insert(decision.job(), decision.clone());
        }
        let pending: BTreeSet<JobId> = self.s.pending().map(|j| j.id).collect();
        self.told.retain(|id, _| pending.contains(id));
        let settled = all.iter().all(|d| matches!(d, Decision::Wait { .. }));
        if let (true, Some(next)) = (settled, cycle.next_change) {
            let now = Time(self.now - 1_000);
            prop_assert!(next > now, "next change {next:?} is not after {now:?}");
        }
        if settled {
            let now = self.now - 1_000;
            let before = cycle.next_change.map_or(now + 7_200_000, |next| next.0 - 1);
            for later in [now + 1, (now + before) / 2, before] {
                if later <= now || later > before {
                    continue;
                }
                // every pending job decided afresh: each answer is what the shell was told
                let afresh = self.s.clone().decide_all(Time(later));
                let changed: Vec<&Decision> = afresh
                    .iter()
                    .filter(|d| self.told.get(&d.job()) != Some(*d))
                    .collect();
                prop_assert!(
                    changed.is_empty(),
                    "at {} ms, before the next change at {:?}, the clock changed: {:?}; it was: {:?}; \
                     running (id, started, priority, deadline, checkpoints, progress, evicting, \
                     cost then and now): {:#?}; preemption: {:?}",
                    later,
                    cycle.next_change,
                    changed,
                    changed.first().and_then(|d| self.told.get(&d.job())),
                    running_costs(&self.s, Time(now), Time(later)),
                    self.s.policy().preemption
                );
            }
        }
        Ok(())
    }

    /// The placement gives the job what it asked for, where it may run.
    fn check_placement(&self, job: &Job, placement: &alloc_core::Placement) -> Checked {
        let config = self.s.config();
        let flavor = &config.flavors[&placement.flavor];
        let cluster = &config.clusters[&flavor.cluster];
        prop_assert_eq!(&placement.cluster, &flavor.cluster);
        prop_assert_eq!(placement.tier, flavor.tier);
        prop_assert!(placement.tier >= job.min_tier);
        if !(job.allow_upgrade || self.s.policy().allow_tier_upgrade) {
            prop_assert_eq!(placement.tier, job.min_tier);
        }
        if job.data_class == alloc_core::DataClass::Sensitive {
            prop_assert!(!cluster.is_public());
        }
        let queue = &config.local_queues[&job.queue].cluster_queue;
        prop_assert_eq!(&placement.queue, queue);
        prop_assert!(config.cluster_queues[queue]
            .flavors
            .iter()
            .any(|f| f.flavor == placement.flavor));
        prop_assert_eq!(cluster.is_public(), placement.public.is_some());
        if let Some(lease) = &placement.public {
            // the burst rule: burstable, flexible, not sensitive; the rented GPUs
            prop_assert!(job.burstable && job.budget.kind == alloc_core::BudgetKind::Flex);
            prop_assert!(job.data_class != alloc_core::DataClass::Sensitive);
            prop_assert!(placement.nodes.is_empty());
            prop_assert_eq!(lease.gpus, alloc_core::burst::gpus_rented(job));
            prop_assert!(lease.expected_cost <= lease.reserved);
            return Ok(());
        }
        let fleet = &self.s.ledgers().fleet;
        let mut cpu = 0;
        let mut memory = 0;
        for share in &placement.nodes {
            prop_assert!(fleet.is_member(&placement.flavor, &share.node));
            let node = fleet.node(&share.node).unwrap();
            cpu += share.cpu.0;
            memory += share.memory.0;
            if !matches!(job.gpu, GpuRequest::None) {
                prop_assert!(job.accepts_model(node.spec.gpu_model.as_ref()));
            }
            let indices: BTreeSet<u32> = share.gpus.iter().map(|g| g.index).collect();
            prop_assert_eq!(indices.len(), share.gpus.len(), "a GPU taken twice");
        }
        prop_assert!(cpu >= job.cpu.0 && memory >= job.memory.0);
        let gpus: Vec<_> = placement.nodes.iter().flat_map(|n| &n.gpus).collect();
        match job.gpu {
            GpuRequest::None => {
                prop_assert!(gpus.is_empty());
                prop_assert_eq!(placement.nodes.len(), 1);
            }
            GpuRequest::Whole { count, min_vram } => {
                prop_assert_eq!(placement.gpu_count(), count as usize);
                prop_assert!(gpus.iter().all(|g| g.milli.0 == 1000));
                if !job.spread {
                    prop_assert_eq!(placement.nodes.len(), 1);
                }
                for share in &placement.nodes {
                    prop_assert!(!share.gpus.is_empty());
                    prop_assert!(fleet.node(&share.node).unwrap().vram_per_gpu >= min_vram);
                }
            }
            GpuRequest::Fraction { milli, vram } => {
                prop_assert_eq!(placement.nodes.len(), 1);
                prop_assert_eq!(gpus.len(), 1);
                prop_assert_eq!((gpus[0].milli, gpus[0].vram), (milli, vram));
                prop_assert!(
                    fleet
                        .node(&placement.nodes[0].node)
                        .unwrap()
                        .max_mps_clients
                        > 0
                );
            }
        }
        Ok(())
    }
}

fn same_scope(a: &QuotaOverrun, b: &QuotaOverrun) -> bool {
    a.scope == b.scope && a.flavor == b.flavor && a.resource == b.resource
}

/// A node of `flavor` big enough for any generated job: 8 GPUs of a model the job accepts
/// (A100 unless it names another), 64 cores, 512 GiB.
fn big_node(s: &Scheduler, flavor: &FlavorName, job: &Job) -> NodeSpec {
    let model = job
        .gpu_models
        .as_ref()
        .and_then(|models| models.iter().next().cloned())
        .unwrap_or_else(|| MODELS[2].into());
    NodeSpec {
        name: NodeName::new("extra"),
        cluster: s.config().flavors[flavor].cluster.clone(),
        labels: BTreeMap::from([(FLAVOR_LABEL.to_string(), flavor.to_string())]),
        cpu: alloc_core::CpuMilli(64_000),
        memory: alloc_core::MemMib(512 * 1024),
        gpu_model: Some(model),
        gpus: 8,
    }
}

/// Metamorphic: the first job of the cycle is decided before anything is booked, so a node
/// more on its flavor can only help it. An Admit stays an Admit; a wait whose first flavor had
/// quota but no room turns into an Admit when the new node is big enough for the job. (The
/// worlds' orders do not read the fleet, so the node leaves the head first.)
fn head_job_gains_from_capacity(s: &Scheduler, now: Time) -> Checked {
    let without = s.clone().decide_all(now);
    let Some(first) = without.first() else {
        return Ok(());
    };
    let Some(head) = s.pending().find(|job| job.id == first.job()).cloned() else {
        return Ok(());
    };
    let (flavor, room_was_short) = match &without[0] {
        // a burst's flavor is public: its GPUs are rented, no node can be added to it
        Decision::Admit { placement, .. } if placement.public.is_some() => return Ok(()),
        Decision::Admit { placement, .. } => (placement.flavor.clone(), false),
        Decision::Wait {
            reason: WaitReason::NoFlavorFits { misses },
            ..
        } => (
            misses[0].flavor.clone(),
            matches!(misses[0].miss, Miss::Capacity { .. }),
        ),
        _ => return Ok(()),
    };
    let node = big_node(s, &flavor, &head);
    let big_enough = {
        let model = &s.config().gpu_models[node.gpu_model.as_ref().unwrap_or(&MODELS[2].into())];
        match head.gpu {
            GpuRequest::None => true,
            GpuRequest::Whole { count, min_vram } => count <= 8 && model.vram >= min_vram,
            GpuRequest::Fraction { vram, .. } => model.vram >= vram && model.max_mps_clients > 0,
        }
    };
    let mut more = s.clone();
    more.apply(Input::NodeAdded(node))
        .map_err(|e| TestCaseError::fail(format!("extra node refused: {e}")))?;
    let with = more.decide_all(now);
    prop_assert_eq!(with[0].job(), head.id);
    let admitted = matches!(with[0], Decision::Admit { .. });
    if matches!(without[0], Decision::Admit { .. }) {
        prop_assert!(
            admitted,
            "a node more turned {} into {}",
            without[0],
            with[0]
        );
    }
    if room_was_short && big_enough {
        prop_assert!(
            admitted,
            "a big node on flavor {flavor} did not help: {}",
            with[0]
        );
    }
    Ok(())
}

/// Replays a trace with every run of consecutive submissions and node additions (which
/// commute) put in another order; the outcomes must be the same.
fn replay_permuted(
    world: &World,
    trace: &[Traced],
    outcomes_first: &[Outcome],
    seed: u64,
) -> Result<Vec<Outcome>, TestCaseError> {
    let mut s = Scheduler::new(world.config.clone(), world.policy.clone())
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let mut outcomes = Vec::new();
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // accepted submissions and node additions commute; a refused one (a duplicate) does not
    let commutes = |at: usize| {
        matches!(
            &trace[at],
            Traced::Input(input) if matches!(**input, Input::JobSubmitted(_) | Input::NodeAdded(_))
        ) && matches!(outcomes_first.get(at), Some(Outcome::Applied(Ok(_))))
    };
    let mut i = 0;
    while i < trace.len() {
        let mut end = i;
        while end < trace.len() && commutes(end) {
            end += 1;
        }
        if end > i {
            let mut run: Vec<&Traced> = trace[i..end].iter().collect();
            for k in (1..run.len()).rev() {
                let j = (next() % (k as u64 + 1)) as usize;
                run.swap(k, j);
            }
            let mut results: BTreeMap<usize, Outcome> = BTreeMap::new();
            for traced in run {
                let position = trace[i..end]
                    .iter()
                    .position(|t| std::ptr::eq(t, traced))
                    .unwrap_or(0);
                if let Traced::Input(input) = traced {
                    results.insert(position, Outcome::Applied(s.apply((**input).clone())));
                }
            }
            outcomes.extend(results.into_values());
            i = end;
            continue;
        }
        match &trace[i] {
            Traced::Input(input) => outcomes.push(Outcome::Applied(s.apply((**input).clone()))),
            Traced::Cycle(now) => outcomes.push(Outcome::Cycle(s.decide_all(*now))),
        }
        i += 1;
    }
    Ok(outcomes)
}

pub fn run_history(world: &World, steps: &[Step], seed: u64) -> Checked {
    let mut run = Run::new(world)?;
    for step in steps {
        run.step(step)?;
    }
    run.cycle()?;
    let replayed = replay_permuted(world, &run.trace, &run.outcomes, seed)?;
    prop_assert_eq!(
        replayed,
        run.outcomes,
        "reordering simultaneous inputs changed the outcome"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        max_shrink_iters: 2_000,
        // shrunk failures are pinned by name in `regressions`
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Invariants after every cycle, placements that match their jobs, decisions equal to a
    /// cycle without the memo, reorder-independence and the head-job metamorphic property, over
    /// generated histories.
    #[test]
    fn every_cycle_keeps_the_invariants(world in world(), steps in history(40), seed in any::<u64>()) {
        run_history(&world, &steps, seed)?;
    }

    /// The same where jobs burst: a public flavor with quota in every queue, a policy that
    /// bursts, most jobs burstable, leases billed as they end. After every step: the burst
    /// rule (burstable, flexible, not sensitive), the flavor in the job's queue, quota, offer
    /// caps, and billed plus reserved money within every tenant's budget.
    #[test]
    fn every_cycle_keeps_the_invariants_when_jobs_burst(
        world in bursting_world(),
        steps in bursting_history(40),
        seed in any::<u64>(),
    ) {
        run_history(&world, &steps, seed)?;
    }
}
