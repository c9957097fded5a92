//! FGD's target workload mix M: the popular pod classes and how often each arrives. It is built
//! once from the original trace and never changes during a run.

use super::shape::PodShape;
use crate::ids::GpuModelName;
use crate::state::NodeState;
use crate::units::{CpuMilli, MilliGpu};
use std::collections::BTreeMap;

/// One class of M: pods alike in CPU, per-GPU milli, GPU count and allowed models (memory is
/// not part of the class: FGD's fragmentation ignores it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixClass {
    pub cpu: CpuMilli,
    pub gpu_milli: MilliGpu,
    pub gpu_count: u32,
    /// Empty means any model.
    pub allowed_models: Vec<GpuModelName>,
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

type ClassKey = (CpuMilli, MilliGpu, u32, Vec<GpuModelName>);

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
            let key = (
                shape.cpu,
                shape.gpu_milli,
                shape.gpu_count,
                shape.allowed_models.clone(),
            );
            *counts.entry(key).or_default() += 1;
        }
        let mut sorted: Vec<(ClassKey, u64)> = counts.into_iter().collect();
        // The map iterates in increasing key order; a stable sort by count keeps, among equal
        // counts, the larger key first once reversed within the group.
        sorted.reverse();
        sorted.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        let all = shapes.len() as u64;
        let mut classes = Vec::new();
        let mut total = 0u64;
        for ((cpu, gpu_milli, gpu_count, allowed_models), count) in sorted {
            if total.saturating_mul(100) >= all.saturating_mul(percent) {
                break;
            }
            total += count;
            classes.push(MixClass {
                cpu,
                gpu_milli,
                gpu_count,
                allowed_models,
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

    /// F_n in milli-GPU, computed directly from the definition (the packer keeps an
    /// incremental copy; this one is the oracle tests compare it with).
    pub fn node_fragmentation(&self, node: &NodeState) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let scaled: u64 = self
            .classes
            .iter()
            .map(|class| class.count * class_fragmentation(class, node))
            .sum();
        scaled as f64 / self.total as f64
    }
}

/// frag_n(m): the idle milli-GPU of `node` that a pod of `class` cannot use.
fn class_fragmentation(class: &MixClass, node: &NodeState) -> u64 {
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
    let hosting = node
        .gpus
        .iter()
        .filter(|g| g.free >= class.gpu_milli)
        .count();
    if hosting >= class.gpu_count as usize && node.free_cpu >= class.cpu {
        node.gpus
            .iter()
            .filter(|g| g.free < class.gpu_milli)
            .map(|g| g.free.0)
            .sum()
    } else {
        idle
    }
}
