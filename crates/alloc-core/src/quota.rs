//! Quota exactly as Kueue computes it for a flat cohort (Kueue's `resource_node.go`):
//!
//! - a queue's *guaranteed* quota is `nominal − lendingLimit` (0 without a lending limit); only
//!   it may use that part;
//! - the cohort's pool is the sum of its members' lendable quota (`nominal − guaranteed`), and
//!   the pool's usage is the sum of each member's usage above its guaranteed quota;
//! - `available = max(0, guaranteed − usage) + min(pool − pool usage,
//!   nominal − guaranteed − max(0, usage − guaranteed) + borrowingLimit)`, the second term only
//!   capped when a borrowing limit is set. Without a cohort, `available = nominal − usage`.
//!
//! A job *fits* on a flavor when every resource it asks for stays within nominal; it *borrows*
//! when it fits only thanks to the cohort.

use crate::decision::Miss;
use crate::ids::{CohortName, FlavorName, QueueName};
use crate::model::{ClusterQueue, Config, Resource, ResourceAmounts, WhenCanBorrow};
use crate::state::QuotaUsage;
use std::collections::BTreeMap;

/// How a request fits a flavor's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Within the queue's nominal quota.
    Fit,
    /// Only with quota borrowed from the cohort.
    Borrow,
}

impl Mode {
    /// Whether a flavor that admits a request this way ends the search over the queue's
    /// flavors (Kueue's `whenCanBorrow`): a fit always does; borrowing does under
    /// `MayStopSearch`, and under `TryNextFlavor` is taken only if no later flavor fits.
    pub(crate) fn ends_search(self, queue: &ClusterQueue) -> bool {
        self == Mode::Fit || queue.fungibility.when_can_borrow == WhenCanBorrow::MayStopSearch
    }
}

/// A read-only view of quota: configuration plus usage.
pub struct QuotaView<'a> {
    pub config: &'a Config,
    pub cohort_members: &'a BTreeMap<CohortName, Vec<QueueName>>,
    pub usage: &'a QuotaUsage,
}

impl QuotaView<'_> {
    /// What `queue` may still admit of `resource` on `flavor`; `None` when it has no quota for
    /// it there.
    #[cfg(test)]
    pub fn available(
        &self,
        queue: &ClusterQueue,
        flavor: &FlavorName,
        resource: Resource,
    ) -> Option<u64> {
        let index = Resource::ALL.iter().position(|r| *r == resource)?;
        self.rooms(queue, flavor, true)[index]
    }

    /// What `queue` may still admit on `flavor` of each resource of [`Resource::ALL`] (`None`
    /// where it has no quota for it); with `with_usage` false, what it could hold if nothing
    /// were running (its ceiling). All resources at once, so the cohort's members are read
    /// once: this runs for every flavor of every job considered.
    pub(crate) fn rooms(
        &self,
        queue: &ClusterQueue,
        flavor: &FlavorName,
        with_usage: bool,
    ) -> [Option<u64>; 3] {
        self.measure(queue, flavor, with_usage).available
    }

    /// [`QuotaView::rooms`], and what is left of the nominal quota, in one pass.
    fn measure(&self, queue: &ClusterQueue, flavor: &FlavorName, with_usage: bool) -> Room {
        self.room_given(queue, flavor, |q| {
            if with_usage {
                self.usage.of(q, flavor)
            } else {
                ResourceAmounts::default()
            }
        })
    }

    /// What `queue` may still admit on `flavor` were each cohort member's usage there what
    /// `used` says (the view's own usage is not read).
    pub(crate) fn room_given(
        &self,
        queue: &ClusterQueue,
        flavor: &FlavorName,
        used: impl Fn(&QueueName) -> ResourceAmounts,
    ) -> Room {
        let mut room = Room {
            available: [None; 3],
            nominal_left: [0; 3],
        };
        let Some(quotas) = queue.flavors.iter().find(|f| &f.flavor == flavor) else {
            return room;
        };
        let usage = used(&queue.name);
        let members = queue.cohort.as_ref().map(|cohort| {
            self.cohort_members
                .get(cohort)
                .map_or(&[][..], Vec::as_slice)
        });
        // Per resource: the cohort's pool and the pool's usage.
        let mut pool = [0i128; 3];
        let mut pool_used = [0i128; 3];
        for member in members.unwrap_or_default() {
            let Some(member_queue) = self.config.cluster_queues.get(member) else {
                continue;
            };
            let Some(member_quotas) = member_queue.flavors.iter().find(|f| &f.flavor == flavor)
            else {
                continue;
            };
            let member_usage = used(member);
            for (at, resource) in Resource::ALL.into_iter().enumerate() {
                let Some(member_quota) = member_quotas.resources.get(&resource) else {
                    continue;
                };
                let member_guaranteed = i128::from(member_quota.guaranteed());
                pool[at] += i128::from(member_quota.lendable());
                pool_used[at] +=
                    (i128::from(member_usage.get(resource)) - member_guaranteed).max(0);
            }
        }
        for (at, resource) in Resource::ALL.into_iter().enumerate() {
            let Some(quota) = quotas.resources.get(&resource) else {
                continue;
            };
            let usage = i128::from(usage.get(resource));
            let nominal = i128::from(quota.nominal);
            room.nominal_left[at] = clamp(nominal - usage);
            if members.is_none() {
                room.available[at] = Some(clamp(nominal - usage));
                continue;
            }
            let guaranteed = i128::from(quota.guaranteed());
            let local = (guaranteed - usage).max(0);
            let mut from_cohort = pool[at] - pool_used[at];
            if let Some(limit) = quota.borrowing_limit {
                let stored_in_cohort = nominal - guaranteed;
                let used_in_cohort = (usage - guaranteed).max(0);
                from_cohort =
                    from_cohort.min(stored_in_cohort - used_in_cohort + i128::from(limit));
            }
            room.available[at] = Some(clamp(local + from_cohort));
        }
        room
    }

    /// Whether `request` fits `queue`'s quota on `flavor` now, and how; or the first shortfall.
    pub fn assess(
        &self,
        queue: &ClusterQueue,
        flavor: &FlavorName,
        request: &ResourceAmounts,
    ) -> Result<Mode, Miss> {
        self.room(queue, flavor).assess(queue, request)
    }

    /// What `queue` may still admit on `flavor`, to assess requests against.
    pub(crate) fn room(&self, queue: &ClusterQueue, flavor: &FlavorName) -> Room {
        self.measure(queue, flavor, true)
    }

    /// The first resource of `request` that exceeds the queue's ceiling on `flavor`.
    pub fn exceeds_ceiling(
        &self,
        queue: &ClusterQueue,
        flavor: &FlavorName,
        request: &ResourceAmounts,
    ) -> Option<Miss> {
        exceeds(queue, self.rooms(queue, flavor, false), request)
    }
}

