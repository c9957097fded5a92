//! Spending a tenant's public budget where it saves deadlines: the knobs, and how much of a
//! budget each kind of burst may reach at a given time.
//!
//! A *rescue* is a burst of a job whose deadline the private fleet is predicted to miss, on a
//! public flavor predicted to meet it: money that turns a miss into a met deadline. Every other
//! burst — a job without a deadline, one the private fleet is predicted to finish in time, one
//! no offer can save — is *surplus* spending: it follows the seed rule (it waited its
//! threshold) and may use only the part of the budget that rescues are not kept.
//!
//! Three limits shape the spending over time and across jobs:
//! - **the reserve**: surplus bursts stop at `100 − reserve_percent` % of the budget, so jobs
//!   without deadlines cannot spend what deadline jobs will need. Over a budget's term (when
//!   one is set) the reserve shrinks in step with the time left — what deadline jobs may
//!   still need shrinks with it — and is gone at the term's end, so a budget the deadlines did
//!   not need is not left unspent;
//! - **the pace** (optional): by a point of the term, at most its share of the budget plus a
//!   head start may be committed, so the first crunch of a term cannot leave nothing for the
//!   last;
//! - **the cap per rescue**: one rescue may reserve at most `max_rescue_percent` % of the
//!   budget, so that a budget buys many cheap saves rather than one dear one. The cycle decides
//!   jobs one at a time in its order, not the cheapest save first; the cap is what keeps the
//!   cost per deadline saved low.

use crate::units::{Millis, Money, Time};
use serde::{Deserialize, Serialize};

/// The rescue rule's knobs (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rescue {
    /// Share of each tenant's public budget only rescues may spend, in percent (0–100), at
    /// the start of the term.
    #[serde(default = "ninety")]
    pub reserve_percent: u32,
    /// The most one rescue may reserve, in percent of its tenant's public budget.
    #[serde(default = "ten")]
    pub max_rescue_percent: u32,
    /// Count the GPUs that jobs ahead in the queue are waiting for in the private prediction,
    /// not only the running jobs' ends: without it, a deep queue looks like a free fleet.
    #[serde(default = "yes")]
    pub count_queue_ahead: bool,
    /// The budgets' term; `None`: the reserve stays whole and nothing is paced.
    #[serde(default)]
    pub term: Option<Term>,
    /// Pace the spending over the term with this head start, in percent of the budget;
    /// `None`: not paced.
    #[serde(default)]
    pub pace_ahead_percent: Option<u32>,
    /// Rescue by displacement: a job that may burst bursts without waiting its threshold
    /// (from the budget above the reserve, as any burst that saves no deadline of its own)
    /// when a deadline job that may not burst waits for one of its private flavors, so that
    /// the private GPUs it would take go to that job (`burst::Stuck`).
    #[serde(default = "yes")]
    pub displace: bool,
}

fn ninety() -> u32 {
    90
}
fn ten() -> u32 {
    10
}
fn yes() -> bool {
    true
}

impl Default for Rescue {
    fn default() -> Self {
        Rescue {
            reserve_percent: ninety(),
            max_rescue_percent: ten(),
            count_queue_ahead: yes(),
            term: None,
            pace_ahead_percent: None,
            displace: yes(),
        }
    }
}

/// The period a public budget is granted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// When the term starts.
    pub start: Time,
    /// How long it lasts.
    pub over: Millis,
}

impl Term {
    /// How far into the term `now` is, in millionths (0 before it, 10⁶ from its end on).
    fn elapsed_ppm(&self, now: Time) -> u64 {
        let over = u128::from(self.over.0.max(1));
        let elapsed = u128::from(now.since(self.start).0).min(over);
        (elapsed * 1_000_000 / over) as u64
    }

    fn end(&self) -> Time {
        self.start + self.over
    }
}

/// What a burst is for, which decides how much of its tenant's budget it may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// It turns a predicted miss into a met deadline.
    Rescue,
    /// Anything else under a rescue policy: only the budget above the reserve.
    Surplus,
}

/// Which limit holds a burst back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// The reserve kept for rescues.
    Reserve,
    /// The pace over the term.
    Pace,
    /// The budget itself.
    Budget,
}

impl Rescue {
    /// The paced share of a budget open at `now`, in millionths.
    fn paced_ppm(&self, now: Time) -> u64 {
        match (self.term, self.pace_ahead_percent) {
            (Some(term), Some(ahead)) => {
                (term.elapsed_ppm(now) + u64::from(ahead.min(100)) * 10_000).min(1_000_000)
            }
            _ => 1_000_000,
        }
    }

    /// The share of a budget kept for rescues at `now`, in millionths.
    fn kept_ppm(&self, now: Time) -> u64 {
        let reserve = u64::from(self.reserve_percent.min(100)) * 10_000;
        match self.term {
            Some(term) => reserve * (1_000_000 - term.elapsed_ppm(now)) / 1_000_000,
            None => reserve,
        }
    }

    /// The most `purpose` may have committed of a `budget` at `now`: the paced part of it,
    /// less what is kept for rescues for other bursts.
    pub(crate) fn ceiling(&self, budget: Money, purpose: Purpose, now: Time) -> Money {
        let kept = match purpose {
            Purpose::Rescue => 0,
            Purpose::Surplus => self.kept_ppm(now),
        };
        Money(part(budget, self.paced_ppm(now).saturating_sub(kept)))
    }

