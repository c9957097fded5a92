//! How a fleet built from a machine list serves a replay of a recorded trace: GPU speeds, tiers
//! and the order the ClusterQueue tries its flavors in.
//!
//! - Speeds ([`Speeds`]): a trace's durations were measured on the cluster's own GPUs, and
//!   none of the public traces says on which model each job ran. With `recorded` (the default)
//!   every model of a fleet built from a machine list runs at the reference speed (1000‰), so
//!   a replayed job takes exactly its recorded duration wherever it lands. `catalog` gives each
//!   model its speed from the table of known models instead: a what-if for running the trace's
//!   work on other hardware, which stretches or shrinks every recorded duration.
//! - Tiers ([`Tiers`]): `generation` ranks models by generation (GOLD: A100/H100 class; SILVER:
//!   V100 class; BRONZE: older), shifted up until the best model present is GOLD. A trace whose
//!   jobs all ask for one tier (every public trace but Chronus: imported jobs are BRONZE, or
//!   GOLD for ElasticFlow's deadline jobs) says nothing about tiers, so `auto` gives every flavor
//!   that tier (`flat`) and every job is admissible without tier upgrades; a trace that mixes
//!   tiers keeps `generation`.
//! - Flavor order: the ClusterQueue lists flavors fastest first by the catalog speed (then by
//!   name), so within a tier a job is offered the fastest model with room first, not the first
//!   in alphabetical order.

use crate::trace::TraceJob;
use alloc_core::Tier;
use std::str::FromStr;

/// How fast each GPU model of a fleet built from a machine list runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Speeds {
    /// Every model at the reference speed: recorded durations are kept as they are.
    #[default]
    Recorded,
    /// Each model at its catalog speed relative to a V100 (what-if on other hardware).
    Catalog,
}

impl FromStr for Speeds {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "recorded" => Ok(Speeds::Recorded),
            "catalog" => Ok(Speeds::Catalog),
            other => Err(format!("expected recorded or catalog, found {other:?}")),
        }
    }
}

/// Which tier each flavor of a fleet built from a machine list gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Tiers {
    /// By GPU generation, shifted up until the best model present is GOLD.
    #[default]
    Generation,
    /// Every flavor at one tier.
    Flat(Tier),
}

impl Tiers {
    /// `flat` at the one tier every job asks for; `generation` when the jobs mix tiers (or
    /// there are none).
    pub fn for_jobs(jobs: &[TraceJob]) -> Tiers {
        Tiers::for_tiers(jobs.iter().map(|job| core_tier(job.min_tier)))
    }

    /// [`Tiers::for_jobs`] from the tiers the jobs ask for.
    pub fn for_tiers(tiers: impl IntoIterator<Item = Tier>) -> Tiers {
        let mut tiers = tiers.into_iter();
        match tiers.next() {
            Some(first) if tiers.all(|tier| tier == first) => Tiers::Flat(first),
            _ => Tiers::Generation,
        }
    }

    /// Gives every flavor of `fleet` the flat tier; `generation` leaves the fleet as built.
    pub fn apply(self, fleet: &mut super::FleetFile) {
        if let Tiers::Flat(tier) = self {
            for flavor in &mut fleet.flavors {
                flavor.tier = tier;
            }
        }
    }

    /// How `sim fleet` names it.
    pub fn describe(self) -> String {
        match self {
            Tiers::Generation => "by GPU generation".to_string(),
            Tiers::Flat(tier) => format!("every flavor {tier:?} (the one tier the trace asks for)"),
        }
    }
}

impl FromStr for Tiers {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "generation" => Ok(Tiers::Generation),
            "bronze" => Ok(Tiers::Flat(Tier::Bronze)),
            "silver" => Ok(Tiers::Flat(Tier::Silver)),
            "gold" => Ok(Tiers::Flat(Tier::Gold)),
            other => Err(format!(
                "expected generation, bronze, silver or gold, found {other:?}"
            )),
        }
    }
}

/// Options for building a fleet from a machine list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildOptions {
    pub speeds: Speeds,
    pub tiers: Tiers,
}

pub(crate) fn core_tier(tier: crate::trace::Tier) -> Tier {
    match tier {
        crate::trace::Tier::Bronze => Tier::Bronze,
        crate::trace::Tier::Silver => Tier::Silver,
        crate::trace::Tier::Gold => Tier::Gold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tier_in_the_trace_makes_the_fleet_flat() {
        let mut jobs = vec![TraceJob::new(0, 0, 1), TraceJob::new(1, 0, 1)];
        assert_eq!(Tiers::for_jobs(&jobs), Tiers::Flat(Tier::Bronze));
        jobs[1].min_tier = crate::trace::Tier::Gold;
        assert_eq!(Tiers::for_jobs(&jobs), Tiers::Generation);
        assert_eq!(Tiers::for_jobs(&[]), Tiers::Generation);
        assert_eq!("gold".parse(), Ok(Tiers::Flat(Tier::Gold)));
        assert_eq!("recorded".parse(), Ok(Speeds::Recorded));
    }
}
