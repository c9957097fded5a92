//! Behaviour examples of one cycle: queueing strategies, order, tiers, flavor fungibility,
//! data classes and capacity.

use crate::support::*;
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    Config, FlavorMiss, Input, JobId, Miss, Policy, Quota, RejectReason, Tier, Time, WaitReason,
    WhenCanBorrow,
};

fn gpus(n: u64) -> u64 {
    n * 1000
}

fn one_flavor(queues: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Config {
    queues(ConfigBuilder::new().private_flavor("f", Tier::Bronze)).build()
}

// ---------------------------------------------------------------- queueing strategies

#[test]
fn strict_fifo_head_blocks_its_queue_but_not_other_queues() {
    let config = one_flavor(|c| {
        c.queue("strict", &[("f", Quota::nominal(gpus(8)))])
            .strict_fifo()
            .queue("other", &[("f", Quota::nominal(gpus(8)))])
    });
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 2))
        .submit(JobBuilder::gpus(4).id(1).queue("strict"))
        .submit(JobBuilder::gpus(1).id(2).queue("strict").submitted(Time(1)))
        .submit(JobBuilder::gpus(1).id(3).queue("other").submitted(Time(2)));
    let d = s.checked_cycle(10);
    assert!(matches!(waiting(&d, 1), WaitReason::NoFlavorFits { .. }));
    assert_eq!(
        waiting(&d, 2),
        &WaitReason::BlockedByHead {
            queue: "strict".into(),
        }
    );
    admitted(&d, 3);
    // the head stays at the head: next cycle, same answers
    let d = s.checked_cycle(20);
    assert!(matches!(waiting(&d, 1), WaitReason::NoFlavorFits { .. }));
    assert!(matches!(waiting(&d, 2), WaitReason::BlockedByHead { .. }));
}

/// StrictFIFO queue `strict` (8 GPUs of quota) on one node of two GPUs.
fn strict_queue_on_two_gpus() -> alloc_core::Scheduler {
    let config = one_flavor(|c| {
        c.queue("strict", &[("f", Quota::nominal(gpus(8)))])
            .strict_fifo()
    });
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 2));
    s
}

/// The jobs a cycle reports, by id, and what deciding every job afresh (a clone's
/// `decide_all`) gives for the jobs whose answer differs from `told`, which it then updates;
/// both in id order (a cycle reports its waits for room after its other decisions).
fn reported_and_afresh(
    s: &mut alloc_core::Scheduler,
    now: u64,
    told: &mut std::collections::BTreeMap<JobId, alloc_core::Decision>,
) -> (Vec<u64>, Vec<u64>) {
    let afresh = s.clone().decide_all(Time(now));
    let mut reported: Vec<u64> = s
        .cycle(Time(now))
        .changes
        .iter()
        .map(|d| d.job().0)
        .collect();
    reported.sort_unstable();
    let mut changed: Vec<u64> = afresh
        .iter()
        .filter(|d| told.get(&d.job()) != Some(*d))
        .map(|d| d.job().0)
        .collect();
    changed.sort_unstable();
    for decision in afresh {
        told.insert(decision.job(), decision);
    }
    assert_eq!(s.check_invariants(), Ok(()));
    (reported, changed)
}

