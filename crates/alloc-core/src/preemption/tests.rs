//! Unit tests: what an eviction costs, and who ranks below whom.
#![allow(clippy::unwrap_used)]

use super::rank::VictimCost;
use super::{Evictable, PreemptionPolicy, ReclaimWithinCohort, WithinClusterQueue};
use crate::decision::Decision;
use crate::ids::{JobId, QueueName};
use crate::input::Input;
use crate::model::{Job, Quota, Tier};
use crate::policy::Policy;
use crate::running::Running;
use crate::scheduler::Scheduler;
use crate::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use crate::units::{Millis, Time};

const MIN: u64 = 60_000;

fn running(job: Job, started: u64) -> Running {
    let mut scheduler = Scheduler::new(
        ConfigBuilder::new()
            .private_flavor("f", Tier::Bronze)
            .queue("q", &[("f", Quota::nominal(64_000))])
            .build(),
        Policy::default(),
    )
    .unwrap();
    scheduler
        .apply(Input::NodeAdded(NodeBuilder::new("n", "f", 8).build()))
        .unwrap();
    let id = job.id;
    scheduler.apply(Input::JobSubmitted(job)).unwrap();
    scheduler.decide_all(Time(started));
    scheduler.running_job(id).unwrap().clone()
}

#[test]
fn cost_counts_work_since_the_last_checkpoint_plus_restore_times_gpus() {
    let mut job = JobBuilder::gpus(2).runtime(Millis::hours(2)).build();
    job.checkpoint_interval = Some(Millis::minutes(10));
    job.restore_cost = Millis::minutes(1);
    let cost = VictimCost::of(&running(job, 0), Time(25 * MIN), false);
    assert_eq!(cost.lost, Millis::minutes(5));
    assert_eq!(cost.gpu_milli_ms, 2_000 * u128::from(6 * MIN));
    // kept 20 minutes of 120: 100 left, after a minute's restore
    assert_eq!(cost.resumed_end, Time((25 + 1 + 100) * MIN));
}

#[test]
fn without_checkpoints_everything_since_the_start_is_lost() {
    let job = JobBuilder::fraction(500, 1_024)
        .runtime(Millis::hours(1))
        .build();
    let cost = VictimCost::of(&running(job, 10 * MIN), Time(40 * MIN), false);
    assert_eq!(cost.lost, Millis::minutes(30));
    assert_eq!(cost.gpu_milli_ms, 500 * u128::from(30 * MIN));
    assert_eq!(cost.resumed_end, Time(100 * MIN));
    // CPU-only work still costs something, as one milli-GPU
    let cpu = VictimCost::of(
        &running(JobBuilder::cpu_only().build(), 0),
        Time(MIN),
        false,
    );
    assert_eq!(cpu.gpu_milli_ms, u128::from(MIN));
}

/// Queues `a` and `b` in one cohort, 4 GPUs nominal each on flavor `f`, one 8-GPU node; the
/// given jobs are admitted at t=0 (in queue order), then `pending` is submitted.
fn world(policy: PreemptionPolicy, jobs: Vec<Job>) -> Scheduler {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue_in_cohort("a", "c", &[("f", Quota::nominal(4_000))])
        .queue_in_cohort("b", "c", &[("f", Quota::nominal(4_000))])
        .build();
    let policy = Policy {
        preemption: PreemptionPolicy {
            enabled: true,
            ..policy
        },
        ..Policy::default()
    };
    let mut s = Scheduler::new(config, policy).unwrap();
    s.apply(Input::NodeAdded(NodeBuilder::new("n", "f", 8).build()))
        .unwrap();
    for job in jobs {
        s.apply(Input::JobSubmitted(job)).unwrap();
    }
    s.decide_all(Time(0));
    s
}

/// Whether running `victim` ranks below `preemptor` at t=1min.
fn ranks(s: &Scheduler, victim: u64, preemptor: &Job) -> bool {
    let queue = s.config.local_queues[&preemptor.queue]
        .cluster_queue
        .clone();
    let queue = &s.config.cluster_queues[&queue];
    let running = &s.running[&JobId(victim)];
    let borrowing = || {
        let placement = &running.placement;
        s.view().borrowing(
            s.ledgers.quota.of(&placement.queue, &placement.flavor),
            &placement.queue,
            &placement.flavor,
            &preemptor.quota_usage(),
        )
    };
    s.view()
        .ranks_below(running, preemptor, queue, borrowing, Time(MIN))
        .is_some()
}

