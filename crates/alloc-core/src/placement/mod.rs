//! Placement: which node(s) and GPUs of a flavor take a job, given free capacity now.
//! Whole GPUs go best-fit by node; MPS fractions best-fit by GPU; CPU-only work avoids GPU
//! nodes. Packing policies for fractions grow here (issue: policies).

mod cpu_only;
mod fraction;
mod whole_gpu;

use crate::decision::{Miss, NodeShare};
use crate::ids::FlavorName;
use crate::model::{GpuRequest, Job};
use crate::state::{Fleet, NodeState};
use crate::units::MilliGpu;
use serde::{Deserialize, Serialize};

/// How MPS fractions choose a GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MpsPacking {
    /// The GPU left with the least free milli-GPU.
    #[default]
    BestFit,
}

/// Finds room for `job` on `flavor`'s nodes, or says how close the flavor came.
pub fn place(fleet: &Fleet, flavor: &FlavorName, job: &Job) -> Result<Vec<NodeShare>, Miss> {
    let nodes = || fleet.nodes_of(flavor).filter(|node| accepts(job, node));
    let found = match job.gpu {
        GpuRequest::None => cpu_only::place(nodes(), job),
        GpuRequest::Whole { count, min_vram } => {
            let fitting = || nodes().filter(move |n| n.vram_per_gpu >= min_vram);
            whole_gpu::place(fitting(), job, count).or_else(|| {
                (job.spread && count > 1)
                    .then(|| whole_gpu::spread(fitting(), job, count))
                    .flatten()
            })
        }
        GpuRequest::Fraction { milli, vram } => fraction::place(nodes(), job, milli, vram),
    };
    found.ok_or_else(|| shortfall(nodes()))
}

/// The node's GPU model is one the job accepts (any model for CPU-only work).
fn accepts(job: &Job, node: &NodeState) -> bool {
    matches!(job.gpu, GpuRequest::None)
        || (node.spec.gpus > 0 && job.accepts_model(node.spec.gpu_model.as_ref()))
}

fn fits_host(node: &NodeState, job: &Job) -> bool {
    node.free_cpu >= job.cpu && node.free_memory >= job.memory
}

fn shortfall<'a>(nodes: impl Iterator<Item = &'a NodeState>) -> Miss {
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
mod tests;
