//! Burst: when a job that cannot start privately goes to a public offer.

use serde::{Deserialize, Serialize};

/// When to burst.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstPolicy {
    /// Never burst when false.
    #[serde(default)]
    pub enabled: bool,
}
