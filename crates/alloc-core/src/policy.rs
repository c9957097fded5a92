//! Policy knobs that shape decisions without changing the rules.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Let every job run on a higher tier than it asked for when its own tier is full.
    #[serde(default)]
    pub allow_tier_upgrade: bool,
}
