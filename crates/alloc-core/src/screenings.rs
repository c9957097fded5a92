//! Screening answers kept from one cycle to the next, by request class.
//!
//! Screening (`screen`) reads only a class's queue and request, the configuration and the
//! fleet's GPU models, so its answer holds until one of those changes: the scheduler forgets
//! every answer when the configuration changes or a node comes or goes, and a class's answer
//! when the class is closed (its number may then be reused for another request). Before, each
//! cycle screened each class again: a tenth of a cycle over 10k waiting jobs in 1,400 classes.
//!
//! An answer names its queue and flavors by their place in the configuration's maps, so that
//! it borrows nothing; each cycle turns it back into references once per class.

use crate::classes::ClassId;
use crate::decision::RejectReason;
use crate::model::{ClusterQueue, Config, Flavor};
use std::sync::Arc;

/// A request that passed screening, by position in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Screening {
    /// Position of the ClusterQueue in `Config::cluster_queues`.
    pub queue: usize,
    /// Positions in `Config::flavors` of the private candidates, in fungibility order.
    pub candidates: Box<[usize]>,
    /// The same of the public candidates.
    pub public: Box<[usize]>,
    pub private_fits: bool,
    /// The known GPU speeds of the private candidates, in candidate order.
    pub private_speeds: Arc<[u32]>,
}

/// Each class's screening, or why its request is rejected.
#[derive(Debug, Clone, Default)]
pub(crate) struct Screenings {
    by_class: Vec<Option<Result<Screening, RejectReason>>>,
}

impl Screenings {
    pub(crate) fn get(&self, class: ClassId) -> Option<&Result<Screening, RejectReason>> {
        self.by_class.get(class.index())?.as_ref()
    }

    pub(crate) fn keep(&mut self, class: ClassId, answer: Result<Screening, RejectReason>) {
        let index = class.index();
        if self.by_class.len() <= index {
            self.by_class.resize(index + 1, None);
        }
        self.by_class[index] = Some(answer);
    }

    /// The class was closed: its number may come back for another request.
    pub(crate) fn forget(&mut self, class: ClassId) {
        if let Some(answer) = self.by_class.get_mut(class.index()) {
            *answer = None;
        }
    }

    /// The configuration or the fleet's GPU models changed.
    pub(crate) fn clear(&mut self) {
        self.by_class.clear();
    }
}

/// Where each queue and flavor of a configuration sits in its map, and back: gathered at most
/// once per cycle, as every class's kept screening is turned back into references (a configuration
/// has a handful of each).
#[derive(Debug)]
pub(crate) struct Positions<'c> {
    queues: Vec<&'c ClusterQueue>,
    flavors: Vec<&'c Flavor>,
}

impl<'c> Positions<'c> {
    pub(crate) fn of(config: &'c Config) -> Self {
        Positions {
            queues: config.cluster_queues.values().collect(),
            flavors: config.flavors.values().collect(),
        }
    }

    /// Found by address: these are the configuration's own values.
    pub(crate) fn queue_position(&self, queue: &ClusterQueue) -> Option<usize> {
        self.queues.iter().position(|q| std::ptr::eq(*q, queue))
    }

    pub(crate) fn flavor_position(&self, flavor: &Flavor) -> Option<usize> {
        self.flavors.iter().position(|f| std::ptr::eq(*f, flavor))
    }

    pub(crate) fn queue_at(&self, position: usize) -> Option<&'c ClusterQueue> {
        self.queues.get(position).copied()
    }

    pub(crate) fn flavor_at(&self, position: usize) -> Option<&'c Flavor> {
        self.flavors.get(position).copied()
    }
}
