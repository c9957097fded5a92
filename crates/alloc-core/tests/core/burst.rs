//! Burst: when a waiting job rents public GPUs, which offer it takes, what budgets allow,
//! and the properties the issue asks for (monotone in waiting time, budgets never exceeded,
//! sensitive data never public).

use crate::support::{admitted, decision, rejected, scheduler_with, waiting, Feed};
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    BudgetKind, Config, DataClass, Decision, Input, JobId, Millis, Money, Policy, Quota,
    RejectReason, Scheduler, Tier, Time,
};
use proptest::prelude::*;

const MINUTE: u64 = 60_000;

/// One private V100 node, busy for ten hours with job 1; offers: T4 at 1/GPU-hour (0.6× speed),
/// A100 at 4/GPU-hour (2× speed), both ready five minutes after a burst.
fn config(t4_cap: u32, a100_cap: u32) -> Config {
    ConfigBuilder::new()
        .private_flavor("v100", Tier::Silver)
        .offer("cloud-t4", Tier::Silver, "T4", 1, 5, t4_cap)
        .offer("cloud-a100", Tier::Gold, "A100", 4, 5, a100_cap)
        .queue("q", &[("v100", Quota::nominal(8000))])
        .tenant("lab", None, None)
        .build()
}

fn world_with(config: Config, policy: Policy) -> Scheduler {
    let mut s = scheduler_with(config, policy);
    s.node(NodeBuilder::new("n", "v100", 1));
    s.submit(
        JobBuilder::gpus(1)
            .id(1)
            .tier(Tier::Silver)
            .runtime(Millis::hours(10)),
    );
    admitted(&s.checked_cycle(0), 1);
    s
}

fn world(preset: &str) -> Scheduler {
    world_with(config(8, 8), Policy::preset(preset).unwrap())
}

fn burster(id: u64) -> JobBuilder {
    JobBuilder::gpus(1)
        .id(id)
        .tier(Tier::Silver)
        .runtime(Millis::hours(1))
        .burstable()
}

#[test]
fn a_job_waits_its_threshold_then_bursts_to_the_cheapest_offer() {
    let mut s = world("tiered-burst");
    s.submit(burster(2));
    waiting(&s.checked_cycle(10 * MINUTE), 2);
    let placement = admitted(&s.checked_cycle(31 * MINUTE), 2).clone();
    let lease = placement.public.as_ref().unwrap();
    assert_eq!(placement.flavor.as_str(), "cloud-t4");
    assert_eq!(placement.cluster.as_str(), "cloud");
    // 5 min provisioning + 100 min on a T4 (0.6×), at 1.00 per GPU-hour
    assert_eq!(lease.expected_cost, Money(1_750_000));
    assert_eq!(lease.ready_at, Time(36 * MINUTE));
    assert_eq!(s.spend().job(JobId(2)), Money(1_750_000));
    // Finishing releases the lease at once.
    s.apply(Input::JobFinished(JobId(2))).unwrap();
    assert_eq!(s.ledgers().public.in_use(&"cloud-t4".into()), 0);
}

#[test]
fn a_deadline_the_private_fleet_misses_bursts_at_once_to_an_offer_that_meets_it() {
    let mut s = world("tiered-burst");
    s.submit(burster(2).deadline(Time(90 * MINUTE)));
    let placement = admitted(&s.checked_cycle(MINUTE), 2).clone();
    // The T4 would end at 106 min; the A100 (2×) at 36 min meets the deadline.
    assert_eq!(placement.flavor.as_str(), "cloud-a100");
    let text = placement.to_string();
    assert!(
        text.contains("rented A100") && text.contains("threshold 0 min"),
        "{text}"
    );
}

#[test]
fn sensitive_and_non_burstable_jobs_never_burst() {
    let mut s = world("always-burst");
    s.submit(burster(2).sensitive());
    s.submit(JobBuilder::gpus(1).id(3).tier(Tier::Silver));
    let decisions = s.checked_cycle(24 * 60 * MINUTE);
    waiting(&decisions, 2);
    waiting(&decisions, 3);
}

#[test]
fn always_burst_goes_at_once_and_never_burst_never_does() {
    let mut s = world("always-burst");
    s.submit(burster(2));
    assert!(admitted(&s.checked_cycle(MINUTE), 2).public.is_some());
    let mut s = world("never-burst");
    s.submit(burster(2));
    waiting(&s.checked_cycle(24 * 60 * MINUTE), 2);
}

