//! Hypothetical states: what quota and nodes would look like without some victims, and the
//! exact decision once a victim set is chosen. Quota is what the victims release, read over
//! the scheduler's ledger (a search tries many sets, and copying the ledger for each was most
//! of its cost); nodes are copied only where victims free capacity, and placed on by scanning
//! (`placement::place_among`), which decides as admission does on the real fleet.

use super::rank::Candidate;
use super::search::{Plan, Target};
use crate::decision::{Decision, FlavorMiss, Placement};
use crate::ids::{FlavorName, JobId, NodeName, QueueName};
use crate::model::{ClusterQueue, Flavor, Job, ResourceAmounts};
use crate::placement;
use crate::quota::Mode;
use crate::running::Running;
use crate::state::{Fleet, NodeState, QuotaUsage};
use crate::view::View;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

/// The quota some victims would release, by queue and flavor: read over the scheduler's ledger
/// instead of copying it (a victim set touches a queue or two on one flavor).
#[derive(Debug, Default)]
pub(super) struct Released<'a> {
    by_pair: Vec<(&'a QueueName, &'a FlavorName, ResourceAmounts)>,
}

impl<'a> Released<'a> {
    pub fn of<'v>(victims: impl IntoIterator<Item = &'v Candidate<'a>>) -> Released<'a>
    where
        'a: 'v,
    {
        let mut released = Released::default();
        for victim in victims {
            released.add(victim);
        }
        released
    }

    pub fn add(&mut self, victim: &Candidate<'a>) {
        let running: &'a Running = victim.running;
        let placement = &running.placement;
        self.insert(
            &placement.queue,
            &placement.flavor,
            &running.job.quota_usage(),
        );
    }

    /// `queue` releases `amount` more of `flavor`.
    pub fn insert(
        &mut self,
        queue: &'a QueueName,
        flavor: &'a FlavorName,
        amount: &ResourceAmounts,
    ) {
        let pair = self
            .by_pair
            .iter_mut()
            .find(|(q, f, _)| *q == queue && *f == flavor);
        match pair {
            Some((_, _, sum)) => sum.add(amount),
            None => self.by_pair.push((queue, flavor, *amount)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_pair.is_empty()
    }

    /// `queue`'s usage of `flavor` in `ledger` with the released quota gone.
    pub fn usage_of(
        &self,
        ledger: &QuotaUsage,
        queue: &QueueName,
        flavor: &FlavorName,
    ) -> ResourceAmounts {
        let mut used = ledger.of(queue, flavor);
        let pair = self
            .by_pair
            .iter()
            .find(|(q, f, _)| *q == queue && *f == flavor);
        if let Some((_, _, sum)) = pair {
            used.subtract(sum);
        }
        used
    }
}

/// Quota released by some victims and, while the job has found no room yet, copies of the
/// nodes they free (taken from the real fleet on first touch).
pub(super) struct Trial<'a> {
    pub released: Released<'a>,
    /// The flavor's nodes the victims so far hold shares of, by name, with those shares freed.
    nodes: BTreeMap<NodeName, NodeState>,
    /// A node has room for the job. Freeing more never takes room away, so once found it
    /// stays; before that, only freed nodes can have room (no node had any).
    room: bool,
}

impl<'a> Trial<'a> {
    /// The state as it is; `room` when a node already has room for the job.
    pub fn new(room: bool) -> Trial<'a> {
        Trial {
            released: Released::default(),
            nodes: BTreeMap::new(),
            room,
        }
    }

    /// The state without `victims`.
    pub fn without<'v>(
        view: &View<'_>,
        room: bool,
        flavor: &FlavorName,
        victims: impl IntoIterator<Item = &'v Candidate<'a>>,
    ) -> Trial<'a>
    where
        'a: 'v,
    {
        let mut trial = Trial::new(room);
        for victim in victims {
            trial.remove(view, flavor, victim);
        }
        trial
    }

    /// Releases `victim`'s quota and, while room is still sought, its shares of `flavor`'s
    /// nodes.
    pub fn remove(&mut self, view: &View<'_>, flavor: &FlavorName, victim: &Candidate<'a>) {
        self.released.add(victim);
        if !self.room {
            free_shares(&mut self.nodes, &view.ledgers.fleet, flavor, victim);
        }
    }

    /// A node of the flavor has room for the job.
    pub fn has_room(&mut self, job: &Job) -> bool {
        if !self.room {
            self.room = placement::fits_among(self.nodes.values(), job);
        }
        self.room
    }
}

/// Whether a node of `flavor` would have room for `job` once `victims` are gone, looking only
/// at the nodes they free (quota aside: a cheaper `Trial::without(..).has_room(..)`).
pub(super) fn room_without<'v, 'a: 'v>(
    view: &View<'_>,
    flavor: &FlavorName,
    victims: impl IntoIterator<Item = &'v Candidate<'a>>,
    job: &Job,
) -> bool {
    let mut nodes = BTreeMap::new();
    for victim in victims {
        free_shares(&mut nodes, &view.ledgers.fleet, flavor, victim);
    }
    placement::fits_among(nodes.values(), job)
}

