//! Admission in two phases, as in a cluster: Kueue's flavor assigner reserves quota on one
//! flavor (`Scheduler::kueue_reservations`), then the core decides within that flavor.

use crate::strategies::{job_shape, node_shape, world_with_preemption};
use crate::support::{admitted, scheduler, scheduler_with, two_flavors, waiting, Feed};
use alloc_core::preemption::PreemptionPolicy;
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    BudgetKind, Decision, FlavorName, Input, JobId, Policy, Quota, Scheduler, Tier, Time,
    WaitReason, WhenCanBorrow,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn reservations(s: &Scheduler) -> Vec<(u64, String)> {
    s.kueue_reservations()
        .into_iter()
        .map(|(job, flavor)| (job.0, flavor.to_string()))
        .collect()
}

fn reserve(s: &mut Scheduler, job: u64, flavor: Option<&str>) {
    s.apply(Input::QuotaReserved {
        job: JobId(job),
        flavor: flavor.map(FlavorName::new),
    })
    .unwrap();
}

/// Applies what Kueue would reserve.
fn reserve_all(s: &mut Scheduler) {
    for (job, flavor) in s.kueue_reservations() {
        s.apply(Input::QuotaReserved {
            job,
            flavor: Some(flavor),
        })
        .unwrap();
    }
}

/// BRONZE flavors `a` (one GPU of quota) then `b` (eight), SILVER `s` (eight) listed first;
/// a two-GPU node on each.
fn three_flavors() -> Scheduler {
    let config = ConfigBuilder::new()
        .private_flavor("s", Tier::Silver)
        .private_flavor("a", Tier::Bronze)
        .private_flavor("b", Tier::Bronze)
        .queue(
            "q",
            &[
                ("s", Quota::nominal(8_000)),
                ("a", Quota::nominal(1_000)),
                ("b", Quota::nominal(8_000)),
            ],
        )
        .build();
    let mut s = scheduler(config);
    for flavor in ["s", "a", "b"] {
        s.node(NodeBuilder::new(&format!("node-{flavor}"), flavor, 2));
    }
    s
}

#[test]
fn reservations_follow_fungibility_order_and_kueues_order() {
    let mut s = three_flavors();
    s.submit(JobBuilder::gpus(1).id(1).submitted(Time(1)))
        .submit(JobBuilder::gpus(1).id(2).submitted(Time(2)).allow_upgrade())
        // later, but of higher priority: Kueue's order puts it first
        .submit(JobBuilder::gpus(1).id(3).submitted(Time(3)).priority(5));
    // the requested tier first, in the queue's order, a higher tier only for an upgrade; each
    // reservation books quota before the next job is looked at: job 3 takes `a`'s one GPU
    assert_eq!(
        reservations(&s),
        [(3, "a".into()), (1, "b".into()), (2, "b".into())]
    );
    // quota only: eight GPUs of quota on `b` are reserved although its node has two
    for id in 4..=9 {
        s.submit(
            JobBuilder::gpus(1)
                .id(id)
                .submitted(Time(id))
                .allow_upgrade(),
        );
    }
    let all = reservations(&s);
    let on = |flavor: &str| all.iter().filter(|(_, f)| f == flavor).count();
    assert_eq!((on("a"), on("b"), on("s")), (1, 8, 0));
}

#[test]
fn running_jobs_and_held_reservations_count_and_reserved_jobs_are_skipped() {
    let mut s = three_flavors();
    s.submit(JobBuilder::gpus(1).id(1).submitted(Time(1)));
    // job 1 runs on `a` (the first bronze flavor): `a`'s quota is used up
    assert_eq!(admitted(&s.checked_cycle(0), 1).flavor.as_str(), "a");
    s.submit(JobBuilder::gpus(4).id(2).submitted(Time(2)))
        .submit(JobBuilder::gpus(4).id(3).submitted(Time(3)))
        .submit(JobBuilder::gpus(1).id(4).submitted(Time(4)));
    // `b` has eight GPUs of quota: jobs 2 and 3 take them, nothing is left for job 4
    assert_eq!(reservations(&s), [(2, "b".into()), (3, "b".into())]);
    // job 2 holds a reservation on `b` (four of its eight GPUs): it is not reserved again, and
    // job 3 fits beside it
    reserve(&mut s, 2, Some("b"));
    assert_eq!(reservations(&s), [(3, "b".into())]);
    // released, it counts no more
    reserve(&mut s, 2, None);
    assert_eq!(reservations(&s), [(2, "b".into()), (3, "b".into())]);
}

