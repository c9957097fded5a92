//! The rescue rule: a tenant's public budget goes first to deadlines the private fleet is
//! predicted to miss; other bursts spend only what lies above the reserve, one rescue may not
//! take more than its cap, and a paced budget opens with its term.

use crate::burst::{burster, warm_tail, world_with};
use crate::support::{admitted, decision, no_burst, scheduler_with, waiting, Feed};
use alloc_core::burst::{BurstCause, Rescue, Term};
use alloc_core::testing::{JobBuilder, NodeBuilder};
use alloc_core::{
    Backfill, Decision, Input, JobId, Millis, Money, NoBurst, Policy, Scheduler, Tier, Time,
};
use proptest::prelude::*;
use std::collections::BTreeSet;

const MINUTE: u64 = 60_000;

/// The default policy with these rescue knobs.
fn rescuing(rescue: Rescue) -> Policy {
    let mut policy = Policy::preset("tiered-burst").unwrap();
    policy.burst.rescue = Some(rescue);
    policy
}

fn knobs(reserve_percent: u32, max_rescue_percent: u32) -> Rescue {
    Rescue {
        reserve_percent,
        max_rescue_percent,
        count_queue_ahead: true,
        term: None,
        pace_ahead_percent: None,
        displace: false,
    }
}

// In `warm_tail(4)` the only offer is a T4 at 1/GPU-hour: a burster's burst is expected to
// cost 1.75 (5 min provisioning + 100 min) and reserves 2.25 with its 30 min warm tail; the
// private V100 is busy for ten hours.

#[test]
fn a_rescue_spends_the_reserve_that_other_bursts_may_not() {
    let mut s = world_with(warm_tail(6), rescuing(knobs(50, 100)));
    s.submit(burster(2));
    s.submit(burster(3).deadline(Time(180 * MINUTE)));
    let decisions = s.checked_cycle(MINUTE);
    // the deadline job: privately it would end after 11 h, on the T4 at 106 min
    let placement = admitted(&decisions, 3).clone();
    let lease = placement.public.as_ref().unwrap();
    assert_eq!(lease.cause, BurstCause::DeadlineRescue);
    assert_eq!(lease.reserved, Money(2_250_000));
    assert!(
        placement
            .to_string()
            .contains("cost 1.75 of lab's remaining 6.00"),
        "{placement}"
    );
    // the job without a deadline waits its threshold, then finds only the part above the
    // reserve (3.00), and the rescue has taken 2.25 of it
    let decisions = s.checked_cycle(31 * MINUTE);
    assert_eq!(
        no_burst(&decisions, 2),
        Some(&NoBurst::KeptForDeadlines {
            tenant: "lab".into(),
            needed: Money(2_250_000),
            from: None,
        }),
        "{}",
        decision(&decisions, 2)
    );
}

#[test]
fn without_a_deadline_to_save_a_burst_spends_only_above_the_reserve() {
    // 2.25 fits under 60% of 4.00 (2.40) but not under 50% (2.00)
    for (reserve, bursts) in [(40, true), (50, false)] {
        let mut s = world_with(warm_tail(4), rescuing(knobs(reserve, 100)));
        s.submit(burster(2));
        waiting(&s.checked_cycle(10 * MINUTE), 2);
        let decisions = s.checked_cycle(31 * MINUTE);
        if bursts {
            let lease = admitted(&decisions, 2).public.clone().unwrap();
            assert_eq!(lease.cause, BurstCause::WaitedThreshold);
        } else {
            assert!(
                matches!(
                    no_burst(&decisions, 2),
                    Some(NoBurst::KeptForDeadlines { .. })
                ),
                "reserve {reserve}: {}",
                decision(&decisions, 2)
            );
        }
    }
}

#[test]
fn a_rescue_dearer_than_the_cap_is_not_bought() {
    // one rescue may reserve 50% of 4.00: 2.00 < 2.25
    let mut s = world_with(warm_tail(4), rescuing(knobs(50, 50)));
    s.submit(burster(2).deadline(Time(180 * MINUTE)));
    let decisions = s.checked_cycle(MINUTE);
    assert_eq!(
        no_burst(&decisions, 2),
        Some(&NoBurst::RescueCap {
            needed: Money(2_250_000),
            cap: Money(2_000_000),
        }),
        "{}",
        decision(&decisions, 2)
    );
    assert!(decision(&decisions, 2)
        .to_string()
        .contains("saving its deadline would reserve 2.25, above the 2.00 one rescue may"));
}

