//! The warm pool's mechanics: slices started ahead of demand, handed to cells that find no
//! lease, refilled in the background. How many slices a pool holds is alloc-core's decision
//! ([`alloc_core::WarmPoolRule`]); this module counts demands, holds the slices and times them.
//!
//! A slice is an ordinary lease job (so quotas, preemption and the scheduler see it), charged to
//! the queue and tenant of the sessions it serves, under a user of its own
//! (`<tenant>-warm-pool`) so that it never spends a person's limits. A pool serves one *class*
//! of sessions: those whose cells would ask for the very same lease (queue, tenant, request,
//! tier, models, flavors, priority). A slice pays the container and CUDA start when placed; a
//! cell that takes it pays only its session's restore. A slice's time in the pool is lease time
//! held while no cell computes, so it counts as notebook idle GPU time (its start-up counts as
//! setup, as any lease's does).

use super::notebooks::Lease;
use super::{Engine, Event, NotebookHold};
use crate::record::jobs::Outcome;
use crate::runtime_model::Start;
use alloc_core::{Input, Job, JobId, Millis, Time, UserName, WarmPoolSize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How often pools are re-sized while any holds slices or has recent demands: often enough
/// that a pool shrinks within minutes once demand stops.
const TICK: Millis = Millis(60_000);

#[derive(Default)]
pub(super) struct Pools {
    classes: BTreeMap<String, ClassPool>,
    /// Slices in a pool (not yet taken) → their class.
    slices: BTreeMap<JobId, String>,
    /// Every slice ever made: lease jobs, whether or not a cell took them.
    made: BTreeSet<JobId>,
    tick_queued: bool,
}

struct ClassPool {
    /// The job every slice of the class is.
    template: Job,
    /// When recent demands came, oldest first, within the rule's window.
    demands: VecDeque<Time>,
    /// Slices asked for and not yet ready (placed or not).
    starting: BTreeSet<JobId>,
    /// Where each placed slice runs.
    placed: BTreeMap<JobId, Start>,
    /// Ready slices, oldest first: the oldest is handed out first.
    ready: VecDeque<JobId>,
    /// The scheduler rejected a slice: the class gets no more.
    refused: bool,
}

impl ClassPool {
    fn forget_demands_before(&mut self, now: Time, window: Millis) {
        while self
            .demands
            .front()
            .is_some_and(|&at| now.since(at) >= window)
        {
            self.demands.pop_front();
        }
    }

    /// Takes `excess` slices out, cheapest to give up first: not yet placed, then still
    /// starting, then the newest ready. Each comes with whether it was placed.
    fn take_excess(&mut self, excess: usize) -> Vec<(JobId, bool)> {
        let placed = &self.placed;
        let unplaced = self
            .starting
            .iter()
            .rev()
            .filter(|id| !placed.contains_key(id));
        let starting = self
            .starting
            .iter()
            .rev()
            .filter(|id| placed.contains_key(id));
        let ready = self.ready.iter().rev();
        let victims: Vec<JobId> = unplaced
            .chain(starting)
            .chain(ready)
            .take(excess)
            .copied()
            .collect();
        victims
            .into_iter()
            .map(|id| {
                self.starting.remove(&id);
                self.ready.retain(|&r| r != id);
                (id, self.placed.remove(&id).is_some())
            })
            .collect()
    }

    fn remove(&mut self, id: JobId) {
        self.starting.remove(&id);
        self.ready.retain(|&r| r != id);
        self.placed.remove(&id);
    }
}

impl Pools {
    pub(super) fn is_slice(&self, id: JobId) -> bool {
        self.made.contains(&id)
    }
}

/// The class a session's cells belong to: the fields a lease's placement and charging read,
/// as one string of their `Debug` forms, so that the order pools are visited in (and so the
/// output) depends on nothing but the values.
pub(super) fn class_of(template: &Job) -> String {
    format!(
        "{}|{}|{:?}|{:?}|{}|{:?}|{:?}|{}|{:?}|{:?}",
        template.queue,
        template.tenant,
        template.gpu,
        template.min_tier,
        template.allow_upgrade,
        template.gpu_models,
        template.allowed_flavors,
        template.priority,
        template.cpu,
        template.memory,
    )
}

impl Engine {
    fn pool_enabled(&self) -> bool {
        let options = &self.notebooks.options;
        options.hold == NotebookHold::PerCell && options.warm_pool != WarmPoolSize::Fixed(0)
    }

    /// Session `s`'s cell found no lease: a demand on its pool. Returns whether a slice now
    /// serves it (the cell then waits only for its restore).
    pub(super) fn pool_demand(&mut self, s: usize, now: Time) -> bool {
        if !self.pool_enabled() {
            return false;
        }
        let Some(session) = self.notebooks.sessions().get(s) else {
            return false;
        };
        let class = class_of(&session.template);
        let template = session.template.clone();
        let pool = self
            .notebooks
            .pools
            .classes
            .entry(class.clone())
            .or_insert_with(|| ClassPool {
                template: Job {
                    user: UserName::new(format!("{}-warm-pool", template.tenant)),
                    ..template
                },
                demands: VecDeque::new(),
                starting: BTreeSet::new(),
                placed: BTreeMap::new(),
                ready: VecDeque::new(),
                refused: false,
            });
        pool.demands.push_back(now);
        let served = self.pool_take(&class, s, now);
        self.pool_resize(&class, now, false);
        self.pool_schedule_tick(now);
        served
    }

    /// Hands class `class`'s oldest ready slice to session `s`, if it has one.
    fn pool_take(&mut self, class: &str, s: usize, now: Time) -> bool {
        let Some(pool) = self.notebooks.pools.classes.get_mut(class) else {
            return false;
        };
        let Some(slice) = pool.ready.pop_front() else {
            return false;
        };
        let Some(start) = pool.placed.remove(&slice) else {
            return false;
        };
        self.notebooks.pools.slices.remove(&slice);
        let restore = self.notebooks.options.restore;
        let (milli, attempt) = self
            .jobs
            .get(&slice)
            .map_or((0, 0), |j| (j.record.job.gpu.milli().0, j.attempt_no));
        self.notebooks.leases.insert(slice, s);
        if let Some(state) = self.notebooks.states.get_mut(s) {
            state.lease = Some(Lease {
                id: slice,
                milli,
                placed: Some(start),
                ready: false,
                from_pool: true,
            });
        }
        self.notebooks.stats.setup_gpu_ms += milli * restore.0 / 1000;
        self.push(
            now + restore,
            Event::LeaseReady {
                lease: slice,
                attempt,
            },
        );
        true
    }

    /// Grows class `class`'s pool to its target, and when `shrink` also gives back what is
    /// over it (only on ticks, so that a burst of demands does not churn slices).
    fn pool_resize(&mut self, class: &str, now: Time, shrink: bool) {
        let options = self.notebooks.options;
        let Some(pool) = self.notebooks.pools.classes.get_mut(class) else {
            return;
        };
        pool.forget_demands_before(now, options.pool_rule.window);
        let target = match pool.refused {
            true => 0,
            false => options.pool_rule.size(
                options.warm_pool,
                pool.demands.len() as u64,
                options.cold_start,
            ) as usize,
        };
        let have = pool.starting.len() + pool.ready.len();
        if have < target {
            let template = pool.template.clone();
            for _ in have..target {
                self.pool_submit(class, &template, now);
            }
        } else if shrink && have > target {
            let victims = pool.take_excess(have - target);
            for (id, placed) in victims {
                self.notebooks.pools.slices.remove(&id);
                self.pool_release(id, placed, now);
            }
        }
    }

    fn pool_submit(&mut self, class: &str, template: &Job, now: Time) {
        let options = self.notebooks.options;
        let id = JobId(self.notebooks.next_lease);
        self.notebooks.next_lease += 1;
        // The scheduler plans with what a slice is expected to hold: its start and about the
        // longest it waits for a cell.
        let job = Job {
            id,
            runtime: options.pool_rule.max_idle + options.cold_start,
            submit_time: now,
            deadline: None,
            checkpoint_interval: None,
            restore_cost: options.restore,
            ..template.clone()
        };
        let pools = &mut self.notebooks.pools;
        pools.made.insert(id);
        pools.slices.insert(id, class.to_string());
        if let Some(pool) = pools.classes.get_mut(class) {
            pool.starting.insert(id);
        }
        self.notebooks.stats.pool_slices += 1;
        self.jobs.insert(super::JobState::new(job.clone()));
        if self.apply(Input::JobSubmitted(job), now).is_some() {
            self.request_cycle(now);
        }
    }

    fn pool_release(&mut self, id: JobId, placed: bool, now: Time) {
        if placed {
            if self.apply(Input::JobFinished(id), now).is_some() {
                self.close_attempt(id, now, false);
                if let Some(state) = self.jobs.get_mut(&id) {
                    state.record.end = Some(now);
                    state.record.outcome = Outcome::Finished;
                }
                self.request_cycle(now);
            }
        } else if self.apply(Input::JobCancelled(id), now).is_some() {
            if let Some(state) = self.jobs.get_mut(&id) {
                state.record.end = Some(now);
            }
        }
    }

    fn pool_schedule_tick(&mut self, now: Time) {
        if !self.notebooks.pools.tick_queued {
            self.notebooks.pools.tick_queued = true;
            self.push(now + TICK, Event::PoolTick);
        }
    }

    /// Re-sizes every pool; ticks go on while a pool holds slices or has recent demands.
    pub(super) fn pool_tick(&mut self, now: Time) {
        self.notebooks.pools.tick_queued = false;
        let classes: Vec<String> = self.notebooks.pools.classes.keys().cloned().collect();
        for class in &classes {
            self.pool_resize(class, now, true);
        }
        let busy = self
            .notebooks
            .pools
            .classes
            .values()
            .any(|p| !(p.demands.is_empty() && p.starting.is_empty() && p.ready.is_empty()));
        if busy {
            self.pool_schedule_tick(now);
        }
    }

    /// The scheduler placed slice `id`: it starts its container and CUDA context. Gives
    /// `start` back when `id` is not a slice in a pool.
    pub(super) fn pool_slice_started_or(
        &mut self,
        id: JobId,
        begins: Time,
        start: Start,
    ) -> Option<Start> {
        let Some(class) = self.notebooks.pools.slices.get(&id) else {
            return Some(start);
        };
        let pool = self.notebooks.pools.classes.get_mut(class)?;
        pool.placed.insert(id, start);
        let cold_start = self.notebooks.options.cold_start;
        let (milli, attempt) = self
            .jobs
            .get(&id)
            .map_or((0, 0), |j| (j.record.job.gpu.milli().0, j.attempt_no));
        self.notebooks.stats.setup_gpu_ms += milli * cold_start.0 / 1000;
        self.push(
            begins + cold_start,
            Event::LeaseReady { lease: id, attempt },
        );
        None
    }

    /// Slice `id` finished starting (unless stopped since: `attempt` differs). A cell of its
    /// class waiting for a lease still in the queue takes it at once. Returns false when `id`
    /// is not a slice in a pool.
    pub(super) fn pool_slice_ready(&mut self, id: JobId, attempt: u32, now: Time) -> bool {
        let Some(class) = self.notebooks.pools.slices.get(&id).cloned() else {
            return false;
        };
        let current = self.jobs.get(&id).is_some_and(|j| j.attempt_no == attempt);
        let Some(pool) = self.notebooks.pools.classes.get_mut(&class) else {
            return true;
        };
        if !current || !pool.placed.contains_key(&id) || !pool.starting.remove(&id) {
            return true;
        }
        pool.ready.push_back(id);
        if let Some(s) = self.longest_waiting_cell(&class) {
            self.withdraw_pending_lease(s, now);
            self.pool_take(&class, s, now);
        }
        true
    }

    /// Of the class's sessions whose cell waits on a lease the scheduler has not placed yet,
    /// the one whose cell came first (then the lowest index).
    fn longest_waiting_cell(&self, class: &str) -> Option<usize> {
        let notebooks = &self.notebooks;
        notebooks
            .states
            .iter()
            .enumerate()
            .filter(|(_, state)| {
                state
                    .cell
                    .as_ref()
                    .is_some_and(|c| c.computing_since.is_none())
                    && state.lease.as_ref().is_some_and(|l| l.placed.is_none())
            })
            .filter(|(s, _)| notebooks.classes.get(*s).is_some_and(|c| c == class))
            .min_by_key(|(s, state)| (state.cell.as_ref().map(|c| c.record.job.submit_time), *s))
            .map(|(s, _)| s)
    }

    /// Session `s`'s lease is still in the queue: it is cancelled (a slice replaces it).
    fn withdraw_pending_lease(&mut self, s: usize, now: Time) {
        let Some(lease) = self
            .notebooks
            .states
            .get_mut(s)
            .and_then(|st| st.lease.take())
        else {
            return;
        };
        self.notebooks.leases.remove(&lease.id);
        if self.apply(Input::JobCancelled(lease.id), now).is_some() {
            if let Some(state) = self.jobs.get_mut(&lease.id) {
                state.record.end = Some(now);
            }
        }
    }

    /// Slice `id` was stopped (preempted, or its node failed) while in its pool: it is
    /// withdrawn, and the next tick refills. Returns false when `id` is not a slice in a pool.
    pub(super) fn pool_slice_stopped(&mut self, id: JobId, now: Time) -> bool {
        let Some(class) = self.notebooks.pools.slices.remove(&id) else {
            return false;
        };
        if let Some(pool) = self.notebooks.pools.classes.get_mut(&class) {
            pool.remove(id);
        }
        if self.apply(Input::JobCancelled(id), now).is_some() {
            if let Some(state) = self.jobs.get_mut(&id) {
                state.record.end = Some(now);
            }
        }
        self.pool_schedule_tick(now);
        true
    }

    /// The scheduler rejected slice `id`: its class gets no more slices. Returns false when
    /// `id` is not a slice in a pool.
    pub(super) fn pool_slice_rejected(&mut self, id: JobId) -> bool {
        let Some(class) = self.notebooks.pools.slices.remove(&id) else {
            return false;
        };
        if let Some(pool) = self.notebooks.pools.classes.get_mut(&class) {
            pool.remove(id);
            pool.refused = true;
        }
        true
    }
}
