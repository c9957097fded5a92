//! Generators for the property tests: small fleets over two or three flavors of different tiers
//! (some public, rented through offers), queues with and without a cohort and valid Kueue
//! limits, users and tenants with optional caps and public budgets, a burst policy, and
//! sequences of inputs and cycles with jobs that may burst.

use alloc_core::burst::{Rescue, Term};
use alloc_core::placement::MpsPacking;
use alloc_core::preemption::{PreemptionPolicy, ReclaimWithinCohort, WithinClusterQueue};
use alloc_core::testing::{ConfigBuilder, FLAVOR_LABEL};
use alloc_core::{
    Backfill, BorrowWithinCohort, BorrowWithinCohortPolicy, BudgetKind, BurstMode, BurstPolicy,
    Config, DataClass, GpuRequest, Job, JobId, LocalQueueName, MilliGpu, Millis, Money, NodeSpec,
    Policy, QueuePreemption, QueueingStrategy, Quota, TenantName, Tier, Time, UserName, VramMib,
    WaitRule, WhenCanBorrow, WhenCanPreempt,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::{BTreeMap, BTreeSet};

pub const FLAVORS: [&str; 3] = ["f0", "f1", "f2"];
pub const QUEUES: [&str; 3] = ["q0", "q1", "q2"];
pub const MODELS: [&str; 3] = ["V100", "T4", "A100"];
/// (user, tenant); the last one is not configured, so no cap applies to it.
pub const USERS: [(&str, &str); 4] = [
    ("alice", "lab"),
    ("bob", "lab"),
    ("carol", "other"),
    ("guest", "visitors"),
];

/// Configuration, policy and the nodes present from the start.
#[derive(Debug, Clone)]
pub struct World {
    pub config: Config,
    pub policy: Policy,
    pub nodes: Vec<NodeShape>,
}

/// A node before it gets a name: which flavor's label it carries (index 3: none), its GPUs.
#[derive(Debug, Clone)]
pub struct NodeShape {
    pub flavor: usize,
    pub model: usize,
    pub gpus: u32,
    pub cpu: u64,
    pub memory: u64,
}

impl NodeShape {
    /// The node, in the private cluster: a public flavor's GPUs are rented through its offer,
    /// so a node drawn for one belongs to no flavor.
    pub fn spec(&self, name: String, config: &Config) -> NodeSpec {
        let flavor = match self.flavor {
            3 => "stray",
            index => FLAVORS[index % config.flavors.len().max(1)],
        };
        let public = config
            .flavors
            .get(&flavor.into())
            .and_then(|f| config.clusters.get(&f.cluster))
            .is_some_and(|c| c.is_public());
        let flavor = if public { "stray" } else { flavor };
        NodeSpec {
            name: alloc_core::NodeName::new(name),
            cluster: "private".into(),
            labels: BTreeMap::from([(FLAVOR_LABEL.to_string(), flavor.to_string())]),
            cpu: alloc_core::CpuMilli(self.cpu),
            memory: alloc_core::MemMib(self.memory),
            gpu_model: (self.gpus > 0).then(|| MODELS[self.model].into()),
            gpus: self.gpus,
        }
    }
}

/// A job before it gets an id and a submit time.
#[derive(Debug, Clone)]
pub struct JobShape {
    pub queue: usize,
    pub user: usize,
    pub gpu: GpuRequest,
    pub spread: bool,
    pub cpu: u64,
    pub memory: u64,
    pub tier: Tier,
    pub upgrade: bool,
    pub priority: i32,
    pub data_class: DataClass,
    pub model: Option<usize>,
    /// May it burst, and with which budget (whole currency units; `None`: no limit)?
    pub burst: Option<(BudgetKind, Option<i64>)>,
    /// Checkpoints, restore cost and deadline; only the preemption histories set them.
    pub extras: Option<JobExtras>,
}

/// What makes an eviction cheap or forbidden: checkpoints, restore cost, a deadline.
#[derive(Debug, Clone, Copy)]
pub struct JobExtras {
    pub checkpoint_ms: Option<u64>,
    pub restore_ms: u64,
    /// Deadline = submit time + runtime + this.
    pub deadline_slack_ms: Option<u64>,
}

impl JobShape {
    /// The job with its id and submit time, in one of `config`'s queues (index 3: a queue
    /// that does not exist).
    pub fn job(&self, id: u64, at: Time, config: &Config) -> Job {
        let mut job = self.plain_job(id, at, config);
        if let Some(extras) = self.extras {
            job.checkpoint_interval = extras.checkpoint_ms.map(Millis);
            job.restore_cost = Millis(extras.restore_ms);
            job.deadline = extras
                .deadline_slack_ms
                .map(|slack| at + job.runtime + Millis(slack));
        }
        job
    }

    fn plain_job(&self, id: u64, at: Time, config: &Config) -> Job {
        let (user, tenant) = USERS[self.user];
        let queue = match self.queue {
            3 => "nope",
            index => QUEUES[index % config.cluster_queues.len().max(1)],
        };
        Job {
            id: JobId(id),
            queue: LocalQueueName::new(queue),
            tenant: TenantName::new(tenant),
            user: UserName::new(user),
            gpu: self.gpu,
            spread: self.spread,
            cpu: alloc_core::CpuMilli(self.cpu),
            memory: alloc_core::MemMib(self.memory),
            min_tier: self.tier,
            allow_upgrade: self.upgrade,
            allowed_flavors: None,
            gpu_models: self.model.map(|m| BTreeSet::from([MODELS[m].into()])),
            priority: self.priority,
            runtime: Millis::minutes(10),
            deadline: None,
            budget: alloc_core::Budget {
                kind: self.burst.map_or(BudgetKind::Flex, |(kind, _)| kind),
                limit: self.burst.and_then(|(_, limit)| limit).map(Money::units),
            },
            burstable: self.burst.is_some(),
            data_class: self.data_class,
            checkpoint_interval: None,
            restore_cost: Millis::ZERO,
            submit_time: at,
        }
    }
}

/// One step of a generated history. Indices pick among what exists when the step runs.
#[derive(Debug, Clone)]
pub enum Step {
    /// Submits this many jobs of one shape: equal requests in one cycle are what the cycle's
    /// memo answers once, so histories must hold some.
    Submit(JobShape, u8),
    /// Resubmits a known job id (must be refused while it is pending or running).
    Resubmit(Index),
    /// Finish / requeue / cancel one of the pending or running jobs (pending ones are refused
    /// for finish and requeue).
    Finish(Index),
    Requeue(Index),
    Cancel(Index),
    /// The shell's part of preemptions: every victim still evicting stops.
    StopVictims,
    /// A controller's re-list: one pending job, running job or node told again as it is,
    /// which must change nothing.
    ToldAgain(Index),
    /// Kueue reserves quota for a pending job on one of the flavors (the last index: the
    /// reservation is released).
    Reserve(Index, Index),
    /// The bill of one of the leases of bursts that ended comes in, at this share (‰) of
    /// what the lease reserved.
    Bill(Index, u16),
    AddNode(NodeShape),
    /// Removes one of the nodes, or a node that does not exist when the index says so.
    RemoveNode(Index),
    ChangeQuota {
        queue: Index,
        flavor: Index,
        quota: QuotaShape,
    },
    Cycle,
}

/// A quota before it is made valid for its queue (limits only inside a cohort).
#[derive(Debug, Clone, Copy)]
pub struct QuotaShape {
    pub nominal: u64,
    pub borrowing: Option<u64>,
    pub lending_permille: Option<u64>,
}

impl QuotaShape {
    pub fn quota(&self, in_cohort: bool) -> Quota {
        Quota {
            nominal: self.nominal,
            borrowing_limit: self.borrowing.filter(|_| in_cohort),
            lending_limit: self
                .lending_permille
                .filter(|_| in_cohort)
                .map(|p| self.nominal * p / 1000),
        }
    }
}

pub fn tier() -> impl Strategy<Value = Tier> {
    prop_oneof![Just(Tier::Bronze), Just(Tier::Silver), Just(Tier::Gold)]
}

pub fn quota_shape() -> impl Strategy<Value = QuotaShape> {
    (
        0u64..=12,
        proptest::option::weighted(0.4, 0u64..=8),
        proptest::option::weighted(0.4, 0u64..=1000),
    )
        .prop_map(|(half_gpus, borrowing, lending_permille)| QuotaShape {
            nominal: half_gpus * 500,
            borrowing: borrowing.map(|b| b * 500),
            lending_permille,
        })
}

#[derive(Debug, Clone)]
struct QueueShape {
    cohort: bool,
    strict: bool,
    try_next: bool,
    /// Flavor indices in the order the queue lists them, with quotas.
    flavors: Vec<(usize, QuotaShape)>,
}

fn queue_shape(flavor_count: usize) -> impl Strategy<Value = QueueShape> {
    (
        proptest::bool::weighted(0.7),
        proptest::bool::weighted(0.25),
        any::<bool>(),
        Just((0..flavor_count).collect::<Vec<_>>()).prop_shuffle(),
        prop_oneof![3 => Just(flavor_count), 1 => 1..=flavor_count],
        vec(quota_shape(), flavor_count),
    )
        .prop_map(
            |(cohort, strict, try_next, order, used, quotas)| QueueShape {
                cohort,
                strict,
                try_next,
                flavors: order.into_iter().take(used).zip(quotas).collect(),
            },
        )
}

fn cap() -> impl Strategy<Value = (Option<u32>, Option<MilliGpu>)> {
    (
        proptest::option::weighted(0.3, 1u32..=3),
        proptest::option::weighted(0.3, (1u64..=8).prop_map(|h| MilliGpu(h * 500))),
    )
}

pub fn world() -> impl Strategy<Value = World> {
    (world_without_backfill(), backfill()).prop_map(|(mut world, backfill)| {
        world.policy.backfill = backfill;
        world
    })
}

/// Reservations for large jobs half the time, for jobs of one to three GPUs and up, one or two
/// per flavor.
pub fn backfill() -> impl Strategy<Value = Backfill> {
    prop_oneof![
        Just(Backfill::default()),
        (1u32..=2, 1u32..=3).prop_map(|(per_flavor, min_gpus)| Backfill {
            enabled: true,
            per_flavor,
            min_gpus,
        }),
    ]
}

fn world_without_backfill() -> impl Strategy<Value = World> {
    (2usize..=3)
        .prop_flat_map(|flavor_count| {
            (
                // distinct tiers, in any order
                Just(vec![Tier::Bronze, Tier::Silver, Tier::Gold]).prop_shuffle(),
                vec(proptest::bool::weighted(0.5), flavor_count),
                vec(queue_shape(flavor_count), 1..=3),
                vec(cap(), 4),
                any::<bool>(),
                vec(node_shape(), 2..=5),
                (
                    burst_policy(),
                    // each public flavor's offer: price per GPU-hour, GPU cap, warm tail (min)
                    vec((1i64..=4, 1u32..=6, 0u64..=20), 3),
                    vec(proptest::option::weighted(0.6, 0i64..=4), 2),
                ),
            )
        })
        .prop_map(|(tiers, public, queues, caps, upgrade, mut nodes, money)| {
            let (burst, offers, budgets) = money;
            // every flavor starts with a node with GPUs
            for (index, node) in nodes.iter_mut().enumerate().take(public.len()) {
                node.flavor = index;
                node.gpus = node.gpus.max(2);
            }
            let mut builder = ConfigBuilder::new();
            for (index, (tier, public)) in tiers.iter().zip(&public).enumerate() {
                builder = if *public {
                    let (price, cap, tail) = offers[index];
                    builder
                        .offer(FLAVORS[index], *tier, "A100", price, 0, cap)
                        .scale_down_after(tail)
                } else {
                    builder.private_flavor(FLAVORS[index], *tier)
                };
            }
            for (index, queue) in queues.iter().enumerate() {
                let quotas: Vec<(&str, Quota)> = queue
                    .flavors
                    .iter()
                    .map(|(flavor, shape)| (FLAVORS[*flavor], shape.quota(queue.cohort)))
                    .collect();
                builder = if queue.cohort {
                    builder.queue_in_cohort(QUEUES[index], "cohort", &quotas)
                } else {
                    builder.queue(QUEUES[index], &quotas)
                };
                if queue.strict {
                    builder = builder.strict_fifo();
                }
                if queue.try_next {
                    builder = builder.when_can_borrow(WhenCanBorrow::TryNextFlavor);
                }
            }
            builder = builder
                .tenant("lab", caps[0].0, caps[0].1)
                .tenant("other", caps[1].0, caps[1].1)
                .user("alice", "lab", caps[2].0, caps[2].1)
                .user("bob", "lab", caps[3].0, caps[3].1)
                .user("carol", "other", None, None);
            for (tenant, budget) in ["lab", "other"].into_iter().zip(budgets) {
                if let Some(budget) = budget {
                    builder = builder.tenant_public_budget(tenant, budget);
                }
            }
            World {
                config: builder.build(),
                policy: Policy {
                    allow_tier_upgrade: upgrade,
                    burst,
                    ..Policy::default()
                },
                nodes,
            }
        })
}

/// The rescue rule, off or with any reserve, cap and queue counting, over a term of a few of
/// the histories' seconds (paced or not) or none.
pub fn rescue() -> impl Strategy<Value = Option<Rescue>> {
    let term = proptest::option::of((0u64..=3, 1u64..=60).prop_map(|(start, over)| Term {
        start: Time(start * 1_000),
        over: Millis::seconds(over),
    }));
    let knobs = (
        0u32..=100,
        0u32..=100,
        any::<bool>(),
        term,
        proptest::option::of(0u32..=50),
        any::<bool>(),
    );
    proptest::option::of(knobs.prop_map(
        |(
            reserve_percent,
            max_rescue_percent,
            count_queue_ahead,
            term,
            pace_ahead_percent,
            displace,
        )| {
            Rescue {
                reserve_percent,
                max_rescue_percent,
                count_queue_ahead,
                term,
                pace_ahead_percent,
                displace,
            }
        },
    ))
}

/// Every way to burst: never, at once, or after a wait (seconds: the histories' cycles are a
/// second apart), deadline-aware or not, with some flexible overrun, rescuing deadlines or
/// not.
pub fn burst_policy() -> impl Strategy<Value = BurstPolicy> {
    let wait = prop_oneof![
        (0u64..=5).prop_map(|s| WaitRule::Constant {
            wait: Millis::seconds(s)
        }),
        (0u64..=3).prop_map(|s| WaitRule::PerGpu {
            per_gpu: Millis::seconds(s)
        }),
        (0u32..=10).prop_map(|permille| WaitRule::PerRuntime { permille }),
        (0u32..=10).prop_map(|permille| WaitRule::PerGpuHour { permille }),
    ];
    (
        prop_oneof![
            1 => Just(BurstMode::Never),
            2 => Just(BurstMode::Always),
            2 => Just(BurstMode::Threshold)
        ],
        wait,
        any::<bool>(),
        0u32..=50,
        rescue(),
    )
        .prop_map(
            |(mode, wait, deadline_aware, flex_overrun_percent, rescue)| BurstPolicy {
                mode,
                wait,
                deadline_aware,
                slack_reference: Millis::minutes(30),
                flex_overrun_percent,
                rescue,
            },
        )
}

pub fn node_shape() -> impl Strategy<Value = NodeShape> {
    (
        prop_oneof![9 => 0usize..3, 1 => Just(3usize)],
        0usize..3,
        prop_oneof![1 => Just(0u32), 4 => 1u32..=8],
        prop_oneof![1 => Just(4_000u64), 1 => Just(16_000), 3 => Just(64_000)],
        prop_oneof![1 => Just(16_384u64), 3 => Just(524_288)],
    )
        .prop_map(|(flavor, model, gpus, cpu, memory)| NodeShape {
            flavor,
            model,
            gpus,
            cpu,
            memory,
        })
}

pub fn gpu_request() -> impl Strategy<Value = GpuRequest> {
    prop_oneof![
        6 => (1u32..=4, prop_oneof![4 => Just(0u64), 1 => Just(20_000)]).prop_map(|(count, vram)| {
            GpuRequest::Whole { count, min_vram: VramMib(vram) }
        }),
        6 => (1u64..=9, 0u64..=10).prop_map(|(tenths, vram)| GpuRequest::Fraction {
            milli: MilliGpu(tenths * 100 - tenths % 2 * 50),
            vram: VramMib(vram * 2_000),
        }),
        3 => Just(GpuRequest::None),
        1 => prop_oneof![
            Just(GpuRequest::Whole { count: 0, min_vram: VramMib(0) }),
            Just(GpuRequest::Fraction { milli: MilliGpu(0), vram: VramMib(0) }),
            Just(GpuRequest::Fraction { milli: MilliGpu(1000), vram: VramMib(0) }),
        ],
    ]
}

pub fn job_shape() -> impl Strategy<Value = JobShape> {
    (
        (
            prop_oneof![19 => 0usize..3, 1 => Just(3usize)],
            0usize..USERS.len(),
            gpu_request(),
            proptest::bool::weighted(0.3),
        ),
        (
            prop_oneof![1 => Just(0u64), 8 => 500u64..=8_000, 1 => Just(40_000)],
            prop_oneof![1 => Just(0u64), 6 => 1_024u64..=16_384, 1 => Just(65_536)],
        ),
        (
            tier(),
            proptest::bool::weighted(0.3),
            0i32..=2,
            prop_oneof![
                Just(DataClass::Public),
                Just(DataClass::Internal),
                Just(DataClass::Sensitive)
            ],
            proptest::option::weighted(0.2, 0usize..3),
        ),
        proptest::option::weighted(
            0.5,
            (
                prop_oneof![3 => Just(BudgetKind::Flex), 1 => Just(BudgetKind::Fixed)],
                proptest::option::weighted(0.5, 0i64..=3),
            ),
        ),
    )
        .prop_map(
            |(
                (queue, user, gpu, spread),
                (cpu, memory),
                (tier, upgrade, priority, data_class, model),
                burst,
            )| {
                JobShape {
                    queue,
                    user,
                    gpu,
                    spread,
                    cpu,
                    memory,
                    tier,
                    upgrade,
                    priority,
                    data_class,
                    model,
                    burst,
                    extras: None,
                }
            },
        )
}

/// Mostly one job, sometimes a few alike.
fn copies() -> impl Strategy<Value = u8> {
    prop_oneof![6 => Just(1u8), 1 => 2u8..=4]
}

pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (job_shape(), copies()).prop_map(|(shape, copies)| Step::Submit(shape, copies)),
        1 => any::<Index>().prop_map(Step::Resubmit),
        4 => any::<Index>().prop_map(Step::Finish),
        1 => any::<Index>().prop_map(Step::Requeue),
        1 => any::<Index>().prop_map(Step::Cancel),
        2 => Just(Step::StopVictims),
        1 => any::<Index>().prop_map(Step::ToldAgain),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(job, flavor)| Step::Reserve(job, flavor)),
        1 => (any::<Index>(), 0u16..=1_000).prop_map(|(index, permille)| Step::Bill(index, permille)),
        2 => node_shape().prop_map(Step::AddNode),
        1 => any::<Index>().prop_map(Step::RemoveNode),
        1 => (any::<Index>(), any::<Index>(), quota_shape())
            .prop_map(|(queue, flavor, quota)| Step::ChangeQuota { queue, flavor, quota }),
        5 => Just(Step::Cycle),
    ]
}