#[test]
fn borrowing_follows_when_can_borrow() {
    let build = |choice: WhenCanBorrow| {
        let config = ConfigBuilder::new()
            .private_flavor("a", Tier::Bronze)
            .private_flavor("b", Tier::Bronze)
            .queue_in_cohort(
                "q",
                "c",
                &[("a", Quota::nominal(1_000)), ("b", Quota::nominal(2_000))],
            )
            .when_can_borrow(choice)
            .queue_in_cohort("lender", "c", &[("a", Quota::nominal(4_000))])
            .build();
        let mut s = scheduler(config);
        s.submit(JobBuilder::gpus(2).id(1));
        s
    };
    // two GPUs: `a` only by borrowing, `b` within nominal
    assert_eq!(
        reservations(&build(WhenCanBorrow::MayStopSearch)),
        [(1, "a".into())]
    );
    let mut s = build(WhenCanBorrow::TryNextFlavor);
    assert_eq!(reservations(&s), [(1, "b".into())]);
    // with `b` reserved for job 2, the borrowing fit on `a` is taken after all
    s.submit(JobBuilder::gpus(2).id(2));
    reserve(&mut s, 2, Some("b"));
    assert_eq!(reservations(&s), [(1, "a".into())]);
    // six GPUs: more than is left on `a` with job 1's two, and than `b` holds: none
    s.submit(JobBuilder::gpus(6).id(3));
    assert_eq!(reservations(&s), [(1, "a".into())]);
}

#[test]
fn a_strict_fifo_head_without_quota_blocks_its_queue() {
    let build = |strict: bool| {
        let builder = ConfigBuilder::new()
            .private_flavor("a", Tier::Bronze)
            .queue("q", &[("a", Quota::nominal(4_000))]);
        let builder = if strict {
            builder.strict_fifo()
        } else {
            builder
        };
        let config = builder
            .queue("other", &[("a", Quota::nominal(4_000))])
            .build();
        let mut s = scheduler(config);
        s.node(NodeBuilder::new("node", "a", 8));
        s.submit(JobBuilder::gpus(2).id(1));
        s.checked_cycle(0);
        s.submit(JobBuilder::gpus(3).id(2).submitted(Time(1)))
            .submit(JobBuilder::gpus(1).id(3).submitted(Time(2)))
            .submit(JobBuilder::gpus(1).id(4).submitted(Time(3)).queue("other"));
        reservations(&s)
    };
    assert_eq!(build(false), [(3, "a".into()), (4, "a".into())]);
    // job 2 finds two GPUs of quota left, not three: job 3 behind it waits too, another
    // queue's job does not
    assert_eq!(build(true), [(4, "a".into())]);
}

#[test]
fn public_flavors_only_for_jobs_that_may_burst() {
    let config = ConfigBuilder::new()
        .private_flavor("gold", Tier::Gold)
        .public_flavor("cloud", Tier::Gold)
        .queue(
            "q",
            &[
                ("gold", Quota::nominal(1_000)),
                ("cloud", Quota::nominal(8_000)),
            ],
        )
        .build();
    let mut s = scheduler_with(config, Policy::preset("tiered-burst").unwrap());
    s.node(NodeBuilder::new("node", "gold", 1));
    let gold = || JobBuilder::gpus(1).tier(Tier::Gold);
    s.submit(gold().id(1))
        .submit(gold().id(2).burstable().budget(BudgetKind::Flex, 100))
        .submit(gold().id(3).burstable().budget(BudgetKind::Fixed, 100))
        .submit(gold().id(4).burstable().sensitive());
    // job 1 takes the private quota; of the others only job 2 may burst
    assert_eq!(reservations(&s), [(1, "gold".into()), (2, "cloud".into())]);
    // the core then keeps it waiting until its burst threshold, on the reserved flavor
    reserve_all(&mut s);
    let decisions = s.checked_cycle(0);
    assert_eq!(admitted(&decisions, 1).flavor.as_str(), "gold");
    assert!(
        matches!(waiting(&decisions, 2), WaitReason::PublicOnly { .. }),
        "{decisions:#?}"
    );
    let later = s.checked_cycle(3 * 3_600_000);
    let burst = admitted(&later, 2);
    assert_eq!(burst.flavor.as_str(), "cloud");
    assert!(burst.public.is_some());
}

#[test]
fn a_reserved_job_is_admitted_on_its_flavor_or_waits_while_another_has_room() {
    // `a` has more quota than GPUs: Kueue reserves there by quota, and the core, deciding
    // within `a`, keeps the job waiting although `b`'s node is free
    let mut s = two_flavors();
    s.submit(JobBuilder::gpus(2).id(1));
    reserve_all(&mut s);
    assert_eq!(admitted(&s.checked_cycle(0), 1).flavor.as_str(), "a");
    s.submit(JobBuilder::gpus(1).id(2).submitted(Time(1)));
    assert_eq!(reservations(&s), [(2, "a".into())]);
    let mut one_phase = s.clone();
    reserve_all(&mut s);
    let decisions = s.checked_cycle(1);
    assert!(
        matches!(waiting(&decisions, 2), WaitReason::NoFlavorFits { misses } if misses.len() == 1),
        "{decisions:#?}"
    );
    assert_eq!(
        s.reservations().collect::<Vec<_>>(),
        [(JobId(2), &FlavorName::new("a"))]
    );
    // the core's own cycle, one phase, takes `b`
    assert_eq!(
        admitted(&one_phase.checked_cycle(1), 2).flavor.as_str(),
        "b"
    );
    // Kueue's Retry releases the reservation; once `a` frees up, the job is reserved and
    // admitted there
    reserve(&mut s, 2, None);
    assert_eq!(s.reservations().count(), 0);
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    reserve_all(&mut s);
    assert_eq!(admitted(&s.checked_cycle(2), 2).flavor.as_str(), "a");
}

