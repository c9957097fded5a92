//! Node fragmentation F_n — the one implementation both the static packing experiment
//! ([`super::Packer`]) and the live cycle's fragmentation-aware MPS policies score with.
//!
//! For each node and class of the target mix the callers keep how many GPUs could host one of
//! the class's GPUs and how much free milli sits on GPUs that cannot; F_n, and F_n after a
//! trial placement, then cost O(classes) rather than O(classes × GPUs).
//!
//! A GPU *hosts* a class when it has the class's milli-GPU and VRAM free and, for a fraction,
//! one more MPS client fits under the node's limit. The static experiment models neither VRAM
//! nor client limits (its classes ask for no VRAM and it passes [`UNLIMITED_CLIENTS`]).

use super::mix::TargetMix;
use crate::ids::GpuModelName;
use crate::state::GpuState;
use crate::units::{MilliGpu, VramMib};
use std::collections::BTreeMap;

const WHOLE: u64 = MilliGpu::WHOLE.0;
/// The client limit of a node whose GPUs take any number of MPS clients.
pub(crate) const UNLIMITED_CLIENTS: u32 = u32::MAX;
/// Model bit of nodes whose model no class names (or that have none); "any model" classes
/// include it, classes with a model list do not.
pub(crate) const OTHER_MODEL: u64 = 1 << 63;
/// Mask of a class that accepts any model.
pub(crate) const ANY_MODEL: u64 = u64::MAX;

/// A class of the mix, compiled for scoring: models as a bit mask, count as the weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class {
    pub cpu: u64,
    pub milli: u64,
    /// VRAM each of its GPUs needs free (0 in the static experiment).
    pub vram: u64,
    pub count: u32,
    pub models: u64,
    pub weight: u64,
}

impl Class {
    pub(crate) fn compile(mix: &TargetMix, mask: impl Fn(&[GpuModelName]) -> u64) -> Vec<Class> {
        mix.classes()
            .iter()
            .map(|class| Class {
                cpu: class.cpu.0,
                milli: class.gpu_milli.0,
                vram: class.vram.0,
                count: class.gpu_count,
                models: mask(&class.allowed_models),
                weight: class.count,
            })
            .collect()
    }

    /// Whether `gpu` can take one of the class's GPUs on a node allowing `max_clients` MPS
    /// clients per GPU. Only meaningful for classes that need a GPU.
    #[inline]
    pub(crate) fn hosted_by(&self, gpu: &GpuState, max_clients: u32) -> bool {
        gpu.free.0 >= self.milli
            && gpu.free_vram.0 >= self.vram
            && (self.milli >= WHOLE || gpu.clients < max_clients)
    }
}

/// Per node and class: GPUs that host the class, and the free milli of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ClassStat {
    pub hosting: u32,
    pub short: u64,
}

impl ClassStat {
    /// Fills `stats` (one per class) for a node's GPUs, visiting each distinct GPU state once:
    /// a node's GPUs are mostly idle or in a few states, and this runs for every node scored.
    /// Only classes that need a GPU read their stats, and a GPU with nothing free hosts none of
    /// them and adds nothing short, so full GPUs are skipped (on a busy fleet, most states).
    pub(crate) fn fill(stats: &mut [ClassStat], classes: &[Class], gpus: &[GpuState], max: u32) {
        stats.fill(ClassStat::default());
        for (index, gpu) in gpus.iter().enumerate() {
            if gpu.free.0 == 0 || gpus[..index].contains(gpu) {
                continue;
            }
            let times = gpus[index..].iter().filter(|other| *other == gpu).count() as u32;
            for (stat, class) in stats.iter_mut().zip(classes) {
                if class.hosted_by(gpu, max) {
                    stat.hosting += times;
                } else {
                    stat.short += gpu.free.0 * u64::from(times);
                }
            }
        }
    }
}

/// A trial change to a node: `times` GPUs go from state `old` to `new`; the host is left with
/// `cpu_left`; the node's idle milli-GPU becomes `idle`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trial {
    pub cpu_left: u64,
    pub idle: u64,
    pub old: GpuState,
    pub new: GpuState,
    pub times: u32,
}

impl Trial {
    /// No change: F_n as the node stands.
    pub(crate) fn none(cpu_left: u64, idle: u64) -> Trial {
        let gpu = GpuState {
            free: MilliGpu::ZERO,
            free_vram: VramMib::ZERO,
            clients: 0,
        };
        Trial {
            cpu_left,
            idle,
            old: gpu,
            new: gpu,
            times: 0,
        }
    }
}

/// Node view the formula needs: its model bit, MPS client limit and, per class, its stats.
pub(crate) struct NodeView<'a> {
    pub model: u64,
    pub max_clients: u32,
    pub stats: &'a [ClassStat],
}