pub fn history(max_steps: usize) -> impl Strategy<Value = Vec<Step>> {
    vec(step(), 1..=max_steps)
}

pub fn job_extras() -> impl Strategy<Value = JobExtras> {
    (
        proptest::option::weighted(0.6, 500u64..=4_000),
        prop_oneof![1 => Just(0u64), 1 => 0u64..=3_000],
        proptest::option::weighted(0.4, prop_oneof![Just(0u64), 0u64..=10_000, Just(3_600_000)]),
    )
        .prop_map(|(checkpoint_ms, restore_ms, deadline_slack_ms)| JobExtras {
            checkpoint_ms,
            restore_ms,
            deadline_slack_ms,
        })
}

/// A ClusterQueue's own `spec.preemption`, `borrowWithinCohort` included (only with
/// `reclaimWithinCohort`, as Kueue requires).
pub fn queue_preemption() -> impl Strategy<Value = QueuePreemption> {
    (
        within_cluster_queue(),
        reclaim_within_cohort(),
        any::<bool>(),
        proptest::option::weighted(0.5, 0i32..=3),
    )
        .prop_map(|(within, reclaim, borrow, threshold)| QueuePreemption {
            within_cluster_queue: within,
            reclaim_within_cohort: reclaim,
            borrow_within_cohort: BorrowWithinCohort {
                policy: if borrow && reclaim != ReclaimWithinCohort::Never {
                    BorrowWithinCohortPolicy::LowerPriority
                } else {
                    BorrowWithinCohortPolicy::Never
                },
                max_priority_threshold: threshold,
            },
        })
}

