//! Money through the twin: every micro-unit the cloud bills is some job's, and no tenant's
//! bill ever passes its public budget, over generated days with bursts, warm nodes taken over
//! and released, node loss and preemption.

use alloc_core::preemption::PreemptionPolicy;
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{BudgetKind, DataClass, Job, Millis, Money, Policy, Quota, Tier, Time};
use proptest::prelude::*;
use sim::engine::EngineOptions;
use sim::fleet::FailureModel;
use sim::rng::Seed;
use sim::run::{simulate, RunPlan};
use std::collections::BTreeMap;

const MIN: u64 = 60_000;
const TENANTS: [&str; 2] = ["lab", "other"];

/// A job of a generated day: submit minute, GPUs, minutes of work, tenant, flexible or
/// fixed budget (whole units), burstable, sensitive, checkpoint interval and priority.
type Shape = (
    u64,
    u32,
    u64,
    usize,
    (bool, i64),
    bool,
    bool,
    Option<u64>,
    i32,
);

fn shape() -> impl Strategy<Value = Shape> {
    (
        0u64..1_200,
        1u32..=4,
        5u64..400,
        0usize..2,
        (any::<bool>(), 1i64..40),
        proptest::bool::weighted(0.8),
        proptest::bool::weighted(0.2),
        proptest::option::of(10u64..60),
        0i32..=2,
    )
}

fn job(index: usize, shape: &Shape) -> Job {
    let (submit, gpus, minutes, tenant, (flex, limit), burstable, sensitive, checkpoint, priority) =
        *shape;
    let kind = if flex {
        BudgetKind::Flex
    } else {
        BudgetKind::Fixed
    };
    let mut builder = JobBuilder::gpus(gpus)
        .id(index as u64 + 1)
        .tier(Tier::Silver)
        .allow_upgrade()
        .user(&format!("{}-user", TENANTS[tenant]), TENANTS[tenant])
        .runtime(Millis::minutes(minutes))
        .priority(priority)
        .budget(kind, limit)
        .submitted(Time(submit * MIN));
    if burstable {
        builder = builder.burstable();
    }
    let mut job = builder.build();
    if sensitive {
        job.data_class = DataClass::Sensitive;
    }
    job.checkpoint_interval = checkpoint.map(Millis::minutes);
    job.restore_cost = Millis::minutes(2);
    job
}