/// Frees `victim`'s shares of `flavor`'s nodes in `nodes`, copying each node in from `fleet`
/// the first time.
fn free_shares(
    nodes: &mut BTreeMap<NodeName, NodeState>,
    fleet: &Fleet,
    flavor: &FlavorName,
    victim: &Candidate<'_>,
) {
    for share in &victim.running.placement.nodes {
        if !fleet.is_member(flavor, &share.node) {
            continue;
        }
        let node = match nodes.entry(share.node.clone()) {
            Entry::Occupied(copy) => copy.into_mut(),
            Entry::Vacant(slot) => match fleet.node(&share.node) {
                Some(node) => slot.insert(node.clone()),
                None => continue,
            },
        };
        node.release(share);
    }
}

impl View<'_> {
    /// The job fits the trial's quota — without borrowing when `victims` include reclaim
    /// victims — and a node.
    pub(super) fn admits(
        &self,
        trial: &mut Trial<'_>,
        target: &Target<'_>,
        victims: &[Candidate<'_>],
    ) -> bool {
        let Some(mode) = self.mode_with(
            target.queue,
            &target.flavor.name,
            &target.request,
            &trial.released,
        ) else {
            return false;
        };
        if mode == Mode::Borrow && victims.iter().any(Candidate::forbids_borrowing) {
            return false;
        }
        trial.has_room(target.job)
    }

    /// How quota would admit the target with `victims` gone (`None`: it would not).
    pub(super) fn mode_without<'v, 'a: 'v>(
        &self,
        target: &Target<'_>,
        victims: impl IntoIterator<Item = &'v Candidate<'a>>,
    ) -> Option<Mode> {
        let released = Released::of(victims);
        self.mode_with(
            target.queue,
            &target.flavor.name,
            &target.request,
            &released,
        )
    }

    /// How quota would admit `request` of `queue` on `flavor` with `released` gone. An
    /// assessment there reads only usage of that flavor.
    pub(super) fn mode_with(
        &self,
        queue: &ClusterQueue,
        flavor: &FlavorName,
        request: &ResourceAmounts,
        released: &Released<'_>,
    ) -> Option<Mode> {
        let ledger = &self.ledgers.quota;
        self.quota_view()
            .room_given(queue, flavor, |member| {
                released.usage_of(ledger, member, flavor)
            })
            .assess(queue, request)
            .ok()
    }

    /// The decision for `plan`: quota assessed and the job placed by the placement code on
    /// all of the flavor's nodes with the victims gone, exactly as admission would there;
    /// `None` if that disagrees with the search (it should not).
    pub(super) fn realize(
        &self,
        job: &Job,
        queue: &ClusterQueue,
        candidates: &[&Flavor],
        plan: &Plan<'_>,
    ) -> Option<Decision> {
        let flavor = candidates.get(plan.position)?;
        let fleet = &self.ledgers.fleet;
        let mut freed = BTreeMap::new();
        for victim in &plan.victims {
            free_shares(&mut freed, fleet, &flavor.name, victim);
        }
        let released = Released::of(&plan.victims);
        let mode = self.mode_with(queue, &flavor.name, &job.quota_usage(), &released)?;
        if mode == Mode::Borrow && plan.victims.iter().any(Candidate::forbids_borrowing) {
            return None;
        }
        // the flavor's nodes in name order, the victims' freed copies in their places
        let nodes = fleet
            .nodes_of(&flavor.name)
            .map(|node| freed.get(&node.spec.name).unwrap_or(node));
        let nodes = placement::place_among(nodes, job, self.policy.mps_packing, self.mix)?;
        let passed_over = candidates[..plan.position]
            .iter()
            .filter_map(|earlier| self.miss_now(job, queue, earlier))
            .collect();
        let mut victims: Vec<JobId> = plan.victims.iter().map(|c| c.running.job.id).collect();
        victims.sort();
        Some(Decision::Preempt {
            job: job.id,
            placement: Placement::on_nodes(
                flavor,
                &queue.name,
                nodes,
                mode == Mode::Borrow,
                passed_over,
            ),
            victims,
        })
    }

    /// Why `flavor` cannot take the job as things stand (as admission found it).
    fn miss_now(&self, job: &Job, queue: &ClusterQueue, flavor: &Flavor) -> Option<FlavorMiss> {
        let request = job.quota_usage();
        let miss = match self.quota_view().assess(queue, &flavor.name, &request) {
            Err(miss) => miss,
            Ok(_) => placement::fits(&self.ledgers.fleet, &flavor.name, job).err()?,
        };
        Some(FlavorMiss {
            flavor: flavor.name.clone(),
            miss,
        })
    }
}