fn within_cluster_queue() -> impl Strategy<Value = WithinClusterQueue> {
    prop_oneof![
        Just(WithinClusterQueue::Never),
        Just(WithinClusterQueue::LowerPriority),
        Just(WithinClusterQueue::LowerOrNewerEqualPriority),
    ]
}

fn reclaim_within_cohort() -> impl Strategy<Value = ReclaimWithinCohort> {
    prop_oneof![
        Just(ReclaimWithinCohort::Never),
        Just(ReclaimWithinCohort::LowerPriority),
        Just(ReclaimWithinCohort::Any),
    ]
}

pub fn preemption_policy() -> impl Strategy<Value = PreemptionPolicy> {
    (
        within_cluster_queue(),
        reclaim_within_cohort(),
        any::<bool>(),
        proptest::option::weighted(0.3, 1u32..=3),
        // the guards against thrash: none, or some of them
        prop_oneof![2 => Just(0u64), 1 => 1u64..=30],
        proptest::option::weighted(0.4, 1u32..=3),
        any::<bool>(),
        proptest::option::weighted(0.4, 1u64..=20),
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            |(
                within_cluster_queue,
                reclaim_within_cohort,
                allow_deadline_misses,
                max_victims,
                min_run_minutes,
                max_evictions,
                cost_grows_with_evictions,
                max_loss_minutes,
                protect_deadlines,
            )| {
                PreemptionPolicy {
                    enabled: true,
                    within_cluster_queue,
                    reclaim_within_cohort,
                    allow_deadline_misses,
                    protect_deadlines,
                    max_victims,
                    min_run: Millis::minutes(min_run_minutes),
                    max_evictions,
                    cost_grows_with_evictions,
                    max_loss: max_loss_minutes.map(Millis::minutes),
                }
            },
        )
}

