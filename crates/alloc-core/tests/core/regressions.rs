//! Failures found by the property tests and by reading the code, pinned by name.

use crate::support::*;
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{Input, Quota, Tier};

/// Removing the last node of a flavor left an empty member set behind in the incremental
/// fleet, which a rebuild does not have: "incremental ledgers differ from a rebuild".
#[test]
fn removing_the_last_node_of_a_flavor_keeps_ledgers_equal_to_a_rebuild() {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(4000))])
        .build();
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 2));
    s.apply(Input::NodeRemoved("n".into())).unwrap();
    assert_eq!(s.check_invariants(), Ok(()));
    s.submit(JobBuilder::gpus(1).id(1));
    waiting(&s.checked_cycle(0), 1);
}

/// A job that asks for nothing at all (no GPU, no CPU, no memory) created an all-zero quota
/// entry; when a neighbour on the same queue and flavor finished, the entry was dropped while
/// the empty job still ran, and the ledgers no longer equalled a rebuild. Shrunk from
/// `every_cycle_keeps_the_invariants`.
#[test]
fn a_job_asking_for_nothing_keeps_quota_ledgers_equal_to_a_rebuild() {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(1000))])
        .build();
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::fraction(50, 0).id(1).cpu(0).memory(0))
        .submit(JobBuilder::cpu_only().id(2).cpu(0).memory(0));
    let d = s.checked_cycle(0);
    admitted(&d, 1);
    admitted(&d, 2);
    s.apply(Input::JobFinished(alloc_core::JobId(1))).unwrap();
    assert_eq!(s.check_invariants(), Ok(()));
    s.apply(Input::JobFinished(alloc_core::JobId(2))).unwrap();
    assert_eq!(s.check_invariants(), Ok(()));
}

/// A spread job waited although its GPUs were there: the node with most idle GPUs lacked CPU
/// for all of them and was skipped whole instead of giving the GPUs its CPU could feed.
#[test]
fn a_spread_job_uses_the_gpus_a_cpu_short_node_can_feed() {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(8000))])
        .build();
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("big", "f", 4).cpu(3_000))
        .node(NodeBuilder::new("one", "f", 1))
        .submit(JobBuilder::gpus(4).id(1).spread().cpu(4_000));
    let d = s.checked_cycle(0);
    assert_eq!(nodes(admitted(&d, 1)), ["big", "one"]);
}
