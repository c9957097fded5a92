//! Reservations for large jobs and backfill around them (`Policy::backfill`): examples, and the
//! invariant every property history checks after each cycle — the cycle's admissions never
//! push a reserved job's planned start later.

use crate::support::*;
use alloc_core::testing::{
    decide_all_with_reservations, ConfigBuilder, JobBuilder, NodeBuilder, Reserved,
};
use alloc_core::{
    Backfill, Decision, GpuRequest, Input, JobId, Millis, Policy, Quota, Running, Scheduler, Tier,
    Time, WaitReason,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const MINUTE: u64 = 60_000;

fn with_backfill(enabled: bool) -> Policy {
    Policy {
        backfill: Backfill {
            enabled,
            ..Backfill::easy()
        },
        ..Policy::default()
    }
}

/// One BRONZE flavor of `nodes` nodes with `gpus` GPUs each, a queue with quota for them all.
fn fleet(nodes: u32, gpus: u32, policy: Policy) -> Scheduler {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue(
            "q",
            &[("f", Quota::nominal(u64::from(nodes * gpus) * 1000))],
        )
        .build();
    let mut s = scheduler_with(config, policy);
    for n in 0..nodes {
        s.node(NodeBuilder::new(&format!("n{n}"), "f", gpus));
    }
    s
}

fn job(id: u64, gpus: u32, minutes: u64) -> JobBuilder {
    JobBuilder::gpus(gpus)
        .id(id)
        .submitted(Time(id))
        .runtime(Millis(minutes * MINUTE))
}

#[test]
fn a_short_job_backfills_and_a_long_one_waits_for_the_reserved_job() {
    let mut s = fleet(1, 4, with_backfill(true));
    s.submit(job(1, 2, 60));
    admitted(&s.checked_cycle(0), 1);
    // job 2 needs the whole node: it can start when job 1 ends, at 60 min
    s.submit(job(2, 4, 60)).submit(job(3, 1, 120));
    let d = s.checked_cycle(10);
    assert!(matches!(waiting(&d, 2), WaitReason::NoFlavorFits { .. }));
    let held = waiting(&d, 3);
    assert_eq!(held.code(), "held-for-reservation");
    assert!(matches!(
        held,
        WaitReason::HeldForReservation { job: JobId(2), .. }
    ));
    assert!(
        decision(&d, 3).to_string().contains("reserved for job 2"),
        "{}",
        decision(&d, 3)
    );
    assert_eq!(held.unblock().code(), "reserved-job-starts");
    // ending by the reservation's start, they take the two free GPUs; the long job held from
    // them is then told, as the cycle leaves the node, that there is no room
    s.submit(job(4, 1, 30)).submit(job(5, 1, 49));
    let d = s.checked_cycle(11 * MINUTE);
    admitted(&d, 4);
    admitted(&d, 5);
    assert!(matches!(waiting(&d, 3), WaitReason::NoFlavorFits { .. }));

    // without backfill the long job takes a GPU job 2 needs
    let mut s = fleet(1, 4, with_backfill(false));
    s.submit(job(1, 2, 60));
    s.checked_cycle(0);
    s.submit(job(2, 4, 60)).submit(job(3, 1, 120));
    admitted(&s.checked_cycle(10), 3);
}

#[test]
fn the_reserved_job_starts_on_its_node_when_the_running_job_ends() {
    let mut s = fleet(1, 4, with_backfill(true));
    s.submit(job(1, 2, 60));
    s.checked_cycle(0);
    s.submit(job(2, 4, 60)).submit(job(3, 1, 120));
    s.checked_cycle(10);
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    let d = s.checked_cycle(60 * MINUTE);
    assert_eq!(nodes(admitted(&d, 2)), ["n0"]);
    assert!(matches!(waiting(&d, 3), WaitReason::NoFlavorFits { .. }));
}

#[test]
fn spare_gpus_at_the_start_take_long_jobs_until_used_up() {
    let mut s = fleet(1, 8, with_backfill(true));
    s.submit(job(1, 6, 60));
    s.checked_cycle(0);
    // job 2 needs 7 of the 8 GPUs once job 1 ends: one GPU may stay busy past that
    s.submit(job(2, 7, 60))
        .submit(job(3, 1, 600))
        .submit(job(4, 1, 600));
    let d = s.checked_cycle(10);
    admitted(&d, 3);
    assert!(matches!(
        waiting(&d, 4),
        WaitReason::HeldForReservation { job: JobId(2), .. }
    ));
}

#[test]
fn an_overrunning_job_holds_its_node_only_until_it_ends() {
    let mut s = fleet(2, 4, with_backfill(true));
    s.submit(job(1, 2, 60)).submit(job(2, 4, 600));
    let d = s.checked_cycle(0);
    assert_eq!(nodes(admitted(&d, 1)), ["n0"]);
    assert_eq!(nodes(admitted(&d, 2)), ["n1"]);
    // at 5 h job 1 has overrun its hour: job 3 is reserved n0 from now on
    let now = 5 * 60 * MINUTE;
    s.submit(job(3, 4, 60).submitted(Time(now)))
        .submit(job(4, 1, 10).submitted(Time(now + 1)));
    let (d, reserved) = decide_all_with_reservations(&mut s.clone(), Time(now + 10));
    assert!(matches!(waiting(&d, 3), WaitReason::NoFlavorFits { .. }));
    assert_eq!(reserved.len(), 1);
    assert_eq!(reserved[0].node.as_str(), "n0");
    // the running job's expected end has passed: the plan starts with the cycle making it
    assert_eq!(reserved[0].start, Time(now + 10));
    // ten minutes past now is past the start
    assert!(matches!(
        waiting(&d, 4),
        WaitReason::HeldForReservation { job: JobId(3), .. }
    ));
    s.checked_cycle(now + 10);
    // job 1 ends at last: job 3 starts there and nothing is reserved any more
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    let (d, reserved) = decide_all_with_reservations(&mut s.clone(), Time(now + 20));
    assert_eq!(nodes(admitted(&d, 3)), ["n0"]);
    assert!(matches!(waiting(&d, 4), WaitReason::NoFlavorFits { .. }));
    assert!(reserved.is_empty());
    s.checked_cycle(now + 20);
}

#[test]
fn a_reserved_job_is_decided_first_and_holds_back_no_higher_priority() {
    let mut s = fleet(1, 4, with_backfill(true));
    s.submit(job(1, 2, 60));
    s.checked_cycle(0);
    s.submit(job(5, 4, 60));
    s.checked_cycle(10);
    // a paper run outranks the reserved job and may take a GPU it needs; a training run of
    // the same priority may not
    s.submit(job(2, 1, 120).priority(10).submitted(Time(20)))
        .submit(job(3, 1, 120).submitted(Time(21)));
    assert_eq!(
        s.consideration_order(Time(30)),
        [JobId(5), JobId(2), JobId(3)]
    );
    let d = s.checked_cycle(30);
    assert_eq!(order(&d), [5, 2, 3]);
    admitted(&d, 2);
    assert!(matches!(
        waiting(&d, 3),
        WaitReason::HeldForReservation { job: JobId(5), .. }
    ));
}

#[test]
fn a_plan_holds_until_an_input_changes_what_it_counts_on() {
    let mut s = fleet(1, 8, with_backfill(true));
    s.submit(job(1, 4, 60));
    s.checked_cycle(0);
    // job 2 needs the whole node from 60 min; job 3 would keep two GPUs past then and is
    // held, and job 4 after it, ending by then, takes the room job 3 was held from
    s.submit(job(2, 8, 60).submitted(Time(1)))
        .submit(job(3, 2, 120).submitted(Time(2)))
        .submit(job(4, 4, 30).submitted(Time(3)));
    let (d, reserved) = decide_all_with_reservations(&mut s, Time(MINUTE));
    assert_eq!(reserved.len(), 1);
    assert_eq!(
        (reserved[0].job, reserved[0].start),
        (JobId(2), Time(60 * MINUTE))
    );
    admitted(&d, 4);
    // told as the cycle leaves things: no room is left for job 3 at all
    assert!(matches!(waiting(&d, 3), WaitReason::NoFlavorFits { .. }));
    // a second cycle with nothing new says nothing new and keeps the plan
    let again = s.cycle(Time(MINUTE));
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    let (_, kept) = decide_all_with_reservations(&mut s.clone(), Time(MINUTE));
    assert_eq!(kept, reserved);
    // a job ending is an input: the plan is made again, from job 4's expected end
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    let (_, replanned) = decide_all_with_reservations(&mut s.clone(), Time(20 * MINUTE));
    assert_eq!(
        (replanned[0].job, replanned[0].start),
        (JobId(2), Time(31 * MINUTE))
    );
}

#[test]
fn a_job_that_would_miss_its_deadline_held_is_not_held() {
    let mut s = fleet(1, 4, with_backfill(true));
    s.submit(job(1, 2, 60));
    s.checked_cycle(0);
    // job 2 reserves the node from 60 min; jobs 3 and 4 run 120 min, but only job 4's
    // deadline (150 min) falls before the planned start plus its run
    s.submit(job(2, 4, 60)).submit(job(3, 1, 120));
    s.submit(job(4, 1, 120).deadline(Time(150 * MINUTE)));
    let d = s.checked_cycle(10);
    assert!(matches!(
        waiting(&d, 3),
        WaitReason::HeldForReservation { job: JobId(2), .. }
    ));
    admitted(&d, 4);
}

#[test]
fn a_reservation_never_holds_back_a_job_reserved_before_it() {
    // two reservations on two nodes; the first reserved job may take the GPUs the second
    // counts on, which is planned again at once, in the same cycle
    let policy = Policy {
        backfill: Backfill {
            per_flavor: 2,
            ..Backfill::easy()
        },
        ..Policy::default()
    };
    let mut s = fleet(2, 4, policy);
    s.submit(job(1, 3, 60)).submit(job(2, 3, 90));
    s.checked_cycle(0);
    // one GPU free on each node: jobs 3 and 4 reserve one node each
    s.submit(job(3, 3, 120).submitted(Time(1)))
        .submit(job(4, 3, 60).submitted(Time(2)));
    let (_, reserved) = decide_all_with_reservations(&mut s.clone(), Time(10));
    assert_eq!(
        reserved.iter().map(|r| r.job).collect::<Vec<_>>(),
        [JobId(3), JobId(4)]
    );
    s.checked_cycle(10);
    // job 2 ends first: its node is job 4's, but job 3 was reserved before and takes it
    s.apply(Input::JobFinished(JobId(2))).unwrap();
    let (d, reserved) = decide_all_with_reservations(&mut s, Time(30 * MINUTE));
    assert_eq!(nodes(admitted(&d, 3)), ["n1"]);
    assert!(matches!(waiting(&d, 4), WaitReason::NoFlavorFits { .. }));
    // job 4's plan is made again at once: n0, when job 1 ends
    let planned: Vec<_> = reserved
        .iter()
        .map(|r| (r.job, r.node.as_str(), r.start))
        .collect();
    assert_eq!(planned, [(JobId(4), "n0", Time(60 * MINUTE))]);
}

#[test]
fn a_reserved_job_behind_a_new_strict_fifo_head_gives_its_reservation_up() {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(4000))])
        .strict_fifo()
        .build();
    let mut s = scheduler_with(config, with_backfill(true));
    s.node(NodeBuilder::new("n0", "f", 4));
    s.submit(job(1, 2, 60));
    s.checked_cycle(0);
    s.submit(job(2, 4, 60));
    let (_, reserved) = decide_all_with_reservations(&mut s, Time(10));
    assert_eq!(reserved.len(), 1);
    // a job of higher priority now heads the queue: the reserved job is decided in its place,
    // behind it, is blocked, and holds nothing back any more
    s.submit(job(3, 3, 60).priority(5).submitted(Time(20)));
    assert_eq!(s.consideration_order(Time(30)), [JobId(3), JobId(2)]);
    let (d, reserved) = decide_all_with_reservations(&mut s, Time(30));
    assert!(matches!(waiting(&d, 3), WaitReason::NoFlavorFits { .. }));
    assert!(matches!(waiting(&d, 2), WaitReason::BlockedByHead { .. }));
    assert_eq!(
        reserved.iter().map(|r| r.job).collect::<Vec<_>>(),
        [JobId(3)]
    );
}