/// A world whose policy preempts, with either `whenCanPreempt` on its queues and any MPS
/// packing; in half of them no user or tenant caps and no StrictFIFO, so that more jobs get as
/// far as preemption.
pub fn world_with_preemption() -> impl Strategy<Value = World> {
    let packing = proptest::sample::select(MpsPacking::ALL.to_vec());
    (
        world(),
        preemption_policy(),
        any::<bool>(),
        any::<bool>(),
        packing,
        vec(proptest::option::weighted(0.4, queue_preemption()), 3),
    )
        .prop_map(|(mut world, preemption, first, open, packing, rules)| {
            world.policy.preemption = preemption;
            world.policy.mps_packing = packing;
            for (queue, rules) in world.config.cluster_queues.values_mut().zip(rules) {
                queue.preemption = rules;
                if first {
                    queue.fungibility.when_can_preempt = WhenCanPreempt::MayStopSearch;
                }
                if open {
                    queue.strategy = QueueingStrategy::BestEffortFIFO;
                }
            }
            if open {
                for user in world.config.users.values_mut() {
                    (user.max_running_jobs, user.max_gpus) = (None, None);
                }
                for tenant in world.config.tenants.values_mut() {
                    (tenant.max_running_jobs, tenant.max_gpus) = (None, None);
                }
            }
            world
        })
}