#[test]
fn jobs_behind_a_blocked_strict_fifo_head_are_told_again_only_when_the_line_moves() {
    let mut s = strict_queue_on_two_gpus();
    s.submit(JobBuilder::gpus(2).id(1).queue("strict"));
    let mut told = std::collections::BTreeMap::new();
    assert_eq!(reported_and_afresh(&mut s, 0, &mut told).0, [1]);
    for (id, gpus) in [(2, 2), (3, 1), (4, 1), (5, 1)] {
        s.submit(
            JobBuilder::gpus(gpus)
                .id(id)
                .queue("strict")
                .submitted(Time(id)),
        );
    }
    // 2 waits for room, 3–5 behind it
    let (reported, afresh) = reported_and_afresh(&mut s, 10, &mut told);
    assert_eq!(
        (&reported[..], &afresh[..]),
        (&[2, 3, 4, 5][..], &[2, 3, 4, 5][..])
    );
    // nothing moved: nothing to tell
    let (reported, afresh) = reported_and_afresh(&mut s, 20, &mut told);
    assert_eq!((reported.len(), afresh.len()), (0, 0));
    // quiet, not gone: the order a cycle considers still holds them
    let order: Vec<u64> = s
        .consideration_order(Time(20))
        .iter()
        .map(|j| j.0)
        .collect();
    assert_eq!(order, [2, 3, 4, 5]);
    // the line moves: 2 starts, 3 heads the queue and waits; 4 and 5 are still blocked
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    let (reported, afresh) = reported_and_afresh(&mut s, 30, &mut told);
    assert_eq!((&reported[..], &afresh[..]), (&[2, 3][..], &[2, 3][..]));
    // a later arrival joins the line behind them
    s.submit(
        JobBuilder::gpus(1)
            .id(6)
            .queue("strict")
            .submitted(Time(40)),
    );
    let (reported, afresh) = reported_and_afresh(&mut s, 40, &mut told);
    assert_eq!((&reported[..], &afresh[..]), (&[6][..], &[6][..]));
    // room for 3 and 4: the cycle meets 4 again and 5 becomes the head
    s.apply(Input::JobFinished(JobId(2))).unwrap();
    let (reported, afresh) = reported_and_afresh(&mut s, 50, &mut told);
    assert_eq!(
        (&reported[..], &afresh[..]),
        (&[3, 4, 5][..], &[3, 4, 5][..])
    );
    assert!(matches!(
        told[&JobId(5)],
        alloc_core::Decision::Wait {
            reason: WaitReason::NoFlavorFits { .. },
            ..
        }
    ));
    assert!(matches!(
        told[&JobId(6)],
        alloc_core::Decision::Wait {
            reason: WaitReason::BlockedByHead { .. },
            ..
        }
    ));
}

#[test]
fn jobs_waiting_for_room_are_told_again_only_when_their_class_room_changes() {
    let most_free = |decision: &alloc_core::Decision| match decision {
        alloc_core::Decision::Wait {
            reason: WaitReason::NoFlavorFits { misses },
            ..
        } => match misses[0].miss {
            Miss::Capacity { most_free_gpus, .. } => Some(most_free_gpus),
            _ => None,
        },
        _ => None,
    };
    // Kueue's order and the scored one (with preemption among equal priorities, which finds
    // no victim, and burst rules these jobs fail for good)
    for policy in [Policy::default(), Policy::preset("default").unwrap()] {
        let config = one_flavor(|c| c.queue("q", &[("f", Quota::nominal(gpus(8)))]));
        let mut s = scheduler_with(config, policy);
        s.node(NodeBuilder::new("n", "f", 2))
            .submit(JobBuilder::gpus(2).id(1));
        let mut told = std::collections::BTreeMap::new();
        assert_eq!(reported_and_afresh(&mut s, 0, &mut told).0, [1]);
        for (id, gpus) in [(2, 2), (3, 1), (4, 1), (5, 2)] {
            s.submit(JobBuilder::gpus(gpus).id(id).submitted(Time(id)));
        }
        let (reported, afresh) = reported_and_afresh(&mut s, 10, &mut told);
        assert_eq!(
            (&reported[..], &afresh[..]),
            (&[2, 3, 4, 5][..], &[2, 3, 4, 5][..])
        );
        // an arrival that cannot start either: only it is told
        s.submit(JobBuilder::gpus(2).id(6).submitted(Time(20)));
        let (reported, afresh) = reported_and_afresh(&mut s, 20, &mut told);
        assert_eq!((&reported[..], &afresh[..]), (&[6][..], &[6][..]));
        let mut order: Vec<u64> = s
            .consideration_order(Time(20))
            .iter()
            .map(|j| j.0)
            .collect();
        order.sort_unstable();
        assert_eq!(order, [2, 3, 4, 5, 6], "quiet jobs are still considered");
        // 2 GPUs free: 2 takes them; the rest find the node full again, as they were told
        s.apply(Input::JobFinished(JobId(1))).unwrap();
        let (reported, afresh) = reported_and_afresh(&mut s, 30, &mut told);
        assert_eq!((&reported[..], &afresh[..]), (&[2][..], &[2][..]));
        // 3 and 4 take them next
        s.apply(Input::JobFinished(JobId(2))).unwrap();
        let (reported, afresh) = reported_and_afresh(&mut s, 40, &mut told);
        assert_eq!((&reported[..], &afresh[..]), (&[3, 4][..], &[3, 4][..]));
        assert_eq!(most_free(&told[&JobId(6)]), Some(0));
        // one GPU stays free, too few for 5 or 6: their class's answer changes, for both,
        // though the cycle met only the first
        s.apply(Input::JobFinished(JobId(3))).unwrap();
        let (reported, afresh) = reported_and_afresh(&mut s, 50, &mut told);
        assert_eq!((&reported[..], &afresh[..]), (&[5, 6][..], &[5, 6][..]));
        assert_eq!(most_free(&told[&JobId(6)]), Some(1));
    }
}

