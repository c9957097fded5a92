use crate::ids::{TenantName, UserName};
use crate::units::MilliGpu;
use serde::{Deserialize, Serialize};

/// A lab or group: the unit of fair share and budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub name: TenantName,
    /// Relative fair-share weight (1 = an equal share).
    #[serde(default = "one")]
    pub weight: u32,
    #[serde(default)]
    pub max_running_jobs: Option<u32>,
    #[serde(default)]
    pub max_gpus: Option<MilliGpu>,
    /// Most the tenant may spend on public GPUs over the whole run; `None` = no limit. Never
    /// exceeded: bursts are charged their expected cost up front.
    #[serde(default)]
    pub public_budget: Option<crate::units::Money>,
}

/// A person submitting jobs, belonging to one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: UserName,
    pub tenant: TenantName,
    #[serde(default)]
    pub max_running_jobs: Option<u32>,
    #[serde(default)]
    pub max_gpus: Option<MilliGpu>,
}

fn one() -> u32 {
    1
}