#[test]
fn a_rescue_needs_an_offer_that_meets_the_deadline() {
    // the T4 ends at 106 min at the earliest: a 100 min deadline cannot be saved, and the
    // job waits for the wait rule (which its deadline shrinks to nothing)
    let mut s = world_with(warm_tail(4), rescuing(knobs(100, 100)));
    s.submit(burster(2).deadline(Time(100 * MINUTE)));
    let decisions = s.checked_cycle(MINUTE);
    assert_eq!(
        no_burst(&decisions, 2),
        Some(&NoBurst::PublicTooLate),
        "{}",
        decision(&decisions, 2)
    );
}

/// A SILVER job of `gpus` GPUs and `hours`, submitted at one minute.
fn silver(id: u64, gpus: u32, hours: u64) -> JobBuilder {
    JobBuilder::gpus(gpus)
        .id(id)
        .tier(Tier::Silver)
        .runtime(Millis::hours(hours))
        .submitted(Time(MINUTE))
}

/// A V100 node of 4 GPUs under `policy`, on which job 1 holds `gpus` of them for an hour;
/// then job 2 of `deadline_gpus` GPUs, an hour long, that may burst and must end by 2.5 h.
fn busy_node_and_a_deadline_job(policy: Policy, gpus: u32, deadline_gpus: u32) -> Scheduler {
    let mut s = scheduler_with(warm_tail(20), policy);
    s.node(NodeBuilder::new("n", "v100", 4));
    s.submit(silver(1, gpus, 1));
    admitted(&s.checked_cycle(MINUTE), 1);
    s.submit(
        silver(2, deadline_gpus, 1)
            .allow_upgrade()
            .burstable()
            .deadline(Time(150 * MINUTE)),
    );
    s
}

#[test]
fn a_job_that_starts_after_a_deadline_job_in_the_cycle_counts_in_its_forecast() {
    // job 1 holds 2 of the 4 GPUs; job 2 needs 3 GPUs by 2.5 h: privately it would run from
    // 1 h to 2 h, its deadline shortens its wait to 3.75 min, so it waits...
    let mut s = busy_node_and_a_deadline_job(rescuing(knobs(50, 100)), 2, 3);
    let mut alone = s.clone();
    let decisions = alone.checked_cycle(2 * MINUTE);
    assert!(
        matches!(no_burst(&decisions, 2), Some(NoBurst::TooEarly { .. })),
        "{}",
        decision(&decisions, 2)
    );
    // ...unless job 3, after it in the order, takes the 2 free GPUs for 10 h: then it would
    // start privately at 11 h, and the same cycle rescues it, as the next one would
    s.submit(silver(3, 2, 10));
    let mut reported = s.clone();
    let decisions = s.checked_cycle(2 * MINUTE);
    assert!(admitted(&decisions, 3).public.is_none());
    let lease = admitted(&decisions, 2).public.clone().unwrap();
    assert_eq!(lease.cause, BurstCause::DeadlineRescue);
    assert!(s.clone().checked_cycle(2 * MINUTE).is_empty());
    // a cycle that reports changes reports the rescue in the job's place in the order
    let changes = reported.cycle(Time(2 * MINUTE)).changes;
    let ids: Vec<JobId> = changes.iter().map(Decision::job).collect();
    assert_eq!(ids, [JobId(2), JobId(3)], "{changes:#?}");
    assert_eq!(admitted(&changes, 2).public.as_ref(), Some(&lease));
}

#[test]
fn a_job_reserved_after_a_deadline_job_counts_ahead_of_it_as_the_next_cycle_would() {
    // job 1 holds all 4 GPUs; job 2 needs 1 GPU by 2.5 h: privately from 1 h to 2 h, so it
    // may wait; job 3, after it in the order, waits for the whole node and gets a
    // reservation there
    let mut policy = rescuing(knobs(50, 100));
    policy.backfill = Backfill {
        min_gpus: 2,
        ..Backfill::easy()
    };
    let mut s = busy_node_and_a_deadline_job(policy, 4, 1);
    s.submit(silver(3, 4, 1));
    let mut reported = s.clone();
    let decisions = s.checked_cycle(2 * MINUTE);
    waiting(&decisions, 3);
    assert!(alloc_core::testing::reserved_jobs(&s).contains(&JobId(3)));
    // the next cycle decides job 3 first, and job 2 behind its 4 GPUs would never start
    // privately: this cycle rescues it already
    let lease = admitted(&decisions, 2).public.clone().unwrap();
    assert_eq!(lease.cause, BurstCause::DeadlineRescue);
    let again = s.clone().checked_cycle(2 * MINUTE);
    assert!(
        again.iter().all(|d| matches!(d, Decision::Wait { .. })),
        "{again:#?}"
    );
    let changes = reported.cycle(Time(2 * MINUTE)).changes;
    assert_eq!(admitted(&changes, 2).public.as_ref(), Some(&lease));
}

