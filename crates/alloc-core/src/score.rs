//! The order pending jobs are considered in each cycle.

use serde::{Deserialize, Serialize};

/// How pending jobs are ordered.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Kueue's order: priority, then submit time, then id ([`crate::PendingKey`]).
    #[default]
    PriorityFifo,
}
