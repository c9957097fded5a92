use crate::ids::{FlavorName, JobId, TenantName};
use crate::units::Money;
use std::collections::BTreeMap;

/// Public GPUs leased right now, per offer (keyed by the offer's flavor).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicLeases {
    gpus: BTreeMap<FlavorName, u32>,
}

impl PublicLeases {
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

/// Public spend committed so far, per job and per tenant. Cumulative history, so it is not
/// part of the rebuildable ledgers: a burst commits its expected cost when it is decided.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spend {
    pub by_job: BTreeMap<JobId, Money>,
    pub by_tenant: BTreeMap<TenantName, Money>,
}

impl Spend {
    pub fn job(&self, job: JobId) -> Money {
        self.by_job.get(&job).copied().unwrap_or(Money::ZERO)
    }

    pub fn tenant(&self, tenant: &TenantName) -> Money {
        self.by_tenant.get(tenant).copied().unwrap_or(Money::ZERO)
    }

    pub(crate) fn commit(&mut self, job: JobId, tenant: &TenantName, cost: Money) {
        let entry = self.by_job.entry(job).or_default();
        *entry = *entry + cost;
        let entry = self.by_tenant.entry(tenant.clone()).or_default();
        *entry = *entry + cost;
    }
}
