//! The fit-based placements as range queries over a flavor's [`FreeIndex`]. Each returns
//! exactly what a scan of the flavor's nodes in name order returns (the scans are kept as the
//! tests' reference): keys order candidates the way the scans' `min_by_key` does, and
//! candidates a key cannot rule out (memory, VRAM, MPS clients, GPU model) are checked one by
//! one in key order.

use super::fits_host;
use crate::model::Job;
use crate::state::{Fleet, FreeIndex, NodeState};
use crate::units::{CpuMilli, MemMib, MilliGpu, VramMib};
use std::collections::BTreeSet;

/// The node with the least (idle GPUs, free CPU, free memory, name) among those with at least
/// `min_idle` idle GPUs and the job's CPU and memory free that `accept` admits.
pub(super) fn best_host<'a>(
    fleet: &'a Fleet,
    index: &FreeIndex,
    job: &Job,
    min_idle: u32,
    accept: impl Fn(&NodeState) -> bool,
) -> Option<&'a NodeState> {
    first_by_level(
        &index.hosts,
        min_idle,
        |&(idle, ..)| idle,
        |idle| (idle, job.cpu, MemMib::ZERO, 0, 0),
        |idle| idle.checked_add(1),
        |&(_, _, memory, _, slot)| {
            (memory >= job.memory)
                .then(|| fleet.slot(slot).filter(|node| accept(node)))
                .flatten()
        },
    )
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
    first_by_level(
        &index.gpus,
        milli,
        |&(free, ..)| free,
        |free| (free, job.cpu, 0, 0),
        |free| free.0.checked_add(1).map(MilliGpu),
        |&(free, _, _, slot)| {
            let node = fleet.slot(slot).filter(|node| accept(node))?;
            first_gpu(node, free, job, vram).map(|gpu| (node, gpu))
        },
    )
}

/// The first key `pick` takes, walking `keys` one level (the key's first field) at a time
/// upward from `lowest`, and within a level from `start(level)` — the job's CPU, so keys short
/// of it are skipped by the range rather than read. A level with no key from its start on is
/// jumped over to the next level there is.
fn first_by_level<K: Ord, L: Copy + PartialEq, R>(
    keys: &BTreeSet<K>,
    lowest: L,
    level_of: impl Fn(&K) -> L,
    start: impl Fn(L) -> K,
    above: impl Fn(L) -> Option<L>,
    mut pick: impl FnMut(&K) -> Option<R>,
) -> Option<R> {
    let mut level = lowest;
    loop {
        let mut block = keys.range(start(level)..).peekable();
        let first = level_of(block.peek()?);
        if first != level {
            level = first;
            continue;
        }
        if let Some(found) = block
            .take_while(|key| level_of(key) == level)
            .find_map(&mut pick)
        {
            return Some(found);
        }
        level = above(level)?;
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