#[test]
fn a_paced_budget_opens_with_its_term_and_the_clock_says_when() {
    // 4.00 spread over 10 h with no head start: 2.25 is 56.25% of it, open from 5 h 37.5 min
    let rescue = Rescue {
        term: Some(Term {
            start: Time(0),
            over: Millis::hours(10),
        }),
        pace_ahead_percent: Some(0),
        ..knobs(0, 100)
    };
    let mut s = world_with(warm_tail(4), rescuing(rescue));
    s.submit(burster(2).deadline(Time(8 * 60 * MINUTE)));
    let opens = Time(20_250_000);
    let cycle = s.cycle(Time(MINUTE));
    let told = cycle
        .changes
        .iter()
        .find(|d| d.job().0 == 2)
        .expect("job 2's first decision");
    assert!(
        matches!(
            told,
            alloc_core::Decision::Wait {
                no_burst: Some(NoBurst::Paced { from: Some(from), .. }),
                ..
            } if *from == opens
        ),
        "{told}"
    );
    assert!(
        cycle.next_change.is_some_and(|next| next <= opens),
        "the clock must wake the job by {opens}: {:?}",
        cycle.next_change
    );
    waiting(&s.checked_cycle(opens.0 - 1), 2);
    let lease = admitted(&s.checked_cycle(opens.0), 2)
        .public
        .clone()
        .unwrap();
    assert_eq!(lease.cause, BurstCause::DeadlineRescue);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Over a day of deadline and deadline-free jobs under any rescue knobs, every rescue's
    /// offer meets the job's deadline and reserves at most the cap, and every other burst
    /// keeps the tenant's commitments within the part of the budget above the reserve.
    #[test]
    fn rescues_meet_deadlines_and_other_bursts_leave_the_reserve(
        jobs in proptest::collection::vec((0u64..600, 10u64..300, proptest::option::of(60u64..900)), 1..12),
        tenant_budget in 1i64..15,
        reserve_percent in 0u32..=100,
        max_rescue_percent in 0u32..=100,
        count_queue_ahead in any::<bool>(),
        displace in any::<bool>(),
    ) {
        let rescue = Rescue { reserve_percent, max_rescue_percent, count_queue_ahead, term: None, pace_ahead_percent: None, displace };
        let budget = Money::units(tenant_budget);
        let mut s = world_with(warm_tail(tenant_budget), rescuing(rescue));
        for (index, (submit, runtime, window)) in jobs.iter().enumerate() {
            let mut job = burster(index as u64 + 2)
                .runtime(Millis::minutes(*runtime))
                .submitted(Time(submit * MINUTE));
            if let Some(window) = window {
                job = job.deadline(Time((submit + window) * MINUTE));
            }
            s.apply(Input::JobSubmitted(job.build())).unwrap();
        }
        let lab = "lab".into();
        for minute in (0..=24 * 60).step_by(10) {
            let now = Time(minute * MINUTE);
            let ended: Vec<JobId> = s.running()
                .filter(|r| r.placement.public.as_ref().is_some_and(|l| l.expected_end <= now))
                .map(|r| r.job.id)
                .collect();
            for id in ended {
                s.apply(Input::JobFinished(id)).unwrap();
            }
            let mut committed = s.spend().tenant(&lab);
            for decision in s.decide_all(now) {
                let Decision::Admit { placement, job } = &decision else { continue };
                let Some(lease) = &placement.public else { continue };
                committed = committed + lease.reserved;
                let deadline = s.running_job(*job).unwrap().job.deadline;
                if lease.cause == BurstCause::DeadlineRescue {
                    prop_assert!(deadline.is_some_and(|d| lease.expected_end <= d), "{decision}");
                    prop_assert!(i128::from(lease.reserved.0) * 100 <= i128::from(budget.0) * i128::from(max_rescue_percent), "{decision}");
                    prop_assert!(committed <= budget);
                } else {
                    let above = i128::from(budget.0) * i128::from(100 - reserve_percent);
                    prop_assert!(i128::from(committed.0) * 100 <= above, "{committed} of {budget} with {reserve_percent}% kept: {decision}");
                }
            }
            prop_assert!(s.check_invariants().is_ok(), "{:?}", s.check_invariants());
        }
    }
}

