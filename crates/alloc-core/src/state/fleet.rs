use super::free_index::FreeIndex;
use super::shape_index::ShapeIndex;
use crate::decision::{NodeShare, Placement};
use crate::ids::{FlavorName, NodeName};
use crate::model::{Flavor, GpuModel, NodeSpec};
use crate::units::{CpuMilli, MemMib, MilliGpu, VramMib};
use std::collections::BTreeMap;
use std::sync::Arc;
// Hashed only for lookups by name; nothing iterates it, so its order reaches no decision.
#[allow(clippy::disallowed_types)]
use rustc_hash::FxHashMap;

/// Free capacity of one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GpuState {
    /// Compute not taken: [`MilliGpu::WHOLE`] when idle.
    pub free: MilliGpu,
    /// VRAM not taken.
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
    /// Shared: the spec never changes while the node is known, and node states are copied
    /// (the preemption search's trial states) far more often than nodes are added.
    pub spec: Arc<NodeSpec>,
    /// The model's VRAM and MPS limit, copied in so placement needs no lookups.
    pub vram_per_gpu: VramMib,
    /// MPS clients one of its GPUs accepts; 0: no sharing.
    pub max_mps_clients: u32,
    /// CPU not booked.
    pub free_cpu: CpuMilli,
    /// Host memory not booked.
    pub free_memory: MemMib,
    /// Each GPU's free capacity, by index.
    pub gpus: Vec<GpuState>,
}

impl NodeState {
    /// A node with nothing booked; `model` is its GPU model's configuration (`None` without
    /// GPUs).
    pub fn new(spec: impl Into<Arc<NodeSpec>>, model: Option<&GpuModel>) -> NodeState {
        let spec = spec.into();
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

    /// GPUs nobody uses: what a whole-GPU job can take.
    pub fn idle_gpus(&self) -> u32 {
        self.gpus.iter().filter(|g| g.is_idle()).count() as u32
    }

    /// Takes what `share` (a placement's part on this node) holds.
    pub(crate) fn book(&mut self, share: &NodeShare) {
        self.free_cpu -= share.cpu;
        self.free_memory -= share.memory;
        for gpu in &share.gpus {
            if let Some(state) = self.gpus.get_mut(gpu.index as usize) {
                state.free -= gpu.milli;
                state.free_vram -= gpu.vram;
                if gpu.milli < MilliGpu::WHOLE {
                    state.clients += 1;
                }
            }
        }
    }

    /// Why `share` does not fit what is free here; `None` when it does.
    pub fn lacks_room_for(&self, share: &NodeShare) -> Option<String> {
        if share.cpu > self.free_cpu {
            return Some(format!(
                "{} milli-CPU asked, {} free",
                share.cpu.0, self.free_cpu.0
            ));
        }
        if share.memory > self.free_memory {
            return Some(format!(
                "{} MiB of memory asked, {} free",
                share.memory.0, self.free_memory.0
            ));
        }
        for gpu in &share.gpus {
            let Some(state) = self.gpus.get(gpu.index as usize) else {
                return Some(format!("it has no GPU {}", gpu.index));
            };
            let fraction = gpu.milli < MilliGpu::WHOLE;
            if gpu.milli > state.free
                || gpu.vram > state.free_vram
                || (fraction && state.clients >= self.max_mps_clients)
            {
                return Some(format!(
                    "GPU {} has {} milli-GPU, {} MiB and {} MPS client slots free",
                    gpu.index,
                    state.free.0,
                    state.free_vram.0,
                    self.max_mps_clients.saturating_sub(state.clients)
                ));
            }
        }
        None
    }

    /// Gives back what `share` holds.
    pub(crate) fn release(&mut self, share: &NodeShare) {
        self.free_cpu += share.cpu;
        self.free_memory += share.memory;
        for gpu in &share.gpus {
            if let Some(state) = self.gpus.get_mut(gpu.index as usize) {
                state.free += gpu.milli;
                state.free_vram += gpu.vram;
                if gpu.milli < MilliGpu::WHOLE {
                    state.clients = state.clients.saturating_sub(1);
                }
            }
        }
    }
}

/// Every node with its free capacity, and which flavors select it.
///
/// Nodes live in slots so that a flavor's members are read without a name lookup each, and
/// each flavor keeps a [`FreeIndex`] of its free capacity for the fit-based placements and,
/// once [`Fleet::track_shapes`] asks for it, a [`ShapeIndex`] of its distinct free states for
/// the fragmentation-aware ones (the other policies need not pay for keeping it). Slots
/// of removed nodes are reused, so two fleets are equal when they hold the same nodes under
/// the same names and flavors, whatever their slots.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    slots: Vec<Option<Slot>>,
    free_slots: Vec<usize>,
    /// Slots in name order, for ordered walks and ranks.
    by_name: BTreeMap<NodeName, usize>,
    /// The same, for lookups: booking and releasing find nodes by name on every event. Never
    /// iterated, so its order reaches no decision. Fx, not SipHash: names are the operator's
    /// own, and hashing them was ≈3% of a million-job replay.
    #[allow(clippy::disallowed_types)]
    lookup: FxHashMap<NodeName, usize>,
    by_flavor: BTreeMap<FlavorName, Members>,
    /// Every node's capacity added up: milli-GPU, CPU millicores, memory MiB.
    capacity: [u64; 3],
    /// How many nodes have each number of GPUs: the largest one node holds.
    sizes: BTreeMap<u32, usize>,
    /// Whether each flavor keeps its [`ShapeIndex`].
    shapes: bool,
}

