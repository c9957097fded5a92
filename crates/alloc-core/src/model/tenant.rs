use crate::ids::{TenantName, UserName};
use crate::units::MilliGpu;
use serde::{Deserialize, Serialize};

/// A lab or group: the unit of fair share and budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// What users and jobs name it by.
    pub name: TenantName,
    /// Relative fair-share weight (1 = an equal share).
    #[serde(default = "one")]
    pub weight: u32,
    /// Most jobs of the tenant running at once; `None` = no cap.
    #[serde(default)]
    pub max_running_jobs: Option<u32>,
    /// Most GPUs the tenant's running jobs hold at once; `None` = no cap.
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
    /// What jobs name them by.
    pub name: UserName,
    /// The tenant they belong to.
    pub tenant: TenantName,
    /// Most jobs of the user running at once; `None` = no cap.
    #[serde(default)]
    pub max_running_jobs: Option<u32>,
    /// Most GPUs the user's running jobs hold at once; `None` = no cap.
    #[serde(default)]
    pub max_gpus: Option<MilliGpu>,
}

fn one() -> u32 {
    1
}