/// A history whose jobs checkpoint, restore and have deadlines now and then; busier than
/// `history` (more submissions, fewer finishes) so that jobs contend.
pub fn history_with_extras(max_steps: usize) -> impl Strategy<Value = Vec<Step>> {
    let busy = prop_oneof![
        10 => (job_shape(), copies()).prop_map(|(shape, copies)| Step::Submit(shape, copies)),
        1 => any::<Index>().prop_map(Step::Finish),
        1 => any::<Index>().prop_map(Step::Requeue),
        3 => Just(Step::StopVictims),
        1 => any::<Index>().prop_map(Step::ToldAgain),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(job, flavor)| Step::Reserve(job, flavor)),
        1 => node_shape().prop_map(Step::AddNode),
        1 => any::<Index>().prop_map(Step::RemoveNode),
        1 => (any::<Index>(), any::<Index>(), quota_shape())
            .prop_map(|(queue, flavor, quota)| Step::ChangeQuota { queue, flavor, quota }),
        5 => Just(Step::Cycle),
    ];
    let job = (job_extras(), 0i32..=4, any::<bool>());
    (vec(busy, 1..=max_steps), vec(job, max_steps)).prop_map(|(mut steps, jobs)| {
        for (step, (extras, priority, upgrade)) in steps.iter_mut().zip(jobs) {
            if let Step::Submit(shape, _) = step {
                // fewer constraints, so that jobs meet on the same flavors and nodes
                shape.extras = Some(extras);
                shape.priority = priority;
                shape.upgrade |= upgrade;
                shape.model = None;
            }
        }
        steps
    })
}