#[test]
fn the_reserve_shrinks_over_the_term_and_lets_a_waiting_burst_through() {
    // 90% of 4.00 kept at the start of a 20 h term; 2.25 fits once the ceiling above the
    // reserve, 4.00 × (0.1 + 0.9 × elapsed ÷ 20 h), reaches it: after 10 h 17 min (to the
    // millionth of the term the reserve is reckoned in)
    let rescue = Rescue {
        term: Some(Term {
            start: Time(0),
            over: Millis::hours(20),
        }),
        ..knobs(90, 100)
    };
    let mut s = world_with(warm_tail(4), rescuing(rescue));
    s.submit(burster(2));
    let decisions = s.checked_cycle(31 * MINUTE);
    let Some(NoBurst::KeptForDeadlines {
        from: Some(from), ..
    }) = no_burst(&decisions, 2).cloned()
    else {
        panic!("{}", decision(&decisions, 2));
    };
    assert_eq!(from, Time(36_999_936));
    waiting(&s.checked_cycle(from.0 - 1), 2);
    let lease = admitted(&s.checked_cycle(from.0), 2)
        .public
        .clone()
        .unwrap();
    assert_eq!(lease.cause, BurstCause::WaitedThreshold);
}

/// A SILVER deadline job of one GPU-hour that may not burst: only the private V100 runs it.
#[test]
fn the_queue_ahead_counts_jobs_that_wait_quietly_for_room() {
    // two V100s, free at 10 h and at 11 h
    let mut s = scheduler_with(warm_tail(6), rescuing(knobs(0, 100)));
    s.node(NodeBuilder::new("n", "v100", 2));
    for (id, hours) in [(1, 10), (2, 11)] {
        let running = JobBuilder::gpus(1).id(id).tier(Tier::Silver);
        s.submit(running.runtime(Millis::hours(hours)));
    }
    admitted(&s.checked_cycle(0), 1);
    // two one-hour jobs that may not burst wait for room, and from the next cycle on quietly
    for id in [3, 4] {
        let job = JobBuilder::gpus(1).id(id).tier(Tier::Silver);
        s.submit(job.runtime(Millis::hours(1)).submitted(Time(id)));
    }
    waiting(&s.checked_cycle(MINUTE), 4);
    // behind them, a job due at 12.5 h: it would make it at 12 h if only one of them went
    // first, and not at all with both ahead of it
    s.submit(
        burster(5)
            .priority(-5)
            .submitted(Time(MINUTE))
            .deadline(Time(750 * MINUTE)),
    );
    let now = Time(2 * MINUTE);
    assert_eq!(s.consideration_order(now).last(), Some(&JobId(5)));
    let afresh = s.clone().decide_all(now);
    let changes = s.cycle(now).changes;
    let rescued = |decisions: &[Decision]| match decision(decisions, 5) {
        Decision::Admit { placement, .. } => placement.public.as_ref().map(|lease| lease.cause),
        _ => None,
    };
    assert_eq!(rescued(&afresh), Some(BurstCause::DeadlineRescue));
    assert_eq!(rescued(&changes), rescued(&afresh));
}

fn stuck(id: u64, deadline: Time) -> JobBuilder {
    JobBuilder::gpus(1)
        .id(id)
        .tier(Tier::Silver)
        .runtime(Millis::hours(1))
        .deadline(deadline)
}

