//! Public offers and what a burst to one costs: the expected bill, and the reservation — the
//! most the burst can be billed, which budgets are held to.

use super::policy::gpus_rented;
use crate::ids::FlavorName;
use crate::model::{Config, Flavor, GpuModel, GpuRequest, Job, Offer};
use crate::progress::Progress;
use crate::units::{MilliGpu, Millis, Money, Time, VramMib};

/// An offer with its GPU model, found by its flavor.
#[derive(Debug, Clone)]
pub(crate) struct PublicOffer {
    pub offer: Offer,
    pub model: GpuModel,
}

/// The configuration's public offers, resolved once: every waiting burstable job is priced
/// against them each cycle, and looking their models up by name per job cost more than
/// pricing.
#[derive(Debug, Clone, Default)]
pub(crate) struct PublicOffers(Vec<PublicOffer>);

impl PublicOffers {
    pub(crate) fn of(config: &Config) -> PublicOffers {
        let offers = config
            .clusters
            .values()
            .filter(|cluster| cluster.is_public())
            .flat_map(|cluster| &cluster.offers)
            .filter_map(|offer| {
                Some(PublicOffer {
                    offer: offer.clone(),
                    model: config.gpu_models.get(&offer.gpu_model)?.clone(),
                })
            })
            .collect();
        PublicOffers(offers)
    }

    /// The offer that rents `flavor`'s GPUs. A configuration has a handful: a scan is
    /// cheaper than a map.
    pub(crate) fn of_flavor(&self, flavor: &FlavorName) -> Option<&PublicOffer> {
        self.0.iter().find(|public| public.offer.flavor == *flavor)
    }
}

/// VRAM per GPU the job needs.
fn vram_needed(job: &Job) -> VramMib {
    match job.gpu {
        GpuRequest::Whole { min_vram, .. } => min_vram,
        GpuRequest::Fraction { vram, .. } => vram,
        GpuRequest::None => VramMib::ZERO,
    }
}

/// One offer priced for one job.
#[derive(Debug, Clone)]
pub(crate) struct Quote<'o> {
    pub offer: &'o Offer,
    /// GPUs rented: the count for whole GPUs, one for a fraction.
    pub gpus: u32,
    /// The expected bill: provisioning, then restore and the remaining work on the offer's
    /// GPU model.
    pub cost: Money,
    /// The most the burst can be billed: the expected bill plus the node's warm tail until
    /// scale-down, which the job leaves behind when it ends.
    pub reserved: Money,
    pub ready_at: Time,
    pub end: Time,
}

/// `job` with `progress` priced on `flavor`'s offer at `now`; `None` when the flavor has no
/// offer or the offer's GPU model cannot run the job.
pub(crate) fn quote<'o>(
    offers: &'o PublicOffers,
    job: &Job,
    progress: &Progress,
    flavor: &Flavor,
    now: Time,
) -> Option<Quote<'o>> {
    let PublicOffer { offer, model } = offers.of_flavor(&flavor.name)?;
    if !job.accepts_model(Some(&offer.gpu_model)) || model.vram < vram_needed(job) {
        return None;
    }
    let gpus = gpus_rented(job);
    let runtime = progress.runtime_at(job, model.speed_permille);
    let ready_at = now + offer.provisioning_latency;
    let price = |duration: Millis| {
        Money::for_gpu_time(
            offer.price_per_gpu_hour,
            MilliGpu::whole(u64::from(gpus)),
            duration,
        )
    };
    let billed = offer.provisioning_latency + runtime;
    Some(Quote {
        offer,
        gpus,
        cost: price(billed),
        reserved: price(billed + offer.scale_down_after),
        ready_at,
        end: ready_at + runtime,
    })
}
