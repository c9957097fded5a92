//! FGD's target workload mix M: the popular pod classes and how often each arrives. The static
//! experiment builds it once from the original trace; the live cycle rebuilds it from a window
//! of recent submissions (`placement::MixTracker`).

use super::shape::PodShape;
use crate::ids::GpuModelName;
use crate::state::NodeState;
use crate::units::{CpuMilli, MilliGpu, VramMib};
use std::collections::BTreeMap;

/// One class of M: pods alike in CPU, per-GPU milli, GPU count, allowed models and per-GPU
/// VRAM (memory is not part of the class: FGD's fragmentation ignores it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixClass {
    /// CPU per pod.
    pub cpu: CpuMilli,
    /// Share of each GPU (1000 = whole).
    pub gpu_milli: MilliGpu,
    /// GPUs per pod; 0 for CPU-only.
    pub gpu_count: u32,
    /// Empty means any model.
    pub allowed_models: Vec<GpuModelName>,
    /// VRAM each of its GPUs needs free: an MPS share's VRAM, a whole GPU's minimum. The static
    /// experiment's pods ask for none.
    pub vram: VramMib,
    /// Pods of the trace in this class; the popularity is `count / TargetMix::total`.
    pub count: u64,
}

/// The classes kept (most popular first) and their summed count, so popularities are exact
/// ratios of integers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetMix {
    classes: Vec<MixClass>,
    total: u64,
}

/// What makes two requests one class, ordered (CPU, milli, count, models, VRAM) — the order the
/// reference sorts equal counts in, VRAM last so VRAM-free shapes keep that order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClassKey {
    /// CPU per pod.
    pub cpu: CpuMilli,
    /// Share of each GPU (1000 = whole).
    pub gpu_milli: MilliGpu,
    /// GPUs per pod; 0 for CPU-only.
    pub gpu_count: u32,
    /// Sorted, no duplicates; empty means any model.
    pub allowed_models: Vec<GpuModelName>,
    /// VRAM each of its GPUs needs free.
    pub vram: VramMib,
}

impl ClassKey {
    /// The class of a static-experiment pod shape (no VRAM).
    pub fn of_shape(shape: &PodShape) -> ClassKey {
        ClassKey {
            cpu: shape.cpu,
            gpu_milli: shape.gpu_milli,
            gpu_count: shape.gpu_count,
            allowed_models: shape.allowed_models.clone(),
            vram: VramMib::ZERO,
        }
    }
}

impl TargetMix {
    /// FGD keeps the smallest prefix of classes covering at least this share of pods.
    pub const DEFAULT_COVERAGE_PERCENT: u64 = 95;

    /// M as FGD builds it: the classes covering 95% of `shapes`.
    pub fn from_shapes(shapes: &[PodShape]) -> TargetMix {
        TargetMix::with_coverage(shapes, Self::DEFAULT_COVERAGE_PERCENT)
    }

    /// Groups `shapes` into classes, sorts them by count (most first; equal counts by the
    /// larger (CPU, milli, count, models) first, as the reference's reversed sort does), keeps
    /// the smallest prefix with at least `percent`% of the pods and normalises over that prefix.
    pub fn with_coverage(shapes: &[PodShape], percent: u64) -> TargetMix {
        let mut counts: BTreeMap<ClassKey, u64> = BTreeMap::new();
        for shape in shapes {
            *counts.entry(ClassKey::of_shape(shape)).or_default() += 1;
        }
        TargetMix::from_counts(&counts, percent, usize::MAX)
    }

    /// M from per-class counts: classes sorted by count (most first; equal counts by the
    /// larger key first, as the reference's reversed sort does), the smallest prefix with at
    /// least `percent`% of all counted requests, cut to at most `max_classes`, normalised over
    /// what is kept. Classes with a zero count are ignored.
    pub fn from_counts(
        counts: &BTreeMap<ClassKey, u64>,
        percent: u64,
        max_classes: usize,
    ) -> TargetMix {
        // The map iterates in increasing key order; a stable sort by count keeps, among equal
        // counts, the larger key first once reversed.
        let mut sorted: Vec<(&ClassKey, u64)> = counts
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(key, count)| (key, *count))
            .rev()
            .collect();
        sorted.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        let all: u64 = sorted.iter().map(|(_, count)| count).sum();
        let mut classes = Vec::new();
        let mut total = 0u64;
        for (key, count) in sorted {
            if total.saturating_mul(100) >= all.saturating_mul(percent)
                || classes.len() >= max_classes
            {
                break;
            }
            total += count;
            classes.push(MixClass {
                cpu: key.cpu,
                gpu_milli: key.gpu_milli,
                gpu_count: key.gpu_count,
                allowed_models: key.allowed_models.clone(),
                vram: key.vram,
                count,
            });
        }
        TargetMix { classes, total }
    }

    /// Most popular first.
    pub fn classes(&self) -> &[MixClass] {
        &self.classes
    }

    /// Pods in the kept classes: the denominator of every popularity.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// p_m of class `index` (0 when out of range).
    pub fn popularity(&self, index: usize) -> f64 {
        match self.classes.get(index) {
            Some(class) if self.total > 0 => class.count as f64 / self.total as f64,
            _ => 0.0,
        }
    }

    /// F_n in milli-GPU as the static experiment defines it (no VRAM or client limits),
    /// computed directly from the definition (the packer keeps an incremental copy; this one
    /// is the oracle tests compare it with).
    pub fn node_fragmentation(&self, node: &NodeState) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.scaled_fragmentation(node, u32::MAX) as f64 / self.total as f64
    }

    /// Σ_m count_m · frag_n(m), straight from the definition, where a GPU hosts a class's GPU
    /// only if it has the class's milli and VRAM free and, for a fraction, fewer than
    /// `max_clients` MPS clients. F_n is this over [`TargetMix::total`].
    pub fn scaled_fragmentation(&self, node: &NodeState, max_clients: u32) -> u64 {
        self.classes
            .iter()
            .map(|class| class.count * class_fragmentation(class, node, max_clients))
            .sum()
    }
}

/// frag_n(m): the idle milli-GPU of `node` that a pod of `class` cannot use.
fn class_fragmentation(class: &MixClass, node: &NodeState, max_clients: u32) -> u64 {
    let idle: u64 = node.gpus.iter().map(|gpu| gpu.free.0).sum();
    let model_allowed = class.allowed_models.is_empty()
        || node
            .spec
            .gpu_model
            .as_ref()
            .is_some_and(|model| class.allowed_models.contains(model));
    if class.gpu_milli == MilliGpu::ZERO || !model_allowed {
        return idle;
    }
    let hosts = |gpu: &&crate::state::GpuState| {
        gpu.free >= class.gpu_milli
            && gpu.free_vram >= class.vram
            && (class.gpu_milli >= MilliGpu::WHOLE || gpu.clients < max_clients)
    };
    let hosting = node.gpus.iter().filter(hosts).count();
    if hosting >= class.gpu_count as usize && node.free_cpu >= class.cpu {
        node.gpus
            .iter()
            .filter(|g| !hosts(g))
            .map(|g| g.free.0)
            .sum()
    } else {
        idle
    }
}
