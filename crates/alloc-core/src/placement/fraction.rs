//! MPS fractions by fit over single GPUs. Best fit: the GPU left with the least free milli-GPU,
//! then the node left with the least CPU (ties by node name, then GPU index), so partly used
//! GPUs fill before idle ones are broken into. Worst fit mirrors it: the most free milli-GPU
//! left, then the most CPU left (ties by node name, then GPU index), spreading load.
//!
//! This is the scan over every GPU that `indexed` answers from the free index; it places on
//! node sets outside a fleet (`place_among`) and is the index's reference in the tests.

use super::fits_host;
use crate::decision::NodeShare;
use crate::model::Job;
use crate::state::NodeState;
use crate::units::{MilliGpu, VramMib};
use std::cmp::Reverse;

pub fn place<'a>(
    nodes: impl Iterator<Item = &'a NodeState>,
    job: &Job,
    milli: MilliGpu,
    vram: VramMib,
    worst: bool,
) -> Option<Vec<NodeShare>> {
    let candidates = nodes
        .filter(|node| node.max_mps_clients > 0 && fits_host(node, job))
        .flat_map(|node| {
            node.gpus
                .iter()
                .enumerate()
                .filter_map(move |(index, gpu)| {
                    let room = gpu.free >= milli
                        && gpu.free_vram >= vram
                        && gpu.clients < node.max_mps_clients;
                    room.then_some((node, index, gpu.free - milli))
                })
        });
    let cpu_left = |node: &NodeState| node.free_cpu - job.cpu;
    let chosen = if worst {
        candidates.min_by_key(|(node, index, left)| {
            (
                Reverse(*left),
                Reverse(cpu_left(node)),
                &node.spec.name,
                *index,
            )
        })
    } else {
        candidates
            .min_by_key(|(node, index, left)| (*left, cpu_left(node), &node.spec.name, *index))
    };
    chosen.map(|(node, index, _)| super::fraction_share(node, index, job, milli, vram))
}
