//! Workloads: jobs from a trace file or from a generator, and notebook sessions.

pub mod from_trace;
pub mod generators;
pub mod session;
pub mod synthetic;

pub use session::{Cell, Session, Workload};