#[test]
fn a_quota_change_reaches_the_jobs_behind_a_blocked_head() {
    let mut s = strict_queue_on_two_gpus();
    s.submit(JobBuilder::gpus(2).id(1).queue("strict"))
        .submit(JobBuilder::gpus(2).id(2).queue("strict").submitted(Time(1)))
        .submit(JobBuilder::gpus(4).id(3).queue("strict").submitted(Time(2)));
    let mut told = std::collections::BTreeMap::new();
    reported_and_afresh(&mut s, 0, &mut told);
    reported_and_afresh(&mut s, 10, &mut told);
    assert!(matches!(
        told[&JobId(3)],
        alloc_core::Decision::Wait {
            reason: WaitReason::BlockedByHead { .. },
            ..
        }
    ));
    // 3 now asks for more than the queue could ever hold: rejected, blocked or not (2, the
    // head, now lacks quota rather than room)
    s.apply(Input::QuotaChanged {
        queue: "strict".into(),
        flavor: "f".into(),
        resource: alloc_core::Resource::Gpu,
        quota: Quota::nominal(gpus(2)),
    })
    .unwrap();
    let (reported, afresh) = reported_and_afresh(&mut s, 20, &mut told);
    assert_eq!((&reported[..], &afresh[..]), (&[2, 3][..], &[2, 3][..]));
    assert!(matches!(
        told[&JobId(3)],
        alloc_core::Decision::Reject { .. }
    ));
}

#[test]
fn strict_fifo_head_held_by_a_user_cap_blocks_too() {
    let config = one_flavor(|c| {
        c.queue("strict", &[("f", Quota::nominal(gpus(8)))])
            .strict_fifo()
            .tenant("lab", None, None)
            .user("alice", "lab", Some(1), None)
            .user("bob", "lab", None, None)
    });
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 4))
        .submit(JobBuilder::gpus(1).id(1).queue("strict"))
        .submit(JobBuilder::gpus(1).id(2).queue("strict").submitted(Time(1)))
        .submit(
            JobBuilder::gpus(1)
                .id(3)
                .queue("strict")
                .user("bob", "lab")
                .submitted(Time(2)),
        );
    let d = s.checked_cycle(10);
    admitted(&d, 1);
    assert!(matches!(waiting(&d, 2), WaitReason::UserLimit { .. }));
    assert!(matches!(waiting(&d, 3), WaitReason::BlockedByHead { .. }));
}

#[test]
fn best_effort_fifo_lets_a_smaller_job_pass_a_blocked_big_one() {
    let config = one_flavor(|c| c.queue("q", &[("f", Quota::nominal(gpus(8)))]));
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 2))
        .submit(JobBuilder::gpus(4).id(1))
        .submit(JobBuilder::gpus(1).id(2).submitted(Time(1)))
        .submit(JobBuilder::gpus(1).id(3).submitted(Time(2)))
        .submit(JobBuilder::gpus(1).id(4).submitted(Time(3)));
    let d = s.checked_cycle(10);
    assert_eq!(order(&d), [1, 2, 3, 4]);
    // told the room as the cycle leaves it: 2 and 3 took the node's two GPUs
    assert!(matches!(
        waiting(&d, 1),
        WaitReason::NoFlavorFits { misses } if matches!(misses[0].miss, Miss::Capacity { most_free_gpus: 0, .. })
    ));
    admitted(&d, 2);
    admitted(&d, 3);
    assert!(matches!(waiting(&d, 4), WaitReason::NoFlavorFits { .. }));
}

// ---------------------------------------------------------------- order

