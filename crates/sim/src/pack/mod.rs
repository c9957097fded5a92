//! `sim pack`: FGD's static packing experiment (ATC'23, see shared/fgd-method.md). Pods of an
//! openb pod list arrive one at a time in a seed-shuffled, inflated order onto the openb GPU
//! nodes; each is placed once by an `alloc_core::packing` policy or dropped; nothing leaves.
//! After every pod the allocation and fragmentation are recorded, and the table columns
//! (allocation ratio by arrived demand, 0…tune·100%) are averaged over seeds.
//!
//! Seeds run in parallel threads; each seed's result depends only on its seed, so the output
//! bytes are the same however many threads run.

mod input;
mod metrics;
mod order;
mod report;

pub use metrics::Columns;
pub use report::{PackReport, SeedRun, Spread};

use crate::error::{Result, SimError};
use alloc_core::packing::{PackError, PackPolicy, Packer, PodShape, TargetMix};
use alloc_core::state::NodeState;
use metrics::Buckets;
use std::path::{Path, PathBuf};

/// A validated `sim pack` invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct PackConfig {
    /// Node list CSV (`openb_node_list_gpu_node.csv`).
    pub nodes: PathBuf,
    /// Pod list CSV (`openb_pod_list_*.csv`).
    pub pods: PathBuf,
    pub policy: PackPolicy,
    /// Inflate the pods to this multiple of GPU capacity (1.3 in the paper).
    pub tune: f64,
    /// One run per seed, reported in this order.
    pub seeds: Vec<u64>,
    /// Where to write the CSV files; nothing is written when `None`.
    pub out: Option<PathBuf>,
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
}

impl PackConfig {
    /// The paper's set-up (FGD, tune 1.3, seed 42) on the given files.
    pub fn new(nodes: impl Into<PathBuf>, pods: impl Into<PathBuf>) -> PackConfig {
        PackConfig {
            nodes: nodes.into(),
            pods: pods.into(),
            policy: PackPolicy::Fgd,
            tune: 1.3,
            seeds: vec![42],
            out: None,
            threads: 0,
        }
    }
}

/// Parses `42..51` (inclusive), `42,43` or a mix such as `1,5..7`.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>> {
    let bad = |reason: String| SimError::BadArgument {
        flag: "--seeds".into(),
        reason,
    };
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| bad(format!("{s:?} is not a seed (a non-negative integer)")))
    };
    let mut seeds = Vec::new();
    for part in text.split(',') {
        if let Some((first, last)) = part.split_once("..") {
            let (first, last) = (number(first)?, number(last)?);
            if last < first || last - first >= 100_000 {
                return Err(bad(format!(
                    "{part:?} is not a range of at most 100000 seeds"
                )));
            }
            seeds.extend(first..=last);
        } else {
            seeds.push(number(part)?);
        }
    }
    Ok(seeds)
}

/// Parses a packing policy name (bestfit, worstfit, fgd, fgd-pack).
pub fn parse_policy(text: &str) -> Result<PackPolicy> {
    text.parse().map_err(
        |e: alloc_core::packing::UnknownPolicy| SimError::BadArgument {
            flag: "--policy".into(),
            reason: e.to_string(),
        },
    )
}

/// Runs the experiment for every seed and writes the CSV files when `config.out` is set.
pub fn run(config: PackConfig) -> Result<PackReport> {
    if !(config.tune.is_finite() && config.tune > 0.0 && config.tune <= 10.0) {
        return Err(SimError::BadArgument {
            flag: "--tune".into(),
            reason: format!("{} is not a demand multiple in (0, 10]", config.tune),
        });
    }
    if config.seeds.is_empty() {
        return Err(SimError::BadArgument {
            flag: "--seeds".into(),
            reason: "no seeds given".into(),
        });
    }
    let experiment = Experiment::load(&config)?;
    let runs = experiment.run_all(&config.seeds, config.threads)?;
    let report = PackReport {
        policy: config.policy,
        tune: config.tune,
        top: experiment.top,
        capacity_milli: experiment.capacity,
        seeds: runs,
    };
    if let Some(dir) = &config.out {
        report.write(dir)?;
    }
    Ok(report)
}

/// The inputs every seed shares.
struct Experiment {
    nodes_path: PathBuf,
    nodes: Vec<NodeState>,
    pods: Vec<PodShape>,
    mix: TargetMix,
    policy: PackPolicy,
    tune: f64,
    top: usize,
    capacity: u64,
}

impl Experiment {
    fn load(config: &PackConfig) -> Result<Experiment> {
        let nodes = input::read_nodes(&config.nodes)?;
        let pods = input::read_pods(&config.pods)?;
        let capacity: u64 = nodes.iter().map(|n| u64::from(n.spec.gpus) * 1000).sum();
        if capacity == 0 {
            return Err(SimError::BadFile {
                path: config.nodes.clone(),
                reason: "no GPUs: allocation ratios need GPU capacity".into(),
            });
        }
        Ok(Experiment {
            nodes_path: config.nodes.clone(),
            mix: TargetMix::from_shapes(&pods),
            nodes,
            pods,
            policy: config.policy,
            tune: config.tune,
            top: (config.tune * 100.0).round() as usize,
            capacity,
        })
    }

    /// Runs the seeds on up to `threads` threads; results in the order of `seeds`.
    fn run_all(&self, seeds: &[u64], threads: usize) -> Result<Vec<SeedRun>> {
        let available = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = if threads == 0 { available } else { threads }.clamp(1, seeds.len());
        let mut results: Vec<Option<Result<SeedRun>>> = Vec::new();
        results.resize_with(seeds.len(), || None);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|worker| {
                    scope.spawn(move || {
                        let mine = (worker..seeds.len()).step_by(threads);
                        mine.map(|i| (i, self.run_seed(seeds[i])))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                // A panicking worker is a bug in this crate, not bad input; re-raise it.
                let done = handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                for (i, result) in done {
                    results[i] = Some(result);
                }
            }
        });
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(self.internal("a seed produced no result"))))
            .collect()
    }

    fn run_seed(&self, seed: u64) -> Result<SeedRun> {
        let priorities = order::node_priorities(self.nodes.len(), seed);
        let mut packer = Packer::new(self.nodes.clone(), &self.mix, self.policy, priorities)
            .map_err(|e| self.pack_error(e))?;
        let demands = self
            .pods
            .iter()
            .map(|pod| packer.demand(pod))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.pack_error(e))?;
        let arrivals = order::arrival_order(&self.pods, self.capacity, self.tune, seed);
        let mut buckets = Buckets::new(self.capacity);
        let (mut arrived, mut placed) = (0u64, 0usize);
        for &pod in &arrivals {
            let demand = &demands[pod];
            arrived += demand.total_milli().0;
            if packer.pack(demand).is_some() {
                placed += 1;
            }
            buckets.record(
                arrived,
                packer.allocated_milli().0,
                packer.fragmentation(),
                packer.idle_milli().0,
            );
        }
        Ok(SeedRun {
            seed,
            pods: arrivals.len(),
            placed,
            dropped: arrivals.len() - placed,
            final_allocation: packer.allocated_milli().0 as f64 * 100.0 / self.capacity as f64,
            columns: buckets.columns(self.top),
        })
    }

    fn pack_error(&self, error: PackError) -> SimError {
        SimError::BadFile {
            path: self.nodes_path.clone(),
            reason: error.to_string(),
        }
    }

    fn internal(&self, reason: &str) -> SimError {
        SimError::BadFile {
            path: Path::new("<pack>").to_path_buf(),
            reason: reason.into(),
        }
    }
}
