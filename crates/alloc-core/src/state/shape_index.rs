//! Per-flavor groups of nodes whose free state is identical, kept as nodes are booked and
//! released, so that the fragmentation-aware placements score each distinct state once
//! instead of every node.
//!
//! FGD must score every node that could take a job, and a fleet grows by copies of a few node
//! types running jobs of a few shapes, so at thousands of nodes most of them repeat another's
//! state: the sweep's 4,000-node fleet offers each placement ≈36 distinct feasible states.
//! Everything a node's score and feasibility read is in its [`Shape`], so a group's members
//! score alike and its first member by name is the one a scan in name order would choose.
//!
//! A shape holds the node's GPUs as a multiset (sorted): which GPU is in which state changes
//! no score, only which GPU index a placement names, and that is read off the chosen node
//! itself. Two nodes whose GPUs are in the same states in another order share a group, which
//! at the sweep's scale makes a third as many groups as keeping GPU order did.

use super::fleet::{GpuState, NodeState};
use crate::ids::GpuModelName;
use crate::units::{CpuMilli, MemMib, VramMib};
use std::collections::{BTreeMap, BTreeSet};

/// What placement reads of a node, apart from its name and the order of its GPUs: free host
/// capacity, its GPUs' free states (sorted), and its model, VRAM and MPS client limit.
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
            gpus: {
                let mut gpus: Box<[GpuState]> = node.gpus.as_slice().into();
                gpus.sort_unstable();
                gpus
            },
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
            && same_multiset(&self.gpus, &node.gpus)
            && self.vram_per_gpu == node.vram_per_gpu
            && self.max_mps_clients == node.max_mps_clients
            && self.model == node.spec.gpu_model
    }
}

/// Whether `gpus`, in any order, are the states of `sorted` (without sorting or allocating:
/// a node has a handful of GPUs).
fn same_multiset(sorted: &[GpuState], gpus: &[GpuState]) -> bool {
    sorted.len() == gpus.len()
        && sorted.iter().enumerate().all(|(index, state)| {
            // count each distinct state once, at its first place in the sorted list
            (index > 0 && sorted[index - 1] == *state) || {
                let want = sorted[index..].iter().take_while(|s| *s == state).count();
                gpus.iter().filter(|gpu| *gpu == state).count() == want
            }
        })
}

/// FNV-1a over a node's shape: the bucket its group lives in. The GPUs enter as a sum of
/// their own hashes, so that their order does not change it.
fn hash(node: &NodeState) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut mix = |word: u64| hash = (hash ^ word).wrapping_mul(0x0100_0000_01b3);
    mix(node.free_cpu.0);
    mix(node.free_memory.0);
    let gpus = node.gpus.iter().fold(0u64, |sum, gpu| {
        let word =
            gpu.free.0 ^ gpu.free_vram.0.rotate_left(20) ^ u64::from(gpu.clients).rotate_left(44);
        // a multiply-xorshift scramble, so that sums of different states rarely meet
        let scrambled = (word ^ (word >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        sum.wrapping_add(scrambled ^ (scrambled >> 32))
    });
    mix(gpus);
    mix(node.gpus.len() as u64);
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

/// Nodes in one shape, as (name rank, slot), and the first of them by name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    shape: Shape,
    hash: u64,
    members: BTreeSet<(u64, usize)>,
    /// `members`' first, kept apart: placement reads it for every group on every
    /// fragmentation-aware decision, and finding it in the set walks down the tree.
    first: (u64, usize),
}

/// One flavor's nodes grouped by their shape (what placement reads of a node, apart from its
/// name). Groups sit in a flat list, which placement walks once per fragmentation-aware
/// decision; a map from the shape's hash finds a node's group when it is booked or released
/// (more than one group per hash only on a collision).
#[derive(Debug, Clone, Default)]
pub struct ShapeIndex {
    groups: Vec<Group>,
    by_hash: BTreeMap<u64, Vec<usize>>,
}

impl ShapeIndex {
    pub(crate) fn add(&mut self, slot: usize, rank: u64, node: &NodeState) {
        let hash = hash(node);
        let found = self.by_hash.get(&hash).and_then(|at| {
            at.iter()
                .copied()
                .find(|&at| self.groups[at].shape.holds(node))
        });
        match found {
            Some(at) => {
                let group = &mut self.groups[at];
                group.members.insert((rank, slot));
                group.first = group.first.min((rank, slot));
            }
            None => {
                self.by_hash
                    .entry(hash)
                    .or_default()
                    .push(self.groups.len());
                self.groups.push(Group {
                    shape: Shape::of(node),
                    hash,
                    members: BTreeSet::from([(rank, slot)]),
                    first: (rank, slot),
                });
            }
        }
    }

    pub(crate) fn remove(&mut self, slot: usize, rank: u64, node: &NodeState) {
        let hash = hash(node);
        let member = (rank, slot);
        // A node is a member of exactly one group, so membership finds it: cheaper than
        // comparing the node with each shape in its bucket.
        let Some(at) = self.by_hash.get(&hash).and_then(|at| {
            at.iter()
                .copied()
                .find(|&at| self.groups[at].members.contains(&member))
        }) else {
            return;
        };
        let group = &mut self.groups[at];
        group.members.remove(&member);
        match group.members.first() {
            Some(&first) => group.first = first,
            None => self.drop_group(at),
        }
    }

    /// Removes the empty group at `at`; the last group takes its place in the list.
    fn drop_group(&mut self, at: usize) {
        let hash = self.groups[at].hash;
        if let Some(list) = self.by_hash.get_mut(&hash) {
            list.retain(|&other| other != at);
            if list.is_empty() {
                self.by_hash.remove(&hash);
            }
        }
        let last = self.groups.len() - 1;
        self.groups.swap_remove(at);
        if at != last {
            let moved = self.groups[at].hash;
            if let Some(list) = self.by_hash.get_mut(&moved) {
                for entry in list.iter_mut().filter(|entry| **entry == last) {
                    *entry = at;
                }
            }
        }
    }

    /// The first member of each group by name, as (name rank, slot); groups in no useful
    /// order, so callers break ties by rank.
    pub(crate) fn firsts(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.groups.iter().map(|group| group.first)
    }

    /// Distinct free states among the flavor's nodes.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether the flavor has no node.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The groups by shape, whatever order bookings left them in (for comparisons).
    fn sorted(&self) -> Vec<&Group> {
        let mut groups: Vec<&Group> = self.groups.iter().collect();
        groups.sort_by(|a, b| a.shape.cmp(&b.shape));
        groups
    }
}

/// Equal when they group the same nodes alike, in whatever order their lists hold the groups;
/// also checks that each hash finds its groups.
impl PartialEq for ShapeIndex {
    fn eq(&self, other: &ShapeIndex) -> bool {
        let hashed = |index: &ShapeIndex| {
            index.groups.iter().enumerate().all(|(at, group)| {
                index
                    .by_hash
                    .get(&group.hash)
                    .is_some_and(|list| list.contains(&at))
            }) && index.by_hash.values().map(Vec::len).sum::<usize>() == index.groups.len()
        };
        self.sorted() == other.sorted() && hashed(self) && hashed(other)
    }
}

impl Eq for ShapeIndex {}
