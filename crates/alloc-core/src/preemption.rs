//! Preemption: which running jobs a higher-ranked job that cannot fit may evict.

use serde::{Deserialize, Serialize};

/// When preemption is allowed (Kueue's `preemption` block of a ClusterQueue, as policy).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreemptionPolicy {
    /// Never preempt when false.
    #[serde(default)]
    pub enabled: bool,
}
