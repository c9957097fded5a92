//! The packer: nodes with their free capacity plus the derived data that keeps one placement
//! at O(nodes): a per-node summary for the feasibility filter, per-node fragmentation, and for
//! the fragmentation policies a cache of each node's best score per pod shape, valid until the
//! node next changes (only the node a pod lands on changes, so most entries survive).

use super::frag::{
    self, scaled_fragmentation, Class, ClassStat, Fraction, ModelBits, NodeView, Trial,
    UNLIMITED_CLIENTS,
};
use super::mix::TargetMix;
use super::policy::{self, PackPolicy};
use super::shape::{Choice, GpuSet, PodShape, ShapeError};
use crate::ids::NodeName;
use crate::state::NodeState;
use crate::units::MilliGpu;
use std::collections::BTreeMap;

mod fit;

const WHOLE: u64 = MilliGpu::WHOLE.0;

/// Why a packer cannot be built or a placement applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// The node list has more GPU models than a model mask holds.
    #[error("more than 63 GPU models in the node list")]
    TooManyModels,
    /// A node has more GPUs than a [`GpuSet`] holds.
    #[error("node {node} has {gpus} GPUs; the packer handles at most 64 per node")]
    TooManyGpus {
        /// The node.
        node: NodeName,
        /// Its GPUs.
        gpus: usize,
    },
    /// Not one priority per node.
    #[error("{priorities} node priorities given for {nodes} nodes")]
    Priorities {
        /// Nodes given.
        nodes: usize,
        /// Priorities given.
        priorities: usize,
    },
    /// A pod shape the packer cannot place.
    #[error("pod shape: {0}")]
    Shape(#[from] ShapeError),
    /// A choice that does not fit the node as it is now.
    #[error("the chosen node {node} or its GPUs cannot take the pod")]
    NoRoom {
        /// The node's index.
        node: usize,
    },
}

/// A pod shape compiled against one packer (model mask, cache slot). Cheap to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    cpu: u64,
    memory: u64,
    count: u32,
    milli: u64,
    models: u64,
    slot: usize,
}

impl Demand {
    /// Milli-GPU over all its GPUs.
    pub fn total_milli(&self) -> MilliGpu {
        MilliGpu(self.milli * u64::from(self.count))
    }

    fn fractional(&self) -> bool {
        self.count == 1 && self.milli < WHOLE
    }
}

/// What the filter needs of a node, kept beside it so the scan over nodes stays in cache.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    cpu: u64,
    memory: u64,
    model: u64,
    gpu_free: u64,
    max_free: u64,
    whole_free: u32,
    /// Bumped on every change; cache entries of an older version are stale.
    version: u32,
}

