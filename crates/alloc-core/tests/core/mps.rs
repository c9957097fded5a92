//! MPS packing policies: examples on hand-built nodes, a brute-force oracle on tiny fleets for
//! every policy, and the cycle's invariants under every policy.

use crate::properties::run_history;
use crate::strategies::{history, world};
use alloc_core::placement::{place, MixTracker, MpsPacking};
use alloc_core::state::{Fleet, NodeState};
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    Config, FlavorName, GpuModel, GpuModelName, GpuRequest, Job, MilliGpu, NodeShare, VramMib,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// V100 (16 clients), T4 (48), A100 (48), K80 (no MPS) and "Tiny" (2 clients, 8 GiB), so that
/// client limits are reached with a handful of jobs.
fn config() -> Config {
    ConfigBuilder::new()
        .gpu_model(GpuModel {
            name: "K80".into(),
            vram: VramMib(12_288),
            speed_permille: 300,
            max_mps_clients: 0,
        })
        .gpu_model(GpuModel {
            name: "Tiny".into(),
            vram: VramMib(8_192),
            speed_permille: 500,
            max_mps_clients: 2,
        })
        .private_flavor("f", alloc_core::Tier::Bronze)
        .build()
}

/// One GPU as placed jobs left it: free milli, VRAM in use, MPS clients.
#[derive(Debug, Clone, Copy)]
struct Gpu {
    free: u64,
    vram_used: u64,
    clients: u32,
}

fn idle() -> Gpu {
    Gpu {
        free: 1000,
        vram_used: 0,
        clients: 0,
    }
}

fn used(free: u64, clients: u32) -> Gpu {
    Gpu {
        free,
        vram_used: 0,
        clients,
    }
}

/// A node of flavor `f` with the given model, free CPU and GPUs.
#[derive(Debug, Clone)]
struct Node {
    model: &'static str,
    cpu: u64,
    gpus: Vec<Gpu>,
}

fn fleet(nodes: &[Node]) -> Fleet {
    let config = config();
    let mut fleet = Fleet::default();
    for (index, node) in nodes.iter().enumerate() {
        let name = format!("n{index}");
        let spec = NodeBuilder::new(&name, "f", node.gpus.len() as u32)
            .model(node.model)
            .cpu(node.cpu)
            .build();
        let model = &config.gpu_models[&GpuModelName::new(node.model)];
        let mut state = NodeState::new(spec, Some(model));
        for (gpu, shape) in state.gpus.iter_mut().zip(&node.gpus) {
            gpu.free = MilliGpu(shape.free);
            gpu.free_vram = VramMib(model.vram.0.saturating_sub(shape.vram_used));
            gpu.clients = shape.clients;
        }
        fleet.insert(state, [FlavorName::new("f")]);
    }
    fleet
}

fn tracker(jobs: &[Job]) -> MixTracker {
    let mut tracker = MixTracker::default();
    for job in jobs {
        tracker.record(job);
    }
    tracker
}

/// (node, GPU indices) chosen under `packing`, the mix learned from `seen`.
fn chosen(
    fleet: &Fleet,
    job: &Job,
    packing: MpsPacking,
    seen: &[Job],
) -> Option<(String, Vec<u32>)> {
    let shares = place(fleet, &FlavorName::new("f"), job, packing, &tracker(seen)).ok()?;
    let share: &NodeShare = shares.first()?;
    Some((
        share.node.to_string(),
        share.gpus.iter().map(|g| g.index).collect(),
    ))
}

fn at(node: &str, gpus: &[u32]) -> Option<(String, Vec<u32>)> {
    Some((node.to_string(), gpus.to_vec()))
}

fn fractions(milli: u64, times: usize) -> Vec<Job> {
    vec![JobBuilder::fraction(milli, 0).build(); times]
}

// ---------------------------------------------------------------- examples

