//! The scheduler: configuration, ledgers, pending and running jobs, and the inputs that change
//! them. The cycle that turns this state into decisions is in `cycle`.

use crate::backfill::Reservations;
use crate::burst::PublicOffers;
use crate::classes::RequestClasses;
use crate::decision::{Decision, Placement};
use crate::error::{ConfigError, InputError};
use crate::ids::{CohortName, FlavorName, JobId, NodeName, QueueName, TenantName, UserName};
use crate::input::{Applied, Input};
use crate::memo::LastNoRoom;
use crate::model::{Config, GpuModel, Job, NodeSpec, Quota, Resource, StrandedGpus};
use crate::order::PendingKey;
use crate::pending::{Carried, PendingJobs, Waiting};
use crate::placement::MixTracker;
use crate::policy::Policy;
use crate::progress::Progress;
use crate::protocol::Seen;
use crate::queue_order::QueueOrder;
use crate::running::{Evicting, Running};
use crate::score::SpeedCache;
use crate::screenings::Screenings;
use crate::state::{Ledgers, NodeState, Spend};
use crate::units::Time;
use crate::view::View;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Makes every decision; fed by inputs, asked by `cycle(now)`.
#[derive(Debug, Clone)]
pub struct Scheduler {
    /// Shared, so that a cycle can hold it apart from the state it changes.
    pub(crate) config: Arc<Config>,
    pub(crate) policy: Policy,
    pub(crate) cohort_members: BTreeMap<CohortName, Vec<QueueName>>,
    pub(crate) ledgers: Ledgers,
    pub(crate) pending: PendingJobs,
    /// The pending jobs' request classes, which the cycle's memo is indexed by.
    pub(crate) classes: RequestClasses,
    /// The pending jobs in Kueue's order, each with its slot; those a cycle need not look
    /// at kept apart (`queue_order`).
    pub(crate) queue_order: QueueOrder,
    pub(crate) running: BTreeMap<JobId, Box<Running>>,
    pub(crate) spend: Spend,
    /// The request mix of recent submissions, for the fragmentation-aware MPS policies.
    pub(crate) mix: MixTracker,
    /// Fastest candidate GPU per job shape, for deadline urgency; cleared when nodes or the
    /// configuration change.
    pub(crate) speeds: SpeedCache,
    /// The configuration's public offers, resolved; rebuilt with the configuration.
    pub(crate) offers: PublicOffers,
    /// Names of users and tenants that jobs carry and the configuration does not declare.
    undeclared: Undeclared,
    /// Screening answers by request class, kept across cycles; forgotten with the
    /// configuration or the fleet's GPU models.
    pub(crate) screenings: Screenings,
    /// Pending jobs nominated by their preemptions (`Waiting::nominated`).
    pub(crate) nominations: BTreeSet<JobId>,
    /// What a re-list in progress has mentioned (`Input::ResyncStarted`).
    resync: Option<Seen>,
    /// When the clock could next change what a preemption search finds, as worked out at
    /// the first instant: kept until the running jobs change (`clock`).
    pub(crate) victims_clock: Option<(Time, Option<Time>)>,
    /// The last "no room" answer of each request class, lent to each cycle (`memo`).
    pub(crate) last_no_room: LastNoRoom,
    /// Scratch for the cycle's waits for room (`room_told::RoomWait`), empty between cycles.
    pub(crate) room_waits: Vec<crate::room_told::RoomWait>,
    /// Scratch for what each class waiting for room is told (`room_told::Told`), empty between
    /// cycles.
    pub(crate) told: crate::room_told::Told,
    /// The reservations for large jobs (`backfill`), in the order they were made: each kept
    /// until its job starts or leaves, planned again in the first cycle after an input.
    pub(crate) reservations: Reservations,
    /// An input changed the running jobs, the nodes or the configuration since the last
    /// cycle: the next plans its reservations again.
    pub(crate) replan_reservations: bool,
}

#[derive(Debug, Clone, Default)]
struct Undeclared {
    users: BTreeSet<UserName>,
    tenants: BTreeSet<TenantName>,
}

/// The value of `name` kept in `names`, kept there if new.
fn share<N: Ord + Clone>(names: &mut BTreeSet<N>, name: &N) -> N {
    if let Some(kept) = names.get(name) {
        return kept.clone();
    }
    names.insert(name.clone());
    name.clone()
}

