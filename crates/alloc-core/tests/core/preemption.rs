//! Preemption: whom a job that cannot fit may evict (Kueue's withinClusterQueue and
//! reclaimWithinCohort), deadline protection, the cheapest and minimal victim set, and — as a
//! property over generated histories — that victims always rank below their preemptor.

use crate::properties::run_history;
use crate::strategies::{
    history_with_extras, job_shape, preemption_policy, world_with_preemption, NodeShape, Step,
    World,
};
use crate::support::*;
use alloc_core::preemption::{PreemptionPolicy, ReclaimWithinCohort, WithinClusterQueue};
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    Config, Decision, FlavorName, GpuRequest, Input, Job, JobId, Millis, Placement, Policy,
    QueueName, Quota, Resource, ResourceAmounts, Scheduler, Tier, Time, WaitReason, WhenCanPreempt,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet};

const MIN: u64 = 60_000;

fn policy(preemption: PreemptionPolicy) -> Policy {
    Policy {
        preemption: PreemptionPolicy {
            enabled: true,
            ..preemption
        },
        ..Policy::default()
    }
}

fn preempting(config: Config) -> Scheduler {
    scheduler_with(config, policy(PreemptionPolicy::default()))
}

/// One flavor `f`, queue `q` with `gpus` of quota.
fn one_queue(gpus: u64) -> Config {
    ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(gpus * 1000))])
        .build()
}

fn submit(s: &mut Scheduler, job: Job) {
    s.apply(Input::JobSubmitted(job)).unwrap();
}

/// A job that checkpoints every `interval` minutes and restores in `restore` minutes.
fn checkpointing(builder: JobBuilder, interval: u64, restore: u64) -> Job {
    let mut job = builder.build();
    job.checkpoint_interval = Some(Millis::minutes(interval));
    job.restore_cost = Millis::minutes(restore);
    job
}

fn preempted(decisions: &[Decision], id: u64) -> (&Placement, Vec<u64>) {
    match decision(decisions, id) {
        Decision::Preempt {
            placement, victims, ..
        } => (placement, victims.iter().map(|v| v.0).collect()),
        other => panic!("job {id} did not preempt: {other}"),
    }
}

fn is_pending(s: &Scheduler, id: u64) -> bool {
    s.pending().any(|j| j.id == JobId(id))
}

#[test]
fn a_higher_priority_job_evicts_a_lower_priority_one_and_the_victim_waits_again() {
    let mut s = preempting(one_queue(8));
    s.node(NodeBuilder::new("n", "f", 4))
        .submit(JobBuilder::gpus(4).id(1));
    admitted(&s.checked_cycle(0), 1);
    s.submit(JobBuilder::gpus(2).id(2).priority(1));
    let decisions = s.checked_cycle(MIN);
    let (placement, victims) = preempted(&decisions, 2);
    assert_eq!(victims, [1]);
    assert_eq!(nodes(placement), ["n"]);
    assert_eq!(
        decision(&decisions, 2).to_string(),
        "job 2: preempts job 1, which ranks below it and resumes from its last checkpoint, \
         and starts once it has stopped: flavor f (BRONZE) in cluster private on node n GPU \
         0,1, within queue q's nominal quota"
    );
    // the victim keeps its GPUs until the shell stops it, and the preemptor waits for that
    assert_eq!(
        s.running_job(JobId(1))
            .and_then(|r| r.evicting)
            .map(|e| e.by),
        Some(JobId(2))
    );
    assert_eq!(
        decision(&s.checked_cycle(MIN + 1), 2).to_string(),
        "job 2: waits: the jobs it preempted are stopping: job 1; would start once they have \
         stopped"
    );
    s.stop_victims(&decisions);
    assert!(is_pending(&s, 1));
    assert_eq!(nodes(admitted(&s.checked_cycle(MIN + 2), 2)), ["n"]);
    // the victim waits for room, and starts again once the preemptor is done
    waiting(&s.checked_cycle(2 * MIN), 1);
    s.apply(Input::JobFinished(JobId(2))).unwrap();
    admitted(&s.checked_cycle(3 * MIN), 1);
}

#[test]
fn never_a_job_of_equal_or_higher_priority() {
    let mut s = preempting(one_queue(8));
    s.node(NodeBuilder::new("n", "f", 2))
        .submit(JobBuilder::gpus(1).id(1).priority(1))
        .submit(JobBuilder::gpus(1).id(2).priority(2));
    s.checked_cycle(0);
    s.submit(JobBuilder::gpus(1).id(3).priority(1));
    waiting(&s.checked_cycle(MIN), 3);
}

#[test]
fn preemption_is_off_by_default() {
    let mut s = scheduler(one_queue(8));
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::gpus(1).id(1));
    s.checked_cycle(0);
    s.submit(JobBuilder::gpus(1).id(2).priority(9));
    waiting(&s.checked_cycle(MIN), 2);
}

#[test]
fn lower_or_newer_equal_priority_takes_a_later_submitted_job_of_the_same_priority() {
    let run = |within: WithinClusterQueue| {
        let mut s = scheduler_with(
            one_queue(8),
            policy(PreemptionPolicy {
                within_cluster_queue: within,
                ..PreemptionPolicy::default()
            }),
        );
        s.node(NodeBuilder::new("n", "f", 1))
            .submit(JobBuilder::gpus(1).id(1).submitted(Time(500)));
        s.checked_cycle(1_000);
        // submitted earlier than the running job (it arrives late through the shell)
        s.submit(JobBuilder::gpus(1).id(2).submitted(Time(100)));
        s.checked_cycle(MIN)
    };
    assert_eq!(
        preempted(&run(WithinClusterQueue::LowerOrNewerEqualPriority), 2).1,
        [1]
    );
    waiting(&run(WithinClusterQueue::LowerPriority), 2);
}

