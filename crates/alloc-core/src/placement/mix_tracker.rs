//! The target mix the fragmentation-aware policies score against, learned from the live
//! workload: the classes of the last `window` submitted jobs (FGD's M, built from a trace in
//! the static experiment). Recording a submission is O(log classes); the mix and its compiled
//! form are rebuilt lazily, at most once between a change and the next placement that needs
//! them.

use crate::model::{GpuRequest, Job};
use crate::packing::frag::{Class, ModelBits};
use crate::packing::{ClassKey, TargetMix};
use crate::units::{MilliGpu, VramMib};
use std::collections::{BTreeMap, VecDeque};
use std::sync::OnceLock;

/// Counts of the request classes among the last `window` submitted jobs, and the [`TargetMix`]
/// they make: the most popular classes covering 95% of the window, at most
/// [`MixTracker::MAX_CLASSES`] of them. Deterministic: the same submissions in the same order
/// give the same mix, and while the window is not full their order does not matter.
#[derive(Debug, Clone)]
pub struct MixTracker {
    window: usize,
    recent: VecDeque<ClassKey>,
    counts: BTreeMap<ClassKey, u64>,
    compiled: OnceLock<CompiledMix>,
}

/// The mix with its classes compiled for scoring.
#[derive(Debug, Clone)]
pub(crate) struct CompiledMix {
    pub mix: TargetMix,
    pub classes: Vec<Class>,
    pub bits: ModelBits,
}

impl Default for MixTracker {
    fn default() -> MixTracker {
        MixTracker::new(MixTracker::DEFAULT_WINDOW)
    }
}

impl MixTracker {
    /// Submissions remembered by default.
    pub const DEFAULT_WINDOW: usize = 4096;
    /// Classes kept at most: each costs O(GPUs) per node scored, and a live workload's tail
    /// of rare shapes adds little but cost.
    pub const MAX_CLASSES: usize = 64;

    /// A tracker remembering the last `window` submissions (0: none, so the mix stays empty
    /// and the fragmentation policies see every node alike).
    pub fn new(window: usize) -> MixTracker {
        MixTracker {
            window,
            recent: VecDeque::new(),
            counts: BTreeMap::new(),
            compiled: OnceLock::new(),
        }
    }

    /// How many recent submissions the mix is learned from.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Submissions now in the window.
    pub fn len(&self) -> usize {
        self.recent.len()
    }

    /// Whether nothing was submitted yet: no mix to pack for.
    pub fn is_empty(&self) -> bool {
        self.recent.is_empty()
    }

    /// The class a job's request belongs to; `None` for requests the cycle rejects as
    /// malformed (no GPUs, an empty or whole "fraction"), which never run.
    pub fn class_of(job: &Job) -> Option<ClassKey> {
        let (gpu_milli, gpu_count, vram) = match job.gpu {
            GpuRequest::None => (MilliGpu::ZERO, 0, VramMib::ZERO),
            GpuRequest::Whole { count: 0, .. } => return None,
            GpuRequest::Whole { count, min_vram } => (MilliGpu::WHOLE, count, min_vram),
            GpuRequest::Fraction { milli, vram } => {
                if milli == MilliGpu::ZERO || milli >= MilliGpu::WHOLE {
                    return None;
                }
                (milli, 1, vram)
            }
        };
        let allowed_models = match &job.gpu_models {
            Some(models) if gpu_count > 0 => models.iter().cloned().collect(),
            _ => Vec::new(),
        };
        Some(ClassKey {
            cpu: job.cpu,
            gpu_milli,
            gpu_count,
            allowed_models,
            vram,
        })
    }

    /// Counts a submitted job, forgetting the oldest one once the window is full.
    pub fn record(&mut self, job: &Job) {
        let Some(key) = MixTracker::class_of(job) else {
            return;
        };
        if self.window == 0 {
            return;
        }
        if self.recent.len() >= self.window {
            if let Some(oldest) = self.recent.pop_front() {
                if let Some(count) = self.counts.get_mut(&oldest) {
                    *count -= 1;
                    if *count == 0 {
                        self.counts.remove(&oldest);
                    }
                }
            }
        }
        *self.counts.entry(key.clone()).or_default() += 1;
        self.recent.push_back(key);
        self.compiled = OnceLock::new();
    }

    /// The mix as the window stands.
    pub fn mix(&self) -> &TargetMix {
        &self.compiled().mix
    }

    pub(crate) fn compiled(&self) -> &CompiledMix {
        self.compiled.get_or_init(|| {
            let mix = TargetMix::from_counts(
                &self.counts,
                TargetMix::DEFAULT_COVERAGE_PERCENT,
                MixTracker::MAX_CLASSES,
            );
            let mut bits = ModelBits::default();
            for class in mix.classes() {
                for model in &class.allowed_models {
                    bits.insert(model);
                }
            }
            let classes = Class::compile(&mix, |names| bits.mask(names));
            CompiledMix { mix, classes, bits }
        })
    }
}