impl Summary {
    fn fits(&self, demand: &Demand) -> bool {
        self.cpu >= demand.cpu
            && self.memory >= demand.memory
            && self.model & demand.models != 0
            && if demand.fractional() {
                self.max_free >= demand.milli
            } else {
                self.whole_free >= demand.count
            }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct CacheEntry {
    version: u32,
    key: i64,
    gpus: GpuSet,
}

type ShapeKey = (u64, u64, u32, u64);

/// Places pods one at a time under one [`PackPolicy`]; see the module docs for the rules. The
/// experiment models no MPS client limit and no VRAM: any GPU takes any number of fractions.
#[derive(Debug, Clone)]
pub struct Packer {
    policy: PackPolicy,
    nodes: Vec<NodeState>,
    priorities: Vec<u32>,
    summaries: Vec<Summary>,
    model_bits: ModelBits,
    classes: Vec<Class>,
    mix_total: u64,
    /// Node-major: `node * classes.len() + class`.
    stats: Vec<ClassStat>,
    /// Scaled F_n (× mix total) per node, and their sum.
    frag: Vec<u64>,
    frag_total: u64,
    shapes: BTreeMap<ShapeKey, usize>,
    /// Shape-major: `slot * nodes.len() + node`.
    cache: Vec<CacheEntry>,
    /// Reused buffer of (node, raw score) for the fit policies.
    fit_scores: Vec<(usize, i64)>,
    capacity: u64,
    allocated: u64,
}

impl Packer {
    /// A packer over `nodes` (in their current state). `priorities[n]` breaks ties between
    /// equal scores: the lowest number wins.
    pub fn new(
        nodes: Vec<NodeState>,
        mix: &TargetMix,
        policy: PackPolicy,
        priorities: Vec<u32>,
    ) -> Result<Packer, PackError> {
        if priorities.len() != nodes.len() {
            return Err(PackError::Priorities {
                nodes: nodes.len(),
                priorities: priorities.len(),
            });
        }
        let mut model_bits = ModelBits::default();
        for node in &nodes {
            if node.gpus.len() > 64 {
                return Err(PackError::TooManyGpus {
                    node: node.spec.name.clone(),
                    gpus: node.gpus.len(),
                });
            }
            if let Some(model) = &node.spec.gpu_model {
                if model_bits.insert(model) == frag::OTHER_MODEL {
                    return Err(PackError::TooManyModels);
                }
            }
        }
        let classes = Class::compile(mix, |names| model_bits.mask(names));
        let count = nodes.len();
        let capacity = nodes.iter().map(|n| n.gpus.len() as u64 * WHOLE).sum();
        let mut packer = Packer {
            policy,
            priorities,
            summaries: vec![Summary::default(); count],
            model_bits,
            stats: vec![ClassStat::default(); count * classes.len()],
            classes,
            mix_total: mix.total(),
            frag: vec![0; count],
            frag_total: 0,
            shapes: BTreeMap::new(),
            cache: Vec::new(),
            fit_scores: Vec::with_capacity(count),
            capacity,
            allocated: 0,
            nodes,
        };
        for index in 0..count {
            packer.refresh(index);
            packer.frag_total += packer.frag[index];
        }
        let idle: u64 = packer.summaries.iter().map(|s| s.gpu_free).sum();
        packer.allocated = capacity - idle;
        Ok(packer)
    }

    /// Compiles `shape` for this packer; reuse the result for every pod of that shape.
    pub fn demand(&mut self, shape: &PodShape) -> Result<Demand, PackError> {
        shape.validate()?;
        let models = self.model_bits.mask(&shape.allowed_models);
        let key = (shape.cpu.0, shape.gpu_milli.0, shape.gpu_count, models);
        let next = self.shapes.len();
        let slot = *self.shapes.entry(key).or_insert(next);
        if slot == next {
            let grown = self.cache.len() + self.nodes.len();
            self.cache.resize(grown, CacheEntry::default());
        }
        Ok(Demand {
            cpu: shape.cpu.0,
            memory: shape.memory.0,
            count: shape.gpu_count,
            milli: shape.gpu_milli.0,
            models,
            slot,
        })
    }

    /// The node and GPUs the policy picks for `demand`, or `None` when no node can take it.
    pub fn select(&mut self, demand: &Demand) -> Option<Choice> {
        match self.policy {
            PackPolicy::BestFit | PackPolicy::WorstFit => self.select_fit(demand),
            PackPolicy::Fgd | PackPolicy::FgdPack => self.select_scored(demand),
        }
    }

    /// Books `demand` on `choice`, which must fit (as every [`Packer::select`] answer does).
    pub fn place(&mut self, demand: &Demand, choice: Choice) -> Result<(), PackError> {
        let no_room = PackError::NoRoom { node: choice.node };
        let summary = self.summaries.get(choice.node).ok_or(no_room.clone())?;
        let node = &self.nodes[choice.node];
        let gpus_fit = choice.gpus.len() == demand.count as usize
            && choice
                .gpus
                .indices()
                .all(|i| node.gpus.get(i).is_some_and(|g| g.free.0 >= demand.milli));
        if !summary.fits(demand) || !gpus_fit {
            return Err(no_room);
        }
        let node = &mut self.nodes[choice.node];
        node.free_cpu.0 -= demand.cpu;
        node.free_memory.0 -= demand.memory;
        for index in choice.gpus.indices() {
            let gpu = &mut node.gpus[index];
            gpu.free.0 -= demand.milli;
            if demand.milli < WHOLE {
                gpu.clients += 1;
            }
        }
        self.allocated += demand.total_milli().0;
        self.frag_total -= self.frag[choice.node];
        self.refresh(choice.node);
        self.frag_total += self.frag[choice.node];
        Ok(())
    }

    /// Selects and places; `None` (nothing booked) when no node can take the pod.
    pub fn pack(&mut self, demand: &Demand) -> Option<Choice> {
        let choice = self.select(demand)?;
        self.place(demand, choice).ok()?;
        Some(choice)
    }

    /// The policy it packs by.
    pub fn policy(&self) -> PackPolicy {
        self.policy
    }

    /// The nodes with what is free on them now, in the order choices index them.
    pub fn nodes(&self) -> &[NodeState] {
        &self.nodes
    }

    /// Milli-GPU of all GPUs.
    pub fn capacity_milli(&self) -> MilliGpu {
        MilliGpu(self.capacity)
    }

    /// Milli-GPU booked.
    pub fn allocated_milli(&self) -> MilliGpu {
        MilliGpu(self.allocated)
    }

    /// Milli-GPU free.
    pub fn idle_milli(&self) -> MilliGpu {
        MilliGpu(self.capacity - self.allocated)
    }

    /// Σ_n F_n in milli-GPU.
    pub fn fragmentation(&self) -> f64 {
        self.unscale(self.frag_total)
    }

    /// F_n of node `index` in milli-GPU (0 when out of range).
    pub fn node_fragmentation(&self, index: usize) -> f64 {
        self.frag.get(index).map_or(0.0, |f| self.unscale(*f))
    }

    fn unscale(&self, scaled: u64) -> f64 {
        if self.mix_total == 0 {
            0.0
        } else {
            scaled as f64 / self.mix_total as f64
        }
    }

    /// Recomputes node `index`'s summary, class stats and F_n after it changed.
    fn refresh(&mut self, index: usize) {
        let node = &self.nodes[index];
        let gpus = &node.gpus;
        let old_version = self.summaries[index].version;
        let summary = Summary {
            cpu: node.free_cpu.0,
            memory: node.free_memory.0,
            model: self.model_bits.node(node.spec.gpu_model.as_ref()),
            gpu_free: gpus.iter().map(|g| g.free.0).sum(),
            max_free: gpus.iter().map(|g| g.free.0).max().unwrap_or(0),
            whole_free: gpus.iter().filter(|g| g.free.0 >= WHOLE).count() as u32,
            version: old_version.wrapping_add(1).max(1),
        };
        let width = self.classes.len();
        let stats = &mut self.stats[index * width..(index + 1) * width];
        ClassStat::fill(stats, &self.classes, gpus, UNLIMITED_CLIENTS);
        self.summaries[index] = summary;
        let unchanged = Trial::none(summary.cpu, summary.gpu_free);
        self.frag[index] = scaled_fragmentation(&self.classes, &self.view(index), &unchanged);
    }

    fn view(&self, index: usize) -> NodeView<'_> {
        let width = self.classes.len();
        NodeView {
            model: self.summaries[index].model,
            max_clients: UNLIMITED_CLIENTS,
            stats: &self.stats[index * width..(index + 1) * width],
        }
    }

    /// The `count` lowest-index fully free GPUs.
    fn whole_gpus(&self, node: usize, count: u32) -> GpuSet {
        let mut set = GpuSet::EMPTY;
        let free = self.nodes[node].gpus.iter().enumerate();
        for (index, _) in free.filter(|(_, g)| g.free.0 >= WHOLE).take(count as usize) {
            set.insert(index);
        }
        set
    }

    /// FGD and FGD-pack: each feasible node's best (score, GPUs), cached per shape.
    fn select_scored(&mut self, demand: &Demand) -> Option<Choice> {
        let width = self.nodes.len();
        let base = demand.slot * width;
        let mut best: Option<(i64, u32, usize, GpuSet)> = None;
        for index in 0..width {
            let summary = self.summaries[index];
            if !summary.fits(demand) {
                continue;
            }
            let entry = self.cache[base + index];
            let (key, gpus) = if entry.version == summary.version {
                (entry.key, entry.gpus)
            } else {
                let (key, gpus) = self.evaluate(index, demand);
                let version = summary.version;
                self.cache[base + index] = CacheEntry { version, key, gpus };
                (key, gpus)
            };
            let priority = self.priorities[index];
            if best.is_none_or(|(k, p, _, _)| key > k || (key == k && priority < p)) {
                best = Some((key, priority, index, gpus));
            }
        }
        best.map(|(_, _, node, gpus)| Choice { node, gpus })
    }

    /// The best key and GPUs for `demand` on node `index` (which fits it).
    fn evaluate(&self, index: usize, demand: &Demand) -> (i64, GpuSet) {
        let summary = &self.summaries[index];
        let view = self.view(index);
        let base = Trial::none(
            summary.cpu - demand.cpu,
            summary.gpu_free - demand.total_milli().0,
        );
        if !demand.fractional() {
            let after = frag::after_whole(&self.classes, &view, base, demand.count, 0);
            let key = self.key(index, after, 0);
            return (key, self.whole_gpus(index, demand.count));
        }
        let fraction = Fraction {
            milli: demand.milli,
            vram: 0,
        };
        let gpus = &self.nodes[index].gpus;
        let key = |after, gpu_left| self.key(index, after, gpu_left);
        frag::best_gpu(&self.classes, &view, gpus, base, fraction, key)
            .map_or((i64::MIN, GpuSet::EMPTY), |(key, gpu)| {
                (key, GpuSet::single(gpu))
            })
    }

    /// The comparable key of a trial placement on node `index` leaving scaled F `after` and
    /// `gpu_left` free milli on the GPU a fractional pod takes (0 for other pods).
    fn key(&self, index: usize, after: u64, gpu_left: u64) -> i64 {
        let drop = self.frag[index] as i64 - after as i64;
        match self.policy {
            PackPolicy::FgdPack => policy::fgd_pack_key(drop, self.mix_total, gpu_left),
            _ => policy::fgd_score(drop, self.mix_total),
        }
    }
}
