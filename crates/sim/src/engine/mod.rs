//! The discrete-event engine: pops events in (time, phase, sequence) order, turns them into
//! alloc-core inputs, runs the scheduling cycle, and applies its decisions to the twin. It
//! never decides anything itself.

mod accounting;
mod event;
mod job_table;
mod notebooks;
mod public_cloud;
mod queue;

pub use accounting::{tier_index, Utilisation};
pub use event::{Event, Phase};
pub use notebooks::{NotebookHold, NotebookOptions, NotebookStats};
pub use public_cloud::PublicCloud;
pub use queue::EventQueue;

use crate::fleet::FailureModel;
use crate::record::jobs::{JobRecord, Outcome};
use crate::record::timeseries::Sample;
use crate::rng::Seed;
use crate::runtime_model::{Attempt, RuntimeModel, Start};
use crate::workload::Workload;
use accounting::Accounting;
use alloc_core::{
    ClusterName, Config, Decision, Input, Job, JobId, Millis, Money, NodeName, NodeSpec, Placement,
    Policy, Scheduler, Time,
};
use job_table::JobTable;
use notebooks::Notebooks;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// How the engine runs, apart from what it simulates.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub seed: Seed,
    /// Cycle this often while jobs wait, besides after every change; `None` = only on change.
    pub cycle_period: Option<Millis>,
    pub sample_period: Millis,
    /// Stop at this time even if work remains (it is reported unfinished).
    pub horizon: Option<Time>,
    pub runtime: RuntimeModel,
    pub failures: Option<FailureModel>,
    /// How long an idle rented public node is kept warm before it is released.
    pub public_scale_down: Millis,
    /// What holds a GPU between a notebook session's cells.
    pub notebooks: NotebookOptions,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            seed: Seed(1),
            cycle_period: Some(Millis::minutes(5)),
            sample_period: Millis::minutes(5),
            horizon: None,
            runtime: RuntimeModel::default(),
            failures: None,
            public_scale_down: Millis::minutes(10),
            notebooks: NotebookOptions::default(),
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub records: Vec<JobRecord>,
    pub samples: Vec<Sample>,
    pub utilisation: Utilisation,
    pub end: Time,
    /// Everything the public cloud billed, idle and provisioning time included.
    pub public_spend: Money,
    pub events: u64,
    pub cycles: u64,
    /// Notebook sessions' GPU holding and cell starts (all zero without sessions).
    pub notebook: NotebookStats,
}

/// A job's current attempt.
#[derive(Debug, Clone)]
struct Active {
    attempt: Attempt,
    placement: Placement,
    milli: u64,
    /// For a burst: the rented node, its GPUs, price, and when billing for this job began.
    rented: Option<RentedFor>,
    /// For a job placed on a node listed in a public cluster: its offer's price, billed for the
    /// job's own GPU time.
    static_price: Option<Money>,
}

#[derive(Debug, Clone, Copy)]
struct RentedFor {
    node: u64,
    gpus: u32,
    price_per_gpu_hour: Money,
    billed_from: Time,
}

struct JobState {
    record: JobRecord,
    attempt_no: u32,
    /// Reference work still to do.
    remaining: Millis,
    /// Boxed: only running jobs have one, and a million-job run keeps every state.
    active: Option<Box<Active>>,
}

impl JobState {
    fn new(job: Job) -> JobState {
        JobState {
            remaining: job.runtime,
            record: JobRecord::new(job),
            attempt_no: 0,
            active: None,
        }
    }
}

pub struct Engine {
    scheduler: Scheduler,
    options: EngineOptions,
    queue: EventQueue,
    jobs: JobTable,
    node_specs: BTreeMap<NodeName, NodeSpec>,
    down: BTreeSet<NodeName>,
    failure_rng: ChaCha8Rng,
    accounting: Accounting,
    samples: Vec<Sample>,
    cloud: PublicCloud,
    static_public_spend: Money,
    cycle_at: BTreeSet<Time>,
    /// Events still queued that stand for work to come ([`Event::keeps_run_alive`]): while
    /// none are, only cycles, samples and releases remain and the run can end.
    live: u64,
    last_cycle_admitted: bool,
    events: u64,
    cycles: u64,
    offers: BTreeMap<alloc_core::FlavorName, alloc_core::Offer>,
    public_clusters: BTreeSet<ClusterName>,
    notebooks: Notebooks,
}