#[derive(Debug, Clone)]
struct Slot {
    node: NodeState,
    /// Ordered like node names (see `free_index`).
    rank: u64,
    flavors: Vec<FlavorName>,
}

#[derive(Debug, Clone, Default)]
struct Members {
    /// Slots in node-name order.
    slots: Vec<usize>,
    free: FreeIndex,
    shapes: ShapeIndex,
}

impl Members {
    fn add(&mut self, slot: usize, rank: u64, node: &NodeState, shapes: bool) {
        self.free.add(slot, rank, node);
        if shapes {
            self.shapes.add(slot, rank, node);
        }
    }

    fn remove(&mut self, slot: usize, rank: u64, node: &NodeState, shapes: bool) {
        self.free.remove(slot, rank, node);
        if shapes {
            self.shapes.remove(slot, rank, node);
        }
    }
}

/// Spacing of name ranks, so that most insertions between two names find a free rank.
const RANK_GAP: u64 = 1 << 32;

impl PartialEq for Fleet {
    fn eq(&self, other: &Fleet) -> bool {
        let members = |fleet: &Fleet| -> BTreeMap<FlavorName, Vec<NodeName>> {
            fleet
                .flavors()
                .map(|flavor| {
                    let names = fleet.nodes_of(flavor).map(|n| n.spec.name.clone());
                    (flavor.clone(), names.collect())
                })
                .collect()
        };
        self.capacity == other.capacity
            && self.nodes().eq(other.nodes())
            && members(self) == members(other)
    }
}

impl Eq for Fleet {}

impl Fleet {
    /// Adds a node under every configured flavor that selects it.
    pub(crate) fn add(&mut self, node: NodeState, flavors: &BTreeMap<FlavorName, Flavor>) {
        let selecting: Vec<FlavorName> = flavors
            .values()
            .filter(|f| f.selects(&node.spec))
            .map(|f| f.name.clone())
            .collect();
        self.insert(node, selecting);
    }

    /// Adds (or replaces) a node as a member of `flavors`, whether or not their selectors
    /// match: for fleets built by hand (trials, fixtures).
    pub fn insert(&mut self, node: NodeState, flavors: impl IntoIterator<Item = FlavorName>) {
        self.remove(&node.spec.name);
        for (total, amount) in self.capacity.iter_mut().zip(capacity_of(&node.spec)) {
            *total += amount;
        }
        *self.sizes.entry(node.spec.gpus).or_default() += 1;
        let name = node.spec.name.clone();
        let rank = self.free_rank(&name);
        let mut flavors: Vec<FlavorName> = flavors.into_iter().collect();
        flavors.sort();
        flavors.dedup();
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        for flavor in &flavors {
            let members = self.by_flavor.entry(flavor.clone()).or_default();
            let slots = &self.slots;
            let at = members.slots.partition_point(|&other| {
                slots[other]
                    .as_ref()
                    .is_some_and(|other| other.node.spec.name < name)
            });
            members.slots.insert(at, slot);
            members.add(slot, rank, &node, self.shapes);
        }
        self.slots[slot] = Some(Slot {
            node,
            rank,
            flavors,
        });
        self.lookup.insert(name.clone(), slot);
        self.by_name.insert(name, slot);
    }

