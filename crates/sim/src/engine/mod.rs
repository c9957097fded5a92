//! The discrete-event engine: pops events in (time, phase, sequence) order, turns them into
//! alloc-core inputs, runs the scheduling cycle, and applies its decisions to the twin. It
//! never decides anything itself.

mod accounting;
mod event;
mod job_table;
mod metrics;
mod notebooks;
mod public_cloud;
mod queue;
mod showback;
mod start_latency;
mod to_core;
mod two_phase;
mod warm_pool;

pub use accounting::{tier_index, Utilisation};
pub use event::{Event, Phase};
pub use metrics::{reason_code, MetricSample};
pub use notebooks::{NotebookHold, NotebookOptions, NotebookStats};
pub use public_cloud::{Bill, Payer, PublicCloud};
pub use queue::EventQueue;
pub use showback::{CostKey, CostLine, Showback};

use crate::fleet::{FailureModel, StartLatency};
use crate::inputs_log::InputsLog;
use crate::record::jobs::{JobRecord, Outcome};
use crate::record::timeseries::Sample;
use crate::rng::Seed;
use crate::runtime_model::{Attempt, RuntimeModel, Start};
use crate::workload::Workload;
use accounting::Accounting;
use alloc_core::{
    Applied, Config, Decision, FlavorName, Input, Job, JobId, Millis, Money, NodeName, NodeSpec,
    Offer, Placement, Policy, Scheduler, TenantName, Time,
};
use job_table::JobTable;
use notebooks::Notebooks;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use start_latency::StartLatencies;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The wait-reason code a preemptor waits for until its victims stop (the core's
/// `WaitReason::VictimsStopping`, which it reports in the cycles that follow).
const VICTIMS_STOPPING: &str = "victims-stopping";

/// The longest a run goes without telling its progress callback (wall clock; progress is
/// drawn only on a terminal and never reaches an output file).
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

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
    /// How long a job placed on a private node takes to start computing; none when `None`.
    pub start_latency: Option<StartLatency>,
    /// How long an idle rented public node is kept warm before it is released: overrides
    /// every offer's own `scale_down_after` when set.
    pub public_scale_down: Option<Millis>,
    /// What holds a GPU between a notebook session's cells.
    pub notebooks: NotebookOptions,
    /// Write the core's inputs and decisions to this file as they happen, one JSON record a
    /// line ([`crate::inputs_log`]); the run's other outputs do not change.
    pub inputs_log: Option<PathBuf>,
    /// Admit in two phases, as Kueue with the core as its AdmissionCheck does: before each
    /// cycle Kueue's flavor assigner reserves quota ([`Scheduler::kueue_reservations`]),
    /// after it the jobs told to wait lose their reservation (Kueue's Retry). See
    /// `engine/two_phase`.
    pub two_phase: bool,
    /// Sample what the live controller's Prometheus metrics would read, with the time series
    /// ([`RunOutput::metrics`], written by [`crate::openmetrics`]); off, none are kept.
    pub metrics: bool,
    /// The amortised price of a private GPU-hour, for showback ([`RunOutput::showback`]).
    pub private_gpu_hour_price: Money,
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
            start_latency: None,
            public_scale_down: None,
            notebooks: NotebookOptions::default(),
            inputs_log: None,
            two_phase: false,
            metrics: false,
            private_gpu_hour_price: Money::ZERO,
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
    /// The same by tenant: each lease's bill, to the tenant of the job that took it.
    pub public_spend_by_tenant: BTreeMap<TenantName, Money>,
    /// Each configured tenant's public budget (`None`: no limit).
    pub public_budgets: BTreeMap<TenantName, Option<Money>>,
    pub events: u64,
    pub cycles: u64,
    /// Notebook sessions' GPU holding and cell starts (all zero without sessions).
    pub notebook: NotebookStats,
    /// Why the run stopped before its work was done, when a limit stopped it
    /// ([`crate::limits`]); `None` when it ended by itself or at its horizon.
    pub stopped: Option<String>,
    /// Jobs the twin gave up on: interrupted [`crate::limits::MAX_FRUITLESS_ATTEMPTS`] times
    /// in a row without keeping any work.
    pub stuck: u64,
    /// The controller's metrics at each sample, when [`EngineOptions::metrics`] asked for
    /// them; empty otherwise.
    pub metrics: Vec<MetricSample>,
    /// GPU time and public bills per tenant, LocalQueue, tier and cluster.
    pub showback: Showback,
    /// The amortised price of a private GPU-hour the showback is priced at.
    pub private_gpu_hour_price: Money,
}

