use crate::ids::GpuModelName;
use crate::units::VramMib;
use serde::{Deserialize, Serialize};

/// A GPU model as the fleet sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GpuModel {
    /// What nodes, offers and jobs name it by.
    pub name: GpuModelName,
    /// Memory of one GPU.
    pub vram: VramMib,
    /// Throughput relative to the reference GPU that job runtimes are quoted on, in thousandths
    /// (1000 = as fast as the reference; 2000 = twice as fast). An integer so runtimes are exact.
    pub speed_permille: u32,
    /// How many CUDA MPS clients one GPU accepts; 0 means the model is not shared with MPS.
    /// The NVIDIA device plugin gives Volta 16 and Turing and newer 48.
    #[serde(default)]
    pub max_mps_clients: u32,
}

impl GpuModel {
    /// Whether its GPUs can be shared between fractional jobs.
    pub fn mps_capable(&self) -> bool {
        self.max_mps_clients > 0
    }

    /// Runtime on this model of work that takes `reference` on the reference GPU, rounded up.
    pub fn runtime(&self, reference: crate::units::Millis) -> crate::units::Millis {
        reference.at_speed(self.speed_permille)
    }
}
