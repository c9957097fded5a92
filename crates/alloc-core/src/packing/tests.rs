#![allow(clippy::unwrap_used)]

use super::*;
use crate::ids::{ClusterName, GpuModelName, NodeName};
use crate::model::NodeSpec;
use crate::state::NodeState;
use crate::units::{CpuMilli, MemMib, MilliGpu};

/// A node of `model` with one GPU per entry of `free` (its free milli) and `cpu` free milli-CPU.
fn node(name: &str, cpu: u64, model: &str, free: &[u64]) -> NodeState {
    let spec = NodeSpec {
        name: NodeName::new(name),
        cluster: ClusterName::new("test"),
        labels: Default::default(),
        cpu: CpuMilli(cpu),
        memory: MemMib(1_000_000),
        gpu_model: (!model.is_empty()).then(|| GpuModelName::new(model)),
        gpus: free.len() as u32,
    };
    let mut state = NodeState::new(spec, None);
    for (gpu, f) in state.gpus.iter_mut().zip(free) {
        gpu.free = MilliGpu(*f);
    }
    state
}

fn pod(cpu: u64, count: u32, milli: u64) -> PodShape {
    PodShape::gpus(CpuMilli(cpu), MemMib(1), count, MilliGpu(milli))
}

fn repeat(shape: &PodShape, times: usize) -> Vec<PodShape> {
    vec![shape.clone(); times]
}

fn packer(nodes: Vec<NodeState>, mix: &TargetMix, policy: PackPolicy) -> Packer {
    let priorities = (0..nodes.len() as u32).collect();
    Packer::new(nodes, mix, policy, priorities).unwrap()
}

#[test]
fn mix_keeps_smallest_prefix_covering_95_percent() {
    let (a, b, c, d) = (
        pod(1000, 1, 500),
        pod(2000, 1, 1000),
        pod(0, 0, 0),
        pod(4000, 2, 1000),
    );
    let mut shapes = repeat(&a, 50);
    shapes.extend(repeat(&b, 30));
    shapes.extend(repeat(&c, 15));
    shapes.extend(repeat(&d, 5));
    let mix = TargetMix::from_shapes(&shapes);
    assert_eq!(mix.classes().len(), 3, "50+30+15 = 95% is enough");
    assert_eq!(mix.total(), 95);
    assert_eq!(mix.classes()[0].gpu_milli, MilliGpu(500));
    assert!((mix.popularity(0) - 50.0 / 95.0).abs() < 1e-12);

    // One pod short of 95% forces the next class in.
    shapes.retain(|s| s != &c);
    shapes.extend(repeat(&c, 14));
    shapes.push(d.clone());
    let mix = TargetMix::from_shapes(&shapes);
    assert_eq!(mix.classes().len(), 4);
    assert_eq!(mix.total(), 100);
}

#[test]
fn mix_breaks_count_ties_by_larger_class_first() {
    let mut shapes = repeat(&pod(1000, 1, 200), 10);
    shapes.extend(repeat(&pod(3000, 1, 200), 10));
    let mix = TargetMix::with_coverage(&shapes, 50);
    assert_eq!(mix.classes().len(), 1);
    assert_eq!(mix.classes()[0].cpu, CpuMilli(3000));
}

#[test]
fn node_fragmentation_follows_the_definition() {
    // M: half 600-milli pods needing 4 cores, half CPU-only pods.
    let mut shapes = repeat(&pod(4000, 1, 600), 5);
    shapes.extend(repeat(&PodShape::cpu_only(CpuMilli(1000), MemMib(1)), 5));
    let mix = TargetMix::from_shapes(&shapes);
    // GPUs free 1000, 500, 0: idle 1500. The 600 class fits and counts only the 500 GPU;
    // the CPU-only class counts all idle. F = ½·500 + ½·1500 = 1000.
    let fits = node("a", 8000, "T4", &[1000, 500, 0]);
    assert_eq!(mix.node_fragmentation(&fits), 1000.0);
    // Too little CPU for the 600 class: all idle counts for both classes.
    let starved = node("b", 2000, "T4", &[1000, 500, 0]);
    assert_eq!(mix.node_fragmentation(&starved), 1500.0);
    // No GPU big enough: all idle counts.
    let small = node("c", 8000, "T4", &[500, 500]);
    assert_eq!(mix.node_fragmentation(&small), 1000.0);
    // A model the class may not use: all idle counts.
    let restricted = TargetMix::from_shapes(&repeat(&pod(4000, 1, 600).on_models(&["V100"]), 3));
    assert_eq!(restricted.node_fragmentation(&fits), 1500.0);
    // Memory never enters: a node without memory fragments the same.
    let mut no_memory = fits.clone();
    no_memory.free_memory = MemMib(0);
    assert_eq!(mix.node_fragmentation(&no_memory), 1000.0);
}

