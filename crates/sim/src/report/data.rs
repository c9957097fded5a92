//! What the charts plot, taken from a run's records and samples and thinned so that a page
//! for a long run stays small: time series to at most [`MAX_LINE_POINTS`] points per line,
//! CDFs to at most [`MAX_CDF_POINTS`]. Thinning is by position, so it is deterministic.

use crate::record::jobs::JobRecord;
use crate::record::timeseries::Sample;
use std::collections::BTreeMap;

pub(crate) const MAX_LINE_POINTS: usize = 600;
pub(crate) const MAX_CDF_POINTS: usize = 200;

/// How a bucket of consecutive samples becomes one point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduce {
    /// Mean value at the bucket's first time: keeps areas (GPU-hours) right.
    Mean,
    /// Largest value at the bucket's first time: peaks stay visible.
    Max,
    /// Last value at the bucket's last time: for running totals.
    Last,
}

/// At most `limit` points (time in ms, value) from `samples`.
pub(crate) fn downsample(
    samples: &[Sample],
    limit: usize,
    reduce: Reduce,
    value: impl Fn(&Sample) -> f64,
) -> Vec<(f64, f64)> {
    let n = samples.len();
    let buckets = n.min(limit.max(1));
    let mut out = Vec::with_capacity(buckets);
    for bucket in 0..buckets {
        let (from, to) = (bucket * n / buckets, (bucket + 1) * n / buckets);
        let slice = &samples[from..to];
        let (Some(first), Some(last)) = (slice.first(), slice.last()) else {
            continue;
        };
        let point = match reduce {
            Reduce::Mean => (
                first.at.0 as f64,
                slice.iter().map(&value).sum::<f64>() / slice.len() as f64,
            ),
            Reduce::Max => (
                first.at.0 as f64,
                slice.iter().map(&value).fold(f64::NEG_INFINITY, f64::max),
            ),
            Reduce::Last => (last.at.0 as f64, value(last)),
        };
        out.push(point);
    }
    out
}

/// Lines of a comparison are drawn smoother, so that several stay readable on one chart.
pub(crate) const MAX_COMPARE_POINTS: usize = 200;

/// How much simulated time one point of a `downsample` to `limit` points stands for, in
/// words ("each sample" when nothing is merged).
pub(crate) fn bucket_words(samples: &[Sample], limit: usize) -> String {
    let n = samples.len();
    let period = match samples {
        [first, second, ..] => second.at.0.saturating_sub(first.at.0),
        _ => 0,
    };
    if n <= limit.max(1) || period == 0 {
        return "each sample".into();
    }
    let per_bucket = n.div_ceil(limit.max(1)) as u64;
    format!(
        "up to {} of samples",
        super::text::duration_ms((per_bucket * period) as f64)
    )
}

/// Hours or days for a time axis, whichever reads better for a run this long.
pub(crate) fn time_unit(end_ms: f64) -> (f64, &'static str) {
    if end_ms > 4.0 * 86_400_000.0 {
        (86_400_000.0, "d")
    } else {
        (3_600_000.0, "h")
    }
}

/// The share of all jobs that had started within each wait.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WaitCdf {
    /// (wait in ms, clamped up to `floor_ms`; share of all jobs started within it).
    pub points: Vec<(f64, f64)>,
    pub total: usize,
    pub started: usize,
    /// Jobs that started within `floor_ms`.
    pub within_floor: usize,
    pub floor_ms: f64,
    pub median_ms: Option<f64>,
}

/// The wait-time CDF over every batch job, so a run that leaves jobs unstarted ends below 1.
/// Notebook cells are left out: their waits are cell latencies, shown in their own section.
pub(crate) fn wait_cdf(records: &[JobRecord], floor_ms: f64) -> WaitCdf {
    let batch = || records.iter().filter(|r| r.session.is_none());
    let mut waits: Vec<u64> = batch().filter_map(|r| r.wait()).map(|m| m.0).collect();
    waits.sort_unstable();
    let total = batch().count();
    let started = waits.len();
    let within_floor = waits.partition_point(|w| (*w as f64) <= floor_ms);
    let share = |count: usize| count as f64 / total.max(1) as f64;
    let mut points = Vec::new();
    if started > 0 {
        points.push((floor_ms, share(within_floor)));
        let steps = started.min(MAX_CDF_POINTS);
        for step in 1..=steps {
            let index = (step * started).div_ceil(steps) - 1;
            let wait = waits[index] as f64;
            // the first point already stands for every wait up to the floor
            if wait > floor_ms {
                points.push((wait, share(index + 1)));
            }
        }
    }
    let median_ms = (started > 0).then(|| waits[(started - 1) / 2] as f64);
    WaitCdf {
        points,
        total,
        started,
        within_floor,
        floor_ms,
        median_ms,
    }
}

/// Per tenant: (jobs with a deadline that met it, jobs with a deadline).
pub(crate) fn deadlines_by_tenant(records: &[JobRecord]) -> BTreeMap<String, (usize, usize)> {
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for record in records {
        if let Some(met) = record.deadline_met() {
            let entry = out.entry(record.job.tenant.to_string()).or_default();
            entry.0 += usize::from(met);
            entry.1 += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc_core::{Money, Time};

    fn samples(n: u64) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample {
                at: Time(i * 1000),
                allocated: [i as f64, 0.0, 0.0],
                pending: i % 7,
                spend: Money(i as i64),
                ..Sample::default()
            })
            .collect()
    }

    #[test]
    fn downsampling_bounds_points_and_keeps_the_shape() {
        let s = samples(10_000);
        let mean = downsample(&s, 600, Reduce::Mean, |s| s.allocated[0]);
        assert_eq!(mean.len(), 600);
        assert_eq!(mean[0].0, 0.0);
        let max = downsample(&s, 600, Reduce::Max, |s| s.pending as f64);
        assert!(max.iter().all(|p| p.1 == 6.0));
        let last = downsample(&s, 600, Reduce::Last, |s| s.spend.0 as f64);
        assert_eq!(last.last(), Some(&(9_999_000.0, 9999.0)));
        assert_eq!(
            downsample(&s[..5], 600, Reduce::Mean, |s| s.allocated[0]).len(),
            5
        );
        assert!(downsample(&[], 600, Reduce::Mean, |s| s.allocated[0]).is_empty());
    }
}
