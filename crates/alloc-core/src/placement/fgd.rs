//! Fragmentation-aware placement for the live cycle (FGD, Weng et al. ATC'23, and our FGD-pack),
//! scored with the same formulas as the static experiment (`packing`), plus what the live fleet
//! adds: a GPU hosts a class only with the VRAM free and, for a fraction, room for one more MPS
//! client under the node's limit.
//!
//! Score of a placement: Δ = F_n − F_n' (the expected fragmentation it removes, over the mix
//! learned by [`MixTracker`](super::MixTracker)); FGD ranks by ⌊100·sigmoid(Δ/1000)⌋, FGD-pack by
//! ⌊50·sigmoid(Δ/1000)⌋ and then the least free milli left on the GPU. Ties between nodes go to
//! the first node by name; within a node a fraction takes the lowest-index best GPU and whole
//! GPUs the lowest-index idle ones.
//!
//! Candidates come with their name rank, in any order: on a fleet they are one node of each
//! distinct free state (`Fleet::shape_firsts`), since nodes in one state score alike.

use super::fits_host;
use super::mix_tracker::CompiledMix;
use super::whole_gpu;
use super::MpsPacking;
use crate::decision::NodeShare;
use crate::model::Job;
use crate::packing::frag::{self, scaled_fragmentation, ClassStat, Fraction, NodeView, Trial};
use crate::packing::policy;
use crate::state::NodeState;
use crate::units::{MilliGpu, VramMib};

/// Scores trial placements on one node after another, reusing one stats buffer.
pub(crate) struct Scorer<'a> {
    mix: &'a CompiledMix,
    fine: bool,
    stats: Vec<ClassStat>,
}

impl<'a> Scorer<'a> {
    /// `policy` picks the key: FGD's, or FGD-pack's for [`MpsPacking::FgdPack`].
    pub(crate) fn new(mix: &'a CompiledMix, policy: MpsPacking) -> Scorer<'a> {
        Scorer {
            mix,
            fine: policy != MpsPacking::FgdPack,
            stats: vec![ClassStat::default(); mix.classes.len()],
        }
    }

    /// Loads `node`'s class stats; returns its scaled F_n.
    fn load(&mut self, node: &NodeState) -> u64 {
        let max = node.max_mps_clients;
        ClassStat::fill(&mut self.stats, &self.mix.classes, &node.gpus, max);
        let idle = idle(node);
        scaled_fragmentation(
            &self.mix.classes,
            &self.view(node),
            &Trial::none(node.free_cpu.0, idle),
        )
    }

    fn view(&self, node: &NodeState) -> NodeView<'_> {
        NodeView {
            model: self.mix.bits.node(node.spec.gpu_model.as_ref()),
            max_clients: node.max_mps_clients,
            stats: &self.stats,
        }
    }

    fn key(&self, before: u64, after: u64, gpu_left: u64) -> i64 {
        let drop = before as i64 - after as i64;
        let total = self.mix.mix.total();
        if self.fine {
            policy::fgd_score(drop, total)
        } else {
            policy::fgd_pack_key(drop, total, gpu_left)
        }
    }

    /// The best key and GPU index for a fraction on `node`, which must fit the job's host
    /// request; `None` when no GPU of it can take the fraction.
    pub(crate) fn fraction(
        &mut self,
        node: &NodeState,
        job: &Job,
        fraction: Fraction,
    ) -> Option<(i64, usize)> {
        let max = node.max_mps_clients;
        if !node.gpus.iter().any(|gpu| fraction.fits(gpu, max)) {
            return None;
        }
        let before = self.load(node);
        let base = Trial::none(node.free_cpu.0 - job.cpu.0, idle(node) - fraction.milli);
        let view = self.view(node);
        let key = |after, gpu_left| self.key(before, after, gpu_left);
        frag::best_gpu(&self.mix.classes, &view, &node.gpus, base, fraction, key)
    }

    /// The key of taking `count` idle GPUs of `node`, which must have them and fit the job's
    /// host request.
    pub(crate) fn whole(&mut self, node: &NodeState, job: &Job, count: u32) -> i64 {
        let before = self.load(node);
        let taken = u64::from(count) * MilliGpu::WHOLE.0;
        let base = Trial::none(node.free_cpu.0 - job.cpu.0, idle(node) - taken);
        let view = self.view(node);
        let vram = node.vram_per_gpu.0;
        let after = frag::after_whole(&self.mix.classes, &view, base, count, vram);
        self.key(before, after, 0)
    }
}

fn idle(node: &NodeState) -> u64 {
    node.gpus.iter().map(|gpu| gpu.free.0).sum()
}

/// Whether a candidate with `key` at name rank `rank` beats the best so far.
fn beats(best: Option<(i64, u64)>, key: i64, rank: u64) -> bool {
    best.is_none_or(|best| (key, std::cmp::Reverse(rank)) > (best.0, std::cmp::Reverse(best.1)))
}

/// A fraction on the node and GPU with the highest key (ties: first node by name, lowest GPU),
/// among `nodes` given with their name ranks.
pub(super) fn place_fraction<'a>(
    nodes: impl Iterator<Item = (u64, &'a NodeState)>,
    job: &Job,
    milli: MilliGpu,
    vram: VramMib,
    mix: &CompiledMix,
    policy: MpsPacking,
) -> Option<Vec<NodeShare>> {
    let mut scorer = Scorer::new(mix, policy);
    let fraction = Fraction {
        milli: milli.0,
        vram: vram.0,
    };
    let mut best: Option<(i64, u64, &NodeState, usize)> = None;
    for (rank, node) in nodes.filter(|(_, node)| node.max_mps_clients > 0 && fits_host(node, job)) {
        if let Some((key, gpu)) = scorer.fraction(node, job, fraction) {
            if beats(best.map(|(k, r, _, _)| (k, r)), key, rank) {
                best = Some((key, rank, node, gpu));
            }
        }
    }
    let (_, _, node, index) = best?;
    Some(super::fraction_share(node, index, job, milli, vram))
}

/// `count` whole GPUs on the node with the highest key (ties: first by name), among `nodes`
/// given with their name ranks.
pub(super) fn place_whole<'a>(
    nodes: impl Iterator<Item = (u64, &'a NodeState)>,
    job: &Job,
    count: u32,
    mix: &CompiledMix,
    policy: MpsPacking,
) -> Option<Vec<NodeShare>> {
    let mut scorer = Scorer::new(mix, policy);
    let mut best: Option<(i64, u64, &NodeState)> = None;
    for (rank, node) in nodes.filter(|(_, node)| fits_host(node, job) && node.idle_gpus() >= count)
    {
        let key = scorer.whole(node, job, count);
        if beats(best.map(|(k, r, _)| (k, r)), key, rank) {
            best = Some((key, rank, node));
        }
    }
    let (_, _, node) = best?;
    Some(vec![whole_gpu::share(node, count, job.cpu, job.memory)])
}
