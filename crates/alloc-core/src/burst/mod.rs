//! Burst (step 6 of the cycle): when a job that cannot start privately is admitted on a
//! public flavor instead.
//!
//! Public capacity is a flavor with quota in the ClusterQueue, like any other (Kueue's model:
//! a cloud flavor, last in fungibility order, whose nodes a provisioner brings), and its
//! cluster's offer says what renting it costs. A job bursts when all of these hold, checked in
//! this order; the first that fails is kept in its wait's explanation ([`NoBurst`]):
//! 1. the policy bursts at all (mode not `Never`);
//! 2. the job is `burstable`, its budget is `flex` — a fixed budget is never spent on public
//!    GPUs — and its data is not `sensitive`;
//! 3. its ClusterQueue has a public flavor for it (tier, flavor list, GPU model, VRAM);
//! 4. it has waited at least X: `Always` → X = 0; `Threshold` → X from the waiting rule
//!    (Starburst's family: constant, ∝ runtime, ∝ GPUs, ∝ GPU-hours), shrunk by deadline slack
//!    when `deadline_aware`: X × clamp(slack ÷ `slack_reference`, 0, 1), where slack = deadline −
//!    predicted private end; when the private prediction already misses the deadline, X = 0;
//! 5. on some public flavor: the offer has GPUs left under its cap, the queue's quota admits
//!    the job there (nominal or borrowed, as for any flavor), and the budgets allow it: the
//!    job's expected bill within its flexible limit plus `flex_overrun_percent`, and the
//!    reservation — the most the burst can be billed, warm tail included — within what the
//!    tenant's `public_budget` has left after everything billed and reserved so far.
//!
//! **The rescue rule** ([`Rescue`], on in the platform's `tiered` preset) changes who may spend
//! what under `Threshold`. Before rule 4, a job with a deadline whose private prediction —
//! counting the GPUs the jobs ahead of it in the cycle's order wait for — misses it, is a
//! *rescue*: it bursts at once onto the cheapest flavor whose offer meets the deadline, within
//! the budgets and a cap per rescue (`NoBurst::RescueCap`; no offer in time:
//! `NoBurst::PublicTooLate`). Every other burst follows rules 4–5 from the part of the
//! tenant's budget above the reserve kept for rescues, a reserve that shrinks over the
//! budget's term (`NoBurst::KeptForDeadlines`), and, when paced, within the term's share
//! (`NoBurst::Paced`). A rescue that fails and a burst that may not happen yet report the
//! rescue's reason. The lease records which rule let the job burst ([`BurstCause`]).
//!
//! **Rescue by displacement** (`Rescue::displace`, on in the `tiered` preset): deadline jobs
//! that may not burst (rule 2 fails, or their queue has no public flavor) can only be saved
//! on the private fleet, where every job that waits its threshold competes with them for the
//! GPUs that free up. While one of them waits for one of a job's private flavors — counted
//! once per cycle before its first decision, from the pending jobs alone (`Stuck`) — the job
//! skips rule 4 (X = 0) and bursts from the budget above the reserve, cause
//! [`BurstCause::Displacement`].
//!
//! Among the flavors that pass: the cheapest that meets the deadline (ties: earlier end, then
//! flavor name); with no deadline the cheapest; when none meets it, the earliest end. The
//! admission books quota on the public flavor, leases the offer's GPUs and reserves the
//! worst-case bill (`state::Spend`); the shell's bill later replaces the reservation. Burst
//! is monotone in waiting time: every term of X only shrinks as `now` grows, and the rescue
//! rule's ceilings only rise.

mod displace;
mod offers;
mod outlook;
mod policy;
mod rescue;
mod screen;
mod why;

pub(crate) use displace::Stuck;
pub(crate) use offers::{quote, PublicOffers};
pub(crate) use outlook::{add_ahead, ahead_of, share_of, Ahead, Outlooks, Queued};
pub use policy::{gpus_rented, BurstCause, BurstMode, BurstPolicy, WaitRule};
pub use rescue::{Rescue, Term};
pub use why::{NoBurst, Payer};