/// Queues `a` and `b` share cohort `c`, 4 GPUs nominal each, on one 8-GPU node.
fn cohort(preemption: PreemptionPolicy) -> Scheduler {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue_in_cohort("a", "c", &[("f", Quota::nominal(4_000))])
        .queue_in_cohort("b", "c", &[("f", Quota::nominal(4_000))])
        .build();
    let mut s = scheduler_with(config, policy(preemption));
    s.node(NodeBuilder::new("n", "f", 8));
    s
}

#[test]
fn reclaim_within_cohort_takes_from_a_borrowing_queue_but_not_from_one_within_nominal() {
    // only reclaim: no queue evicts its own jobs here
    let mut s = cohort(PreemptionPolicy {
        within_cluster_queue: WithinClusterQueue::Never,
        ..PreemptionPolicy::default()
    });
    // b borrows two of a's GPUs while a is idle; then a runs two jobs of its own
    for id in 1..=6 {
        s.submit(JobBuilder::gpus(1).id(id).queue("b").submitted(Time(id)));
    }
    s.checked_cycle(0);
    for id in 7..=8 {
        s.submit(JobBuilder::gpus(1).id(id).queue("a"));
    }
    s.checked_cycle(MIN);
    assert_eq!(s.running().count(), 8);
    // a wants its quota back: equal priority is enough, b is borrowing
    s.submit(JobBuilder::gpus(2).id(9).queue("a"));
    let decisions = s.checked_cycle(2 * MIN);
    let (placement, victims) = preempted(&decisions, 9);
    assert!(!placement.borrowing, "a reclaims within its nominal quota");
    assert_eq!(victims.len(), 2);
    assert!(victims.iter().all(|v| (1..=6).contains(v)));
    // b is back at its nominal quota; a is within its own: b cannot take anything back, even
    // for a job of higher priority
    s.submit(JobBuilder::gpus(1).id(10).queue("b").priority(5));
    waiting(&s.checked_cycle(3 * MIN), 10);
}

#[test]
fn reclaim_lower_priority_needs_a_lower_priority_victim_and_never_takes_nothing() {
    let setup = |reclaim: ReclaimWithinCohort| {
        let mut s = cohort(PreemptionPolicy {
            reclaim_within_cohort: reclaim,
            ..PreemptionPolicy::default()
        });
        for id in 1..=8 {
            s.submit(JobBuilder::gpus(1).id(id).queue("b"));
        }
        s.checked_cycle(0);
        s
    };
    let mut lower = setup(ReclaimWithinCohort::LowerPriority);
    lower.submit(JobBuilder::gpus(1).id(9).queue("a"));
    waiting(&lower.checked_cycle(MIN), 9);
    lower.submit(JobBuilder::gpus(1).id(10).queue("a").priority(1));
    assert_eq!(preempted(&lower.checked_cycle(2 * MIN), 10).1.len(), 1);

    let mut never = setup(ReclaimWithinCohort::Never);
    never.submit(JobBuilder::gpus(1).id(9).queue("a").priority(1));
    waiting(&never.checked_cycle(MIN), 9);
}

#[test]
fn a_victim_that_would_miss_its_deadline_is_taken_only_when_the_policy_says_so() {
    let run = |allow: bool| {
        let mut s = scheduler_with(
            one_queue(8),
            policy(PreemptionPolicy {
                allow_deadline_misses: allow,
                ..PreemptionPolicy::default()
            }),
        );
        s.node(NodeBuilder::new("n", "f", 1)).submit(
            JobBuilder::gpus(1)
                .id(1)
                .runtime(Millis::hours(1))
                .deadline(Time(70 * MIN)),
        );
        s.checked_cycle(0);
        s.submit(JobBuilder::gpus(1).id(2).priority(1));
        // at 30 min, evicted without checkpoints: 30 + 60 > 70
        s.checked_cycle(30 * MIN)
    };
    waiting(&run(false), 2);
    assert_eq!(preempted(&run(true), 2).1, [1]);
}

#[test]
fn a_deadline_the_victim_still_meets_after_resuming_does_not_protect_it() {
    let run = |protect_deadlines: bool| {
        let preemption = PreemptionPolicy {
            protect_deadlines,
            ..PreemptionPolicy::default()
        };
        let mut s = scheduler_with(one_queue(8), policy(preemption));
        s.node(NodeBuilder::new("n", "f", 1));
        let victim = checkpointing(
            JobBuilder::gpus(1)
                .id(1)
                .runtime(Millis::hours(1))
                .deadline(Time(70 * MIN)),
            10,
            1,
        );
        submit(&mut s, victim);
        s.checked_cycle(0);
        s.submit(JobBuilder::gpus(1).id(2).priority(1));
        s.checked_cycle(30 * MIN)
    };
    // at 30 min, 30 kept: 30 + 1 + 30 ≤ 70
    assert_eq!(preempted(&run(false), 2).1, [1]);
    // unless every deadline is protected: the evicted job would queue again
    waiting(&run(true), 2);
}

