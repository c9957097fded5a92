//! The inputs a live controller sends: idempotent upserts of jobs, admissions, quota
//! reservations, nodes and configuration objects, and resyncs that remove what a re-list did
//! not mention; and the changes-only cycle a controller writes check states from.

use crate::strategies::{job_shape, node_shape, world, JobShape, NodeShape, World};
use crate::support::{admitted, decision, scheduler, two_flavors, waiting, Feed};
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    ClusterQueue, Config, ConfigKey, ConfigObject, Decision, Input, InputError, JobId, LocalQueue,
    LocalQueueName, Millis, QueueName, Quota, Scheduler, Tier, Time,
};
use proptest::prelude::*;

fn upsert(s: &mut Scheduler, job: JobBuilder) {
    s.apply(Input::JobUpserted(job.build())).unwrap();
}

fn pending_ids(s: &Scheduler) -> Vec<u64> {
    s.pending().map(|job| job.id.0).collect()
}

#[test]
fn upserting_a_job_twice_is_upserting_it_once() {
    let mut s = two_flavors();
    upsert(&mut s, JobBuilder::gpus(4).id(1));
    let once = s.clone();
    upsert(&mut s, JobBuilder::gpus(4).id(1));
    assert_eq!(pending_ids(&s), [1]);
    assert_eq!(s.decide_all(Time(0)), once.clone().decide_all(Time(0)));
    // and a submitted job is refused twice, as before
    let twice = s.apply(Input::JobSubmitted(JobBuilder::gpus(4).id(1).build()));
    assert_eq!(twice, Err(InputError::DuplicateJob(JobId(1))));
}

#[test]
fn a_changed_pending_spec_replaces_the_old_and_keeps_its_place() {
    let mut s = two_flavors();
    for id in 1..=3 {
        upsert(&mut s, JobBuilder::gpus(4).id(id).submitted(Time(id)));
    }
    // job 2 now asks for one GPU: same priority and submit time, same place in the queue
    upsert(&mut s, JobBuilder::gpus(1).id(2).submitted(Time(2)));
    assert_eq!(pending_ids(&s), [1, 2, 3]);
    let decisions = s.decide_all(Time(10));
    waiting(&decisions, 1);
    assert_eq!(admitted(&decisions, 2).nodes[0].gpus.len(), 1);
}

#[test]
fn a_running_job_keeps_the_spec_it_was_admitted_with() {
    let mut s = two_flavors();
    upsert(&mut s, JobBuilder::gpus(2).id(1));
    admitted(&s.decide_all(Time(0)), 1);
    let ledgers = s.ledgers().clone();
    upsert(&mut s, JobBuilder::gpus(1).id(1));
    assert_eq!(s.ledgers(), &ledgers);
    assert_eq!(
        s.running_job(JobId(1)).map(|r| r.job.gpu.milli().0),
        Some(2_000)
    );
}

#[test]
fn a_restarted_controller_rebuilds_running_jobs_and_decides_as_before() {
    let mut before = two_flavors();
    for id in 1..=5 {
        upsert(
            &mut before,
            JobBuilder::gpus(1 + (id as u32) % 2)
                .id(id)
                .submitted(Time(id)),
        );
    }
    before.decide_all(Time(100));
    // a new process: the same configuration, then the cluster as a re-list shows it
    let mut after = scheduler(before.config().clone());
    after.apply(Input::ResyncStarted).unwrap();
    for node in before.ledgers().fleet.nodes() {
        after
            .apply(Input::NodeUpserted(node.spec.as_ref().clone()))
            .unwrap();
    }
    for running in before.running() {
        let input = Input::JobAdmitted {
            job: running.job.clone(),
            placement: Box::new(running.placement.clone()),
            started: running.started,
        };
        after.apply(input).unwrap();
    }
    for job in before.pending() {
        after.apply(Input::JobUpserted(job.clone())).unwrap();
    }
    after.apply(Input::ResyncFinished).unwrap();
    assert_eq!(after.ledgers(), before.ledgers());
    after.check_invariants().unwrap();
    // an admission the core made itself, reported back, changes nothing
    let again = before.running().next().map(|running| Input::JobAdmitted {
        job: running.job.clone(),
        placement: Box::new(running.placement.clone()),
        started: running.started,
    });
    after.apply(again.unwrap()).unwrap();
    assert_eq!(after.ledgers(), before.ledgers());
    before.apply(Input::JobFinished(JobId(1))).unwrap();
    after.apply(Input::JobFinished(JobId(1))).unwrap();
    assert_eq!(after.decide_all(Time(200)), before.decide_all(Time(200)));
}

