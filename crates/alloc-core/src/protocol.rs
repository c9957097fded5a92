//! The inputs a live controller sends. Kubernetes watches are level-triggered: a controller
//! sees each object's current state, again after every reconnect (a re-list), and starts
//! with Workloads already admitted. So every input here says how an object *is*, not what
//! happened to it: applying one twice is applying it once, and a re-list between
//! `ResyncStarted` and `ResyncFinished` removes whatever it did not mention.

use crate::decision::Placement;
use crate::error::InputError;
use crate::ids::{JobId, NodeName};
use crate::input::{Applied, ConfigKey, ConfigObject};
use crate::model::{BudgetKind, Config, DataClass, Job, NodeSpec};
use crate::pending::Reserved;
use crate::progress::Progress;
use crate::running::Running;
use crate::scheduler::Scheduler;
use crate::units::Time;
use std::collections::BTreeSet;

/// What a re-list has mentioned so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seen {
    jobs: BTreeSet<JobId>,
    nodes: BTreeSet<NodeName>,
    objects: BTreeSet<ConfigKey>,
}

impl Seen {
    pub(crate) fn job(&mut self, id: JobId) {
        self.jobs.insert(id);
    }
    pub(crate) fn node(&mut self, name: &NodeName) {
        self.nodes.insert(name.clone());
    }
    pub(crate) fn object(&mut self, key: ConfigKey) {
        self.objects.insert(key);
    }
}

impl Scheduler {
    pub(crate) fn upsert_job(&mut self, mut job: Job) -> Result<(), InputError> {
        if self.running.contains_key(&job.id) {
            return Ok(());
        }
        let Some(waiting) = self.pending.get(job.id) else {
            self.share_names(&mut job);
            self.mix.record(&job);
            let progress = Progress::new(&job);
            self.enqueue(job, progress);
            return Ok(());
        };
        if waiting.own_spec() == job {
            return Ok(());
        }
        let Some(old) = self.unqueue_whole(job.id) else {
            return Ok(());
        };
        let fresh = old.progress == Progress::new(&old.own_spec());
        let mut carried = old.carried();
        // a job that has not run yet takes the new spec's work; one that ran keeps what it has
        // left, as the shell last reported it
        if fresh {
            carried.progress = Progress::new(&job);
        }
        // a changed Workload loses its quota reservation in Kueue
        carried.reserved = None;
        self.share_names(&mut job);
        self.enqueue_as(job, carried);
        Ok(())
    }

    pub(crate) fn job_admitted(
        &mut self,
        mut job: Job,
        placement: Placement,
        started: Time,
    ) -> Result<(), InputError> {
        if let Some(running) = self.running.get(&job.id) {
            if same_booking(&running.placement, &placement) {
                return Ok(());
            }
        }
        self.share_names(&mut job);
        self.replan_reservations = true;
        let invalid = |reason: String| InputError::InvalidPlacement {
            job: job.id,
            reason,
        };
        if let Some(reason) = self.placement_breaks_rules(&job, &placement, &self.config) {
            return Err(invalid(reason));
        }
        // Checked on the fleet without this job's current booking, if it has one elsewhere:
        // released for the check and booked back if the new one does not fit.
        let lacks_room = match self.running.get(&job.id) {
            None => self.room_for(&job, &placement),
            Some(running) => {
                let (old, evictable) = (running.placement.clone(), running.evicting.is_none());
                let booked = running.job.clone();
                self.ledgers.release(&booked, &old, evictable);
                let lacks_room = self.room_for(&job, &placement);
                self.ledgers.book(&booked, &old);
                if !evictable {
                    self.ledgers.priorities_leave(&booked, &old);
                }
                lacks_room
            }
        };
        if let Some(reason) = lacks_room {
            return Err(invalid(reason));
        }
        let progress = match self.running.contains_key(&job.id) {
            true => self.stop(job.id)?.1,
            false => match self.unqueue(job.id) {
                Some((_, progress)) => progress,
                None => {
                    self.mix.record(&job);
                    Progress::new(&job)
                }
            },
        };
        self.run(job, placement, started, progress);
        Ok(())
    }

    /// Why running `job` at `placement` breaks the platform's rules under `config`: its
    /// queue, its flavor, the burst rule. `None` when it does not.
    fn placement_breaks_rules(
        &self,
        job: &Job,
        placement: &Placement,
        config: &Config,
    ) -> Option<String> {
        let Some(queue) = config
            .cluster_queue_of(&job.queue)
            .filter(|queue| queue.name == placement.queue)
        else {
            return Some(format!(
                "it holds quota of ClusterQueue {}, not of its LocalQueue {}'s",
                placement.queue, job.queue
            ));
        };
        if !queue.flavors.iter().any(|f| f.flavor == placement.flavor) {
            return Some(format!(
                "ClusterQueue {} lists no flavor {}",
                placement.queue, placement.flavor
            ));
        }
        let public = config
            .flavors
            .get(&placement.flavor)
            .and_then(|flavor| config.clusters.get(&flavor.cluster))
            .is_some_and(|cluster| cluster.is_public());
        if public != placement.public.is_some() {
            return Some(format!(
                "flavor {} is {}, the placement says otherwise",
                placement.flavor,
                if public { "public" } else { "private" }
            ));
        }
        if public
            && (!job.burstable
                || job.budget.kind != BudgetKind::Flex
                || job.data_class == DataClass::Sensitive)
        {
            return Some("only burstable jobs with flexible budgets and data that may leave run on public flavors".into());
        }
        None
    }

