use crate::ids::{FlavorName, QueueName};
use crate::model::ResourceAmounts;
use std::collections::BTreeMap;

/// What each ClusterQueue has admitted, per flavor, in quota units.
///
/// Nested by queue, then flavor, so that a lookup borrows the names instead of building an
/// owned key: quota is read for every pending job in every cycle.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuotaUsage {
    usage: BTreeMap<QueueName, BTreeMap<FlavorName, ResourceAmounts>>,
}

impl QuotaUsage {
    /// What `queue` has admitted on `flavor`; zero when nothing.
    pub fn of(&self, queue: &QueueName, flavor: &FlavorName) -> ResourceAmounts {
        self.usage
            .get(queue)
            .and_then(|flavors| flavors.get(flavor))
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn add(&mut self, queue: &QueueName, flavor: &FlavorName, amount: &ResourceAmounts) {
        // Nothing to add: no entry, as `subtract` drops entries that reach zero.
        if *amount == ResourceAmounts::default() {
            return;
        }
        self.usage
            .entry(queue.clone())
            .or_default()
            .entry(flavor.clone())
            .or_default()
            .add(amount);
    }

    pub(crate) fn subtract(
        &mut self,
        queue: &QueueName,
        flavor: &FlavorName,
        amount: &ResourceAmounts,
    ) {
        let Some(flavors) = self.usage.get_mut(queue) else {
            return;
        };
        if let Some(usage) = flavors.get_mut(flavor) {
            usage.subtract(amount);
            // An empty entry is dropped so incremental state equals a rebuild.
            if *usage == ResourceAmounts::default() {
                flavors.remove(flavor);
            }
        }
        if flavors.is_empty() {
            self.usage.remove(queue);
        }
    }

    /// Usage per (queue, flavor), in that order. The keys are built for the caller (the map
    /// is nested for cheap lookups); this is for reports and tests, not hot paths.
    pub fn iter(&self) -> impl Iterator<Item = ((QueueName, FlavorName), &ResourceAmounts)> {
        self.usage.iter().flat_map(|(queue, flavors)| {
            flavors
                .iter()
                .map(move |(flavor, amounts)| ((queue.clone(), flavor.clone()), amounts))
        })
    }
}