    /// Which limit stops a burst of `purpose` that would bring the tenant's commitments to
    /// `after` at `now`; `None` when none does. What holds a burst back is named by the rule,
    /// not by whichever ceiling binds at the moment: both rise with the clock, and a reason
    /// that changed on its own would be a decision that changed without an input. A burst
    /// that saves no deadline is held by the reserve whenever there is one; otherwise by the
    /// pace.
    pub(crate) fn holds(
        &self,
        budget: Money,
        after: Money,
        purpose: Purpose,
        now: Time,
    ) -> Option<Held> {
        if after <= self.ceiling(budget, purpose, now) {
            None
        } else if after > budget {
            Some(Held::Budget)
        } else if purpose == Purpose::Surplus && self.reserve_percent > 0 {
            Some(Held::Reserve)
        } else {
            Some(Held::Pace)
        }
    }

    /// The most one rescue may reserve of a `budget`.
    pub(crate) fn rescue_cap(&self, budget: Money) -> Money {
        Money(part(
            budget,
            u64::from(self.max_rescue_percent.min(100)) * 10_000,
        ))
    }

    /// The first instant from `now` at which a burst of `purpose` bringing the tenant to
    /// `after` fits under the ceiling as the term opens it; `None` when it never does. The
    /// ceiling only rises with time, so a binary search over the term finds it.
    pub(crate) fn opens_at(
        &self,
        budget: Money,
        after: Money,
        purpose: Purpose,
        now: Time,
    ) -> Option<Time> {
        let fits = |at: Time| after <= self.ceiling(budget, purpose, at);
        let end = self.term?.end();
        if !fits(end.max(now)) {
            return None;
        }
        let (mut low, mut high) = (now.0, end.max(now).0);
        if fits(Time(low)) {
            return Some(now);
        }
        // invariant: !fits(low), fits(high)
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if fits(Time(mid)) {
                high = mid;
            } else {
                low = mid;
            }
        }
        Some(Time(high))
    }
}

/// `share_ppm` millionths of `budget`, rounded down (0 for a budget ≤ 0).
fn part(budget: Money, share_ppm: u64) -> i64 {
    let budget = i128::from(budget.0.max(0));
    i64::try_from(budget * i128::from(share_ppm) / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(reserve_percent: u32, pace_ahead_percent: Option<u32>) -> Rescue {
        Rescue {
            reserve_percent,
            max_rescue_percent: 10,
            count_queue_ahead: true,
            term: Some(Term {
                start: Time(1_000),
                over: Millis(100_000),
            }),
            pace_ahead_percent,
            displace: true,
        }
    }

    #[test]
    fn the_pace_opens_the_budget_evenly_after_a_head_start() {
        let rescue = term(0, Some(10));
        let budget = Money(1_000_000);
        assert_eq!(rescue.ceiling(budget, Purpose::Rescue, Time(0)).0, 100_000);
        assert_eq!(
            rescue.ceiling(budget, Purpose::Rescue, Time(51_000)).0,
            600_000
        );
        assert_eq!(
            rescue.ceiling(budget, Purpose::Rescue, Time(500_000)).0,
            1_000_000
        );
    }

    #[test]
    fn the_reserve_shrinks_with_the_term_left() {
        let rescue = term(50, None);
        let budget = Money(1_000_000);
        assert_eq!(rescue.ceiling(budget, Purpose::Surplus, Time(0)).0, 500_000);
        assert_eq!(
            rescue.ceiling(budget, Purpose::Surplus, Time(51_000)).0,
            750_000
        );
        assert_eq!(
            rescue.ceiling(budget, Purpose::Surplus, Time(500_000)).0,
            1_000_000
        );
        assert_eq!(
            rescue.ceiling(budget, Purpose::Rescue, Time(0)).0,
            1_000_000
        );
        let whole = Rescue {
            term: None,
            ..term(50, None)
        };
        assert_eq!(
            whole.ceiling(budget, Purpose::Surplus, Time(500_000)).0,
            500_000
        );
        assert_eq!(whole.rescue_cap(budget).0, 100_000);
    }

    #[test]
    fn a_held_burst_knows_what_holds_it_and_when_it_opens() {
        let budget = Money(1_000_000);
        for rescue in [term(50, Some(10)), term(50, None), term(0, Some(0))] {
            for (after, purpose) in [
                (350_000, Purpose::Rescue),
                (700_000, Purpose::Surplus),
                (1, Purpose::Rescue),
            ] {
                let after = Money(after);
                let Some(at) = rescue.opens_at(budget, after, purpose, Time(0)) else {
                    panic!("{after} reachable within the term under {rescue:?}");
                };
                assert!(rescue.holds(budget, after, purpose, at).is_none());
                if at > Time(0) {
                    assert!(rescue
                        .holds(budget, after, purpose, Time(at.0 - 1))
                        .is_some());
                }
            }
            assert_eq!(
                rescue.opens_at(budget, Money(1_000_001), Purpose::Rescue, Time(0)),
                None
            );
        }
        let rescue = term(50, Some(10));
        assert_eq!(
            rescue.holds(budget, Money(100_000), Purpose::Surplus, Time(0)),
            Some(Held::Reserve)
        );
        // the pace binds here, but a burst that saves no deadline is held by the reserve
        assert_eq!(
            rescue.holds(budget, Money(150_000), Purpose::Surplus, Time(0)),
            Some(Held::Reserve)
        );
        assert_eq!(
            term(0, Some(10)).holds(budget, Money(150_000), Purpose::Surplus, Time(0)),
            Some(Held::Pace)
        );
        assert_eq!(
            rescue.holds(budget, Money(200_000), Purpose::Rescue, Time(0)),
            Some(Held::Pace)
        );
        assert_eq!(
            rescue.holds(budget, Money(2_000_000), Purpose::Rescue, Time(0)),
            Some(Held::Budget)
        );
    }
}
