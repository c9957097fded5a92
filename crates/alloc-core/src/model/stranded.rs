//! GPUs that no quota can ever admit. Kueue admits a job only within quota, and a cohort lends
//! no more than its members' nominal quota, so a private flavor whose nominal GPU quota over
//! every ClusterQueue falls short of its nodes' GPUs leaves the difference idle for good. It
//! is easy to write (three labs of 5 GPUs each on two 8-GPU nodes) and costly in a way that is
//! hard to see: whole-node jobs then never run on both nodes at once.

use crate::ids::FlavorName;
use crate::model::{Config, NodeSpec, Resource};
use std::collections::BTreeMap;
use std::fmt;

/// A private flavor whose GPUs exceed the nominal GPU quota on it, in milli-GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrandedGpus {
    /// The flavor.
    pub flavor: FlavorName,
    /// GPUs of the nodes the flavor alone selects.
    pub gpus: u64,
    /// Nominal GPU quota on the flavor, summed over every ClusterQueue.
    pub quota: u64,
}

impl StrandedGpus {
    /// Milli-GPU that can never be admitted.
    pub fn idle(&self) -> u64 {
        self.gpus - self.quota
    }
}

/// One sentence for a shell's warning: the flavor, its GPUs, its quota and why the rest stays
/// idle.
impl fmt::Display for StrandedGpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "flavor {} has {} GPUs but {} GPUs of nominal quota over all ClusterQueues, so {} \
             GPU(s) can never be admitted: Kueue admits only within quota, and a cohort lends \
             no more than its members' nominal quota",
            self.flavor,
            Gpus(self.gpus),
            Gpus(self.quota),
            Gpus(self.idle()),
        )
    }
}

/// Milli-GPU written as GPUs, without trailing zeros.
struct Gpus(u64);

impl fmt::Display for Gpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, milli) = (self.0 / 1000, self.0 % 1000);
        if milli == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{milli:03}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl Config {
    /// The private flavors whose nodes hold more GPUs than all ClusterQueues together have
    /// nominal quota for, in flavor order. A node that several flavors select is left out: which
    /// flavor's quota its GPUs count against depends on the job.
    pub fn stranded_gpus<'a>(
        &self,
        nodes: impl IntoIterator<Item = &'a NodeSpec>,
    ) -> Vec<StrandedGpus> {
        let mut gpus: BTreeMap<&FlavorName, u64> = BTreeMap::new();
        for node in nodes {
            let mut selecting = self.flavors.values().filter(|flavor| flavor.selects(node));
            if let (Some(flavor), None) = (selecting.next(), selecting.next()) {
                *gpus.entry(&flavor.name).or_default() += u64::from(node.gpus) * 1000;
            }
        }
        let private = |flavor: &FlavorName| {
            self.flavors
                .get(flavor)
                .and_then(|flavor| self.clusters.get(&flavor.cluster))
                .is_some_and(|cluster| !cluster.is_public())
        };
        gpus.into_iter()
            .filter(|(flavor, _)| private(flavor))
            .filter_map(|(flavor, gpus)| {
                let quota: u64 = self
                    .cluster_queues
                    .values()
                    .flat_map(|queue| &queue.flavors)
                    .filter(|quotas| &quotas.flavor == flavor)
                    .filter_map(|quotas| quotas.resources.get(&Resource::Gpu))
                    .map(|quota| quota.nominal)
                    .sum();
                (quota < gpus).then(|| StrandedGpus {
                    flavor: flavor.clone(),
                    gpus,
                    quota,
                })
            })
            .collect()
    }
}
