//! The parts of a score, each a pure function of plain numbers, so that each can be read and
//! tested alone. Their weighted sum is [`super::ScoreBreakdown::total`].

use crate::model::{Budget, BudgetKind};
use crate::units::{Millis, Time};

/// One hour in milliseconds, the time unit of aging and urgency.
pub const HOUR_MS: f64 = 3_600_000.0;

/// Hours a job has waited: `now − submit_time`, zero if submitted "later" than `now`.
/// Linear and unbounded, so that a job that waits long enough outranks any fresh submission.
pub fn hours_waited(submit_time: Time, now: Time) -> f64 {
    now.since(submit_time).0 as f64 / HOUR_MS
}

/// Runtime on a GPU of `speed_permille` of work that takes `reference` on the reference GPU,
/// rounded up (as [`crate::model::GpuModel::runtime`]).
pub fn runtime_at(reference: Millis, speed_permille: u32) -> Millis {
    reference.at_speed(speed_permille)
}

/// Slack in milliseconds: `deadline − now − runtime`, negative when the job can no longer
/// finish in time even if it started now.
pub fn slack_ms(deadline: Time, now: Time, runtime: Millis) -> i64 {
    let slack = i128::from(deadline.0) - i128::from(now.0) - i128::from(runtime.0);
    slack.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Deadline urgency in (0, 1]: `1 / (1 + slack in hours)` while slack is positive, rising as
/// slack shrinks (one hour of slack: ½; a day: 1/25), and 1 once slack is gone — a job that will
/// miss its deadline stays as urgent as one that is about to, since finishing late beats
/// finishing later. A job without a deadline has urgency 0 (not computed here).
pub fn urgency(slack_ms: i64) -> f64 {
    if slack_ms <= 0 {
        1.0
    } else {
        1.0 / (1.0 + slack_ms as f64 / HOUR_MS)
    }
}

/// Dominant share: the largest of `held[i] ÷ capacity[i]` over the resources (GPU, CPU,
/// memory), resources without capacity left out; 0 for an empty fleet.
pub fn dominant_share(held: [u64; 3], capacity: [u64; 3]) -> f64 {
    held.iter()
        .zip(capacity)
        .filter(|(_, capacity)| *capacity > 0)
        .map(|(held, capacity)| *held as f64 / capacity as f64)
        .fold(0.0, f64::max)
}

/// A tenant's share against its weight: dominant share ÷ weight (a weight of 0 counts as 1).
/// Lower ranks higher: a tenant at weight 2 holding 40% is at 0.2, below one at weight 1
/// holding 25%.
pub fn weighted_share(dominant_share: f64, weight: u32) -> f64 {
    dominant_share / f64::from(weight.max(1))
}

/// Budget headroom in {0, ½, 1}: how freely the job may spend on public GPUs.
/// - 1 for a `flex` budget, or a `fixed` one without a limit: the owner values time over money
///   and nothing caps the spending;
/// - ½ for a `fixed` budget with a positive limit: it may burst, within that limit;
/// - 0 for a `fixed` budget with a limit of zero (or less): private capacity only.
pub fn budget_headroom(budget: &Budget) -> f64 {
    match (budget.kind, budget.limit) {
        (BudgetKind::Flex, _) | (BudgetKind::Fixed, None) => 1.0,
        (BudgetKind::Fixed, Some(limit)) if limit.0 > 0 => 0.5,
        (BudgetKind::Fixed, Some(_)) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Money;

    #[test]
    fn waiting_counts_hours_and_never_goes_negative() {
        assert_eq!(hours_waited(Time(0), Time(5_400_000)), 1.5);
        assert_eq!(hours_waited(Time(10), Time(0)), 0.0);
    }

    #[test]
    fn runtime_scales_by_speed_and_rounds_up() {
        assert_eq!(runtime_at(Millis(1000), 2000), Millis(500));
        assert_eq!(runtime_at(Millis(1000), 600), Millis(1667));
        assert_eq!(runtime_at(Millis(1000), 0), Millis(1_000_000));
    }

    #[test]
    fn slack_is_signed_and_saturates() {
        assert_eq!(slack_ms(Time(10_000), Time(1_000), Millis(4_000)), 5_000);
        assert_eq!(slack_ms(Time(1_000), Time(1_000), Millis(4_000)), -4_000);
        assert_eq!(
            slack_ms(Time(0), Time(u64::MAX), Millis(u64::MAX)),
            i64::MIN
        );
    }

    #[test]
    fn urgency_rises_as_slack_shrinks_and_caps_at_one() {
        assert_eq!(urgency(3_600_000), 0.5);
        assert_eq!(urgency(24 * 3_600_000), 1.0 / 25.0);
        assert_eq!(urgency(0), 1.0);
        assert_eq!(urgency(-5), 1.0);
        assert_eq!(urgency(i64::MIN), 1.0);
        assert!(urgency(i64::MAX) > 0.0);
        let mut previous = 0.0;
        for slack in [i64::MAX, 86_400_000, 3_600_000, 60_000, 1, 0] {
            assert!(urgency(slack) >= previous);
            previous = urgency(slack);
        }
    }

    #[test]
    fn dominant_share_takes_the_largest_fraction_and_skips_missing_resources() {
        assert_eq!(dominant_share([2000, 1000, 0], [8000, 64_000, 1024]), 0.25);
        assert_eq!(dominant_share([0, 32_000, 0], [8000, 64_000, 1024]), 0.5);
        assert_eq!(dominant_share([5, 0, 0], [0, 0, 0]), 0.0);
        assert_eq!(dominant_share([5, 1, 0], [0, 4, 0]), 0.25);
    }

    #[test]
    fn share_is_divided_by_weight() {
        assert_eq!(weighted_share(0.4, 2), 0.2);
        assert_eq!(weighted_share(0.4, 0), 0.4);
        assert!(weighted_share(0.4, 2) < weighted_share(0.25, 1));
    }

    #[test]
    fn budget_headroom_levels() {
        let budget = |kind, limit| Budget { kind, limit };
        assert_eq!(budget_headroom(&budget(BudgetKind::Flex, None)), 1.0);
        assert_eq!(
            budget_headroom(&budget(BudgetKind::Flex, Some(Money::ZERO))),
            1.0
        );
        assert_eq!(budget_headroom(&budget(BudgetKind::Fixed, None)), 1.0);
        assert_eq!(
            budget_headroom(&budget(BudgetKind::Fixed, Some(Money::units(5)))),
            0.5
        );
        assert_eq!(
            budget_headroom(&budget(BudgetKind::Fixed, Some(Money::ZERO))),
            0.0
        );
        assert_eq!(
            budget_headroom(&budget(BudgetKind::Fixed, Some(Money(-1)))),
            0.0
        );
    }
}