impl Engine {
    pub fn new(
        config: Config,
        policy: Policy,
        nodes: Vec<NodeSpec>,
        workload: Workload,
        options: EngineOptions,
    ) -> Result<Engine, crate::SimError> {
        let bad = |reason: String| crate::SimError::BadArgument {
            flag: "fleet".into(),
            reason,
        };
        let mut offers = BTreeMap::new();
        let mut public_clusters = BTreeSet::new();
        for cluster in config.clusters.values() {
            if cluster.is_public() {
                public_clusters.insert(cluster.name.clone());
                for offer in &cluster.offers {
                    offers.insert(offer.flavor.clone(), offer.clone());
                }
            }
        }
        let mut scheduler = Scheduler::new(config, policy).map_err(|e| bad(e.to_string()))?;
        let mut accounting = Accounting::default();
        let mut node_specs = BTreeMap::new();
        for node in nodes {
            accounting.node(scheduler.config(), &node, true);
            node_specs.insert(node.name.clone(), node.clone());
            scheduler
                .apply(Input::NodeAdded(node))
                .map_err(|e| bad(e.to_string()))?;
        }
        let mut seen = BTreeSet::new();
        let cell_ids = workload
            .sessions
            .iter()
            .flat_map(|s| (0..s.cells.len() as u64).map(|i| JobId(s.first_cell_id.0 + i)));
        for id in workload.jobs.iter().map(|j| j.id).chain(cell_ids) {
            if !seen.insert(id) {
                return Err(bad(format!("{id} appears twice in the workload")));
            }
        }
        let notebooks = Notebooks::new(
            workload.sessions,
            options.notebooks,
            // Leases are numbered after every id the workload uses.
            seen.last().map_or(JobId(1), |id| JobId(id.0 + 1)),
        );
        let queue = EventQueue::with_arrivals(workload.jobs.iter().map(|job| job.submit_time));
        let failure_rng = options.seed.stream("failures");
        let mut engine = Engine {
            scheduler,
            options,
            queue,
            // every arrival is work to come
            live: workload.jobs.len() as u64,
            jobs: JobTable::new(workload.jobs),
            node_specs,
            down: BTreeSet::new(),
            failure_rng,
            accounting,
            samples: Vec::new(),
            cloud: PublicCloud::default(),
            static_public_spend: Money::ZERO,
            cycle_at: BTreeSet::new(),
            last_cycle_admitted: false,
            events: 0,
            cycles: 0,
            offers,
            public_clusters,
            notebooks,
        };
        let opens: Vec<Time> = engine
            .notebooks
            .sessions()
            .iter()
            .map(|s| s.opened)
            .collect();
        for (index, at) in opens.into_iter().enumerate() {
            engine.push(at, Event::SessionOpen(index));
        }
        let names: Vec<NodeName> = engine.node_specs.keys().cloned().collect();
        for name in names {
            engine.schedule_failure(name, Time::ZERO);
        }
        engine.queue.push(Time::ZERO, Event::Sample);
        Ok(engine)
    }