use crate::clock::NextChange;
use crate::decision::{Decision, FlavorMiss, Placement, PublicLease, WaitReason};
use crate::ids::FlavorName;
use crate::memo::Rooms;
use crate::model::{BudgetKind, ClusterQueue, DataClass, Flavor, Job};
use crate::progress::Progress;
use crate::quota::Mode;
use crate::units::{Millis, Money, Time};
use crate::view::View;
use offers::Quote;
use rescue::{Held, Purpose};
use std::cell::OnceCell;

/// What the burst step is asked about: a waiting job, its progress, and where it may go.
pub(crate) struct Ask<'s, 'c> {
    pub job: &'s Job,
    pub progress: &'s Progress,
    pub queue: &'c ClusterQueue,
    /// Private candidate flavors, for the deadline slack.
    pub private: &'s [&'c Flavor],
    /// Public candidate flavors, in fungibility order.
    pub public: &'s [&'c Flavor],
    /// The GPUs jobs ahead in the cycle's order wait for, per private flavor.
    pub ahead: Option<&'s Ahead<'c>>,
    /// The deadline jobs that may not burst, waiting for each private flavor.
    pub stuck: &'s Stuck<'c>,
}

/// A public flavor that passed rule 5, priced, with how quota admits the job there.
#[derive(Debug, Clone)]
struct Choice<'o, 'c> {
    flavor: &'c Flavor,
    quote: Quote<'o>,
    mode: Mode,
}

impl Choice<'_, '_> {
    /// Cheapest first, then earliest end, then flavor name.
    fn by_cost(&self) -> (Money, Time, &FlavorName) {
        (self.quote.cost, self.quote.end, &self.flavor.name)
    }

    /// Earliest end first, then cheapest, then flavor name.
    fn by_end(&self) -> (Time, Money, &FlavorName) {
        (self.quote.end, self.quote.cost, &self.flavor.name)
    }
}

/// How far a flavor got through rule 5, to explain the furthest failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    OfferCap,
    Quota,
    Deadline,
    Budget,
}

