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
    /// A notebook session opens (index into the workload's sessions).
    SessionOpen(usize),
    /// A session's next cell is run by its user.
    CellArrive(usize),
    /// A notebook lease finished starting up; stale if it was stopped since.
    LeaseReady { lease: JobId, attempt: u32 },
    /// A cell's compute ends; stale if the session moved on (`generation` differs).
    CellDone { session: usize, generation: u64 },
    /// A session's idle lease is released unless a cell came meanwhile.
    LeaseRelease { session: usize, generation: u64 },
    /// The notebook warm pools are re-sized to their recent demand.
    PoolTick,
    /// A scheduling cycle.
    Cycle,
    /// A row of the time series.
    Sample,
}

impl Event {
    pub fn phase(&self) -> Phase {
        match self {
            Event::Finish { .. }
            | Event::NodeDown(_)
            | Event::PublicRelease { .. }
            | Event::CellDone { .. }
            | Event::LeaseRelease { .. } => Phase::Release,
            Event::NodeUp(_) | Event::LeaseReady { .. } => Phase::Fleet,
            Event::Arrival(_) | Event::SessionOpen(_) | Event::CellArrive(_) | Event::PoolTick => {
                Phase::Arrival
            }
            Event::Cycle => Phase::Cycle,
            Event::Sample => Phase::Sample,
        }
    }

    /// Events that stand for work still to come: while one is queued the run goes on.
    pub fn keeps_run_alive(&self) -> bool {
        !matches!(
            self,
            Event::NodeDown(_)
                | Event::PublicRelease { .. }
                | Event::Cycle
                | Event::Sample
                | Event::PoolTick
        )
    }
}