#[test]
fn incremental_fragmentation_matches_the_definition() {
    let mut shapes = repeat(&pod(4000, 1, 600), 4);
    shapes.extend(repeat(&pod(2000, 1, 250), 3));
    shapes.extend(repeat(&pod(8000, 2, 1000), 2));
    shapes.extend(repeat(&PodShape::cpu_only(CpuMilli(3000), MemMib(1)), 1));
    let mix = TargetMix::from_shapes(&shapes);
    let nodes = vec![
        node("a", 32_000, "T4", &[1000; 4]),
        node("b", 16_000, "V100", &[1000, 1000]),
        node("c", 64_000, "T4", &[1000; 8]),
    ];
    for policy in PackPolicy::ALL {
        let mut packer = packer(nodes.clone(), &mix, policy);
        for (step, shape) in shapes.iter().cycle().take(40).enumerate() {
            let demand = packer.demand(shape).unwrap();
            packer.pack(&demand);
            let mut sum = 0.0;
            for (index, state) in packer.nodes().iter().enumerate() {
                let oracle = mix.node_fragmentation(state);
                assert!(
                    (packer.node_fragmentation(index) - oracle).abs() < 1e-9,
                    "{policy} step {step}"
                );
                sum += oracle;
            }
            assert!((packer.fragmentation() - sum).abs() < 1e-6);
            let idle: u64 = packer
                .nodes()
                .iter()
                .flat_map(|n| &n.gpus)
                .map(|g| g.free.0)
                .sum();
            assert_eq!(packer.idle_milli().0, idle);
            assert_eq!(packer.allocated_milli().0 + idle, packer.capacity_milli().0);
        }
    }
}

#[test]
fn best_fit_prefers_the_fullest_node_and_tightest_gpu() {
    let mix = TargetMix::default();
    let nodes = vec![
        node("roomy", 64_000, "T4", &[1000; 4]),
        node("tight", 64_000, "T4", &[1000, 700, 300, 400]),
    ];
    let mut bf = packer(nodes.clone(), &mix, PackPolicy::BestFit);
    let demand = bf.demand(&pod(1000, 1, 300)).unwrap();
    assert_eq!(
        bf.select(&demand),
        Some(Choice {
            node: 1,
            gpus: GpuSet::single(2)
        })
    );
    let mut wf = packer(nodes, &mix, PackPolicy::WorstFit);
    let demand = wf.demand(&pod(1000, 1, 300)).unwrap();
    assert_eq!(
        wf.select(&demand),
        Some(Choice {
            node: 0,
            gpus: GpuSet::single(0)
        })
    );
}

#[test]
fn best_fit_equal_scores_fall_to_priority() {
    // Equal raw scores normalise to 0 everywhere (the range is empty): the priority decides.
    let mix = TargetMix::default();
    let nodes = vec![
        node("a", 10_000, "T4", &[1000]),
        node("b", 10_000, "T4", &[1000]),
    ];
    let mut bf = Packer::new(nodes, &mix, PackPolicy::BestFit, vec![7, 2]).unwrap();
    let demand = bf.demand(&pod(1000, 1, 1000)).unwrap();
    assert_eq!(bf.select(&demand).map(|c| c.node), Some(1));
}

#[test]
fn fgd_fills_the_gap_a_fraction_fits() {
    // M: whole-GPU pods only. A 500 pod on the half-used GPU removes 500 of fragment
    // (score ⌊100·σ(0.5)⌋ = 62); on an empty node it creates 500 (⌊100·σ(−0.5)⌋ = 37).
    let mix = TargetMix::from_shapes(&repeat(&pod(1000, 1, 1000), 4));
    let nodes = vec![
        node("empty", 32_000, "T4", &[1000, 1000]),
        node("half", 32_000, "T4", &[1000, 500]),
    ];
    let mut fgd = packer(nodes, &mix, PackPolicy::Fgd);
    let demand = fgd.demand(&pod(1000, 1, 500)).unwrap();
    assert_eq!(
        fgd.select(&demand),
        Some(Choice {
            node: 1,
            gpus: GpuSet::single(1)
        })
    );
    assert_eq!(policy::fgd_score(500, 1), 62);
    assert_eq!(policy::fgd_score(-500, 1), 37);
}

#[test]
fn fgd_whole_gpus_take_lowest_free_indices() {
    let mix = TargetMix::from_shapes(&repeat(&pod(1000, 1, 1000), 4));
    let nodes = vec![node("a", 32_000, "T4", &[500, 1000, 1000, 1000])];
    let mut fgd = packer(nodes, &mix, PackPolicy::Fgd);
    let demand = fgd.demand(&pod(1000, 2, 1000)).unwrap();
    let choice = fgd.select(&demand).unwrap();
    assert_eq!(choice.gpus.indices().collect::<Vec<_>>(), vec![1, 2]);
}