#[test]
fn a_job_nominated_by_its_preemption_is_reserved_where_it_made_room() {
    let config = ConfigBuilder::new()
        .private_flavor("a", Tier::Bronze)
        .queue("q", &[("a", Quota::nominal(2_000))])
        .build();
    let policy = Policy {
        preemption: PreemptionPolicy {
            enabled: true,
            ..PreemptionPolicy::default()
        },
        ..Policy::default()
    };
    let mut s = scheduler_with(config, policy);
    s.node(NodeBuilder::new("node", "a", 2));
    s.submit(JobBuilder::gpus(2).id(1));
    reserve_all(&mut s);
    s.checked_cycle(0);
    s.submit(JobBuilder::gpus(2).id(2).priority(5).submitted(Time(1)));
    // no quota left for job 2: Kueue reserves nothing; the core preempts for it
    assert_eq!(reservations(&s), []);
    let decisions = s.checked_cycle(1);
    assert!(
        matches!(&decisions[0], Decision::Preempt { job: JobId(2), .. }),
        "{decisions:#?}"
    );
    s.stop_victims(&decisions);
    // job 2 comes first: it is reserved on the flavor it preempted on, the victim gets none
    assert_eq!(reservations(&s), [(2, "a".into())]);
    reserve_all(&mut s);
    assert_eq!(admitted(&s.checked_cycle(2), 2).flavor.as_str(), "a");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Rounds of both phases, as a shell runs them: every job admitted or preempting with a
    /// reservation does so on its reserved flavor, no job is reserved twice, the jobs told to
    /// wait are released, and the invariants hold throughout.
    #[test]
    fn reserved_jobs_are_decided_only_on_their_flavor(
        world in world_with_preemption(),
        nodes in proptest::collection::vec(node_shape(), 0..3),
        jobs in proptest::collection::vec(job_shape(), 1..16),
        finishing in proptest::collection::vec(any::<bool>(), 6),
    ) {
        let mut s = Scheduler::new(world.config.clone(), world.policy.clone()).unwrap();
        for (index, node) in world.nodes.iter().chain(&nodes).enumerate() {
            s.apply(Input::NodeAdded(node.spec(format!("n{index}"), s.config()))).unwrap();
        }
        for (index, shape) in jobs.iter().enumerate() {
            let job = shape.job(index as u64 + 1, Time(index as u64), s.config());
            s.apply(Input::JobSubmitted(job)).unwrap();
        }
        for (round, finish) in finishing.iter().enumerate() {
            let now = Time(1_000 * (round as u64 + 100));
            let made = s.kueue_reservations();
            let ids: BTreeSet<JobId> = made.iter().map(|(job, _)| *job).collect();
            prop_assert_eq!(ids.len(), made.len(), "a job reserved twice: {:?}", made);
            for (job, flavor) in &made {
                prop_assert!(s.reservations().all(|(held, _)| held != *job));
                s.apply(Input::QuotaReserved { job: *job, flavor: Some(flavor.clone()) }).unwrap();
            }
            let reserved: BTreeMap<JobId, FlavorName> =
                s.reservations().map(|(job, flavor)| (job, flavor.clone())).collect();
            let decisions = s.decide_all(now);
            for decision in &decisions {
                let placement = match decision {
                    Decision::Admit { placement, .. } | Decision::Preempt { placement, .. } => placement,
                    _ => continue,
                };
                if let Some(flavor) = reserved.get(&decision.job()) {
                    prop_assert_eq!(&placement.flavor, flavor, "{}", decision);
                }
            }
            if let Err(violations) = s.check_invariants() {
                return Err(TestCaseError::fail(format!("{violations:#?}")));
            }
            prop_assert!(s.quota_overruns().is_empty());
            s.stop_victims(&decisions);
            let nominated: BTreeSet<JobId> = s.nominated().collect();
            let release: Vec<JobId> = s
                .reservations()
                .map(|(job, _)| job)
                .filter(|job| !nominated.contains(job))
                .collect();
            for job in release {
                s.apply(Input::QuotaReserved { job, flavor: None }).unwrap();
            }
            if *finish {
                let first = s.running().map(|r| r.job.id).next();
                if let Some(job) = first {
                    s.apply(Input::JobFinished(job)).unwrap();
                }
            }
        }
    }
}
