//! The department's rhythm as an arrival-rate function, and sampling from it.
//!
//! Time 0 is Monday 00:00 of the first week. The rate at an instant is the product of a day
//! factor (weekdays 1, weekends `weekend_factor`), an hour-of-day factor (people submit while
//! awake, most between 10:00 and 18:00) and a surge factor inside surge windows. Arrivals are an
//! inhomogeneous Poisson process, sampled by thinning (Lewis & Shedler): draw candidates at the
//! peak rate and keep each with probability rate(t) / peak.

use rand::distributions::WeightedIndex;
use rand::Rng;
use rand_distr::{Distribution, Exp};

pub(crate) const MINUTE: f64 = 60_000.0;
pub(crate) const HOUR: f64 = 3_600_000.0;
pub(crate) const DAY: f64 = 24.0 * HOUR;
pub(crate) const WEEK: f64 = 7.0 * DAY;

/// Relative activity by hour of day (local time), peak 1.0. Shaped after typical university
/// cluster submission logs: a night trough around 03:00–05:00 at ~5% of the peak, a morning
/// ramp, a lunch dip and a long evening tail from students and deadline-driven researchers.
const HOURLY: [f64; 24] = [
    0.12, 0.08, 0.06, 0.05, 0.05, 0.06, 0.10, 0.20, 0.40, 0.70, 1.00, 1.00, //
    0.85, 0.95, 1.00, 1.00, 1.00, 1.00, 0.80, 0.55, 0.45, 0.40, 0.30, 0.20,
];

/// Day of the week of `t` (ms since the start), 0 = Monday.
pub(crate) fn weekday(t: f64) -> usize {
    ((t / DAY).floor() as u64 % 7) as usize
}

pub(crate) fn hour_of_day(t: f64) -> usize {
    ((t % DAY) / HOUR).floor() as usize % 24
}

#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    weekend_factor: f64,
    /// `[start, end)` in ms.
    surges: Vec<(f64, f64)>,
    surge_factor: f64,
}

impl Calendar {
    pub(crate) fn new(weekend_factor: f64) -> Calendar {
        Calendar {
            weekend_factor,
            surges: Vec::new(),
            surge_factor: 1.0,
        }
    }

    /// Every window in `surges` multiplies the rate by `factor`.
    pub(crate) fn with_surges(mut self, surges: Vec<(f64, f64)>, factor: f64) -> Calendar {
        self.surges = surges;
        self.surge_factor = factor;
        self
    }

    pub(crate) fn in_surge(&self, t: f64) -> bool {
        self.surges
            .iter()
            .any(|&(start, end)| start <= t && t < end)
    }

    fn day_factor(&self, t: f64) -> f64 {
        if weekday(t) >= 5 {
            self.weekend_factor
        } else {
            1.0
        }
    }

    /// The relative rate at `t`: 1.0 at a weekday peak hour outside surges.
    pub(crate) fn intensity(&self, t: f64) -> f64 {
        let surge = if self.in_surge(t) {
            self.surge_factor
        } else {
            1.0
        };
        self.day_factor(t) * HOURLY[hour_of_day(t)] * surge
    }

    /// The mean intensity over a week without surges; dividing by it turns "so many per week"
    /// into a peak-hour rate.
    fn mean_normal_intensity(&self) -> f64 {
        let hourly = HOURLY.iter().sum::<f64>() / 24.0;
        (5.0 + 2.0 * self.weekend_factor) / 7.0 * hourly
    }

    /// Arrival instants (ms) in `[start, end)` of the process that brings `per_week` arrivals
    /// in an average week without surges.
    pub(crate) fn arrivals<R: Rng>(
        &self,
        rng: &mut R,
        start: f64,
        end: f64,
        per_week: f64,
    ) -> Vec<f64> {
        let scale = per_week / WEEK / self.mean_normal_intensity();
        let peak = scale * self.weekend_factor.max(1.0) * self.surge_factor.max(1.0);
        // A zero rate has nothing to sample (and `Exp` would draw infinite gaps).
        if !(peak.is_finite() && peak > 0.0) {
            return Vec::new();
        }
        let Ok(gaps) = Exp::new(peak) else {
            return Vec::new();
        };
        let mut times = Vec::new();
        let mut t = start;
        loop {
            t += gaps.sample(rng);
            if t >= end {
                return times;
            }
            if rng.gen::<f64>() * peak < scale * self.intensity(t) {
                times.push(t);
            }
        }
    }

    /// An instant within the day starting at `day_start`, drawn by the hour-of-day rhythm.
    pub(crate) fn time_in_day<R: Rng>(rng: &mut R, day_start: f64) -> f64 {
        // HOURLY is a fixed table of positive weights, so building the sampler cannot fail;
        // falling back to noon keeps this total without a panic path.
        let hour = WeightedIndex::new(HOURLY).map_or(12, |hours| hours.sample(rng));
        day_start + hour as f64 * HOUR + rng.gen::<f64>() * HOUR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Seed;

    #[test]
    fn weekly_count_matches_the_rate_and_follows_the_rhythm() {
        let calendar = Calendar::new(0.38);
        let mut rng = Seed(1).stream("calendar-test");
        let times = calendar.arrivals(&mut rng, 0.0, 20.0 * WEEK, 1000.0);
        let per_week = times.len() as f64 / 20.0;
        assert!((per_week - 1000.0).abs() < 50.0, "{per_week} a week");
        let weekend = times.iter().filter(|&&t| weekday(t) >= 5).count() as f64 / 2.0;
        let weekday_count = times.iter().filter(|&&t| weekday(t) < 5).count() as f64 / 5.0;
        let ratio = weekend / weekday_count;
        assert!((0.3..0.46).contains(&ratio), "weekend/weekday {ratio}");
        let night = times.iter().filter(|&&t| hour_of_day(t) < 6).count();
        let office = times
            .iter()
            .filter(|&&t| (10..16).contains(&hour_of_day(t)))
            .count();
        assert!(night * 5 < office, "night {night}, office {office}");
    }

    #[test]
    fn surges_multiply_the_rate() {
        let calendar = Calendar::new(0.38).with_surges(vec![(WEEK, 2.0 * WEEK)], 2.0);
        let mut rng = Seed(2).stream("calendar-test");
        let times = calendar.arrivals(&mut rng, 0.0, 2.0 * WEEK, 2000.0);
        let surge = times.iter().filter(|&&t| t >= WEEK).count() as f64;
        let normal = times.len() as f64 - surge;
        assert!(
            (1.7..2.3).contains(&(surge / normal)),
            "{surge} vs {normal}"
        );
    }
}
