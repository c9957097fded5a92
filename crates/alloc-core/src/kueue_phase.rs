//! Kueue's first phase, for a shell that runs admission in two phases as a cluster does.
//!
//! In a cluster, Kueue's flavor assigner first reserves quota for a workload on one flavor,
//! and only then does the core, as an AdmissionCheck, decide the rest within that flavor
//! (`Input::QuotaReserved`). [`Scheduler::kueue_reservations`] says what the flavor assigner
//! would reserve, so that the sim can run both phases on the same core and be compared with a
//! cluster decision for decision:
//!
//! 1. pending jobs without a reservation, in Kueue's order ([`PendingKey`](crate::PendingKey):
//!    priority, submit time, id);
//! 2. for each, its candidate flavors in fungibility order (`flavors::candidates`; public
//!    flavors only for a job that may burst), and the first whose quota admits it — without
//!    borrowing, or by borrowing as the ClusterQueue's `whenCanBorrow` allows — by quota alone:
//!    nodes are not looked at (Kueue's flavor assigner does not see them);
//! 3. quota is counted as Kueue books it: what running jobs hold, plus every reservation held
//!    and every reservation made earlier in the same call;
//! 4. a job no flavor has quota for gets none and stays pending; in a StrictFIFO queue it also
//!    blocks the jobs behind it, as Kueue's head does.
//!
//! A job nominated by its preemption comes first, reserved only on the flavor its preemption
//! made room on: the core keeps that room for it and books it there before anybody else, as
//! Kueue keeps the capacity its victims free for a nominated workload.
//!
//! Read-only: the shell applies each reservation as `Input::QuotaReserved`.

use crate::classes::ClassId;
use crate::flavors;
use crate::ids::{FlavorName, JobId, QueueName};
use crate::model::{ClusterQueue, Flavor, Job, QueueingStrategy};
use crate::order::PendingKey;
use crate::pending::Waiting;
use crate::scheduler::Scheduler;
use crate::state::QuotaUsage;
use std::collections::{BTreeMap, BTreeSet};

impl Scheduler {
    /// The quota reservations Kueue's flavor assigner would make now for the pending jobs
    /// that hold none, in Kueue's order: each job with the flavor it would reserve on (see the
    /// module's documentation for the rules). Jobs no flavor has quota for are left out.
    pub fn kueue_reservations(&self) -> Vec<(JobId, FlavorName)> {
        let config = &*self.config;
        let mut booked = self.reserved_usage();
        let mut reservations = Vec::new();
        // StrictFIFO queues whose first job found no quota: nobody behind it gets any.
        let mut blocked: BTreeSet<&QueueName> = BTreeSet::new();
        // Candidates per request class and whether it may burst; `None` once one of its jobs
        // found no quota, as none of its later jobs can while usage only grows.
        let mut classes: BTreeMap<(ClassId, bool), Option<Vec<&Flavor>>> = BTreeMap::new();
        // The nominated jobs first, in Kueue's order, each on the flavor it made room on.
        let mut nominated: Vec<&Waiting> = self
            .nominations
            .iter()
            .filter_map(|id| self.pending.get(*id))
            .filter(|waiting| waiting.reserved.is_none())
            .collect();
        nominated.sort_by_key(|waiting| PendingKey::of(&waiting.job));
        for waiting in nominated {
            let job = &*waiting.job;
            let (Some(queue), Some(placement)) =
                (config.cluster_queue_of(&job.queue), &waiting.nominated)
            else {
                continue;
            };
            let found = config
                .flavors
                .get(&placement.flavor)
                .and_then(|flavor| first_with_quota(self, queue, job, &[flavor], &booked));
            if let Some(flavor) = found {
                booked.add(&queue.name, &flavor.name, &job.quota_usage());
                reservations.push((job.id, flavor.name.clone()));
            }
        }
        for slot in self.queue_order.all() {
            let Some(waiting) = self.pending.at(slot) else {
                continue;
            };
            let job = &*waiting.job;
            if waiting.reserved.is_some() || waiting.nominated.is_some() {
                continue;
            }
            // a job of an unknown queue is the core's to reject
            let Some(queue) = config.cluster_queue_of(&job.queue) else {
                continue;
            };
            if blocked.contains(&queue.name) {
                continue;
            }
            let may_burst = self.view().may_burst(job).is_ok();
            let entry = classes
                .entry((waiting.class, may_burst))
                .or_insert_with(|| Some(self.kueue_candidates(queue, job, may_burst)));
            let found = entry
                .as_deref()
                .and_then(|flavors| first_with_quota(self, queue, job, flavors, &booked));
            if found.is_none() {
                *entry = None;
            }
            match found {
                Some(flavor) => {
                    booked.add(&queue.name, &flavor.name, &job.quota_usage());
                    reservations.push((job.id, flavor.name.clone()));
                }
                None if queue.strategy == QueueingStrategy::StrictFIFO => {
                    blocked.insert(&queue.name);
                }
                None => {}
            }
        }
        reservations
    }