impl View<'_> {
    /// Rules 1 and 2, which read only the policy and the job: whether it may ever burst.
    pub(crate) fn may_burst(&self, job: &Job) -> Result<(), NoBurst> {
        if self.policy.burst.mode == BurstMode::Never {
            Err(NoBurst::PolicyNever)
        } else if !job.burstable {
            Err(NoBurst::NotBurstable)
        } else if job.budget.kind == BudgetKind::Fixed {
            Err(NoBurst::FixedBudget)
        } else if job.data_class == DataClass::Sensitive {
            Err(NoBurst::Sensitive)
        } else {
            Ok(())
        }
    }

    /// Whether a wait told `no_burst` read when the private fleet frees up (`Outlook`): the
    /// job has a deadline and may burst, and the rule reads its predicted private end (a
    /// rescue, or a wait that shrinks as the deadline nears). A job that starts privately
    /// after it in the cycle moves that end later, so the next cycle could tell it otherwise.
    pub(crate) fn wait_read_outlook(&self, job: &Job, no_burst: Option<&NoBurst>) -> bool {
        let policy = &self.policy.burst;
        let reads = policy.mode == BurstMode::Threshold
            && (policy.rescue.is_some() || policy.deadline_aware);
        let rules_read = no_burst.is_some_and(|why| !why.for_good());
        reads && rules_read && job.deadline.is_some()
    }

    /// Step 6: an admission on a public flavor for a job that cannot start privately now,
    /// when the rules above allow it; otherwise the first rule it fails. `rooms`: the cycle's
    /// quota rooms.
    pub(crate) fn burst_for<'c>(
        &self,
        ask: &Ask<'_, 'c>,
        why_waiting: &WaitReason,
        now: Time,
        outlooks: &mut Outlooks<'c>,
        rooms: &mut Rooms<'c>,
        next: &mut NextChange,
    ) -> Result<Decision, NoBurst> {
        let (job, progress) = (ask.job, ask.progress);
        self.may_burst(job)?;
        if ask.public.is_empty() {
            return Err(NoBurst::NoPublicFlavor);
        }
        let policy = &self.policy.burst;
        let rescue = policy
            .rescue
            .filter(|_| policy.mode == BurstMode::Threshold);
        let mut rescue_failed = None;
        if let (Some(rescue), Some(deadline)) = (rescue, job.deadline) {
            let ahead = ask.ahead.filter(|_| rescue.count_queue_ahead);
            let forecast = self.forecast(job, progress, ask.private, now, outlooks, ahead);
            if forecast.end > deadline {
                let spend = Spend {
                    rescue: Some((rescue, Purpose::Rescue)),
                    must_meet: Some(deadline),
                };
                match self.cheapest_allowed(ask, now, rooms, spend, next) {
                    Ok(choice) => {
                        let reason = self.rescue_reason(job, &choice, forecast.end, why_waiting);
                        return Ok(self.lease(ask, choice, BurstCause::DeadlineRescue, reason));
                    }
                    Err(why) => rescue_failed = Some(why),
                }
            } else if let Some(from) = forecast.misses_from {
                next.at(from);
            }
        }
        let waited = now.since(job.submit_time);
        // Rescue by displacement: a deadline job that may not burst waits for one of its
        // private flavors, so this one leaves them at once.
        let displacing = rescue
            .filter(|rescue| rescue.displace)
            .and_then(|_| ask.stuck.on(ask.private));
        // The wait reads only the private fleet's outlook, never an offer: most waiting jobs
        // are still within it, and need no offer priced.
        let threshold = match policy.mode {
            BurstMode::Never => return Err(NoBurst::PolicyNever),
            BurstMode::Always => Millis::ZERO,
            BurstMode::Threshold if displacing.is_some() => Millis::ZERO,
            BurstMode::Threshold => self.threshold(job, progress, ask.private, now, outlooks),
        };
        if waited < threshold {
            next.at(self.burst_wait_ends(job, job.submit_time + threshold, now));
            return Err(rescue_failed.unwrap_or_else(|| too_early(job, policy.wait.threshold(job))));
        }
        let spend = Spend {
            rescue: rescue.map(|rescue| (rescue, Purpose::Surplus)),
            must_meet: None,
        };
        let choice = self
            .cheapest_allowed(ask, now, rooms, spend, next)
            .map_err(|why| rescue_failed.unwrap_or(why))?;
        let waited_text = format!(
            "waited {} min, threshold {} min; waiting privately: {why_waiting}",
            waited.0 / 60_000,
            threshold.0 / 60_000
        );
        let full_wait = waited >= policy.wait.threshold(job);
        let (cause, reason) = match (policy.mode, displacing) {
            (BurstMode::Always, _) => (
                BurstCause::PolicyAlways,
                format!("policy bursts at once; waiting privately: {why_waiting}"),
            ),
            (_, _) if full_wait => (BurstCause::WaitedThreshold, waited_text),
            (_, Some((flavor, jobs))) => (
                BurstCause::Displacement,
                format!(
                    "displacing: {jobs} deadline job(s) that may not burst wait for {flavor}; \
                     waited {} min; waiting privately: {why_waiting}",
                    waited.0 / 60_000
                ),
            ),
            (_, None) => (BurstCause::Deadline, waited_text),
        };
        Ok(self.lease(ask, choice, cause, reason))
    }

    /// The admission of a burst onto `choice`.
    fn lease(
        &self,
        ask: &Ask<'_, '_>,
        choice: Choice<'_, '_>,
        cause: BurstCause,
        reason: String,
    ) -> Decision {
        let Choice {
            flavor,
            quote,
            mode,
        } = choice;
        let placement = Placement {
            cluster: flavor.cluster.clone(),
            flavor: flavor.name.clone(),
            tier: flavor.tier,
            queue: ask.queue.name.clone(),
            nodes: Vec::new(),
            borrowing: mode == Mode::Borrow,
            passed_over: Vec::new(),
            public: Some(PublicLease {
                gpu_model: quote.offer.gpu_model.clone(),
                gpus: quote.gpus,
                lease: self.spend.next_lease(ask.job.id),
                expected_cost: quote.cost,
                reserved: quote.reserved,
                ready_at: quote.ready_at,
                expected_end: quote.end,
                reason,
                cause,
            }),
        };
        Decision::Admit {
            job: ask.job.id,
            placement,
        }
    }

    /// "rescue: predicted private finish … misses deadline … by 2.3 h; cost 41.20 of lab-1's
    /// remaining 610.00 …".
    fn rescue_reason(
        &self,
        job: &Job,
        choice: &Choice<'_, '_>,
        private_end: Time,
        why_waiting: &WaitReason,
    ) -> String {
        let deadline = job.deadline.unwrap_or(private_end);
        let late = if private_end.0 == u64::MAX {
            "never finishes privately".to_string()
        } else {
            format!(
                "predicted private finish {private_end} misses deadline {deadline} by {:.1} h",
                private_end.since(deadline).0 as f64 / 3_600_000.0
            )
        };
        let budget = self
            .config
            .tenants
            .get(&job.tenant)
            .and_then(|tenant| tenant.public_budget);
        let cost = match budget {
            Some(budget) => format!(
                "cost {} of {}'s remaining {}",
                choice.quote.cost,
                job.tenant,
                budget - self.spend.tenant(&job.tenant)
            ),
            None => format!("cost {}", choice.quote.cost),
        };
        format!(
            "rescue: {late}; on {} it ends by {}; {cost}; waiting privately: {why_waiting}",
            choice.flavor.name, choice.quote.end
        )
    }

    /// Rule 5: the cheapest public flavor that meets the deadline among those with offer
    /// GPUs, quota and budget for the job (if none meets it, the one that ends first;
    /// a rescue takes only one that meets it); otherwise the furthest failure.
    fn cheapest_allowed<'c>(
        &self,
        ask: &Ask<'_, 'c>,
        now: Time,
        rooms: &mut Rooms<'c>,
        spend: Spend,
        next: &mut NextChange,
    ) -> Result<Choice<'_, 'c>, NoBurst> {
        let (job, progress) = (ask.job, ask.progress);
        let (queue, request) = (ask.queue, job.quota_usage());
        let view = self.quota_view();
        let funds = OnceCell::new();
        let mut failed: Option<(Stage, NoBurst)> = None;
        let mut fail = |stage: Stage, why: NoBurst| {
            if failed
                .as_ref()
                .is_none_or(|(furthest, _)| stage > *furthest)
            {
                failed = Some((stage, why));
            }
        };
        let meets =
            |c: &Choice<'_, '_>| job.deadline.is_none_or(|deadline| c.quote.end <= deadline);
        let mut cheapest_meeting: Option<Choice<'_, 'c>> = None;
        let mut first_ending: Option<Choice<'_, 'c>> = None;
        for &flavor in ask.public {
            let Some(quote) = offers::quote(self.offers, job, progress, flavor, now) else {
                continue;
            };
            if self.ledgers.public.in_use(&flavor.name) + quote.gpus > quote.offer.gpu_cap {
                fail(Stage::OfferCap, NoBurst::OfferCap);
                continue;
            }
            let room = rooms.room(&queue.name, &flavor.name, || view.room(queue, &flavor.name));
            let mode = match room.assess(queue, &request) {
                Ok(mode) => mode,
                Err(miss) => {
                    let miss = FlavorMiss {
                        flavor: flavor.name.clone(),
                        miss,
                    };
                    fail(Stage::Quota, NoBurst::NoPublicQuota(miss));
                    continue;
                }
            };
            if let Some(deadline) = spend.must_meet {
                if quote.end > deadline {
                    fail(Stage::Deadline, NoBurst::PublicTooLate);
                    continue;
                }
                // The quote ends later as the clock moves on: once it passes the deadline, a
                // rescue here fails for that instead of what fails it now.
                next.at(now + Millis(deadline.since(quote.end).0.saturating_add(1)));
            }
            let funds = funds.get_or_init(|| Funds::of(self, job, spend));
            if let Err(why) = funds.afford(job, quote.cost, quote.reserved, now) {
                if let NoBurst::Paced {
                    from: Some(from), ..
                }
                | NoBurst::KeptForDeadlines {
                    from: Some(from), ..
                } = &why
                {
                    next.at(*from);
                }
                fail(Stage::Budget, why);
                continue;
            }
            let choice = Choice {
                flavor,
                quote,
                mode,
            };
            if meets(&choice)
                && cheapest_meeting
                    .as_ref()
                    .is_none_or(|best| choice.by_cost() < best.by_cost())
            {
                cheapest_meeting = Some(choice.clone());
            }
            if first_ending
                .as_ref()
                .is_none_or(|best| choice.by_end() < best.by_end())
            {
                first_ending = Some(choice);
            }
        }
        cheapest_meeting
            .or(first_ending)
            .ok_or_else(|| failed.map_or(NoBurst::NoPublicFlavor, |(_, why)| why))
    }

    /// X for a `Threshold` policy at `now`.
    fn threshold<'c>(
        &self,
        job: &Job,
        progress: &Progress,
        private: &[&'c Flavor],
        now: Time,
        outlooks: &mut Outlooks<'c>,
    ) -> Millis {
        let policy = &self.policy.burst;
        let base = policy.wait.threshold(job);
        let Some(deadline) = job.deadline.filter(|_| policy.deadline_aware) else {
            return base;
        };
        let private_end = self
            .forecast(job, progress, private, now, outlooks, None)
            .end;
        if private_end > deadline {
            return Millis::ZERO;
        }
        let slack = deadline.since(private_end);
        let reference = policy.slack_reference.0.max(1);
        Millis(base.0.saturating_mul(slack.0.min(reference)) / reference)
    }
}