    /// Runs to the end; `progress` is called now and then with (jobs done, jobs in total).
    pub fn run(mut self, mut progress: impl FnMut(u64, u64)) -> RunOutput {
        let total = (self.jobs.workload_len()
            + self
                .notebooks
                .sessions()
                .iter()
                .map(|s| s.cells.len())
                .sum::<usize>()) as u64;
        let mut done = 0u64;
        let mut now = Time::ZERO;
        while let Some((at, event)) = self.queue.pop() {
            if self.options.horizon.is_some_and(|h| at > h) {
                break;
            }
            now = at;
            self.accounting.advance(now.0);
            self.events += 1;
            if event.keeps_run_alive() {
                self.live -= 1;
            }
            match event {
                Event::Arrival(index) => self.arrive(index, now),
                Event::Finish { job, attempt } => {
                    if self.finish(job, attempt, now) {
                        done += 1;
                    }
                }
                Event::NodeDown(node) => self.node_down(node, now),
                Event::NodeUp(node) => self.node_up(node, now),
                Event::Cycle => {
                    self.cycle_at.remove(&now);
                    done += self.cycle(now);
                }
                Event::Sample => self.sample(now),
                Event::PublicRelease { node, idle_since } => {
                    self.cloud.release_if_idle(node, idle_since, now);
                }
                Event::SessionOpen(session) => self.session_open(session, now),
                Event::CellArrive(session) => self.cell_arrive(session, now),
                Event::LeaseReady { lease, attempt } => self.lease_ready(lease, attempt, now),
                Event::CellDone {
                    session,
                    generation,
                } => {
                    if self.cell_done(session, generation, now) {
                        done += 1;
                    }
                }
                Event::LeaseRelease {
                    session,
                    generation,
                } => self.lease_release(session, generation, now),
            }
            if self.events.is_multiple_of(4096) {
                progress(done, total);
            }
            if self.live == 0
                && self.cycle_at.is_empty()
                && (self.scheduler.pending_count() == 0 || !self.last_cycle_admitted)
            {
                break;
            }
        }
        progress(done, total);
        self.sample(now);
        self.finish_run(now)
    }

    /// Queues `event`, counting it if it stands for work to come.
    fn push(&mut self, at: Time, event: Event) {
        if event.keeps_run_alive() {
            self.live += 1;
        }
        self.queue.push(at, event);
    }

    fn request_cycle(&mut self, at: Time) {
        if self.cycle_at.insert(at) {
            self.queue.push(at, Event::Cycle);
        }
    }

    fn arrive(&mut self, index: usize, now: Time) {
        let Some(job) = self.jobs.workload_job(index).cloned() else {
            return;
        };
        if self.scheduler.apply(Input::JobSubmitted(job)).is_ok() {
            self.request_cycle(now);
        }
    }

    /// Returns true when the job really finished (not a stale event).
    fn finish(&mut self, id: JobId, attempt: u32, now: Time) -> bool {
        let current = self
            .jobs
            .get(&id)
            .is_some_and(|s| s.attempt_no == attempt && s.active.is_some());
        if !current || self.scheduler.apply(Input::JobFinished(id)).is_err() {
            return false;
        }
        self.close_attempt(id, now, false);
        if let Some(state) = self.jobs.get_mut(&id) {
            state.remaining = Millis::ZERO;
            state.record.end = Some(now);
            state.record.outcome = Outcome::Finished;
        }
        self.request_cycle(now);
        true
    }

    /// Ends the active attempt: frees accounting, charges cost, counts GPU time. When
    /// `interrupted`, the work since the last checkpoint is lost and the job will resume.
    fn close_attempt(&mut self, id: JobId, now: Time, interrupted: bool) {
        let Some(state) = self.jobs.get_mut(&id) else {
            return;
        };
        let Some(active) = state.active.take() else {
            return;
        };
        let elapsed = now.since(active.attempt.started);
        self.accounting.free(
            active.placement.tier,
            &active.placement.cluster,
            active.milli,
        );
        state.record.gpu_ms += active.milli * elapsed.0 / 1000;
        if let Some(price) = active.static_price {
            let cost = Money::for_gpu_time(price, alloc_core::MilliGpu(active.milli), elapsed);
            state.record.cost = state.record.cost + cost;
            self.static_public_spend = self.static_public_spend + cost;
        }
        if let Some(rented) = active.rented {
            let billed = now.since(rented.billed_from);
            let gpus = alloc_core::MilliGpu::whole(u64::from(rented.gpus));
            state.record.cost =
                state.record.cost + Money::for_gpu_time(rented.price_per_gpu_hour, gpus, billed);
            if let Some(release_at) =
                self.cloud
                    .idle(rented.node, now, self.options.public_scale_down)
            {
                self.queue.push(
                    release_at,
                    Event::PublicRelease {
                        node: rented.node,
                        idle_since: now,
                    },
                );
            }
        }
        if interrupted {
            let (remaining, lost) =
                RuntimeModel::stop(&state.record.job, &active.attempt, state.remaining, now);
            state.remaining = remaining;
            state.record.lost_gpu_ms += active.milli * lost.0 / 1000;
            state.attempt_no += 1;
        }
    }

