//! Why a waiting job did not burst: kept in its explanation, in the order the rule checks.

use crate::decision::FlavorMiss;
use crate::ids::TenantName;
use crate::units::{Millis, Money, Readable, Time};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The first burst rule a waiting job failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoBurst {
    /// The policy never rents public GPUs.
    PolicyNever,
    /// The job did not ask to burst.
    NotBurstable,
    /// Its data is sensitive: it never leaves the private fleet.
    Sensitive,
    /// Its budget is fixed; only a flexible budget is spent on public GPUs.
    FixedBudget,
    /// Its ClusterQueue has no public flavor (with an offer) for its tier and request.
    NoPublicFlavor,
    /// It has not waited long enough yet: it may burst at `from` (submitted + `threshold`,
    /// the policy's wait for it), sooner if its deadline comes to need it. Neither how long
    /// it has waited nor the wait as its deadline shrinks it is kept: both move with the
    /// clock, and a decision changes only when the world does.
    TooEarly {
        /// The policy's wait for the job, before its deadline shortens it.
        threshold: Millis,
        /// When the wait ends at the latest.
        from: Time,
    },
    /// No public flavor has quota left for it in its ClusterQueue: the first one's shortfall.
    NoPublicQuota(FlavorMiss),
    /// Every offer that could run it has leased its GPU cap.
    OfferCap,
    /// The cheapest burst needs more than the budget has left.
    Budget {
        /// Whose budget is short.
        payer: Payer,
        /// The cheapest burst's cost to that budget.
        needed: Money,
        /// What that budget has left.
        left: Money,
    },
    /// The rest of the tenant's budget is kept for rescuing deadlines (the rescue rule's
    /// reserve): a burst that saves none may not spend it. Under a reserve, this names a
    /// burst held by the pace too: `from` is when both let it through.
    KeptForDeadlines {
        /// The tenant.
        tenant: TenantName,
        /// The cheapest burst's reservation.
        needed: Money,
        /// When the reserve, shrinking over the budget's term, lets it through if nothing
        /// else changes; `None`: not this term.
        from: Option<Time>,
    },
    /// The tenant's budget is paced over its term and this point of it has spent its share
    /// (a rescue, or any burst when nothing is reserved).
    Paced {
        /// The tenant.
        tenant: TenantName,
        /// The cheapest burst's reservation.
        needed: Money,
        /// When the pace lets it through, if nothing else changes; `None`: never this term.
        from: Option<Time>,
    },
    /// Saving its deadline would cost more than one rescue may (the rescue rule's cap).
    RescueCap {
        /// The cheapest rescue's reservation.
        needed: Money,
        /// The most one rescue of its tenant may reserve.
        cap: Money,
    },
    /// The private fleet is predicted to miss its deadline and no offer it may use would meet
    /// it either; it waits for the wait rule.
    PublicTooLate,
}

/// Whose budget stands in the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Payer {
    /// The job's own flexible limit, with the policy's overrun.
    Job,
    /// The tenant's public budget.
    Tenant(TenantName),
}

impl NoBurst {
    /// Whether the rule failed for good: it reads only the policy, the job and its queue's
    /// flavors, so neither the clock nor the fleet nor the budgets can lift it.
    pub(crate) fn for_good(&self) -> bool {
        matches!(
            self,
            NoBurst::PolicyNever
                | NoBurst::NotBurstable
                | NoBurst::Sensitive
                | NoBurst::FixedBudget
                | NoBurst::NoPublicFlavor
        )
    }

    /// A stable code for columns and metric labels.
    pub fn code(&self) -> &'static str {
        match self {
            NoBurst::PolicyNever => "policy-never",
            NoBurst::NotBurstable => "not-burstable",
            NoBurst::Sensitive => "sensitive",
            NoBurst::FixedBudget => "fixed-budget",
            NoBurst::NoPublicFlavor => "no-public-flavor",
            NoBurst::TooEarly { .. } => "threshold-not-reached",
            NoBurst::NoPublicQuota(_) => "public-quota",
            NoBurst::OfferCap => "offer-cap",
            NoBurst::Budget {
                payer: Payer::Job, ..
            } => "job-budget",
            NoBurst::Budget {
                payer: Payer::Tenant(_),
                ..
            } => "tenant-budget",
            NoBurst::KeptForDeadlines { .. } => "kept-for-deadlines",
            NoBurst::Paced { .. } => "budget-paced",
            NoBurst::RescueCap { .. } => "rescue-cap",
            NoBurst::PublicTooLate => "public-too-late",
        }
    }
}

impl fmt::Display for NoBurst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoBurst::PolicyNever => f.write_str("the policy never rents public GPUs"),
            NoBurst::NotBurstable => f.write_str("the job is not burstable"),
            NoBurst::Sensitive => f.write_str("its data is sensitive and stays private"),
            NoBurst::FixedBudget => {
                f.write_str("its budget is fixed; only flexible budgets are spent on public GPUs")
            }
            NoBurst::NoPublicFlavor => {
                f.write_str("its queue has no public flavor for its tier and request")
            }
            NoBurst::TooEarly { threshold, from } => write!(
                f,
                "it waits {} before it may burst; the wait ends by {from} at the latest",
                Readable(threshold.0)
            ),
            NoBurst::NoPublicQuota(miss) => write!(f, "no public quota: {miss}"),
            NoBurst::OfferCap => f.write_str("every offer that could run it is at its GPU cap"),
            NoBurst::Budget {
                payer,
                needed,
                left,
            } => {
                match payer {
                    Payer::Job => f.write_str("its own budget")?,
                    Payer::Tenant(tenant) => write!(f, "tenant {tenant}'s public budget")?,
                }
                write!(f, " has {left} left and the cheapest burst needs {needed}")
            }
            NoBurst::KeptForDeadlines {
                tenant,
                needed,
                from,
            } => {
                write!(
                    f,
                    "the rest of tenant {tenant}'s budget is kept for deadlines and the \
                     cheapest burst needs {needed}"
                )?;
                match from {
                    Some(from) => write!(f, "; the reserve lets it through from {from}"),
                    None => f.write_str("; the reserve does not let it through this term"),
                }
            }
            NoBurst::Paced {
                tenant,
                needed,
                from,
            } => {
                write!(
                    f,
                    "tenant {tenant}'s budget is paced over its term and the cheapest burst \
                     needs {needed}"
                )?;
                match from {
                    Some(from) => write!(f, "; the pace allows it from {from}"),
                    None => f.write_str("; the pace does not allow it this term"),
                }
            }
            NoBurst::RescueCap { needed, cap } => write!(
                f,
                "saving its deadline would reserve {needed}, above the {cap} one rescue may"
            ),
            NoBurst::PublicTooLate => f.write_str(
                "the private fleet is predicted to miss its deadline and no offer it may use \
                 would meet it either",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_under_a_minute_reads_in_seconds() {
        let too_early = NoBurst::TooEarly {
            threshold: Millis::seconds(20),
            from: Time(80_000),
        };
        assert_eq!(
            too_early.to_string(),
            "it waits 20 s before it may burst; the wait ends by t=80000ms at the latest"
        );
    }
}
