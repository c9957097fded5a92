//! The search for the cheapest way to make room.
//!
//! For each candidate flavor of the job, in fungibility order (only up to the first flavor
//! where preemption works when the queue's `whenCanPreempt` is `MayStopSearch`; all of them
//! with `TryNextFlavor` — that no flavor fits without preemption is why this step runs at all):
//! 1. the lower-ranked jobs on the flavor are the candidates, taken cheapest first
//!    (`Candidate::order`); nothing is tried when even evicting all of them would leave the
//!    queue's quota short, or when quota would admit the job only by borrowing (so with no
//!    reclaim victim, step 4) and evicting all of the queue's own candidates would leave it
//!    short;
//! 2. when a node has room for the job already (only quota is short), candidates are taken
//!    until the queue's quota admits the job;
//! 3. otherwise, for each node that runs candidates, that node's candidates are taken first,
//!    then the others, until the job fits on a freed node and its queue's quota admits it.
//!    Nodes are tried in the order of a lower bound on what making room there costs (the
//!    cheapest candidates that could free enough GPUs), and skipped when the bound shows they
//!    cannot fit the job or cannot beat the best plan found;
//! 4. a reclaim victim (another queue of the cohort) is skipped once its queue would no longer
//!    borrow, and a set with reclaim victims must let the job fit *without* borrowing (Kueue's
//!    rule against two queues taking turns evicting each other);
//! 5. the set is made minimal: each victim, most expensive first, is dropped if the others
//!    suffice.
//!
//! The plan chosen is the one with the least total cost, then the fewest victims, then the
//! earliest flavor in fungibility order, then the node name. Its placement is computed by the
//! placement code on the flavor's nodes with the victims' resources released, so it is exactly
//! what admission would choose once they are gone.

use super::evictable::Evictable;
use super::prune::Prospect;
use super::rank::{Candidate, Opening};
use super::refusals::Reach;
use super::trial::{room_without, Trial};
use crate::decision::Decision;
use crate::ids::NodeName;
use crate::model::{ClusterQueue, Flavor, GpuRequest, Job, ResourceAmounts, WhenCanPreempt};
use crate::placement;
use crate::quota::Mode;
use crate::state::NodeState;
use crate::units::Time;
use crate::view::View;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

/// How a preemption search ended.
pub(crate) enum Search {
    /// Room made: the decision to take (boxed: the other outcomes are most of them).
    Found(Box<Decision>),
    /// No victim set was even tried: on every candidate flavor a check failed that only gets
    /// harder for a lower priority, and for a larger request unless the reach says any size
    /// (see `refusals`).
    Refused(Reach),
    /// Victim sets were tried and none worked.
    NotFound,
}

/// The job and the flavor being searched.
pub(super) struct Target<'t> {
    pub job: &'t Job,
    pub queue: &'t ClusterQueue,
    pub flavor: &'t Flavor,
    /// The flavor's place in fungibility order.
    pub position: usize,
    pub request: ResourceAmounts,
}

/// The candidates on one flavor; sorted cheapest first only when a search needs all of them.
struct Pool<'a> {
    candidates: Vec<Candidate<'a>>,
    sorted: OnceCell<Vec<usize>>,
}

impl Pool<'_> {
    fn sorted(&self) -> &[usize] {
        self.sorted.get_or_init(|| {
            let mut order: Vec<usize> = (0..self.candidates.len()).collect();
            order.sort_by(|a, b| self.candidates[*a].order(&self.candidates[*b]));
            order
        })
    }
}

/// One way to make room: these victims on the flavor at `position` in fungibility order.
pub(super) struct Plan<'a> {
    pub position: usize,
    /// The node whose candidates were taken first; `None` when only quota was short.
    pub node: Option<&'a NodeName>,
    pub victims: Vec<Candidate<'a>>,
    pub cost: u128,
}

impl Plan<'_> {
    fn key(&self) -> (u128, usize, usize, Option<&NodeName>) {
        (self.cost, self.victims.len(), self.position, self.node)
    }
}

