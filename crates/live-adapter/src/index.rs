//! The controller's picture of the cluster, fed by watch events, and the core inputs each
//! event makes: pure, no I/O and no clock (the caller passes `now`), so that the parity test
//! drives exactly what the controller runs.
//!
//! Watches are level-triggered: each event carries an object's current state. The index keeps
//! the last state of every object it told the core about and turns a new state into the
//! inputs that take the core from the old one to it — upserts for setup objects and nodes,
//! and for a Workload its job's phase: queued (`JobUpserted`), holding Kueue's quota
//! reservation on a flavor (`QuotaReserved`), running where our check placed it
//! (`JobAdmitted`, from the placement annotation we wrote: how a restarted controller
//! rebuilds the running jobs), and gone (`JobFinished` if it ran, `JobCancelled` if not).
//! A state that changes nothing the core reads gives no input.
//!
//! A watch's (re-)list (`Init` … `InitDone`) replaces what the index holds of that kind; once
//! every kind has been listed, each re-list ends in a resync: `ResyncStarted`, every object
//! the index holds as an upsert ([`Index::replay`]), `ResyncFinished`, so the core forgets
//! whatever went away while the watch was down.

use crate::error::ObjectError;
use crate::kueue::{AdmissionCheck, SetupKind, Workload};
use crate::labels::{self, GPU, PREFIX, SHARED_GPU};
use crate::nodes;
use crate::platform::Platform;
use crate::setup;
use alloc_core::{
    Config, ConfigError, ConfigKey, ConfigObject, FlavorName, Input, Job, JobId, NodeSpec,
    Placement, Time,
};
use k8s_openapi::api::core::v1::Node;
use kube::api::DynamicObject;
use kube::runtime::watcher;
use kueue_model::objects::{CheckState, ConditionStatus, WorkloadStatus};
use std::collections::{BTreeMap, BTreeSet};

/// The annotation of a Ready check's pod set update that holds the core's placement.
pub fn placement_annotation() -> String {
    format!("{PREFIX}placement")
}

/// One watch event, by the kind it is about.
#[derive(Debug, Clone)]
pub enum Event {
    /// A ResourceFlavor, Cohort, ClusterQueue or LocalQueue.
    Setup(SetupKind, watcher::Event<DynamicObject>),
    /// A Node.
    Node(Box<watcher::Event<Node>>),
    /// A Workload.
    Workload(Box<watcher::Event<Workload>>),
    /// An AdmissionCheck.
    Check(watcher::Event<AdmissionCheck>),
}

/// The watches, each listed once before the core is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Setup(SetupKind),
    Node,
    Workload,
    Check,
}

const SOURCES: [Source; 7] = [
    Source::Setup(SetupKind::ResourceFlavor),
    Source::Setup(SetupKind::Cohort),
    Source::Setup(SetupKind::ClusterQueue),
    Source::Setup(SetupKind::LocalQueue),
    Source::Node,
    Source::Workload,
    Source::Check,
];

/// Where a Workload's job stands, as the core was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// In its queue, no quota reserved.
    Queued,
    /// Kueue reserved quota on this flavor; our check has not said Ready.
    Reserved(FlavorName),
    /// Our check said Ready: it runs at this placement since `started`.
    Running {
        /// Where.
        placement: Box<Placement>,
        /// Since when.
        started: Time,
    },
}

/// A Workload the controller decides for.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    /// The Workload as last seen.
    pub workload: Workload,
    /// Its job, or why it cannot be read (the check then says Rejected with the reason).
    pub job: Result<(Job, Phase), ObjectError>,
}

/// What one event did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    /// Inputs for the core, in order.
    pub inputs: Vec<Input>,
    /// Objects that could not be read, each naming the object and field.
    pub errors: Vec<ObjectError>,
    /// Workloads (by key) whose check may need writing.
    pub touched: Vec<String>,
}