#[test]
fn an_admission_that_does_not_fit_is_refused_and_changes_nothing() {
    let mut s = two_flavors();
    upsert(&mut s, JobBuilder::gpus(2).id(1));
    let placement = admitted(&s.decide_all(Time(0)), 1).clone();
    let ledgers = s.ledgers().clone();
    // job 2 claims the GPUs job 1 holds
    let refused = s.apply(Input::JobAdmitted {
        job: JobBuilder::gpus(2).id(2).build(),
        placement: Box::new(placement),
        started: Time(0),
    });
    assert!(
        matches!(&refused, Err(InputError::InvalidPlacement { job, reason })
            if *job == JobId(2) && reason.contains("GPU 0 has 0 milli-GPU")),
        "{refused:?}"
    );
    assert_eq!(s.ledgers(), &ledgers);
    assert!(s.running_job(JobId(2)).is_none());
}

#[test]
fn a_quota_reservation_confines_the_job_to_its_flavor() {
    let mut s = two_flavors();
    upsert(&mut s, JobBuilder::gpus(1).id(1));
    let reserve = |flavor: Option<&str>| Input::QuotaReserved {
        job: JobId(1),
        flavor: flavor.map(alloc_core::FlavorName::new),
    };
    s.apply(reserve(Some("b"))).unwrap();
    s.apply(reserve(Some("b"))).unwrap();
    let on_b = s.clone().decide_all(Time(0));
    assert_eq!(admitted(&on_b, 1).flavor.as_str(), "b");
    // released: the queue's order again, and the job as it was submitted
    s.apply(reserve(None)).unwrap();
    let on_a = s.decide_all(Time(0));
    assert_eq!(admitted(&on_a, 1).flavor.as_str(), "a");
    assert_eq!(s.running_job(JobId(1)).unwrap().job.allowed_flavors, None);
}

#[test]
fn a_changed_node_keeps_the_jobs_that_still_fit_and_requeues_the_rest() {
    let mut s = two_flavors();
    upsert(&mut s, JobBuilder::gpus(1).id(1));
    upsert(&mut s, JobBuilder::gpus(1).id(2));
    s.decide_all(Time(0));
    let on_a: Vec<u64> = s
        .running()
        .filter(|r| r.placement.nodes[0].node.as_str() == "node-a")
        .map(|r| r.job.id.0)
        .collect();
    assert_eq!(on_a, [1, 2]);
    // the same node again: nothing happens
    let same = NodeBuilder::new("node-a", "a", 2).build();
    assert_eq!(s.apply(Input::NodeUpserted(same)).unwrap().requeued, []);
    // more memory keeps both; one GPU fewer requeues the job on GPU 1
    let bigger = NodeBuilder::new("node-a", "a", 2).memory(64 * 1024).build();
    assert_eq!(s.apply(Input::NodeUpserted(bigger)).unwrap().requeued, []);
    let smaller = NodeBuilder::new("node-a", "a", 1).memory(64 * 1024).build();
    let applied = s.apply(Input::NodeUpserted(smaller)).unwrap();
    assert_eq!(applied.requeued.len(), 1);
    assert_eq!(s.running().count(), 1);
    s.check_invariants().unwrap();
}

#[test]
fn a_node_that_shrinks_below_its_jobs_requeues_them_without_overbooking() {
    let mut s = two_flavors();
    upsert(&mut s, JobBuilder::gpus(1).id(1).cpu(2_000));
    upsert(&mut s, JobBuilder::gpus(1).id(2).cpu(2_000));
    s.decide_all(Time(0));
    // room for one job's CPU only: the first by id stays, the second goes back to pending
    let small = NodeBuilder::new("node-a", "a", 2).cpu(3_000).build();
    let applied = s.apply(Input::NodeUpserted(small)).unwrap();
    assert_eq!(applied.requeued, [JobId(2)]);
    assert_eq!(pending_ids(&s), [2]);
    let node = s
        .ledgers()
        .fleet
        .node(&alloc_core::NodeName::new("node-a"))
        .unwrap();
    assert_eq!(node.free_cpu.0, 1_000);
    s.check_invariants().unwrap();
}

