use crate::ids::{FlavorName, QueueName};
use crate::model::ResourceAmounts;
use std::collections::BTreeMap;

/// What each ClusterQueue has admitted, per flavor, in quota units.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuotaUsage {
    usage: BTreeMap<(QueueName, FlavorName), ResourceAmounts>,
}

impl QuotaUsage {
    pub fn of(&self, queue: &QueueName, flavor: &FlavorName) -> ResourceAmounts {
        self.usage
            .get(&(queue.clone(), flavor.clone()))
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn add(&mut self, queue: &QueueName, flavor: &FlavorName, amount: &ResourceAmounts) {
        // Nothing to add: no entry, as `subtract` drops entries that reach zero.
        if *amount == ResourceAmounts::default() {
            return;
        }
        self.usage
            .entry((queue.clone(), flavor.clone()))
            .or_default()
            .add(amount);
    }

    pub(crate) fn subtract(
        &mut self,
        queue: &QueueName,
        flavor: &FlavorName,
        amount: &ResourceAmounts,
    ) {
        let key = (queue.clone(), flavor.clone());
        if let Some(usage) = self.usage.get_mut(&key) {
            usage.subtract(amount);
            // An empty entry is dropped so incremental state equals a rebuild.
            if *usage == ResourceAmounts::default() {
                self.usage.remove(&key);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&(QueueName, FlavorName), &ResourceAmounts)> {
        self.usage.iter()
    }
}
