use crate::decision::Placement;
use crate::ids::{FlavorName, NodeName};
use crate::model::{Flavor, GpuModel, NodeSpec};
use crate::units::{CpuMilli, MemMib, MilliGpu, VramMib};
use std::collections::{BTreeMap, BTreeSet};

/// Free capacity of one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuState {
    pub free: MilliGpu,
    pub free_vram: VramMib,
    /// MPS clients sharing it now.
    pub clients: u32,
}

impl GpuState {
    fn new(vram: VramMib) -> GpuState {
        GpuState {
            free: MilliGpu::WHOLE,
            free_vram: vram,
            clients: 0,
        }
    }

    /// Nobody uses any of it.
    pub fn is_idle(&self) -> bool {
        self.free == MilliGpu::WHOLE && self.clients == 0
    }
}

/// A node with its free capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    pub spec: NodeSpec,
    /// The model's VRAM and MPS limit, copied in so placement needs no lookups.
    pub vram_per_gpu: VramMib,
    pub max_mps_clients: u32,
    pub free_cpu: CpuMilli,
    pub free_memory: MemMib,
    pub gpus: Vec<GpuState>,
}

impl NodeState {
    pub fn new(spec: NodeSpec, model: Option<&GpuModel>) -> NodeState {
        let vram = model.map_or(VramMib::ZERO, |m| m.vram);
        NodeState {
            vram_per_gpu: vram,
            max_mps_clients: model.map_or(0, |m| m.max_mps_clients),
            free_cpu: spec.cpu,
            free_memory: spec.memory,
            gpus: vec![GpuState::new(vram); spec.gpus as usize],
            spec,
        }
    }

    pub fn idle_gpus(&self) -> u32 {
        self.gpus.iter().filter(|g| g.is_idle()).count() as u32
    }
}

/// Every node with its free capacity, and which flavors select it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fleet {
    pub nodes: BTreeMap<NodeName, NodeState>,
    pub by_flavor: BTreeMap<FlavorName, BTreeSet<NodeName>>,
    /// Every node's capacity added up: milli-GPU, CPU millicores, memory MiB.
    capacity: [u64; 3],
}

impl Fleet {
    pub(crate) fn add(&mut self, node: NodeState, flavors: &BTreeMap<FlavorName, Flavor>) {
        for flavor in flavors.values().filter(|f| f.selects(&node.spec)) {
            self.by_flavor
                .entry(flavor.name.clone())
                .or_default()
                .insert(node.spec.name.clone());
        }
        for (total, amount) in self.capacity.iter_mut().zip(capacity_of(&node.spec)) {
            *total += amount;
        }
        self.nodes.insert(node.spec.name.clone(), node);
    }

    pub(crate) fn remove(&mut self, name: &NodeName) -> Option<NodeState> {
        for members in self.by_flavor.values_mut() {
            members.remove(name);
        }
        // A flavor left without nodes is dropped so incremental state equals a rebuild.
        self.by_flavor.retain(|_, members| !members.is_empty());
        let node = self.nodes.remove(name)?;
        for (total, amount) in self.capacity.iter_mut().zip(capacity_of(&node.spec)) {
            *total -= amount;
        }
        Some(node)
    }

    /// Every node's capacity added up: milli-GPU, CPU millicores, memory MiB.
    pub fn capacity(&self) -> [u64; 3] {
        self.capacity
    }

    pub fn nodes_of<'a>(&'a self, flavor: &FlavorName) -> impl Iterator<Item = &'a NodeState> + 'a {
        self.by_flavor
            .get(flavor)
            .into_iter()
            .flatten()
            .filter_map(|name| self.nodes.get(name))
    }

    pub(crate) fn book(&mut self, placement: &Placement) {
        for share in &placement.nodes {
            let Some(node) = self.nodes.get_mut(&share.node) else {
                continue;
            };
            node.free_cpu -= share.cpu;
            node.free_memory -= share.memory;
            for gpu in &share.gpus {
                if let Some(state) = node.gpus.get_mut(gpu.index as usize) {
                    state.free -= gpu.milli;
                    state.free_vram -= gpu.vram;
                    if gpu.milli < MilliGpu::WHOLE {
                        state.clients += 1;
                    }
                }
            }
        }
    }

    pub(crate) fn release(&mut self, placement: &Placement) {
        for share in &placement.nodes {
            let Some(node) = self.nodes.get_mut(&share.node) else {
                continue;
            };
            node.free_cpu += share.cpu;
            node.free_memory += share.memory;
            for gpu in &share.gpus {
                if let Some(state) = node.gpus.get_mut(gpu.index as usize) {
                    state.free += gpu.milli;
                    state.free_vram += gpu.vram;
                    if gpu.milli < MilliGpu::WHOLE {
                        state.clients = state.clients.saturating_sub(1);
                    }
                }
            }
        }
    }
}

fn capacity_of(spec: &NodeSpec) -> [u64; 3] {
    [u64::from(spec.gpus) * 1000, spec.cpu.0, spec.memory.0]
}
