//! What the cycle's steps read of the scheduler's state, and nothing they could change.
//!
//! The steps (screen, flavors, quota, placement, preemption, burst, score, the clock) decide
//! from the state; only the orchestration (`scheduler`, `cycle`, `queries`, `protocol`,
//! `kueue_phase`, `invariants`, `inputs_log`) owns and changes it. A step takes a [`View`]
//! rather than the scheduler, so it
//! cannot depend on how the scheduler is built or change it between decisions, and the
//! scheduler's module is not imported back by the modules it imports. A view is a handful of
//! shared references, taken afresh wherever the cycle has changed the state
//! (`Scheduler::view`).

use crate::burst::PublicOffers;
use crate::ids::{CohortName, JobId, QueueName};
use crate::model::Config;
use crate::placement::MixTracker;
use crate::policy::Policy;
use crate::quota::QuotaView;
use crate::running::Running;
use crate::score::SpeedCache;
use crate::screenings::Screenings;
use crate::state::{Ledgers, Spend};
use std::collections::BTreeMap;

/// The scheduler's state as the steps read it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) config: &'a Config,
    pub(crate) policy: &'a Policy,
    /// Each cohort's ClusterQueues, as the configuration declares them.
    pub(crate) cohort_members: &'a BTreeMap<CohortName, Vec<QueueName>>,
    pub(crate) ledgers: &'a Ledgers,
    pub(crate) running: &'a BTreeMap<JobId, Box<Running>>,
    pub(crate) spend: &'a Spend,
    /// The configuration's public offers, resolved.
    pub(crate) offers: &'a PublicOffers,
    /// The request mix of recent submissions, for the fragmentation-aware MPS policies.
    pub(crate) mix: &'a MixTracker,
    /// Fastest candidate GPU per job shape; filled as it is read (interior mutability), so a
    /// shared view can keep what it works out.
    pub(crate) speeds: &'a SpeedCache,
    /// Screening answers kept from earlier cycles; the cycle hands new ones back itself.
    pub(crate) screenings: &'a Screenings,
}

impl<'a> View<'a> {
    /// The quota ledger read through the configuration's cohorts.
    pub(crate) fn quota_view(&self) -> QuotaView<'a> {
        QuotaView {
            config: self.config,
            cohort_members: self.cohort_members,
            usage: &self.ledgers.quota,
        }
    }
}