#[test]
fn a_fixed_budget_never_pays_more_than_its_limit() {
    let mut s = world("always-burst");
    // The T4 costs 1.75 for this job, the A100 2.33: a fixed 1.00 affords neither, 2.00 the T4.
    s.submit(burster(2).budget(BudgetKind::Fixed, 1));
    s.submit(burster(3).budget(BudgetKind::Fixed, 2));
    let decisions = s.checked_cycle(MINUTE);
    waiting(&decisions, 2);
    assert!(admitted(&decisions, 3).public.is_some());
}

#[test]
fn a_flex_budget_may_overrun_by_the_policy_margin_only() {
    // 1.75 is 25% over 1.40 and 75% over 1.00; the default margin is 25%.
    let mut s = world("always-burst");
    s.submit(burster(2).budget(BudgetKind::Flex, 1));
    waiting(&s.checked_cycle(MINUTE), 2);
    let mut policy = Policy::preset("always-burst").unwrap();
    policy.burst.flex_overrun_percent = 80;
    let mut s = world_with(config(8, 8), policy);
    s.submit(burster(2).budget(BudgetKind::Flex, 1));
    assert!(admitted(&s.checked_cycle(MINUTE), 2).public.is_some());
}

#[test]
fn a_tenant_public_budget_is_cumulative() {
    let config = ConfigBuilder::new()
        .private_flavor("v100", Tier::Silver)
        .offer("cloud-t4", Tier::Silver, "T4", 1, 5, 8)
        .queue("q", &[("v100", Quota::nominal(8000))])
        .tenant("lab", None, None)
        .tenant_public_budget("lab", 3)
        .build();
    let mut s = world_with(config, Policy::preset("always-burst").unwrap());
    s.submit(burster(2));
    assert!(admitted(&s.checked_cycle(MINUTE), 2).public.is_some());
    s.apply(Input::JobFinished(JobId(2))).unwrap();
    // 1.75 spent; another 1.75 would pass 3.00, even though the first burst has ended.
    s.submit(burster(3));
    waiting(&s.checked_cycle(200 * MINUTE), 3);
    assert_eq!(s.spend().tenant(&"lab".into()), Money(1_750_000));
}

#[test]
fn offer_caps_bound_the_gpus_leased_at_once() {
    let mut s = world_with(config(1, 0), Policy::preset("always-burst").unwrap());
    s.submit(burster(2));
    s.submit(burster(3));
    let decisions = s.checked_cycle(MINUTE);
    assert!(admitted(&decisions, 2).public.is_some());
    waiting(&decisions, 3);
}

#[test]
fn a_deadline_nothing_can_meet_is_rejected() {
    let mut s = world("tiered-burst");
    // One hour of work due in ten minutes: not even the A100 (5 + 30 min) makes it.
    s.submit(burster(2).deadline(Time(10 * MINUTE)));
    let reason = rejected(&s.checked_cycle(0), 2).clone();
    assert!(
        matches!(reason, RejectReason::DeadlineInfeasible { .. }),
        "{reason}"
    );
    assert!(reason.to_string().contains("cannot be met"));
}

#[test]
fn a_public_only_job_whose_fixed_budget_covers_no_offer_is_rejected() {
    let config = ConfigBuilder::new()
        .offer("cloud-t4", Tier::Silver, "T4", 1, 5, 8)
        .queue("q", &[("cloud-t4", Quota::nominal(8000))])
        .build();
    let mut s = scheduler_with(config, Policy::preset("tiered-burst").unwrap());
    s.submit(burster(2).budget(BudgetKind::Fixed, 1));
    let reason = rejected(&s.checked_cycle(0), 2).clone();
    assert!(
        matches!(reason, RejectReason::BudgetTooSmall { .. }),
        "{reason}"
    );
}

/// A burstable job's decision after waiting `minutes`, everything else fixed.
fn decision_after(job: &alloc_core::Job, preset: &str, minutes: u64) -> Decision {
    let mut policy = Policy::preset(preset).unwrap();
    policy.reject_infeasible_deadlines = false;
    let mut s = world_with(config(8, 8), policy);
    s.apply(Input::JobSubmitted(job.clone())).unwrap();
    let decisions = s.cycle(Time(minutes * MINUTE));
    decision(&decisions, job.id.0).clone()
}

