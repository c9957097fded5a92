//! Placement: which node(s) and GPUs of a flavor take a job, given free capacity now.
//!
//! - **MPS fractions** go to one GPU chosen by the [`MpsPacking`] policy: best fit, worst fit,
//!   or fragmentation-aware (FGD, FGD-pack) over the mix a [`MixTracker`] learns from
//!   submissions. Every policy only considers GPUs of an MPS-capable model (client limit > 0)
//!   with the milli-GPU and VRAM free and fewer clients than the limit, on nodes with the CPU
//!   and memory free — so milli ≤ 1000, VRAM ≤ capacity and clients ≤ the limit always hold.
//! - **Whole GPUs** go best-fit by node, or by FGD's score under FGD and FGD-pack (FGD scores
//!   every pod); spreading over nodes, when one node cannot take them all, is the same for all.
//! - **CPU-only work** avoids GPU nodes.

mod cpu_only;
mod fgd;
mod fraction;
mod indexed;
mod mix_tracker;
mod whole_gpu;

pub use mix_tracker::MixTracker;

use crate::decision::{Miss, NodeShare};
use crate::ids::FlavorName;
use crate::model::{GpuRequest, Job};
use crate::state::{Fleet, NodeState};
use crate::units::MilliGpu;
use serde::{Deserialize, Serialize};

/// How MPS fractions (and, under the fragmentation policies, whole GPUs) choose where to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MpsPacking {
    /// The GPU left with the least free milli-GPU; ties: least CPU left on the node, then node
    /// name, then GPU index.
    #[default]
    BestFit,
    /// The GPU left with the most free milli-GPU; ties: most CPU left, then node name, then GPU
    /// index.
    WorstFit,
    /// Fragmentation Gradient Descent: the GPU (or, for whole GPUs, the node) whose use
    /// removes the most expected fragmentation, ⌊100·sigmoid(Δ/1000)⌋; ties: node name, then
    /// GPU index.
    Fgd,
    /// FGD with a coarser score, ⌊50·sigmoid(Δ/1000)⌋, whose ties go to the GPU left with the
    /// least free milli-GPU, then node name, then GPU index (ours; it packs the openb trace
    /// slightly better than FGD).
    FgdPack,
}

impl MpsPacking {
    /// Every MPS packing, in the order experiments report them.
    pub const ALL: [MpsPacking; 4] = [
        MpsPacking::BestFit,
        MpsPacking::WorstFit,
        MpsPacking::Fgd,
        MpsPacking::FgdPack,
    ];

    /// Whether placement scores by fragmentation (and so needs the mix).
    pub fn is_fragmentation_aware(self) -> bool {
        matches!(self, MpsPacking::Fgd | MpsPacking::FgdPack)
    }
}

/// Finds room for `job` on `flavor`'s nodes under `packing`, or says how close the flavor came.
/// `mix` is read only by the fragmentation-aware policies.
pub fn place(
    fleet: &Fleet,
    flavor: &FlavorName,
    job: &Job,
    packing: MpsPacking,
    mix: &MixTracker,
) -> Result<Vec<NodeShare>, Miss> {
    let Some(index) = fleet.free_index(flavor) else {
        return Err(shortfall(fleet, flavor, job));
    };
    let nodes = || fleet.nodes_of(flavor).filter(|node| accepts(job, node));
    let found = match job.gpu {
        GpuRequest::None => indexed::best_host(fleet, index, job, 0, |_| true)
            .map(|node| cpu_only::share(node, job)),
        GpuRequest::Whole { count, min_vram } => {
            let fits = |node: &NodeState| accepts(job, node) && node.vram_per_gpu >= min_vram;
            let fitting = || nodes().filter(move |n| n.vram_per_gpu >= min_vram);
            let best = indexed::best_host(fleet, index, job, count, fits);
            // FGD scores every node that could take the job: none when best fit finds none
            let single = if packing.is_fragmentation_aware() && best.is_some() {
                let mix = mix.compiled();
                match fleet.shape_firsts(flavor) {
                    Some(states) => {
                        let states = states.filter(|(_, node)| fits(node));
                        fgd::place_whole(states, job, count, mix, packing)
                    }
                    None => fgd::place_whole(ranked(fitting()), job, count, mix, packing),
                }
            } else {
                best.map(|node| vec![whole_gpu::share(node, count, job.cpu, job.memory)])
            };
            single.or_else(|| {
                (job.spread && count > 1)
                    .then(|| whole_gpu::spread(fitting(), job, count))
                    .flatten()
            })
        }
        GpuRequest::Fraction { milli, vram } if packing.is_fragmentation_aware() => {
            // as for whole GPUs: nothing to score when best fit finds no GPU
            let accept = |node: &NodeState| accepts(job, node);
            indexed::best_gpu(fleet, index, job, milli, vram, accept).and_then(|_| {
                let mix = mix.compiled();
                match fleet.shape_firsts(flavor) {
                    Some(states) => {
                        let states = states.filter(|(_, node)| accept(node));
                        fgd::place_fraction(states, job, milli, vram, mix, packing)
                    }
                    None => fgd::place_fraction(ranked(nodes()), job, milli, vram, mix, packing),
                }
            })
        }
        GpuRequest::Fraction { milli, vram } => {
            let accept = |node: &NodeState| accepts(job, node);
            let chosen = if packing == MpsPacking::WorstFit {
                indexed::worst_gpu(fleet, index, job, milli, vram, accept)
            } else {
                indexed::best_gpu(fleet, index, job, milli, vram, accept)
            };
            chosen.map(|(node, gpu)| fraction_share(node, gpu, job, milli, vram))
        }
    };
    found.ok_or_else(|| shortfall(fleet, flavor, job))
}