#[test]
fn the_victim_set_that_loses_the_least_work_is_chosen() {
    let run = |restore: u64| {
        let mut s = preempting(one_queue(8));
        s.node(NodeBuilder::new("n1", "f", 2))
            .node(NodeBuilder::new("n2", "f", 2));
        // 1 checkpoints every 10 minutes; 2 never does
        submit(
            &mut s,
            checkpointing(JobBuilder::gpus(2).id(1), 10, restore),
        );
        s.submit(JobBuilder::gpus(2).id(2));
        s.checked_cycle(0);
        s.submit(JobBuilder::gpus(2).id(3).priority(1));
        s.checked_cycle(25 * MIN)
    };
    // 1 loses 5 minutes + 1 to restore, 2 loses 25
    assert_eq!(preempted(&run(1), 3).1, [1]);
    // with a 30-minute restore, 1 would cost 35
    assert_eq!(preempted(&run(30), 3).1, [2]);
}

#[test]
fn the_victim_set_is_minimal() {
    let mut s = preempting(one_queue(8));
    s.node(NodeBuilder::new("n", "f", 4))
        .submit(JobBuilder::gpus(3).id(1))
        .submit(JobBuilder::gpus(1).id(2));
    s.checked_cycle(0);
    // 2 is cheapest (one GPU) but freeing it is not enough; once 1 is taken, 2 is not needed
    s.submit(JobBuilder::gpus(3).id(3).priority(1));
    assert_eq!(preempted(&s.checked_cycle(MIN), 3).1, [1]);

    // four one-GPU jobs started at different times: the two started last lose least
    let mut s = preempting(one_queue(8));
    s.node(NodeBuilder::new("n", "f", 4));
    for id in 1..=4 {
        s.submit(JobBuilder::gpus(1).id(id));
        s.checked_cycle(id * MIN);
    }
    s.submit(JobBuilder::gpus(2).id(5).priority(1));
    assert_eq!(preempted(&s.checked_cycle(10 * MIN), 5).1, [3, 4]);
}

#[test]
fn when_only_quota_is_short_victims_may_be_on_any_node() {
    let mut s = preempting(one_queue(2));
    s.node(NodeBuilder::new("n1", "f", 1))
        .node(NodeBuilder::new("n2", "f", 1))
        .node(NodeBuilder::new("n3", "f", 4));
    s.submit(JobBuilder::gpus(1).id(1))
        .submit(JobBuilder::gpus(1).id(2));
    s.checked_cycle(0);
    assert_eq!(s.running().count(), 2);
    s.submit(JobBuilder::gpus(2).id(3).priority(1));
    let decisions = s.checked_cycle(MIN);
    let (placement, victims) = preempted(&decisions, 3);
    assert_eq!(victims, [1, 2]);
    assert_eq!(placement.gpu_count(), 2);
}

#[test]
fn max_victims_bounds_the_set() {
    let run = |max: Option<u32>| {
        let mut s = scheduler_with(
            one_queue(8),
            policy(PreemptionPolicy {
                max_victims: max,
                ..PreemptionPolicy::default()
            }),
        );
        s.node(NodeBuilder::new("n", "f", 2))
            .submit(JobBuilder::gpus(1).id(1))
            .submit(JobBuilder::gpus(1).id(2));
        s.checked_cycle(0);
        s.submit(JobBuilder::gpus(2).id(3).priority(1));
        s.checked_cycle(MIN)
    };
    waiting(&run(Some(1)), 3);
    assert_eq!(preempted(&run(Some(2)), 3).1, [1, 2]);
}

#[test]
fn fungibility_decides_between_the_first_flavor_and_the_cheapest() {
    let run = |when: WhenCanPreempt| {
        let mut config = ConfigBuilder::new()
            .private_flavor("f1", Tier::Bronze)
            .private_flavor("f2", Tier::Bronze)
            .queue(
                "q",
                &[("f1", Quota::nominal(8_000)), ("f2", Quota::nominal(8_000))],
            )
            .build();
        for queue in config.cluster_queues.values_mut() {
            queue.fungibility.when_can_preempt = when;
        }
        let mut s = preempting(config);
        s.node(NodeBuilder::new("n1", "f1", 1))
            .node(NodeBuilder::new("n2", "f2", 1));
        s.submit(JobBuilder::gpus(1).id(1).only_flavors(&["f1"]));
        s.checked_cycle(0);
        s.submit(JobBuilder::gpus(1).id(2).only_flavors(&["f2"]));
        s.checked_cycle(20 * MIN);
        s.submit(JobBuilder::gpus(1).id(3).priority(1));
        s.checked_cycle(30 * MIN)
    };
    // on f1 the victim loses 30 minutes, on f2 10
    let cheapest = run(WhenCanPreempt::TryNextFlavor);
    let (placement, victims) = preempted(&cheapest, 3);
    assert_eq!((placement.flavor.as_str(), victims), ("f2", vec![2]));
    assert_eq!(placement.passed_over.len(), 1, "f1 was full: {placement}");
    let first = run(WhenCanPreempt::MayStopSearch);
    let (placement, victims) = preempted(&first, 3);
    assert_eq!((placement.flavor.as_str(), victims), ("f1", vec![1]));
}

