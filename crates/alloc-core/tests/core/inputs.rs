//! Inputs between cycles: nodes coming and going, quota changes, cancellations, requeues, and
//! inputs the scheduler refuses without changing its state.

use crate::support::*;
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    Config, Input, InputError, JobId, Miss, Quota, QuotaScope, Resource, Scheduler, Tier, Time,
    WaitReason,
};

fn config(nominal_gpus: u64) -> Config {
    ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(nominal_gpus * 1000))])
        .build()
}

/// Everything an input could change, to compare before and after a refused one.
fn state(s: &Scheduler) -> impl PartialEq + std::fmt::Debug {
    (
        s.ledgers().clone(),
        s.pending().cloned().collect::<Vec<_>>(),
        s.running().cloned().collect::<Vec<_>>(),
        s.config().clone(),
    )
}

#[test]
fn removing_a_node_requeues_its_jobs_and_adding_one_starts_waiting_jobs() {
    let mut s = scheduler(config(8));
    s.node(NodeBuilder::new("a", "f", 2))
        .node(NodeBuilder::new("b", "f", 1))
        .submit(JobBuilder::gpus(2).id(1))
        .submit(JobBuilder::gpus(1).id(2).submitted(Time(1)))
        .submit(JobBuilder::gpus(2).id(3).submitted(Time(2)));
    let d = s.checked_cycle(0);
    assert_eq!(nodes(admitted(&d, 1)), ["a"]);
    assert_eq!(nodes(admitted(&d, 2)), ["b"]);
    waiting(&d, 3);

    let applied = s.apply(Input::NodeRemoved("a".into())).unwrap();
    assert_eq!(applied.requeued, [JobId(1)]);
    assert!(s.running_job(JobId(1)).is_none());
    let pending: Vec<u64> = s.pending().map(|j| j.id.0).collect();
    assert_eq!(pending, [1, 3], "the requeued job keeps its submit time");
    assert_eq!(s.check_invariants(), Ok(()));

    let d = s.checked_cycle(1);
    assert!(matches!(
        waiting(&d, 1),
        WaitReason::NoFlavorFits { misses } if misses[0].miss == Miss::Capacity {
            nodes: 1, most_free_gpus: 0, most_free_milli: alloc_core::MilliGpu(0)
        }
    ));

    s.node(NodeBuilder::new("c", "f", 4));
    let d = s.checked_cycle(2);
    assert_eq!(nodes(admitted(&d, 1)), ["c"]);
    assert_eq!(nodes(admitted(&d, 3)), ["c"]);
}

#[test]
fn removing_a_node_requeues_a_spread_job_from_every_node() {
    let mut s = scheduler(config(8));
    s.node(NodeBuilder::new("a", "f", 2))
        .node(NodeBuilder::new("b", "f", 2))
        .submit(JobBuilder::gpus(4).id(1).spread());
    let d = s.checked_cycle(0);
    assert_eq!(nodes(admitted(&d, 1)), ["a", "b"]);
    let applied = s.apply(Input::NodeRemoved("b".into())).unwrap();
    assert_eq!(applied.requeued, [JobId(1)]);
    assert_eq!(s.ledgers().fleet.node(&"a".into()).unwrap().idle_gpus(), 2);
    assert_eq!(s.check_invariants(), Ok(()));
}

#[test]
fn a_node_that_comes_back_is_a_fresh_node() {
    let mut s = scheduler(config(8));
    s.node(NodeBuilder::new("a", "f", 2));
    s.apply(Input::NodeRemoved("a".into())).unwrap();
    assert_eq!(s.check_invariants(), Ok(()));
    s.node(NodeBuilder::new("a", "f", 2))
        .submit(JobBuilder::gpus(2).id(1));
    admitted(&s.checked_cycle(0), 1);
}

