//! The scored order: each part of a score moving a job where it should, the explanation users
//! read, PriorityFifo left as it was, and properties — a total order independent of the order
//! jobs arrived in, the same on every run, and aging that never pushes an older job down.

use crate::support::*;
use alloc_core::score::{Ordering, ScoreWeights, PRESET_NAMES};
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    Budget, BudgetKind, Config, Input, Job, JobId, Millis, Money, Policy, Quota, Scheduler,
    TenantName, Tier, Time,
};
use proptest::prelude::*;

const HOUR: u64 = 3_600_000;
const MINUTE: u64 = 60_000;

fn scored(weights: ScoreWeights) -> Policy {
    Policy {
        ordering: Ordering::Scored(weights),
        ..Policy::default()
    }
}

/// Queue `q` on two BRONZE flavors, `slow` (T4, 0.6×) and `fast` (A100, 2×); tenants `big`,
/// `small` and `heavy` (weight 3).
fn config() -> Config {
    let plenty = Quota::nominal(1_000_000);
    let mut config = ConfigBuilder::new()
        .private_flavor("slow", Tier::Bronze)
        .private_flavor("fast", Tier::Bronze)
        .queue("q", &[("slow", plenty), ("fast", plenty)])
        .tenant("big", None, None)
        .tenant("small", None, None)
        .tenant("heavy", None, None)
        .build();
    if let Some(heavy) = config.tenants.get_mut(&TenantName::new("heavy")) {
        heavy.weight = 3;
    }
    config
}

fn fleet(policy: Policy) -> Scheduler {
    let mut s = scheduler_with(config(), policy);
    s.node(NodeBuilder::new("slow-1", "slow", 4).model("T4"))
        .node(NodeBuilder::new("fast-1", "fast", 4).model("A100"));
    s
}

fn order(s: &Scheduler, now: u64) -> Vec<u64> {
    s.consideration_order(Time(now))
        .iter()
        .map(|id| id.0)
        .collect()
}

fn with_budget(job: JobBuilder, kind: BudgetKind, limit: Option<i64>) -> Job {
    let mut job = job.build();
    job.budget = Budget {
        kind,
        limit: limit.map(Money::units),
    };
    job
}

#[test]
fn priority_fifo_is_unchanged_by_deadlines_shares_and_budgets() {
    let mut s = fleet(Policy::default());
    s.submit(JobBuilder::gpus(1).id(1).submitted(Time(5 * HOUR)))
        .submit(
            JobBuilder::gpus(1)
                .id(2)
                .submitted(Time(6 * HOUR))
                .deadline(Time(6 * HOUR + 61 * MINUTE)),
        )
        .submit(
            JobBuilder::gpus(1)
                .id(3)
                .priority(1)
                .submitted(Time(7 * HOUR)),
        )
        .submit(
            JobBuilder::gpus(1)
                .id(4)
                .submitted(Time(HOUR))
                .user("bob", "small"),
        );
    assert_eq!(order(&s, 8 * HOUR), [3, 4, 1, 2]);
    assert_eq!(s.score_of(JobId(2), Time(8 * HOUR)), None);
    assert!(s
        .score_with(JobId(2), Time(8 * HOUR), &ScoreWeights::BALANCED)
        .is_some());
}

#[test]
fn an_urgent_deadline_jumps_ahead_of_an_older_relaxed_job_under_deadline_first() {
    let now = 3 * HOUR;
    for policy in [Policy::default(), scored(ScoreWeights::DEADLINE_FIRST)] {
        let mut s = fleet(policy.clone());
        s.submit(
            JobBuilder::gpus(1)
                .id(1)
                .submitted(Time(0))
                .deadline(Time(72 * HOUR)),
        )
        // one hour of reference work, 30 min on an A100, due in 40 min: 10 min of slack
        .submit(
            JobBuilder::gpus(1)
                .id(2)
                .submitted(Time(now))
                .runtime(Millis(HOUR))
                .deadline(Time(now + 40 * MINUTE)),
        );
        let expected = if policy == Policy::default() {
            [1, 2]
        } else {
            [2, 1]
        };
        assert_eq!(order(&s, now), expected, "{:?}", policy.ordering);
    }
}