fn job(id: u64, queue: &str, priority: i32, submitted: u64) -> Job {
    JobBuilder::gpus(1)
        .id(id)
        .queue(queue)
        .priority(priority)
        .submitted(Time(submitted))
        .build()
}

#[test]
fn within_the_queue_the_policy_decides_between_lower_and_newer_equal_priority() {
    let jobs = vec![job(1, "a", 0, 0), job(2, "a", 1, 50), job(3, "a", 2, 0)];
    let preemptor = job(9, "a", 1, 10);
    let lower = world(PreemptionPolicy::default(), jobs.clone());
    assert!(ranks(&lower, 1, &preemptor), "lower priority");
    assert!(!ranks(&lower, 2, &preemptor), "equal priority");
    assert!(!ranks(&lower, 3, &preemptor), "higher priority");
    let newer = world(
        PreemptionPolicy {
            within_cluster_queue: WithinClusterQueue::LowerOrNewerEqualPriority,
            ..PreemptionPolicy::default()
        },
        jobs.clone(),
    );
    assert!(ranks(&newer, 1, &preemptor));
    assert!(
        ranks(&newer, 2, &preemptor),
        "equal priority, submitted later"
    );
    let older_preemptor = job(9, "a", 1, 60);
    assert!(!ranks(&newer, 2, &older_preemptor), "equal priority, older");
    assert!(!ranks(&newer, 3, &preemptor));
    let never = world(
        PreemptionPolicy {
            within_cluster_queue: WithinClusterQueue::Never,
            ..PreemptionPolicy::default()
        },
        jobs,
    );
    assert!(!ranks(&never, 1, &preemptor));
}

#[test]
fn reclaim_takes_only_from_queues_borrowing_on_the_flavor() {
    // b runs 5 GPUs (one borrowed); a runs 1 (within nominal)
    let mut jobs: Vec<Job> = (1..=5).map(|id| job(id, "b", 0, 0)).collect();
    jobs.push(job(6, "a", 0, 0));
    let any = world(PreemptionPolicy::default(), jobs.clone());
    let from_a = job(9, "a", 0, 10);
    assert!(ranks(&any, 1, &from_a), "b borrows: any of its jobs");
    let from_b = job(9, "b", 5, 10);
    assert!(!ranks(&any, 6, &from_b), "a is within its nominal quota");
    let lower = world(
        PreemptionPolicy {
            reclaim_within_cohort: ReclaimWithinCohort::LowerPriority,
            ..PreemptionPolicy::default()
        },
        jobs.clone(),
    );
    assert!(!ranks(&lower, 1, &from_a), "same priority");
    assert!(ranks(&lower, 1, &job(9, "a", 1, 10)));
    let never = world(
        PreemptionPolicy {
            reclaim_within_cohort: ReclaimWithinCohort::Never,
            ..PreemptionPolicy::default()
        },
        jobs,
    );
    assert!(!ranks(&never, 1, &job(9, "a", 1, 10)));
}

#[test]
fn a_job_started_now_or_the_job_itself_is_never_a_victim() {
    let s = world(PreemptionPolicy::default(), vec![job(1, "a", 0, 0)]);
    let queue = &s.config.cluster_queues[&QueueName::new("a")];
    let running = &s.running[&JobId(1)];
    let preemptor = job(9, "a", 1, 0);
    assert!(s
        .view()
        .ranks_below(running, &preemptor, queue, || true, Time(0))
        .is_none());
    assert!(s
        .view()
        .ranks_below(running, &running.job, queue, || true, Time(MIN))
        .is_none());
}