#[test]
fn higher_priority_goes_first_then_earlier_submission_then_lower_id() {
    let config = one_flavor(|c| c.queue("q", &[("f", Quota::nominal(gpus(8)))]));
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::gpus(1).id(1).submitted(Time(0)))
        .submit(JobBuilder::gpus(1).id(5).submitted(Time(5)))
        .submit(JobBuilder::gpus(1).id(4).submitted(Time(5)))
        .submit(JobBuilder::gpus(1).id(2).priority(10).submitted(Time(9)))
        .submit(JobBuilder::gpus(1).id(3).priority(-1));
    let d = s.checked_cycle(10);
    assert_eq!(order(&d), [2, 1, 4, 5, 3]);
    admitted(&d, 2);
    for id in [1, 4, 5, 3] {
        waiting(&d, id);
    }
    let pending: Vec<u64> = s.pending().map(|j| j.id.0).collect();
    assert_eq!(pending, [1, 4, 5, 3]);
}

// ---------------------------------------------------------------- tiers

fn tiered() -> Config {
    let q = Quota::nominal(gpus(8));
    ConfigBuilder::new()
        .private_flavor("bronze", Tier::Bronze)
        .private_flavor("gold", Tier::Gold)
        .queue("q", &[("gold", q), ("bronze", q)])
        .build()
}

#[test]
fn without_upgrade_a_job_waits_for_its_tier_even_when_gold_is_free() {
    let mut s = scheduler(tiered());
    s.node(NodeBuilder::new("b", "bronze", 1))
        .node(NodeBuilder::new("g", "gold", 4))
        .submit(JobBuilder::gpus(1).id(1))
        .submit(JobBuilder::gpus(1).id(2).submitted(Time(1)));
    let d = s.checked_cycle(10);
    let placement = admitted(&d, 1);
    assert_eq!(
        (placement.flavor.as_str(), placement.tier),
        ("bronze", Tier::Bronze)
    );
    let WaitReason::NoFlavorFits { misses } = waiting(&d, 2) else {
        panic!("expected NoFlavorFits")
    };
    let flavors: Vec<&str> = misses.iter().map(|m| m.flavor.as_str()).collect();
    assert_eq!(flavors, ["bronze"], "gold is never tried without upgrade");
}

#[test]
fn with_upgrade_a_job_lands_on_gold_and_says_why() {
    for (job, policy) in [
        (JobBuilder::gpus(1).id(2).allow_upgrade(), Policy::default()),
        (
            JobBuilder::gpus(1).id(2),
            Policy {
                allow_tier_upgrade: true,
                ..Policy::default()
            },
        ),
    ] {
        let mut s = scheduler_with(tiered(), policy);
        s.node(NodeBuilder::new("b", "bronze", 1))
            .node(NodeBuilder::new("g", "gold", 4))
            .submit(JobBuilder::gpus(1).id(1))
            .submit(job.submitted(Time(1)));
        let d = s.checked_cycle(10);
        let placement = admitted(&d, 2);
        assert_eq!(
            (placement.flavor.as_str(), placement.tier),
            ("gold", Tier::Gold)
        );
        assert_eq!(placement.passed_over.len(), 1);
        assert_eq!(placement.passed_over[0].flavor.as_str(), "bronze");
        assert!(matches!(
            placement.passed_over[0].miss,
            Miss::Capacity {
                nodes: 1,
                most_free_gpus: 0,
                ..
            }
        ));
        let text = decision(&d, 2).to_string();
        assert!(text.contains("flavor gold (GOLD)"), "{text}");
        assert!(text.contains("passed over flavor bronze"), "{text}");
    }
}

#[test]
fn upgrade_prefers_the_requested_tier_when_it_has_room() {
    let mut s = scheduler(tiered());
    s.node(NodeBuilder::new("b", "bronze", 1))
        .node(NodeBuilder::new("g", "gold", 4))
        .submit(JobBuilder::gpus(1).id(1).allow_upgrade());
    let d = s.checked_cycle(0);
    assert_eq!(admitted(&d, 1).flavor.as_str(), "bronze");
}

#[test]
fn a_tier_the_queue_does_not_sell_is_rejected() {
    let mut s = scheduler(tiered());
    s.submit(JobBuilder::gpus(1).id(1).tier(Tier::Silver))
        .submit(JobBuilder::gpus(1).id(2).tier(Tier::Silver).allow_upgrade());
    let d = s.checked_cycle(0);
    assert_eq!(
        rejected(&d, 1),
        &RejectReason::NoMatchingFlavor {
            queue: "q".into(),
            min_tier: Tier::Silver,
            upgrade_allowed: false,
        }
    );
    // upgrading to GOLD is possible, so job 2 only waits for a node
    waiting(&d, 2);
    assert_eq!(s.pending_count(), 1);
}