#[test]
fn a_job_admitted_in_this_cycle_is_not_evicted_in_it() {
    let mut s = cohort(PreemptionPolicy::default());
    // b borrows all of a's quota in the same cycle in which a's job comes after it
    for id in 1..=8 {
        s.submit(JobBuilder::gpus(1).id(id).queue("b").priority(5));
    }
    s.submit(JobBuilder::gpus(1).id(9).queue("a"));
    let decisions = s.checked_cycle(0);
    waiting(&decisions, 9);
    // a cycle later, a takes its quota back
    assert_eq!(preempted(&s.checked_cycle(MIN), 9).1.len(), 1);
}

/// Queue `q` on one one-GPU node running job 1 (no checkpoints) since t = 0; job `id` of
/// priority 1 arrives at `at` minutes under `guards`.
fn one_victim(guards: PreemptionPolicy, id: u64, at: u64) -> (Scheduler, Vec<Decision>) {
    let mut s = scheduler_with(one_queue(8), policy(guards));
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::gpus(1).id(1).runtime(Millis::hours(10)));
    s.checked_cycle(0);
    s.submit(JobBuilder::gpus(1).id(id).priority(1));
    let decisions = s.checked_cycle(at * MIN);
    (s, decisions)
}

#[test]
fn a_job_that_just_started_is_spared_for_the_policy_s_minimum_run() {
    let guards = PreemptionPolicy {
        min_run: Millis::minutes(15),
        ..PreemptionPolicy::default()
    };
    waiting(&one_victim(guards.clone(), 2, 10).1, 2);
    assert_eq!(preempted(&one_victim(guards, 2, 15).1, 2).1, [1]);
}

#[test]
fn a_victim_that_would_lose_more_than_the_policy_allows_is_spared() {
    let guards = PreemptionPolicy {
        max_loss: Some(Millis::minutes(5)),
        ..PreemptionPolicy::default()
    };
    // no checkpoints: four minutes in it loses four, six minutes in it would lose six
    assert_eq!(preempted(&one_victim(guards.clone(), 2, 4).1, 2).1, [1]);
    waiting(&one_victim(guards.clone(), 2, 6).1, 2);
    // with a checkpoint every 10 minutes, 23 minutes in it loses 3
    let mut s = scheduler_with(one_queue(8), policy(guards));
    s.node(NodeBuilder::new("n", "f", 1));
    submit(
        &mut s,
        checkpointing(JobBuilder::gpus(1).id(1).runtime(Millis::hours(10)), 10, 1),
    );
    s.checked_cycle(0);
    s.submit(JobBuilder::gpus(1).id(2).priority(1));
    waiting(&s.checked_cycle(19 * MIN), 2);
    assert_eq!(preempted(&s.checked_cycle(23 * MIN), 2).1, [1]);
}

#[test]
fn a_job_is_evicted_at_most_max_evictions_times_and_keeps_its_checkpointed_work() {
    let guards = PreemptionPolicy {
        max_evictions: Some(2),
        ..PreemptionPolicy::default()
    };
    let mut s = scheduler_with(one_queue(8), policy(guards));
    s.node(NodeBuilder::new("n", "f", 1));
    submit(
        &mut s,
        checkpointing(JobBuilder::gpus(1).id(1).runtime(Millis::hours(10)), 10, 1),
    );
    s.checked_cycle(0);
    // a stream of short high-priority jobs: each evicts job 1 once it runs again
    let mut now = 0;
    for id in 2..=4 {
        s.submit(
            JobBuilder::gpus(1)
                .id(id)
                .priority(1)
                .runtime(Millis::minutes(5)),
        );
        now += 25 * MIN;
        let decisions = s.checked_cycle(now);
        if id <= 3 {
            assert_eq!(preempted(&decisions, id).1, [1], "eviction {}", id - 1);
            s.stop_victims(&decisions);
            // the core keeps the 20 minutes done until the last checkpoint
            let progress = s.progress(JobId(1)).unwrap();
            assert_eq!(progress.evictions, (id - 1) as u32);
            admitted(&s.checked_cycle(now), id);
            s.apply(Input::JobFinished(JobId(id))).unwrap();
            admitted(&s.checked_cycle(now + 1), 1);
        } else {
            waiting(&decisions, id);
        }
    }
    let progress = s.progress(JobId(1)).unwrap();
    assert_eq!(progress.evictions, 2);
    // 20 minutes kept of the first attempt, 20 of the second (it restored for a minute)
    assert_eq!(progress.remaining, Millis::minutes(10 * 60 - 40));
}

#[test]
fn past_evictions_make_a_victim_costlier_so_evictions_spread() {
    let run = |grows: bool| {
        let guards = PreemptionPolicy {
            cost_grows_with_evictions: grows,
            ..PreemptionPolicy::default()
        };
        let mut s = scheduler_with(one_queue(8), policy(guards));
        s.node(NodeBuilder::new("n", "f", 2))
            .submit(JobBuilder::gpus(1).id(1).runtime(Millis::hours(10)))
            .submit(JobBuilder::gpus(1).id(2).runtime(Millis::hours(10)));
        s.checked_cycle(0);
        // equal losses: job 1 (the lower id) is evicted, and restarts at 11 min
        s.submit(JobBuilder::gpus(1).id(3).priority(1));
        let decisions = s.checked_cycle(10 * MIN);
        assert_eq!(preempted(&decisions, 3).1, [1]);
        s.stop_victims(&decisions);
        admitted(&s.checked_cycle(10 * MIN), 3);
        s.apply(Input::JobFinished(JobId(3))).unwrap();
        admitted(&s.checked_cycle(11 * MIN), 1);
        // at 25 min job 1 would lose 14 minutes, job 2 twenty-five
        s.submit(JobBuilder::gpus(1).id(4).priority(1));
        preempted(&s.checked_cycle(25 * MIN), 4).1
    };
    assert_eq!(
        run(false),
        [1],
        "least lost work alone takes the restarted job again"
    );
    assert_eq!(run(true), [2], "14 × 2 now costs more than 25 × 1");
}

