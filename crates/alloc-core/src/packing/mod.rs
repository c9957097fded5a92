//! The static packing experiment of FGD (Weng et al., "Beware of Fragmentation", ATC'23):
//! pods arrive one at a time, each is placed once or dropped, nothing leaves. This module holds
//! the pure parts — pod shapes, the target mix, node fragmentation and the policies; the `sim`
//! crate's `pack` command reads traces, orders pods and records the metrics.
//!
//! ## Rules
//! - **Feasible**: CPU and memory fit; the node's GPU model is allowed; a fractional pod needs
//!   one GPU with enough free milli, a whole/multi-GPU pod that many fully free GPUs.
//! - **Fragmentation** F_n = Σ_m p_m · frag_n(m) over the target mix M, in milli-GPU: all of the
//!   node's idle milli-GPU counts unless m needs a GPU, may use the node's model, and fits (GPU
//!   and CPU), in which case only the free milli on GPUs too small for m counts. Memory never
//!   enters.
//! - **Policies** ([`PackPolicy`]): FGD's simulator's BestFit, its mirror WorstFit, FGD, and
//!   FGD-pack (ours: a coarser FGD score, fractional GPU ties to the tightest GPU).
//! - **Scores** are integers, higher better; among equal scores the node with the lowest
//!   caller-given priority wins, and within a node the lowest GPU index.
//!
//! The fragmentation formula and the policies' keys (`frag`, `policy`) are the same code the
//! live cycle's fragmentation-aware MPS policies use (`placement::MpsPacking::Fgd`, `FgdPack`);
//! the live side adds per-GPU VRAM and MPS client limits, which this experiment does not model.
//!
//! ## Speed
//! F_n is kept per node and recomputed only for the node that changed; F_n after a trial
//! placement costs O(|M|) from per-class ledgers; FGD's per-node best for each pod shape is
//! cached until that node changes. No allocation happens per pod.

pub(crate) mod frag;
mod mix;
mod packer;
pub(crate) mod policy;
mod shape;

pub use mix::{ClassKey, MixClass, TargetMix};
pub use packer::{Demand, PackError, Packer};
pub use policy::{PackPolicy, UnknownPolicy};
pub use shape::{Choice, GpuSet, PodShape, ShapeError};

#[cfg(test)]
mod tests;
