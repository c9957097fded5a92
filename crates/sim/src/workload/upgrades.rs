//! Which jobs of a replay may run on a higher tier than they ask for (`sim run --tier-upgrades`).
//!
//! A trace's tiers say what its jobs asked for, not what the fleet they are replayed on calls
//! its GPUs. A job whose tier no flavor of the fleet has could only be rejected; `auto` lets
//! exactly those jobs take a higher tier (the core then offers the lowest higher tier first,
//! and within a tier the ClusterQueue's flavor order: fastest first for fleets built by
//! `sim fleet`). Jobs whose tier exists keep to it.

use alloc_core::{Config, Job, Tier};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TierUpgrades {
    /// Only jobs whose tier no flavor has.
    #[default]
    Auto,
    Never,
    Always,
}

impl FromStr for TierUpgrades {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(TierUpgrades::Auto),
            "never" => Ok(TierUpgrades::Never),
            "always" => Ok(TierUpgrades::Always),
            other => Err(format!("expected auto, never or always, found {other:?}")),
        }
    }
}

/// What [`TierUpgrades::apply`] did, for the terminal.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Upgraded {
    /// Jobs now allowed to upgrade.
    pub jobs: u64,
    /// Their requested tiers that the fleet has no flavor for (empty for `always`).
    pub missing: BTreeSet<Tier>,
    /// The tiers the fleet's flavors have.
    pub present: BTreeSet<Tier>,
}

impl fmt::Display for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |tiers: &BTreeSet<Tier>| {
            tiers
                .iter()
                .map(|tier| format!("{tier:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.missing.is_empty() {
            write!(
                f,
                "tier upgrades: {} jobs may run on a higher tier",
                self.jobs
            )
        } else {
            write!(
                f,
                "tier upgrades: {} jobs ask for a tier no flavor has ({}; flavors are {}): \
                 they may run on a higher tier (--tier-upgrades never to reject them)",
                self.jobs,
                names(&self.missing),
                names(&self.present)
            )
        }
    }
}

impl TierUpgrades {
    /// Sets `allow_upgrade` on the jobs this choice lets upgrade.
    pub fn apply(self, jobs: &mut [Job], config: &Config) -> Upgraded {
        let present: BTreeSet<Tier> = config.flavors.values().map(|f| f.tier).collect();
        let mut upgraded = Upgraded {
            present,
            ..Upgraded::default()
        };
        for job in jobs {
            let allow = match self {
                TierUpgrades::Never => false,
                TierUpgrades::Always => true,
                TierUpgrades::Auto => !upgraded.present.contains(&job.min_tier),
            };
            if allow && !job.allow_upgrade {
                job.allow_upgrade = true;
                upgraded.jobs += 1;
                if self == TierUpgrades::Auto {
                    upgraded.missing.insert(job.min_tier);
                }
            }
        }
        upgraded
    }
}