#[test]
fn ties_go_to_the_lowest_priority_number() {
    let mix = TargetMix::from_shapes(&repeat(&pod(1000, 1, 1000), 4));
    let nodes = vec![
        node("a", 32_000, "T4", &[1000]),
        node("b", 32_000, "T4", &[1000]),
        node("c", 32_000, "T4", &[1000]),
    ];
    for policy in PackPolicy::ALL {
        let mut packer = Packer::new(nodes.clone(), &mix, policy, vec![4, 9, 1]).unwrap();
        let demand = packer.demand(&pod(1000, 1, 1000)).unwrap();
        assert_eq!(packer.select(&demand).map(|c| c.node), Some(2), "{policy}");
    }
}

#[test]
fn infeasible_pods_get_no_choice() {
    let mix = TargetMix::default();
    let nodes = vec![
        node("a", 4000, "T4", &[1000, 600]),
        node("b", 64_000, "V100", &[300]),
    ];
    for policy in PackPolicy::ALL {
        let mut packer = packer(nodes.clone(), &mix, policy);
        let cpu = packer
            .demand(&pod(8000, 1, 100).on_models(&["T4"]))
            .unwrap();
        assert_eq!(packer.select(&cpu), None, "{policy}: CPU");
        let gpus = packer.demand(&pod(1000, 2, 1000)).unwrap();
        assert_eq!(packer.select(&gpus), None, "{policy}: two whole GPUs");
        let model = packer
            .demand(&pod(1000, 1, 100).on_models(&["A100"]))
            .unwrap();
        assert_eq!(packer.select(&model), None, "{policy}: model");
        let mut memory = pod(1000, 1, 100);
        memory.memory = MemMib(2_000_000);
        let memory = packer.demand(&memory).unwrap();
        assert_eq!(packer.select(&memory), None, "{policy}: memory");
        let fraction = packer
            .demand(&pod(1000, 1, 500).on_models(&["V100", "T4"]))
            .unwrap();
        assert_eq!(
            packer.select(&fraction).map(|c| c.node),
            Some(0),
            "{policy}: fraction"
        );
    }
}

#[test]
fn bad_shapes_and_choices_are_refused() {
    assert!(matches!(
        pod(0, 2, 500).validate(),
        Err(ShapeError::SharedMultiGpu { .. })
    ));
    assert!(matches!(
        pod(0, 1, 1200).validate(),
        Err(ShapeError::MilliAboveWhole(1200))
    ));
    assert!(matches!(
        pod(0, 0, 100).validate(),
        Err(ShapeError::MilliWithoutGpus(100))
    ));
    assert!(matches!(
        pod(0, 1, 0).validate(),
        Err(ShapeError::GpusWithoutMilli(1))
    ));
    let mut packer = packer(
        vec![node("a", 1000, "T4", &[1000])],
        &TargetMix::default(),
        PackPolicy::Fgd,
    );
    let demand = packer.demand(&pod(1000, 1, 1000)).unwrap();
    let wrong = Choice {
        node: 3,
        gpus: GpuSet::single(0),
    };
    assert!(matches!(
        packer.place(&demand, wrong),
        Err(PackError::NoRoom { node: 3 })
    ));
    assert!(Packer::new(vec![], &TargetMix::default(), PackPolicy::Fgd, vec![1]).is_err());
    assert_eq!("FGD".parse::<PackPolicy>(), Ok(PackPolicy::Fgd));
    assert!("tetris".parse::<PackPolicy>().is_err());
}

#[test]
fn fgd_pack_breaks_gpu_ties_by_tightest_gpu() {
    // M: 300-milli pods. GPUs free 1000, 700 and 600: after a 300 pod, 1000→700 leaves no
    // fragment (700 ≥ 300), 700→400 none, 600→300 none; all tie on FGD's score. FGD keeps the
    // first GPU; FGD-pack fills the tightest.
    let mix = TargetMix::from_shapes(&repeat(&pod(1000, 1, 300), 4));
    let nodes = vec![node("a", 32_000, "T4", &[1000, 700, 600])];
    let mut fgd = packer(nodes.clone(), &mix, PackPolicy::Fgd);
    let demand = fgd.demand(&pod(1000, 1, 300)).unwrap();
    assert_eq!(fgd.select(&demand).map(|c| c.gpus), Some(GpuSet::single(0)));
    let mut pack = packer(nodes, &mix, PackPolicy::FgdPack);
    let demand = pack.demand(&pod(1000, 1, 300)).unwrap();
    assert_eq!(
        pack.select(&demand).map(|c| c.gpus),
        Some(GpuSet::single(2))
    );
    assert_eq!(policy::fgd_pack_key(0, 1, 300) >> 10, 25);
}