#[test]
fn best_fit_leaves_least_and_worst_fit_most() {
    let nodes = [
        Node {
            model: "T4",
            cpu: 64_000,
            gpus: vec![idle(), used(400, 1)],
        },
        Node {
            model: "T4",
            cpu: 64_000,
            gpus: vec![used(700, 1)],
        },
    ];
    let fleet = fleet(&nodes);
    let job = JobBuilder::fraction(300, 0).build();
    assert_eq!(
        chosen(&fleet, &job, MpsPacking::BestFit, &[]),
        at("n0", &[1])
    );
    assert_eq!(
        chosen(&fleet, &job, MpsPacking::WorstFit, &[]),
        at("n0", &[0])
    );
}

#[test]
fn worst_fit_ties_go_to_the_node_with_most_cpu_left() {
    let nodes = [
        Node {
            model: "T4",
            cpu: 8_000,
            gpus: vec![idle()],
        },
        Node {
            model: "T4",
            cpu: 32_000,
            gpus: vec![idle()],
        },
    ];
    let job = JobBuilder::fraction(300, 0).build();
    let fleet = fleet(&nodes);
    assert_eq!(
        chosen(&fleet, &job, MpsPacking::WorstFit, &[]),
        at("n1", &[0])
    );
    assert_eq!(
        chosen(&fleet, &job, MpsPacking::BestFit, &[]),
        at("n0", &[0])
    );
}

#[test]
fn fgd_avoids_the_gpu_whose_rest_the_popular_class_cannot_use() {
    // Mostly 300-milli jobs. A 400 job on the 450 GPU (best fit) leaves 50 that no 300 job
    // can use; on the 700 GPU it leaves 300, still a home for one. FGD takes the 700 GPU.
    let nodes = [
        Node {
            model: "T4",
            cpu: 64_000,
            gpus: vec![used(700, 1)],
        },
        Node {
            model: "T4",
            cpu: 64_000,
            gpus: vec![used(450, 1)],
        },
    ];
    let fleet = fleet(&nodes);
    let job = JobBuilder::fraction(400, 0).build();
    let seen = fractions(300, 10);
    assert_eq!(
        chosen(&fleet, &job, MpsPacking::BestFit, &seen),
        at("n1", &[0])
    );
    assert_eq!(chosen(&fleet, &job, MpsPacking::Fgd, &seen), at("n0", &[0]));
    assert_eq!(
        chosen(&fleet, &job, MpsPacking::FgdPack, &seen),
        at("n0", &[0])
    );
}

#[test]
fn fgd_pack_breaks_score_ties_by_the_tightest_gpu() {
    // 300-milli jobs only: 1000→700, 700→400 and 600→300 all leave a home for the next one.
    let nodes = [Node {
        model: "T4",
        cpu: 64_000,
        gpus: vec![idle(), used(700, 1), used(600, 1)],
    }];
    let fleet = fleet(&nodes);
    let job = JobBuilder::fraction(300, 0).build();
    let seen = fractions(300, 4);
    assert_eq!(chosen(&fleet, &job, MpsPacking::Fgd, &seen), at("n0", &[0]));
    assert_eq!(
        chosen(&fleet, &job, MpsPacking::FgdPack, &seen),
        at("n0", &[2])
    );
}

#[test]
fn a_gpu_at_its_client_limit_is_fragment_and_takes_no_fraction() {
    // Tiny takes 2 clients: its first GPU is full by clients though 800 milli are free.
    let nodes = [Node {
        model: "Tiny",
        cpu: 64_000,
        gpus: vec![used(800, 2), used(500, 1)],
    }];
    let fleet = fleet(&nodes);
    let job = JobBuilder::fraction(200, 0).build();
    let seen = fractions(200, 4);
    for packing in MpsPacking::ALL {
        assert_eq!(
            chosen(&fleet, &job, packing, &seen),
            at("n0", &[1]),
            "{packing:?}"
        );
    }
    let mix = tracker(&seen);
    let node = fleet.node(&"n0".into()).unwrap();
    // The 800 free on the full GPU cannot host a 200 job: all of it is fragment.
    assert_eq!(
        mix.mix().scaled_fragmentation(node, node.max_mps_clients),
        4 * 800
    );
}

