//! BestFit and WorstFit as FGD's simulator implements them: a raw score per feasible node from
//! the CPU and GPU left after placing, min–max normalised over the feasible nodes in integers
//! (which can merge close raw scores into ties), highest wins.

use super::{Demand, Packer};
use crate::packing::policy::{self, PackPolicy};
use crate::packing::shape::{Choice, GpuSet};

impl Packer {
    /// BestFit / WorstFit: raw scores of feasible nodes, min–max normalised, highest wins.
    pub(super) fn select_fit(&mut self, demand: &Demand) -> Option<Choice> {
        let mut scores = std::mem::take(&mut self.fit_scores);
        scores.clear();
        let (mut lowest, mut highest) = (i64::MAX, i64::MIN);
        for (index, summary) in self.summaries.iter().enumerate() {
            if !summary.fits(demand) {
                continue;
            }
            let cpu_left = summary.cpu - demand.cpu;
            let gpu_left = summary.gpu_free - demand.total_milli().0;
            let raw = match self.policy {
                PackPolicy::WorstFit => policy::worst_fit_raw(cpu_left, gpu_left),
                _ => policy::best_fit_raw(cpu_left, gpu_left),
            };
            lowest = lowest.min(raw);
            highest = highest.max(raw);
            scores.push((index, raw));
        }
        let mut best: Option<(i64, u32, usize)> = None;
        for &(index, raw) in &scores {
            let score = policy::normalise(raw, lowest, highest);
            let priority = self.priorities[index];
            if best.is_none_or(|(s, p, _)| score > s || (score == s && priority < p)) {
                best = Some((score, priority, index));
            }
        }
        self.fit_scores = scores;
        let (_, _, node) = best?;
        let gpus = if demand.fractional() {
            self.gpu_by_fit(node, demand.milli)
        } else {
            self.whole_gpus(node, demand.count)
        };
        Some(Choice { node, gpus })
    }

    /// BestFit: the GPU with the least sufficient free milli; WorstFit: the most. First wins.
    fn gpu_by_fit(&self, node: usize, milli: u64) -> GpuSet {
        let worst = self.policy == PackPolicy::WorstFit;
        let mut pick: Option<(usize, u64)> = None;
        for (index, gpu) in self.nodes[node].gpus.iter().enumerate() {
            let free = gpu.free.0;
            let better = |(_, f): (usize, u64)| if worst { free > f } else { free < f };
            if free >= milli && pick.is_none_or(better) {
                pick = Some((index, free));
            }
        }
        pick.map_or(GpuSet::EMPTY, |(index, _)| GpuSet::single(index))
    }
}