    fn node_down(&mut self, node: NodeName, now: Time) {
        let Ok(applied) = self.scheduler.apply(Input::NodeRemoved(node.clone())) else {
            return;
        };
        for id in applied.requeued {
            self.close_attempt(id, now, true);
            if let Some(state) = self.jobs.get_mut(&id) {
                state.record.interruptions += 1;
            }
            self.lease_stopped(id, false, now);
        }
        if let Some(spec) = self.node_specs.get(&node) {
            self.accounting.node(self.scheduler.config(), spec, false);
        }
        self.down.insert(node.clone());
        let repair = self.options.failures.map_or(0.0, |f| f.repair_hours);
        self.push(
            now + Millis((repair * 3_600_000.0) as u64),
            Event::NodeUp(node),
        );
        self.request_cycle(now);
    }

    fn node_up(&mut self, node: NodeName, now: Time) {
        let Some(spec) = self.node_specs.get(&node).cloned() else {
            return;
        };
        if !self.down.remove(&node) {
            return;
        }
        self.accounting.node(self.scheduler.config(), &spec, true);
        if self.scheduler.apply(Input::NodeAdded(spec)).is_ok() {
            self.request_cycle(now);
        }
        self.schedule_failure(node, now);
    }

    fn schedule_failure(&mut self, node: NodeName, now: Time) {
        let Some(failures) = self.options.failures else {
            return;
        };
        let uniform: f64 = self.failure_rng.gen();
        let hours = -(1.0 - uniform).ln() * failures.mtbf_hours;
        self.queue.push(
            now + Millis((hours * 3_600_000.0) as u64),
            Event::NodeDown(node),
        );
    }

    /// Runs one cycle and applies its decisions; returns how many jobs were rejected (they
    /// are done, as far as progress goes).
    fn cycle(&mut self, now: Time) -> u64 {
        self.cycles += 1;
        let decisions = self.scheduler.cycle(now);
        let mut admitted = false;
        let mut rejected = 0;
        for decision in decisions {
            match decision {
                Decision::Admit { job, placement } => {
                    admitted = true;
                    self.start(job, placement, now);
                }
                Decision::Preempt {
                    job,
                    placement,
                    victims,
                } => {
                    admitted = true;
                    for victim in victims {
                        self.close_attempt(victim, now, true);
                        if let Some(state) = self.jobs.get_mut(&victim) {
                            state.record.preemptions += 1;
                        }
                        self.lease_stopped(victim, true, now);
                    }
                    self.start(job, placement, now);
                }
                Decision::Reject { job, reason } if self.notebooks.is_lease(job) => {
                    rejected += self.lease_rejected(job, &reason.to_string(), now);
                }
                Decision::Reject { job, reason } => {
                    rejected += 1;
                    if let Some(state) = self.jobs.get_mut(&job) {
                        state.record.outcome = Outcome::Rejected;
                        state.record.reject_reason = Some(reason.to_string());
                    }
                }
                Decision::Wait { .. } => {}
            }
        }
        self.last_cycle_admitted = admitted;
        // One periodic chain at most: a cycle already due within the period serves as the tick.
        if let Some(period) = self.options.cycle_period {
            let next = now + period;
            let due_soon = self.cycle_at.range(Time(now.0 + 1)..=next).next().is_some();
            if self.scheduler.pending_count() > 0 && (self.live > 0 || admitted) && !due_soon {
                self.request_cycle(next);
            }
        }
        rejected
    }