#[test]
fn a_gpu_without_the_vram_is_fragment_for_the_class() {
    // 4 GiB jobs; the first GPU has 1 GiB of VRAM left.
    let nodes = [Node {
        model: "T4",
        cpu: 64_000,
        gpus: vec![
            Gpu {
                free: 900,
                vram_used: 15_360,
                clients: 1,
            },
            idle(),
        ],
    }];
    let fleet = fleet(&nodes);
    let job = JobBuilder::fraction(100, 4_096).build();
    let seen = vec![job.clone(); 3];
    for packing in MpsPacking::ALL {
        assert_eq!(
            chosen(&fleet, &job, packing, &seen),
            at("n0", &[1]),
            "{packing:?}"
        );
    }
    let mix = tracker(&seen);
    let node = fleet.node(&"n0".into()).unwrap();
    assert_eq!(
        mix.mix().scaled_fragmentation(node, node.max_mps_clients),
        3 * 900
    );
}

#[test]
fn no_policy_puts_a_fraction_on_a_gpu_without_mps() {
    let nodes = [Node {
        model: "K80",
        cpu: 64_000,
        gpus: vec![idle(), idle()],
    }];
    let fleet = fleet(&nodes);
    let job = JobBuilder::fraction(100, 0).build();
    for packing in MpsPacking::ALL {
        assert_eq!(
            chosen(&fleet, &job, packing, std::slice::from_ref(&job)),
            None,
            "{packing:?}"
        );
    }
}

#[test]
fn fgd_keeps_a_hole_for_the_popular_multi_gpu_class() {
    // Mostly two-GPU jobs. Best fit puts one GPU on the node with two idle, leaving one; FGD
    // takes it from the node with four so both nodes can still host a two-GPU job.
    let nodes = [
        Node {
            model: "V100",
            cpu: 64_000,
            gpus: vec![idle(); 4],
        },
        Node {
            model: "V100",
            cpu: 64_000,
            gpus: vec![used(0, 0), used(0, 0), idle(), idle()],
        },
    ];
    let fleet = fleet(&nodes);
    let job = JobBuilder::gpus(1).build();
    let mut seen = vec![JobBuilder::gpus(2).build(); 9];
    seen.push(job.clone());
    assert_eq!(
        chosen(&fleet, &job, MpsPacking::BestFit, &seen),
        at("n1", &[2])
    );
    assert_eq!(
        chosen(&fleet, &job, MpsPacking::WorstFit, &seen),
        at("n1", &[2])
    );
    assert_eq!(chosen(&fleet, &job, MpsPacking::Fgd, &seen), at("n0", &[0]));
    assert_eq!(
        chosen(&fleet, &job, MpsPacking::FgdPack, &seen),
        at("n0", &[0])
    );
}

#[test]
fn the_tracker_forgets_the_oldest_submission_and_skips_malformed_ones() {
    let mut tracker = MixTracker::new(3);
    for milli in [100, 200, 300, 400] {
        tracker.record(&JobBuilder::fraction(milli, 0).build());
    }
    tracker.record(&JobBuilder::fraction(0, 0).build());
    tracker.record(&JobBuilder::gpus(0).build());
    assert_eq!(tracker.len(), 3);
    let mut kept: Vec<u64> = tracker
        .mix()
        .classes()
        .iter()
        .map(|c| c.gpu_milli.0)
        .collect();
    kept.sort_unstable();
    assert_eq!(kept, vec![200, 300, 400]);
    assert_eq!(tracker.mix().total(), 3);
}

// ---------------------------------------------------------------- oracle

/// A brute-force candidate: node index and the GPUs it would take.
#[derive(Debug, Clone)]
struct Candidate {
    node: usize,
    gpus: Vec<usize>,
    /// Free milli left on the GPU (fractions) or idle GPUs left on the node (whole GPUs).
    left: u64,
    key: i64,
}

