//! Behaviour examples of quota and caps: cohort borrowing and lending limits, user and tenant
//! caps, and what is rejected outright.

use crate::support::*;
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    Config, FlavorMiss, Input, JobId, Limit, Miss, Quota, RejectReason, Resource, Scheduler, Tier,
    Time, WaitReason,
};
use std::collections::BTreeMap;

fn gpus(n: u64) -> u64 {
    n * 1000
}

fn one_flavor(queues: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Config {
    queues(ConfigBuilder::new().private_flavor("f", Tier::Bronze)).build()
}

// ---------------------------------------------------------------- cohorts

#[test]
fn cohort_borrowing_stops_at_the_borrowing_limit() {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue_in_cohort(
            "a",
            "c",
            &[(
                "f",
                Quota {
                    nominal: gpus(2),
                    borrowing_limit: Some(gpus(1)),
                    lending_limit: None,
                },
            )],
        )
        .queue_in_cohort("b", "c", &[("f", Quota::nominal(gpus(4)))])
        .build();
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 8))
        .submit(JobBuilder::gpus(3).id(1).queue("a"))
        .submit(JobBuilder::gpus(1).id(2).queue("a").submitted(Time(1)))
        .submit(JobBuilder::gpus(4).id(3).queue("a").submitted(Time(2)));
    let d = s.checked_cycle(0);
    assert!(admitted(&d, 1).borrowing);
    assert_eq!(
        waiting(&d, 2),
        &WaitReason::NoFlavorFits {
            misses: vec![FlavorMiss {
                flavor: "f".into(),
                miss: Miss::Quota {
                    queue: "a".into(),
                    resource: Resource::Gpu,
                    needed: 1000,
                    available: 0,
                },
            }]
            .into(),
        }
    );
    // 4 GPUs is above a's ceiling of nominal 2 + borrowing 1, whatever runs
    assert!(matches!(
        rejected(&d, 3),
        RejectReason::ExceedsQuotaCeiling { queue, .. } if queue.as_str() == "a"
    ));
    assert!(s.quota_overruns().is_empty());
}

/// Three labs of 5 GPUs each on two 8-GPU nodes, or lab `a` given `a_quota`.
fn three_labs_on_two_nodes(a_quota: u64) -> Scheduler {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue_in_cohort("a", "c", &[("f", Quota::nominal(gpus(a_quota)))])
        .queue_in_cohort("b", "c", &[("f", Quota::nominal(gpus(5)))])
        .queue_in_cohort("d", "c", &[("f", Quota::nominal(gpus(5)))])
        .build();
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n1", "f", 8))
        .node(NodeBuilder::new("n2", "f", 8));
    s
}

#[test]
fn quota_below_the_gpus_strands_them_and_keeps_whole_node_jobs_apart() {
    let nodes = [
        NodeBuilder::new("n1", "f", 8).build(),
        NodeBuilder::new("n2", "f", 8).build(),
    ];
    let mut s = three_labs_on_two_nodes(5);
    let stranded = s.config().stranded_gpus(&nodes);
    assert_eq!(stranded.len(), 1);
    assert_eq!((stranded[0].gpus, stranded[0].quota), (gpus(16), gpus(15)));
    assert_eq!(stranded[0].idle(), gpus(1));
    // what the warning is about: the cohort lends 15, so the second 8-GPU job never fits
    s.submit(JobBuilder::gpus(8).id(1).queue("a"))
        .submit(JobBuilder::gpus(8).id(2).queue("b").submitted(Time(1)));
    let d = s.checked_cycle(0);
    admitted(&d, 1);
    assert!(matches!(waiting(&d, 2), WaitReason::NoFlavorFits { .. }));

    let mut s = three_labs_on_two_nodes(6);
    assert!(s.config().stranded_gpus(&nodes).is_empty());
    s.submit(JobBuilder::gpus(8).id(1).queue("a"))
        .submit(JobBuilder::gpus(8).id(2).queue("b").submitted(Time(1)));
    let d = s.checked_cycle(0);
    admitted(&d, 1);
    admitted(&d, 2);
}

#[test]
fn only_private_flavors_with_nodes_of_their_own_are_checked_for_stranded_gpus() {
    let mut config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .private_flavor("zone-a", Tier::Bronze)
        .public_flavor("cloud", Tier::Gold)
        .queue("a", &[("f", Quota::nominal(gpus(4)))])
        .build();
    let zone_a = BTreeMap::from([("zone".to_string(), "a".to_string())]);
    for flavor in config.flavors.values_mut() {
        if flavor.name.as_str() == "zone-a" {
            flavor.node_labels = zone_a.clone();
        }
    }
    let mut in_zone = NodeBuilder::new("z", "zone-a", 2).build();
    in_zone.labels = zone_a;
    // both flavors select it: whose quota its GPUs count against depends on the job
    let mut shared = NodeBuilder::new("shared", "f", 8).build();
    shared.labels.insert("zone".into(), "a".into());
    let nodes = [NodeBuilder::new("n", "f", 4).build(), in_zone, shared];
    let stranded = config.stranded_gpus(&nodes);
    // `f` has quota for the node only it selects; `zone-a` has none for its 2 GPUs; the
    // public flavor has no nodes
    assert_eq!(stranded.len(), 1);
    assert_eq!(stranded[0].flavor.as_str(), "zone-a");
    assert_eq!(stranded[0].idle(), gpus(2));
}

