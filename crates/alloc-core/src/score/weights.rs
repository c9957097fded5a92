//! The weights of the scored order, and the named presets.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How much each part of a pending job's score counts. A job's score is
///
/// ```text
/// priority × priority_class
///   + aging_per_hour × hours waited
///   + deadline × urgency            (0 without a deadline, 1 once slack is gone)
///   − fair_share × tenant share     (dominant share ÷ tenant weight, usually 0..1)
///   + budget × budget headroom      (0, ½ or 1)
/// ```
///
/// and higher scores are considered first (see [`super::Score`] for the full order and
/// [`super::terms`] for each part's exact definition). The weights assume priority classes a few
/// units apart (−1, 0, 1, 2 …, as the trace importers produce); with Kueue-style priorities in
/// the thousands, scale `priority` down accordingly.
///
/// Weights are finite and ≥ 0: deserializing refuses anything else, naming the field, and a
/// value built in code that breaks the rule counts as 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawScoreWeights")]
pub struct ScoreWeights {
    /// Points per priority class.
    pub priority: f64,
    /// Points per hour waited since submission.
    pub aging_per_hour: f64,
    /// Points for full deadline urgency (zero slack left on the fastest candidate flavor).
    pub deadline: f64,
    /// Points taken away for a tenant that holds the whole fleet at weight 1.
    pub fair_share: f64,
    /// Points for full budget headroom (a `flex` budget, or no limit).
    pub budget: f64,
}

/// The named presets, in the order `--help` texts list them; the first is the default.
pub const PRESET_NAMES: [&str; 4] = ["balanced", "deadline-first", "fair-share", "fifo-aging"];

impl ScoreWeights {
    /// Every part counts: four hours of waiting are worth a priority class, a job with no slack
    /// left gains two classes, a tenant holding the whole fleet loses two, and a flex budget
    /// is a tie-breaker's worth.
    pub const BALANCED: ScoreWeights = ScoreWeights {
        priority: 1.0,
        aging_per_hour: 0.25,
        deadline: 2.0,
        fair_share: 2.0,
        budget: 0.1,
    };

    /// Deadlines dominate: a job with no slack left gains ten priority classes.
    pub const DEADLINE_FIRST: ScoreWeights = ScoreWeights {
        priority: 1.0,
        aging_per_hour: 0.1,
        deadline: 10.0,
        fair_share: 1.0,
        budget: 0.1,
    };

    /// Fair share dominates: a tenant holding the whole fleet loses ten priority classes.
    pub const FAIR_SHARE: ScoreWeights = ScoreWeights {
        priority: 1.0,
        aging_per_hour: 0.25,
        deadline: 1.0,
        fair_share: 10.0,
        budget: 0.1,
    };

    /// Priority classes with aging and nothing else: an hour of waiting is worth one class, so
    /// a job that has waited longer than the gap in classes ranks above a fresh submission of
    /// the higher class (no starvation).
    pub const FIFO_AGING: ScoreWeights = ScoreWeights {
        priority: 1.0,
        aging_per_hour: 1.0,
        deadline: 0.0,
        fair_share: 0.0,
        budget: 0.0,
    };

    /// The preset of that name (see [`PRESET_NAMES`]).
    pub fn preset(name: &str) -> Option<ScoreWeights> {
        match name {
            "balanced" => Some(Self::BALANCED),
            "deadline-first" => Some(Self::DEADLINE_FIRST),
            "fair-share" => Some(Self::FAIR_SHARE),
            "fifo-aging" => Some(Self::FIFO_AGING),
            _ => None,
        }
    }