#[test]
fn slack_is_taken_on_the_fastest_candidate_flavor() {
    let mut s = fleet(scored(ScoreWeights::BALANCED));
    let due = Time(3 * HOUR);
    s.submit(
        JobBuilder::gpus(1)
            .id(1)
            .runtime(Millis(2 * HOUR))
            .deadline(due),
    )
    .submit(
        JobBuilder::gpus(1)
            .id(2)
            .runtime(Millis(2 * HOUR))
            .deadline(due)
            .models(&["T4"]),
    )
    .submit(
        JobBuilder::cpu_only()
            .id(3)
            .runtime(Millis(2 * HOUR))
            .deadline(due),
    );
    let term = |id: u64| {
        s.score_of(JobId(id), Time::ZERO)
            .and_then(|b| b.deadline)
            .map(|d| (d.runtime, d.slack_ms))
    };
    // A100 at 2×: one hour, two hours of slack.
    assert_eq!(term(1), Some((Millis(HOUR), 2 * HOUR as i64)));
    // T4 only, at 0.6×: 3 h 20 min, 20 min late already.
    assert_eq!(term(2), Some((Millis(12_000_000), -20 * MINUTE as i64)));
    // CPU-only work runs at the reference speed.
    assert_eq!(term(3), Some((Millis(2 * HOUR), HOUR as i64)));
    assert_eq!(order(&s, 0), [2, 3, 1]);
}

#[test]
fn without_any_known_gpu_speed_the_reference_runtime_counts_and_nodes_bring_theirs() {
    let mut s = scheduler_with(config(), scored(ScoreWeights::BALANCED));
    s.submit(
        JobBuilder::gpus(1)
            .id(1)
            .runtime(Millis(HOUR))
            .deadline(Time(3 * HOUR)),
    );
    let term = |s: &Scheduler| s.score_of(JobId(1), Time::ZERO).and_then(|b| b.deadline);
    // no node tells the flavors' speeds yet: the reference runtime
    assert_eq!(term(&s).map(|d| d.runtime), Some(Millis(HOUR)));
    assert_eq!(term(&s).map(|d| d.urgency), Some(1.0 / 3.0));
    // the fastest candidate follows nodes coming and going
    s.node(NodeBuilder::new("fast-1", "fast", 4).model("A100"));
    assert_eq!(term(&s).map(|d| d.runtime), Some(Millis(HOUR / 2)));
    s.apply(alloc_core::Input::NodeRemoved("fast-1".into()))
        .unwrap();
    assert_eq!(term(&s).map(|d| d.runtime), Some(Millis(HOUR)));
}

#[test]
fn aging_lifts_a_long_waiting_job_above_fresh_higher_priority_work_under_fifo_aging() {
    // fifo-aging: one point per priority class, one per hour waited, so a job two classes
    // lower overtakes a fresh submission once it has waited more than two hours.
    let rank_against_fresh = |now: u64| {
        let mut s = fleet(scored(ScoreWeights::FIFO_AGING));
        s.submit(JobBuilder::gpus(1).id(1).priority(0).submitted(Time(0)))
            .submit(JobBuilder::gpus(1).id(2).priority(2).submitted(Time(now)));
        order(&s, now)
    };
    assert_eq!(rank_against_fresh(HOUR), [2, 1]);
    // a tie in score: the higher priority goes first
    assert_eq!(rank_against_fresh(2 * HOUR), [2, 1]);
    assert_eq!(rank_against_fresh(2 * HOUR + 1), [1, 2]);
    assert_eq!(rank_against_fresh(30 * HOUR), [1, 2]);
}

#[test]
fn a_tenant_over_its_share_ranks_below_one_under_it() {
    for weights in [ScoreWeights::FAIR_SHARE, ScoreWeights::BALANCED] {
        let mut s = fleet(scored(weights));
        s.submit(JobBuilder::gpus(3).id(1).user("ann", "big"));
        assert!(matches!(
            decision(&s.checked_cycle(0), 1),
            alloc_core::Decision::Admit { .. }
        ));
        s.submit(
            JobBuilder::gpus(1)
                .id(10)
                .user("ann", "big")
                .submitted(Time(0)),
        )
        .submit(
            JobBuilder::gpus(1)
                .id(11)
                .user("bob", "small")
                .submitted(Time(MINUTE)),
        );
        assert_eq!(order(&s, HOUR), [11, 10], "{weights:?}");
        let big = s.score_of(JobId(10), Time(HOUR));
        // 3 of 8 GPUs
        assert_eq!(big.as_ref().map(|b| b.dominant_share), Some(0.375));
        assert!(big.is_some_and(|b| b.fair_share_points() < 0.0));
    }
}