/// What a queue may still admit on one flavor, per resource of [`Resource::ALL`]: everything
/// [`QuotaView::assess`] reads of the usage, so that a cycle can keep it per queue and flavor
/// while the flavor's usage is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Room {
    /// With what the cohort lends; `None` where the queue has no quota for the resource.
    available: [Option<u64>; 3],
    /// Left of the nominal quota (0 when borrowing already).
    nominal_left: [u64; 3],
}

impl Room {
    /// Whether `request` fits, and how; or the first shortfall.
    pub(crate) fn assess(
        &self,
        queue: &ClusterQueue,
        request: &ResourceAmounts,
    ) -> Result<Mode, Miss> {
        let mut mode = Mode::Fit;
        for ((resource, room), nominal_left) in Resource::ALL
            .into_iter()
            .zip(self.available)
            .zip(self.nominal_left)
        {
            let needed = request.get(resource);
            if needed == 0 {
                continue;
            }
            let Some(available) = room else {
                return Err(Miss::NoQuota {
                    queue: queue.name.clone(),
                    resource,
                });
            };
            if needed > available {
                return Err(Miss::Quota {
                    queue: queue.name.clone(),
                    resource,
                    needed,
                    available,
                });
            }
            if needed > nominal_left {
                mode = Mode::Borrow;
            }
        }
        Ok(mode)
    }
}

/// The first resource of `request` above `ceilings` (a queue's rooms with nothing running).
pub(crate) fn exceeds(
    queue: &ClusterQueue,
    ceilings: [Option<u64>; 3],
    request: &ResourceAmounts,
) -> Option<Miss> {
    Resource::ALL
        .into_iter()
        .zip(ceilings)
        .find_map(|(resource, ceiling)| {
            let needed = request.get(resource);
            if needed == 0 {
                return None;
            }
            match ceiling {
                None => Some(Miss::NoQuota {
                    queue: queue.name.clone(),
                    resource,
                }),
                Some(ceiling) if needed > ceiling => Some(Miss::Quota {
                    queue: queue.name.clone(),
                    resource,
                    needed,
                    available: ceiling,
                }),
                Some(_) => None,
            }
        })
}

