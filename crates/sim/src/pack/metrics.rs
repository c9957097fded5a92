//! What is recorded after each pod, and the table columns built from it: column k is the mean
//! over all pod events whose arrived demand rounds (half to even) to k% of capacity, or over
//! k−1…k+1 when no event rounds to k.

/// Sums per arrived-demand bucket (whole percent of capacity).
#[derive(Debug, Clone, Default)]
pub(crate) struct Buckets {
    capacity: u64,
    allocation_sum: Vec<f64>,
    fragmentation_sum: Vec<f64>,
    events: Vec<u64>,
}

/// Per-column means for one seed; `None` where no event is near the column.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub allocation: Vec<Option<f64>>,
    pub fragmentation: Vec<Option<f64>>,
}

impl Buckets {
    pub(crate) fn new(capacity: u64) -> Buckets {
        Buckets {
            capacity,
            ..Buckets::default()
        }
    }

    /// One pod event: milli-GPU arrived so far, allocated now, fragmentation amount and idle.
    pub(crate) fn record(&mut self, arrived: u64, allocated: u64, fragmentation: f64, idle: u64) {
        let bucket = percent_half_even(arrived, self.capacity);
        if bucket >= self.events.len() {
            self.events.resize(bucket + 1, 0);
            self.allocation_sum.resize(bucket + 1, 0.0);
            self.fragmentation_sum.resize(bucket + 1, 0.0);
        }
        self.events[bucket] += 1;
        self.allocation_sum[bucket] += ratio(allocated as f64, self.capacity);
        self.fragmentation_sum[bucket] += ratio(fragmentation, idle);
    }

    /// Columns 0..=top.
    pub(crate) fn columns(&self, top: usize) -> Columns {
        let mean = |sums: &[f64], k: usize| {
            let exact = self.events.get(k).copied().unwrap_or(0);
            let range = if exact > 0 {
                k..k + 1
            } else {
                k.saturating_sub(1)..k + 2
            };
            let range = range.start.min(self.events.len())..range.end.min(self.events.len());
            let count: u64 = self.events[range.clone()].iter().sum();
            let sum: f64 = sums[range].iter().sum();
            (count > 0).then(|| sum / count as f64)
        };
        Columns {
            allocation: (0..=top).map(|k| mean(&self.allocation_sum, k)).collect(),
            fragmentation: (0..=top)
                .map(|k| mean(&self.fragmentation_sum, k))
                .collect(),
        }
    }
}

/// `part / whole` in percent; 0 when `whole` is 0.
fn ratio(part: f64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part * 100.0 / whole as f64
    }
}

/// round(100 · part / whole) with ties to even, in exact integers (0 when `whole` is 0).
pub(crate) fn percent_half_even(part: u64, whole: u64) -> usize {
    if whole == 0 {
        return 0;
    }
    let numerator = u128::from(part) * 100;
    let whole = u128::from(whole);
    let (quotient, remainder) = (numerator / whole, numerator % whole);
    let up = match (2 * remainder).cmp(&whole) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => quotient % 2 == 1,
        std::cmp::Ordering::Less => false,
    };
    usize::try_from(quotient + u128::from(up)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_half_to_even() {
        assert_eq!(percent_half_even(5, 1000), 0); // 0.5% → 0
        assert_eq!(percent_half_even(15, 1000), 2); // 1.5% → 2
        assert_eq!(percent_half_even(25, 1000), 2); // 2.5% → 2
        assert_eq!(percent_half_even(26, 1000), 3);
        assert_eq!(percent_half_even(1, 0), 0);
    }

    #[test]
    fn empty_columns_use_neighbours() {
        let mut buckets = Buckets::new(100);
        buckets.record(1, 10, 0.0, 90); // 1% arrived, 10% allocated
        buckets.record(3, 30, 0.0, 70); // 3% arrived, 30% allocated
        let columns = buckets.columns(5);
        assert_eq!(columns.allocation[1], Some(10.0));
        assert_eq!(columns.allocation[2], Some(20.0)); // none at 2%: mean over 1..3
        assert_eq!(columns.allocation[0], Some(10.0));
        assert_eq!(columns.allocation[5], None);
    }
}