#[test]
fn one_gpu_jobs_get_no_reservation_below_min_gpus() {
    let mut s = fleet(1, 2, with_backfill(true));
    s.submit(job(1, 2, 60));
    s.checked_cycle(0);
    s.submit(job(2, 1, 60));
    let (_, reserved) = decide_all_with_reservations(&mut s.clone(), Time(10));
    assert!(reserved.is_empty());
}

#[test]
fn backfill_is_off_unless_asked_for() {
    assert!(!Policy::default().backfill.enabled);
    // measured, it did not pay on semester-peak (scenarios/README.md): the presets leave it off
    for name in Policy::preset_names() {
        let policy = Policy::preset(&name).unwrap();
        assert!(!policy.backfill.enabled, "{name}");
    }
    assert!(Backfill::easy().enabled);
    // a policy written before the knob reads as before
    let policy: Policy = serde_json::from_str("{}").unwrap();
    assert_eq!(policy.backfill, Backfill::default());
    let policy: Policy = serde_json::from_str(r#"{"backfill": {"enabled": true}}"#).unwrap();
    assert_eq!(policy.backfill, Backfill::easy());
}

/// After a cycle (`after`, `now`): every reservation still held is as good as planned — the
/// reserved node will have the job's GPUs free by the planned start (or now, if that passed),
/// counting the running jobs out by their expected ends, so no admission or preemption since
/// it was planned delays it. Jobs of higher priority are not held back: what they hold past
/// the start does not count against it.
pub fn check_reservations_hold(
    after: &Scheduler,
    reserved: &[Reserved],
    now: Time,
) -> Result<(), TestCaseError> {
    for reservation in reserved {
        let Some(job) = after.pending().find(|j| j.id == reservation.job) else {
            return Err(TestCaseError::fail(format!(
                "a reservation for a job not pending: {reservation:?}"
            )));
        };
        let GpuRequest::Whole { count, .. } = job.gpu else {
            return Err(TestCaseError::fail(format!("reserved for {job:?}")));
        };
        let Some(node) = after.ledgers().fleet.node(&reservation.node) else {
            return Err(TestCaseError::fail(format!(
                "no node {:?}",
                reservation.node
            )));
        };
        let start = reservation.start.max(now);
        let free: u64 = node.gpus.iter().map(|gpu| gpu.free.0).sum();
        // what ends by the start, and what jobs it may not hold back keep past it: those of
        // higher priority, and those whose deadline falls before its planned start and their
        // run
        let not_held = |r: &Running| {
            let run = r.expected_end().0 - r.began().0;
            r.job.priority > job.priority
                || r.job
                    .deadline
                    .is_some_and(|d| d.0 < reservation.start.0 + run)
        };
        let freed: u64 = after
            .running()
            .filter(|r| r.placement.public.is_none())
            .filter(|r| r.expected_end() <= start || not_held(r))
            .flat_map(|r| r.placement.nodes.iter())
            .filter(|share| share.node == reservation.node)
            .flat_map(|share| share.gpus.iter())
            .map(|gpu| gpu.milli.0)
            .sum();
        prop_assert!(
            free + freed >= u64::from(count) * 1000,
            "{reservation:?} for {count} GPUs: {free} milli free and {freed} freed by {start}"
        );
    }
    Ok(())
}

/// A stream of jobs of 1 to 8 GPUs and 5 min to 10 h on a small fleet, with finishes at
/// their expected ends, early or late, and cycles in between. One priority: a job of higher
/// priority is not held back and may push a reservation later (see the examples).
#[derive(Debug, Clone)]
enum Step {
    Submit {
        gpus: u32,
        minutes: u64,
        priority: i32,
    },
    /// The running job this index picks ends.
    Finish(proptest::sample::Index),
    /// Time passes: this many minutes.
    Cycle(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (prop_oneof![3 => 1u32..=2, 1 => 3u32..=8], 5u64..=600, 0i32..=0)
            .prop_map(|(gpus, minutes, priority)| Step::Submit { gpus, minutes, priority }),
        2 => any::<proptest::sample::Index>().prop_map(Step::Finish),
        2 => (1u64..=120).prop_map(Step::Cycle),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// With backfill on, over generated job streams: no cycle's admissions push a reserved
    /// job's planned start later, a held job is held by a job that still waits, and the
    /// memo decides as deciding afresh does (`checked_cycle`).
    #[test]
    fn admissions_never_delay_a_reservation(
        nodes in 1u32..=3,
        gpus in prop_oneof![Just(4u32), Just(8)],
        per_flavor in 1u32..=2,
        steps in vec(step(), 1..60),
    ) {
        let policy = Policy {
            backfill: Backfill { enabled: true, per_flavor, min_gpus: 2 },
            ..Policy::default()
        };
        let mut s = fleet(nodes, gpus, policy);
        let (mut now, mut id) = (0u64, 0u64);
        for step in steps {
            match step {
                Step::Submit { gpus: want, minutes, priority } => {
                    id += 1;
                    let want = want.min(gpus);
                    s.submit(job(id, want, minutes).priority(priority).submitted(Time(now)));
                }
                Step::Finish(index) => {
                    let running: Vec<JobId> = s.running().map(|r| r.job.id).collect();
                    if !running.is_empty() {
                        let job = running[index.index(running.len())];
                        s.apply(Input::JobFinished(job)).unwrap();
                    }
                }
                Step::Cycle(minutes) => {
                    now += minutes * MINUTE;
                    let (all, reserved) = decide_all_with_reservations(&mut s.clone(), Time(now));
                    let d = s.checked_cycle(now);
                    prop_assert_eq!(&all, &d);
                    let mut after = s.clone();
                    // the state after the cycle is the clone's after its own cycle
                    let (_, again) = decide_all_with_reservations(&mut after, Time(now));
                    check_reservations_hold(&s, &reserved, Time(now))?;
                    for decision in &d {
                        if let Decision::Wait { reason: WaitReason::HeldForReservation { job, .. }, .. } = decision {
                            prop_assert!(reserved.iter().any(|r| r.job == *job), "{decision}");
                        }
                    }
                    // settled: a second cycle admits nobody and keeps the reservations
                    prop_assert_eq!(&again, &reserved);
                }
            }
        }
    }
}

#[test]
fn a_reservation_on_a_node_that_leaves_ends_with_it() {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(6_000))])
        .build();
    let mut policy = with_backfill(true);
    policy.backfill.min_gpus = 1;
    let mut s = scheduler_with(config, policy);
    s.node(NodeBuilder::new("n0", "f", 2));
    s.node(NodeBuilder::new("n1", "f", 4));
    s.submit(job(1, 4, 600)).submit(job(2, 2, 600));
    let started = s.checked_cycle(0);
    admitted(&started, 1);
    admitted(&started, 2);
    // only n1 could ever hold job 3: it is reserved there, for when job 1 ends
    s.submit(job(3, 3, 60)).submit(job(4, 1, 60));
    let (_, reserved) = decide_all_with_reservations(&mut s, Time(10));
    let on = |reserved: &[Reserved], id| reserved.iter().find(|r| r.job == JobId(id)).cloned();
    assert_eq!(
        on(&reserved, 3).map(|r| r.node.to_string()),
        Some("n1".into())
    );
    s.apply(Input::NodeRemoved(alloc_core::NodeName::new("n1")))
        .unwrap();
    assert!(!alloc_core::testing::reserved_jobs(&s).contains(&JobId(3)));
    // the next cycle plans for those that can still run: job 4, on n0
    let (_, reserved) = decide_all_with_reservations(&mut s, Time(20));
    assert_eq!(on(&reserved, 3), None);
    assert_eq!(
        on(&reserved, 4).map(|r| r.node.to_string()),
        Some("n0".into())
    );
}