fn too_early(job: &Job, threshold: Millis) -> NoBurst {
    NoBurst::TooEarly {
        threshold,
        from: job.submit_time + threshold,
    }
}

/// What a burst may spend: under the rescue rule, for which purpose; and for a rescue, the
/// deadline the offer must meet.
#[derive(Debug, Clone, Copy)]
struct Spend {
    rescue: Option<(Rescue, Purpose)>,
    must_meet: Option<Time>,
}

/// What a job and its tenant may still commit to public GPUs, read once per job: every offer
/// priced for it is checked against the same budgets.
struct Funds {
    /// The most the job's expected bills may add up to: its flexible limit plus the policy's
    /// overrun; `None` without a limit.
    job_limit: Option<i128>,
    /// Billed and reserved for the job so far.
    job_committed: Money,
    /// The tenant's billed-and-reserved money and its public budget, when it has one.
    tenant: Option<(Money, Money)>,
    /// The rescue rule's limits, and what this burst is for.
    rescue: Option<(Rescue, Purpose)>,
}

impl Funds {
    fn of(view: &View<'_>, job: &Job, spend: Spend) -> Funds {
        let tenant_budget = view
            .config
            .tenants
            .get(&job.tenant)
            .and_then(|t| t.public_budget);
        let policy = &view.policy.burst;
        Funds {
            job_limit: job.budget.limit.map(|limit| policy.flex_ceiling(limit)),
            job_committed: view.spend.job(job.id),
            tenant: tenant_budget.map(|budget| (view.spend.tenant(&job.tenant), budget)),
            rescue: spend.rescue,
        }
    }