/// FGD's score as the packing module defines it, recomputed here from its formula.
fn oracle_key(packing: MpsPacking, drop_scaled: i64, total: u64, gpu_left: u64) -> i64 {
    let sigmoid = if total == 0 {
        0.5
    } else {
        let x = drop_scaled as f64 / (total as f64 * 1000.0);
        1.0 / (1.0 + (-x).exp())
    };
    match packing {
        MpsPacking::FgdPack => {
            (((sigmoid * 50.0) as i64) << 10) | (1023 - gpu_left.min(1023) as i64)
        }
        _ => (sigmoid * 100.0) as i64,
    }
}

/// Every feasible (node, GPUs) for `job`, with its leftover and FGD key, by exhaustion.
fn candidates(fleet: &Fleet, job: &Job, packing: MpsPacking, mix: &MixTracker) -> Vec<Candidate> {
    let mix = mix.mix();
    let mut found = Vec::new();
    for (index, node) in fleet.nodes().enumerate() {
        if node.free_cpu < job.cpu
            || node.free_memory < job.memory
            || !job.accepts_model(node.spec.gpu_model.as_ref())
        {
            continue;
        }
        let max = node.max_mps_clients;
        let before = mix.scaled_fragmentation(node, max) as i64;
        let mut after = node.clone();
        after.free_cpu -= job.cpu;
        after.free_memory -= job.memory;
        match job.gpu {
            GpuRequest::Fraction { milli, vram } => {
                for (gpu, state) in node.gpus.iter().enumerate() {
                    if max == 0
                        || state.free < milli
                        || state.free_vram < vram
                        || state.clients >= max
                    {
                        continue;
                    }
                    let mut trial = after.clone();
                    trial.gpus[gpu].free -= milli;
                    trial.gpus[gpu].free_vram -= vram;
                    trial.gpus[gpu].clients += 1;
                    let left = trial.gpus[gpu].free.0;
                    let drop = before - mix.scaled_fragmentation(&trial, max) as i64;
                    found.push(Candidate {
                        node: index,
                        gpus: vec![gpu],
                        left,
                        key: oracle_key(packing, drop, mix.total(), left),
                    });
                }
            }
            GpuRequest::Whole { count, min_vram } => {
                let idle: Vec<usize> = (0..node.gpus.len())
                    .filter(|&g| node.gpus[g].is_idle())
                    .collect();
                if node.vram_per_gpu < min_vram || idle.len() < count as usize {
                    continue;
                }
                let taken: Vec<usize> = idle[..count as usize].to_vec();
                for &gpu in &taken {
                    after.gpus[gpu].free = MilliGpu::ZERO;
                    after.gpus[gpu].free_vram = VramMib::ZERO;
                }
                let drop = before - mix.scaled_fragmentation(&after, max) as i64;
                found.push(Candidate {
                    node: index,
                    gpus: taken,
                    left: (idle.len() - count as usize) as u64,
                    key: oracle_key(packing, drop, mix.total(), 0),
                });
            }
            GpuRequest::None => {}
        }
    }
    found
}

fn gpu_shape() -> impl Strategy<Value = Gpu> {
    prop_oneof![
        2 => Just(idle()),
        3 => (0u64..=20, 0u64..=8, 1u32..=3).prop_map(|(free, vram, clients)| Gpu {
            free: free * 50,
            vram_used: vram * 1_024,
            clients,
        }),
        1 => Just(used(0, 0)),
    ]
}

fn node_shape() -> impl Strategy<Value = Node> {
    (
        prop::sample::select(vec!["V100", "T4", "Tiny", "K80"]),
        prop::sample::select(vec![2_000u64, 8_000, 64_000]),
        prop::collection::vec(gpu_shape(), 1..=4),
    )
        .prop_map(|(model, cpu, gpus)| Node { model, cpu, gpus })
}

