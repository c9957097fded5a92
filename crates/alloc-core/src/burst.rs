//! Burst: when a job that cannot start privately goes to a public offer.
//!
//! A job bursts when all of these hold:
//! 1. the policy's mode is not `Never`; the job is `burstable` and its data is not `sensitive`;
//! 2. an offer fits it: the offer's flavor tier ≥ the job's tier, its GPU model is one the job
//!    accepts with the VRAM it needs, the job's flavor list (if any) names it, and the offer has
//!    GPUs left under its cap;
//! 3. the budget allows the expected cost (price × GPUs × (provisioning + runtime on the
//!    offer's model)): a `fixed` budget must cover it with what the job already spent, a `flex`
//!    one within `flex_overrun_percent` above its limit; the tenant's `public_budget`, if any,
//!    must cover it too;
//! 4. the job has waited at least X: `Always` → X = 0; `Threshold` → X from the waiting rule
//!    (Starburst's family: constant, ∝ runtime, ∝ GPUs, ∝ GPU-hours), shrunk by deadline slack
//!    when `deadline_aware`: X × clamp(slack ÷ `slack_reference`, 0, 1), where slack = deadline −
//!    predicted private end; when the private prediction already misses the deadline, X = 0.
//!
//! Among the fitting, affordable offers: the cheapest that meets the deadline (ties: earlier
//! end, then flavor name); with no deadline the cheapest; when none meets it, the earliest end.
//! Burst is monotone in waiting time: every term of X only shrinks as `now` grows.

use crate::decision::{Decision, Placement, PublicLease, WaitReason};
use crate::ids::FlavorName;
use crate::model::{BudgetKind, Config, DataClass, Flavor, GpuModel, GpuRequest, Job, Offer};
use crate::scheduler::Scheduler;
use crate::units::{MilliGpu, Millis, Money, Time};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// When to burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BurstMode {
    /// Never rent public GPUs.
    #[default]
    Never,
    /// Rent as soon as a job cannot start privately.
    Always,
    /// Rent once the job has waited its threshold.
    Threshold,
}

/// How long a job waits privately before it may burst (Starburst, ATC'24, waiting policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum WaitRule {
    /// The same wait for every job.
    Constant { wait: Millis },
    /// `permille` ‰ of the job's reference runtime.
    PerRuntime { permille: u32 },
    /// `per_gpu` for each GPU asked for (a fraction counts as one).
    PerGpu { per_gpu: Millis },
    /// `permille` ‰ of the job's GPU-time (runtime × GPUs).
    PerGpuHour { permille: u32 },
}

impl Default for WaitRule {
    fn default() -> Self {
        WaitRule::Constant {
            wait: Millis::minutes(30),
        }
    }
}