// ---------------------------------------------------------------- whenCanBorrow

/// Queue `a` has little quota on `first` (it must borrow from `lender` there) and plenty on
/// `second`, both BRONZE; `first` is tried first.
fn fungible(choice: WhenCanBorrow) -> Config {
    ConfigBuilder::new()
        .private_flavor("first", Tier::Bronze)
        .private_flavor("second", Tier::Bronze)
        .queue_in_cohort(
            "a",
            "c",
            &[
                ("first", Quota::nominal(gpus(1))),
                ("second", Quota::nominal(gpus(4))),
            ],
        )
        .when_can_borrow(choice)
        .queue_in_cohort("lender", "c", &[("first", Quota::nominal(gpus(4)))])
        .build()
}

fn two_gpu_job_in(config: Config, second_gpus: u32) -> Vec<alloc_core::Decision> {
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n1", "first", 4))
        .node(NodeBuilder::new("n2", "second", second_gpus))
        .submit(JobBuilder::gpus(2).id(1).queue("a"));
    s.checked_cycle(0)
}

#[test]
fn may_stop_search_borrows_on_the_first_flavor() {
    let d = two_gpu_job_in(fungible(WhenCanBorrow::MayStopSearch), 4);
    let placement = admitted(&d, 1);
    assert_eq!(placement.flavor.as_str(), "first");
    assert!(placement.borrowing);
    assert!(placement.passed_over.is_empty());
    assert!(decision(&d, 1).to_string().contains("borrowing quota"));
}

#[test]
fn try_next_flavor_prefers_a_later_flavor_that_fits_without_borrowing() {
    let d = two_gpu_job_in(fungible(WhenCanBorrow::TryNextFlavor), 4);
    let placement = admitted(&d, 1);
    assert_eq!(placement.flavor.as_str(), "second");
    assert!(!placement.borrowing);
    assert_eq!(
        placement.passed_over,
        [FlavorMiss {
            flavor: "first".into(),
            miss: Miss::BorrowingDeferred { queue: "a".into() },
        }]
    );
}

#[test]
fn try_next_flavor_falls_back_to_borrowing_when_nothing_else_fits() {
    let d = two_gpu_job_in(fungible(WhenCanBorrow::TryNextFlavor), 1);
    let placement = admitted(&d, 1);
    assert_eq!(placement.flavor.as_str(), "first");
    assert!(placement.borrowing);
}

// ---------------------------------------------------------------- data class

#[test]
fn sensitive_jobs_never_land_on_a_public_flavor() {
    let q = Quota::nominal(gpus(8));
    let config = ConfigBuilder::new()
        .private_flavor("private-gold", Tier::Gold)
        .public_flavor("cloud-gold", Tier::Gold)
        .queue("q", &[("private-gold", q), ("cloud-gold", q)])
        .queue("cloud-only", &[("cloud-gold", q)])
        .build();
    let bursting = Policy {
        burst: alloc_core::BurstPolicy::preset("always").unwrap(),
        ..Policy::default()
    };
    let mut s = scheduler_with(config, bursting);
    s.node(NodeBuilder::new("p", "private-gold", 1))
        .submit(JobBuilder::gpus(1).id(1).tier(Tier::Gold).sensitive())
        .submit(
            JobBuilder::gpus(1)
                .id(2)
                .tier(Tier::Gold)
                .burstable()
                .sensitive()
                .submitted(Time(1)),
        )
        .submit(
            JobBuilder::gpus(1)
                .id(3)
                .tier(Tier::Gold)
                .burstable()
                .submitted(Time(2)),
        )
        .submit(
            JobBuilder::gpus(1)
                .id(4)
                .tier(Tier::Gold)
                .sensitive()
                .queue("cloud-only"),
        );
    let d = s.checked_cycle(0);
    assert_eq!(admitted(&d, 1).cluster.as_str(), "private");
    let WaitReason::NoFlavorFits { misses } = waiting(&d, 2) else {
        panic!("expected NoFlavorFits")
    };
    assert!(misses.iter().all(|m| m.flavor.as_str() == "private-gold"));
    assert_eq!(no_burst(&d, 2), Some(&alloc_core::NoBurst::Sensitive));
    // a job that is not sensitive may burst to the cloud
    assert_eq!(admitted(&d, 3).cluster.as_str(), "cloud");
    assert!(matches!(
        rejected(&d, 4),
        RejectReason::NoMatchingFlavor { .. }
    ));
}

