//! What users read: every decision prints as a sentence with the flavor, node, reason and
//! what would unblock it. One cycle that produces every kind is snapshotted whole.

use crate::support::*;
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    BudgetKind, BurstPolicy, Decision, MilliGpu, Policy, Quota, Scheduler, Tier, Time, Unblock,
    WaitReason,
};

/// A fleet and queues on which one cycle yields every kind of decision.
fn showcase() -> (Scheduler, Vec<Decision>) {
    let config = ConfigBuilder::new()
        .private_flavor("bronze", Tier::Bronze)
        .private_flavor("gold", Tier::Gold)
        .public_flavor("cloud", Tier::Gold)
        .queue_in_cohort(
            "research",
            "dept",
            &[
                ("bronze", Quota::nominal(2000)),
                ("gold", Quota::nominal(1000)),
                ("cloud", Quota::nominal(8000)),
            ],
        )
        .queue_in_cohort("teaching", "dept", &[("gold", Quota::nominal(4000))])
        .queue("exams", &[("bronze", Quota::nominal(4000))])
        .strict_fifo()
        .tenant("lab", None, None)
        .tenant("course", Some(1), None)
        .user("alice", "lab", None, None)
        .user("bob", "lab", Some(1), Some(MilliGpu(2000)))
        .user("tutor", "course", None, None)
        .build();
    let bursting = Policy {
        burst: BurstPolicy::preset("always").unwrap(),
        ..Policy::default()
    };
    let mut s = scheduler_with(config, bursting);
    s.node(NodeBuilder::new("b1", "bronze", 4))
        .node(NodeBuilder::new("g1", "gold", 2).model("A100"))
        .node(NodeBuilder::new("g2", "gold", 2).model("A100"));
    let jobs = [
        // admitted on bronze, whole GPUs
        JobBuilder::gpus(2).id(1).queue("research"),
        // MPS fraction upgraded to gold
        JobBuilder::fraction(250, 8192)
            .id(2)
            .queue("research")
            .allow_upgrade(),
        // spread over both gold nodes, borrowing from teaching
        JobBuilder::gpus(3)
            .id(3)
            .queue("research")
            .tier(Tier::Gold)
            .spread(),
        // out of quota and room everywhere: waits, sensitive so never the cloud
        JobBuilder::gpus(2)
            .id(4)
            .queue("research")
            .tier(Tier::Gold)
            .burstable()
            .sensitive(),
        // user cap
        JobBuilder::gpus(1).id(5).queue("exams").user("bob", "lab"),
        JobBuilder::gpus(1).id(6).queue("exams").user("bob", "lab"),
        // StrictFIFO: 6 waits, so 7 waits behind it
        JobBuilder::cpu_only().id(7).queue("exams"),
        // tenant cap
        JobBuilder::cpu_only()
            .id(8)
            .queue("teaching")
            .tier(Tier::Gold)
            .user("tutor", "course"),
        JobBuilder::cpu_only()
            .id(9)
            .queue("teaching")
            .tier(Tier::Gold)
            .user("tutor", "course"),
        // rejections
        JobBuilder::gpus(1).id(10).queue("nowhere"),
        JobBuilder::fraction(1500, 100).id(11).queue("research"),
        JobBuilder::gpus(1).id(12).queue("teaching"),
        JobBuilder::gpus(9).id(13).queue("exams"),
        JobBuilder::gpus(3)
            .id(14)
            .queue("research")
            .tier(Tier::Gold)
            .user("bob", "lab"),
        // no room privately: a flexible burstable job bursts, a fixed-budget one waits
        JobBuilder::gpus(2)
            .id(15)
            .queue("research")
            .tier(Tier::Gold)
            .burstable(),
        JobBuilder::gpus(2)
            .id(16)
            .queue("research")
            .tier(Tier::Gold)
            .burstable()
            .budget(BudgetKind::Fixed, 50),
    ];
    for (at, job) in jobs.into_iter().enumerate() {
        s.submit(job.submitted(Time(at as u64)));
    }
    let decisions = s.checked_cycle(100);
    (s, decisions)
}

#[test]
fn every_decision_of_a_cycle_reads_as_a_sentence() {
    let (_, decisions) = showcase();
    let text: Vec<String> = decisions.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!("showcase_cycle", text.join("\n"));
}