fn bursts(decision: &Decision) -> bool {
    matches!(decision, Decision::Admit { placement, .. } if placement.public.is_some())
}

prop_compose! {
    fn burstable_job()(
        gpus in 1u32..=2,
        runtime_minutes in 10u64..600,
        deadline_minutes in proptest::option::of(30u64..2_000),
        fixed in any::<bool>(),
        limit in proptest::option::of(1i64..20),
        tier in prop_oneof![Just(Tier::Bronze), Just(Tier::Silver), Just(Tier::Gold)],
    ) -> alloc_core::Job {
        let mut job = JobBuilder::gpus(gpus).id(2).tier(tier).runtime(Millis::minutes(runtime_minutes)).burstable().build();
        job.deadline = deadline_minutes.map(|m| Time(m * MINUTE));
        job.budget.limit = limit.map(Money::units);
        job.budget.kind = if fixed { BudgetKind::Fixed } else { BudgetKind::Flex };
        job
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// A job that bursts after waiting w also bursts after any w' > w, all else equal.
    #[test]
    fn burst_is_monotone_in_waiting_time(
        job in burstable_job(),
        preset in prop_oneof![
            Just("tiered-burst"), Just("starburst-constant"), Just("starburst-runtime"),
            Just("starburst-gpus"), Just("starburst-gpu-hours"), Just("always-burst"),
        ],
        first in 0u64..600,
        later in 1u64..600,
    ) {
        let early = decision_after(&job, preset, first);
        if bursts(&early) {
            let late = decision_after(&job, preset, first + later);
            prop_assert!(bursts(&late), "burst at {first} min but not at {} min: {late}", first + later);
        }
    }

    /// Over a day of bursts, committed spend never passes a fixed job budget or the tenant's
    /// public budget, sensitive jobs stay private, and every invariant holds after each cycle.
    #[test]
    fn budgets_hold_cumulatively_and_sensitive_data_stays_private(
        jobs in proptest::collection::vec((0u64..600, 1u32..=2, 10u64..300, any::<bool>(), 1i64..10, any::<bool>()), 1..12),
        tenant_budget in 1i64..15,
    ) {
        let config = ConfigBuilder::new()
            .private_flavor("v100", Tier::Silver)
            .offer("cloud-t4", Tier::Silver, "T4", 1, 5, 3)
            .offer("cloud-a100", Tier::Gold, "A100", 3, 5, 2)
            .queue("q", &[("v100", Quota::nominal(8000))])
            .tenant("lab", None, None)
            .tenant_public_budget("lab", tenant_budget)
            .build();
        let mut s = world_with(config, Policy::preset("always-burst").unwrap());
        for (index, (submit, gpus, runtime, fixed, limit, sensitive)) in jobs.iter().enumerate() {
            let mut job = JobBuilder::gpus(*gpus).id(index as u64 + 2).tier(Tier::Silver)
                .runtime(Millis::minutes(*runtime)).burstable()
                .budget(if *fixed { BudgetKind::Fixed } else { BudgetKind::Flex }, *limit)
                .submitted(Time(submit * MINUTE)).build();
            if *sensitive {
                job.data_class = DataClass::Sensitive;
            }
            s.apply(Input::JobSubmitted(job)).unwrap();
        }
        for minute in (0..=24 * 60).step_by(30) {
            let now = Time(minute * MINUTE);
            let ended: Vec<JobId> = s.running()
                .filter(|r| r.placement.public.as_ref().is_some_and(|lease| lease.expected_end <= now))
                .map(|r| r.job.id)
                .collect();
            for id in ended {
                s.apply(Input::JobFinished(id)).unwrap();
            }
            for decision in s.cycle(now) {
                if let Decision::Admit { placement, job } = &decision {
                    let running = s.running_job(*job).unwrap();
                    prop_assert!(placement.public.is_none() || running.job.data_class != DataClass::Sensitive);
                }
            }
            prop_assert!(s.check_invariants().is_ok(), "{:?}", s.check_invariants());
            prop_assert!(s.spend().tenant(&"lab".into()) <= Money::units(tenant_budget));
        }
    }
}
