//! Spending a tenant's public budget where it saves deadlines: the knobs, and how much of a
//! budget each kind of burst may reach at a given time.
//!
//! A *rescue* is a burst of a job whose deadline the private fleet is predicted to miss, on a
//! public flavor predicted to meet it: money that turns a miss into a met deadline. Every other
//! burst — a job without a deadline, one the private fleet is predicted to finish in time, one
//! no offer can save — is *surplus* spending: it follows the seed rule (it waited its
//! threshold) and may use only the part of the budget that rescues are not kept.
//!
//! Two limits shape the spending over time and across jobs:
//! - **the reserve**: surplus bursts stop at `100 − reserve_percent` % of the budget, so jobs
//!   without deadlines cannot spend what deadline jobs will need;
//! - **the pace**: by a point of the term, at most its share of the budget (plus a head start)
//!   may be committed, so the first crunch of a term cannot leave nothing for the last;
//! - and **the cap per rescue**: one rescue may reserve at most `max_rescue_percent` % of the
//!   budget, so that a budget buys many cheap saves rather than one dear one. The cycle decides
//!   jobs one at a time in its order, not the cheapest save first; the cap is what keeps the
//!   cost per deadline saved low.

use crate::units::{Millis, Money, Time};
use serde::{Deserialize, Serialize};

/// The rescue rule's knobs (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rescue {
    /// Share of each tenant's public budget only rescues may spend, in percent (0–100).
    #[serde(default = "ninety")]
    pub reserve_percent: u32,
    /// The most one rescue may reserve, in percent of its tenant's public budget.
    #[serde(default = "ten")]
    pub max_rescue_percent: u32,
    /// Count the GPUs that jobs ahead in the queue are waiting for in the private prediction,
    /// not only the running jobs' ends: without it, a deep queue looks like a free fleet.
    #[serde(default = "yes")]
    pub count_queue_ahead: bool,
    /// Spread each budget over a term; `None`: the whole budget from the start.
    #[serde(default)]
    pub pace: Option<Pace>,
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
            pace: None,
        }
    }
}

/// A term over which a budget is spent evenly: by `start + over × f`, at most
/// `f + ahead_percent ÷ 100` of it (never more than all of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pace {
    /// When the term starts.
    pub start: Time,
    /// How long it lasts.
    pub over: Millis,
    /// The head start: how far ahead of an even pace spending may run, in percent of the
    /// budget.
    #[serde(default = "fifteen")]
    pub ahead_percent: u32,
}

fn fifteen() -> u32 {
    15
}

/// What a burst is for, which decides how much of its tenant's budget it may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// It turns a predicted miss into a met deadline.
    Rescue,
    /// Anything else under a rescue policy: only the budget above the reserve.
    Surplus,
}

impl Pace {
    /// The share of a budget that may be committed by `now`, in millionths.
    fn share_ppm(&self, now: Time) -> u64 {
        let over = u128::from(self.over.0.max(1));
        let elapsed = u128::from(now.since(self.start).0).min(over);
        let even = elapsed * 1_000_000 / over;
        let share = even + u128::from(self.ahead_percent) * 10_000;
        share.min(1_000_000) as u64
    }

    /// The first instant at which `share_ppm` reaches `needed_ppm`; `None` when it never does.
    fn reaches(&self, needed_ppm: u64, now: Time) -> Option<Time> {
        let head = u64::from(self.ahead_percent).saturating_mul(10_000);
        if needed_ppm > 1_000_000 {
            return None;
        }
        if needed_ppm <= head {
            return Some(now);
        }
        let over = u128::from(self.over.0.max(1));
        // smallest elapsed with elapsed × 10⁶ ÷ over ≥ needed − head
        let elapsed = (u128::from(needed_ppm - head) * over).div_ceil(1_000_000);
        let at = self.start + Millis(u64::try_from(elapsed).unwrap_or(u64::MAX));
        Some(at.max(now))
    }
}

impl Rescue {
    /// The most `purpose` may have committed of a `budget` at `now`: the paced part of it,
    /// less the reserve for surplus bursts.
    pub(crate) fn ceiling(&self, budget: Money, purpose: Purpose, now: Time) -> Money {
        let paced = self.pace.map_or(1_000_000, |pace| pace.share_ppm(now));
        let kept = match purpose {
            Purpose::Rescue => 0,
            Purpose::Surplus => u64::from(self.reserve_percent.min(100)) * 10_000,
        };
        let share = paced.saturating_sub(kept);
        Money(part(budget, share))
    }

    /// The most one rescue may reserve of a `budget`.
    pub(crate) fn rescue_cap(&self, budget: Money) -> Money {
        Money(part(
            budget,
            u64::from(self.max_rescue_percent.min(100)) * 10_000,
        ))
    }

    /// When a burst of `purpose` needing `committed + reserved` of `budget` first fits under
    /// the ceiling, as the pace opens it; `None` when it never does.
    pub(crate) fn opens_at(
        &self,
        budget: Money,
        committed_after: Money,
        purpose: Purpose,
        now: Time,
    ) -> Option<Time> {
        let pace = self.pace?;
        if budget.0 <= 0 {
            return None;
        }
        let kept = match purpose {
            Purpose::Rescue => 0,
            Purpose::Surplus => u128::from(self.reserve_percent.min(100)) * 10_000,
        };
        let needed = u128::try_from(committed_after.0.max(0)).unwrap_or(0) * 1_000_000;
        let budget = u128::try_from(budget.0).unwrap_or(u128::MAX);
        let needed_ppm = needed.div_ceil(budget) + kept;
        pace.reaches(u64::try_from(needed_ppm).unwrap_or(u64::MAX), now)
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

    fn term() -> Rescue {
        Rescue {
            reserve_percent: 50,
            max_rescue_percent: 10,
            count_queue_ahead: true,
            pace: Some(Pace {
                start: Time(1_000),
                over: Millis(100_000),
                ahead_percent: 10,
            }),
        }
    }

    #[test]
    fn the_pace_opens_the_budget_evenly_after_a_head_start() {
        let rescue = term();
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
    fn surplus_bursts_stop_below_the_reserve() {
        let rescue = term();
        let budget = Money(1_000_000);
        assert_eq!(rescue.ceiling(budget, Purpose::Surplus, Time(0)).0, 0);
        assert_eq!(
            rescue.ceiling(budget, Purpose::Surplus, Time(500_000)).0,
            500_000
        );
        let unpaced = Rescue {
            pace: None,
            ..term()
        };
        assert_eq!(
            unpaced.ceiling(budget, Purpose::Surplus, Time(0)).0,
            500_000
        );
        assert_eq!(unpaced.rescue_cap(budget).0, 100_000);
    }

    #[test]
    fn a_paced_burst_knows_when_the_ceiling_reaches_it() {
        let rescue = term();
        let budget = Money(1_000_000);
        for (needed, purpose) in [
            (350_000, Purpose::Rescue),
            (100_000, Purpose::Surplus),
            (1, Purpose::Rescue),
        ] {
            let at = rescue
                .opens_at(budget, Money(needed), purpose, Time(0))
                .expect("reachable within the term");
            assert!(rescue.ceiling(budget, purpose, at).0 >= needed, "{needed}");
            if at > Time(0) {
                assert!(rescue.ceiling(budget, purpose, Time(at.0 - 1)).0 < needed);
            }
        }
        assert_eq!(
            rescue.opens_at(budget, Money(600_000), Purpose::Surplus, Time(0)),
            None
        );
    }
}