impl WaitRule {
    pub fn threshold(&self, job: &Job) -> Millis {
        let gpus = gpus_rented(job);
        match *self {
            WaitRule::Constant { wait } => wait,
            WaitRule::PerRuntime { permille } => {
                Millis(job.runtime.0.saturating_mul(u64::from(permille)) / 1000)
            }
            WaitRule::PerGpu { per_gpu } => Millis(per_gpu.0.saturating_mul(u64::from(gpus))),
            WaitRule::PerGpuHour { permille } => Millis(
                job.runtime
                    .0
                    .saturating_mul(u64::from(gpus))
                    .saturating_mul(u64::from(permille))
                    / 1000,
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstPolicy {
    #[serde(default)]
    pub mode: BurstMode,
    #[serde(default)]
    pub wait: WaitRule,
    /// Shrink the wait as the deadline nears, and burst at once when the private prediction
    /// misses the deadline.
    #[serde(default = "yes")]
    pub deadline_aware: bool,
    /// Slack at or above which the full wait applies.
    #[serde(default = "four_hours")]
    pub slack_reference: Millis,
    /// How far above its limit a `flex` budget may go, in percent.
    #[serde(default = "twenty_five")]
    pub flex_overrun_percent: u32,
}

fn yes() -> bool {
    true
}
fn four_hours() -> Millis {
    Millis::hours(4)
}
fn twenty_five() -> u32 {
    25
}

impl Default for BurstPolicy {
    fn default() -> Self {
        BurstPolicy {
            mode: BurstMode::Never,
            wait: WaitRule::default(),
            deadline_aware: true,
            slack_reference: four_hours(),
            flex_overrun_percent: twenty_five(),
        }
    }
}

impl BurstPolicy {
    /// Named presets: `never`, `always`, `tiered` (30 min, deadline-aware — the platform's
    /// default), and Starburst's waiting policies `starburst-constant` (30 min),
    /// `starburst-runtime` (25% of runtime), `starburst-gpus` (15 min per GPU) and
    /// `starburst-gpu-hours` (25% of GPU-time), none deadline-aware.
    pub fn preset(name: &str) -> Option<BurstPolicy> {
        let threshold = |wait: WaitRule, deadline_aware: bool| BurstPolicy {
            mode: BurstMode::Threshold,
            wait,
            deadline_aware,
            ..BurstPolicy::default()
        };
        Some(match name {
            "never" => BurstPolicy::default(),
            "always" => BurstPolicy {
                mode: BurstMode::Always,
                ..BurstPolicy::default()
            },
            "tiered" => threshold(WaitRule::default(), true),
            "starburst-constant" => threshold(WaitRule::default(), false),
            "starburst-runtime" => threshold(WaitRule::PerRuntime { permille: 250 }, false),
            "starburst-gpus" => threshold(
                WaitRule::PerGpu {
                    per_gpu: Millis::minutes(15),
                },
                false,
            ),
            "starburst-gpu-hours" => threshold(WaitRule::PerGpuHour { permille: 250 }, false),
            _ => return None,
        })
    }

    pub const PRESETS: [&'static str; 7] = [
        "never",
        "always",
        "tiered",
        "starburst-constant",
        "starburst-runtime",
        "starburst-gpus",
        "starburst-gpu-hours",
    ];
}

/// Whole GPUs a burst rents: the count for whole-GPU jobs, one for a fraction.
pub fn gpus_rented(job: &Job) -> u32 {
    match job.gpu {
        GpuRequest::None => 0,
        GpuRequest::Whole { count, .. } => count,
        GpuRequest::Fraction { .. } => 1,
    }
}

/// A public offer with its flavor and GPU model, in the configuration's order (clusters by
/// name, then each cluster's offers); offers naming an unknown flavor or model are left out.
#[derive(Debug, Clone)]
pub(crate) struct PublicOffer {
    pub offer: Offer,
    pub flavor: Flavor,
    pub model: GpuModel,
}

/// The configuration's public offers, resolved once: every waiting burstable job is priced
/// against them each cycle, and looking their flavors and models up by name per job cost more
/// than pricing.
#[derive(Debug, Clone, Default)]
pub(crate) struct PublicOffers(Vec<PublicOffer>);

impl PublicOffers {
    pub(crate) fn of(config: &Config) -> PublicOffers {
        let offers = config
            .clusters
            .values()
            .filter(|cluster| cluster.is_public())
            .flat_map(|cluster| &cluster.offers)
            .filter_map(|offer| {
                Some(PublicOffer {
                    offer: offer.clone(),
                    flavor: config.flavors.get(&offer.flavor)?.clone(),
                    model: config.gpu_models.get(&offer.gpu_model)?.clone(),
                })
            })
            .collect();
        PublicOffers(offers)
    }

    fn all(&self) -> &[PublicOffer] {
        &self.0
    }
}

/// One offer priced for one job.
#[derive(Debug, Clone)]
pub(crate) struct Quote<'a> {
    pub flavor: &'a Flavor,
    pub offer: &'a Offer,
    pub cost: Money,
    pub ready_at: Time,
    pub end: Time,
}

/// When GPUs free up on a private flavor: the milli-GPU free now, and the running jobs'
/// expected ends in order, each with the milli-GPU freed by then. It changes only when a
/// decision books or frees capacity on the flavor, so a cycle builds it once per flavor and
/// keeps it with the memo's answers (`memo::CycleMemo::after` drops it with them).
#[derive(Debug)]
pub(crate) struct Outlook {
    free: u64,
    ends: Vec<(Time, u64)>,
}

/// Each private flavor's [`Outlook`], built on first use in a cycle.
pub(crate) type Outlooks<'c> = BTreeMap<&'c FlavorName, Outlook>;

impl Outlook {
    /// When `needed` milli-GPU are free at the earliest, not before `now`; `None` when not even
    /// every running job ending frees enough.
    fn start(&self, needed: u64, now: Time) -> Option<Time> {
        if self.free >= needed {
            return Some(now);
        }
        let at = self
            .ends
            .partition_point(|(_, freed)| self.free + freed < needed);
        self.ends.get(at).map(|(end, _)| (*end).max(now))
    }
}

impl Quote<'_> {
    /// Cheapest first, then earliest end, then flavor name.
    fn by_cost(&self) -> (Money, Time, &FlavorName) {
        (self.cost, self.end, &self.flavor.name)
    }

    /// Earliest end first, then cheapest, then flavor name.
    fn by_end(&self) -> (Time, Money, &FlavorName) {
        (self.end, self.cost, &self.flavor.name)
    }
}

impl Scheduler {
    /// Offers that could run `job` now, priced; budget and cap not yet checked. Lazily, so
    /// that the jobs that wait each cycle are priced without allocating.
    pub(crate) fn quotes<'a>(
        &'a self,
        job: &'a Job,
        now: Time,
    ) -> impl Iterator<Item = Quote<'a>> + 'a {
        let priced = job.data_class != DataClass::Sensitive && !matches!(job.gpu, GpuRequest::None);
        let gpus = gpus_rented(job);
        let vram_needed = match job.gpu {
            GpuRequest::Whole { min_vram, .. } => min_vram,
            GpuRequest::Fraction { vram, .. } => vram,
            GpuRequest::None => crate::units::VramMib::ZERO,
        };
        let offers = if priced { self.offers.all() } else { &[] };
        offers.iter().filter_map(
            move |PublicOffer {
                      offer,
                      flavor,
                      model,
                  }| {
                let fits = flavor.tier >= job.min_tier
                    && job.accepts_model(Some(&offer.gpu_model))
                    && model.vram >= vram_needed
                    && job
                        .allowed_flavors
                        .as_ref()
                        .is_none_or(|allowed| allowed.contains(&flavor.name));
                if !fits {
                    return None;
                }
                let runtime = model.runtime(job.runtime);
                let ready_at = now + offer.provisioning_latency;
                let billed = offer.provisioning_latency + runtime;
                Some(Quote {
                    flavor,
                    offer,
                    cost: Money::for_gpu_time(
                        offer.price_per_gpu_hour,
                        MilliGpu::whole(u64::from(gpus)),
                        billed,
                    ),
                    ready_at,
                    end: ready_at + runtime,
                })
            },
        )
    }

    /// Whether `cost` fits the job's and its tenant's budgets given what they already spent.
    pub(crate) fn affordable(&self, job: &Job, cost: Money) -> bool {
        self.funds(job).afford(cost)
    }

    /// What `job` and its tenant may still spend: read once per job, as every offer priced
    /// for it is checked against the same budgets.
    fn funds(&self, job: &Job) -> Funds {
        let tenant_budget = self
            .config
            .tenants
            .get(&job.tenant)
            .and_then(|t| t.public_budget);
        Funds {
            job_limit: job.budget.limit.map(|limit| match job.budget.kind {
                BudgetKind::Fixed => i128::from(limit.0),
                BudgetKind::Flex => {
                    let overrun = i128::from(limit.0)
                        * i128::from(self.policy.burst.flex_overrun_percent)
                        / 100;
                    i128::from(limit.0) + overrun
                }
            }),
            job_spent: self.spend.job(job.id),
            tenant: tenant_budget.map(|budget| (self.spend.tenant(&job.tenant), budget)),
        }
    }

    /// Step 6 of the cycle: an admission to a public offer for a job that cannot start
    /// privately now, when the policy says it should burst; `None` otherwise.
    pub(crate) fn burst_for<'c>(
        &self,
        job: &Job,
        candidates: &[&'c Flavor],
        why_waiting: &WaitReason,
        now: Time,
        outlooks: &mut Outlooks<'c>,
    ) -> Option<Decision> {
        let policy = &self.policy.burst;
        if policy.mode == BurstMode::Never || !job.burstable {
            return None;
        }
        let waited = now.since(job.submit_time);
        // Without a deadline to shorten it, the wait is the rule's alone: most waiting jobs
        // are still within it, and need no offer priced.
        let rule_only = job.deadline.is_none() || !policy.deadline_aware;
        if policy.mode == BurstMode::Threshold && rule_only && waited < policy.wait.threshold(job) {
            return None;
        }
        let gpus = gpus_rented(job);
        let has_room =
            |offer: &Offer| self.ledgers.public.in_use(&offer.flavor) + gpus <= offer.gpu_cap;
        // A burst that fills the offers' GPU caps leaves every waiting job to this: no offer
        // priced.
        if !self
            .offers
            .all()
            .iter()
            .any(|public| has_room(&public.offer))
        {
            return None;
        }
        let funds = std::cell::OnceCell::new();
        let quotes = self
            .quotes(job, now)
            .filter(|q| has_room(q.offer))
            .filter(|q| funds.get_or_init(|| self.funds(job)).afford(q.cost));
        // The cheapest offer that meets the deadline; if none does, the one that ends first.
        // Ties: the other key, then the flavor's name, then the offers' order.
        let meets = |q: &Quote<'_>| job.deadline.is_none_or(|deadline| q.end <= deadline);
        let mut cheapest_meeting: Option<Quote<'_>> = None;
        let mut first_ending: Option<Quote<'_>> = None;
        for quote in quotes {
            if meets(&quote)
                && cheapest_meeting
                    .as_ref()
                    .is_none_or(|best| quote.by_cost() < best.by_cost())
            {
                cheapest_meeting = Some(quote.clone());
            }
            if first_ending
                .as_ref()
                .is_none_or(|best| quote.by_end() < best.by_end())
            {
                first_ending = Some(quote);
            }
        }
        let chosen = cheapest_meeting.or(first_ending)?;
        let threshold = match policy.mode {
            BurstMode::Never => return None,
            BurstMode::Always => Millis::ZERO,
            BurstMode::Threshold => self.threshold(job, candidates, now, outlooks),
        };
        if waited < threshold {
            return None;
        }
        let reason = match policy.mode {
            BurstMode::Always => format!("policy bursts at once; waiting privately: {why_waiting}"),
            _ => format!(
                "waited {} min, threshold {} min; waiting privately: {why_waiting}",
                waited.0 / 60_000,
                threshold.0 / 60_000
            ),
        };
        let placement = Placement {
            cluster: chosen.flavor.cluster.clone(),
            flavor: chosen.flavor.name.clone(),
            tier: chosen.flavor.tier,
            queue: self
                .config
                .local_queues
                .get(&job.queue)
                .map(|local| local.cluster_queue.clone())
                .unwrap_or_else(|| crate::ids::QueueName::new(job.queue.as_str())),
            nodes: Vec::new(),
            borrowing: false,
            passed_over: Vec::new(),
            public: Some(PublicLease {
                gpu_model: chosen.offer.gpu_model.clone(),
                gpus,
                expected_cost: chosen.cost,
                ready_at: chosen.ready_at,
                expected_end: chosen.end,
                reason,
            }),
        };
        Some(Decision::Admit {
            job: job.id,
            placement,
        })
    }

    /// X for a `Threshold` policy at `now`.
    fn threshold<'c>(
        &self,
        job: &Job,
        candidates: &[&'c Flavor],
        now: Time,
        outlooks: &mut Outlooks<'c>,
    ) -> Millis {
        let policy = &self.policy.burst;
        let base = policy.wait.threshold(job);
        let Some(deadline) = job.deadline.filter(|_| policy.deadline_aware) else {
            return base;
        };
        let private_end = self.predicted_private_end(job, candidates, now, outlooks);
        if private_end > deadline {
            return Millis::ZERO;
        }
        let slack = deadline.since(private_end);
        let reference = policy.slack_reference.0.max(1);
        Millis(base.0.saturating_mul(slack.0.min(reference)) / reference)
    }

    /// When the job would finish privately: the earliest time one of its private candidate
    /// flavors has enough GPUs free, counting running jobs as ending at their expected end,
    /// plus the runtime there. An estimate: it ignores other waiting jobs and node shapes.
    /// Each flavor's [`Outlook`] is read from `outlooks`, built there on first use.
    pub(crate) fn predicted_private_end<'c>(
        &self,
        job: &Job,
        candidates: &[&'c Flavor],
        now: Time,
        outlooks: &mut Outlooks<'c>,
    ) -> Time {
        let needed = job.gpu.milli().0;
        let mut best: Option<Time> = None;
        for flavor in candidates {
            if self
                .config
                .clusters
                .get(&flavor.cluster)
                .is_none_or(|c| c.is_public())
            {
                continue;
            }
            let speed = self.flavor_speed(&flavor.name);
            let Some(speed) = speed else { continue };
            let runtime = job.runtime.at_speed(speed);
            let outlook = outlooks
                .entry(&flavor.name)
                .or_insert_with(|| self.outlook(&flavor.name));
            let Some(start) = outlook.start(needed, now) else {
                continue;
            };
            let end = start + runtime;
            best = Some(best.map_or(end, |b: Time| b.min(end)));
        }
        // No private flavor could ever hold it: it never finishes privately.
        best.unwrap_or(Time(u64::MAX))
    }

    /// `flavor`'s free milli-GPU now and its running private jobs' expected ends.
    fn outlook(&self, flavor: &FlavorName) -> Outlook {
        let free = self
            .ledgers
            .fleet
            .nodes_of(flavor)
            .flat_map(|n| n.gpus.iter())
            .map(|g| g.free.0)
            .sum();
        let mut ends: Vec<(Time, u64)> = self
            .running
            .values()
            .filter(|r| r.placement.flavor == *flavor && r.placement.public.is_none())
            .map(|r| (self.expected_end(r), r.job.gpu.milli().0))
            .collect();
        ends.sort_unstable();
        let mut freed = 0;
        for (_, milli) in &mut ends {
            freed += *milli;
            *milli = freed;
        }
        Outlook { free, ends }
    }

    /// The fastest GPU model among the flavor's nodes (or its declared model).
    pub(crate) fn flavor_speed(&self, flavor: &FlavorName) -> Option<u32> {
        let declared = self
            .config
            .flavors
            .get(flavor)
            .and_then(|f| f.gpu_model.as_ref())
            .and_then(|m| self.config.gpu_models.get(m))
            .map(|m| m.speed_permille);
        declared.or_else(|| {
            self.ledgers
                .fleet
                .nodes_of(flavor)
                .filter_map(|n| n.spec.gpu_model.as_ref())
                .filter_map(|m| self.config.gpu_models.get(m))
                .map(|m| m.speed_permille)
                .max()
        })
    }

    /// Expected end of a running job: start + its runtime on the slowest model it runs on.
    pub(crate) fn expected_end(&self, running: &crate::scheduler::Running) -> Time {
        if let Some(lease) = &running.placement.public {
            return lease.expected_end;
        }
        let speed = running
            .placement
            .nodes
            .iter()
            .filter_map(|share| self.ledgers.fleet.node(&share.node))
            .filter_map(|n| n.spec.gpu_model.as_ref())
            .filter_map(|m| self.config.gpu_models.get(m))
            .map(|m| m.speed_permille)
            .min()
            .unwrap_or(1000);
        running.started + running.job.runtime.at_speed(speed)
    }
}

impl Scheduler {
    /// Rejections that need prices and runtimes: a deadline no flavor or offer can meet even
    /// if the job started now (only when the policy asks), and a fixed budget below the
    /// cheapest offer for a job that has no private flavor.
    pub(crate) fn screen_deadline_and_budget(
        &self,
        job: &Job,
        screened: &crate::memo::Screened<'_>,
        now: Time,
    ) -> Result<(), crate::decision::RejectReason> {
        let checks_budget = !screened.has_private && job.budget.kind == BudgetKind::Fixed;
        let deadline = job
            .deadline
            .filter(|_| self.policy.reject_infeasible_deadlines);
        let private_end = || {
            screened
                .private_speeds
                .iter()
                .map(|speed| now + job.runtime.at_speed(*speed))
                .min()
        };
        // Every pending job passes here each cycle: price offers only when a rule needs them,
        // and not for a deadline the private fleet alone could meet.
        let checks_deadline =
            deadline.is_some_and(|deadline| private_end().is_none_or(|end| end > deadline));
        if !checks_budget && !checks_deadline {
            return Ok(());
        }
        let may_burst = self.policy.burst.mode != BurstMode::Never && job.burstable;
        // the cheapest offer and the earliest public end, in one pass over the offers (none
        // priced for a job that may not burst)
        let quotes = may_burst
            .then(|| self.quotes(job, now))
            .into_iter()
            .flatten();
        let (cheapest, public_end) = quotes.fold(
            (None, None),
            |(cost, end): (Option<Money>, Option<Time>), q| {
                (
                    Some(cost.map_or(q.cost, |c| c.min(q.cost))),
                    Some(end.map_or(q.end, |e| e.min(q.end))),
                )
            },
        );
        if checks_budget {
            if let (Some(limit), Some(cheapest)) = (job.budget.limit, cheapest) {
                if !self.affordable(job, cheapest) {
                    return Err(crate::decision::RejectReason::BudgetTooSmall { limit, cheapest });
                }
            }
        }
        let Some(deadline) = deadline else {
            return Ok(());
        };
        let earliest = match (private_end(), public_end) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return Ok(()),
        };
        if earliest > deadline {
            return Err(crate::decision::RejectReason::DeadlineInfeasible {
                deadline,
                earliest_end: earliest,
            });
        }
        Ok(())
    }
}

/// A job's and its tenant's public budgets with what each has spent (`Scheduler::funds`).
struct Funds {
    /// The most the job may spend in all: its limit, plus the overrun a flexible budget
    /// allows; `None` without a limit.
    job_limit: Option<i128>,
    job_spent: Money,
    /// The tenant's spend and public budget, when it has one.
    tenant: Option<(Money, Money)>,
}

impl Funds {
    /// Whether `cost` fits both budgets.
    fn afford(&self, cost: Money) -> bool {
        let job_ok = self
            .job_limit
            .is_none_or(|limit| i128::from((self.job_spent + cost).0) <= limit);
        let tenant_ok = self
            .tenant
            .is_none_or(|(spent, budget)| spent + cost <= budget);
        job_ok && tenant_ok
    }
}
