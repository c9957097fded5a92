//! The public cloud twin: nodes rented for bursts, provisioned with the offer's latency, kept
//! warm for the offer's `scale_down_after` once idle (a later burst of the same offer and size
//! takes one over at once) and billed from the provisioning request to their release.
//!
//! Every billed micro-unit belongs to one lease, a burst's use of a node: from when the lease
//! rented the node (provisioning included) or took it over warm, until the node is released
//! or taken over by the next lease. The warm tail after a job ends is its lease's: the job
//! left the node running. A lease's bill is worked out once, when it closes, so the bills of
//! the leases add up to the cloud's total exactly.

use alloc_core::{FlavorName, JobId, MilliGpu, Millis, Money, Time};
use std::collections::BTreeMap;

/// Which burst pays for a node: the job and its lease number (as the core numbered it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Payer {
    pub job: JobId,
    pub lease: u32,
}

/// A closed lease's bill: `cost` in all, of which `provisioning` (before the GPUs were
/// ready) and `warm_idle` (kept warm after the job left); the rest paid for running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    pub payer: Payer,
    pub cost: Money,
    /// The offer's flavor the node was rented for.
    pub offer: FlavorName,
    pub provisioning: Money,
    pub warm_idle: Money,
}

impl Bill {
    /// What the lease paid while its job ran: the rest of the bill, so the parts add up.
    pub fn running(&self) -> Money {
        Money(self.cost.0 - self.provisioning.0 - self.warm_idle.0)
    }
}

#[derive(Debug, Clone)]
struct Node {
    offer: FlavorName,
    gpus: u32,
    price_per_gpu_hour: Money,
    payer: Payer,
    /// When the current payer's lease began: the provisioning request, or the takeover.
    billed_from: Time,
    /// When the current lease's GPUs were (or will be) ready: the takeover for a warm node.
    ready_at: Time,
    /// `Some(since)` while idle.
    idle_since: Option<Time>,
}

impl Node {
    fn bill(&self, until: Time) -> Bill {
        let price = |from: Time, to: Time| {
            Money::for_gpu_time(
                self.price_per_gpu_hour,
                MilliGpu::whole(u64::from(self.gpus)),
                to.since(from),
            )
        };
        let cost = price(self.billed_from, until);
        // Each part rounded up on its own, capped so that the parts never exceed the bill.
        let ready = self
            .ready_at
            .clamp(self.billed_from, until.max(self.billed_from));
        let idle_from = self
            .idle_since
            .unwrap_or(until)
            .clamp(ready, until.max(ready));
        let provisioning = price(self.billed_from, ready).min(cost);
        let warm_idle = price(idle_from, until).min(Money(cost.0 - provisioning.0));
        Bill {
            payer: self.payer,
            cost,
            offer: self.offer.clone(),
            provisioning,
            warm_idle,
        }
    }
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
    /// Bills of closed leases.
    closed: Money,
}

impl PublicCloud {
    /// A node of `gpus` GPUs of `offer` for `payer`: a warm idle one of exactly that size (a
    /// larger one would bill more than the burst reserved), whose lease it closes, or a new
    /// one ready after `latency`.
    pub fn rent(
        &mut self,
        offer: &FlavorName,
        gpus: u32,
        price: Money,
        latency: Millis,
        payer: Payer,
        now: Time,
    ) -> (Rented, Option<Bill>) {
        let warm = self
            .nodes
            .iter()
            .find(|(_, n)| &n.offer == offer && n.idle_since.is_some() && n.gpus == gpus)
            .map(|(id, _)| *id);
        if let Some(node) = warm.and_then(|id| Some((id, self.nodes.get_mut(&id)?))) {
            let (id, node) = node;
            let bill = node.bill(now);
            self.closed = self.closed + bill.cost;
            node.payer = payer;
            node.billed_from = now;
            node.ready_at = now;
            node.idle_since = None;
            return (
                Rented {
                    node: id,
                    ready_at: now,
                },
                Some(bill),
            );
        }
        self.next_id += 1;
        let id = self.next_id;
        self.nodes.insert(
            id,
            Node {
                offer: offer.clone(),
                gpus,
                price_per_gpu_hour: price,
                payer,
                billed_from: now,
                ready_at: now + latency,
                idle_since: None,
            },
        );
        let rented = Rented {
            node: id,
            ready_at: now + latency,
        };
        (rented, None)
    }

