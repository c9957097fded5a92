//! Burst: when a waiting job is admitted on a public flavor, which offer it takes, what its
//! queue's public quota and the budgets allow, why it does not burst when it does not, and
//! the properties the platform promises (monotone in waiting time, budgets a ceiling on the
//! bill at every instant, only burstable flexible jobs, sensitive data never public).

use crate::support::{admitted, decision, no_burst, rejected, scheduler_with, waiting, Feed};
use alloc_core::burst::BurstCause;
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    BudgetKind, Config, DataClass, Decision, Input, JobId, Millis, Money, NoBurst, Payer, Policy,
    Quota, RejectReason, Scheduler, Tier, Time,
};
use proptest::prelude::*;

const MINUTE: u64 = 60_000;

/// Plenty of quota on every flavor of the test configurations.
fn plenty() -> Quota {
    Quota::nominal(8000)
}

/// One private V100 node, busy for ten hours with job 1; offers: T4 at 1/GPU-hour (0.6× speed,
/// SILVER), A100 at 4/GPU-hour (2× speed, GOLD), both ready five minutes after a burst; queue
/// `q` has quota on all three flavors.
fn config(t4_cap: u32, a100_cap: u32) -> Config {
    ConfigBuilder::new()
        .private_flavor("v100", Tier::Silver)
        .offer("cloud-t4", Tier::Silver, "T4", 1, 5, t4_cap)
        .offer("cloud-a100", Tier::Gold, "A100", 4, 5, a100_cap)
        .queue(
            "q",
            &[
                ("v100", plenty()),
                ("cloud-t4", plenty()),
                ("cloud-a100", plenty()),
            ],
        )
        .tenant("lab", None, None)
        .build()
}