#[test]
fn an_admission_names_flavor_tier_cluster_nodes_gpus_and_quota() {
    let (_, d) = showcase();
    let whole = decision(&d, 1).to_string();
    for fact in [
        "job 1",
        "admitted",
        "flavor bronze (BRONZE)",
        "cluster private",
        "node b1 GPU 0,1",
        "within queue research's nominal quota",
    ] {
        assert!(whole.contains(fact), "{fact:?} missing from {whole}");
    }
    let fraction = decision(&d, 2).to_string();
    for fact in [
        "flavor gold (GOLD)",
        "250 milli",
        "8192 MiB VRAM, MPS",
        "passed over flavor bronze",
    ] {
        assert!(fraction.contains(fact), "{fact:?} missing from {fraction}");
    }
    let spread = decision(&d, 3).to_string();
    for fact in [" + ", "borrowing quota through queue research's cohort"] {
        assert!(spread.contains(fact), "{fact:?} missing from {spread}");
    }
}

#[test]
fn a_wait_names_the_reason_and_what_would_unblock_it() {
    let (_, d) = showcase();
    type Case = (u64, &'static [&'static str], fn(&Unblock) -> bool);
    let cases: [Case; 4] = [
        (
            4,
            &[
                "waits",
                "no flavor can take it now",
                "flavor gold",
                "does not burst: its data is sensitive",
                "would start when",
            ],
            |u| {
                matches!(
                    u,
                    Unblock::QuotaFrees { .. } | Unblock::CapacityFrees { .. }
                )
            },
        ),
        (
            6,
            &[
                "user bob is at its limit",
                "1 of 1 running jobs",
                "when a job of user bob finishes",
            ],
            |u| matches!(u, Unblock::UserJobFinishes { .. }),
        ),
        (
            7,
            &[
                "StrictFIFO",
                "the job at its head cannot start",
                "once the jobs ahead of it in queue exams start",
            ],
            |u| matches!(u, Unblock::HeadStarts { .. }),
        ),
        (
            9,
            &[
                "tenant course is at its limit",
                "when a job of tenant course finishes",
            ],
            |u| matches!(u, Unblock::TenantJobFinishes { .. }),
        ),
    ];
    for (id, facts, unblock) in cases {
        let text = decision(&d, id).to_string();
        for fact in facts {
            assert!(text.contains(fact), "{fact:?} missing from {text}");
        }
        assert!(unblock(&waiting(&d, id).unblock()), "{text}");
    }
}

#[test]
fn a_rejection_names_the_reason() {
    let (_, d) = showcase();
    let cases: [(u64, &[&str]); 5] = [
        (10, &["rejected", "local queue nowhere does not exist"]),
        (11, &["invalid request", "between 1 and 999 milli-GPU"]),
        (12, &["queue teaching has no flavor of tier BRONZE"]),
        (13, &["quota ceiling", "queue exams", "needs 9000"]),
        (
            14,
            &["user bob may hold at most 2000 milli-GPU", "asks for 3000"],
        ),
    ];
    for (id, facts) in cases {
        rejected(&d, id);
        let text = decision(&d, id).to_string();
        for fact in facts {
            assert!(text.contains(fact), "{fact:?} missing from {text}");
        }
    }
}

#[test]
fn unblock_hints_point_at_quota_or_capacity() {
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(1000))])
        .build();
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("n", "f", 1))
        .submit(JobBuilder::gpus(1).id(1))
        .submit(JobBuilder::fraction(500, 10).id(2))
        .submit(JobBuilder::cpu_only().id(3).cpu(1_000_000));
    let d = s.checked_cycle(0);
    let quota = waiting(&d, 2);
    assert_eq!(
        quota.unblock(),
        Unblock::QuotaFrees {
            queue: "q".into(),
            flavor: "f".into(),
            resource: alloc_core::Resource::Gpu,
            amount: 500,
        }
    );
    let capacity = waiting(&d, 3);
    assert!(matches!(capacity, WaitReason::NoFlavorFits { .. }));
    assert_eq!(
        capacity.unblock(),
        Unblock::CapacityFrees { flavor: "f".into() }
    );
    insta::assert_snapshot!(
        "unblock_hints",
        format!("{}\n{}", decision(&d, 2), decision(&d, 3))
    );
}