/// The controller's picture of the cluster.
#[derive(Debug, Clone)]
pub struct Index {
    platform: Platform,
    controller: String,
    setups: BTreeMap<(SetupKind, String), ConfigObject>,
    nodes: BTreeMap<String, NodeSpec>,
    /// Our AdmissionChecks, by name.
    checks: BTreeMap<String, AdmissionCheck>,
    /// Every Workload seen, ours or not (an AdmissionCheck may make it ours later).
    raw: BTreeMap<String, Workload>,
    /// The Workloads that carry our check.
    tracked: BTreeMap<String, Tracked>,
    ids: BTreeMap<JobId, String>,
    listing: BTreeMap<Source, BTreeSet<String>>,
    listed: BTreeSet<Source>,
}

impl Index {
    /// An empty index for the AdmissionChecks whose `controllerName` is `controller`.
    pub fn new(platform: Platform, controller: impl Into<String>) -> Index {
        Index {
            platform,
            controller: controller.into(),
            setups: BTreeMap::new(),
            nodes: BTreeMap::new(),
            checks: BTreeMap::new(),
            raw: BTreeMap::new(),
            tracked: BTreeMap::new(),
            ids: BTreeMap::new(),
            listing: BTreeMap::new(),
            listed: BTreeSet::new(),
        }
    }

    /// Every watch has delivered its first list: the core can be built.
    pub fn synced(&self) -> bool {
        SOURCES.iter().all(|source| self.listed.contains(source))
    }