fn request() -> impl Strategy<Value = Job> {
    let fraction =
        (1u64..=19, 0u64..=6, 0u64..=3, any::<bool>()).prop_map(|(milli, vram, cpu, t4_only)| {
            let mut job = JobBuilder::fraction(milli * 50, vram * 1_024)
                .cpu(cpu * 2_000)
                .build();
            if t4_only {
                job.gpu_models = Some([GpuModelName::new("T4"), GpuModelName::new("Tiny")].into());
            }
            job
        });
    let whole = (1u32..=3, 0u64..=3, any::<bool>()).prop_map(|(count, cpu, big)| {
        let mut job = JobBuilder::gpus(count).cpu(cpu * 2_000).build();
        if big {
            job.gpu = GpuRequest::Whole {
                count,
                min_vram: VramMib(10_000),
            };
        }
        job
    });
    prop_oneof![3 => fraction, 1 => whole]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// On tiny fleets every policy finds room iff some (node, GPUs) is feasible; best fit and
    /// worst fit leave the least and the most; FGD and FGD-pack choose the brute-force argmax
    /// of their key, ties to the first node by name and then the lowest GPU index.
    #[test]
    fn every_policy_agrees_with_brute_force(
        nodes in prop::collection::vec(node_shape(), 1..=3),
        job in request(),
        seen in prop::collection::vec(request(), 0..=8),
    ) {
        let fleet = fleet(&nodes);
        let mut mix = MixTracker::default();
        for other in seen.iter().chain([&job]) {
            mix.record(other);
        }
        let names: Vec<_> = fleet.nodes().map(|n| n.spec.name.clone()).collect();
        for packing in MpsPacking::ALL {
            let all = candidates(&fleet, &job, packing, &mix);
            let placed = place(&fleet, &FlavorName::new("f"), &job, packing, &mix);
            prop_assert_eq!(placed.is_ok(), !all.is_empty(), "{:?}", packing);
            let Ok(shares) = placed else { continue };
            prop_assert_eq!(shares.len(), 1);
            let share = &shares[0];
            let node = names.iter().position(|n| *n == share.node).unwrap();
            let gpus: Vec<usize> = share.gpus.iter().map(|g| g.index as usize).collect();
            let pick = all.iter().find(|c| c.node == node && c.gpus == gpus);
            prop_assert!(pick.is_some(), "{:?} chose an infeasible {:?}", packing, share);
            let pick = pick.unwrap();
            let fraction = matches!(job.gpu, GpuRequest::Fraction { .. });
            match packing {
                MpsPacking::BestFit => {
                    prop_assert_eq!(pick.left, all.iter().map(|c| c.left).min().unwrap());
                }
                MpsPacking::WorstFit if fraction => {
                    prop_assert_eq!(pick.left, all.iter().map(|c| c.left).max().unwrap());
                }
                MpsPacking::WorstFit => {
                    // Whole GPUs go best fit under worst fit too.
                    prop_assert_eq!(pick.left, all.iter().map(|c| c.left).min().unwrap());
                }
                MpsPacking::Fgd | MpsPacking::FgdPack => {
                    // Candidates come node by node (by name), GPUs in index order: the first
                    // of the highest key is the tie rule.
                    let best = all.iter().map(|c| c.key).max().unwrap();
                    let first = all.iter().find(|c| c.key == best).unwrap();
                    prop_assert_eq!(
                        (first.node, &first.gpus),
                        (node, &gpus),
                        "{:?}: keys {:?}",
                        packing,
                        all.iter().map(|c| (c.node, c.gpus.clone(), c.key)).collect::<Vec<_>>()
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------- cycles

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        max_shrink_iters: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Under every policy, every cycle keeps the invariants (milli ≤ 1000, VRAM ≤ capacity and
    /// clients ≤ the model's limit on every GPU among them), placements match their jobs and
    /// reordering simultaneous inputs changes nothing. V100 takes only two clients here so the
    /// limit is reached.
    #[test]
    fn every_policy_keeps_the_invariants(world in world(), steps in history(40), seed in any::<u64>()) {
        for packing in MpsPacking::ALL {
            let mut world = world.clone();
            world.policy.mps_packing = packing;
            let models: &mut BTreeMap<GpuModelName, GpuModel> = &mut world.config.gpu_models;
            if let Some(v100) = models.get_mut(&GpuModelName::new("V100")) {
                v100.max_mps_clients = 2;
            }
            run_history(&world, &steps, seed)?;
        }
    }
}
