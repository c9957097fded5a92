//! What the twin accepts, and how far a run may grow: values beyond these cannot be meant, and
//! a run that could not end without them is stopped and reported as such. README.md ("Limits")
//! lists them for users; each is checked where the input is read, before anything is allocated.

/// The longest span any input may name, in ms: 10 years (365-day years). Submit times,
/// run times, deadlines, checkpoint intervals and restore costs of a trace, and every
/// duration of a scenario or fleet, are refused above it.
pub const MAX_MS: u64 = 10 * 365 * 24 * 3_600_000;

/// A run stops at this simulated time (20 years) even without a horizon: what is still
/// pending or running there is reported unfinished, and the run says it stopped there.
pub const MAX_RUN_MS: u64 = 2 * MAX_MS;

/// The most time-series samples a run keeps (≈ 9.5 years at the default 5 minutes); a run
/// that would take more stops at the last one, saying so.
pub const MAX_SAMPLES: usize = 1_000_000;

/// The most nodes a fleet may expand to (node groups' `count`s added up).
pub const MAX_NODES: u64 = 1_000_000;

/// The most jobs `sim generate` writes.
pub const MAX_GENERATED_JOBS: usize = 10_000_000;

/// The most GPUs one node may carry.
pub const MAX_GPUS_PER_NODE: u32 = 1024;

/// A job interrupted this many times in a row (node failures, a burst's lease running out)
/// without keeping any work is stuck: the twin stops retrying it and reports it unfinished
/// with the reason. Preemptions do not count: the scheduler chose them.
pub const MAX_FRUITLESS_ATTEMPTS: u32 = 20;

/// The shortest mean time between node failures a fleet may ask for, in hours (6 minutes).
pub const MIN_MTBF_HOURS: f64 = 0.1;

/// `speed_permille` of a GPU model: above 0 (a GPU that does no work cannot be meant), at
/// most 100× the reference GPU.
pub const SPEED_PERMILLE: std::ops::RangeInclusive<u32> = 1..=100_000;

/// Largest id a job may have: ids are written as signed 64-bit integers (CSV and Parquet).
pub const MAX_JOB_ID: u64 = i64::MAX as u64;

/// `what` hours (a scenario or fleet setting) as ms: refused when negative, not a number, or
/// beyond [`MAX_MS`].
pub fn hours(value: f64) -> Result<u64, String> {
    scaled(value, 3_600_000.0, "hours")
}

/// Minutes as ms, checked as [`hours`].
pub fn minutes(value: f64) -> Result<u64, String> {
    scaled(value, 60_000.0, "minutes")
}

/// Seconds as ms, checked as [`hours`].
pub fn seconds(value: f64) -> Result<u64, String> {
    scaled(value, 1_000.0, "seconds")
}

fn scaled(value: f64, scale: f64, unit: &str) -> Result<u64, String> {
    if value.is_nan() {
        return Err(format!("expected a number of {unit}, found NaN"));
    }
    if value < 0.0 {
        return Err(format!("must not be negative, found {value}"));
    }
    let ms = value * scale;
    if ms.is_nan() || ms > MAX_MS as f64 {
        return Err(format!(
            "{value} {unit} is more than the 10 years any duration may span"
        ));
    }
    Ok(ms as u64)
}

/// A count of ms from a trace or the command line: at most [`MAX_MS`].
pub fn ms(value: u64) -> Result<u64, String> {
    if value > MAX_MS {
        return Err(format!(
            "{value} ms is more than the 10 years ({MAX_MS} ms) any time may span"
        ));
    }
    Ok(value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_refuse_negative_nan_and_more_than_ten_years() {
        assert_eq!(hours(1.5), Ok(5_400_000));
        assert_eq!(minutes(0.0), Ok(0));
        assert!(hours(-1.0).unwrap_err().contains("negative"));
        assert!(minutes(f64::NAN).unwrap_err().contains("NaN"));
        assert!(seconds(f64::INFINITY).unwrap_err().contains("10 years"));
        assert!(hours(87_601.0).unwrap_err().contains("10 years"));
        assert!(ms(MAX_MS).is_ok());
        assert!(ms(MAX_MS + 1).unwrap_err().contains("10 years"));
    }
}