    pub(crate) fn quota_reserved(
        &mut self,
        id: JobId,
        flavor: Option<crate::ids::FlavorName>,
    ) -> Result<(), InputError> {
        let Some(waiting) = self.pending.get(id) else {
            return Err(self.not_pending(id));
        };
        if waiting.reserved.as_ref().map(|r| &r.flavor) == flavor.as_ref() {
            return Ok(());
        }
        if let Some(flavor) = &flavor {
            if !self.config.flavors.contains_key(flavor) {
                return Err(InputError::UnknownObject(ConfigKey::Flavor(flavor.clone())));
            }
        }
        let Some(old) = self.unqueue_whole(id) else {
            return Ok(());
        };
        let mut job = old.own_spec();
        let mut carried = old.carried();
        carried.reserved = None;
        // The reservation narrows the flavors the job may use to the reserved one, which
        // puts it in a request class of its own: screening, the memo and placement then
        // decide within that flavor with no other change.
        if let Some(flavor) = flavor {
            let own = job.allowed_flavors.replace([flavor.clone()].into());
            // a reservation on a flavor the job itself rules out leaves it no candidate, and
            // the screening says so
            if own.as_ref().is_some_and(|own| !own.contains(&flavor)) {
                job.allowed_flavors = Some(BTreeSet::new());
            }
            carried.reserved = Some(Box::new(Reserved { flavor, own }));
        }
        self.enqueue_as(job, carried);
        Ok(())
    }

    pub(crate) fn upsert_node(
        &mut self,
        spec: NodeSpec,
        applied: &mut Applied,
    ) -> Result<(), InputError> {
        let Some(node) = self.ledgers.fleet.node(&spec.name) else {
            return self.add_node(spec);
        };
        if *node.spec == spec {
            return Ok(());
        }
        let on_node: Vec<JobId> = self
            .running
            .values()
            .filter(|r| {
                r.placement
                    .nodes
                    .iter()
                    .any(|share| share.node == spec.name)
            })
            .map(|r| r.job.id)
            .collect();
        // refused before anything changes, as a new node would be
        self.node_model(&spec)?;
        self.replan_reservations = true;
        let mut moved = Vec::new();
        for id in &on_node {
            if let Some(running) = self.running.remove(id) {
                let evictable = running.evicting.is_none();
                self.ledgers
                    .release(&running.job, &running.placement, evictable);
                moved.push(*running);
            }
        }
        self.ledgers.fleet.remove(&spec.name);
        self.add_node(spec)?;
        // book back, in id order, those that still fit; requeue the others
        for running in moved {
            if self.room_for(&running.job, &running.placement).is_none() {
                self.ledgers.book(&running.job, &running.placement);
                if running.evicting.is_some() {
                    self.ledgers
                        .priorities_leave(&running.job, &running.placement);
                }
                self.running.insert(running.job.id, Box::new(running));
            } else {
                applied.requeued.push(running.job.id);
                let (job, progress) = self.stopped(running);
                self.enqueue(job, progress);
            }
        }
        // its jobs were booked again on the new spec, or requeued
        self.victims_clock = None;
        Ok(())
    }

    /// Stops a job whose node changed under it and queues it again, as `NodeRemoved` does.
    pub(crate) fn requeue_from_node(&mut self, id: JobId) -> Result<(), InputError> {
        let (job, progress) = self.stop(id)?;
        self.enqueue(job, progress);
        Ok(())
    }

    pub(crate) fn upsert_object(&mut self, object: ConfigObject) -> Result<(), InputError> {
        let mut config = Config::clone(&self.config);
        match object {
            ConfigObject::Flavor(flavor) => {
                if config.flavors.get(&flavor.name) == Some(&flavor) {
                    return Ok(());
                }
                config.flavors.insert(flavor.name.clone(), flavor);
            }
            ConfigObject::ClusterQueue(queue) => {
                if config.cluster_queues.get(&queue.name) == Some(&queue) {
                    return Ok(());
                }
                if let Some(cohort) = &queue.cohort {
                    config
                        .cohorts
                        .entry(cohort.clone())
                        .or_insert_with(|| crate::model::Cohort {
                            name: cohort.clone(),
                        });
                }
                config.cluster_queues.insert(queue.name.clone(), queue);
            }
            ConfigObject::LocalQueue(queue) => {
                if config.local_queues.get(&queue.name) == Some(&queue) {
                    return Ok(());
                }
                config.local_queues.insert(queue.name.clone(), queue);
            }
            ConfigObject::Cohort(cohort) => {
                if config.cohorts.contains_key(&cohort.name) {
                    return Ok(());
                }
                config.cohorts.insert(cohort.name.clone(), cohort);
            }
        }
        self.reconfigure(config)
    }

