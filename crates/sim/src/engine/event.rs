//! The closed set of things that happen in the twin, and the order of same-instant events.

use alloc_core::{JobId, NodeName, Time};

/// Same-instant order: resources are released before anything new arrives, and the cycle
/// sees both; samples see the cycle's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Release,
    Fleet,
    Arrival,
    Cycle,
    Sample,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A workload job is submitted (index into the workload).
    Arrival(usize),
    /// A job's current attempt ends; stale if the job was stopped since (`attempt` differs).
    Finish { job: JobId, attempt: u32 },
    /// A node fails: its jobs lose work since their last checkpoint and go back to pending.
    NodeDown(NodeName),
    /// A failed node is repaired.
    NodeUp(NodeName),
    /// A rented public node idle since `idle_since` is released unless reused meanwhile.
    PublicRelease { node: u64, idle_since: Time },
    /// A scheduling cycle.
    Cycle,
    /// A row of the time series.
    Sample,
}

impl Event {
    pub fn phase(&self) -> Phase {
        match self {
            Event::Finish { .. } | Event::NodeDown(_) | Event::PublicRelease { .. } => {
                Phase::Release
            }
            Event::NodeUp(_) => Phase::Fleet,
            Event::Arrival(_) => Phase::Arrival,
            Event::Cycle => Phase::Cycle,
            Event::Sample => Phase::Sample,
        }
    }
}