/// Σ_m weight_m · frag_n(m) after `trial` (the unscaled F_n is this over the mix total).
pub(crate) fn scaled_fragmentation(classes: &[Class], node: &NodeView<'_>, trial: &Trial) -> u64 {
    let mut sum = 0u64;
    for (class, stat) in classes.iter().zip(node.stats) {
        let amount = if class.milli == 0 || class.models & node.model == 0 {
            trial.idle
        } else {
            let (mut hosting, mut short) = (stat.hosting, stat.short);
            if trial.times > 0 {
                let times = u64::from(trial.times);
                // Add before subtracting so the unsigned ledgers never dip below zero.
                if class.hosted_by(&trial.new, node.max_clients) {
                    hosting += trial.times;
                } else {
                    short += trial.new.free.0 * times;
                }
                if class.hosted_by(&trial.old, node.max_clients) {
                    hosting -= trial.times;
                } else {
                    short -= trial.old.free.0 * times;
                }
            }
            if hosting >= class.count && trial.cpu_left >= class.cpu {
                short
            } else {
                trial.idle
            }
        };
        sum += class.weight * amount;
    }
    sum
}

/// A share of one GPU: milli-GPU and VRAM.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fraction {
    pub milli: u64,
    pub vram: u64,
}

impl Fraction {
    /// Whether `gpu` can take it under a client limit of `max_clients`.
    pub(crate) fn fits(&self, gpu: &GpuState, max_clients: u32) -> bool {
        gpu.free.0 >= self.milli && gpu.free_vram.0 >= self.vram && gpu.clients < max_clients
    }

    fn after(&self, gpu: &GpuState) -> GpuState {
        GpuState {
            free: MilliGpu(gpu.free.0 - self.milli),
            free_vram: VramMib(gpu.free_vram.0 - self.vram),
            clients: gpu.clients + 1,
        }
    }
}

/// The best GPU of a node for `fraction`: every GPU that can take it is tried (once per state
/// that can score differently) and the highest `key(F_n after, free milli left on the GPU)`
/// wins; among equal keys the lowest index. `base` carries the node's CPU and idle milli after
/// the placement. `None` when no GPU can take it.
pub(crate) fn best_gpu(
    classes: &[Class],
    view: &NodeView<'_>,
    gpus: &[GpuState],
    base: Trial,
    fraction: Fraction,
    mut key: impl FnMut(u64, u64) -> i64,
) -> Option<(i64, usize)> {
    let mut trial = Trial { times: 1, ..base };
    let max = view.max_clients;
    // What decides a trial's score: free milli and VRAM, and whether the GPU takes a client
    // now and one more after this one.
    let state = |g: &GpuState| (g.free, g.free_vram, max.saturating_sub(g.clients).min(2));
    let mut best: Option<(i64, usize)> = None;
    for (index, gpu) in gpus.iter().enumerate() {
        if !fraction.fits(gpu, max) || gpus[..index].iter().any(|g| state(g) == state(gpu)) {
            continue;
        }
        trial.old = *gpu;
        trial.new = fraction.after(gpu);
        let after = scaled_fragmentation(classes, view, &trial);
        let key = key(after, trial.new.free.0);
        if best.is_none_or(|(k, _)| key > k) {
            best = Some((key, index));
        }
    }
    best
}

/// F_n after `count` idle GPUs (each with `vram` VRAM) are taken whole.
pub(crate) fn after_whole(
    classes: &[Class],
    view: &NodeView<'_>,
    base: Trial,
    count: u32,
    vram: u64,
) -> u64 {
    let trial = Trial {
        old: GpuState {
            free: MilliGpu::WHOLE,
            free_vram: VramMib(vram),
            clients: 0,
        },
        new: GpuState {
            free: MilliGpu::ZERO,
            free_vram: VramMib::ZERO,
            clients: 0,
        },
        times: count,
        ..base
    };
    scaled_fragmentation(classes, view, &trial)
}

/// Bits for the GPU models the mix names (at most 63; models past that share
/// [`OTHER_MODEL`], so a class naming one of them may be taken to accept the others).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ModelBits {
    bits: BTreeMap<GpuModelName, u64>,
}

impl ModelBits {
    pub(crate) fn insert(&mut self, model: &GpuModelName) -> u64 {
        let next = self.bits.len();
        *self
            .bits
            .entry(model.clone())
            .or_insert(if next < 63 { 1 << next } else { OTHER_MODEL })
    }

    /// The bit of a node's model.
    pub(crate) fn node(&self, model: Option<&GpuModelName>) -> u64 {
        model
            .and_then(|m| self.bits.get(m).copied())
            .unwrap_or(OTHER_MODEL)
    }

    /// The mask of a class's allowed models; empty means any.
    pub(crate) fn mask(&self, names: &[GpuModelName]) -> u64 {
        if names.is_empty() {
            ANY_MODEL
        } else {
            names
                .iter()
                .filter_map(|n| self.bits.get(n))
                .fold(0, |m, b| m | b)
        }
    }
}