    pub(crate) fn remove(&mut self, name: &NodeName) -> Option<NodeState> {
        let slot = self.by_name.remove(name)?;
        self.lookup.remove(name);
        let taken = self.slots[slot].take()?;
        for flavor in &taken.flavors {
            if let Some(members) = self.by_flavor.get_mut(flavor) {
                members.slots.retain(|&member| member != slot);
                members.remove(slot, taken.rank, &taken.node, self.shapes);
                // A flavor left without nodes is dropped so incremental state equals a rebuild.
                if members.slots.is_empty() {
                    self.by_flavor.remove(flavor);
                }
            }
        }
        self.free_slots.push(slot);
        for (total, amount) in self.capacity.iter_mut().zip(capacity_of(&taken.node.spec)) {
            *total -= amount;
        }
        let gpus = taken.node.spec.gpus;
        if let Some(count) = self.sizes.get_mut(&gpus) {
            *count -= 1;
            if *count == 0 {
                self.sizes.remove(&gpus);
            }
        }
        Some(taken.node)
    }

    /// A rank between the names around `name`; every rank is renumbered when none is left.
    fn free_rank(&mut self, name: &NodeName) -> u64 {
        let rank_of = |slot: &usize| self.slots[*slot].as_ref().map(|s| s.rank);
        let below = self
            .by_name
            .range(..name)
            .next_back()
            .and_then(|(_, s)| rank_of(s));
        let above = self
            .by_name
            .range(name..)
            .find(|(other, _)| *other != name)
            .and_then(|(_, s)| rank_of(s));
        let between = match (below, above) {
            (None, None) => Some(u64::MAX / 2),
            (Some(low), None) => low.checked_add(RANK_GAP),
            (None, Some(high)) => high.checked_sub(RANK_GAP),
            (Some(low), Some(high)) => (high - low > 1).then(|| low + (high - low) / 2),
        };
        match between {
            Some(rank) => rank,
            None => {
                self.renumber();
                self.free_rank(name)
            }
        }
    }

    /// Keeps each flavor's [`ShapeIndex`] from now on (built here for the nodes already in),
    /// for placement under the fragmentation-aware policies.
    pub fn track_shapes(&mut self) {
        if !self.shapes {
            self.shapes = true;
            self.renumber();
        }
    }

    /// Spaces every rank evenly again and rebuilds the indexes (rare: only when insertions
    /// used up the gap between two names).
    fn renumber(&mut self) {
        for (position, &slot) in self.by_name.values().enumerate() {
            if let Some(entry) = self.slots[slot].as_mut() {
                entry.rank = RANK_GAP * (position as u64 + 1);
            }
        }
        for members in self.by_flavor.values_mut() {
            let slots = std::mem::take(&mut members.slots);
            *members = Members::default();
            for &slot in &slots {
                if let Some(entry) = self.slots[slot].as_ref() {
                    members.add(slot, entry.rank, &entry.node, self.shapes);
                }
            }
            members.slots = slots;
        }
    }

    /// Changes one node, keeping its flavors' indexes in step.
    fn reindex(&mut self, slot: usize, change: impl FnOnce(&mut NodeState)) {
        let Some(entry) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        for flavor in &entry.flavors {
            if let Some(members) = self.by_flavor.get_mut(flavor) {
                members.remove(slot, entry.rank, &entry.node, self.shapes);
            }
        }
        change(&mut entry.node);
        for flavor in &entry.flavors {
            if let Some(members) = self.by_flavor.get_mut(flavor) {
                members.add(slot, entry.rank, &entry.node, self.shapes);
            }
        }
    }

    /// Every node's capacity added up: milli-GPU, CPU millicores, memory MiB.
    pub fn capacity(&self) -> [u64; 3] {
        self.capacity
    }

    /// The most GPUs one node holds (0 without nodes).
    pub fn largest_node_gpus(&self) -> u32 {
        self.sizes.keys().next_back().copied().unwrap_or(0)
    }

    /// The node `name` and what is free on it.
    pub fn node(&self, name: &NodeName) -> Option<&NodeState> {
        self.slot(*self.lookup.get(name)?)
    }

    /// For fixtures that set up free capacity by hand; the scheduler changes nodes only by
    /// booking and releasing placements.
    pub fn update_node(&mut self, name: &NodeName, change: impl FnOnce(&mut NodeState)) {
        if let Some(&slot) = self.lookup.get(name) {
            self.reindex(slot, change);
        }
    }