impl Scheduler {
    /// A scheduler with no nodes and no jobs; both come as inputs. Refuses a configuration
    /// with dangling references or impossible values.
    pub fn new(config: Config, policy: Policy) -> Result<Scheduler, ConfigError> {
        config.validate()?;
        let cohort_members = cohort_members(&config);
        let mut ledgers = Ledgers::default();
        if policy.mps_packing.is_fragmentation_aware() {
            ledgers.fleet.track_shapes();
        }
        Ok(Scheduler {
            offers: PublicOffers::of(&config),
            config: Arc::new(config),
            policy,
            cohort_members,
            ledgers,
            pending: PendingJobs::default(),
            classes: RequestClasses::default(),
            queue_order: QueueOrder::default(),
            running: BTreeMap::new(),
            spend: Spend::default(),
            mix: MixTracker::default(),
            speeds: SpeedCache::default(),
            undeclared: Undeclared::default(),
            screenings: Screenings::default(),
            nominations: BTreeSet::new(),
            resync: None,
            victims_clock: None,
            last_no_room: LastNoRoom::default(),
            room_waits: Vec::new(),
            told: Default::default(),
            reservations: Reservations::default(),
            replan_reservations: false,
        })
    }

    /// Learns the target mix of the fragmentation-aware MPS policies from the last `window`
    /// submissions (default [`MixTracker::DEFAULT_WINDOW`]); forgets what was learned so far.
    pub fn with_mix_window(mut self, window: usize) -> Scheduler {
        self.mix = MixTracker::new(window);
        self
    }

    /// The request mix learned from recent submissions.
    pub fn mix(&self) -> &MixTracker {
        &self.mix
    }

    /// The configuration as the inputs have changed it so far.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The private flavors whose nodes, as the inputs have them now, hold more GPUs than the
    /// quota on them ([`Config::stranded_gpus`]).
    pub fn stranded_gpus(&self) -> Vec<StrandedGpus> {
        self.config
            .stranded_gpus(self.ledgers.fleet.nodes().map(|node| &*node.spec))
    }

    /// The policy it was built with.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// What is booked: node capacity, quota usage, user and tenant holdings.
    pub fn ledgers(&self) -> &Ledgers {
        &self.ledgers
    }

    /// Public spend committed so far, per job and tenant.
    pub fn spend(&self) -> &Spend {
        &self.spend
    }

    /// Pending jobs in Kueue's order (priority, submit time, id). Under a scored policy the
    /// cycle reorders them: see [`Scheduler::consideration_order`].
    pub fn pending(&self) -> impl Iterator<Item = &Job> {
        self.queue_order
            .all()
            .into_iter()
            .filter_map(|slot| self.pending.at(slot).map(|waiting| &*waiting.job))
    }

    /// Pending jobs by id: for a shell that counts them, cheaper than [`Scheduler::pending`],
    /// which merges the quiet jobs (`queue_order`) back into Kueue's order.
    pub fn pending_by_id(&self) -> impl Iterator<Item = &Job> {
        self.pending.by_id().map(|waiting| &*waiting.job)
    }

