//! CPU-only work: best fit on CPU, preferring nodes with the fewest idle GPUs so that GPU
//! nodes keep their host resources for GPU jobs.

use crate::decision::NodeShare;
use crate::model::Job;
use crate::state::NodeState;

/// The scan that `indexed::best_host` answers from the free index: for node sets outside a
/// fleet (`place_among`), and the index's reference in the tests.
pub fn place<'a>(nodes: impl Iterator<Item = &'a NodeState>, job: &Job) -> Option<Vec<NodeShare>> {
    nodes
        .filter(|node| super::fits_host(node, job))
        .min_by_key(|node| {
            (
                node.idle_gpus(),
                node.free_cpu - job.cpu,
                node.free_memory - job.memory,
                &node.spec.name,
            )
        })
        .map(|node| share(node, job))
}

pub(super) fn share(node: &NodeState, job: &Job) -> Vec<NodeShare> {
    vec![NodeShare {
        node: node.spec.name.clone(),
        gpus: Vec::new(),
        cpu: job.cpu,
        memory: job.memory,
    }]
}