/// A job's current attempt.
#[derive(Debug, Clone)]
struct Active {
    attempt: Attempt,
    placement: Placement,
    milli: u64,
    /// For a burst: the rented node and how long it stays warm once the job leaves it.
    rented: Option<RentedFor>,
}

#[derive(Debug, Clone, Copy)]
struct RentedFor {
    node: u64,
    scale_down_after: Millis,
}

/// Where the twin and the core disagreed about the world (an input the core refused, a
/// decision the twin cannot carry out): the run stops there.
#[derive(Debug, Clone)]
struct Fault {
    at: Time,
    what: String,
}

struct JobState {
    record: JobRecord,
    attempt_no: u32,
    /// Reference work still to do.
    remaining: Millis,
    /// Interruptions in a row that kept no work (see [`crate::limits::MAX_FRUITLESS_ATTEMPTS`]).
    fruitless: u32,
    /// Boxed: only running jobs have one, and a million-job run keeps every state.
    active: Option<Box<Active>>,
}

impl JobState {
    fn new(job: Job) -> JobState {
        JobState {
            remaining: job.runtime,
            fruitless: 0,
            record: JobRecord::new(job),
            attempt_no: 0,
            active: None,
        }
    }
}

pub struct Engine {
    /// Changed only through `to_core`, which writes the inputs log.
    scheduler: Scheduler,
    options: EngineOptions,
    queue: EventQueue,
    jobs: JobTable,
    node_specs: BTreeMap<NodeName, NodeSpec>,
    down: BTreeSet<NodeName>,
    failure_rng: ChaCha8Rng,
    /// The fleet's start latency and the stream it is drawn from.
    start_latency: Option<(StartLatencies, ChaCha8Rng)>,
    accounting: Accounting,
    samples: Vec<Sample>,
    cloud: PublicCloud,
    cycle_at: BTreeSet<Time>,
    /// Events still queued that stand for work to come ([`Event::keeps_run_alive`]): while
    /// none are, only cycles, samples and releases remain and the run can end.
    live: u64,
    last_cycle_admitted: bool,
    events: u64,
    cycles: u64,
    offers: BTreeMap<FlavorName, Offer>,
    notebooks: Notebooks,
    /// Set when the core refused an input: the run stops there.
    fault: Option<Fault>,
    /// Where the core's inputs and decisions are written, if asked for.
    log: Option<InputsLog>,
    /// Set when a limit stops the run ([`RunOutput::stopped`]).
    stopped: Option<String>,
    stuck: u64,
    /// The controller's metrics, when asked for.
    metrics: Option<metrics::Metrics>,
    showback: Showback,
}