/// Two private nodes of four V100s; a T4 and an A100 offer with the given latency (min),
/// warm tail (min) and caps; public quota for the queue; each tenant's budget.
#[allow(clippy::too_many_arguments)]
fn plan(
    jobs: &[Shape],
    latency: u64,
    tail: u64,
    caps: (u32, u32),
    budgets: [i64; 2],
    policy: &str,
    mtbf_hours: Option<f64>,
    seed: u64,
) -> RunPlan {
    let mut config = ConfigBuilder::new()
        .private_flavor("v100", Tier::Silver)
        .offer("cloud-t4", Tier::Silver, "T4", 1, latency, caps.0)
        .scale_down_after(tail)
        .offer("cloud-a100", Tier::Gold, "A100", 4, latency, caps.1)
        .scale_down_after(tail)
        .queue(
            "q",
            &[
                ("v100", Quota::nominal(8_000)),
                ("cloud-t4", Quota::nominal(6_000)),
                ("cloud-a100", Quota::nominal(4_000)),
            ],
        )
        .tenant("lab", None, None)
        .tenant("other", None, None);
    for (tenant, budget) in TENANTS.iter().zip(budgets) {
        config = config.tenant_public_budget(tenant, budget);
    }
    let mut policy = Policy::preset(policy).unwrap_or_default();
    policy.preemption = PreemptionPolicy::platform();
    RunPlan {
        config: config.build(),
        nodes: vec![
            NodeBuilder::new("n1", "v100", 4).build(),
            NodeBuilder::new("n2", "v100", 4).build(),
        ],
        workload: sim::workload::Workload::batch(
            jobs.iter().enumerate().map(|(i, s)| job(i, s)).collect(),
        ),
        policy_name: "generated".into(),
        policy,
        options: EngineOptions {
            seed: Seed(seed),
            failures: mtbf_hours.map(|mtbf_hours| FailureModel {
                mtbf_hours,
                repair_hours: 1.0,
            }),
            ..EngineOptions::default()
        },
        inputs: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// What each tenant is billed (its jobs' leases: provisioning, running, warm idle until
    /// the node is released or taken over) never passes its public budget; fixed-budget,
    /// sensitive and non-burstable jobs are never billed; the leases' bills add up to the
    /// cloud's total. A bill only grows with time, so within budget at the end is within
    /// budget at every instant.
    #[test]
    fn no_tenant_is_billed_over_its_budget(
        jobs in proptest::collection::vec(shape(), 1..40),
        latency in 0u64..10,
        tail in 0u64..30,
        caps in (1u32..=8, 1u32..=4),
        budgets in [0i64..60, 0i64..60],
        policy in prop_oneof![Just("tiered-burst"), Just("always-burst")],
        mtbf_hours in proptest::option::of(2.0f64..30.0),
        seed in 0u64..1_000,
    ) {
        let plan = plan(&jobs, latency, tail, caps, budgets, policy, mtbf_hours, seed);
        let (output, summary, _) = simulate(plan, |_, _| {}).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut by_tenant: BTreeMap<String, i64> = BTreeMap::new();
        for record in &output.records {
            let job = &record.job;
            if !(job.burstable && job.budget.kind == BudgetKind::Flex && job.data_class != DataClass::Sensitive) {
                prop_assert_eq!(record.cost, Money::ZERO, "{:?}", record);
                prop_assert!(!record.public);
            }
            *by_tenant.entry(job.tenant.to_string()).or_default() += record.cost.0;
        }
        let total: i64 = by_tenant.values().sum();
        prop_assert_eq!(total, output.public_spend.0, "every billed micro-unit is a job's");
        for (tenant, budget) in TENANTS.iter().zip(budgets) {
            let billed = by_tenant.get(*tenant).copied().unwrap_or(0);
            prop_assert!(billed <= Money::units(budget).0, "{tenant} billed {billed} over {budget}");
            let reported = summary["public_cost_by_tenant"][*tenant]["billed"].as_f64().unwrap_or(0.0);
            prop_assert!((reported - billed as f64 / 1e6).abs() < 1e-6);
        }
    }
}

#[test]
fn a_warm_node_is_billed_to_the_burst_that_left_it() {
    // two one-GPU bursts of an hour of reference work; the second arrives 3 minutes after the
    // first ends and takes over its node, kept warm 30 minutes: the first job pays its 3 idle
    // minutes, the second no provisioning
    let shapes: Vec<Shape> = [0, 108]
        .iter()
        .map(|&submit| (submit, 1, 60, 0, (true, 100), true, false, None, 0))
        .collect();
    let mut plan = plan(&shapes, 5, 30, (4, 4), [100, 100], "always-burst", None, 1);
    // no private GPU: both must burst
    plan.nodes.clear();
    let (output, summary, _) = simulate(plan, |_, _| {}).unwrap();
    let record = |id: u64| output.records.iter().find(|r| r.job.id.0 == id).unwrap();
    let t4 = |minutes: u64| {
        Money::for_gpu_time(
            Money::units(1),
            alloc_core::MilliGpu(1000),
            Millis::minutes(minutes),
        )
    };
    // a T4 is 0.6×: 100 minutes of compute after 5 of provisioning, ends at 105
    assert_eq!(record(1).end, Some(Time(105 * MIN)));
    assert_eq!(record(1).cost, t4(108));
    // ready at once at 108, 100 minutes; the run ends with it and releases the node
    assert_eq!(record(2).first_start, Some(Time(108 * MIN)));
    assert_eq!(record(2).cost, t4(100));
    assert_eq!(output.public_spend, t4(108) + t4(100));
    let billed = summary["public_cost_by_tenant"]["lab"]["billed"]
        .as_f64()
        .unwrap();
    assert!((billed - (t4(108) + t4(100)).0 as f64 / 1e6).abs() < 1e-6);
}