    /// The names [`ScoreWeights::preset`] knows.
    pub fn preset_names() -> &'static [&'static str] {
        &PRESET_NAMES
    }

    /// The weights actually used: any weight that is negative, NaN or infinite counts as 0, so
    /// a score is always a finite sum of finite terms.
    pub(crate) fn effective(&self) -> ScoreWeights {
        let clean = |w: f64| if w.is_finite() && w > 0.0 { w } else { 0.0 };
        ScoreWeights {
            priority: clean(self.priority),
            aging_per_hour: clean(self.aging_per_hour),
            deadline: clean(self.deadline),
            fair_share: clean(self.fair_share),
            budget: clean(self.budget),
        }
    }
}

impl Default for ScoreWeights {
    /// The `balanced` preset.
    fn default() -> Self {
        Self::BALANCED
    }
}

/// The weights as written, before they are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScoreWeights {
    priority: f64,
    aging_per_hour: f64,
    deadline: f64,
    fair_share: f64,
    budget: f64,
}

/// A weight that is negative, NaN or infinite.
#[derive(Debug, Clone, PartialEq)]
pub struct BadWeight {
    /// The weight's field name.
    pub field: &'static str,
    /// The value given.
    pub value: f64,
}

impl fmt::Display for BadWeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "score weight `{}` must be a finite number ≥ 0, got {}",
            self.field, self.value
        )
    }
}

impl std::error::Error for BadWeight {}

impl TryFrom<RawScoreWeights> for ScoreWeights {
    type Error = BadWeight;

    fn try_from(raw: RawScoreWeights) -> Result<Self, BadWeight> {
        for (field, value) in [
            ("priority", raw.priority),
            ("aging_per_hour", raw.aging_per_hour),
            ("deadline", raw.deadline),
            ("fair_share", raw.fair_share),
            ("budget", raw.budget),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(BadWeight { field, value });
            }
        }
        Ok(ScoreWeights {
            priority: raw.priority,
            aging_per_hour: raw.aging_per_hour,
            deadline: raw.deadline,
            fair_share: raw.fair_share,
            budget: raw.budget,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_preset_exists_and_balanced_is_the_default() {
        for name in ScoreWeights::preset_names() {
            assert!(ScoreWeights::preset(name).is_some(), "{name}");
        }
        assert_eq!(ScoreWeights::preset("nope"), None);
        assert_eq!(ScoreWeights::default(), ScoreWeights::BALANCED);
        assert_eq!(
            ScoreWeights::preset(PRESET_NAMES[0]),
            Some(ScoreWeights::default())
        );
    }

    #[test]
    fn presets_are_valid_weights() {
        for name in PRESET_NAMES {
            let weights = ScoreWeights::preset(name).unwrap_or_default();
            assert_eq!(weights.effective(), weights, "{name}");
        }
    }

    #[test]
    fn bad_weights_count_as_zero() {
        let weights = ScoreWeights {
            priority: f64::NAN,
            aging_per_hour: -1.0,
            deadline: f64::INFINITY,
            fair_share: 3.0,
            budget: f64::NEG_INFINITY,
        };
        assert_eq!(
            weights.effective(),
            ScoreWeights {
                priority: 0.0,
                aging_per_hour: 0.0,
                deadline: 0.0,
                fair_share: 3.0,
                budget: 0.0,
            }
        );
    }

    #[test]
    fn raw_weights_are_checked_field_by_field() {
        let raw = |aging: f64| RawScoreWeights {
            priority: 1.0,
            aging_per_hour: aging,
            deadline: 1.0,
            fair_share: 1.0,
            budget: 0.0,
        };
        let error = match ScoreWeights::try_from(raw(-0.5)) {
            Err(error) => error,
            Ok(weights) => panic!("accepted a negative weight: {weights:?}"),
        };
        assert_eq!(error.field, "aging_per_hour");
        assert_eq!(
            error.to_string(),
            "score weight `aging_per_hour` must be a finite number ≥ 0, got -0.5"
        );
        assert!(ScoreWeights::try_from(raw(f64::NAN)).is_err());
        assert_eq!(
            ScoreWeights::try_from(raw(0.0)).map(|w| w.aging_per_hour),
            Ok(0.0)
        );
    }
}
