//! Rescue by displacement: deadline jobs that may not burst (not burstable, a fixed budget,
//! sensitive data, or no public flavor in their queue) can only be saved on the private
//! fleet, and every job that may burst but waits privately for the same flavors competes with
//! them for the GPUs that free up. Under the rescue rule with `displace` on, such a job bursts
//! without waiting its threshold while one of them waits for one of its private flavors: it
//! leaves the private GPUs to the job that has nowhere else to go, as always-burst does, but
//! only where that makes room for a deadline, and only from the budget above the reserve.
//!
//! Who is stuck is read once per cycle, before its first decision, from the pending jobs and
//! their screening alone (no clock, no prediction): the set only shrinks as jobs leave, so a
//! second cycle with no new input never displaces a job the first did not, and a job's answer
//! does not change with the clock alone.

use crate::ids::FlavorName;
use crate::model::Flavor;
use std::collections::BTreeMap;

/// How many deadline jobs that may not burst wait for each private flavor (a job counts on
/// every private candidate flavor of its request).
#[derive(Debug, Default)]
pub(crate) struct Stuck<'c> {
    by_flavor: BTreeMap<&'c FlavorName, u32>,
}

impl<'c> Stuck<'c> {
    /// Counts a stuck job whose private candidates are `candidates`.
    pub(crate) fn add(&mut self, candidates: &[&'c Flavor]) {
        for flavor in candidates {
            *self.by_flavor.entry(&flavor.name).or_default() += 1;
        }
    }

    /// Among `candidates`, the first in fungibility order with the most stuck jobs waiting
    /// for it, and how many; `None` when none waits for any.
    pub(crate) fn on<'f>(&self, candidates: &[&'f Flavor]) -> Option<(&'f FlavorName, u32)> {
        let mut best: Option<(&'f FlavorName, u32)> = None;
        for flavor in candidates {
            let jobs = self.by_flavor.get(&flavor.name).copied().unwrap_or(0);
            if jobs > 0 && best.is_none_or(|(_, most)| jobs > most) {
                best = Some((&flavor.name, jobs));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ClusterName;
    use crate::model::Tier;

    fn flavor(name: &str) -> Flavor {
        Flavor {
            name: FlavorName::new(name),
            tier: Tier::Bronze,
            cluster: ClusterName::new("private"),
            node_labels: BTreeMap::new(),
            gpu_model: None,
        }
    }

    #[test]
    fn the_flavor_most_stuck_jobs_wait_for_is_named_first_in_order_on_ties() {
        let (a, b, c) = (flavor("a"), flavor("b"), flavor("c"));
        let mut stuck = Stuck::default();
        assert_eq!(stuck.on(&[&a]), None);
        stuck.add(&[&a, &b]);
        stuck.add(&[&b]);
        stuck.add(&[&c]);
        assert_eq!(
            stuck.on(&[&a, &b, &c]).map(|(f, n)| (f.as_str(), n)),
            Some(("b", 2))
        );
        assert_eq!(
            stuck.on(&[&c, &a]).map(|(f, n)| (f.as_str(), n)),
            Some(("c", 1))
        );
        assert_eq!(stuck.on(&[]), None);
    }
}