#[test]
fn objects_are_upserted_once_and_removed_only_when_unused() {
    let mut s = two_flavors();
    let queue = ClusterQueue {
        name: QueueName::new("r"),
        ..s.config().cluster_queues[&QueueName::new("q")].clone()
    };
    let local = LocalQueue {
        name: LocalQueueName::new("r"),
        cluster_queue: QueueName::new("r"),
    };
    for _ in 0..2 {
        s.apply(Input::ObjectUpserted(ConfigObject::ClusterQueue(
            queue.clone(),
        )))
        .unwrap();
        s.apply(Input::ObjectUpserted(ConfigObject::LocalQueue(
            local.clone(),
        )))
        .unwrap();
    }
    upsert(&mut s, JobBuilder::gpus(1).id(1).queue("r"));
    admitted(&s.decide_all(Time(0)), 1);
    let key = ConfigKey::LocalQueue(LocalQueueName::new("r"));
    assert_eq!(
        s.apply(Input::ObjectRemoved(key.clone())),
        Err(InputError::InUse {
            object: key.clone(),
            job: JobId(1)
        })
    );
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    s.apply(Input::ObjectRemoved(key.clone())).unwrap();
    assert_eq!(
        s.apply(Input::ObjectRemoved(key.clone())),
        Err(InputError::UnknownObject(key))
    );
    // a ClusterQueue a LocalQueue still names is a configuration error, named
    let named = s.apply(Input::ObjectRemoved(ConfigKey::ClusterQueue(
        QueueName::new("q"),
    )));
    assert!(matches!(named, Err(InputError::Config(_))), "{named:?}");
}

#[test]
fn a_resync_removes_what_it_did_not_mention() {
    let mut s = two_flavors();
    upsert(&mut s, JobBuilder::gpus(2).id(1));
    upsert(&mut s, JobBuilder::gpus(2).id(2));
    upsert(&mut s, JobBuilder::gpus(2).id(3));
    s.decide_all(Time(0));
    let running: Vec<JobId> = s.running().map(|r| r.job.id).collect();
    assert_eq!(running, [JobId(1), JobId(2)]);
    s.apply(Input::ResyncStarted).unwrap();
    s.apply(Input::NodeUpserted(
        NodeBuilder::new("node-a", "a", 2).build(),
    ))
    .unwrap();
    let kept = s.running_job(JobId(1)).unwrap();
    let input = Input::JobAdmitted {
        job: kept.job.clone(),
        placement: Box::new(kept.placement.clone()),
        started: kept.started,
    };
    s.apply(input).unwrap();
    for object in [
        ConfigObject::Flavor(s.config().flavors[&alloc_core::FlavorName::new("a")].clone()),
        ConfigObject::Flavor(s.config().flavors[&alloc_core::FlavorName::new("b")].clone()),
        ConfigObject::ClusterQueue(s.config().cluster_queues[&QueueName::new("q")].clone()),
        ConfigObject::LocalQueue(s.config().local_queues[&LocalQueueName::new("q")].clone()),
    ] {
        s.apply(Input::ObjectUpserted(object)).unwrap();
    }
    let applied = s.apply(Input::ResyncFinished).unwrap();
    // job 2 ran on node-b and job 3 waited: neither was mentioned; node-b neither
    assert_eq!(applied.removed, [JobId(2), JobId(3)]);
    assert_eq!(s.ledgers().fleet.len(), 1);
    assert_eq!(pending_ids(&s), Vec::<u64>::new());
    assert!(s.running_job(JobId(1)).is_some());
    s.check_invariants().unwrap();
}

#[test]
fn a_failed_admission_returns_the_job_to_its_place() {
    let mut s = two_flavors();
    for id in 1..=4 {
        upsert(&mut s, JobBuilder::gpus(2).id(id).submitted(Time(id)));
    }
    s.decide_all(Time(10));
    assert_eq!(pending_ids(&s), [3, 4]);
    s.apply(Input::JobRequeued(JobId(1))).unwrap();
    assert_eq!(pending_ids(&s), [1, 3, 4]);
}