#[test]
fn a_quota_increase_admits_waiting_jobs() {
    let mut s = scheduler(config(1));
    s.node(NodeBuilder::new("n", "f", 4))
        .submit(JobBuilder::gpus(1).id(1))
        .submit(JobBuilder::gpus(1).id(2).submitted(Time(1)));
    let d = s.checked_cycle(0);
    admitted(&d, 1);
    waiting(&d, 2);
    s.apply(Input::QuotaChanged {
        queue: "q".into(),
        flavor: "f".into(),
        resource: Resource::Gpu,
        quota: Quota::nominal(4000),
    })
    .unwrap();
    admitted(&s.checked_cycle(1), 2);
}

#[test]
fn a_quota_cut_lets_running_jobs_run_and_holds_new_ones() {
    let mut s = scheduler(config(4));
    s.node(NodeBuilder::new("n", "f", 4))
        .submit(JobBuilder::gpus(3).id(1));
    admitted(&s.checked_cycle(0), 1);
    s.apply(Input::QuotaChanged {
        queue: "q".into(),
        flavor: "f".into(),
        resource: Resource::Gpu,
        quota: Quota::nominal(2000),
    })
    .unwrap();
    assert!(s.running_job(JobId(1)).is_some());
    let overruns = s.quota_overruns();
    assert_eq!(overruns.len(), 1);
    assert_eq!(overruns[0].scope, QuotaScope::Queue("q".into()));
    assert_eq!((overruns[0].usage, overruns[0].limit), (3000, 2000));
    s.submit(JobBuilder::gpus(1).id(2));
    let d = s.checked_cycle(1);
    assert!(matches!(
        waiting(&d, 2),
        WaitReason::NoFlavorFits { misses } if matches!(misses[0].miss, Miss::Quota { available: 0, .. })
    ));
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    assert!(s.quota_overruns().is_empty());
    admitted(&s.checked_cycle(2), 2);
}

#[test]
fn invalid_quota_changes_are_refused_and_change_nothing() {
    let mut s = scheduler(config(4));
    s.node(NodeBuilder::new("n", "f", 4))
        .submit(JobBuilder::gpus(1).id(1));
    s.checked_cycle(0);
    let before = state(&s);
    let change = |queue: &str, flavor: &str, quota: Quota| Input::QuotaChanged {
        queue: queue.into(),
        flavor: flavor.into(),
        resource: Resource::Gpu,
        quota,
    };
    let lending_above_nominal = Quota {
        nominal: 1000,
        borrowing_limit: None,
        lending_limit: Some(2000),
    };
    let borrowing_without_cohort = Quota {
        nominal: 1000,
        borrowing_limit: Some(1000),
        lending_limit: None,
    };
    for input in [
        change("nope", "f", Quota::nominal(1)),
        change("q", "nope", Quota::nominal(1)),
        change("q", "f", lending_above_nominal),
        change("q", "f", borrowing_without_cohort),
    ] {
        let result = s.apply(input.clone());
        assert!(
            matches!(result, Err(InputError::Config(_))),
            "{input:?} gave {result:?}"
        );
        assert_eq!(state(&s), before, "{input:?} changed the state");
    }
}

#[test]
fn cancelling_a_pending_job_removes_it_and_a_running_one_frees_its_gpus() {
    let mut s = scheduler(config(8));
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::gpus(1).id(1))
        .submit(JobBuilder::gpus(1).id(2).submitted(Time(1)))
        .submit(JobBuilder::gpus(1).id(3).submitted(Time(2)));
    admitted(&s.checked_cycle(0), 1);
    s.apply(Input::JobCancelled(JobId(2))).unwrap();
    s.apply(Input::JobCancelled(JobId(1))).unwrap();
    assert_eq!(s.running().count(), 0);
    let d = s.checked_cycle(1);
    assert_eq!(order(&d), [3]);
    admitted(&d, 3);
    assert_eq!(
        s.apply(Input::JobCancelled(JobId(2))),
        Err(InputError::UnknownJob(JobId(2)))
    );
}