#[test]
fn a_queue_s_own_preemption_rules_win_over_the_policy_s() {
    let mut config = one_queue(8);
    for queue in config.cluster_queues.values_mut() {
        queue.preemption = Some(alloc_core::QueuePreemption::KUEUE_DEFAULT);
    }
    let mut s = scheduler_with(config, policy(PreemptionPolicy::default()));
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::gpus(1).id(1));
    s.checked_cycle(0);
    s.submit(JobBuilder::gpus(1).id(2).priority(9));
    // Kueue's defaults: nobody is evicted, whatever the priorities
    waiting(&s.checked_cycle(MIN), 2);
}

#[test]
fn borrow_within_cohort_lets_a_borrowing_job_evict_lower_priorities_up_to_the_threshold() {
    // a and b: 2 GPUs nominal each, c: 4, idle; b's six jobs borrow 4. a wants 4: two are
    // free, two must come from b, and a then borrows 2 of c's.
    let run = |borrow: alloc_core::BorrowWithinCohortPolicy, threshold: Option<i32>| {
        let mut config = ConfigBuilder::new()
            .private_flavor("f", Tier::Bronze)
            .queue_in_cohort("a", "k", &[("f", Quota::nominal(2_000))])
            .queue_in_cohort("b", "k", &[("f", Quota::nominal(2_000))])
            .queue_in_cohort("c", "k", &[("f", Quota::nominal(4_000))])
            .build();
        for queue in config.cluster_queues.values_mut() {
            queue.preemption = Some(alloc_core::QueuePreemption {
                within_cluster_queue: WithinClusterQueue::LowerPriority,
                reclaim_within_cohort: ReclaimWithinCohort::Any,
                borrow_within_cohort: alloc_core::BorrowWithinCohort {
                    policy: borrow,
                    max_priority_threshold: threshold,
                },
            });
        }
        let mut s = scheduler_with(config, policy(PreemptionPolicy::default()));
        s.node(NodeBuilder::new("n", "f", 8));
        for id in 1..=6 {
            s.submit(JobBuilder::gpus(1).id(id).queue("b").priority(1));
        }
        s.checked_cycle(0);
        s.submit(JobBuilder::gpus(4).id(9).queue("a").priority(5));
        s.checked_cycle(MIN)
    };
    use alloc_core::BorrowWithinCohortPolicy::{LowerPriority, Never};
    // without it: a set with b's jobs must let a fit without borrowing, and 4 > 2 never does
    waiting(&run(Never, None), 9);
    let decisions = run(LowerPriority, None);
    let (placement, victims) = preempted(&decisions, 9);
    assert!(placement.borrowing, "{placement}");
    assert_eq!(victims.len(), 2, "{victims:?}");
    // b's jobs are of priority 1: a threshold of 0 protects them
    waiting(&run(LowerPriority, Some(0)), 9);
}