impl View<'_> {
    /// Step 5 of the cycle: a `Decision::Preempt` that makes room for `job` by evicting
    /// lower-ranked running jobs, when the policy allows it; otherwise whether the search was
    /// refused before trying any victim set (see `refusals`).
    /// `evictable`: the cycle's lists of who may be evicted now.
    pub(crate) fn preempt_for<'c>(
        &self,
        job: &Job,
        queue: &ClusterQueue,
        candidates: &[&'c Flavor],
        evictable: &mut Evictable<'c>,
        now: Time,
    ) -> Search {
        if !self.policy.preemption.enabled {
            return Search::Refused(Reach::AnySize);
        }
        // Nothing to search where no victim set can work or nobody ranks below the job; see
        // `prune`. Such a flavor yields no plan, so leaving it out leaves `stop_early` as it
        // was.
        let mut reach = Reach::AnySize;
        let mut any_open = false;
        let openings = candidates
            .iter()
            .map(
                |flavor| match self.prospect_on(job, queue, flavor, evictable, now) {
                    Prospect::Open(own) => {
                        any_open = true;
                        Opening::From(own)
                    }
                    // Who ranks below reads the request's family, not its size; a flavor turned
                    // down as hopeless read the size.
                    Prospect::Hopeless => {
                        reach = Reach::LargerRequests;
                        Opening::Closed
                    }
                    Prospect::NoVictims => Opening::Closed,
                },
            )
            .collect();
        if !any_open {
            return Search::Refused(reach);
        }
        self.search_open(job, queue, candidates, openings, reach, evictable, now)
    }

    /// [`View::preempt_for`] searching every candidate flavor, with none turned down
    /// by `prune`: what pruning must not change.
    #[cfg(test)]
    pub(crate) fn preempt_unpruned(
        &self,
        job: &Job,
        queue: &ClusterQueue,
        candidates: &[&Flavor],
        now: Time,
    ) -> Search {
        let openings = candidates.iter().map(|_| Opening::Unread).collect();
        let mut evictable = Evictable::default();
        self.search_open(
            job,
            queue,
            candidates,
            openings,
            Reach::AnySize,
            &mut evictable,
            now,
        )
    }

    /// The search on the flavors `openings` leaves open; `reach`: how far a refusal for want
    /// of any lower-ranked job reaches, given what pruning read.
    #[allow(clippy::too_many_arguments)]
    fn search_open<'a, 'c>(
        &'a self,
        job: &Job,
        queue: &ClusterQueue,
        candidates: &[&'c Flavor],
        openings: Vec<Opening<'a>>,
        reach: Reach,
        evictable: &mut Evictable<'c>,
        now: Time,
    ) -> Search {
        let pools = self.victim_pools(job, queue, candidates, openings, evictable, now);
        if pools.iter().all(Vec::is_empty) {
            return Search::Refused(reach);
        }
        let stop_early = queue.fungibility.when_can_preempt == WhenCanPreempt::MayStopSearch;
        let mut plans = Vec::new();
        let mut tried = false;
        for (position, (flavor, pool)) in candidates.iter().zip(pools).enumerate() {
            if pool.is_empty() {
                continue;
            }
            let target = Target {
                job,
                queue,
                flavor,
                position,
                request: job.quota_usage(),
            };
            let pool = Pool {
                candidates: pool,
                sorted: OnceCell::new(),
            };
            let before = plans.len();
            tried |= self.plans_on(&target, &pool, &mut plans);
            if stop_early && plans.len() > before {
                break;
            }
        }
        plans.sort_by(|a, b| a.key().cmp(&b.key()));
        let found = plans
            .iter()
            .find_map(|plan| self.realize(job, queue, candidates, plan));
        match found {
            Some(decision) => Search::Found(Box::new(decision)),
            None if tried => Search::NotFound,
            None => Search::Refused(Reach::LargerRequests),
        }
    }

    /// Steps 1–5 of the module docs on one flavor; plans found are pushed onto `plans`.
    /// Whether any victim set was tried: when none was, every check that turned the flavor
    /// down only gets harder for a larger request or a lower priority (see `refusals`).
    fn plans_on<'a>(
        &'a self,
        target: &Target<'_>,
        pool: &Pool<'a>,
        plans: &mut Vec<Plan<'a>>,
    ) -> bool {
        let (job, flavor) = (target.job, &target.flavor.name);
        if self
            .quota_view()
            .exceeds_ceiling(target.queue, flavor, &target.request)
            .is_some()
        {
            return false;
        }
        let Some(mode) = self.mode_without(target, &pool.candidates) else {
            return false;
        };
        // Quota only loosens as usage falls, so a fit within nominal is within reach iff it is
        // with every candidate gone. Out of reach, an admitted set must borrow and so may hold
        // no reclaim victim (step 4): the queue's own candidates alone must then make quota room.
        let fit_reachable = mode == Mode::Fit;
        if !fit_reachable {
            let own = pool.candidates.iter().filter(|c| !c.forbids_borrowing());
            if self.mode_without(target, own).is_none() {
                return false;
            }
        }
        if placement::fits(&self.ledgers.fleet, flavor, job).is_ok() {
            plans.extend(self.grow(target, pool, &[], None, fit_reachable));
            return true;
        }
        // the candidates on each node of the flavor, cheapest first
        let fleet = &self.ledgers.fleet;
        let mut by_node: BTreeMap<&'a NodeName, Vec<usize>> = BTreeMap::new();
        for (index, candidate) in pool.candidates.iter().enumerate() {
            for share in &candidate.running.placement.nodes {
                if fleet.is_member(flavor, &share.node) {
                    by_node.entry(&share.node).or_default().push(index);
                }
            }
        }
        let mut nodes: Vec<((u128, usize), &'a NodeName, Vec<usize>)> = by_node
            .into_iter()
            .filter_map(|(name, mut on_node)| {
                on_node.sort_by(|a, b| pool.candidates[*a].order(&pool.candidates[*b]));
                let node = fleet.node(name)?;
                let bound = lower_bound(node, job, &on_node, &pool.candidates)?;
                Some((bound, name, on_node))
            })
            .collect();
        nodes.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut best = plans.iter().map(|p| (p.cost, p.victims.len())).min();
        let mut tried = false;
        for (bound, node, on_node) in nodes {
            if best.is_some_and(|best| bound >= best) {
                continue;
            }
            // room on this node with all its candidates gone? Otherwise skip it at once
            let on = on_node.iter().map(|index| &pool.candidates[*index]);
            if !room_without(self, flavor, on, job) {
                continue;
            }
            tried = true;
            if let Some(plan) = self.grow(target, pool, &on_node, Some(node), fit_reachable) {
                let key = (plan.cost, plan.victims.len());
                best = Some(best.map_or(key, |best| best.min(key)));
                plans.push(plan);
            }
        }
        tried
    }

    /// Takes victims until the job is admitted (steps 2–4): the pool entries `first` (a
    /// node's candidates, cheapest first) and then the rest of the pool, cheapest first; then
    /// drops those not needed (step 5). `fit_reachable`: some set lets the job fit within
    /// nominal quota; when none does, a set that takes a reclaim victim can never be admitted,
    /// and the search of this order ends there.
    fn grow<'a>(
        &'a self,
        target: &Target<'_>,
        pool: &Pool<'a>,
        first: &[usize],
        node: Option<&'a NodeName>,
        fit_reachable: bool,
    ) -> Option<Plan<'a>> {
        let flavor = &target.flavor.name;
        let room_now = node.is_none();
        let max = self
            .policy
            .preemption
            .max_victims
            .map_or(usize::MAX, |max| max as usize);
        let rest = std::iter::once(()).flat_map(|()| {
            let first: BTreeSet<usize> = first.iter().copied().collect();
            pool.sorted()
                .iter()
                .copied()
                .filter(move |index| !first.contains(index))
        });
        let borrow_within = pool.candidates.iter().any(|c| c.while_borrowing);
        let mut trial = Trial::new(room_now);
        let mut chosen: Vec<Candidate<'a>> = Vec::new();
        let mut admitted = false;
        for candidate in first
            .iter()
            .copied()
            .chain(rest)
            .map(|i| &pool.candidates[i])
        {
            if chosen.len() >= max {
                break;
            }
            let placement = &candidate.running.placement;
            let used = || {
                let ledger = &self.ledgers.quota;
                trial
                    .released
                    .usage_of(ledger, &placement.queue, &placement.flavor)
            };
            if candidate.reclaim
                && !self.borrowing(used(), &placement.queue, &placement.flavor, &target.request)
            {
                continue;
            }
            if candidate.forbids_borrowing() && !fit_reachable {
                // `borrowWithinCohort` may leave victims further on that the job may take
                // while it borrows; without them, no later set can be admitted either
                if borrow_within {
                    continue;
                }
                return None;
            }
            trial.remove(self, flavor, candidate);
            chosen.push(*candidate);
            if self.admits(&mut trial, target, &chosen) {
                admitted = true;
                break;
            }
        }
        if !admitted {
            return None;
        }
        for index in (0..chosen.len()).rev() {
            let mut fewer = chosen.clone();
            fewer.remove(index);
            let mut trial = Trial::without(self, room_now, flavor, &fewer);
            if self.admits(&mut trial, target, &fewer) {
                chosen = fewer;
            }
        }
        if chosen.is_empty() {
            return None;
        }
        Some(Plan {
            position: target.position,
            node,
            cost: chosen.iter().map(|c| c.cost.gpu_milli_ms).sum(),
            victims: chosen,
        })
    }
}

