//! The owner of the core: one task holds the [`Index`] and the [`Scheduler`]. Each watch
//! event goes through the index into core inputs, then a cycle at `now`; the decisions kept
//! per job become what each Workload's entry should say ([`crate::check`]), and only entries
//! that differ from the Workload's become writes. No I/O here but the inputs log: the shell
//! (`controller`) gathers events and carries the writes out.
//!
//! The core is built once every watch has listed (public offers name ResourceFlavors, so the
//! flavors come in the start configuration; everything else as inputs), under the chosen
//! policy made two-phase and without the core's own preemption: in a cluster Kueue reserves
//! quota and preempts, and the core decides within the reserved flavor.

use crate::check::{self, Requeue, Verdict};
use crate::index::{Event, Index, Phase};
use crate::inputs_log::InputsLog;
use alloc_core::inputs_log::Start;
use alloc_core::preemption::PreemptionPolicy;
use alloc_core::{Admission, Decision, Input, JobId, Policy, Scheduler, StrandedGpus, Time};
use kueue_model::objects::AdmissionCheckState;
use std::collections::{BTreeMap, BTreeSet};

/// A status write the shell is to make.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Our entry on a Workload (server-side apply on `workloads/status`).
    Check {
        /// The Workload's namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The entry, as the patch sets it.
        entry: AdmissionCheckState,
        /// The stable reason code, for metrics and logs.
        reason: String,
    },
    /// An AdmissionCheck of ours whose `Active` condition is not True.
    Active {
        /// The check's name.
        name: String,
    },
}

/// What one step produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    /// Writes to make, in Workload key order.
    pub writes: Vec<Write>,
    /// The decisions that changed in this step's cycle.
    pub changes: Vec<Decision>,
    /// Problems: objects that cannot be read, inputs the core refused.
    pub problems: Vec<String>,
    /// The private flavors whose GPUs exceed the quota on them, when that changed in this
    /// step (`Some(vec![])`: none any more).
    pub stranded: Option<Vec<StrandedGpus>>,
    /// When to cycle again if no event comes.
    pub next_change: Option<Time>,
}

/// The owner of the core.
#[derive(Debug)]
pub struct Owner {
    index: Index,
    policy: Policy,
    scheduler: Option<Scheduler>,
    log: Option<InputsLog>,
    decisions: BTreeMap<JobId, Decision>,
    next_change: Option<Time>,
    default_requeue: u32,
    /// What was last written per Workload, so a write is not repeated before the watch
    /// shows it.
    written: BTreeMap<String, AdmissionCheckState>,
    /// The stranded GPUs last reported, and whether an input since may have changed them.
    stranded: Vec<StrandedGpus>,
    nodes_or_quota_changed: bool,
}

/// The policy the controller runs: `policy` made two-phase, the core's preemption off.
pub fn live_policy(mut policy: Policy) -> Policy {
    policy.admission = Admission::TwoPhase;
    policy.preemption = PreemptionPolicy::default();
    policy
}

impl Owner {
    /// An owner over `index` that will run `policy` (see [`live_policy`]), writing an inputs
    /// log to `log` if given; a Retry without a clock time asks Kueue to come back after
    /// `default_requeue` seconds.
    pub fn new(
        index: Index,
        policy: Policy,
        log: Option<InputsLog>,
        default_requeue: u32,
    ) -> Owner {
        Owner {
            index,
            policy: live_policy(policy),
            scheduler: None,
            log,
            decisions: BTreeMap::new(),
            next_change: None,
            default_requeue,
            written: BTreeMap::new(),
            stranded: Vec::new(),
            nodes_or_quota_changed: false,
        }
    }

    /// The index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The core, once built.
    pub fn scheduler(&self) -> Option<&Scheduler> {
        self.scheduler.as_ref()
    }

    /// The inputs log, if one is written.
    pub fn log(&self) -> Option<&InputsLog> {
        self.log.as_ref()
    }

    /// The latest decision for each pending job, as the core's changes add up.
    pub fn decisions(&self) -> &BTreeMap<JobId, Decision> {
        &self.decisions
    }

    /// Takes one watch event at `now`: the inputs it makes, a cycle, the writes.
    pub fn handle(&mut self, event: Event, now: Time) -> Step {
        self.handle_batch(vec![event], now)
    }

    /// Takes the watch events that arrived together, in order, then cycles once, as the sim
    /// cycles once after all the events of an instant.
    pub fn handle_batch(&mut self, events: Vec<Event>, now: Time) -> Step {
        let mut step = Step::default();
        let mut inputs = Vec::new();
        let mut touched = BTreeSet::new();
        for event in events {
            let update = self.index.handle(event, now);
            step.problems
                .extend(update.errors.iter().map(ToString::to_string));
            inputs.extend(update.inputs);
            touched.extend(update.touched);
        }
        if self.scheduler.is_some() {
            self.apply(inputs, &mut step);
        } else {
            if !self.index.synced() {
                return step;
            }
            if let Err(problem) = self.build() {
                step.problems.push(problem);
                return step;
            }
            let inputs = self.index.replay();
            self.apply(inputs, &mut step);
            touched = self.index.tracked().map(|(key, _)| key.clone()).collect();
        }
        self.note_stranded_gpus(&mut step);
        self.cycle(now, touched, &mut step);
        step
    }

    /// Reports the flavors whose GPUs exceed their quota when the set changes (the shell
    /// warns and sets a gauge). Nodes and quotas come as events in any order, so it is checked
    /// after each batch that changed either, not when one changes.
    fn note_stranded_gpus(&mut self, step: &mut Step) {
        let Some(scheduler) = &self.scheduler else {
            return;
        };
        if !std::mem::take(&mut self.nodes_or_quota_changed) {
            return;
        }
        let stranded = scheduler.stranded_gpus();
        if stranded != self.stranded {
            step.stranded = Some(stranded.clone());
            self.stranded = stranded;
        }
    }

