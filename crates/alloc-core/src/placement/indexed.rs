//! The fit-based placements as range queries over a flavor's [`FreeIndex`]. Each returns
//! exactly what a scan of the flavor's nodes in name order returns (the scans are kept as the
//! tests' reference): keys order candidates the way the scans' `min_by_key` does, and
//! candidates a key cannot rule out (memory, VRAM, MPS clients, GPU model) are checked one by
//! one in key order.

use super::fits_host;
use crate::model::Job;
use crate::state::{Fleet, FreeIndex, NodeState};
use crate::units::{CpuMilli, MemMib, MilliGpu, VramMib};

/// The node with the least (idle GPUs, free CPU, free memory, name) among those with at least
/// `min_idle` idle GPUs and the job's CPU and memory free that `accept` admits.
pub(super) fn best_host<'a>(
    fleet: &'a Fleet,
    index: &FreeIndex,
    job: &Job,
    min_idle: u32,
    accept: impl Fn(&NodeState) -> bool,
) -> Option<&'a NodeState> {
    let mut idle = min_idle;
    loop {
        let mut block = index
            .hosts
            .range((idle, job.cpu, MemMib::ZERO, 0, 0)..)
            .peekable();
        let first = block.peek()?;
        if first.0 != idle {
            // no node at this idle count has the CPU: go to the next count there is
            idle = first.0;
            continue;
        }
        for &(_, _, memory, _, slot) in block.take_while(|key| key.0 == idle) {
            if memory >= job.memory {
                if let Some(node) = fleet.slot(slot).filter(|node| accept(node)) {
                    return Some(node);
                }
            }
        }
        idle = idle.checked_add(1)?;
    }
}

/// A fraction's GPU under best fit: the least free milli-GPU left, then the least CPU left on
/// the node, then node name, then GPU index.
pub(super) fn best_gpu<'a>(
    fleet: &'a Fleet,
    index: &FreeIndex,
    job: &Job,
    milli: MilliGpu,
    vram: VramMib,
    accept: impl Fn(&NodeState) -> bool,
) -> Option<(&'a NodeState, usize)> {
    let mut free = milli;
    loop {
        let mut block = index.gpus.range((free, job.cpu, 0, 0)..).peekable();
        let first = block.peek()?;
        if first.0 != free {
            free = first.0;
            continue;
        }
        for &(_, _, _, slot) in block.take_while(|key| key.0 == free) {
            if let Some(node) = fleet.slot(slot).filter(|node| accept(node)) {
                if let Some(gpu) = first_gpu(node, free, job, vram) {
                    return Some((node, gpu));
                }
            }
        }
        free = MilliGpu(free.0.checked_add(1)?);
    }
}

/// A fraction's GPU under worst fit: the most free milli-GPU left, then the most CPU left on
/// the node, then node name, then GPU index.
pub(super) fn worst_gpu<'a>(
    fleet: &'a Fleet,
    index: &FreeIndex,
    job: &Job,
    milli: MilliGpu,
    vram: VramMib,
    accept: impl Fn(&NodeState) -> bool,
) -> Option<(&'a NodeState, usize)> {
    // Backwards, names within one (free, CPU) group come last first: the group's last
    // acceptable GPU seen is its first by name and index.
    let mut found: Option<((MilliGpu, CpuMilli), &'a NodeState, usize)> = None;
    for &(free, cpu, _, slot) in index.gpus.range((milli, CpuMilli::ZERO, 0, 0)..).rev() {
        if found.is_some_and(|(group, _, _)| group != (free, cpu)) {
            break;
        }
        if cpu < job.cpu {
            continue;
        }
        if let Some(node) = fleet.slot(slot).filter(|node| accept(node)) {
            if let Some(gpu) = first_gpu(node, free, job, vram) {
                found = Some(((free, cpu), node, gpu));
            }
        }
    }
    found.map(|(_, node, gpu)| (node, gpu))
}

/// The node's lowest-index GPU with exactly `free` milli-GPU free that can take the fraction
/// (VRAM, an MPS client more), if the node has the job's memory (its CPU is the key's).
fn first_gpu(node: &NodeState, free: MilliGpu, job: &Job, vram: VramMib) -> Option<usize> {
    if !fits_host(node, job) {
        return None;
    }
    node.gpus.iter().position(|gpu| {
        gpu.free == free && gpu.free_vram >= vram && gpu.clients < node.max_mps_clients
    })
}
