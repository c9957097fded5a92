//! Node fragmentation F_n, kept incrementally. For each node and class of the target mix the
//! packer stores how many GPUs could host one of the class's GPUs and how much free milli sits
//! on GPUs too small for it; F_n, and F_n after a trial placement, then cost O(classes) rather
//! than O(classes × GPUs).

use super::mix::TargetMix;
use crate::state::GpuState;

/// A class of the mix, compiled for the packer: models as a bit mask, count as the weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class {
    pub cpu: u64,
    pub milli: u64,
    pub count: u32,
    pub models: u64,
    pub weight: u64,
}

impl Class {
    pub(crate) fn compile(
        mix: &TargetMix,
        mask: impl Fn(&[crate::ids::GpuModelName]) -> u64,
    ) -> Vec<Class> {
        mix.classes()
            .iter()
            .map(|class| Class {
                cpu: class.cpu.0,
                milli: class.gpu_milli.0,
                count: class.gpu_count,
                models: mask(&class.allowed_models),
                weight: class.count,
            })
            .collect()
    }
}

/// Per node and class: GPUs with free ≥ the class's milli, and the free milli of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ClassStat {
    pub hosting: u32,
    pub short: u64,
}

impl ClassStat {
    pub(crate) fn of(class: &Class, gpus: &[GpuState]) -> ClassStat {
        let mut stat = ClassStat::default();
        for gpu in gpus {
            if gpu.free.0 >= class.milli {
                stat.hosting += 1;
            } else {
                stat.short += gpu.free.0;
            }
        }
        stat
    }
}

/// A trial change to a node: `times` GPUs go from `old` to `new` free milli; the host gives up
/// `cpu`; the node's idle milli-GPU becomes `idle`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trial {
    pub cpu_left: u64,
    pub idle: u64,
    pub old: u64,
    pub new: u64,
    pub times: u32,
}

/// Node view the formula needs: its model bit and, per class, its stats.
pub(crate) struct NodeView<'a> {
    pub model: u64,
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
                if trial.new >= class.milli {
                    hosting += trial.times;
                } else {
                    short += trial.new * times;
                }
                if trial.old >= class.milli {
                    hosting -= trial.times;
                } else {
                    short -= trial.old * times;
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
