use crate::ids::{FlavorName, JobId, TenantName};
use crate::units::Money;
use std::collections::BTreeMap;

/// Public GPUs leased right now, per offer (keyed by the offer's flavor).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicLeases {
    gpus: BTreeMap<FlavorName, u32>,
}

impl PublicLeases {
    /// GPUs of `offer` leased now, against its cap.
    pub fn in_use(&self, offer: &FlavorName) -> u32 {
        self.gpus.get(offer).copied().unwrap_or(0)
    }

    pub(crate) fn add(&mut self, offer: &FlavorName, gpus: u32) {
        if gpus > 0 {
            *self.gpus.entry(offer.clone()).or_default() += gpus;
        }
    }

    pub(crate) fn subtract(&mut self, offer: &FlavorName, gpus: u32) {
        if let Some(count) = self.gpus.get_mut(offer) {
            *count = count.saturating_sub(gpus);
            if *count == 0 {
                self.gpus.remove(offer);
            }
        }
    }
}

/// Public money per job and tenant: what was billed, and what the bursts whose bill is not
/// in yet have reserved. Each burst reserves the most it can be billed (provisioning, its
/// runtime, and its node's warm tail until scale-down) before it starts; its bill, when the
/// shell reports it ([`Input::PublicBilled`](crate::Input::PublicBilled)), takes the
/// reservation's place. Budgets are held against both together, so the bill never exceeds a
/// budget at any instant. Cumulative history, so not part of the rebuildable ledgers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spend {
    billed: Totals,
    reserved: Totals,
    /// Leases whose bill is not in yet, by job and lease number.
    open: BTreeMap<(JobId, u32), Reservation>,
    /// Leases each job took so far: the last lease number.
    leases: BTreeMap<JobId, u32>,
}

/// Money per job and per tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Totals {
    by_job: BTreeMap<JobId, Money>,
    by_tenant: BTreeMap<TenantName, Money>,
}

impl Totals {
    fn add(&mut self, job: JobId, tenant: &TenantName, amount: Money) {
        let entry = self.by_job.entry(job).or_default();
        *entry = *entry + amount;
        let entry = self.by_tenant.entry(tenant.clone()).or_default();
        *entry = *entry + amount;
    }

    fn subtract(&mut self, job: JobId, tenant: &TenantName, amount: Money) {
        if let Some(entry) = self.by_job.get_mut(&job) {
            *entry = *entry - amount;
            if *entry == Money::ZERO {
                self.by_job.remove(&job);
            }
        }
        if let Some(entry) = self.by_tenant.get_mut(tenant) {
            *entry = *entry - amount;
            if *entry == Money::ZERO {
                self.by_tenant.remove(tenant);
            }
        }
    }

    fn job(&self, job: JobId) -> Money {
        self.by_job.get(&job).copied().unwrap_or(Money::ZERO)
    }

    fn tenant(&self, tenant: &TenantName) -> Money {
        self.by_tenant.get(tenant).copied().unwrap_or(Money::ZERO)
    }
}

/// What one lease reserved, for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reservation {
    tenant: TenantName,
    amount: Money,
}

impl Spend {
    /// What `job` has committed: billed plus reserved.
    pub fn job(&self, job: JobId) -> Money {
        self.billed.job(job) + self.reserved.job(job)
    }

    /// What `tenant` has committed: billed plus reserved.
    pub fn tenant(&self, tenant: &TenantName) -> Money {
        self.billed.tenant(tenant) + self.reserved.tenant(tenant)
    }

    /// What the cloud billed `tenant` so far.
    pub fn billed_tenant(&self, tenant: &TenantName) -> Money {
        self.billed.tenant(tenant)
    }

    /// What `tenant`'s leases without a bill yet have reserved.
    pub fn reserved_tenant(&self, tenant: &TenantName) -> Money {
        self.reserved.tenant(tenant)
    }

    /// The number the next lease of `job` gets (1 for its first burst).
    pub fn next_lease(&self, job: JobId) -> u32 {
        self.leases.get(&job).copied().unwrap_or(0) + 1
    }

    /// Reserves `amount` for lease `lease` of `job`.
    pub(crate) fn reserve(&mut self, job: JobId, lease: u32, tenant: &TenantName, amount: Money) {
        self.leases.insert(job, lease);
        self.reserved.add(job, tenant, amount);
        self.open.insert(
            (job, lease),
            Reservation {
                tenant: tenant.clone(),
                amount,
            },
        );
    }

    /// The bill of lease `lease` of `job` came in: it replaces the reservation. A bill above
    /// the reservation is recorded as billed all the same (it is what happened), and
    /// `check_invariants` reports a budget it breaks.
    pub(crate) fn settle(
        &mut self,
        job: JobId,
        lease: u32,
        cost: Money,
    ) -> Result<(), crate::InputError> {
        let Reservation { tenant, amount } = self
            .open
            .remove(&(job, lease))
            .ok_or(crate::InputError::UnknownLease { job, lease })?;
        self.reserved.subtract(job, &tenant, amount);
        self.billed.add(job, &tenant, cost);
        Ok(())
    }
}
