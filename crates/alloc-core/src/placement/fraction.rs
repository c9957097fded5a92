//! MPS fractions: best fit over single GPUs. The chosen GPU is the one left with the least free
//! milli-GPU, then the node left with the least CPU (ties by node name, then GPU index), so
//! partly used GPUs fill before idle ones are broken into.

use super::fits_host;
use crate::decision::{GpuShare, NodeShare};
use crate::model::Job;
use crate::state::NodeState;
use crate::units::{MilliGpu, VramMib};

pub fn place<'a>(
    nodes: impl Iterator<Item = &'a NodeState>,
    job: &Job,
    milli: MilliGpu,
    vram: VramMib,
) -> Option<Vec<NodeShare>> {
    nodes
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
        })
        .min_by_key(|(node, index, left)| (*left, node.free_cpu - job.cpu, &node.spec.name, *index))
        .map(|(node, index, _)| {
            vec![NodeShare {
                node: node.spec.name.clone(),
                gpus: vec![GpuShare {
                    index: index as u32,
                    milli,
                    vram,
                }],
                cpu: job.cpu,
                memory: job.memory,
            }]
        })
}