#[test]
fn the_dominant_share_may_be_cpu_and_tenant_weight_divides_it() {
    let mut s = fleet(scored(ScoreWeights::FAIR_SHARE));
    // 2 of 8 GPUs but 96 of 128 cores
    s.submit(JobBuilder::gpus(1).id(1).cpu(48_000).user("ann", "big"))
        .submit(JobBuilder::gpus(1).id(2).cpu(48_000).user("ann", "big"))
        // 3 of 8 GPUs at weight 3: 0.125
        .submit(JobBuilder::gpus(3).id(3).user("hal", "heavy"))
        // 2 of 8 GPUs at weight 1: 0.25
        .submit(JobBuilder::gpus(2).id(4).user("bob", "small"));
    s.checked_cycle(0);
    assert_eq!(s.running().count(), 4);
    for (id, user, tenant) in [
        (10, "ann", "big"),
        (11, "hal", "heavy"),
        (12, "bob", "small"),
    ] {
        s.submit(JobBuilder::gpus(1).id(id).user(user, tenant));
    }
    let share = |id| {
        s.score_of(JobId(id), Time(HOUR))
            .map(|b| (b.dominant_share, b.tenant_weight))
    };
    assert_eq!(share(10), Some((0.75, 1)));
    assert_eq!(share(11), Some((0.375, 3)));
    assert_eq!(share(12), Some((0.25, 1)));
    assert_eq!(order(&s, HOUR), [11, 12, 10]);
}

#[test]
fn flex_budgets_go_slightly_earlier_under_balanced() {
    let mut s = fleet(scored(ScoreWeights::BALANCED));
    let jobs = [
        with_budget(JobBuilder::gpus(1).id(1), BudgetKind::Fixed, Some(0)),
        with_budget(JobBuilder::gpus(1).id(2), BudgetKind::Fixed, Some(10)),
        with_budget(JobBuilder::gpus(1).id(3), BudgetKind::Flex, Some(10)),
    ];
    for job in jobs {
        s.apply(Input::JobSubmitted(job)).unwrap();
    }
    assert_eq!(order(&s, 0), [3, 2, 1]);
    // ... but never by more than a priority class
    s.submit(JobBuilder::gpus(1).id(4).priority(1).submitted(Time(HOUR)));
    assert_eq!(order(&s, HOUR), [4, 3, 2, 1]);
}

#[test]
fn the_cycle_takes_jobs_in_scored_order() {
    // no nodes: everything waits, in the order it was considered
    let mut s = scheduler_with(config(), scored(ScoreWeights::DEADLINE_FIRST));
    s.submit(JobBuilder::gpus(1).id(1).priority(1))
        .submit(JobBuilder::gpus(1).id(2).deadline(Time(2 * HOUR)))
        .submit(JobBuilder::gpus(1).id(3));
    let expected = order(&s, 0);
    assert_eq!(expected, [2, 1, 3]);
    assert_eq!(crate::support::order(&s.checked_cycle(0)), expected);
}

#[test]
fn a_score_explains_itself() {
    let mut s = fleet(scored(ScoreWeights::BALANCED));
    s.submit(JobBuilder::gpus(2).id(1).user("ann", "big"));
    s.checked_cycle(0);
    let job = with_budget(
        JobBuilder::gpus(1)
            .id(7)
            .priority(1)
            .user("ann", "big")
            .runtime(Millis(2 * HOUR))
            .submitted(Time(HOUR))
            .deadline(Time(5 * HOUR)),
        BudgetKind::Fixed,
        Some(25),
    );
    s.apply(Input::JobSubmitted(job)).unwrap();
    let text = s
        .score_of(JobId(7), Time(2 * HOUR + 30 * MINUTE))
        .map(|b| b.to_string());
    assert_eq!(
        text.as_deref(),
        Some(
            "job 7 scores 1.725: priority 1 (+1.000), waited 1 h 30 min (+0.375), \
             1 h 30 min of slack before its deadline on the fastest flavor (urgency 0.400, +0.800), \
             tenant big holds 25.0% of the fleet at weight 1 (-0.500), \
             fixed budget of 25.00 (+0.050)"
        )
    );
    assert_eq!(
        s.score_of(JobId(1), Time::ZERO),
        None,
        "running, not pending"
    );
}