    fn start(&mut self, id: JobId, placement: Placement, now: Time) {
        let public = self.public_clusters.contains(&placement.cluster);
        // A burst runs on a rented node once it is ready; other jobs on their placed nodes now.
        let (models, clients, begins, rented) = match &placement.public {
            Some(lease) => {
                let offer = self.offers.get(&placement.flavor);
                let price = offer.map_or(Money::ZERO, |o| o.price_per_gpu_hour);
                let latency = offer.map_or(Millis::ZERO, |o| o.provisioning_latency);
                let node = self
                    .cloud
                    .rent(&placement.flavor, lease.gpus, price, latency, now);
                let rented = RentedFor {
                    node: node.node,
                    gpus: lease.gpus,
                    price_per_gpu_hour: price,
                    billed_from: now,
                };
                (
                    vec![lease.gpu_model.clone()],
                    1,
                    node.ready_at,
                    Some(rented),
                )
            }
            None => {
                let fleet = &self.scheduler.ledgers().fleet;
                (
                    crate::runtime_model::placement_models(&placement, fleet),
                    mps_clients(&placement, fleet),
                    now,
                    None,
                )
            }
        };
        let static_price = (public && rented.is_none())
            .then(|| {
                self.offers
                    .get(&placement.flavor)
                    .map(|o| o.price_per_gpu_hour)
            })
            .flatten();
        let Some(state) = self.jobs.get_mut(&id) else {
            return;
        };
        let job = &state.record.job;
        let resumed = state.attempt_no > 0 && state.remaining < job.runtime;
        let start = Start {
            models,
            clients,
            remaining: state.remaining,
            resumed,
            now: begins,
        };
        let lease = self.notebooks.is_lease(id).then(|| start.clone());
        let attempt = self
            .options
            .runtime
            .plan(self.scheduler.config(), job, &start);
        let milli = job.gpu.milli().0;
        self.accounting
            .allocate(placement.tier, &placement.cluster, milli);
        let record = &mut state.record;
        record.first_start.get_or_insert(begins);
        record.cluster = Some(placement.cluster.clone());
        record.flavor = Some(placement.flavor.clone());
        record.tier = Some(placement.tier);
        record.gpus = placement
            .public
            .as_ref()
            .map_or(placement.gpu_count() as u32, |lease| lease.gpus);
        record.public |= public;
        let attempt_no = state.attempt_no;
        state.active = Some(Box::new(Active {
            attempt,
            placement,
            milli,
            rented,
            static_price,
        }));
        // A lease has no end of its own: its session releases it.
        match lease {
            Some(start) => self.lease_started(id, begins, start),
            None => self.push(
                attempt.end(),
                Event::Finish {
                    job: id,
                    attempt: attempt_no,
                },
            ),
        }
    }

    fn sample(&mut self, now: Time) {
        let allocated = self.accounting.allocated_now().map(|m| m as f64 / 1000.0);
        let sample = Sample {
            at: now,
            allocated,
            pending: self.scheduler.pending_count() as u64,
            running: self.scheduler.running().count() as u64,
            public_gpus: self.cloud.rented_gpus() as f64,
            spend: self.public_spend(now),
        };
        if self.samples.last().is_some_and(|last| last.at == now) {
            self.samples.pop();
        }
        self.samples.push(sample);
        if self.live > 0 {
            self.queue
                .push(now + self.options.sample_period, Event::Sample);
        }
    }

    fn public_spend(&self, now: Time) -> Money {
        self.cloud.spend(now) + self.static_public_spend
    }

    fn finish_run(mut self, end: Time) -> RunOutput {
        for id in self.jobs.active() {
            self.close_attempt(id, end, false);
        }
        self.cloud.release_all(end);
        let public_spend = self.public_spend(end);
        // Jobs that never arrived before the horizon are reported too (as they were
        // submitted): nothing is lost.
        let (mut records, leases) = self.jobs.into_records();
        let (cells, notebook) = self
            .notebooks
            .finish(leases.into_iter().map(|s| s.record), end);
        records.extend(cells);
        records.sort_by_key(|r| (r.job.submit_time, r.job.id));
        RunOutput {
            records,
            samples: self.samples,
            utilisation: self.accounting.utilisation(),
            end,
            public_spend,
            events: self.events,
            cycles: self.cycles,
            notebook,
        }
    }
}

/// MPS clients on the job's GPU including itself (1 for whole GPUs), read after booking.
fn mps_clients(placement: &Placement, fleet: &alloc_core::state::Fleet) -> u32 {
    placement
        .nodes
        .first()
        .and_then(|share| {
            let gpu = share.gpus.first()?;
            (gpu.milli.0 < 1000).then(|| {
                fleet
                    .node(&share.node)?
                    .gpus
                    .get(gpu.index as usize)
                    .map(|g| g.clients)
            })?
        })
        .unwrap_or(1)
}