fn clamp(value: i128) -> u64 {
    u64::try_from(value.max(0)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Quota;
    use crate::testing::ConfigBuilder;

    fn gpu(amount: u64) -> ResourceAmounts {
        ResourceAmounts {
            gpu: amount,
            cpu: 0,
            memory: 0,
        }
    }

    /// Two queues in one cohort on one flavor, with the given GPU quotas.
    fn cohort(a: Quota, b: Quota) -> (Config, BTreeMap<CohortName, Vec<QueueName>>) {
        let config = ConfigBuilder::new()
            .private_flavor("f", crate::model::Tier::Bronze)
            .queue_in_cohort("a", "c", &[("f", a)])
            .queue_in_cohort("b", "c", &[("f", b)])
            .build();
        let members = BTreeMap::from([(
            CohortName::new("c"),
            vec![QueueName::new("a"), QueueName::new("b")],
        )]);
        (config, members)
    }

    fn available(
        config: &Config,
        members: &BTreeMap<CohortName, Vec<QueueName>>,
        usage: &QuotaUsage,
        queue: &str,
    ) -> u64 {
        let view = QuotaView {
            config,
            cohort_members: members,
            usage,
        };
        let cq = &config.cluster_queues[&QueueName::new(queue)];
        view.available(cq, &FlavorName::new("f"), Resource::Gpu)
            .unwrap_or(0)
    }

    #[test]
    fn without_limits_the_whole_pool_is_shared() {
        let (config, members) = cohort(Quota::nominal(4000), Quota::nominal(2000));
        let mut usage = QuotaUsage::default();
        assert_eq!(available(&config, &members, &usage, "a"), 6000);
        usage.add(&QueueName::new("b"), &FlavorName::new("f"), &gpu(1000));
        assert_eq!(available(&config, &members, &usage, "a"), 5000);
    }

    #[test]
    fn borrowing_limit_caps_what_comes_from_the_cohort() {
        let a = Quota {
            nominal: 4000,
            borrowing_limit: Some(1000),
            lending_limit: None,
        };
        let (config, members) = cohort(a, Quota::nominal(4000));
        let mut usage = QuotaUsage::default();
        assert_eq!(available(&config, &members, &usage, "a"), 5000);
        usage.add(&QueueName::new("a"), &FlavorName::new("f"), &gpu(4500));
        assert_eq!(available(&config, &members, &usage, "a"), 500);
    }

    #[test]
    fn lending_limit_keeps_a_guaranteed_part() {
        // b lends only 1000 of its 4000: a can reach 4000 + 1000, and b keeps 3000 for itself
        // even when a has borrowed everything it can.
        let b = Quota {
            nominal: 4000,
            borrowing_limit: None,
            lending_limit: Some(1000),
        };
        let (config, members) = cohort(Quota::nominal(4000), b);
        let mut usage = QuotaUsage::default();
        assert_eq!(available(&config, &members, &usage, "a"), 5000);
        usage.add(&QueueName::new("a"), &FlavorName::new("f"), &gpu(5000));
        assert_eq!(available(&config, &members, &usage, "a"), 0);
        assert_eq!(available(&config, &members, &usage, "b"), 3000);
    }

    #[test]
    fn assess_tells_fit_from_borrow() {
        let (config, members) = cohort(Quota::nominal(1000), Quota::nominal(1000));
        let usage = QuotaUsage::default();
        let view = QuotaView {
            config: &config,
            cohort_members: &members,
            usage: &usage,
        };
        let cq = &config.cluster_queues[&QueueName::new("a")];
        let f = FlavorName::new("f");
        assert_eq!(view.assess(cq, &f, &gpu(1000)), Ok(Mode::Fit));
        assert_eq!(view.assess(cq, &f, &gpu(2000)), Ok(Mode::Borrow));
        assert!(matches!(
            view.assess(cq, &f, &gpu(3000)),
            Err(Miss::Quota {
                needed: 3000,
                available: 2000,
                ..
            })
        ));
        let mut without_cpu = cq.clone();
        without_cpu.flavors[0].resources.remove(&Resource::Cpu);
        let cpu = ResourceAmounts {
            gpu: 0,
            cpu: 1,
            memory: 0,
        };
        assert!(matches!(
            view.assess(&without_cpu, &f, &cpu),
            Err(Miss::NoQuota {
                resource: Resource::Cpu,
                ..
            })
        ));
    }
}