/// Checks every eviction of one cycle against the state before it (`before`) and after it
/// (`after`): victims ran before the cycle on the preemptor's flavor, each at most once, never
/// the preemptor; each ranks below it by its queue's rules — lower priority, a newer job of
/// equal priority when the rules allow that, or a job of a queue of the cohort that was
/// borrowing on that flavor when the decision was taken; each had run at least the policy's
/// `min_run` and been evicted fewer than `max_evictions` times; no victim is made to miss its
/// deadline unless the policy allows it; the preemptor runs where the decision says and the
/// victims wait again.
pub fn check_evictions(
    before: &Scheduler,
    after: &Scheduler,
    decisions: &[Decision],
    now: Time,
) -> Result<(), TestCaseError> {
    let policy = &before.policy().preemption;
    let config = before.config();
    let pending: BTreeMap<JobId, &Job> = before.pending().map(|j| (j.id, j)).collect();
    // quota usage as each decision saw it
    let mut usage: BTreeMap<(QueueName, FlavorName), ResourceAmounts> = before
        .ledgers()
        .quota
        .iter()
        .map(|(key, amounts)| (key.clone(), *amounts))
        .collect();
    let mut evicted = BTreeSet::new();
    for decision in decisions {
        let (id, placement, victims) = match decision {
            Decision::Admit { job, placement } => {
                if placement.public.is_none() {
                    let key = (placement.queue.clone(), placement.flavor.clone());
                    usage
                        .entry(key)
                        .or_default()
                        .add(&pending[job].quota_usage());
                }
                continue;
            }
            Decision::Preempt {
                job,
                placement,
                victims,
            } => (*job, placement, victims),
            _ => continue,
        };
        let preemptor = pending[&id];
        prop_assert!(!victims.is_empty(), "{decision}");
        prop_assert!(victims.windows(2).all(|w| w[0] < w[1]), "{decision}");
        let queue = &config.cluster_queues[&placement.queue];
        let rules = policy.rules(queue);
        let request = preemptor.quota_usage();
        for victim_id in victims {
            prop_assert_ne!(*victim_id, id, "a job evicted itself: {}", decision);
            prop_assert!(evicted.insert(*victim_id), "evicted twice: {}", decision);
            let running = before.running_job(*victim_id);
            prop_assert!(running.is_some(), "{} did not run: {}", victim_id, decision);
            let Some(running) = running else { continue };
            let victim = &running.job;
            prop_assert_eq!(&running.placement.flavor, &placement.flavor);
            prop_assert!(running.placement.public.is_none());
            prop_assert!(
                now.since(running.started) >= policy.min_run,
                "{} ran less than {:?}: {}",
                victim_id,
                policy.min_run,
                decision
            );
            prop_assert!(
                policy
                    .max_evictions
                    .is_none_or(|max| running.progress.evictions < max),
                "{} was evicted {} times already: {}",
                victim_id,
                running.progress.evictions,
                decision
            );
            let lost = before.victim_cost(running, now).lost;
            prop_assert!(
                policy.max_loss.is_none_or(|max| lost <= max),
                "{} loses {:?}: {}",
                victim_id,
                lost,
                decision
            );
            let lower = victim.priority < preemptor.priority;
            let ranked = if running.placement.queue == placement.queue {
                let newer = victim.priority == preemptor.priority
                    && (victim.submit_time, victim.id) > (preemptor.submit_time, preemptor.id);
                match rules.within_cluster_queue {
                    WithinClusterQueue::Never => false,
                    WithinClusterQueue::LowerPriority => lower,
                    WithinClusterQueue::LowerOrNewerEqualPriority => lower || newer,
                }
            } else {
                let victim_queue = &config.cluster_queues[&running.placement.queue];
                let used = usage
                    .get(&(victim_queue.name.clone(), placement.flavor.clone()))
                    .copied()
                    .unwrap_or_default();
                let asks_nothing = Resource::ALL.iter().all(|r| request.get(*r) == 0);
                let borrowing = Resource::ALL.into_iter().any(|r| {
                    (request.get(r) > 0 || (asks_nothing && r == Resource::Gpu))
                        && used.get(r)
                            > victim_queue
                                .quota(&placement.flavor, r)
                                .map_or(0, |q| q.nominal)
                });
                let same_cohort = queue.cohort.is_some() && queue.cohort == victim_queue.cohort;
                same_cohort
                    && borrowing
                    && match rules.reclaim_within_cohort {
                        ReclaimWithinCohort::Never => false,
                        ReclaimWithinCohort::LowerPriority => lower,
                        ReclaimWithinCohort::Any => true,
                    }
            };
            prop_assert!(
                ranked,
                "{} does not rank below {} ({:?}): {}",
                victim_id,
                id,
                policy,
                decision
            );
            if let (Some(deadline), false) = (victim.deadline, policy.allow_deadline_misses) {
                let resumed_end = before.victim_cost(running, now).resumed_end;
                prop_assert!(resumed_end <= deadline, "{} misses its deadline", victim_id);
                prop_assert!(!policy.protect_deadlines, "{} has a deadline", victim_id);
            }
            // the victim keeps its capacity until the shell stops it; the preemptor waits
            let kept = after.running_job(*victim_id);
            prop_assert_eq!(kept.and_then(|r| r.evicting).map(|e| e.by), Some(id));
        }
        prop_assert!(after.running_job(id).is_none());
        prop_assert!(after.pending().any(|j| j.id == id));
    }
    head_job_preempts_when_evicting_everyone_below_it_would_do(before, decisions, now)
}

/// Oracle for completeness, on the cycle's first job (decided on the state before the cycle):
/// when it waits for room or quota, then even finishing every job it may evict in its own
/// queue (with every other pending job gone) must leave it waiting. Checked where the search
/// is complete: no reclaim (whose Kueue rules make the search order matter), no bound on the
/// victims, and no job spread over several nodes.
fn head_job_preempts_when_evicting_everyone_below_it_would_do(
    before: &Scheduler,
    decisions: &[Decision],
    now: Time,
) -> Result<(), TestCaseError> {
    let policy = &before.policy().preemption;
    let Some(Decision::Wait {
        job,
        reason: WaitReason::NoFlavorFits { .. },
        ..
    }) = decisions.first()
    else {
        return Ok(());
    };
    let Some(head) = before.pending().find(|j| j.id == *job) else {
        return Ok(());
    };
    let spread = head.spread && matches!(head.gpu, GpuRequest::Whole { count, .. } if count > 1);
    let queue = &before.config().local_queues[&head.queue].cluster_queue;
    let rules = policy.rules(&before.config().cluster_queues[queue]);
    let complete = rules.reclaim_within_cohort == ReclaimWithinCohort::Never
        && rules.within_cluster_queue != WithinClusterQueue::Never
        && policy.max_victims.is_none();
    if !complete || spread {
        return Ok(());
    }
    let mut without = before.clone();
    for running in before.running() {
        let victim = &running.job;
        let evictable = now.since(running.started) >= policy.min_run
            && policy
                .max_evictions
                .is_none_or(|max| running.progress.evictions < max)
            && policy
                .max_loss
                .is_none_or(|max| before.victim_cost(running, now).lost <= max);
        let ranked = victim.priority < head.priority
            || (rules.within_cluster_queue == WithinClusterQueue::LowerOrNewerEqualPriority
                && victim.priority == head.priority
                && (victim.submit_time, victim.id) > (head.submit_time, head.id));
        let deadline_kept = policy.allow_deadline_misses
            || victim.deadline.is_none_or(|d| {
                !policy.protect_deadlines && before.victim_cost(running, now).resumed_end <= d
            });
        if &running.placement.queue == queue
            && running.evicting.is_none()
            && running.placement.public.is_none()
            && running.started < now
            && ranked
            && evictable
            && deadline_kept
        {
            let finished = without.apply(Input::JobFinished(victim.id));
            prop_assert!(finished.is_ok(), "{:?}", finished);
        }
    }
    for other in before.pending().filter(|j| j.id != head.id) {
        let cancelled = without.apply(Input::JobCancelled(other.id));
        prop_assert!(cancelled.is_ok(), "{:?}", cancelled);
    }
    let alone = without.decide_all(now);
    prop_assert!(
        !matches!(alone.first(), Some(Decision::Admit { .. })),
        "{} waited though evicting every job below it would admit it: {}",
        head.id,
        alone[0]
    );
    Ok(())
}