#[test]
fn the_lending_limit_keeps_part_of_a_queues_quota_for_itself() {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue_in_cohort("a", "c", &[("f", Quota::nominal(gpus(1)))])
        .queue_in_cohort(
            "b",
            "c",
            &[(
                "f",
                Quota {
                    nominal: gpus(4),
                    borrowing_limit: None,
                    lending_limit: Some(gpus(1)),
                },
            )],
        )
        .build();
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 8))
        // a may use its own 1 and b's lendable 1
        .submit(JobBuilder::gpus(2).id(1).queue("a"))
        .submit(JobBuilder::gpus(1).id(2).queue("a").submitted(Time(1)))
        // 3 is above a's ceiling: the pool only ever holds 2
        .submit(JobBuilder::gpus(3).id(3).queue("a").submitted(Time(2)))
        // b keeps its guaranteed 3
        .submit(JobBuilder::gpus(3).id(4).queue("b").submitted(Time(3)));
    let d = s.checked_cycle(0);
    assert!(admitted(&d, 1).borrowing);
    assert!(matches!(
        waiting(&d, 2),
        WaitReason::NoFlavorFits { misses } if matches!(misses[0].miss, Miss::Quota { available: 0, .. })
    ));
    rejected(&d, 3);
    let b = admitted(&d, 4);
    assert!(!b.borrowing);
    assert!(s.quota_overruns().is_empty());
}

#[test]
fn a_lender_using_its_quota_shrinks_what_others_can_borrow() {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue_in_cohort("a", "c", &[("f", Quota::nominal(gpus(1)))])
        .queue_in_cohort("b", "c", &[("f", Quota::nominal(gpus(3)))])
        .build();
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 8))
        .submit(JobBuilder::gpus(2).id(1).queue("b"));
    admitted(&s.checked_cycle(0), 1);
    s.submit(JobBuilder::gpus(3).id(2).queue("a"))
        .submit(JobBuilder::gpus(2).id(3).queue("a"));
    let d = s.checked_cycle(1);
    // b's 2 GPUs leave a 1 + 2 to borrow: 3 does not fit, 2 does (and then nothing is left,
    // as 2 is told: the room as the cycle leaves it)
    assert!(matches!(
        waiting(&d, 2),
        WaitReason::NoFlavorFits { misses } if matches!(misses[0].miss, Miss::Quota { needed: 3000, available: 0, .. })
    ));
    assert!(admitted(&d, 3).borrowing);
}

// ---------------------------------------------------------------- caps

fn capped() -> Config {
    one_flavor(|c| {
        c.queue("q", &[("f", Quota::nominal(gpus(16)))])
            .tenant("lab", None, None)
            .tenant("small-lab", Some(2), Some(alloc_core::MilliGpu(3000)))
            .user("alice", "lab", Some(1), None)
            .user("bob", "lab", None, Some(alloc_core::MilliGpu(2000)))
            .user("carol", "small-lab", None, None)
            .user("dave", "small-lab", None, None)
    })
}

#[test]
fn a_user_at_the_running_jobs_cap_waits() {
    let mut s = scheduler(capped());
    s.node(NodeBuilder::new("n", "f", 8))
        .submit(JobBuilder::gpus(1).id(1).user("alice", "lab"))
        .submit(
            JobBuilder::cpu_only()
                .id(2)
                .user("alice", "lab")
                .submitted(Time(1)),
        );
    let d = s.checked_cycle(0);
    admitted(&d, 1);
    assert_eq!(
        waiting(&d, 2),
        &WaitReason::UserLimit {
            user: "alice".into(),
            limit: Limit::RunningJobs { running: 1, max: 1 },
        }
    );
    s.apply(Input::JobFinished(JobId(1))).unwrap();
    admitted(&s.checked_cycle(1), 2);
}

#[test]
fn a_user_at_the_gpu_cap_waits_and_a_request_above_it_is_rejected() {
    let mut s = scheduler(capped());
    s.node(NodeBuilder::new("n", "f", 8))
        .submit(JobBuilder::gpus(1).id(1).user("bob", "lab"))
        .submit(
            JobBuilder::gpus(2)
                .id(2)
                .user("bob", "lab")
                .submitted(Time(1)),
        )
        .submit(
            JobBuilder::fraction(500, 100)
                .id(3)
                .user("bob", "lab")
                .submitted(Time(2)),
        )
        .submit(
            JobBuilder::gpus(3)
                .id(4)
                .user("bob", "lab")
                .submitted(Time(3)),
        );
    let d = s.checked_cycle(0);
    admitted(&d, 1);
    assert_eq!(
        waiting(&d, 2),
        &WaitReason::UserLimit {
            user: "bob".into(),
            limit: Limit::Gpus {
                in_use: alloc_core::MilliGpu(1000),
                requested: alloc_core::MilliGpu(2000),
                max: alloc_core::MilliGpu(2000),
            },
        }
    );
    admitted(&d, 3);
    assert_eq!(
        rejected(&d, 4),
        &RejectReason::ExceedsCap {
            who: "user bob".into(),
            requested: alloc_core::MilliGpu(3000),
            max: alloc_core::MilliGpu(2000),
        }
    );
}