    /// The job on `node` ended; returns when the node should be released if still idle.
    pub fn idle(&mut self, node: u64, now: Time, scale_down_after: Millis) -> Option<Time> {
        let entry = self.nodes.get_mut(&node)?;
        entry.idle_since = Some(now);
        Some(now + scale_down_after)
    }

    /// Releases `node` if it has been idle since `since` (not taken over meanwhile), closing
    /// its lease.
    pub fn release_if_idle(&mut self, node: u64, since: Time, now: Time) -> Option<Bill> {
        if self
            .nodes
            .get(&node)
            .is_none_or(|n| n.idle_since != Some(since))
        {
            return None;
        }
        let bill = self.nodes.remove(&node)?.bill(now);
        self.closed = self.closed + bill.cost;
        Some(bill)
    }

    /// Releases everything (end of run), closing every lease, in node order.
    pub fn release_all(&mut self, now: Time) -> Vec<Bill> {
        let bills: Vec<Bill> = std::mem::take(&mut self.nodes)
            .into_values()
            .map(|node| node.bill(now))
            .collect();
        for bill in &bills {
            self.closed = self.closed + bill.cost;
        }
        bills
    }

    /// GPUs rented now (provisioning, busy or warm-idle).
    pub fn rented_gpus(&self) -> u64 {
        self.nodes.values().map(|n| u64::from(n.gpus)).sum()
    }

    /// Everything billed up to `now`, idle and provisioning time included.
    pub fn spend(&self, now: Time) -> Money {
        self.nodes
            .values()
            .fold(self.closed, |total, node| total + node.bill(now).cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payer(job: u64) -> Payer {
        Payer {
            job: JobId(job),
            lease: 1,
        }
    }

    #[test]
    fn a_warm_node_of_the_same_size_is_taken_over_and_each_lease_pays_its_share() {
        let mut cloud = PublicCloud::default();
        let offer = FlavorName::new("a100");
        let price = Money::units(2);
        let minutes = |m: u64| Time(0) + Millis::minutes(m);
        let (first, none) = cloud.rent(&offer, 2, price, Millis::minutes(5), payer(1), minutes(0));
        assert_eq!((first.ready_at, none), (minutes(5), None));
        let release_at = cloud.idle(first.node, minutes(60), Millis::minutes(10));
        assert_eq!(release_at, Some(minutes(70)));
        // a one-GPU burst does not take the two-GPU node: it would pay for two
        let (other, _) = cloud.rent(&offer, 1, price, Millis::minutes(5), payer(2), minutes(62));
        assert_ne!(other.node, first.node);
        // a two-GPU burst takes it over at once; job 1's lease closes: 65 min of 2 GPUs at 2.00
        let (second, bill) =
            cloud.rent(&offer, 2, price, Millis::minutes(5), payer(3), minutes(65));
        assert_eq!(second.node, first.node);
        assert_eq!(second.ready_at, minutes(65));
        let bill = bill.expect("the first lease closes");
        assert_eq!(bill.payer, payer(1));
        let two = MilliGpu::whole(2);
        assert_eq!(
            bill.cost,
            Money::for_gpu_time(price, two, Millis::minutes(65))
        );
        // of which 5 min provisioning and 5 min warm after the job left at 60 min
        let five = Money::for_gpu_time(price, two, Millis::minutes(5));
        assert_eq!((bill.provisioning, bill.warm_idle), (five, five));
        // the rest ran; parts are rounded up, so the rest is within a micro-unit of 55 min
        assert_eq!(bill.running(), Money(bill.cost.0 - 2 * five.0));
        let running = Money::for_gpu_time(price, two, Millis::minutes(55));
        assert!((bill.running().0 - running.0).abs() <= 1);
        assert_eq!(bill.offer, offer);
        // the pending release no longer applies: the node was taken over
        assert_eq!(
            cloud.release_if_idle(first.node, minutes(60), minutes(70)),
            None
        );
        assert_eq!(cloud.rented_gpus(), 3);
        // at the end: job 2's node 58 min × 1 GPU, job 3's 55 min × 2 GPUs
        let spend_before = cloud.spend(minutes(120));
        let bills = cloud.release_all(minutes(120));
        let total: Money = bills.iter().fold(bill.cost, |sum, b| sum + b.cost);
        assert_eq!(cloud.spend(minutes(200)), total);
        assert_eq!(spend_before, total);
        assert_eq!(cloud.rented_gpus(), 0);
    }
}