/// A world where bursting is the point: the first flavor is public (rented through an offer)
/// and every queue lists it, and the policy bursts (at once or after a short wait).
pub fn bursting_world() -> impl Strategy<Value = World> {
    (world(), burst_policy(), 1i64..=4, 1u32..=6, 0u64..=20)
        .prop_filter_map(
            "a policy that bursts",
            |(world, burst, price, cap, tail)| {
                (burst.mode != BurstMode::Never).then_some((world, burst, price, cap, tail))
            },
        )
        .prop_map(|(mut world, burst, price, cap, tail)| {
            world.policy.burst = burst;
            let config = &mut world.config;
            let name: alloc_core::FlavorName = FLAVORS[0].into();
            let cloud: alloc_core::ClusterName = "cloud".into();
            if let Some(flavor) = config.flavors.get_mut(&name) {
                flavor.cluster = cloud.clone();
                flavor.gpu_model = Some(MODELS[2].into());
            }
            if let Some(cluster) = config.clusters.get_mut(&cloud) {
                cluster.offers.retain(|offer| offer.flavor != name);
                cluster.offers.push(alloc_core::Offer {
                    flavor: name.clone(),
                    gpu_model: MODELS[2].into(),
                    price_per_gpu_hour: Money::units(price),
                    provisioning_latency: Millis::ZERO,
                    gpu_cap: cap,
                    scale_down_after: Millis::minutes(tail),
                });
            }
            for queue in config.cluster_queues.values_mut() {
                if !queue.flavors.iter().any(|f| f.flavor == name) {
                    let quota = Quota::nominal(4_000);
                    queue.flavors.push(alloc_core::FlavorQuotas {
                        flavor: name.clone(),
                        resources: BTreeMap::from([
                            (alloc_core::Resource::Gpu, quota),
                            (alloc_core::Resource::Cpu, Quota::nominal(1 << 40)),
                            (alloc_core::Resource::Memory, Quota::nominal(1 << 40)),
                        ]),
                    });
                }
            }
            world
        })
}

/// A history whose jobs mostly may burst, on flexible budgets mostly.
pub fn bursting_history(max_steps: usize) -> impl Strategy<Value = Vec<Step>> {
    let budget = (
        prop_oneof![4 => Just(BudgetKind::Flex), 1 => Just(BudgetKind::Fixed)],
        proptest::option::weighted(0.5, 0i64..=3),
    );
    (
        history(max_steps),
        vec((proptest::bool::weighted(0.8), budget), max_steps),
    )
        .prop_map(|(mut steps, bursts)| {
            for (step, (burstable, budget)) in steps.iter_mut().zip(bursts) {
                if let Step::Submit(shape, _) = step {
                    shape.burst = burstable.then_some(budget);
                }
            }
            steps
        })
}
