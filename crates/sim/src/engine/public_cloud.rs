//! The public cloud twin: nodes rented for bursts, provisioned with the offer's latency, kept
//! warm for `scale_down_after` once idle (a later burst of the same offer reuses them at once)
//! and billed from the provisioning request to their release.

use alloc_core::{FlavorName, MilliGpu, Millis, Money, Time};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
struct Node {
    offer: FlavorName,
    gpus: u32,
    price_per_gpu_hour: Money,
    requested_at: Time,
    /// `Some(since)` while idle.
    idle_since: Option<Time>,
}

/// Where a burst runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rented {
    pub node: u64,
    /// When its GPUs are ready: now for a warm node, after the provisioning latency otherwise.
    pub ready_at: Time,
}

#[derive(Debug, Default)]
pub struct PublicCloud {
    nodes: BTreeMap<u64, Node>,
    next_id: u64,
    /// Cost of nodes already released.
    released_cost: Money,
}

impl PublicCloud {
    /// A node for `gpus` GPUs of `offer`: the smallest warm idle one that is large enough, or a
    /// new one ready after `latency`.
    pub fn rent(
        &mut self,
        offer: &FlavorName,
        gpus: u32,
        price: Money,
        latency: Millis,
        now: Time,
    ) -> Rented {
        let warm = self
            .nodes
            .iter()
            .filter(|(_, n)| &n.offer == offer && n.idle_since.is_some() && n.gpus >= gpus)
            .min_by_key(|(id, n)| (n.gpus, **id))
            .map(|(id, _)| *id);
        if let Some(id) = warm {
            if let Some(node) = self.nodes.get_mut(&id) {
                node.idle_since = None;
            }
            return Rented {
                node: id,
                ready_at: now,
            };
        }
        self.next_id += 1;
        let id = self.next_id;
        self.nodes.insert(
            id,
            Node {
                offer: offer.clone(),
                gpus,
                price_per_gpu_hour: price,
                requested_at: now,
                idle_since: None,
            },
        );
        Rented {
            node: id,
            ready_at: now + latency,
        }
    }

    /// The job on `node` ended; returns when the node should be released if still idle.
    pub fn idle(&mut self, node: u64, now: Time, scale_down_after: Millis) -> Option<Time> {
        let entry = self.nodes.get_mut(&node)?;
        entry.idle_since = Some(now);
        Some(now + scale_down_after)
    }

    /// Releases `node` if it has been idle since `since` (not reused meanwhile).
    pub fn release_if_idle(&mut self, node: u64, since: Time, now: Time) -> bool {
        if self
            .nodes
            .get(&node)
            .is_none_or(|n| n.idle_since != Some(since))
        {
            return false;
        }
        if let Some(released) = self.nodes.remove(&node) {
            self.released_cost = self.released_cost + cost(&released, now);
        }
        true
    }

    /// Releases everything (end of run).
    pub fn release_all(&mut self, now: Time) {
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        for id in ids {
            if let Some(node) = self.nodes.remove(&id) {
                self.released_cost = self.released_cost + cost(&node, now);
            }
        }
    }

    /// GPUs rented now (provisioning, busy or warm-idle).
    pub fn rented_gpus(&self) -> u64 {
        self.nodes.values().map(|n| u64::from(n.gpus)).sum()
    }

    /// Everything billed up to `now`, idle and provisioning time included.
    pub fn spend(&self, now: Time) -> Money {
        self.nodes
            .values()
            .fold(self.released_cost, |total, node| total + cost(node, now))
    }
}

fn cost(node: &Node, until: Time) -> Money {
    Money::for_gpu_time(
        node.price_per_gpu_hour,
        MilliGpu::whole(u64::from(node.gpus)),
        until.since(node.requested_at),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_nodes_are_reused_and_idle_ones_released() {
        let mut cloud = PublicCloud::default();
        let offer = FlavorName::new("a100");
        let price = Money::units(2);
        let first = cloud.rent(&offer, 2, price, Millis::minutes(5), Time(0));
        assert_eq!(first.ready_at, Time(0) + Millis::minutes(5));
        let release_at = cloud.idle(first.node, Time(0) + Millis::hours(1), Millis::minutes(10));
        assert_eq!(release_at, Some(Time(0) + Millis::minutes(70)));
        // A one-GPU burst reuses the warm two-GPU node at once.
        let second = cloud.rent(
            &offer,
            1,
            price,
            Millis::minutes(5),
            Time(0) + Millis::minutes(65),
        );
        assert_eq!(
            second,
            Rented {
                node: first.node,
                ready_at: Time(0) + Millis::minutes(65)
            }
        );
        // The pending release no longer applies: the node was reused.
        assert!(!cloud.release_if_idle(
            first.node,
            Time(0) + Millis::hours(1),
            Time(0) + Millis::minutes(70)
        ));
        assert_eq!(cloud.rented_gpus(), 2);
        // Two hours of two GPUs at 2.00 = 8.00
        cloud.release_all(Time(0) + Millis::hours(2));
        assert_eq!(cloud.spend(Time(0) + Millis::hours(3)), Money::units(8));
        assert_eq!(cloud.rented_gpus(), 0);
    }
}
