//! What one pod asks for, as the packing experiment sees it, and the node/GPU choice made for it.

use crate::ids::GpuModelName;
use crate::units::{CpuMilli, MemMib, MilliGpu};

/// One pod's request: host resources, GPUs and the GPU models it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodShape {
    /// CPU asked for.
    pub cpu: CpuMilli,
    /// Host memory asked for.
    pub memory: MemMib,
    /// GPUs asked for; 0 for CPU-only pods.
    pub gpu_count: u32,
    /// Share of each GPU asked for (1000 = a whole GPU); 0 for CPU-only pods.
    pub gpu_milli: MilliGpu,
    /// GPU models the pod may run on, as listed in the trace; empty means any node.
    pub allowed_models: Vec<GpuModelName>,
}

/// Why a pod shape cannot be packed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// More than a whole GPU per GPU.
    #[error("asks for {0} milli-GPU per GPU; at most 1000 (one whole GPU)")]
    MilliAboveWhole(u64),
    /// GPUs without a share of them.
    #[error("asks for {0} GPU(s) but no milli-GPU per GPU")]
    GpusWithoutMilli(u32),
    /// A share of no GPU.
    #[error("asks for {0} milli-GPU but no GPU")]
    MilliWithoutGpus(u64),
    /// Fractions of several GPUs: only one GPU may be shared.
    #[error("asks for {count} GPUs of {milli} milli each; several GPUs must be whole (1000)")]
    SharedMultiGpu {
        /// GPUs asked for.
        count: u32,
        /// The share of each.
        milli: u64,
    },
}

impl PodShape {
    /// A pod that needs no GPU.
    pub fn cpu_only(cpu: CpuMilli, memory: MemMib) -> PodShape {
        PodShape {
            cpu,
            memory,
            gpu_count: 0,
            gpu_milli: MilliGpu::ZERO,
            allowed_models: Vec::new(),
        }
    }

    /// A pod on `count` GPUs, each `milli` thousandths of a GPU.
    pub fn gpus(cpu: CpuMilli, memory: MemMib, count: u32, milli: MilliGpu) -> PodShape {
        PodShape {
            gpu_count: count,
            gpu_milli: milli,
            ..PodShape::cpu_only(cpu, memory)
        }
    }

    /// Restricts the pod to the given GPU models.
    pub fn on_models(mut self, models: &[&str]) -> PodShape {
        self.allowed_models = models.iter().map(|m| GpuModelName::from(*m)).collect();
        self
    }

    /// Milli-GPU over all its GPUs: what "requested" and "allocated" count.
    pub fn total_milli(&self) -> MilliGpu {
        MilliGpu(self.gpu_milli.0.saturating_mul(u64::from(self.gpu_count)))
    }

    /// One GPU, shared: the only kind that chooses among partly used GPUs.
    pub fn is_fractional(&self) -> bool {
        self.gpu_count == 1 && self.gpu_milli < MilliGpu::WHOLE
    }

    /// The shapes the experiment understands: CPU-only, one (partial) GPU, or whole GPUs.
    pub fn validate(&self) -> Result<(), ShapeError> {
        let milli = self.gpu_milli.0;
        let count = self.gpu_count;
        if milli > 1000 {
            Err(ShapeError::MilliAboveWhole(milli))
        } else if count == 0 && milli > 0 {
            Err(ShapeError::MilliWithoutGpus(milli))
        } else if count > 0 && milli == 0 {
            Err(ShapeError::GpusWithoutMilli(count))
        } else if count > 1 && milli < 1000 {
            Err(ShapeError::SharedMultiGpu { count, milli })
        } else {
            Ok(())
        }
    }
}

/// A set of GPU indices on one node (nodes have at most 64 GPUs here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct GpuSet(pub u64);

impl GpuSet {
    /// No GPU.
    pub const EMPTY: GpuSet = GpuSet(0);

    /// The GPU `index` alone.
    pub fn single(index: usize) -> GpuSet {
        GpuSet(1u64 << index)
    }

    /// Adds the GPU `index`.
    pub fn insert(&mut self, index: usize) {
        self.0 |= 1u64 << index;
    }

    /// Whether the GPU `index` is in the set; never for an index past 63.
    pub fn contains(self, index: usize) -> bool {
        index < 64 && self.0 & (1u64 << index) != 0
    }

    /// How many GPUs are in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set has no GPU: a CPU-only pod's choice.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Indices in increasing order.
    pub fn indices(self) -> impl Iterator<Item = usize> {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            (rest != 0).then(|| {
                let index = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                index
            })
        })
    }
}

/// Where a pod goes: a node (its index in the packer) and the GPUs it takes there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The node's index in the packer's node list.
    pub node: usize,
    /// The GPUs it takes there.
    pub gpus: GpuSet,
}