    /// Whether the job's limit covers `cost` and the tenant's budget `reserved` at `now`.
    fn afford(&self, job: &Job, cost: Money, reserved: Money, now: Time) -> Result<(), NoBurst> {
        if let Some(limit) = self.job_limit {
            let committed = i128::from(self.job_committed.0);
            if committed + i128::from(cost.0) > limit {
                return Err(NoBurst::Budget {
                    payer: Payer::Job,
                    needed: cost,
                    left: Money(i64::try_from(limit - committed).unwrap_or(i64::MAX)),
                });
            }
        }
        let Some((committed, budget)) = self.tenant else {
            return Ok(());
        };
        let tenant = || job.tenant.clone();
        let after = committed + reserved;
        let Some((rescue, purpose)) = self.rescue else {
            if after > budget {
                return Err(NoBurst::Budget {
                    payer: Payer::Tenant(tenant()),
                    needed: reserved,
                    left: budget - committed,
                });
            }
            return Ok(());
        };
        if purpose == Purpose::Rescue && reserved > rescue.rescue_cap(budget) {
            return Err(NoBurst::RescueCap {
                needed: reserved,
                cap: rescue.rescue_cap(budget),
            });
        }
        let Some(held) = rescue.holds(budget, after, purpose, now) else {
            return Ok(());
        };
        let (needed, from) = (reserved, rescue.opens_at(budget, after, purpose, now));
        Err(match held {
            Held::Budget => NoBurst::Budget {
                payer: Payer::Tenant(tenant()),
                needed,
                left: budget - committed,
            },
            Held::Reserve => NoBurst::KeptForDeadlines {
                tenant: tenant(),
                needed,
                from,
            },
            Held::Pace => NoBurst::Paced {
                tenant: tenant(),
                needed,
                from,
            },
        })
    }
}