// ---------------------------------------------------------------- capacity

#[test]
fn a_finished_job_frees_its_gpus_for_the_next_cycle() {
    let config = one_flavor(|c| c.queue("q", &[("f", Quota::nominal(gpus(1)))]));
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::gpus(1).id(1))
        .submit(JobBuilder::gpus(1).id(2).submitted(Time(1)));
    let d = s.checked_cycle(0);
    admitted(&d, 1);
    assert!(matches!(
        waiting(&d, 2),
        WaitReason::NoFlavorFits { misses } if matches!(misses[0].miss, Miss::Quota { .. })
    ));
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    assert!(s.running_job(JobId(1)).is_none());
    assert_eq!(s.ledgers().fleet.node(&"n".into()).unwrap().idle_gpus(), 1);
    let d = s.checked_cycle(1);
    assert_eq!(nodes(admitted(&d, 2)), ["n"]);
    assert_eq!(s.running_job(JobId(2)).map(|r| r.started), Some(Time(1)));
}

#[test]
fn fractions_share_a_gpu_until_it_is_full() {
    let config = one_flavor(|c| c.queue("q", &[("f", Quota::nominal(gpus(4)))]));
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 1));
    for id in 1..=5 {
        s.submit(JobBuilder::fraction(250, 1000).id(id).submitted(Time(id)));
    }
    let d = s.checked_cycle(10);
    for id in 1..=4 {
        let placement = admitted(&d, id);
        assert_eq!(placement.nodes[0].gpus[0].index, 0);
    }
    assert!(matches!(
        waiting(&d, 5),
        WaitReason::NoFlavorFits { misses } if matches!(misses[0].miss, Miss::Capacity { most_free_milli: alloc_core::MilliGpu(0), .. })
    ));
    assert_eq!(
        s.ledgers().fleet.node(&"n".into()).unwrap().gpus[0].clients,
        4
    );
}

#[test]
fn identical_waiting_jobs_get_the_same_answer_in_one_cycle() {
    let config = one_flavor(|c| c.queue("q", &[("f", Quota::nominal(gpus(64)))]));
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 2));
    for id in 1..=50 {
        s.submit(JobBuilder::gpus(1).id(id));
    }
    let d = s.checked_cycle(0);
    assert_eq!(d.len(), 50);
    admitted(&d, 1);
    admitted(&d, 2);
    let first = waiting(&d, 3).clone();
    for id in 4..=50 {
        assert_eq!(waiting(&d, id), &first);
    }
}

#[test]
fn a_node_two_flavors_select_refreshes_the_answers_of_both() {
    // flavors `a` and `b` select the same node: booking it through `a` changes what `b` offers
    let mut config = ConfigBuilder::new()
        .private_flavor("a", Tier::Bronze)
        .private_flavor("b", Tier::Bronze)
        .queue(
            "q",
            &[
                ("a", Quota::nominal(gpus(8))),
                ("b", Quota::nominal(gpus(8))),
            ],
        )
        .build();
    let a_labels = config.flavors[&"a".into()].node_labels.clone();
    if let Some(b) = config.flavors.get_mut(&"b".into()) {
        b.node_labels = a_labels;
    }
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "a", 2))
        .submit(JobBuilder::gpus(4).id(1).only_flavors(&["b"]))
        .submit(
            JobBuilder::gpus(1)
                .id(2)
                .only_flavors(&["a"])
                .submitted(Time(1)),
        )
        .submit(
            JobBuilder::gpus(4)
                .id(3)
                .only_flavors(&["b"])
                .submitted(Time(2)),
        );
    let d = s.checked_cycle(10);
    let most_free = |id| match waiting(&d, id) {
        WaitReason::NoFlavorFits { misses } => match misses[0].miss {
            Miss::Capacity { most_free_gpus, .. } => most_free_gpus,
            ref other => panic!("job {id} waits for {other:?}"),
        },
        other => panic!("job {id} waits for {other:?}"),
    };
    assert_eq!(nodes(admitted(&d, 2)), ["n"]);
    // both told the room as the cycle leaves it: job 2 took a GPU of the shared node through
    // `a`, which the answer on `b`, found for job 1 before, must show
    assert_eq!(most_free(1), 1);
    assert_eq!(most_free(3), 1);
}