#[test]
fn presets_name_scored_orderings() {
    for name in PRESET_NAMES {
        assert_eq!(
            Ordering::preset(name),
            ScoreWeights::preset(name).map(Ordering::Scored)
        );
    }
    assert_eq!(Ordering::preset("fifo"), None);
}

// ---------------------------------------------------------------------------------------
// Properties

/// A pending job to generate: priority, submit minute, deadline minute (absolute, may be
/// already past), runtime minutes, tenant, budget, GPUs, restricted to the slow model.
#[derive(Debug, Clone)]
struct Spec {
    priority: i32,
    submit: u64,
    deadline: Option<u64>,
    runtime: u64,
    tenant: usize,
    budget: usize,
    gpus: u32,
    slow_only: bool,
}

const TENANTS: [(&str, &str); 3] = [("ann", "big"), ("bob", "small"), ("hal", "heavy")];

fn spec() -> impl Strategy<Value = Spec> {
    (
        -2i32..=2,
        0u64..600,
        prop::option::of(0u64..2000),
        10u64..240,
        0usize..3,
        0usize..3,
        1u32..=2,
        any::<bool>(),
    )
        .prop_map(
            |(priority, submit, deadline, runtime, tenant, budget, gpus, slow_only)| Spec {
                priority,
                submit,
                deadline,
                runtime,
                tenant,
                budget,
                gpus,
                slow_only,
            },
        )
}

fn weights() -> impl Strategy<Value = ScoreWeights> {
    let preset = (0..PRESET_NAMES.len())
        .prop_map(|i| ScoreWeights::preset(PRESET_NAMES[i]).unwrap_or_default());
    let any_weights = (
        0.0..5.0f64,
        0.0..5.0f64,
        0.0..20.0f64,
        0.0..20.0f64,
        0.0..1.0f64,
    )
        .prop_map(
            |(priority, aging_per_hour, deadline, fair_share, budget)| ScoreWeights {
                priority,
                aging_per_hour,
                deadline,
                fair_share,
                budget,
            },
        );
    prop_oneof![preset, any_weights]
}

fn job(id: u64, spec: &Spec) -> Job {
    let (user, tenant) = TENANTS[spec.tenant];
    let submit = spec.submit * MINUTE;
    let mut builder = JobBuilder::gpus(spec.gpus)
        .id(id)
        .priority(spec.priority)
        .user(user, tenant)
        .submitted(Time(submit))
        .runtime(Millis(spec.runtime * MINUTE));
    if let Some(minute) = spec.deadline {
        builder = builder.deadline(Time(minute * MINUTE));
    }
    if spec.slow_only {
        builder = builder.models(&["T4"]);
    }
    let (kind, limit) = [
        (BudgetKind::Flex, None),
        (BudgetKind::Fixed, Some(10)),
        (BudgetKind::Fixed, Some(0)),
    ][spec.budget];
    with_budget(builder, kind, limit)
}

/// A fleet where `running` jobs were admitted at time 0, then `pending` submitted in the order
/// given by `arrival` (indices into `pending`; job ids are 100 + index).
fn world(
    weights: ScoreWeights,
    running: &[Spec],
    pending: &[Spec],
    arrival: &[usize],
) -> Scheduler {
    let mut s = fleet(scored(weights));
    for (i, spec) in running.iter().enumerate() {
        s.apply(Input::JobSubmitted(job(1 + i as u64, spec)))
            .unwrap();
    }
    s.checked_cycle(0);
    for &i in arrival {
        s.apply(Input::JobSubmitted(job(100 + i as u64, &pending[i])))
            .unwrap();
    }
    s
}