pub(crate) fn world_with(config: Config, policy: Policy) -> Scheduler {
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

/// A SILVER job of one GPU-hour that may burst, to a GOLD flavor too.
pub(crate) fn burster(id: u64) -> JobBuilder {
    JobBuilder::gpus(1)
        .id(id)
        .tier(Tier::Silver)
        .allow_upgrade()
        .runtime(Millis::hours(1))
        .burstable()
}

#[test]
fn a_job_waits_its_threshold_then_bursts_to_the_cheapest_offer_within_quota() {
    let mut s = world("tiered-burst");
    s.submit(burster(2));
    let decisions = s.checked_cycle(10 * MINUTE);
    waiting(&decisions, 2);
    assert_eq!(
        no_burst(&decisions, 2),
        Some(&NoBurst::TooEarly {
            threshold: Millis::minutes(30),
            from: Time(30 * MINUTE),
        })
    );
    let placement = admitted(&s.checked_cycle(31 * MINUTE), 2).clone();
    let lease = placement.public.as_ref().unwrap();
    assert_eq!(placement.flavor.as_str(), "cloud-t4");
    assert_eq!(placement.cluster.as_str(), "cloud");
    assert_eq!(placement.queue.as_str(), "q");
    // 5 min provisioning + 100 min on a T4 (0.6×), at 1.00 per GPU-hour
    assert_eq!(lease.expected_cost, Money(1_750_000));
    assert_eq!(
        lease.reserved, lease.expected_cost,
        "no warm tail on this offer"
    );
    assert_eq!(lease.lease, 1);
    assert_eq!(lease.ready_at, Time(36 * MINUTE));
    assert_eq!(s.spend().job(JobId(2)), Money(1_750_000));
    // the burst holds quota on the public flavor, as any admission does
    let used = s.ledgers().quota.of(&"q".into(), &"cloud-t4".into());
    assert_eq!(used.gpu, 1000);
    // Finishing releases the lease and the quota at once; the reservation stays until billed.
    s.apply(Input::JobFinished(JobId(2))).unwrap();
    assert_eq!(s.ledgers().public.in_use(&"cloud-t4".into()), 0);
    assert_eq!(s.ledgers().quota.of(&"q".into(), &"cloud-t4".into()).gpu, 0);
    assert_eq!(s.spend().job(JobId(2)), Money(1_750_000));
}

#[test]
fn a_deadline_the_private_fleet_misses_bursts_at_once_to_an_offer_that_meets_it() {
    let mut s = world("tiered-burst");
    s.submit(burster(2).deadline(Time(90 * MINUTE)));
    let placement = admitted(&s.checked_cycle(MINUTE), 2).clone();
    // The T4 would end at 106 min; the A100 (2×) at 36 min meets the deadline.
    assert_eq!(placement.flavor.as_str(), "cloud-a100");
    let lease = placement.public.as_ref().unwrap();
    assert_eq!(lease.cause, BurstCause::DeadlineRescue);
    let text = placement.to_string();
    assert!(
        text.contains("rented A100")
            && text.contains("rescue: predicted private finish t=39600000ms misses deadline")
            && text.contains("by 9.5 h"),
        "{text}"
    );
    // Without the rescue rule, the deadline-aware wait shrinks to nothing instead.
    let mut policy = Policy::preset("tiered-burst").unwrap();
    policy.burst.rescue = None;
    let mut s = world_with(config(8, 8), policy);
    s.submit(burster(2).deadline(Time(90 * MINUTE)));
    let placement = admitted(&s.checked_cycle(MINUTE), 2).clone();
    assert_eq!(placement.flavor.as_str(), "cloud-a100");
    assert_eq!(
        placement.public.as_ref().unwrap().cause,
        BurstCause::Deadline
    );
    assert!(placement.to_string().contains("threshold 0 min"));
}

#[test]
fn only_a_burstable_job_with_a_flexible_budget_and_data_that_may_leave_bursts() {
    let mut s = world("always-burst");
    s.submit(burster(2).sensitive());
    s.submit(JobBuilder::gpus(1).id(3).tier(Tier::Silver));
    s.submit(burster(4).budget(BudgetKind::Fixed, 100));
    s.submit(burster(5).budget(BudgetKind::Flex, 100));
    // the rules in order: a fixed budget is named before sensitive data
    s.submit(burster(6).budget(BudgetKind::Fixed, 100).sensitive());
    let decisions = s.checked_cycle(24 * 60 * MINUTE);
    for (id, why) in [
        (2, NoBurst::Sensitive),
        (3, NoBurst::NotBurstable),
        (4, NoBurst::FixedBudget),
        (6, NoBurst::FixedBudget),
    ] {
        waiting(&decisions, id);
        assert_eq!(no_burst(&decisions, id), Some(&why), "job {id}");
    }
    // the stable codes columns and metrics will carry
    let codes: Vec<_> = [2, 3, 4]
        .iter()
        .filter_map(|id| no_burst(&decisions, *id).map(NoBurst::code))
        .collect();
    assert_eq!(codes, ["sensitive", "not-burstable", "fixed-budget"]);
    assert!(admitted(&decisions, 5).public.is_some());
    let text = decision(&decisions, 4).to_string();
    assert!(
        text.contains("does not burst: its budget is fixed"),
        "{text}"
    );
}

#[test]
fn always_burst_goes_at_once_and_never_burst_never_does() {
    let mut s = world("always-burst");
    s.submit(burster(2));
    assert!(admitted(&s.checked_cycle(MINUTE), 2).public.is_some());
    let mut s = world("never-burst");
    s.submit(burster(2));
    let decisions = s.checked_cycle(24 * 60 * MINUTE);
    waiting(&decisions, 2);
    // the question does not arise
    assert_eq!(no_burst(&decisions, 2), None);
}

#[test]
fn a_burst_needs_a_public_flavor_in_the_queue_and_quota_there() {
    // no public flavor in the queue: the offers exist, but Kueue could never admit there
    let config = ConfigBuilder::new()
        .private_flavor("v100", Tier::Silver)
        .offer("cloud-t4", Tier::Silver, "T4", 1, 5, 8)
        .queue("q", &[("v100", plenty())])
        .build();
    let mut s = world_with(config, Policy::preset("always-burst").unwrap());
    s.submit(burster(2));
    let decisions = s.checked_cycle(MINUTE);
    assert_eq!(no_burst(&decisions, 2), Some(&NoBurst::NoPublicFlavor));
    // one GPU of public quota: the first job bursts, the second waits for quota
    let config = ConfigBuilder::new()
        .private_flavor("v100", Tier::Silver)
        .offer("cloud-t4", Tier::Silver, "T4", 1, 5, 8)
        .queue(
            "q",
            &[("v100", plenty()), ("cloud-t4", Quota::nominal(1000))],
        )
        .build();
    let mut s = world_with(config, Policy::preset("always-burst").unwrap());
    s.submit(burster(2)).submit(burster(3));
    let decisions = s.checked_cycle(MINUTE);
    assert!(admitted(&decisions, 2).public.is_some());
    assert!(
        matches!(no_burst(&decisions, 3), Some(NoBurst::NoPublicQuota(miss)) if miss.flavor.as_str() == "cloud-t4"),
        "{}",
        decision(&decisions, 3)
    );
}

#[test]
fn a_flex_budget_may_overrun_by_the_policy_margin_only() {
    // 1.75 is 25% over 1.40 and 75% over 1.00; the default margin is 25%.
    let mut s = world("always-burst");
    s.submit(
        burster(2)
            .budget(BudgetKind::Flex, 1)
            .only_flavors(&["v100", "cloud-t4"]),
    );
    let decisions = s.checked_cycle(MINUTE);
    assert!(
        matches!(
            no_burst(&decisions, 2),
            Some(NoBurst::Budget {
                payer: Payer::Job,
                ..
            })
        ),
        "{}",
        decision(&decisions, 2)
    );
    let mut policy = Policy::preset("always-burst").unwrap();
    policy.burst.flex_overrun_percent = 80;
    let mut s = world_with(config(8, 8), policy);
    s.submit(
        burster(2)
            .budget(BudgetKind::Flex, 1)
            .only_flavors(&["v100", "cloud-t4"]),
    );
    assert!(admitted(&s.checked_cycle(MINUTE), 2).public.is_some());
}

/// The T4 offer with a 30-minute warm tail, and a tenant budget of `budget`.
pub(crate) fn warm_tail(budget: i64) -> Config {
    ConfigBuilder::new()
        .private_flavor("v100", Tier::Silver)
        .offer("cloud-t4", Tier::Silver, "T4", 1, 5, 8)
        .scale_down_after(30)
        .queue("q", &[("v100", plenty()), ("cloud-t4", plenty())])
        .tenant("lab", None, None)
        .tenant_public_budget("lab", budget)
        .build()
}

#[test]
fn a_burst_reserves_its_warm_tail_against_the_tenant_budget_until_its_bill_comes_in() {
    let mut s = world_with(warm_tail(4), Policy::preset("always-burst").unwrap());
    s.submit(burster(2));
    let placement = admitted(&s.checked_cycle(MINUTE), 2).clone();
    let lease = placement.public.as_ref().unwrap();
    // 5 + 100 min expected, 30 more reserved: 1.75 and 2.25
    assert_eq!(lease.expected_cost, Money(1_750_000));
    assert_eq!(lease.reserved, Money(2_250_000));
    let lab = "lab".into();
    assert_eq!(s.spend().tenant(&lab), Money(2_250_000));
    s.apply(Input::JobFinished(JobId(2))).unwrap();
    // Another reservation of 2.25 would pass 4.00 while the first is open.
    s.submit(burster(3));
    let decisions = s.checked_cycle(200 * MINUTE);
    assert_eq!(
        no_burst(&decisions, 3),
        Some(&NoBurst::Budget {
            payer: Payer::Tenant(lab.clone()),
            needed: Money(2_250_000),
            left: Money(1_750_000),
        })
    );
    // The bill: the node was taken over 10 minutes after the job, 1.75 + 0.17 = 1.92.
    s.apply(Input::PublicBilled {
        job: JobId(2),
        lease: 1,
        cost: Money(1_916_667),
    })
    .unwrap();
    assert_eq!(s.spend().tenant(&lab), Money(1_916_667));
    assert_eq!(s.spend().billed_tenant(&lab), Money(1_916_667));
    assert_eq!(s.spend().reserved_tenant(&lab), Money::ZERO);
    // billing the same lease again, or one that never was, is refused
    for lease in [1, 2] {
        let again = s.apply(Input::PublicBilled {
            job: JobId(2),
            lease,
            cost: Money(1),
        });
        assert!(again.is_err(), "lease {lease}: {again:?}");
    }
    // 1.92 billed + 2.25 reserved still passes 4.00; a budget of 5 fits the second burst
    waiting(&s.checked_cycle(201 * MINUTE), 3);
    let mut s = world_with(warm_tail(5), Policy::preset("always-burst").unwrap());
    s.submit(burster(2));
    s.checked_cycle(MINUTE);
    s.apply(Input::JobFinished(JobId(2))).unwrap();
    s.apply(Input::PublicBilled {
        job: JobId(2),
        lease: 1,
        cost: Money(1_916_667),
    })
    .unwrap();
    s.submit(burster(3));
    assert!(admitted(&s.checked_cycle(200 * MINUTE), 3).public.is_some());
}

#[test]
fn the_first_rule_a_job_fails_is_the_one_it_is_told() {
    // a deadline job (the wait reads the private fleet) whose tenant has no budget left, under
    // the plain wait rule (the rescue rule's own reasons are in `rescue`)
    let mut policy = Policy::preset("tiered-burst").unwrap();
    policy.burst.rescue = None;
    let mut s = world_with(warm_tail(0), policy);
    s.submit(burster(2).deadline(Time(24 * 60 * MINUTE)));
    let decisions = s.checked_cycle(10 * MINUTE);
    assert!(
        matches!(no_burst(&decisions, 2), Some(NoBurst::TooEarly { .. })),
        "{}",
        decision(&decisions, 2)
    );
    let decisions = s.checked_cycle(31 * MINUTE);
    assert!(
        matches!(
            no_burst(&decisions, 2),
            Some(NoBurst::Budget {
                payer: Payer::Tenant(_),
                ..
            })
        ),
        "{}",
        decision(&decisions, 2)
    );
    assert!(decision(&decisions, 2)
        .to_string()
        .contains("tenant lab's public budget has 0.00 left"));
}

#[test]
fn offer_caps_bound_the_gpus_leased_at_once() {
    let mut s = world_with(config(1, 0), Policy::preset("always-burst").unwrap());
    s.submit(burster(2));
    s.submit(burster(3));
    let decisions = s.checked_cycle(MINUTE);
    assert!(admitted(&decisions, 2).public.is_some());
    assert_eq!(no_burst(&decisions, 3), Some(&NoBurst::OfferCap));
}

#[test]
fn work_kept_at_a_checkpoint_makes_the_burst_cheaper_and_shorter() {
    let mut s = world("always-burst");
    // half the hour is done; the restore takes 10 minutes
    let mut job = burster(2).only_flavors(&["v100", "cloud-t4"]).build();
    job.restore_cost = Millis::minutes(10);
    s.apply(Input::JobSubmitted(job)).unwrap();
    s.apply(Input::JobProgress {
        job: JobId(2),
        remaining: Millis::minutes(30),
    })
    .unwrap();
    let placement = admitted(&s.checked_cycle(MINUTE), 2).clone();
    let lease = placement.public.as_ref().unwrap();
    // 5 min provisioning + 10 min restore + 50 min on a T4
    assert_eq!(lease.expected_end, Time(MINUTE) + Millis::minutes(65));
    assert_eq!(
        lease.expected_cost,
        Money::for_gpu_time(
            Money::units(1),
            alloc_core::MilliGpu(1000),
            Millis::minutes(65)
        )
    );
    // progress is the shell's to report for pending jobs only
    assert!(s
        .apply(Input::JobProgress {
            job: JobId(2),
            remaining: Millis::ZERO,
        })
        .is_err());
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
fn a_job_only_public_flavors_could_run_is_rejected_when_it_may_not_burst_or_afford_them() {
    let config = ConfigBuilder::new()
        .offer("cloud-t4", Tier::Silver, "T4", 1, 5, 8)
        .queue("q", &[("cloud-t4", plenty())])
        .build();
    let mut s = scheduler_with(config.clone(), Policy::preset("tiered-burst").unwrap());
    s.submit(burster(2).budget(BudgetKind::Fixed, 100));
    s.submit(burster(3).budget(BudgetKind::Flex, 1));
    let decisions = s.checked_cycle(0);
    let reason = rejected(&decisions, 2).clone();
    assert!(
        matches!(
            reason,
            RejectReason::MayNotBurst {
                why: NoBurst::FixedBudget,
                ..
            }
        ),
        "{reason}"
    );
    let reason = rejected(&decisions, 3).clone();
    assert!(
        matches!(reason, RejectReason::BudgetTooSmall { .. }),
        "{reason}"
    );
    let mut s = scheduler_with(config, Policy::preset("never-burst").unwrap());
    s.submit(burster(2));
    let reason = rejected(&s.checked_cycle(0), 2).clone();
    assert_eq!(
        reason.to_string(),
        "only public flavors of queue q could run it, and it may not burst: the policy never \
         rents public GPUs"
    );
}

/// A burstable job's decision after waiting `minutes`, everything else fixed.
fn decision_after(job: &alloc_core::Job, preset: &str, minutes: u64) -> Decision {
    let mut policy = Policy::preset(preset).unwrap();
    policy.reject_infeasible_deadlines = false;
    let mut s = world_with(config(8, 8), policy);
    s.apply(Input::JobSubmitted(job.clone())).unwrap();
    let decisions = s.decide_all(Time(minutes * MINUTE));
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
        upgrade in any::<bool>(),
    ) -> alloc_core::Job {
        let mut job = JobBuilder::gpus(gpus).id(2).tier(tier).runtime(Millis::minutes(runtime_minutes)).burstable().build();
        job.allow_upgrade = upgrade;
        job.deadline = deadline_minutes.map(|m| Time(m * MINUTE));
        job.budget.limit = limit.map(Money::units);
        job.budget.kind = if fixed { BudgetKind::Fixed } else { BudgetKind::Flex };
        job
    }
}

/// What the shell bills a lease that ended at `end`, taken over or released `idle` later:
/// from the burst's decision, provisioning included.
fn bill(
    lease: &alloc_core::decision::PublicLease,
    decided: Time,
    end: Time,
    idle: Millis,
    price: i64,
) -> Money {
    Money::for_gpu_time(
        Money::units(price),
        alloc_core::MilliGpu::whole(u64::from(lease.gpus)),
        end.since(decided) + idle,
    )
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

    /// Over a day of bursts whose bills come in when each node's warm tail ends (or sooner,
    /// when a later burst would take it over), what the tenant has billed and reserved never
    /// passes its public budget, fixed-budget and sensitive jobs never burst, and every
    /// invariant holds after each cycle.
    #[test]
    fn the_bill_never_passes_the_budget(
        jobs in proptest::collection::vec((0u64..600, 1u32..=2, 10u64..300, any::<bool>(), 1i64..10, any::<bool>()), 1..12),
        tenant_budget in 1i64..15,
        tail in 0u64..40,
        taken_over in 0u64..100,
    ) {
        let config = ConfigBuilder::new()
            .private_flavor("v100", Tier::Silver)
            .offer("cloud-t4", Tier::Silver, "T4", 1, 5, 3)
            .scale_down_after(tail)
            .offer("cloud-a100", Tier::Gold, "A100", 3, 5, 2)
            .scale_down_after(tail)
            .queue("q", &[("v100", plenty()), ("cloud-t4", plenty()), ("cloud-a100", Quota::nominal(2000))])
            .tenant("lab", None, None)
            .tenant_public_budget("lab", tenant_budget)
            .build();
        let prices = |flavor: &str| if flavor == "cloud-t4" { 1 } else { 3 };
        let mut s = world_with(config, Policy::preset("always-burst").unwrap());
        for (index, (submit, gpus, runtime, fixed, limit, sensitive)) in jobs.iter().enumerate() {
            let mut job = JobBuilder::gpus(*gpus).id(index as u64 + 2).tier(Tier::Silver).allow_upgrade()
                .runtime(Millis::minutes(*runtime)).burstable()
                .budget(if *fixed { BudgetKind::Fixed } else { BudgetKind::Flex }, *limit)
                .submitted(Time(submit * MINUTE)).build();
            if *sensitive {
                job.data_class = DataClass::Sensitive;
            }
            s.apply(Input::JobSubmitted(job)).unwrap();
        }
        // leases ended, not billed yet: (billed at, job, lease, cost)
        let mut unbilled: Vec<(Time, JobId, u32, Money)> = Vec::new();
        let mut billed = Money::ZERO;
        for minute in (0..=24 * 60).step_by(30) {
            let now = Time(minute * MINUTE);
            let ended: Vec<_> = s.running()
                .filter_map(|r| Some((r.job.id, r.started, r.placement.flavor.clone(), r.placement.public.clone()?)))
                .filter(|(_, _, _, lease)| lease.expected_end <= now)
                .collect();
            for (id, decided, flavor, lease) in ended {
                s.apply(Input::JobFinished(id)).unwrap();
                // the node idles for the tail, or less when taken over
                let idle = Millis::minutes(tail.min(taken_over));
                let cost = bill(&lease, decided, lease.expected_end, idle, prices(flavor.as_str()));
                prop_assert!(cost <= lease.reserved, "{cost} billed over {} reserved", lease.reserved);
                unbilled.push((lease.expected_end + idle, id, lease.lease, cost));
            }
            let (due, later): (Vec<_>, Vec<_>) = unbilled.into_iter().partition(|(at, ..)| *at <= now);
            unbilled = later;
            for (_, job, lease, cost) in due {
                s.apply(Input::PublicBilled { job, lease, cost }).unwrap();
                billed = billed + cost;
            }
            for decision in s.decide_all(now) {
                if let Decision::Admit { placement, job } = &decision {
                    let running = s.running_job(*job).unwrap();
                    prop_assert!(placement.public.is_none() || running.job.data_class != DataClass::Sensitive);
                    prop_assert!(placement.public.is_none() || running.job.budget.kind == BudgetKind::Flex);
                }
            }
            prop_assert!(s.check_invariants().is_ok(), "{:?}", s.check_invariants());
            let lab = "lab".into();
            prop_assert!(s.spend().tenant(&lab) <= Money::units(tenant_budget));
            prop_assert_eq!(s.spend().billed_tenant(&lab), billed);
        }
    }
}