    /// The quota reservations held now: each pending job that holds one, with its flavor, by
    /// job id. Kueue releases a reservation when its admission check says Retry; a shell
    /// that plays Kueue releases these (`QuotaReserved { flavor: None }`) for jobs told to
    /// wait, except those awaiting their preemption's victims ([`Scheduler::nominated`]).
    pub fn reservations(&self) -> impl Iterator<Item = (JobId, &FlavorName)> + '_ {
        self.pending.by_id().filter_map(|waiting| {
            let reserved = waiting.reserved.as_ref()?;
            Some((waiting.job.id, &reserved.flavor))
        })
    }

    /// The quota the reservations held now book, per ClusterQueue and flavor.
    fn reserved_usage(&self) -> QuotaUsage {
        let mut usage = QuotaUsage::default();
        for waiting in self.pending.by_id() {
            let Some(reserved) = &waiting.reserved else {
                continue;
            };
            if let Some(queue) = self.config.cluster_queue_of(&waiting.job.queue) {
                usage.add(&queue.name, &reserved.flavor, &waiting.job.quota_usage());
            }
        }
        usage
    }

    /// The flavors Kueue would try for `job`, in fungibility order: public ones only when it
    /// may burst.
    fn kueue_candidates<'c>(
        &'c self,
        queue: &ClusterQueue,
        job: &Job,
        may_burst: bool,
    ) -> Vec<&'c Flavor> {
        let mut candidates = flavors::candidates(&self.config, queue, job, &self.policy);
        if !may_burst {
            candidates.retain(|flavor| {
                self.config
                    .clusters
                    .get(&flavor.cluster)
                    .is_some_and(|cluster| !cluster.is_public())
            });
        }
        candidates
    }
}

/// The first of `flavors` whose quota admits `job` with `booked` counted beside what running
/// jobs use: without borrowing, or by borrowing — at once under `MayStopSearch`, after the
/// other flavors under `TryNextFlavor` (as the cycle's `assign`, minus placement).
fn first_with_quota<'f>(
    scheduler: &Scheduler,
    queue: &ClusterQueue,
    job: &Job,
    flavors: &[&'f Flavor],
    booked: &QuotaUsage,
) -> Option<&'f Flavor> {
    let view = scheduler.view().quota_view();
    let request = job.quota_usage();
    let mut deferred = None;
    for flavor in flavors {
        let room = view.room_given(queue, &flavor.name, |member| {
            let mut used = scheduler.ledgers.quota.of(member, &flavor.name);
            used.add(&booked.of(member, &flavor.name));
            used
        });
        match room.assess(queue, &request) {
            Err(_) => {}
            Ok(mode) if mode.ends_search(queue) => return Some(flavor),
            Ok(_) => {
                deferred.get_or_insert(*flavor);
            }
        }
    }
    deferred
}