#[test]
fn a_victim_that_would_miss_its_deadline_is_protected_unless_the_policy_allows() {
    let mut tight = job(1, "a", 0, 0);
    tight.runtime = Millis::minutes(30);
    tight.deadline = Some(Time(40 * MIN)); // evicted at 1 min: 1 + 30 ≤ 40, still meets it
    let mut tighter = job(2, "a", 0, 0);
    tighter.runtime = Millis::minutes(30);
    tighter.deadline = Some(Time(30 * MIN)); // 1 + 30 > 30: would miss
    let s = world(PreemptionPolicy::default(), vec![tight, tighter]);
    let preemptor = job(9, "a", 1, 0);
    assert!(ranks(&s, 1, &preemptor));
    assert!(!ranks(&s, 2, &preemptor));
    let mut allowing = s.clone();
    allowing.policy.preemption.allow_deadline_misses = true;
    assert!(ranks(&allowing, 2, &preemptor));
}

#[test]
fn disabled_preemption_decides_nothing() {
    let mut s = world(
        PreemptionPolicy::default(),
        (1..=8).map(|id| job(id, "a", 0, 0)).collect(),
    );
    s.policy.preemption.enabled = false;
    s.apply(Input::JobSubmitted(job(9, "a", 5, 0))).unwrap();
    let decisions = s.decide_all(Time(MIN));
    assert!(
        matches!(decisions[0], Decision::Wait { .. }),
        "{decisions:?}"
    );
}

/// Pruning (`prune`) turns a flavor down only where the full search would find no way to
/// make room, and finds no victims only where the search finds nobody ranked below the job,
/// whatever the quotas, the running jobs (priorities, queues, deadlines) and the policy.
mod pruning {
    use super::*;
    use crate::model::Flavor;
    use crate::preemption::prune::Prospect;
    use crate::preemption::refusals::Reach;
    use crate::preemption::search::Search;
    use proptest::prelude::*;

    /// Test 3 reads the quota the preemptor's own candidates release: here that brings its
    /// queue back within nominal quota, so a set may also take a reclaim victim, and one
    /// does make room. (Queue `a` holds 1 GPU of its 2; `b` holds 3 of its 2, borrowing the
    /// last free GPU; `a` asks for 2 more at a higher priority.)
    #[test]
    fn test_3_counts_what_the_own_candidates_release() {
        let quota = Quota {
            nominal: 2_000,
            borrowing_limit: None,
            lending_limit: None,
        };
        let config = ConfigBuilder::new()
            .private_flavor("f", Tier::Bronze)
            .queue_in_cohort("a", "c", &[("f", quota)])
            .queue_in_cohort("b", "c", &[("f", quota)])
            .build();
        let preemption = PreemptionPolicy {
            enabled: true,
            within_cluster_queue: WithinClusterQueue::LowerPriority,
            reclaim_within_cohort: ReclaimWithinCohort::LowerPriority,
            ..PreemptionPolicy::default()
        };
        let policy = Policy {
            preemption,
            ..Policy::default()
        };
        let mut s = Scheduler::new(config, policy).unwrap();
        let node = NodeBuilder::new("n1", "f", 4).cpu(8_000).build();
        s.apply(Input::NodeAdded(node)).unwrap();
        for (id, queue) in [(1, "a"), (2, "b"), (3, "b"), (4, "b")] {
            let job = JobBuilder::gpus(1).id(id).queue(queue).cpu(1_000).build();
            s.apply(Input::JobSubmitted(job)).unwrap();
        }
        s.decide_all(Time(0));
        assert_eq!(s.running().count(), 4, "the fleet is full");
        let job = JobBuilder::gpus(2)
            .id(100)
            .queue("a")
            .priority(1)
            .cpu(1_000)
            .submitted(Time(MIN))
            .build();
        let queue = &s.config.cluster_queues[&QueueName::new("a")];
        let flavor: &Flavor = &s.config.flavors[&crate::ids::FlavorName::new("f")];
        let now = Time(2 * MIN);
        let view = s.view();
        let prospect = view.prospect_on(&job, queue, flavor, &mut Evictable::default(), now);
        assert!(matches!(prospect, Prospect::Open(_)), "{prospect:?}");
        let search = s.view().preempt_unpruned(&job, queue, &[flavor], now);
        assert!(matches!(search, Search::Found(_)), "no room was made");
    }