#[test]
fn a_requeued_job_keeps_its_place_in_line() {
    let mut s = scheduler(config(8));
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::gpus(1).id(1).submitted(Time(0)));
    admitted(&s.checked_cycle(0), 1);
    s.submit(JobBuilder::gpus(1).id(2).submitted(Time(5)));
    s.apply(Input::JobRequeued(JobId(1))).unwrap();
    let d = s.checked_cycle(10);
    assert_eq!(order(&d), [1, 2]);
    admitted(&d, 1);
    waiting(&d, 2);
}

#[test]
fn refused_inputs_leave_the_state_unchanged() {
    let mut s = scheduler(config(8));
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::gpus(1).id(1))
        .submit(JobBuilder::gpus(1).id(2).submitted(Time(1)));
    s.checked_cycle(0);
    let before = state(&s);
    let no_model = {
        let mut spec = NodeBuilder::new("m", "f", 2).build();
        spec.gpu_model = None;
        spec
    };
    let unknown_model = NodeBuilder::new("m", "f", 2).model("H100").build();
    let unknown_cluster = {
        let mut spec = NodeBuilder::new("m", "f", 2).build();
        spec.cluster = "mars".into();
        spec
    };
    let cases = [
        (
            Input::JobSubmitted(JobBuilder::gpus(1).id(1).build()),
            InputError::DuplicateJob(JobId(1)),
        ),
        (
            Input::JobSubmitted(JobBuilder::gpus(1).id(2).build()),
            InputError::DuplicateJob(JobId(2)),
        ),
        (
            Input::JobFinished(JobId(2)),
            InputError::NotRunning(JobId(2)),
        ),
        (
            Input::JobRequeued(JobId(2)),
            InputError::NotRunning(JobId(2)),
        ),
        (
            Input::JobFinished(JobId(9)),
            InputError::UnknownJob(JobId(9)),
        ),
        (
            Input::JobRequeued(JobId(9)),
            InputError::UnknownJob(JobId(9)),
        ),
        (
            Input::JobCancelled(JobId(9)),
            InputError::UnknownJob(JobId(9)),
        ),
        (
            Input::NodeRemoved("ghost".into()),
            InputError::UnknownNode("ghost".into()),
        ),
        (
            Input::NodeAdded(NodeBuilder::new("n", "f", 4).build()),
            InputError::DuplicateNode("n".into()),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(s.apply(input.clone()), Err(expected), "{input:?}");
        assert_eq!(state(&s), before, "{input:?} changed the state");
    }
    for spec in [no_model, unknown_model, unknown_cluster] {
        let result = s.apply(Input::NodeAdded(spec.clone()));
        assert!(
            matches!(result, Err(InputError::InvalidNode { .. })),
            "{spec:?} gave {result:?}"
        );
        assert_eq!(state(&s), before, "{spec:?} changed the state");
    }
    // and the scheduler carries on as if nothing happened
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    admitted(&s.checked_cycle(1), 2);
}

#[test]
fn a_job_id_can_be_reused_once_the_job_is_gone() {
    let mut s = scheduler(config(8));
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::gpus(1).id(1));
    s.checked_cycle(0);
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    s.submit(JobBuilder::gpus(1).id(1));
    admitted(&s.checked_cycle(1), 1);
}

#[test]
fn nodes_outside_every_flavor_take_no_work() {
    let mut s = scheduler(config(8));
    s.node(NodeBuilder::new("stray", "unlabelled", 8))
        .submit(JobBuilder::gpus(1).id(1));
    // a public cluster's GPUs are rented through its offers, never listed as nodes
    let cloud = NodeBuilder::new("cloud", "f", 8).public().build();
    let refused = s.apply(Input::NodeAdded(cloud));
    assert!(
        matches!(&refused, Err(InputError::InvalidNode { reason, .. }) if reason.contains("rented through its offers")),
        "{refused:?}"
    );
    let d = s.checked_cycle(0);
    assert!(matches!(
        waiting(&d, 1),
        WaitReason::NoFlavorFits { misses } if matches!(misses[0].miss, Miss::Capacity { nodes: 0, .. })
    ));
}