impl Engine {
    pub fn new(
        mut config: Config,
        mut policy: Policy,
        nodes: Vec<NodeSpec>,
        workload: Workload,
        options: EngineOptions,
    ) -> Result<Engine, crate::SimError> {
        let bad = |reason: String| crate::SimError::BadArgument {
            flag: "fleet".into(),
            reason,
        };
        let mut offers = BTreeMap::new();
        for cluster in config.clusters.values_mut() {
            for offer in &mut cluster.offers {
                if let Some(scale_down) = options.public_scale_down {
                    offer.scale_down_after = scale_down;
                }
                offers.insert(offer.flavor.clone(), offer.clone());
            }
        }
        let mut log = match &options.inputs_log {
            Some(path) => Some(InputsLog::create(path)?),
            None => None,
        };
        // Kueue reserves first: the core admits only jobs that hold a reservation
        if options.two_phase {
            policy.admission = alloc_core::Admission::TwoPhase;
        }
        let mut scheduler =
            to_core::build(config, policy, log.as_mut()).map_err(|e| bad(e.to_string()))?;
        let mut accounting = Accounting::default();
        let mut node_specs = BTreeMap::new();
        for node in nodes {
            accounting.node(scheduler.config(), &node, true);
            node_specs.insert(node.name.clone(), node.clone());
            to_core::apply(&mut scheduler, log.as_mut(), Input::NodeAdded(node))
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
        let start_latency = StartLatencies::of(options.start_latency)
            .map(|latencies| (latencies, options.seed.stream("start-latency")));
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
            start_latency,
            accounting,
            samples: Vec::new(),
            cloud: PublicCloud::default(),
            cycle_at: BTreeSet::new(),
            last_cycle_admitted: false,
            events: 0,
            cycles: 0,
            offers,
            notebooks,
            fault: None,
            log,
            stopped: None,
            stuck: 0,
            metrics: None,
            showback: Showback::new(),
        };
        if engine.options.metrics {
            engine.metrics = Some(metrics::Metrics::default());
        }
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
    /// Fails, naming the input and the instant, if the core refuses an input the twin sends:
    /// the two disagree about the world, and nothing after that could be trusted.
    pub fn run(mut self, mut progress: impl FnMut(u64, u64)) -> Result<RunOutput, crate::SimError> {
        let total = (self.jobs.workload_len()
            + self
                .notebooks
                .sessions()
                .iter()
                .map(|s| s.cells.len())
                .sum::<usize>()) as u64;
        let mut done = 0u64;
        let mut now = Time::ZERO;
        let mut told = std::time::Instant::now();
        while let Some((at, event)) = self.queue.pop() {
            if self.options.horizon.is_some_and(|h| at > h) {
                break;
            }
            if at.0 > crate::limits::MAX_RUN_MS {
                self.stopped = Some(format!(
                    "stopped at the 20-year limit of simulated time (t={} ms) with work left; \
                     set a horizon",
                    crate::limits::MAX_RUN_MS
                ));
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
                    if let Some(bill) = self.cloud.release_if_idle(node, idle_since, now) {
                        self.settle(bill, now);
                    }
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
                Event::PoolTick => self.pool_tick(now),
            }
            if let Some(fault) = self.fault.take() {
                return Err(fault.into_error());
            }
            if let Some(error) = self.log.as_mut().and_then(InputsLog::take_error) {
                return Err(error);
            }
            // Now and then, and at least every quarter second: an overloaded run can spend
            // seconds on a few thousand cycles.
            if self.events.is_multiple_of(4096)
                || (self.events.is_multiple_of(16) && told.elapsed() >= PROGRESS_EVERY)
            {
                progress(done, total);
                told = std::time::Instant::now();
            }
            if self.stopped.is_some() {
                break;
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

    /// Applies `input` to the core; a refusal is a fault that stops the run.
    fn apply(&mut self, input: Input, now: Time) -> Option<Applied> {
        match to_core::apply(&mut self.scheduler, self.log.as_mut(), input.clone()) {
            Ok(applied) => Some(applied),
            Err(error) => {
                self.fault.get_or_insert(Fault {
                    at: now,
                    what: format!("the core refused {input:?}: {error}"),
                });
                None
            }
        }
    }

    /// A lease's bill came in: the core settles its reservation, the job's record pays it.
    fn settle(&mut self, bill: Bill, now: Time) {
        let Payer { job, lease } = bill.payer;
        self.apply(
            Input::PublicBilled {
                job,
                lease,
                cost: bill.cost,
            },
            now,
        );
        if let Some(state) = self.jobs.get_mut(&job) {
            showback::billed(
                &mut self.showback,
                self.scheduler.config(),
                &state.record.job,
                &bill,
            );
            state.record.cost = state.record.cost + bill.cost;
        }
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
        if self.apply(Input::JobSubmitted(job), now).is_some() {
            self.request_cycle(now);
        }
    }

    /// Returns true when the job really finished (not a stale event, nor a burst stopped at
    /// its lease's time limit).
    fn finish(&mut self, id: JobId, attempt: u32, now: Time) -> bool {
        let active = self
            .jobs
            .get(&id)
            .filter(|s| s.attempt_no == attempt)
            .and_then(|s| s.active.as_ref());
        let Some(active) = active else {
            return false;
        };
        if now < active.attempt.end() {
            // the lease's reservation pays for no more: the job resumes from its checkpoint
            if self.apply(Input::JobRequeued(id), now).is_some() {
                let kept = self.close_attempt(id, now, true);
                self.interrupted(id, kept, now);
                self.request_cycle(now);
            }
            return false;
        }
        if self.apply(Input::JobFinished(id), now).is_none() {
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

    /// Ends the active attempt: frees accounting, counts GPU time, leaves a rented node idle
    /// (its lease's bill closes when it is released or taken over). When `interrupted`, the
    /// work since the last checkpoint is lost, the job will resume, and the core is told what
    /// it still has to do.
    ///
    /// Returns whether an interrupted attempt kept any work.
    fn close_attempt(&mut self, id: JobId, now: Time, interrupted: bool) -> bool {
        let Some(state) = self.jobs.get_mut(&id) else {
            return false;
        };
        let Some(active) = state.active.take() else {
            return false;
        };
        let elapsed = now.since(active.attempt.started);
        self.accounting.free(
            active.placement.tier,
            &active.placement.cluster,
            active.milli,
        );
        state.record.gpu_ms += active.milli * elapsed.0 / 1000;
        showback::held(
            &mut self.showback,
            &state.record.job,
            active.placement.tier,
            &active.placement.cluster,
            active.milli * elapsed.0 / 1000,
            active.rented.is_some(),
        );
        if let Some(rented) = active.rented {
            if let Some(release_at) = self.cloud.idle(rented.node, now, rented.scale_down_after) {
                self.queue.push(
                    release_at,
                    Event::PublicRelease {
                        node: rented.node,
                        idle_since: now,
                    },
                );
            }
        }
        if !interrupted {
            return false;
        }
        let (remaining, lost) =
            RuntimeModel::stop(&state.record.job, &active.attempt, state.remaining, now);
        let kept = remaining < state.remaining;
        if kept {
            state.fruitless = 0;
        }
        state.remaining = remaining;
        state.record.lost_gpu_ms += active.milli * lost.0 / 1000;
        state.attempt_no += 1;
        // A lease's work is its session's cells, which the twin reruns itself.
        if !self.notebooks.is_lease(id) {
            self.apply(Input::JobProgress { job: id, remaining }, now);
        }
        kept
    }

    /// A job's attempt was interrupted (its node failed, or its burst's lease ran out) and
    /// `kept` says whether it kept any work. After [`crate::limits::MAX_FRUITLESS_ATTEMPTS`]
    /// such interruptions in a row without progress the job cannot finish: the core is told
    /// to forget it and it is reported unfinished, with why.
    fn interrupted(&mut self, id: JobId, kept: bool, now: Time) {
        let lease = self.notebooks.is_lease(id);
        let Some(state) = self.jobs.get_mut(&id) else {
            return;
        };
        state.record.interruptions += 1;
        if kept || lease {
            return;
        }
        state.fruitless += 1;
        if state.fruitless < crate::limits::MAX_FRUITLESS_ATTEMPTS {
            return;
        }
        state.record.reject_reason = Some(format!(
            "stuck: interrupted {} times in a row without keeping any work (it has no \
             checkpoint shorter than the time between interruptions); the twin stopped \
             retrying it",
            state.fruitless
        ));
        state.record.stop_waiting(now);
        self.stuck += 1;
        self.apply(Input::JobCancelled(id), now);
    }

    fn node_down(&mut self, node: NodeName, now: Time) {
        let Some(applied) = self.apply(Input::NodeRemoved(node.clone()), now) else {
            return;
        };
        for id in applied.requeued {
            let kept = self.close_attempt(id, now, true);
            self.interrupted(id, kept, now);
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
        if self.apply(Input::NodeAdded(spec), now).is_some() {
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
        if self.options.two_phase {
            self.reserve_quota(now);
        }
        // Only changed decisions come back; a wait changes nothing here, so the twin acts
        // on them exactly as it would on every decision.
        let decisions = to_core::cycle(&mut self.scheduler, self.log.as_mut(), now);
        if let Some(metrics) = &mut self.metrics {
            metrics.decided(&decisions);
        }
        let mut admitted = false;
        let mut rejected = 0;
        for decision in decisions {
            match decision {
                Decision::Admit { job, placement } => {
                    admitted = true;
                    if let Some(state) = self.jobs.get_mut(&job) {
                        let record = &mut state.record;
                        record.stop_waiting(now);
                        if let Some(lease) = &placement.public {
                            record.burst_reason = Some(lease.cause.code());
                        }
                    }
                    self.start(job, placement, now);
                }
                // The twin stops victims at once; the preemptor starts in the cycle that
                // follows, as the core admits it only once they have stopped.
                Decision::Preempt { job, victims, .. } => {
                    admitted = true;
                    if let Some(state) = self.jobs.get_mut(&job) {
                        state.record.wait_for(VICTIMS_STOPPING, now);
                    }
                    for victim in victims {
                        self.apply(Input::JobRequeued(victim), now);
                        self.close_attempt(victim, now, true);
                        if let Some(state) = self.jobs.get_mut(&victim) {
                            state.record.preemptions += 1;
                        }
                        self.lease_stopped(victim, true, now);
                    }
                    self.request_cycle(now);
                }
                Decision::Reject { job, reason } if self.notebooks.is_lease(job) => {
                    rejected += self.lease_rejected(job, &reason.to_string(), now);
                }
                Decision::Reject { job, reason } => {
                    rejected += 1;
                    if let Some(state) = self.jobs.get_mut(&job) {
                        state.record.stop_waiting(now);
                        state.record.outcome = Outcome::Rejected;
                        state.record.reject_reason = Some(reason.to_string());
                    }
                }
                // Nothing to carry out; the job's record keeps why, for `jobs.csv`.
                Decision::Wait {
                    job,
                    reason,
                    no_burst,
                } => {
                    if let Some(state) = self.jobs.get_mut(&job) {
                        state.record.wait_for(reason.code(), now);
                        if let Some(no_burst) = no_burst {
                            state.record.no_burst_reason = Some(no_burst.code());
                        }
                    }
                }
                // A kind of decision this twin does not know may need acting on (resources
                // booked, jobs to stop): ignoring it would let the twin and the core drift
                // apart unseen, so the run stops there.
                other => {
                    self.fault.get_or_insert(Fault {
                        at: now,
                        what: format!(
                            "the twin cannot carry out a {} decision: {other}",
                            other.code()
                        ),
                    });
                }
            }
        }
        if self.options.two_phase {
            self.release_reservations(now);
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
        // A burst runs on a rented node once it is ready; other jobs on their placed nodes now.
        let (models, clients, begins, rented, limit) = match &placement.public {
            Some(lease) => {
                let Some(offer) = self.offers.get(&placement.flavor) else {
                    self.fault.get_or_insert(Fault {
                        at: now,
                        what: format!(
                            "{id} bursts to flavor {}, which no offer rents",
                            placement.flavor
                        ),
                    });
                    return;
                };
                let payer = Payer {
                    job: id,
                    lease: lease.lease,
                };
                let (node, taken_over) = self.cloud.rent(
                    &placement.flavor,
                    lease.gpus,
                    offer.price_per_gpu_hour,
                    offer.provisioning_latency,
                    payer,
                    now,
                );
                let rented = RentedFor {
                    node: node.node,
                    scale_down_after: offer.scale_down_after,
                };
                if let Some(bill) = taken_over {
                    self.settle(bill, now);
                }
                (
                    vec![lease.gpu_model.clone()],
                    1,
                    node.ready_at,
                    Some(rented),
                    Some(lease.expected_end),
                )
            }
            None => {
                // A notebook lease's start-up is its cold start, modelled with the session.
                let starting = match &mut self.start_latency {
                    Some((latencies, rng)) if !self.notebooks.is_lease(id) => latencies.draw(rng),
                    _ => Millis::ZERO,
                };
                let fleet = &self.scheduler.ledgers().fleet;
                (
                    crate::runtime_model::placement_models(&placement, fleet),
                    mps_clients(&placement, fleet),
                    now + starting,
                    None,
                    None,
                )
            }
        };
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
        if begins > now {
            let code = match rented {
                Some(_) => crate::record::jobs::PROVISIONING,
                None => crate::record::jobs::STARTING,
            };
            record.charge(code, begins.since(now).0);
        }
        record.first_start.get_or_insert(begins);
        record.cluster = Some(placement.cluster.clone());
        record.flavor = Some(placement.flavor.clone());
        record.tier = Some(placement.tier);
        record.gpus = placement
            .public
            .as_ref()
            .map_or(placement.gpu_count() as u32, |lease| lease.gpus);
        record.public |= rented.is_some();
        let attempt_no = state.attempt_no;
        state.active = Some(Box::new(Active {
            attempt,
            placement,
            milli,
            rented,
        }));
        // A lease has no end of its own: its session releases it. A burst stops at its
        // lease's time limit if it has not finished by then.
        match lease {
            Some(start) => self.lease_started(id, begins, start),
            None => self.push(
                limit.map_or(attempt.end(), |limit| attempt.end().min(limit)),
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
        if let Some(metrics) = &mut self.metrics {
            metrics.observe(&self.scheduler, now);
        }
        if self.samples.len() >= crate::limits::MAX_SAMPLES && self.live > 0 {
            self.stopped.get_or_insert_with(|| {
                format!(
                    "stopped at t={} ms with work left: a run keeps at most {} time-series \
                     samples; raise sample_every_s or set a horizon",
                    now.0,
                    crate::limits::MAX_SAMPLES
                )
            });
            return;
        }
        if self.live > 0 {
            self.queue
                .push(now + self.options.sample_period, Event::Sample);
        }
    }

    fn public_spend(&self, now: Time) -> Money {
        self.cloud.spend(now)
    }

    fn finish_run(mut self, end: Time) -> Result<RunOutput, crate::SimError> {
        for id in self.jobs.active() {
            self.close_attempt(id, end, false);
        }
        for bill in self.cloud.release_all(end) {
            self.settle(bill, end);
        }
        if let Some(fault) = self.fault.take() {
            return Err(fault.into_error());
        }
        if let Some(log) = self.log.take() {
            log.finish()?;
        }
        let public_spend = self.public_spend(end);
        let public_budgets = self
            .scheduler
            .config()
            .tenants
            .values()
            .map(|tenant| (tenant.name.clone(), tenant.public_budget))
            .collect();
        // Jobs that never arrived before the horizon are reported too (as they were
        // submitted): nothing is lost.
        let (mut records, leases) = self.jobs.into_records();
        // Jobs still pending at the end waited until then.
        for record in &mut records {
            record.stop_waiting(end);
        }
        let mut public_spend_by_tenant: BTreeMap<TenantName, Money> = BTreeMap::new();
        for record in records
            .iter()
            .chain(leases.iter().map(|lease| &lease.record))
        {
            if record.cost != Money::ZERO {
                let spent = public_spend_by_tenant
                    .entry(record.job.tenant.clone())
                    .or_default();
                *spent = *spent + record.cost;
            }
        }
        let (cells, notebook) = self
            .notebooks
            .finish(leases.into_iter().map(|lease| lease.record), end);
        records.extend(cells);
        records.sort_by_key(|r| (r.job.submit_time, r.job.id));
        Ok(RunOutput {
            records,
            samples: self.samples,
            utilisation: self.accounting.utilisation(),
            end,
            public_spend,
            public_spend_by_tenant,
            public_budgets,
            events: self.events,
            cycles: self.cycles,
            notebook,
            stopped: self.stopped,
            stuck: self.stuck,
            metrics: self.metrics.map(|m| m.samples).unwrap_or_default(),
            showback: self.showback,
            private_gpu_hour_price: self.options.private_gpu_hour_price,
        })
    }
}

impl Fault {
    fn into_error(self) -> crate::SimError {
        crate::SimError::Internal(format!(
            "at t={} ms {} (the twin and the core disagree about the world)",
            self.at.0, self.what
        ))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
    use alloc_core::{Quota, Tier};

    #[test]
    fn an_input_the_core_refuses_stops_the_run_with_an_internal_error_naming_it() {
        let config = ConfigBuilder::new()
            .private_flavor("f", Tier::Bronze)
            .queue("q", &[("f", Quota::nominal(1_000))])
            .build();
        let workload = Workload::batch(vec![JobBuilder::gpus(1).id(1).build()]);
        let nodes = vec![NodeBuilder::new("n", "f", 1).build()];
        let mut engine = Engine::new(
            config,
            Policy::default(),
            nodes,
            workload,
            EngineOptions::default(),
        )
        .unwrap();
        // the twin believes job 7 runs; the core has never heard of it
        assert!(engine
            .apply(Input::JobFinished(JobId(7)), Time(0))
            .is_none());
        let error = engine.run(|_, _| {}).err().map(|e| e.to_string());
        let error = error.unwrap_or_default();
        assert!(
            error.contains("internal error") && error.contains("JobFinished(JobId(7))"),
            "{error}"
        );
        assert!(error.contains("job 7 is not known"), "{error}");
    }

    /// Two one-GPU jobs, one after the other on a single GPU, with `options`.
    fn two_in_a_row(options: EngineOptions) -> RunOutput {
        let config = ConfigBuilder::new()
            .private_flavor("f", Tier::Bronze)
            .queue("q", &[("f", Quota::nominal(1_000))])
            .build();
        let jobs = (1..=2)
            .map(|id| {
                JobBuilder::gpus(1)
                    .id(id)
                    .runtime(Millis::minutes(10))
                    .build()
            })
            .collect();
        let nodes = vec![NodeBuilder::new("n", "f", 1).build()];
        let engine = Engine::new(
            config,
            Policy::default(),
            nodes,
            Workload::batch(jobs),
            options,
        )
        .unwrap();
        engine.run(|_, _| {}).unwrap()
    }

    #[test]
    fn a_start_latency_delays_each_private_start_and_is_charged_as_starting() {
        let plain = two_in_a_row(EngineOptions::default());
        let slow = two_in_a_row(EngineOptions {
            start_latency: Some(StartLatency {
                median_seconds: 30.0,
                p95_seconds: 30.0,
            }),
            ..EngineOptions::default()
        });
        let by_id = |output: &RunOutput, id: u64| {
            output
                .records
                .iter()
                .find(|r| r.job.id == JobId(id))
                .cloned()
                .unwrap()
        };
        // without it, the first starts at once and the second when the first ends
        assert_eq!(by_id(&plain, 1).first_start, Some(Time(0)));
        assert_eq!(by_id(&plain, 2).first_start, Some(Time(600_000)));
        // with a fixed 30 s, each start is 30 s later and holds the GPU meanwhile
        let (first, second) = (by_id(&slow, 1), by_id(&slow, 2));
        assert_eq!(first.first_start, Some(Time(30_000)));
        assert_eq!(first.end, Some(Time(630_000)));
        assert_eq!(second.first_start, Some(Time(660_000)));
        assert_eq!(
            first.waited_for,
            vec![(crate::record::jobs::STARTING, 30_000)]
        );
    }
}