    /// Builds the core from the platform file and the ResourceFlavors listed.
    fn build(&mut self) -> Result<(), String> {
        let config = self.index.start_config().map_err(|error| {
            format!(
                "the platform file and the ResourceFlavors do not make a configuration: {error}"
            )
        })?;
        let start = Start::new(config, self.policy.clone());
        let scheduler = start
            .scheduler()
            .map_err(|error| format!("the start configuration is refused: {error}"))?;
        if let Some(log) = &mut self.log {
            log.start(&start);
        }
        self.scheduler = Some(scheduler);
        Ok(())
    }

    /// Cycles at `now` without an event: the clock reached the core's next change.
    pub fn tick(&mut self, now: Time) -> Step {
        let mut step = Step::default();
        if self.scheduler.is_some() {
            self.cycle(now, BTreeSet::new(), &mut step);
        }
        step
    }

    /// Every write the current decisions call for, whatever was written before: after
    /// gaining the lease, when another replica may have written.
    pub fn all_writes(&mut self, now: Time) -> Vec<Write> {
        self.written.clear();
        let keys: BTreeSet<String> = self.index.tracked().map(|(key, _)| key.clone()).collect();
        self.writes(now, keys)
    }

    fn apply(&mut self, inputs: Vec<Input>, step: &mut Step) {
        let Some(scheduler) = &mut self.scheduler else {
            return;
        };
        for input in inputs {
            self.nodes_or_quota_changed |= matches!(
                input,
                Input::NodeAdded(_)
                    | Input::NodeUpserted(_)
                    | Input::NodeRemoved(_)
                    | Input::QuotaChanged { .. }
                    | Input::ObjectUpserted(_)
                    | Input::ObjectRemoved(_)
                    | Input::ResyncFinished
            );
            let logged = input.clone();
            match scheduler.apply(input) {
                Ok(_) => {
                    if let Some(log) = &mut self.log {
                        log.input(&logged);
                    }
                }
                Err(error) => step
                    .problems
                    .push(format!("the core refused an input: {error}")),
            }
        }
    }

    fn cycle(&mut self, now: Time, mut keys: BTreeSet<String>, step: &mut Step) {
        let Some(scheduler) = &mut self.scheduler else {
            return;
        };
        let cycle = scheduler.cycle(now);
        if let Some(log) = &mut self.log {
            log.cycle(now, &cycle.changes);
        }
        for decision in &cycle.changes {
            if let Some(key) = self.index.key_of(decision.job()) {
                keys.insert(key.to_string());
            }
            self.decisions.insert(decision.job(), decision.clone());
        }
        // jobs the index no longer tracks keep no decision
        let index = &self.index;
        self.decisions.retain(|job, _| index.key_of(*job).is_some());
        self.next_change = cycle.next_change;
        step.next_change = cycle.next_change;
        step.changes = cycle.changes;
        step.writes = self.writes(now, keys);
    }

    fn writes(&mut self, now: Time, keys: BTreeSet<String>) -> Vec<Write> {
        let stamp = rfc3339(now);
        let requeue = Requeue {
            next_change: self.next_change,
            default_seconds: self.default_requeue,
        };
        let mut writes: Vec<Write> = self
            .index
            .checks()
            .filter(|check| !check.is_active())
            .filter_map(|check| check.metadata.name.clone())
            .map(|name| Write::Active { name })
            .collect();
        for key in keys {
            let Some(tracked) = self.index.workload(&key) else {
                continue;
            };
            let workload = &tracked.workload;
            let Some(status) = &workload.status else {
                continue;
            };
            let Some(observed) = status.admission_checks.iter().find(|entry| {
                self.index
                    .checks()
                    .any(|c| c.metadata.name.as_deref() == Some(entry.name.as_str()))
            }) else {
                continue;
            };
            let pod_sets: Vec<String> = workload
                .spec
                .pod_sets
                .iter()
                .map(|set| set.name.clone())
                .collect();
            let verdict: Option<Verdict> = match &tracked.job {
                Err(error) => Some(check::invalid(error)),
                Ok((_, Phase::Queued | Phase::Running { .. })) => None,
                Ok((job, Phase::Reserved(_))) => self
                    .decisions
                    .get(&job.id)
                    .and_then(|decision| check::verdict(decision, &pod_sets, now, requeue)),
            };
            let Some(verdict) = verdict else { continue };
            let Some(entry) = check::entry(&observed.name, &verdict, Some(observed), &stamp) else {
                self.written.remove(&key);
                continue;
            };
            if self
                .written
                .get(&key)
                .is_some_and(|last| same_entry(last, &entry))
            {
                continue;
            }
            self.written.insert(key.clone(), entry.clone());
            writes.push(Write::Check {
                namespace: workload
                    .metadata
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".into()),
                name: workload.metadata.name.clone().unwrap_or_default(),
                entry,
                reason: verdict.reason,
            });
        }
        writes
    }
}

fn same_entry(a: &AdmissionCheckState, b: &AdmissionCheckState) -> bool {
    a.state == b.state
        && a.message == b.message
        && a.requeue_after_seconds == b.requeue_after_seconds
        && a.pod_set_updates == b.pod_set_updates
}

/// `now` (ms since the Unix epoch) as the RFC 3339 time Kubernetes writes, in whole seconds.
pub fn rfc3339(now: Time) -> String {
    let seconds = i64::try_from(now.0 / 1000).unwrap_or(i64::MAX);
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}
