//! `poisson`: the project's simple synthetic mix (see [`crate::workload::synthetic`]) as a
//! scenario generator. Its numbers are exactly `synthetic::generate`'s; only the tenant names
//! may differ, mapped from `lab-<i>` to the `i`-th entry of `tenants`.

use super::check;
use crate::rng::Seed;
use crate::workload::synthetic::{self, SyntheticSpec};
use crate::workload::Workload;
use alloc_core::{LocalQueueName, Millis, TenantName, UserName};
use serde::{Deserialize, Serialize};

pub(crate) const NAME: &str = "poisson";

/// Poisson arrivals of a generic job mix: 40% MPS fractions, 40% one GPU, 15% 2–4 GPUs, 5% 8
/// GPUs; log-normal runtimes; a third with deadlines; 10% sensitive; half burstable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PoissonMix {
    /// Number of jobs.
    pub jobs: u32,
    /// Mean time between two arrivals, in seconds.
    pub mean_interarrival_seconds: f64,
    /// Labs; each is a tenant and submits to the LocalQueue of the same name.
    pub tenants: Vec<String>,
    /// Users per lab, named `<tenant>-user-<i>`.
    pub users_per_tenant: u32,
}

impl Default for PoissonMix {
    fn default() -> Self {
        let spec = SyntheticSpec::default();
        PoissonMix {
            jobs: spec.jobs as u32,
            mean_interarrival_seconds: spec.mean_interarrival.0 as f64 / 1000.0,
            tenants: (0..spec.tenants).map(|lab| format!("lab-{lab}")).collect(),
            users_per_tenant: spec.users_per_tenant as u32,
        }
    }
}

impl PoissonMix {
    pub(crate) fn generate(&self, seed: Seed) -> Result<Workload, String> {
        let jobs = check::count(NAME, "jobs", self.jobs, 0, 3_000_000)?;
        let seconds = check::within(
            NAME,
            "mean_interarrival_seconds",
            self.mean_interarrival_seconds,
            0.001,
            1e7,
        )?;
        check::tenants(NAME, "tenants", &self.tenants)?;
        let users = check::count(NAME, "users_per_tenant", self.users_per_tenant, 1, 10_000)?;
        let spec = SyntheticSpec {
            jobs: jobs as usize,
            mean_interarrival: Millis((seconds * 1000.0).round() as u64),
            tenants: self.tenants.len(),
            users_per_tenant: users as usize,
        };
        let mut jobs = synthetic::generate(&spec, seed);
        for job in &mut jobs {
            let index = job.tenant.as_str().strip_prefix("lab-");
            let name = index
                .and_then(|index| index.parse::<usize>().ok())
                .and_then(|index| self.tenants.get(index));
            let Some(name) = name.filter(|name| name.as_str() != job.tenant.as_str()) else {
                continue;
            };
            let user = job.user.as_str().rsplit("-user-").next().unwrap_or("0");
            job.user = UserName::new(format!("{name}-user-{user}"));
            job.tenant = TenantName::new(name.as_str());
            job.queue = LocalQueueName::new(name.as_str());
        }
        Ok(Workload::batch(jobs))
    }
}