#[test]
fn a_job_that_may_burst_leaves_the_private_gpus_to_a_deadline_job_that_may_not() {
    // the V100 is busy for ten hours; job 3 may only run there, by 15 h
    for displace in [true, false] {
        let rescue = Rescue {
            displace,
            ..Rescue::default()
        };
        let mut s = world_with(warm_tail(100), rescuing(rescue));
        s.submit(stuck(3, Time(15 * 60 * MINUTE)));
        s.submit(burster(2));
        let decisions = s.checked_cycle(MINUTE);
        waiting(&decisions, 3);
        if displace {
            let placement = admitted(&decisions, 2).clone();
            let lease = placement.public.as_ref().unwrap();
            assert_eq!(lease.cause, BurstCause::Displacement);
            assert!(
                placement.to_string().contains(
                    "displacing: 1 deadline job(s) that may not burst wait for v100; waited 1 min"
                ),
                "{placement}"
            );
        } else {
            assert_eq!(
                no_burst(&decisions, 2),
                Some(&NoBurst::TooEarly {
                    threshold: Millis::minutes(30),
                    from: Time(30 * MINUTE),
                })
            );
        }
    }
}

#[test]
fn displacement_waits_for_a_stuck_job_and_spends_only_above_the_reserve() {
    // a job that may not burst but has no deadline displaces nobody
    let mut s = world_with(warm_tail(100), rescuing(Rescue::default()));
    s.submit(JobBuilder::gpus(1).id(3).tier(Tier::Silver));
    s.submit(burster(2));
    assert!(matches!(
        no_burst(&s.checked_cycle(MINUTE), 2),
        Some(NoBurst::TooEarly { .. })
    ));
    // with one, the burst still leaves the reserve alone: 2.25 is above 10% of 4.00
    let mut s = world_with(warm_tail(4), rescuing(Rescue::default()));
    s.submit(stuck(3, Time(15 * 60 * MINUTE)));
    s.submit(burster(2));
    assert!(matches!(
        no_burst(&s.checked_cycle(MINUTE), 2),
        Some(NoBurst::KeptForDeadlines { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Over a day of bursters and deadline jobs that may not burst, a job bursts by
    /// displacement only in a cycle that began with such a deadline job waiting, and only
    /// when the policy displaces; budgets and the fleet's invariants hold throughout.
    #[test]
    fn a_job_displaces_only_while_a_deadline_job_that_may_not_burst_waits(
        jobs in proptest::collection::vec((0u64..600, 10u64..300, proptest::option::of(60u64..900), any::<bool>()), 1..12),
        tenant_budget in 1i64..15,
        reserve_percent in 0u32..=100,
        displace in any::<bool>(),
    ) {
        let rescue = Rescue { reserve_percent, displace, ..Rescue::default() };
        let mut s = world_with(warm_tail(tenant_budget), rescuing(rescue));
        let mut stuck_ids = BTreeSet::new();
        for (index, (submit, runtime, window, may_burst)) in jobs.iter().enumerate() {
            let id = index as u64 + 2;
            let mut job = if *may_burst {
                burster(id)
            } else {
                JobBuilder::gpus(1).id(id).tier(Tier::Silver)
            }
            .runtime(Millis::minutes(*runtime))
            .submitted(Time(submit * MINUTE));
            if let Some(window) = window {
                job = job.deadline(Time((submit + window) * MINUTE));
                if !*may_burst {
                    stuck_ids.insert(JobId(id));
                }
            }
            s.apply(Input::JobSubmitted(job.build())).unwrap();
        }
        let lab = "lab".into();
        let mut settled = BTreeSet::new();
        for minute in (0..=24 * 60).step_by(10) {
            let now = Time(minute * MINUTE);
            let ended: Vec<JobId> = s.running()
                .filter(|r| r.placement.public.as_ref().map_or(r.started + r.job.runtime, |l| l.expected_end) <= now)
                .map(|r| r.job.id)
                .collect();
            for id in ended {
                s.apply(Input::JobFinished(id)).unwrap();
            }
            // every job is pending from the start (its submit time is only a field)
            let stuck_waiting = stuck_ids.iter().any(|id| !settled.contains(id));
            for decision in s.decide_all(now) {
                if !matches!(decision, Decision::Wait { .. }) {
                    settled.insert(decision.job());
                }
                let Decision::Admit { placement, .. } = &decision else { continue };
                let Some(lease) = &placement.public else { continue };
                if lease.cause == BurstCause::Displacement {
                    prop_assert!(displace && stuck_waiting, "{decision}");
                }
            }
            prop_assert!(s.spend().tenant(&lab) <= Money::units(tenant_budget));
            prop_assert!(s.check_invariants().is_ok(), "{:?}", s.check_invariants());
        }
    }
}