/// Whether some node of `flavor` can take `job`, and if not how close the flavor came. Every
/// packing policy chooses among the same feasible GPUs and nodes (they differ only in which),
/// so this asks the cheapest, the free index's best fit.
pub(crate) fn fits(fleet: &Fleet, flavor: &FlavorName, job: &Job) -> Result<(), Miss> {
    place(fleet, flavor, job, MpsPacking::BestFit, &MixTracker::new(0)).map(|_| ())
}

/// Whether one of `nodes` can take `job` (see [`fits`]).
pub(crate) fn fits_among<'a, I>(nodes: I, job: &Job) -> bool
where
    I: Iterator<Item = &'a NodeState> + Clone,
{
    place_among(nodes, job, MpsPacking::BestFit, &MixTracker::new(0)).is_some()
}

/// What [`place`] decides on a flavor whose nodes are `nodes` (in name order), found by
/// scanning them instead of reading a [`Fleet`]'s free index: for node copies that are in no
/// fleet (the preemption search's states without some victims), and the reference the index
/// is tested against.
pub(crate) fn place_among<'a, I>(
    nodes: I,
    job: &Job,
    packing: MpsPacking,
    mix: &MixTracker,
) -> Option<Vec<NodeShare>>
where
    I: Iterator<Item = &'a NodeState> + Clone,
{
    let nodes = move || nodes.clone().filter(move |node| accepts(job, node));
    match job.gpu {
        GpuRequest::None => cpu_only::place(nodes(), job),
        GpuRequest::Whole { count, min_vram } => {
            let fitting = || nodes().filter(move |n| n.vram_per_gpu >= min_vram);
            let single = if packing.is_fragmentation_aware() {
                fgd::place_whole(ranked(fitting()), job, count, mix.compiled(), packing)
            } else {
                whole_gpu::place(fitting(), job, count)
            };
            single.or_else(|| {
                (job.spread && count > 1)
                    .then(|| whole_gpu::spread(fitting(), job, count))
                    .flatten()
            })
        }
        GpuRequest::Fraction { milli, vram } if packing.is_fragmentation_aware() => {
            fgd::place_fraction(ranked(nodes()), job, milli, vram, mix.compiled(), packing)
        }
        GpuRequest::Fraction { milli, vram } => {
            fraction::place(nodes(), job, milli, vram, packing == MpsPacking::WorstFit)
        }
    }
}

/// Nodes in name order with their places in it, which rank them as FGD breaks ties.
fn ranked<'a>(
    nodes: impl Iterator<Item = &'a NodeState>,
) -> impl Iterator<Item = (u64, &'a NodeState)> {
    nodes.enumerate().map(|(at, node)| (at as u64, node))
}

/// Whether `node` could take `job` were it idle: its GPU model is one the job accepts (the
/// node's size and VRAM are the caller's to check).
pub(crate) fn could_take(job: &Job, node: &NodeState) -> bool {
    accepts(job, node)
}

/// The node's GPU model is one the job accepts (any model for CPU-only work).
fn accepts(job: &Job, node: &NodeState) -> bool {
    matches!(job.gpu, GpuRequest::None)
        || (node.spec.gpus > 0 && job.accepts_model(node.spec.gpu_model.as_ref()))
}

fn fits_host(node: &NodeState, job: &Job) -> bool {
    node.free_cpu >= job.cpu && node.free_memory >= job.memory
}

/// How close the flavor came: its nodes that accept the job, the most idle GPUs on one of
/// them and the most free milli-GPU on one MPS-capable GPU. Read off the free index unless the
/// job restricts GPU models (then its nodes are counted one by one).
pub(crate) fn shortfall(fleet: &Fleet, flavor: &FlavorName, job: &Job) -> Miss {
    match fleet.free_index(flavor) {
        Some(index) if job.gpu_models.is_none() => Miss::Capacity {
            nodes: match job.gpu {
                GpuRequest::None => index.hosts.len(),
                _ => index.gpu_nodes,
            } as u32,
            most_free_gpus: index.hosts.last().map_or(0, |key| key.0),
            most_free_milli: index.gpus.last().map_or(MilliGpu::ZERO, |key| key.0),
        },
        _ => shortfall_by_scan(fleet.nodes_of(flavor).filter(|node| accepts(job, node))),
    }
}

fn shortfall_by_scan<'a>(nodes: impl Iterator<Item = &'a NodeState>) -> Miss {
    let mut count = 0;
    let mut most_free_gpus = 0;
    let mut most_free_milli = MilliGpu::ZERO;
    for node in nodes {
        count += 1;
        most_free_gpus = most_free_gpus.max(node.idle_gpus());
        if node.max_mps_clients > 0 {
            for gpu in &node.gpus {
                most_free_milli = most_free_milli.max(gpu.free);
            }
        }
    }
    Miss::Capacity {
        nodes: count,
        most_free_gpus,
        most_free_milli,
    }
}

#[cfg(test)]
mod index_tests;
#[cfg(test)]
mod tests;

/// The one-GPU share a fraction takes on GPU `index` of `node`.
fn fraction_share(
    node: &NodeState,
    index: usize,
    job: &Job,
    milli: MilliGpu,
    vram: crate::units::VramMib,
) -> Vec<NodeShare> {
    vec![NodeShare {
        node: node.spec.name.clone(),
        gpus: vec![crate::decision::GpuShare {
            index: index as u32,
            milli,
            vram,
        }],
        cpu: job.cpu,
        memory: job.memory,
    }]
}