    /// The platform file's configuration with every ResourceFlavor read so far: what the
    /// core is built with (public offers name flavors); queues and the rest come as inputs.
    pub fn start_config(&self) -> Result<Config, ConfigError> {
        let mut config = self.platform.base_config();
        for object in self.setups.values() {
            if let ConfigObject::Flavor(flavor) = object {
                config.flavors.insert(flavor.name.clone(), flavor.clone());
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Everything the index holds as upserts, in an order without dangling names: flavors,
    /// cohorts, ClusterQueues, LocalQueues, nodes, then each Workload's job by key.
    pub fn replay(&self) -> Vec<Input> {
        let mut inputs = Vec::new();
        for kind in SetupKind::ALL {
            for ((_, _), object) in self.setups.range((kind, String::new())..) {
                if object_kind(object) != kind {
                    break;
                }
                inputs.push(Input::ObjectUpserted(object.clone()));
            }
        }
        inputs.extend(self.nodes.values().cloned().map(Input::NodeUpserted));
        for tracked in self.tracked.values() {
            if let Ok(told) = &tracked.job {
                inputs.extend(transition(None, Some(told)));
            }
        }
        inputs
    }

    /// The Workloads that carry our check, by key.
    pub fn tracked(&self) -> impl Iterator<Item = (&String, &Tracked)> {
        self.tracked.iter()
    }

    /// One tracked Workload.
    pub fn workload(&self, key: &str) -> Option<&Tracked> {
        self.tracked.get(key)
    }

    /// The Workload key of a job.
    pub fn key_of(&self, job: JobId) -> Option<&str> {
        self.ids.get(&job).map(String::as_str)
    }

    /// Our AdmissionChecks.
    pub fn checks(&self) -> impl Iterator<Item = &AdmissionCheck> {
        self.checks.values()
    }

    /// Takes one watch event at `now`.
    pub fn handle(&mut self, event: Event, now: Time) -> Update {
        let mut update = Update::default();
        match event {
            Event::Setup(kind, event) => {
                let source = Source::Setup(kind);
                self.watch(
                    source,
                    event,
                    &mut update,
                    now,
                    |index, object, update, _| index.setup_applied(kind, object, update),
                    |index, name, update| index.setup_deleted(kind, name, update),
                );
            }
            Event::Node(event) => self.watch(
                Source::Node,
                *event,
                &mut update,
                now,
                |index, node, update, _| index.node_applied(node, update),
                |index, name, update| index.node_deleted(name, update),
            ),
            Event::Workload(event) => self.watch(
                Source::Workload,
                *event,
                &mut update,
                now,
                |index, workload, update, now| index.workload_applied(workload, update, now),
                |index, key, update| index.workload_deleted(key, update),
            ),
            Event::Check(event) => self.watch(
                Source::Check,
                event,
                &mut update,
                now,
                |index, check, update, now| index.check_applied(check, update, now),
                |index, name, update| index.check_deleted(name, update, now),
            ),
        }
        update
    }

    #[allow(clippy::too_many_arguments)]
    fn watch<K: Named>(
        &mut self,
        source: Source,
        event: watcher::Event<K>,
        update: &mut Update,
        now: Time,
        applied: impl Fn(&mut Index, K, &mut Update, Time),
        deleted: impl Fn(&mut Index, &str, &mut Update),
    ) {
        match event {
            watcher::Event::Apply(object) => applied(self, object, update, now),
            watcher::Event::Delete(object) => deleted(self, &object.name(), update),
            watcher::Event::Init => {
                self.listing.insert(source, BTreeSet::new());
            }
            watcher::Event::InitApply(object) => {
                self.listing
                    .entry(source)
                    .or_default()
                    .insert(object.name());
                applied(self, object, update, now);
            }
            watcher::Event::InitDone => {
                let seen = self.listing.remove(&source).unwrap_or_default();
                for name in self.names(source) {
                    if !seen.contains(&name) {
                        deleted(self, &name, update);
                    }
                }
                let first = self.listed.insert(source);
                if self.synced() && !first {
                    // a re-list: the core forgets what the index no longer holds
                    update.inputs.clear();
                    update.inputs.push(Input::ResyncStarted);
                    update.inputs.extend(self.replay());
                    update.inputs.push(Input::ResyncFinished);
                }
            }
        }
    }

    fn names(&self, source: Source) -> Vec<String> {
        match source {
            Source::Setup(kind) => self
                .setups
                .keys()
                .filter(|(k, _)| *k == kind)
                .map(|(_, name)| name.clone())
                .collect(),
            Source::Node => self.nodes.keys().cloned().collect(),
            Source::Workload => self.raw.keys().cloned().collect(),
            Source::Check => self.checks.keys().cloned().collect(),
        }
    }

    fn setup_applied(&mut self, kind: SetupKind, object: DynamicObject, update: &mut Update) {
        let name = object.name();
        let value = serde_json::to_value(&object).unwrap_or_default();
        match setup::config_object(kind, &value, &self.platform) {
            Ok(translated) => {
                if self.setups.get(&(kind, name.clone())) != Some(&translated) {
                    update
                        .inputs
                        .push(Input::ObjectUpserted(translated.clone()));
                    self.setups.insert((kind, name), translated);
                }
            }
            Err(error) => {
                update.errors.push(error);
                self.setup_deleted(kind, &name, update);
            }
        }
    }

    fn setup_deleted(&mut self, kind: SetupKind, name: &str, update: &mut Update) {
        if let Some(object) = self.setups.remove(&(kind, name.to_string())) {
            update.inputs.push(Input::ObjectRemoved(object.key()));
        }
    }

    fn node_applied(&mut self, node: Node, update: &mut Update) {
        let name = node.name();
        match nodes::node_spec(&node, &self.platform) {
            Ok(spec) => {
                if self.nodes.get(&name) != Some(&spec) {
                    update.inputs.push(Input::NodeUpserted(spec.clone()));
                    self.nodes.insert(name, spec);
                }
            }
            Err(error) => {
                update.errors.push(error);
                self.node_deleted(&name, update);
            }
        }
    }

    fn node_deleted(&mut self, name: &str, update: &mut Update) {
        if let Some(spec) = self.nodes.remove(name) {
            update.inputs.push(Input::NodeRemoved(spec.name));
        }
    }

    fn check_applied(&mut self, check: AdmissionCheck, update: &mut Update, now: Time) {
        let name = check.name();
        let ours = check.spec.controller_name == self.controller;
        let known = self.checks.contains_key(&name);
        if ours {
            self.checks.insert(name, check);
        } else {
            self.checks.remove(&name);
        }
        if ours != known {
            self.reobserve(update, now);
        }
    }

    fn check_deleted(&mut self, name: &str, update: &mut Update, now: Time) {
        if self.checks.remove(name).is_some() {
            self.reobserve(update, now);
        }
    }

    /// The set of our checks changed: which Workloads are ours may have too.
    fn reobserve(&mut self, update: &mut Update, now: Time) {
        let all: Vec<Workload> = self.raw.values().cloned().collect();
        for workload in all {
            self.workload_applied(workload, update, now);
        }
    }

    fn workload_applied(&mut self, workload: Workload, update: &mut Update, now: Time) {
        let key = workload.key();
        self.raw.insert(key.clone(), workload.clone());
        let Some(entry) = self.our_entry(workload.status.as_ref()) else {
            return self.workload_gone(&key, update, false);
        };
        let finished = workload
            .status
            .as_ref()
            .is_some_and(|s| condition(s, "Finished"));
        let rejected = entry == CheckState::Rejected;
        if !workload.active || finished || rejected {
            return self.workload_gone(&key, update, rejected);
        }
        let id = labels::job_id(&key);
        match self.ids.get(&id) {
            Some(other) if *other != key => {
                update.errors.push(ObjectError::new(
                    format!("Workload {key}"),
                    "metadata.name",
                    format!("its job id {} is also Workload {other}'s; rename one", id.0),
                ));
                return;
            }
            _ => {}
        }
        let observed = labels::job_of(&workload, &self.platform, now)
            .and_then(|job| Ok((job, self.phase(&workload, &key)?)));
        let before = self.tracked.get(&key).and_then(|t| t.job.as_ref().ok());
        match &observed {
            Ok(now_told) => update.inputs.extend(transition(before, Some(now_told))),
            Err(error) => {
                update.errors.push(error.clone());
                update.inputs.extend(transition(before, None));
            }
        }
        self.ids.insert(id, key.clone());
        update.touched.push(key.clone());
        self.tracked.insert(
            key,
            Tracked {
                workload,
                job: observed,
            },
        );
    }

    fn workload_deleted(&mut self, key: &str, update: &mut Update) {
        self.raw.remove(key);
        self.workload_gone(key, update, false);
    }

    fn workload_gone(&mut self, key: &str, update: &mut Update, rejected: bool) {
        let Some(tracked) = self.tracked.remove(key) else {
            return;
        };
        self.ids.remove(&labels::job_id(key));
        if let Ok(told) = &tracked.job {
            // the core removed a job it rejected itself
            if !rejected || matches!(told.1, Phase::Running { .. }) {
                update.inputs.extend(transition(Some(told), None));
            }
        }
    }

    /// The state of our check's entry on the Workload, if it carries one of our checks.
    fn our_entry(&self, status: Option<&WorkloadStatus>) -> Option<CheckState> {
        status?
            .admission_checks
            .iter()
            .find(|entry| self.checks.contains_key(&entry.name))
            .map(|entry| entry.state)
    }

    fn phase(&self, workload: &Workload, key: &str) -> Result<Phase, ObjectError> {
        let Some(status) = &workload.status else {
            return Ok(Phase::Queued);
        };
        let reserved = condition(status, "QuotaReserved") && !condition(status, "Evicted");
        let Some(admission) = status.admission.as_ref().filter(|_| reserved) else {
            return Ok(Phase::Queued);
        };
        let entry = status
            .admission_checks
            .iter()
            .find(|entry| self.checks.contains_key(&entry.name));
        if let Some(entry) = entry.filter(|e| e.state == CheckState::Ready) {
            let annotation = placement_annotation();
            let written = entry
                .pod_set_updates
                .iter()
                .find_map(|update| update.annotations.get(&annotation));
            if let Some(text) = written {
                let placement: Placement = serde_json::from_str(text).map_err(|error| {
                    ObjectError::new(
                        format!("Workload {key}"),
                        format!("status.admissionChecks[{}].podSetUpdates[*].annotations[\"{annotation}\"]", entry.name),
                        format!("not a placement this controller wrote: {error}"),
                    )
                })?;
                let started = status
                    .conditions
                    .iter()
                    .find(|c| c.type_ == "Admitted" && c.status == ConditionStatus::True)
                    .map_or(&entry.last_transition_time, |c| &c.last_transition_time);
                let started = started
                    .parse::<jiff::Timestamp>()
                    .map(|t| labels::time_of(t.as_millisecond()))
                    .unwrap_or(Time(0));
                return Ok(Phase::Running {
                    placement: Box::new(placement),
                    started,
                });
            }
        }
        let flavors = admission.pod_set_assignments.first().map(|a| &a.flavors);
        let flavor = flavors.and_then(|flavors| {
            flavors
                .get(GPU)
                .or_else(|| flavors.get(SHARED_GPU))
                .or_else(|| flavors.values().next())
        });
        match flavor {
            Some(flavor) => Ok(Phase::Reserved(FlavorName::new(flavor.as_str()))),
            None => Err(ObjectError::new(
                format!("Workload {key}"),
                "status.admission.podSetAssignments[0].flavors",
                "quota is reserved but no flavor is named",
            )),
        }
    }
}

fn condition(status: &WorkloadStatus, type_: &str) -> bool {
    status
        .conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == ConditionStatus::True)
}

fn object_kind(object: &ConfigObject) -> SetupKind {
    match object.key() {
        ConfigKey::Flavor(_) => SetupKind::ResourceFlavor,
        ConfigKey::Cohort(_) => SetupKind::Cohort,
        ConfigKey::ClusterQueue(_) => SetupKind::ClusterQueue,
        _ => SetupKind::LocalQueue,
    }
}

/// The inputs that take the core from what it was told of a job (`before`) to `after`
/// (`None`: the job is gone).
fn transition(before: Option<&(Job, Phase)>, after: Option<&(Job, Phase)>) -> Vec<Input> {
    let mut inputs = Vec::new();
    match (before, after) {
        (None, None) => {}
        (Some((job, Phase::Running { .. })), None) => inputs.push(Input::JobFinished(job.id)),
        (Some((job, _)), None) => inputs.push(Input::JobCancelled(job.id)),
        (_, Some((job, Phase::Running { placement, started }))) => {
            if before.map(|(_, phase)| phase) != after.map(|(_, phase)| phase) {
                inputs.push(Input::JobAdmitted {
                    job: job.clone(),
                    placement: placement.clone(),
                    started: *started,
                });
            }
        }
        (before, Some((job, phase))) => {
            let was_running = matches!(before, Some((_, Phase::Running { .. })));
            if was_running {
                inputs.push(Input::JobRequeued(job.id));
            }
            let old_job = before.map(|(job, _)| job).filter(|_| !was_running);
            let old_flavor = match before {
                Some((_, Phase::Reserved(flavor))) if !was_running => Some(flavor),
                _ => None,
            };
            let changed = old_job != Some(job);
            if changed || was_running {
                inputs.push(Input::JobUpserted(job.clone()));
            }
            let flavor = match phase {
                Phase::Reserved(flavor) => Some(flavor),
                _ => None,
            };
            // an upsert that changed the job dropped its reservation in the core
            if (flavor != old_flavor || (changed && flavor.is_some()))
                && (flavor.is_some() || old_flavor.is_some())
            {
                inputs.push(Input::QuotaReserved {
                    job: job.id,
                    flavor: flavor.cloned(),
                });
            }
        }
    }
    inputs
}

/// An object's name as the index keys it.
trait Named {
    fn name(&self) -> String;
}

impl Named for DynamicObject {
    fn name(&self) -> String {
        match &self.metadata.namespace {
            Some(namespace) => format!(
                "{namespace}/{}",
                self.metadata.name.as_deref().unwrap_or_default()
            ),
            None => self.metadata.name.clone().unwrap_or_default(),
        }
    }
}

impl Named for Node {
    fn name(&self) -> String {
        self.metadata.name.clone().unwrap_or_default()
    }
}

impl Named for Workload {
    fn name(&self) -> String {
        self.key()
    }
}

impl Named for AdmissionCheck {
    fn name(&self) -> String {
        self.metadata.name.clone().unwrap_or_default()
    }
}