/// One BRONZE flavor, two or three queues (mostly in one cohort, some with a borrowing limit)
/// and two or three nodes with plenty of CPU: jobs meet, so evictions are frequent.
fn contended_world() -> impl Strategy<Value = World> {
    (
        preemption_policy(),
        proptest::collection::vec(
            (
                1u64..=6,
                proptest::option::of(0u64..=4),
                proptest::bool::weighted(0.8),
            ),
            2..=3,
        ),
        proptest::collection::vec((2u32..=4, prop_oneof![Just(0usize), Just(2usize)]), 2..=3),
    )
        .prop_map(|(preemption, queues, nodes)| {
            let mut builder = ConfigBuilder::new().private_flavor("f0", Tier::Bronze);
            for (index, (gpus, borrowing, in_cohort)) in queues.into_iter().enumerate() {
                let quota = Quota {
                    nominal: gpus * 1000,
                    borrowing_limit: borrowing.filter(|_| in_cohort).map(|b| b * 1000),
                    lending_limit: None,
                };
                let name = crate::strategies::QUEUES[index];
                builder = if in_cohort {
                    builder.queue_in_cohort(name, "cohort", &[("f0", quota)])
                } else {
                    builder.queue(name, &[("f0", quota)])
                };
            }
            World {
                config: builder.build(),
                policy: Policy {
                    preemption,
                    ..Policy::default()
                },
                nodes: nodes
                    .into_iter()
                    .map(|(gpus, model)| NodeShape {
                        flavor: 0,
                        model,
                        gpus,
                        cpu: 64_000,
                        memory: 524_288,
                    })
                    .collect(),
            }
        })
}

/// Jobs of `history_with_extras` made to fit the contended world: BRONZE, modest CPU.
fn contended_history(max_steps: usize) -> impl Strategy<Value = Vec<Step>> {
    history_with_extras(max_steps).prop_map(|mut steps| {
        for step in &mut steps {
            if let Step::Submit(shape, _) = step {
                shape.tier = Tier::Bronze;
                shape.cpu = shape.cpu.min(8_000);
                shape.memory = shape.memory.min(16_384);
            }
        }
        steps
    })
}