/// A lower bound on (cost, victims) of making room for `job` on `node` from its candidates
/// `on_node` (cheapest first), or `None` when even all of them could not make room there:
/// too little VRAM per GPU, a GPU model the job refuses, or fewer GPUs idle and held by the
/// candidates than the job needs; CPU or memory short even with all of them gone.
fn lower_bound(
    node: &NodeState,
    job: &Job,
    on_node: &[usize],
    pool: &[Candidate<'_>],
) -> Option<(u128, usize)> {
    let shares = || {
        on_node.iter().filter_map(|index| {
            pool[*index]
                .running
                .placement
                .nodes
                .iter()
                .find(|share| share.node == node.spec.name)
        })
    };
    let spread = job.spread && matches!(job.gpu, GpuRequest::Whole { count, .. } if count > 1);
    if spread {
        // its room may span nodes: only the cheapest candidate bounds it
        return pool
            .get(*on_node.first()?)
            .map(|cheapest| (cheapest.cost.gpu_milli_ms, 1));
    }
    let cpu: u64 = shares().map(|share| share.cpu.0).sum();
    let memory: u64 = shares().map(|share| share.memory.0).sum();
    if node.free_cpu.0 + cpu < job.cpu.0 || node.free_memory.0 + memory < job.memory.0 {
        return None;
    }
    let mut fewest = 1;
    if let GpuRequest::Whole { count, min_vram } = job.gpu {
        if node.vram_per_gpu < min_vram || !job.accepts_model(node.spec.gpu_model.as_ref()) {
            return None;
        }
        // GPUs each candidate holds here; GPUs that could become idle
        let mut held: Vec<u32> = shares().map(|share| share.gpus.len() as u32).collect();
        let touched: BTreeSet<u32> = shares()
            .flat_map(|share| share.gpus.iter().map(|gpu| gpu.index))
            .collect();
        let idle = node.idle_gpus();
        let needed = count.saturating_sub(idle);
        if touched.len() as u32 + idle < count {
            return None;
        }
        if needed > 0 {
            held.sort_unstable_by(|a, b| b.cmp(a));
            let mut freed = 0;
            fewest = held
                .iter()
                .position(|gpus| {
                    freed += gpus;
                    freed >= needed
                })
                .map_or(held.len(), |at| at + 1)
                .max(1);
        }
    }
    let cost = on_node
        .iter()
        .take(fewest)
        .map(|index| pool[*index].cost.gpu_milli_ms)
        .sum();
    Some((cost, fewest))
}
