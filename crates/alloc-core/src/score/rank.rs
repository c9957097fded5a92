//! A pending job's score, its total order, and its explanation.

use super::context::Points;
use super::weights::ScoreWeights;
use crate::ids::{JobId, TenantName};
use crate::model::Budget;
use crate::units::{Millis, Readable, Time};
use std::cmp::Ordering;
use std::fmt;

/// Where a pending job stands in the scored order: its combined score and the keys that break
/// ties. Computed afresh each cycle (scores move with `now`).
#[derive(Debug, Clone, Copy)]
pub struct Score {
    value: f64,
    priority: i32,
    submit_time: Time,
    id: JobId,
}

impl Score {
    /// A score of `value`. NaN counts as 0, ±∞ as the largest finite value of that sign and
    /// −0 as 0, so that the order below sees only finite numbers and no signed zero.
    pub fn new(value: f64, priority: i32, submit_time: Time, id: JobId) -> Score {
        let value = if value.is_nan() {
            0.0
        } else {
            value.clamp(f64::MIN, f64::MAX) + 0.0
        };
        Score {
            value,
            priority,
            submit_time,
            id,
        }
    }

    /// The combined score, always finite.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The job scored.
    pub fn job(&self) -> JobId {
        self.id
    }

    /// The first criterion of the order below as an integer that sorts the same way
    /// (ascending first): a higher value gives a lower key.
    pub(crate) fn first_key(&self) -> u64 {
        let bits = self.value.to_bits();
        // `total_cmp`'s order on the bits: negatives flipped whole, positives above them
        let ascending = if bits >> 63 == 1 {
            !bits
        } else {
            bits | 1 << 63
        };
        !ascending
    }
}

/// The scored order, total. Criteria, in order:
/// 1. higher combined score first (compared with `f64::total_cmp` on a finite value that is
///    never NaN nor −0, see [`Score::new`]);
/// 2. higher `priority` first;
/// 3. earlier `submit_time` first;
/// 4. lower job id first (stable tie-break; ids are unique, so no two pending jobs are equal).
impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .value
            .total_cmp(&self.value)
            .then(other.priority.cmp(&self.priority))
            .then(self.submit_time.cmp(&other.submit_time))
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Score {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Score {}

/// How a job's deadline counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeadlineTerm {
    /// The job's deadline.
    pub deadline: Time,
    /// Runtime on the fastest candidate flavor (the reference runtime when no candidate's
    /// GPU speed is known).
    pub runtime: Millis,
    /// `deadline − now − runtime`; negative once the deadline cannot be met.
    pub slack_ms: i64,
    /// In (0, 1], see [`super::terms::urgency`].
    pub urgency: f64,
}

/// Why a job scores what it scores: each part's input and its points, so a user can read why
/// they stand where they do. Its `Display` is one sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreBreakdown {
    /// The job scored.
    pub job: JobId,
    /// The weights in effect (invalid ones already counted as 0).
    pub weights: ScoreWeights,
    /// The job's priority.
    pub priority: i32,
    /// When it was submitted.
    pub submit_time: Time,
    /// How long it has waited, for the aging term.
    pub waited: Millis,
    /// `None` for a job without a deadline.
    pub deadline: Option<DeadlineTerm>,
    /// The job's tenant.
    pub tenant: TenantName,
    /// The tenant's fair-share weight.
    pub tenant_weight: u32,
    /// The tenant's dominant share of the fleet (GPU, CPU or memory, whichever is largest).
    pub dominant_share: f64,
    /// The job's budget.
    pub budget: Budget,
    /// In {0, ½, 1}, see [`super::terms::budget_headroom`].
    pub budget_headroom: f64,
}

impl ScoreBreakdown {
    fn points(&self) -> Points {
        Points::of(
            &self.weights,
            self.priority,
            self.waited,
            self.deadline.map(|term| term.urgency),
            super::terms::weighted_share(self.dominant_share, self.tenant_weight),
            self.budget_headroom,
        )
    }

    /// `priority × weights.priority`.
    pub fn priority_points(&self) -> f64 {
        self.points().priority
    }

    /// `hours waited × weights.aging_per_hour`.
    pub fn aging_points(&self) -> f64 {
        self.points().aging
    }

    /// `urgency × weights.deadline`; 0 without a deadline.
    pub fn deadline_points(&self) -> f64 {
        self.points().deadline
    }

    /// `−(dominant share ÷ tenant weight) × weights.fair_share`; never positive.
    pub fn fair_share_points(&self) -> f64 {
        self.points().fair_share
    }

    /// `budget headroom × weights.budget`.
    pub fn budget_points(&self) -> f64 {
        self.points().budget
    }

    /// The sum of the parts, before [`Score::new`] makes it safe to order.
    pub fn total(&self) -> f64 {
        self.points().total()
    }

    /// The job's place in the order; equal to the one the cycle uses.
    pub fn score(&self) -> Score {
        Score::new(self.total(), self.priority, self.submit_time, self.job)
    }
}