    /// A running job to be: queue `a` or `b`, priority, GPUs, CPU and a deadline (minutes)
    /// that may protect it.
    type Runner = (bool, i32, u32, u64, Option<u64>);

    fn runner() -> impl Strategy<Value = Runner> {
        (
            any::<bool>(),
            0..3i32,
            1..=3u32,
            1..=4u64,
            proptest::option::of(1..=180u64),
        )
    }

    fn quota() -> impl Strategy<Value = Quota> {
        (
            0..=8u64,
            proptest::option::of(0..=4u64),
            proptest::option::of(0..=4u64),
        )
            .prop_map(|(nominal, borrowing, lending)| Quota {
                nominal: nominal * 1_000,
                borrowing_limit: borrowing.map(|gpus| gpus * 1_000),
                lending_limit: lending.map(|gpus| gpus.min(nominal) * 1_000),
            })
    }

    fn policy() -> impl Strategy<Value = PreemptionPolicy> {
        let within = prop_oneof![
            Just(WithinClusterQueue::Never),
            Just(WithinClusterQueue::LowerPriority),
            Just(WithinClusterQueue::LowerOrNewerEqualPriority),
        ];
        let reclaim = prop_oneof![
            Just(ReclaimWithinCohort::Never),
            Just(ReclaimWithinCohort::LowerPriority),
            Just(ReclaimWithinCohort::Any),
        ];
        (within, reclaim, any::<bool>()).prop_map(|(within, reclaim, misses)| PreemptionPolicy {
            enabled: true,
            within_cluster_queue: within,
            reclaim_within_cohort: reclaim,
            allow_deadline_misses: misses,
            ..PreemptionPolicy::default()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn pruning_agrees_with_the_unpruned_search(
            quota_a in quota(),
            quota_b in quota(),
            runners in proptest::collection::vec(runner(), 0..12),
            preemptor in (any::<bool>(), 0..4i32, 1..=6u32, 1..=8u64),
            preemption in policy(),
        ) {
            let config = ConfigBuilder::new()
                .private_flavor("f", Tier::Bronze)
                .queue_in_cohort("a", "c", &[("f", quota_a)])
                .queue_in_cohort("b", "c", &[("f", quota_b)])
                .build();
            let policy = Policy { preemption, ..Policy::default() };
            let mut s = Scheduler::new(config, policy).unwrap();
            for node in ["n1", "n2"] {
                s.apply(Input::NodeAdded(NodeBuilder::new(node, "f", 4).cpu(8_000).build()))
                    .unwrap();
            }
            let queue_of = |in_a: bool| if in_a { "a" } else { "b" };
            for (id, (in_a, priority, gpus, cpu, deadline)) in runners.into_iter().enumerate() {
                let mut job = JobBuilder::gpus(gpus)
                    .id(id as u64 + 1)
                    .queue(queue_of(in_a))
                    .priority(priority)
                    .cpu(cpu * 1_000)
                    .runtime(Millis::hours(1))
                    .build();
                job.deadline = deadline.map(|minutes| Time(minutes * MIN));
                s.apply(Input::JobSubmitted(job)).unwrap();
            }
            s.decide_all(Time(0));
            let (in_a, priority, gpus, cpu) = preemptor;
            let job = JobBuilder::gpus(gpus)
                .id(100)
                .queue(queue_of(in_a))
                .priority(priority)
                .cpu(cpu * 1_000)
                .submitted(Time(MIN))
                .build();
            let queue = &s.config.cluster_queues[&QueueName::new(queue_of(in_a))];
            let flavor: &Flavor = &s.config.flavors[&crate::ids::FlavorName::new("f")];
            let search = s.view().preempt_unpruned(&job, queue, &[flavor], Time(2 * MIN));
            match s.view().prospect_on(&job, queue, flavor, &mut Evictable::default(), Time(2 * MIN)) {
                Prospect::Hopeless => prop_assert!(
                    !matches!(search, Search::Found(_)),
                    "turned down, yet room was made"
                ),
                Prospect::NoVictims => prop_assert!(
                    matches!(search, Search::Refused(Reach::AnySize)),
                    "no victims, yet some job ranked below"
                ),
                Prospect::Open(_) => {}
            }
        }
    }
}