/// Jobs of one family for the preemption memo (one queue, BRONZE, one kind of GPU request,
/// no model or spreading constraint) in random sizes and priorities, submitted in two groups a
/// cycle apart and then decided together: a refused search answers the larger of them at
/// lower priorities, and must answer only those (`run_history` compares every cycle with one
/// without the memo).
fn one_family(jobs: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<Step>> {
    let size = (1u32..=3, 1u64..=9, 1u64..=8, 1u64..=4, 0i32..=4);
    (
        job_shape(),
        any::<bool>(),
        proptest::collection::vec(size, jobs),
    )
        .prop_map(|(base, fraction, sizes)| {
            let mut steps: Vec<Step> = sizes
                .into_iter()
                .map(|(count, tenths, cpus, memory, priority)| {
                    let mut shape = base.clone();
                    shape.queue = shape.queue.min(2);
                    shape.tier = Tier::Bronze;
                    shape.upgrade = false;
                    shape.spread = false;
                    shape.model = None;
                    shape.gpu = if fraction {
                        GpuRequest::Fraction {
                            milli: alloc_core::MilliGpu(tenths * 100),
                            vram: alloc_core::VramMib(1024 * tenths),
                        }
                    } else {
                        GpuRequest::Whole {
                            count,
                            min_vram: alloc_core::VramMib::ZERO,
                        }
                    };
                    shape.cpu = cpus * 1000;
                    shape.memory = memory * 4096;
                    shape.priority = priority;
                    Step::Submit(shape, 1)
                })
                .collect();
            // the first half waits a cycle, so that under an order by waiting time it goes
            // first in the next one, whatever the priorities
            steps.insert(steps.len() / 2, Step::Cycle);
            steps.push(Step::Cycle);
            steps
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    /// With preemption on (every policy choice, checkpoints, restore costs and deadlines),
    /// every cycle keeps the suite's invariants and quota rules, and every eviction is of a
    /// job that ranks below its preemptor (`check_evictions`).
    #[test]
    fn evictions_keep_the_invariants_and_take_only_lower_ranked_jobs(
        world in world_with_preemption(),
        steps in history_with_extras(40),
        seed in any::<u64>(),
    ) {
        run_history(&world, &steps, seed)?;
    }

    /// The same on a small, busy fleet where jobs of several queues and priorities meet.
    #[test]
    fn evictions_on_a_contended_fleet_keep_the_invariants(
        world in contended_world(),
        steps in contended_history(40),
        seed in any::<u64>(),
    ) {
        run_history(&world, &steps, seed)?;
    }

    /// On that fleet, once busy, a cycle over many jobs of one family decides as one without
    /// the memo: refused searches answer exactly the requests they may.
    #[test]
    fn refused_searches_answer_only_larger_requests_at_lower_priorities(
        mut world in contended_world(),
        arrival_order in any::<bool>(),
        busy in contended_history(30),
        family in one_family(4..=14),
        seed in any::<u64>(),
    ) {
        if arrival_order {
            // priorities then meet in any order within the cycle, not highest first
            world.policy.ordering = alloc_core::Ordering::Scored(alloc_core::ScoreWeights {
                priority: 0.0,
                aging_per_hour: 1.0,
                deadline: 0.0,
                fair_share: 0.0,
                budget: 0.0,
            });
        }
        let steps: Vec<Step> = busy.into_iter().chain(family).collect();
        run_history(&world, &steps, seed)?;
    }
}

#[test]
fn a_refusal_that_read_the_request_size_does_not_answer_a_smaller_request() {
    // a: 4 GPUs of f1 and 8 of f2; b: none of f1 (it borrows a's) and 4 of f2
    let config = ConfigBuilder::new()
        .private_flavor("f1", Tier::Bronze)
        .private_flavor("f2", Tier::Bronze)
        .queue_in_cohort(
            "a",
            "c",
            &[("f1", Quota::nominal(4_000)), ("f2", Quota::nominal(8_000))],
        )
        .queue_in_cohort(
            "b",
            "c",
            &[("f1", Quota::nominal(0)), ("f2", Quota::nominal(4_000))],
        )
        .build();
    let mut s = preempting(config);
    s.node(NodeBuilder::new("n1", "f1", 4))
        .node(NodeBuilder::new("n2", "f2", 4));
    for id in 1..=4 {
        s.submit(JobBuilder::gpus(1).id(id).queue("b").only_flavors(&["f1"]));
        s.submit(
            JobBuilder::gpus(1)
                .id(10 + id)
                .queue("b")
                .only_flavors(&["f2"]),
        );
    }
    s.checked_cycle(0);
    assert_eq!(s.running().count(), 8);
    // Five GPUs: beyond a's nominal quota on f1 with no job of its own to evict there (the
    // search reads the size), and on f2 nobody ranks below it (b is within its quota).
    s.submit(JobBuilder::gpus(5).id(20).queue("a").submitted(Time(MIN)));
    // One GPU, same family and priority, considered next: on f1 it takes a GPU back from b.
    s.submit(
        JobBuilder::gpus(1)
            .id(21)
            .queue("a")
            .submitted(Time(MIN + 1)),
    );
    let decisions = s.checked_cycle(2 * MIN);
    waiting(&decisions, 20);
    let (placement, victims) = preempted(&decisions, 21);
    assert_eq!(placement.flavor.as_str(), "f1");
    assert_eq!(victims.len(), 1);
    assert!((1..=4).contains(&victims[0]));
}

#[test]
fn a_quiet_job_that_may_evict_a_newly_started_one_is_met_again() {
    const HOUR: u64 = 60 * MIN;
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(8_000))])
        .build();
    let mut s = scheduler_with(config, Policy::preset("default").unwrap());
    s.node(NodeBuilder::new("n", "f", 2)).submit(
        JobBuilder::gpus(1)
            .id(1)
            .priority(5)
            .runtime(Millis::hours(20)),
    );
    admitted(&s.checked_cycle(0), 1);
    // two jobs of one request wait for room, quietly from the next cycle on: 2 at priority
    // 1, 3 at priority 3, which 2's longer wait puts behind 2 in the scored order
    s.submit(JobBuilder::gpus(2).id(2).priority(1));
    waiting(&s.checked_cycle(MIN), 2);
    s.submit(
        JobBuilder::gpus(2)
            .id(3)
            .priority(3)
            .submitted(Time(10 * HOUR)),
    );
    waiting(&s.checked_cycle(10 * HOUR), 3);
    // a priority-2 job takes the free GPU; neither could evict anyone as the cycle started
    s.submit(
        JobBuilder::gpus(1)
            .id(4)
            .priority(2)
            .submitted(Time(11 * HOUR)),
    );
    let d = s.checked_cycle(11 * HOUR);
    admitted(&d, 4);
    let cycle = s.cycle(Time(11 * HOUR + MIN));
    assert!(cycle.changes.is_empty(), "{:?}", cycle.changes);
    // 1 ends: 2 still finds no room and may not evict 4, so its request found none this
    // cycle; 3 may, and must be met to
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    let now = Time(11 * HOUR + 2 * MIN);
    assert_eq!(s.consideration_order(now), [JobId(2), JobId(3)]);
    let afresh = s.clone().decide_all(now);
    let changes = s.cycle(now).changes;
    let evicts = |decisions: &[Decision]| match decision(decisions, 3) {
        Decision::Preempt { victims, .. } => victims.clone(),
        _ => Vec::new(),
    };
    assert_eq!(evicts(&afresh), [JobId(4)]);
    assert_eq!(evicts(&changes), evicts(&afresh));
}