    /// How many jobs are pending, without walking them.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Pending jobs nominated by their preemptions, each booked where its preemption made
    /// room in the first cycle after its victims stop.
    pub fn nominated(&self) -> impl Iterator<Item = JobId> + '_ {
        self.nominations.iter().copied()
    }

    /// Running jobs, in id order.
    pub fn running(&self) -> impl Iterator<Item = &Running> {
        self.running.values().map(|running| &**running)
    }

    /// The running job `job`, if it runs.
    pub fn running_job(&self, job: JobId) -> Option<&Running> {
        self.running.get(&job).map(|running| &**running)
    }

    /// A pending or running job's progress: for a running one, as of its attempt's start.
    pub fn progress(&self, job: JobId) -> Option<Progress> {
        self.running
            .get(&job)
            .map(|running| running.progress)
            .or_else(|| self.pending.get(job).map(|waiting| waiting.progress))
    }

    /// What the cycle's steps read: a handful of references, taken afresh after each change.
    pub(crate) fn view(&self) -> View<'_> {
        View {
            config: &self.config,
            policy: &self.policy,
            cohort_members: &self.cohort_members,
            ledgers: &self.ledgers,
            running: &self.running,
            spend: &self.spend,
            offers: &self.offers,
            mix: &self.mix,
            speeds: &self.speeds,
            screenings: &self.screenings,
        }
    }

    /// Points the job's queue, user and tenant names at the configuration's own, or for users
    /// and tenants it does not declare at the first submitted job's: equal names that share
    /// their text compare without reading it, and every cycle looks these up.
    pub(crate) fn share_names(&mut self, job: &mut Job) {
        let config = &self.config;
        if let Some((name, _)) = config.local_queues.get_key_value(&job.queue) {
            job.queue = name.clone();
        }
        job.user = match config.users.get_key_value(&job.user) {
            Some((name, _)) => name.clone(),
            None => share(&mut self.undeclared.users, &job.user),
        };
        job.tenant = match config.tenants.get_key_value(&job.tenant) {
            Some((name, _)) => name.clone(),
            None => share(&mut self.undeclared.tenants, &job.tenant),
        };
    }

    /// Applies one input. On error nothing changed.
    pub fn apply(&mut self, input: Input) -> Result<Applied, InputError> {
        let mut applied = Applied::default();
        if let Some(seen) = self.resync.as_mut() {
            match &input {
                Input::JobSubmitted(job) | Input::JobUpserted(job) => seen.job(job.id),
                Input::JobAdmitted { job, .. } => seen.job(job.id),
                Input::NodeAdded(spec) | Input::NodeUpserted(spec) => seen.node(&spec.name),
                Input::ObjectUpserted(object) => seen.object(object.key()),
                _ => {}
            }
        }
        if !input.leaves_quiet_jobs_quiet() {
            self.queue_order.wake_all();
        }
        match input {
            Input::JobUpserted(job) => self.upsert_job(job)?,
            Input::JobAdmitted {
                job,
                placement,
                started,
            } => self.job_admitted(job, *placement, started)?,
            Input::QuotaReserved { job, flavor } => self.quota_reserved(job, flavor)?,
            Input::NodeUpserted(spec) => self.upsert_node(spec, &mut applied)?,
            Input::ObjectUpserted(object) => self.upsert_object(object)?,
            Input::ObjectRemoved(key) => self.remove_object(&key)?,
            Input::ResyncStarted => self.resync = Some(Seen::default()),
            Input::ResyncFinished => {
                if let Some(seen) = self.resync.take() {
                    self.resync_finished(seen, &mut applied);
                }
            }
            Input::JobSubmitted(mut job) => {
                if self.pending.contains(job.id) || self.running.contains_key(&job.id) {
                    return Err(InputError::DuplicateJob(job.id));
                }
                self.share_names(&mut job);
                self.mix.record(&job);
                let progress = Progress::new(&job);
                self.enqueue(job, progress);
            }
            Input::JobFinished(id) => {
                self.stop(id)?;
            }
            Input::JobRequeued(id) => {
                let (job, progress) = self.stop(id)?;
                self.enqueue(job, progress);
            }
            Input::JobCancelled(id) => {
                if self.unqueue(id).is_none() {
                    self.stop(id)?;
                }
            }
            Input::JobProgress { job, remaining } => {
                let Some(waiting) = self.pending.get_mut(job) else {
                    return Err(self.not_pending(job));
                };
                waiting.progress.remaining = remaining;
                let key = PendingKey::of(&waiting.job);
                self.queue_order.wake(key);
            }
            Input::PublicBilled { job, lease, cost } => {
                self.spend.settle(job, lease, cost)?;
            }
            Input::NodeAdded(spec) => self.add_node(spec)?,
            Input::NodeRemoved(name) => self.remove_node(&name, &mut applied)?,
            Input::QuotaChanged {
                queue,
                flavor,
                resource,
                quota,
            } => {
                self.change_quota(&queue, &flavor, resource, quota)?;
            }
        }
        Ok(applied)
    }

    pub(crate) fn enqueue(&mut self, job: Job, progress: Progress) {
        self.enqueue_as(job, Carried::new(progress));
    }

    /// Queues `job` with what it carries besides its spec: progress, the preemption it
    /// awaits, its quota reservation.
    pub(crate) fn enqueue_as(&mut self, job: Job, carried: Carried) {
        let key = PendingKey::of(&job);
        let class = self.classes.join(&job);
        if carried.nominated.is_some() {
            self.nominations.insert(job.id);
        }
        let slot = self
            .pending
            .insert(Waiting::new(Box::new(job), class, carried));
        self.queue_order.insert(key, slot);
    }

    /// Takes a job out of the pending jobs, if it is there, as submitted (without a quota
    /// reservation's narrowing).
    pub(crate) fn unqueue(&mut self, id: JobId) -> Option<(Box<Job>, Progress)> {
        let waiting = self.unqueue_whole(id)?;
        let job = match waiting.reserved {
            Some(_) => Box::new(waiting.own_spec()),
            None => waiting.job,
        };
        Some((job, waiting.progress))
    }

    /// Takes a job out of the pending jobs with everything it carries.
    pub(crate) fn unqueue_whole(&mut self, id: JobId) -> Option<Waiting> {
        let waiting = self.pending.remove(id)?;
        self.reservations.release(id);
        self.queue_order.remove(&PendingKey::of(&waiting.job));
        self.classes.leave(waiting.class);
        self.nominations.remove(&id);
        Some(waiting)
    }

    /// Releases a running job's resources and hands the job back, with its progress as of
    /// the attempt's start: the shell reports what the attempt kept (`JobProgress`).
    pub(crate) fn stop(&mut self, id: JobId) -> Result<(Job, Progress), InputError> {
        self.victims_clock = None;
        self.replan_reservations = true;
        let Some(running) = self.running.remove(&id) else {
            return Err(if self.pending.contains(id) {
                InputError::NotRunning(id)
            } else {
                InputError::UnknownJob(id)
            });
        };
        let evictable = running.evicting.is_none();
        self.ledgers
            .release(&running.job, &running.placement, evictable);
        Ok(self.stopped(*running))
    }

    /// A running job taken out of the running jobs and the ledgers, handed back with its
    /// progress: a victim's counts its eviction, and its preemptor waits for one fewer.
    pub(crate) fn stopped(&mut self, running: Running) -> (Job, Progress) {
        let Running {
            job,
            progress,
            evicting,
            ..
        } = running;
        let progress = match evicting {
            Some(evicting) => {
                self.victim_stopped(job.id, evicting.by);
                progress.after(evicting.kept, true)
            }
            None => progress,
        };
        (job, progress)
    }

    /// The error for an input that names `id` as pending when it is not.
    pub(crate) fn not_pending(&self, id: JobId) -> InputError {
        if self.running.contains_key(&id) {
            InputError::NotPending(id)
        } else {
            InputError::UnknownJob(id)
        }
    }

    /// Removes a node; the jobs running on it go back to pending.
    pub(crate) fn remove_node(
        &mut self,
        name: &NodeName,
        applied: &mut Applied,
    ) -> Result<(), InputError> {
        if !self.ledgers.fleet.contains(name) {
            return Err(InputError::UnknownNode(name.clone()));
        }
        self.replan_reservations = true;
        self.reservations.release_on(name);
        let on_node: Vec<JobId> = self
            .running
            .values()
            .filter(|r| r.placement.nodes.iter().any(|share| &share.node == name))
            .map(|r| r.job.id)
            .collect();
        for id in on_node {
            self.requeue_from_node(id)?;
            applied.requeued.push(id);
        }
        self.ledgers.fleet.remove(name);
        self.speeds.clear();
        self.screenings.clear();
        Ok(())
    }

    /// Checks that `spec` may join the fleet as configured: a private cluster, a known GPU
    /// model; returns the model.
    pub(crate) fn node_model(&self, spec: &NodeSpec) -> Result<Option<&GpuModel>, InputError> {
        let invalid = |reason: String| InputError::InvalidNode {
            node: spec.name.clone(),
            reason,
        };
        match self.config.clusters.get(&spec.cluster) {
            None => {
                return Err(invalid(format!(
                    "cluster {} is not configured",
                    spec.cluster
                )))
            }
            Some(cluster) if cluster.is_public() => {
                return Err(invalid(format!(
                    "cluster {} is public: its GPUs are rented through its offers, one node \
                     per burst, not listed as nodes",
                    spec.cluster
                )))
            }
            Some(_) => {}
        }
        match &spec.gpu_model {
            Some(name) => self
                .config
                .gpu_models
                .get(name)
                .map(Some)
                .ok_or_else(|| invalid(format!("GPU model {name} is not configured"))),
            None if spec.gpus > 0 => {
                Err(invalid("a node with GPUs must name its GPU model".into()))
            }
            None => Ok(None),
        }
    }

    pub(crate) fn add_node(&mut self, spec: NodeSpec) -> Result<(), InputError> {
        if self.ledgers.fleet.contains(&spec.name) {
            return Err(InputError::DuplicateNode(spec.name));
        }
        let model = self.node_model(&spec)?;
        let node = NodeState::new(spec, model);
        self.ledgers.fleet.add(node, &self.config.flavors);
        self.replan_reservations = true;
        self.speeds.clear();
        self.screenings.clear();
        Ok(())
    }

    fn change_quota(
        &mut self,
        queue: &QueueName,
        flavor: &FlavorName,
        resource: Resource,
        quota: Quota,
    ) -> Result<(), InputError> {
        let mut config = Config::clone(&self.config);
        let place = format!("cluster_queues[{queue}]");
        let cluster_queue = config
            .cluster_queues
            .get_mut(queue)
            .ok_or_else(|| ConfigError::unknown(place.clone(), "name", queue))?;
        let flavor_quotas = cluster_queue
            .flavors
            .iter_mut()
            .find(|f| &f.flavor == flavor)
            .ok_or_else(|| ConfigError::unknown(place, "flavors", flavor))?;
        flavor_quotas.resources.insert(resource, quota);
        config.validate()?;
        self.replace_config(config);
        Ok(())
    }

    /// Takes a validated configuration: rebuilds what it shapes (the public offers, cohorts,
    /// the ledgers' flavor membership) and forgets the answers read from the old one.
    pub(crate) fn replace_config(&mut self, config: Config) {
        self.victims_clock = None;
        self.replan_reservations = true;
        self.offers = PublicOffers::of(&config);
        self.cohort_members = cohort_members(&config);
        let flavors_changed = config.flavors != self.config.flavors;
        self.config = Arc::new(config);
        if flavors_changed {
            let mut ledgers = self.rebuilt_ledgers();
            if self.policy.mps_packing.is_fragmentation_aware() {
                ledgers.fleet.track_shapes();
            }
            self.ledgers = ledgers;
        }
        self.speeds.clear();
        self.screenings.clear();
    }

    /// Marks a job admitted: books its placement, reserves a burst's worst-case bill, and
    /// moves the job to running.
    pub(crate) fn admit(&mut self, id: JobId, placement: Placement, now: Time) {
        if let Some((job, progress)) = self.unqueue(id) {
            self.run(*job, placement, now, progress);
        }
    }

    /// Books `job` at `placement` as running since `started`, with its progress then.
    pub(crate) fn run(
        &mut self,
        job: Job,
        placement: Placement,
        started: Time,
        progress: Progress,
    ) {
        self.victims_clock = None;
        let speed_permille = self.view().placement_speed(&placement);
        self.ledgers.book(&job, &placement);
        if let Some(lease) = &placement.public {
            self.spend
                .reserve(job.id, lease.lease, &job.tenant, lease.reserved);
        }
        self.running.insert(
            job.id,
            Box::new(Running {
                job,
                placement,
                started,
                progress,
                speed_permille,
                evicting: None,
            }),
        );
    }

    /// `id` preempts `victims` at `now` to run at `placement`: the victims are marked
    /// evicting and the job waits for them, nominated for the room they free.
    pub(crate) fn nominate(
        &mut self,
        id: JobId,
        placement: &Placement,
        victims: &[JobId],
        now: Time,
    ) {
        if let Some(waiting) = self.pending.get_mut(id) {
            waiting.nominated = Some(Box::new(placement.clone()));
            self.nominations.insert(id);
        }
        for victim in victims {
            self.evict(*victim, id, now);
        }
    }

    /// Books the nominated jobs whose victims have all stopped where their preemptions made
    /// room, ahead of the cycle's order; a nomination whose room is gone (a node left, quota
    /// shrank) or whose user or tenant reached a cap meanwhile lapses, and the job is decided
    /// as usual.
    pub(crate) fn admit_nominated(&mut self, now: Time, decisions: &mut Vec<Decision>) {
        let ready: Vec<JobId> = self
            .nominations
            .iter()
            .copied()
            .filter(|id| {
                self.pending
                    .get(*id)
                    .is_none_or(|waiting| waiting.awaiting.is_empty())
            })
            .collect();
        for id in ready {
            self.nominations.remove(&id);
            let Some(waiting) = self.pending.get_mut(id) else {
                continue;
            };
            let Some(placement) = waiting.nominated.take() else {
                continue;
            };
            let config = Arc::clone(&self.config);
            let fits = match (
                config.cluster_queues.get(&placement.queue),
                self.pending.get(id),
            ) {
                // the user's and tenant's caps as they are now: others may have started
                // while the victims stopped
                (Some(queue), Some(waiting)) => {
                    let (view, request) = (self.view(), waiting.job.quota_usage());
                    view.limit_reached(&waiting.job).is_none()
                        && self.room_for(&waiting.job, &placement).is_none()
                        && view
                            .quota_view()
                            .assess(queue, &placement.flavor, &request)
                            .is_ok()
                }
                _ => false,
            };
            if fits {
                self.admit(id, (*placement).clone(), now);
                decisions.push(Decision::Admit {
                    job: id,
                    placement: *placement,
                });
            }
        }
    }

    /// Why `placement` does not fit the fleet as it is for `job`; `None` when it does. A
    /// public lease holds no node here, so only its flavor is checked.
    pub(crate) fn room_for(&self, job: &Job, placement: &Placement) -> Option<String> {
        if !self.config.flavors.contains_key(&placement.flavor) {
            return Some(format!("flavor {} is not configured", placement.flavor));
        }
        if placement.public.is_some() {
            return None;
        }
        if job.gpu.milli() > crate::units::MilliGpu::ZERO && placement.nodes.is_empty() {
            return Some("it names no node".into());
        }
        let fleet = &self.ledgers.fleet;
        for share in &placement.nodes {
            let Some(node) = fleet.node(&share.node) else {
                return Some(format!("node {} is not known", share.node));
            };
            if !fleet.is_member(&placement.flavor, &share.node) {
                return Some(format!(
                    "node {} is not a node of flavor {}",
                    share.node, placement.flavor
                ));
            }
            if let Some(lack) = node.lacks_room_for(share) {
                return Some(format!("node {}: {lack}", share.node));
            }
        }
        None
    }

    /// Marks a running job a victim of `by`'s preemption at `now`: it keeps its capacity
    /// until the shell reports it stopped, leaves the preemption step's candidates, and
    /// counts the work up to its last checkpoint, as the core estimates it, as kept (the
    /// shell may correct it after the stop).
    fn evict(&mut self, id: JobId, by: JobId, now: Time) {
        let Some(running) = self.running.get_mut(&id) else {
            return;
        };
        if running.evicting.is_some() {
            return;
        }
        let kept = running
            .progress
            .stop(&running.job, running.began(), now, running.speed_permille)
            .kept;
        running.evicting = Some(Evicting { by, kept });
        self.victims_clock = None;
        self.ledgers
            .priorities_leave(&running.job, &running.placement);
        if let Some(waiting) = self.pending.get_mut(by) {
            waiting.awaiting.push(id);
        }
    }

    /// One of `by`'s victims stopped: `by` waits for one fewer.
    fn victim_stopped(&mut self, victim: JobId, by: JobId) {
        if let Some(waiting) = self.pending.get_mut(by) {
            waiting.awaiting.retain(|&awaited| awaited != victim);
        }
    }

    pub(crate) fn reject(&mut self, id: JobId) {
        self.unqueue(id);
    }
}

fn cohort_members(config: &Config) -> BTreeMap<CohortName, Vec<QueueName>> {
    let mut members: BTreeMap<CohortName, Vec<QueueName>> = BTreeMap::new();
    for queue in config.cluster_queues.values() {
        if let Some(cohort) = &queue.cohort {
            members
                .entry(cohort.clone())
                .or_default()
                .push(queue.name.clone());
        }
    }
    members
}
