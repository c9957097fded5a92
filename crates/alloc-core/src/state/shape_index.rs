//! Per-flavor groups of nodes whose free state is identical, kept as nodes are booked and
//! released, so that the fragmentation-aware placements score each distinct state once
//! instead of every node.
//!
//! FGD must score every node that could take a job, and a fleet grows by copies of a few node
//! types running jobs of a few shapes, so at thousands of nodes most of them repeat another's
//! state: the sweep's 1,200-node fleet offers each placement ≈300 feasible nodes in ≈60 states.
//! Everything a node's score and feasibility read is in its [`Shape`], so a group's members
//! score alike and its first member by name is the one a scan in name order would choose.

use super::fleet::{GpuState, NodeState};
use crate::ids::GpuModelName;
use crate::units::{CpuMilli, MemMib, VramMib};
use std::collections::{BTreeMap, BTreeSet};

/// What placement reads of a node, apart from its name: free host capacity, each GPU's free
/// state in index order, and its model, VRAM and MPS client limit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Shape {
    free_cpu: CpuMilli,
    free_memory: MemMib,
    gpus: Box<[GpuState]>,
    vram_per_gpu: VramMib,
    max_mps_clients: u32,
    model: Option<GpuModelName>,
}

impl Shape {
    fn of(node: &NodeState) -> Shape {
        Shape {
            free_cpu: node.free_cpu,
            free_memory: node.free_memory,
            gpus: node.gpus.as_slice().into(),
            vram_per_gpu: node.vram_per_gpu,
            max_mps_clients: node.max_mps_clients,
            model: node.spec.gpu_model.clone(),
        }
    }

    /// Whether `node` is in this shape, without building its shape (booking and releasing
    /// look a node's group up twice per event).
    fn holds(&self, node: &NodeState) -> bool {
        self.free_cpu == node.free_cpu
            && self.free_memory == node.free_memory
            && *self.gpus == *node.gpus
            && self.vram_per_gpu == node.vram_per_gpu
            && self.max_mps_clients == node.max_mps_clients
            && self.model == node.spec.gpu_model
    }
}

/// FNV-1a over a node's shape: the bucket its group lives in.
fn hash(node: &NodeState) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut mix = |word: u64| hash = (hash ^ word).wrapping_mul(0x0100_0000_01b3);
    mix(node.free_cpu.0);
    mix(node.free_memory.0);
    for gpu in &node.gpus {
        mix(gpu.free.0);
        mix(gpu.free_vram.0);
        mix(u64::from(gpu.clients));
    }
    mix(node.vram_per_gpu.0);
    mix(u64::from(node.max_mps_clients));
    for byte in node
        .spec
        .gpu_model
        .as_ref()
        .map_or("", |m| m.as_str())
        .bytes()
    {
        mix(u64::from(byte));
    }
    hash
}

/// Nodes in one shape, as (name rank, slot).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    shape: Shape,
    members: BTreeSet<(u64, usize)>,
}

/// One flavor's nodes grouped by [`Shape`]: groups bucketed by the shape's hash, a bucket's
/// groups (more than one only on a collision) ordered by shape so that equal indexes compare
/// equal however they were built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShapeIndex {
    buckets: BTreeMap<u64, Vec<Group>>,
    groups: usize,
}

impl ShapeIndex {
    pub(crate) fn add(&mut self, slot: usize, rank: u64, node: &NodeState) {
        let bucket = self.buckets.entry(hash(node)).or_default();
        let at = match bucket.iter().position(|group| group.shape.holds(node)) {
            Some(at) => at,
            None => {
                let shape = Shape::of(node);
                let at = bucket.partition_point(|group| group.shape < shape);
                let members = BTreeSet::new();
                bucket.insert(at, Group { shape, members });
                self.groups += 1;
                at
            }
        };
        bucket[at].members.insert((rank, slot));
    }

    pub(crate) fn remove(&mut self, slot: usize, rank: u64, node: &NodeState) {
        let key = hash(node);
        let Some(bucket) = self.buckets.get_mut(&key) else {
            return;
        };
        let Some(at) = bucket.iter().position(|group| group.shape.holds(node)) else {
            return;
        };
        bucket[at].members.remove(&(rank, slot));
        if bucket[at].members.is_empty() {
            bucket.remove(at);
            self.groups -= 1;
            if bucket.is_empty() {
                self.buckets.remove(&key);
            }
        }
    }

    /// The first member of each group by name, as (name rank, slot); groups in no useful
    /// order, so callers break ties by rank.
    pub(crate) fn firsts(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.buckets
            .values()
            .flatten()
            .filter_map(|group| group.members.first().copied())
    }

    /// Distinct free states among the flavor's nodes.
    pub fn len(&self) -> usize {
        self.groups
    }

    pub fn is_empty(&self) -> bool {
        self.groups == 0
    }
}
