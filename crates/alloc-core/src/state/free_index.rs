//! Per-flavor indexes of free capacity, kept as nodes are booked and released, so that the
//! fit-based placements find their node by a range query instead of reading every node of the
//! flavor: at thousands of nodes that read dominated each placement.
//!
//! Keys carry a node's *name rank* — a number ordered like node names — so that ties go to the
//! first node by name exactly as the scanning placements break them, without comparing strings.

use super::fleet::NodeState;
use crate::units::{CpuMilli, MemMib, MilliGpu};
use std::collections::BTreeSet;

/// A node in the host index: idle GPUs, free CPU, free memory, name rank, slot.
pub type HostKey = (u32, CpuMilli, MemMib, u64, usize);
/// The GPUs of an MPS-capable node with one amount of free milli-GPU: that amount, the node's
/// free CPU, name rank, slot. One key per distinct amount, not per GPU, so that booking a
/// node rewrites a few keys (an idle node has one).
pub type GpuKey = (MilliGpu, CpuMilli, u64, usize);

/// One flavor's nodes by free host capacity, and its MPS-capable GPUs by free milli-GPU.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreeIndex {
    pub(crate) hosts: BTreeSet<HostKey>,
    pub(crate) gpus: BTreeSet<GpuKey>,
    /// Nodes with at least one GPU.
    pub(crate) gpu_nodes: usize,
}

impl FreeIndex {
    pub(crate) fn add(&mut self, slot: usize, rank: u64, node: &NodeState) {
        self.hosts.insert(host_key(slot, rank, node));
        for_gpu_keys(slot, rank, node, |key| {
            self.gpus.insert(key);
        });
        self.gpu_nodes += usize::from(node.spec.gpus > 0);
    }

    pub(crate) fn remove(&mut self, slot: usize, rank: u64, node: &NodeState) {
        self.hosts.remove(&host_key(slot, rank, node));
        for_gpu_keys(slot, rank, node, |key| {
            self.gpus.remove(&key);
        });
        self.gpu_nodes -= usize::from(node.spec.gpus > 0);
    }
}

fn host_key(slot: usize, rank: u64, node: &NodeState) -> HostKey {
    (
        node.idle_gpus(),
        node.free_cpu,
        node.free_memory,
        rank,
        slot,
    )
}

/// Calls `each` with the node's GPU keys, one per distinct free amount (a node has a handful
/// of GPUs, so finding the distinct ones by looking back costs less than allocating).
fn for_gpu_keys(slot: usize, rank: u64, node: &NodeState, mut each: impl FnMut(GpuKey)) {
    if node.max_mps_clients == 0 {
        return;
    }
    for (index, gpu) in node.gpus.iter().enumerate() {
        if node.gpus[..index]
            .iter()
            .all(|earlier| earlier.free != gpu.free)
        {
            each((gpu.free, node.free_cpu, rank, slot));
        }
    }
}