#[test]
fn a_tenant_at_its_caps_holds_all_its_users() {
    let mut s = scheduler(capped());
    s.node(NodeBuilder::new("n", "f", 8))
        .submit(JobBuilder::gpus(2).id(1).user("carol", "small-lab"))
        .submit(
            JobBuilder::gpus(2)
                .id(2)
                .user("dave", "small-lab")
                .submitted(Time(1)),
        )
        .submit(
            JobBuilder::gpus(1)
                .id(3)
                .user("dave", "small-lab")
                .submitted(Time(2)),
        )
        .submit(
            JobBuilder::cpu_only()
                .id(4)
                .user("dave", "small-lab")
                .submitted(Time(3)),
        )
        .submit(
            JobBuilder::gpus(4)
                .id(5)
                .user("dave", "small-lab")
                .submitted(Time(4)),
        );
    let d = s.checked_cycle(0);
    admitted(&d, 1);
    assert_eq!(
        waiting(&d, 2),
        &WaitReason::TenantLimit {
            tenant: "small-lab".into(),
            limit: Limit::Gpus {
                in_use: alloc_core::MilliGpu(2000),
                requested: alloc_core::MilliGpu(2000),
                max: alloc_core::MilliGpu(3000),
            },
        }
    );
    admitted(&d, 3);
    assert_eq!(
        waiting(&d, 4),
        &WaitReason::TenantLimit {
            tenant: "small-lab".into(),
            limit: Limit::RunningJobs { running: 2, max: 2 },
        }
    );
    assert_eq!(
        rejected(&d, 5),
        &RejectReason::ExceedsCap {
            who: "tenant small-lab".into(),
            requested: alloc_core::MilliGpu(4000),
            max: alloc_core::MilliGpu(3000),
        }
    );
}

// ---------------------------------------------------------------- rejections

#[test]
fn what_can_never_run_is_rejected_with_the_reason() {
    let config = one_flavor(|c| c.queue("q", &[("f", Quota::nominal(gpus(2)))]));
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 8))
        .submit(JobBuilder::gpus(1).id(1).queue("nope"))
        .submit(JobBuilder::fraction(0, 100).id(2))
        .submit(JobBuilder::fraction(1000, 100).id(3))
        .submit(JobBuilder::gpus(0).id(4))
        .submit(JobBuilder::gpus(1).id(5).tier(Tier::Gold))
        .submit(JobBuilder::gpus(3).id(6))
        .submit(JobBuilder::gpus(1).id(7).only_flavors(&["elsewhere"]))
        .submit(JobBuilder::fraction(999, 100).id(8));
    let d = s.checked_cycle(0);
    assert_eq!(rejected(&d, 1), &RejectReason::UnknownQueue("nope".into()));
    for id in [2, 3, 4] {
        assert!(matches!(rejected(&d, id), RejectReason::InvalidRequest(_)));
    }
    assert!(matches!(
        rejected(&d, 5),
        RejectReason::NoMatchingFlavor {
            min_tier: Tier::Gold,
            upgrade_allowed: false,
            ..
        }
    ));
    assert_eq!(
        rejected(&d, 6),
        &RejectReason::ExceedsQuotaCeiling {
            queue: "q".into(),
            misses: vec![FlavorMiss {
                flavor: "f".into(),
                miss: Miss::Quota {
                    queue: "q".into(),
                    resource: Resource::Gpu,
                    needed: 3000,
                    available: 2000,
                },
            }],
        }
    );
    assert!(matches!(
        rejected(&d, 7),
        RejectReason::NoMatchingFlavor { .. }
    ));
    admitted(&d, 8);
    // rejected jobs leave the queue
    assert_eq!(s.pending_count(), 0);
    assert!(s.checked_cycle(1).is_empty());
}

#[test]
fn a_flavor_without_quota_for_a_resource_cannot_be_used_for_it() {
    let mut config = one_flavor(|c| c.queue("q", &[("f", Quota::nominal(gpus(2)))]));
    let queue = config.cluster_queues.get_mut(&"q".into()).unwrap();
    queue.flavors[0].resources.remove(&Resource::Memory);
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 8))
        .submit(JobBuilder::gpus(1).id(1))
        .submit(JobBuilder::gpus(1).id(2).memory(0));
    let d = s.checked_cycle(0);
    assert!(matches!(
        rejected(&d, 1),
        RejectReason::ExceedsQuotaCeiling { misses, .. }
            if misses[0].miss == Miss::NoQuota { queue: "q".into(), resource: Resource::Memory }
    ));
    admitted(&d, 2);
}