fn pending_and_arrival() -> impl Strategy<Value = (Vec<Spec>, Vec<usize>)> {
    prop::collection::vec(spec(), 1..12).prop_flat_map(|pending| {
        let indices: Vec<usize> = (0..pending.len()).collect();
        (Just(pending), Just(indices).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The order is total, strict (one place per job), agrees with the explained scores, and
    /// does not depend on the order the jobs arrived in nor on the run.
    #[test]
    fn the_order_is_total_and_independent_of_arrival_order(
        weights in weights(),
        running in prop::collection::vec(spec(), 0..5),
        (pending, arrival) in pending_and_arrival(),
        now_minutes in 0u64..1200,
    ) {
        let now = Time(now_minutes * MINUTE);
        let in_order: Vec<usize> = (0..pending.len()).collect();
        let first = world(weights, &running, &pending, &in_order);
        let shuffled = world(weights, &running, &pending, &arrival);
        let again = world(weights, &running, &pending, &in_order);
        let ranked = first.consideration_order(now);
        prop_assert_eq!(&ranked, &shuffled.consideration_order(now));
        prop_assert_eq!(&ranked, &again.consideration_order(now));
        prop_assert_eq!(ranked.len(), first.pending_count());

        let explain = |s: &Scheduler| -> Vec<String> {
            ranked.iter().filter_map(|id| s.score_of(*id, now)).map(|b| b.to_string()).collect()
        };
        prop_assert_eq!(explain(&first), explain(&shuffled));

        let scores: Vec<_> = ranked
            .iter()
            .filter_map(|id| first.score_of(*id, now))
            .map(|b| b.score())
            .collect();
        prop_assert_eq!(scores.len(), ranked.len());
        // the cycle's order is the order of the explained scores, strictly increasing
        for pair in scores.windows(2) {
            prop_assert!(pair[0] < pair[1]);
        }
        for a in &scores {
            for b in &scores {
                prop_assert_eq!(a.cmp(b), b.cmp(a).reverse());
                prop_assert_eq!(a.cmp(b) == std::cmp::Ordering::Equal, a.job() == b.job());
                for c in &scores {
                    if a < b && b < c {
                        prop_assert!(a < c);
                    }
                }
            }
        }
    }

    /// Two jobs alike in everything but submit time (same absolute deadline): the older never ranks below the newer,
    /// at any `now`, and its lead (in points) never shrinks as `now` grows.
    #[test]
    fn aging_never_pushes_the_older_of_two_like_jobs_down(
        weights in weights(),
        running in prop::collection::vec(spec(), 0..5),
        others in prop::collection::vec(spec(), 0..6),
        like in spec(),
        newer_by in 0u64..600,
        t1 in 0u64..1200,
        later_by in 0u64..1200,
    ) {
        let older = like.clone();
        let newer = Spec { submit: like.submit + newer_by, ..like };
        let mut pending = others;
        pending.push(older);
        pending.push(newer);
        let (older_id, newer_id) = (JobId(100 + pending.len() as u64 - 2), JobId(99 + pending.len() as u64));
        let arrival: Vec<usize> = (0..pending.len()).collect();
        let s = world(weights, &running, &pending, &arrival);
        let lead = |now: u64| {
            let points = |id| s.score_of(id, Time(now * MINUTE)).map(|b| b.score().value()).unwrap_or(0.0);
            points(older_id) - points(newer_id)
        };
        let position = |now: u64, id: JobId| s.consideration_order(Time(now * MINUTE)).iter().position(|j| *j == id);
        for now in [t1, t1 + later_by] {
            prop_assert!(position(now, older_id) < position(now, newer_id));
        }
        prop_assert!(lead(t1) >= 0.0);
        // a lead in points never shrinks as time goes by (up to rounding)
        prop_assert!(lead(t1 + later_by) >= lead(t1) - 1e-9);
    }

    /// Without a deadline, a job's score never falls as `now` grows.
    #[test]
    fn a_score_without_deadline_never_falls_with_time(
        weights in weights(),
        running in prop::collection::vec(spec(), 0..5),
        mut like in spec(),
        t1 in 0u64..1200,
        later_by in 0u64..1200,
    ) {
        like.deadline = None;
        let s = world(weights, &running, std::slice::from_ref(&like), &[0]);
        let value = |now: u64| s.score_of(JobId(100), Time(now * MINUTE)).map(|b| b.score().value());
        prop_assert!(value(t1 + later_by) >= value(t1));
    }
}