    pub(crate) fn remove_object(&mut self, key: &ConfigKey) -> Result<(), InputError> {
        let mut config = Config::clone(&self.config);
        let known = match key {
            ConfigKey::Flavor(name) => config.flavors.remove(name).is_some(),
            ConfigKey::ClusterQueue(name) => config.cluster_queues.remove(name).is_some(),
            ConfigKey::LocalQueue(name) => config.local_queues.remove(name).is_some(),
            ConfigKey::Cohort(name) => {
                // a cohort a ClusterQueue names exists implicitly, as in Kueue
                let named = config
                    .cluster_queues
                    .values()
                    .any(|queue| queue.cohort.as_ref() == Some(name));
                config.cohorts.remove(name).is_some() && !named
            }
        };
        if !known {
            if matches!(key, ConfigKey::Cohort(_)) {
                return Ok(());
            }
            return Err(InputError::UnknownObject(key.clone()));
        }
        self.reconfigure(config)
    }

    /// Takes `config` in place of the current one, if every running job still holds quota
    /// through its own queue and flavor under it; rebuilds what the configuration shapes.
    fn reconfigure(&mut self, config: Config) -> Result<(), InputError> {
        config.validate()?;
        let stranded = self.running.values().find(|running| {
            self.placement_breaks_rules(&running.job, &running.placement, &config)
                .is_some()
        });
        if let Some(running) = stranded {
            return Err(InputError::InUse {
                object: stranding_object(&self.config, &config, running),
                job: running.job.id,
            });
        }
        self.replace_config(config);
        Ok(())
    }

    pub(crate) fn resync_finished(&mut self, seen: Seen, applied: &mut Applied) {
        let gone_jobs: Vec<JobId> = self
            .running
            .keys()
            .copied()
            .chain(self.pending.ids())
            .filter(|id| !seen.jobs.contains(id))
            .collect();
        for id in gone_jobs {
            if self.unqueue(id).is_none() {
                let _ = self.stop(id);
            }
            applied.removed.push(id);
        }
        let gone_nodes: Vec<NodeName> = self
            .ledgers
            .fleet
            .nodes()
            .map(|node| node.spec.name.clone())
            .filter(|name| !seen.nodes.contains(name))
            .collect();
        for name in gone_nodes {
            let _ = self.remove_node(&name, applied);
        }
        let gone_objects: Vec<ConfigKey> = config_keys(&self.config)
            .filter(|key| !seen.objects.contains(key))
            .collect();
        // in `config_keys`' order; one still in use stays
        for key in gone_objects {
            let _ = self.remove_object(&key);
        }
    }
}

/// Every object of `config`, LocalQueues first, then ClusterQueues, Cohorts and flavors: the
/// order in which removing them leaves no dangling name.
fn config_keys(config: &Config) -> impl Iterator<Item = ConfigKey> + '_ {
    let local = config
        .local_queues
        .keys()
        .cloned()
        .map(ConfigKey::LocalQueue);
    let cluster = config
        .cluster_queues
        .keys()
        .cloned()
        .map(ConfigKey::ClusterQueue);
    let cohorts = config.cohorts.keys().cloned().map(ConfigKey::Cohort);
    let flavors = config.flavors.keys().cloned().map(ConfigKey::Flavor);
    local.chain(cluster).chain(cohorts).chain(flavors)
}

/// The object whose change leaves `running` without its queue or flavor.
fn stranding_object(old: &Config, new: &Config, running: &Running) -> ConfigKey {
    let local = &running.job.queue;
    if old.local_queues.get(local) != new.local_queues.get(local) {
        return ConfigKey::LocalQueue(local.clone());
    }
    let flavor = &running.placement.flavor;
    if !new.flavors.contains_key(flavor) {
        return ConfigKey::Flavor(flavor.clone());
    }
    ConfigKey::ClusterQueue(running.placement.queue.clone())
}

/// Two placements book the same: the same queue, flavor, node shares and lease.
fn same_booking(a: &Placement, b: &Placement) -> bool {
    a.queue == b.queue
        && a.flavor == b.flavor
        && a.nodes == b.nodes
        && a.public.as_ref().map(|lease| lease.lease) == b.public.as_ref().map(|lease| lease.lease)
}
