use crate::ids::{TenantName, UserName};
use crate::model::Job;
use crate::units::MilliGpu;
use std::collections::BTreeMap;

/// What one user or tenant holds right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Holding {
    /// Jobs running.
    pub running_jobs: u32,
    /// GPUs they hold.
    pub gpus: MilliGpu,
}

/// Running jobs and GPUs per user and per tenant, for their caps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Holdings {
    /// Per user; a user holding nothing has no entry.
    pub users: BTreeMap<UserName, Holding>,
    /// Per tenant; a tenant holding nothing has no entry.
    pub tenants: BTreeMap<TenantName, Holding>,
}

impl Holdings {
    /// What `user` holds: nothing when it has no entry.
    pub fn user(&self, user: &UserName) -> Holding {
        self.users.get(user).copied().unwrap_or_default()
    }

    /// What `tenant` holds: nothing when it has no entry.
    pub fn tenant(&self, tenant: &TenantName) -> Holding {
        self.tenants.get(tenant).copied().unwrap_or_default()
    }

    pub(crate) fn add(&mut self, job: &Job) {
        for holding in [
            self.users.entry(job.user.clone()).or_default(),
            self.tenants.entry(job.tenant.clone()).or_default(),
        ] {
            holding.running_jobs += 1;
            holding.gpus += job.gpu.milli();
        }
    }

    pub(crate) fn subtract(&mut self, job: &Job) {
        fn take(holding: &mut Holding, job: &Job) -> bool {
            holding.running_jobs = holding.running_jobs.saturating_sub(1);
            holding.gpus -= job.gpu.milli();
            *holding == Holding::default()
        }
        if self.users.get_mut(&job.user).is_some_and(|h| take(h, job)) {
            self.users.remove(&job.user);
        }
        if self
            .tenants
            .get_mut(&job.tenant)
            .is_some_and(|h| take(h, job))
        {
            self.tenants.remove(&job.tenant);
        }
    }
}
