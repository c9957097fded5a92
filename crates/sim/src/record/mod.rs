//! Everything a run writes: per-job records, the sampled time series, the summary and the
//! manifest. Output is byte-identical for the same inputs and seed.

pub mod costs;
pub mod jobs;
pub mod misses;
pub mod summary;
pub mod table;
pub mod timeseries;