#[test]
fn the_cycle_reports_only_changes_and_when_the_clock_could_change_one() {
    let config = ConfigBuilder::new()
        .private_flavor("v100", Tier::Silver)
        .offer("cloud-t4", Tier::Silver, "T4", 1, 5, 8)
        .queue(
            "q",
            &[
                ("v100", Quota::nominal(8_000)),
                ("cloud-t4", Quota::nominal(8_000)),
            ],
        )
        .tenant("lab", None, None)
        .build();
    let mut s =
        Scheduler::new(config, alloc_core::Policy::preset("tiered-burst").unwrap()).unwrap();
    s.node(NodeBuilder::new("n", "v100", 1))
        .submit(
            JobBuilder::gpus(1)
                .id(1)
                .user("alice", "lab")
                .tier(Tier::Silver),
        )
        .submit(
            JobBuilder::gpus(1)
                .id(2)
                .user("alice", "lab")
                .tier(Tier::Silver)
                .burstable(),
        );
    let first = s.cycle(Time(0));
    assert_eq!(first.changes.len(), 2, "{:?}", first.changes);
    // job 1, started now, could be a preemption victim a moment from now
    assert_eq!(first.next_change, Some(Time(1)));
    let quiet = s.cycle(Time(60_000));
    assert_eq!(quiet.changes, []);
    // job 1 would lose more than the policy's 5 minutes if evicted from then on
    let protected = Time(Millis::minutes(5).0 + 1);
    assert_eq!(quiet.next_change, Some(protected));
    let quiet = s.cycle(protected);
    assert_eq!(quiet.changes, []);
    // job 2 may burst once it has waited the policy's 30 minutes
    let may_burst = Time(Millis::minutes(30).0);
    assert_eq!(quiet.next_change, Some(may_burst));
    assert_eq!(s.cycle(Time(may_burst.0 - 1)).changes, []);
    let burst = s.cycle(may_burst);
    assert!(matches!(burst.changes.as_slice(), [Decision::Admit { job, .. }] if *job == JobId(2)));
    // the waiting job's answer is told again only when it changes
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    s.submit(
        JobBuilder::gpus(1)
            .id(3)
            .user("alice", "lab")
            .tier(Tier::Silver),
    );
    let next = s.cycle(Time(Millis::minutes(31).0));
    assert!(matches!(decision(&next.changes, 3), Decision::Admit { .. }));
}

/// A re-list replayed with every object upserted twice leaves the scheduler as one that was
/// told each thing once: the same ledgers and the same decisions.
fn replay_twice(
    world: &World,
    nodes: &[NodeShape],
    jobs: &[JobShape],
) -> Result<(), TestCaseError> {
    let new = |config: &Config| Scheduler::new(config.clone(), world.policy.clone());
    let (Ok(mut once), Ok(mut twice)) = (new(&world.config), new(&world.config)) else {
        return Ok(());
    };
    for (i, node) in world.nodes.iter().chain(nodes).enumerate() {
        let spec = node.spec(format!("n{i}"), &world.config);
        once.apply(Input::NodeAdded(spec.clone())).unwrap();
        for _ in 0..2 {
            twice.apply(Input::NodeUpserted(spec.clone())).unwrap();
        }
    }
    for (i, shape) in jobs.iter().enumerate() {
        let job = shape.job(i as u64 + 1, Time(i as u64), &world.config);
        once.apply(Input::JobSubmitted(job.clone())).unwrap();
        for _ in 0..2 {
            twice.apply(Input::JobUpserted(job.clone())).unwrap();
        }
    }
    let now = Time(jobs.len() as u64 + 1);
    prop_assert_eq!(once.decide_all(now), twice.decide_all(now));
    // the controller sees its own admissions come back, and everything else again
    let running: Vec<_> = twice.running().cloned().collect();
    let pending: Vec<_> = twice.pending().cloned().collect();
    twice.apply(Input::ResyncStarted).unwrap();
    for node in once.ledgers().fleet.nodes() {
        twice
            .apply(Input::NodeUpserted(node.spec.as_ref().clone()))
            .unwrap();
    }
    for running in running {
        let input = Input::JobAdmitted {
            job: running.job,
            placement: Box::new(running.placement),
            started: running.started,
        };
        twice.apply(input).unwrap();
    }
    for job in pending {
        twice.apply(Input::JobUpserted(job)).unwrap();
    }
    for object in objects(&world.config) {
        twice.apply(Input::ObjectUpserted(object)).unwrap();
    }
    twice.apply(Input::ResyncFinished).unwrap();
    prop_assert_eq!(once.ledgers(), twice.ledgers());
    let later = Time(now.0 + 60_000);
    prop_assert_eq!(once.decide_all(later), twice.decide_all(later));
    Ok(())
}

/// Every watched object of `config`.
fn objects(config: &Config) -> Vec<ConfigObject> {
    let flavors = config.flavors.values().cloned().map(ConfigObject::Flavor);
    let cluster = config
        .cluster_queues
        .values()
        .cloned()
        .map(ConfigObject::ClusterQueue);
    let local = config
        .local_queues
        .values()
        .cloned()
        .map(ConfigObject::LocalQueue);
    let cohorts = config.cohorts.values().cloned().map(ConfigObject::Cohort);
    flavors.chain(cluster).chain(local).chain(cohorts).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn upserts_and_resyncs_are_idempotent(
        world in world(),
        nodes in proptest::collection::vec(node_shape(), 0..3),
        jobs in proptest::collection::vec(job_shape(), 1..16),
    ) {
        replay_twice(&world, &nodes, &jobs)?;
    }
}
