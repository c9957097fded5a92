//! Workloads: jobs from a trace file or from a generator.

pub mod from_trace;
pub mod synthetic;
