//! Whole GPUs: best fit over nodes. The chosen node is the one left with the fewest idle GPUs,
//! then the least CPU, then the least memory (ties by node name), so big holes stay open for
//! big jobs. GPUs are taken lowest index first.

use super::fits_host;
use crate::decision::{GpuShare, NodeShare};
use crate::model::Job;
use crate::state::NodeState;
use crate::units::{CpuMilli, MemMib, MilliGpu};

/// The scan that `indexed::best_host` answers from the free index: for node sets outside a
/// fleet (`place_among`), and the index's reference in the tests.
pub fn place<'a>(
    nodes: impl Iterator<Item = &'a NodeState>,
    job: &Job,
    count: u32,
) -> Option<Vec<NodeShare>> {
    nodes
        .filter(|node| fits_host(node, job) && node.idle_gpus() >= count)
        .min_by_key(|node| {
            (
                node.idle_gpus() - count,
                node.free_cpu - job.cpu,
                node.free_memory - job.memory,
                &node.spec.name,
            )
        })
        .map(|node| vec![share(node, count, job.cpu, job.memory)])
}

/// Spreads `count` GPUs over several nodes, fullest-first by idle GPUs so few nodes are used.
/// CPU and memory are split in proportion to the GPUs each node takes (rounded up).
pub fn spread<'a>(
    nodes: impl Iterator<Item = &'a NodeState>,
    job: &Job,
    count: u32,
) -> Option<Vec<NodeShare>> {
    let mut candidates: Vec<&NodeState> = nodes.filter(|n| n.idle_gpus() > 0).collect();
    candidates.sort_by(|a, b| {
        b.idle_gpus()
            .cmp(&a.idle_gpus())
            .then(a.spec.name.cmp(&b.spec.name))
    });
    let mut shares = Vec::new();
    let mut left = count;
    for node in candidates {
        if left == 0 {
            break;
        }
        // As many GPUs as the node's CPU and memory can feed; a node short of host room for
        // all its idle GPUs still gives the ones it can (shares depend only on `take`, so this
        // finds a spread whenever the nodes' host room adds up to `count` GPUs).
        let share_of = |take: u32| {
            (
                CpuMilli(proportion(job.cpu.0, take, count)),
                MemMib(proportion(job.memory.0, take, count)),
            )
        };
        let Some(take) = (1..=node.idle_gpus().min(left)).rev().find(|&take| {
            let (cpu, memory) = share_of(take);
            node.free_cpu >= cpu && node.free_memory >= memory
        }) else {
            continue;
        };
        let (cpu, memory) = share_of(take);
        shares.push(share(node, take, cpu, memory));
        left -= take;
    }
    (left == 0).then_some(shares)
}

fn proportion(total: u64, part: u32, whole: u32) -> u64 {
    (total * u64::from(part)).div_ceil(u64::from(whole.max(1)))
}

pub(super) fn share(node: &NodeState, count: u32, cpu: CpuMilli, memory: MemMib) -> NodeShare {
    let gpus = node
        .gpus
        .iter()
        .enumerate()
        .filter(|(_, gpu)| gpu.is_idle())
        .take(count as usize)
        .map(|(index, gpu)| GpuShare {
            index: index as u32,
            milli: MilliGpu::WHOLE,
            vram: gpu.free_vram,
        })
        .collect();
    NodeShare {
        node: node.spec.name.clone(),
        gpus,
        cpu,
        memory,
    }
}