    /// Whether the fleet has a node `name`.
    pub fn contains(&self, name: &NodeName) -> bool {
        self.lookup.contains_key(name)
    }

    /// How many nodes the fleet has.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether the fleet has no node.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Every node, by name.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeState> + '_ {
        self.by_name.values().filter_map(|&slot| self.slot(slot))
    }

    /// The flavors with at least one node, by name.
    pub fn flavors(&self) -> impl Iterator<Item = &FlavorName> + '_ {
        self.by_flavor.keys()
    }

    /// The nodes a flavor selects, by name.
    pub fn nodes_of<'a>(
        &'a self,
        flavor: &FlavorName,
    ) -> impl Iterator<Item = &'a NodeState> + Clone + 'a {
        self.by_flavor
            .get(flavor)
            .into_iter()
            .flat_map(|members| &members.slots)
            .filter_map(|&slot| self.slot(slot))
    }

    /// How many nodes a flavor selects.
    pub fn count_of(&self, flavor: &FlavorName) -> usize {
        self.by_flavor.get(flavor).map_or(0, |m| m.slots.len())
    }

    /// The flavor's free-capacity index; `None` for a flavor without nodes.
    pub fn free_index(&self, flavor: &FlavorName) -> Option<&FreeIndex> {
        self.by_flavor.get(flavor).map(|m| &m.free)
    }

    /// One node of each distinct free state of the flavor (see [`ShapeIndex`]) with its name
    /// rank: the first by name among those in that state. In no useful order. `None` unless
    /// the fleet [tracks shapes](Fleet::track_shapes).
    pub(crate) fn shape_firsts<'a>(
        &'a self,
        flavor: &FlavorName,
    ) -> Option<impl Iterator<Item = (u64, &'a NodeState)> + 'a> {
        let firsts = self
            .by_flavor
            .get(flavor)
            .into_iter()
            .flat_map(|members| members.shapes.firsts())
            .filter_map(|(rank, slot)| Some((rank, self.slot(slot)?)));
        self.shapes.then_some(firsts)
    }

    /// How many distinct free states the flavor's nodes are in.
    pub fn shapes_of(&self, flavor: &FlavorName) -> usize {
        self.by_flavor.get(flavor).map_or(0, |m| m.shapes.len())
    }

    /// The flavors that select the node, by name (none for an unknown node).
    pub fn flavors_of(&self, node: &NodeName) -> &[FlavorName] {
        self.lookup
            .get(node)
            .and_then(|&slot| self.slots[slot].as_ref())
            .map_or(&[], |entry| &entry.flavors)
    }

    /// The flavor selects the node.
    pub fn is_member(&self, flavor: &FlavorName, node: &NodeName) -> bool {
        let Some(&slot) = self.lookup.get(node) else {
            return false;
        };
        self.slots[slot]
            .as_ref()
            .is_some_and(|entry| entry.flavors.contains(flavor))
    }

    /// Every flavor's free and shape indexes equal ones built afresh from its nodes: the check
    /// that the increments of booking and releasing added up.
    pub fn free_indexes_match_nodes(&self) -> bool {
        self.by_flavor.values().all(|members| {
            let mut rebuilt = Members::default();
            for &slot in &members.slots {
                if let Some(entry) = self.slots[slot].as_ref() {
                    rebuilt.add(slot, entry.rank, &entry.node, self.shapes);
                }
            }
            rebuilt.free == members.free && rebuilt.shapes == members.shapes
        })
    }

    /// The node in `slot` (slots come from a [`FreeIndex`] key).
    pub fn slot(&self, slot: usize) -> Option<&NodeState> {
        Some(&self.slots.get(slot)?.as_ref()?.node)
    }

    pub(crate) fn book(&mut self, placement: &Placement) {
        for share in &placement.nodes {
            if let Some(&slot) = self.lookup.get(&share.node) {
                self.reindex(slot, |node| node.book(share));
            }
        }
    }

    pub(crate) fn release(&mut self, placement: &Placement) {
        for share in &placement.nodes {
            if let Some(&slot) = self.lookup.get(&share.node) {
                self.reindex(slot, |node| node.release(share));
            }
        }
    }
}

fn capacity_of(spec: &NodeSpec) -> [u64; 3] {
    [u64::from(spec.gpus) * 1000, spec.cpu.0, spec.memory.0]
}
