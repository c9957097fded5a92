//! A cycle in steady state allocates per distinct request, not per pending job: jobs that wait
//! for the same reason share one explanation, and the memo answers them from one search.

use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{Decision, Input, Millis, Policy, Quota, Scheduler, Tier, Time};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A full two-node fleet under the default policy (score order, FGD-pack, preemption, tiered
/// burst) with `waiting` burstable jobs of four requests, half with a deadline, that cannot
/// start and have not waited long enough to burst, after one cycle.
fn backlog(waiting: u64) -> Scheduler {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .offer("cloud", Tier::Gold, "A100", 3, 5, 64)
        .queue(
            "q",
            &[
                ("f", Quota::nominal(64_000)),
                ("cloud", Quota::nominal(64_000)),
            ],
        )
        .build();
    let policy = Policy::preset("default").unwrap_or_default();
    let mut s = Scheduler::new(config, policy).expect("valid config");
    let mut apply = |input| s.apply(input).expect("input accepted");
    for node in ["n1", "n2"] {
        apply(Input::NodeAdded(NodeBuilder::new(node, "f", 8).build()));
    }
    for id in 1..=2 {
        let job = JobBuilder::gpus(8)
            .id(id)
            .priority(5)
            .runtime(Millis::hours(8));
        apply(Input::JobSubmitted(job.build()));
    }
    for id in 0..waiting {
        let job = match id % 4 {
            0 => JobBuilder::gpus(1),
            1 => JobBuilder::gpus(2),
            2 => JobBuilder::fraction(250, 4096),
            _ => JobBuilder::fraction(500, 4096),
        };
        let mut job = job.id(100 + id).submitted(Time(1 + id)).burstable();
        if id % 2 == 0 {
            job = job.deadline(Time(1 + id) + Millis::hours(30));
        }
        apply(Input::JobSubmitted(job.build()));
    }
    s.decide_all(Time(60_000));
    s
}

/// Allocations of the next cycle, and its decisions.
fn next_cycle(mut s: Scheduler) -> (usize, Vec<Decision>) {
    let region = Region::new(GLOBAL);
    let decisions = s.decide_all(Time(61_000));
    let allocations = region.change().allocations;
    (allocations, decisions)
}

#[test]
fn waiting_jobs_cost_no_allocation_each() {
    let (few, decided_few) = next_cycle(backlog(100));
    let (many, decided_many) = next_cycle(backlog(1_000));
    assert_eq!(decided_few.len(), 100);
    assert_eq!(decided_many.len(), 1_000);
    assert!(decided_many
        .iter()
        .all(|d| matches!(d, Decision::Wait { .. })));
    println!("allocations per cycle: {few} with 100 waiting, {many} with 1,000");
    // 900 more waiting jobs, and not one more allocation for every ten of them
    assert!(
        many < few + 90,
        "{few} allocations with 100 waiting jobs, {many} with 1,000"
    );
}