impl fmt::Display for ScoreBreakdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} scores {:.3}: priority {} ({:+.3}), waited {} ({:+.3}), ",
            self.job,
            self.score().value(),
            self.priority,
            self.priority_points(),
            Readable(self.waited.0),
            self.aging_points(),
        )?;
        match &self.deadline {
            None => f.write_str("no deadline (+0.000), ")?,
            Some(term) if term.slack_ms >= 0 => write!(
                f,
                "{} of slack before its deadline on the fastest flavor (urgency {:.3}, {:+.3}), ",
                Readable(term.slack_ms.unsigned_abs()),
                term.urgency,
                self.deadline_points()
            )?,
            Some(term) => write!(
                f,
                "misses its deadline by {} even on the fastest flavor (urgency {:.3}, {:+.3}), ",
                Readable(term.slack_ms.unsigned_abs()),
                term.urgency,
                self.deadline_points()
            )?,
        }
        write!(
            f,
            "tenant {} holds {:.1}% of the fleet at weight {} ({:+.3}), ",
            self.tenant,
            self.dominant_share * 100.0,
            self.tenant_weight.max(1),
            self.fair_share_points(),
        )?;
        let kind = match self.budget.kind {
            crate::model::BudgetKind::Fixed => "fixed",
            crate::model::BudgetKind::Flex => "flex",
        };
        match self.budget.limit {
            Some(limit) => write!(f, "{kind} budget of {limit}")?,
            None => write!(f, "{kind} budget without limit")?,
        }
        write!(f, " ({:+.3})", self.budget_points())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BudgetKind;
    use crate::units::Money;

    fn score(value: f64, priority: i32, submit: u64, id: u64) -> Score {
        Score::new(value, priority, Time(submit), JobId(id))
    }

    fn ids(mut scores: Vec<Score>) -> Vec<u64> {
        scores.sort();
        scores.iter().map(|s| s.job().0).collect()
    }

    #[test]
    fn score_then_priority_then_submit_then_id() {
        assert_eq!(
            ids(vec![
                score(1.0, 0, 0, 1),
                score(2.0, -5, 9, 2),
                score(1.0, 3, 9, 3),
                score(1.0, 0, 0, 0),
                score(1.0, 0, 5, 4),
            ]),
            [2, 3, 0, 1, 4]
        );
    }

    #[test]
    fn nan_infinity_and_negative_zero_are_tamed() {
        assert_eq!(score(f64::NAN, 0, 0, 1).value(), 0.0);
        assert_eq!(score(f64::INFINITY, 0, 0, 1).value(), f64::MAX);
        assert_eq!(score(f64::NEG_INFINITY, 0, 0, 1).value(), f64::MIN);
        assert!(score(-0.0, 0, 0, 1).value().is_sign_positive());
        // −0 and NaN tie with 0 and fall through to the next criteria.
        assert_eq!(
            ids(vec![
                score(-0.0, 0, 0, 2),
                score(f64::NAN, 0, 0, 1),
                score(0.0, 0, 0, 3)
            ]),
            [1, 2, 3]
        );
    }

    fn any_value() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::prelude::*;
        prop_oneof![
            any::<f64>(),
            -3.0..3.0f64,
            Just(0.0),
            Just(-0.0),
            Just(f64::MIN_POSITIVE),
            Just(-f64::MIN_POSITIVE),
        ]
    }

    proptest::proptest! {
        /// The cycle sorts by `first_key` and falls back to the whole order on equal keys, so
        /// the key must order values exactly as the order's first criterion does.
        #[test]
        fn the_first_key_orders_as_the_first_criterion(a in any_value(), b in any_value()) {
            let (a, b) = (score(a, 0, 0, 1), score(b, 0, 0, 1));
            let by_value = b.value().total_cmp(&a.value());
            proptest::prop_assert_eq!(a.first_key().cmp(&b.first_key()), by_value);
        }
    }

    fn breakdown() -> ScoreBreakdown {
        ScoreBreakdown {
            job: JobId(7),
            weights: ScoreWeights::BALANCED,
            priority: 2,
            submit_time: Time(0),
            waited: Millis(90 * 60_000),
            deadline: Some(DeadlineTerm {
                deadline: Time(4 * 3_600_000),
                runtime: Millis(3_600_000),
                slack_ms: 3_600_000,
                urgency: 0.5,
            }),
            tenant: TenantName::new("lab"),
            tenant_weight: 2,
            dominant_share: 0.5,
            budget: Budget {
                kind: BudgetKind::Fixed,
                limit: Some(Money::units(20)),
            },
            budget_headroom: 0.5,
        }
    }

    #[test]
    fn the_parts_add_up() {
        let b = breakdown();
        assert_eq!(b.priority_points(), 2.0);
        assert_eq!(b.aging_points(), 0.375);
        assert_eq!(b.deadline_points(), 1.0);
        assert_eq!(b.fair_share_points(), -0.5);
        assert_eq!(b.budget_points(), 0.05);
        assert_eq!(b.total(), 2.0 + 0.375 + 1.0 - 0.5 + 0.05);
        assert_eq!(b.score().value(), b.total());
    }

    #[test]
    fn explanation_reads_as_one_sentence() {
        let mut b = breakdown();
        assert_eq!(
            b.to_string(),
            "job 7 scores 2.925: priority 2 (+2.000), waited 1 h 30 min (+0.375), \
             1 h of slack before its deadline on the fastest flavor (urgency 0.500, +1.000), \
             tenant lab holds 50.0% of the fleet at weight 2 (-0.500), \
             fixed budget of 20.00 (+0.050)"
        );
        b.deadline = Some(DeadlineTerm {
            slack_ms: -600_000,
            urgency: 1.0,
            ..breakdown().deadline.unwrap_or(DeadlineTerm {
                deadline: Time(0),
                runtime: Millis(0),
                slack_ms: 0,
                urgency: 0.0,
            })
        });
        b.weights.fair_share = 0.0;
        b.budget = Budget::default();
        b.budget_headroom = 1.0;
        assert_eq!(
            b.to_string(),
            "job 7 scores 4.475: priority 2 (+2.000), waited 1 h 30 min (+0.375), \
             misses its deadline by 10 min even on the fastest flavor (urgency 1.000, +2.000), \
             tenant lab holds 50.0% of the fleet at weight 2 (+0.000), \
             flex budget without limit (+0.100)"
        );
        b.deadline = None;
        assert!(b.to_string().contains("no deadline (+0.000)"));
    }
}
