//! Placement on a hand-built fleet: whole-GPU best fit, spreading, MPS fraction best fit (VRAM
//! and client limits), CPU-only placement and the capacity shortfall report.
#![allow(clippy::unwrap_used)]

use super::{place as place_with, MixTracker, MpsPacking};
use crate::decision::{Miss, NodeShare};
use crate::ids::FlavorName;
use crate::model::{Config, GpuModel, Job, NodeSpec, Quota, Tier};
use crate::state::{Fleet, NodeState};
use crate::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use crate::units::{CpuMilli, MemMib, MilliGpu, VramMib};

fn config() -> Config {
    ConfigBuilder::new()
        .gpu_model(GpuModel {
            name: "K80".into(),
            vram: VramMib(12_288),
            speed_permille: 300,
            max_mps_clients: 0,
        })
        .private_flavor("f", Tier::Bronze)
        .private_flavor("other", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(1_000_000))])
        .build()
}

/// A fleet of the given nodes, each selected by the flavors of `config()`.
fn fleet(nodes: Vec<NodeSpec>) -> Fleet {
    let config = config();
    let mut fleet = Fleet::default();
    for spec in nodes {
        let model = spec
            .gpu_model
            .as_ref()
            .and_then(|m| config.gpu_models.get(m));
        fleet.add(NodeState::new(spec, model), &config.flavors);
    }
    fleet
}

fn node(name: &str, gpus: u32) -> NodeBuilder {
    NodeBuilder::new(name, "f", gpus)
}

/// Marks GPUs of a node busy (whole) so that only the others are idle.
fn occupy(fleet: &mut Fleet, node: &str, indices: &[usize]) {
    fleet.update_node(&node.into(), |state| {
        for &index in indices {
            state.gpus[index].free = MilliGpu::ZERO;
            state.gpus[index].free_vram = VramMib::ZERO;
        }
    });
}

/// Books an MPS share on one GPU as the ledger would.
fn share(fleet: &mut Fleet, node: &str, index: usize, milli: u64, vram: u64) {
    fleet.update_node(&node.into(), |state| {
        let gpu = &mut state.gpus[index];
        gpu.free -= MilliGpu(milli);
        gpu.free_vram -= VramMib(vram);
        gpu.clients += 1;
    });
}

/// Best-fit placement, the default policy these examples describe.
fn place(fleet: &Fleet, flavor: &FlavorName, job: &Job) -> Result<Vec<NodeShare>, Miss> {
    place_with(
        fleet,
        flavor,
        job,
        MpsPacking::BestFit,
        &MixTracker::default(),
    )
}

fn f() -> FlavorName {
    FlavorName::new("f")
}

fn placed(fleet: &Fleet, job: &Job) -> Vec<NodeShare> {
    place(fleet, &f(), job).unwrap()
}

/// (node, GPU indices) of each share.
fn layout(shares: &[NodeShare]) -> Vec<(String, Vec<u32>)> {
    shares
        .iter()
        .map(|s| (s.node.to_string(), s.gpus.iter().map(|g| g.index).collect()))
        .collect()
}

// ---------------------------------------------------------------- whole GPUs

#[test]
fn whole_gpus_go_to_the_node_left_with_fewest_idle_gpus() {
    let fleet = fleet(vec![
        node("big", 8).build(),
        node("mid", 4).build(),
        node("small", 2).build(),
    ]);
    assert_eq!(
        layout(&placed(&fleet, &JobBuilder::gpus(2).build())),
        [("small".to_string(), vec![0, 1])]
    );
    assert_eq!(
        layout(&placed(&fleet, &JobBuilder::gpus(3).build())),
        [("mid".to_string(), vec![0, 1, 2])]
    );
    assert_eq!(
        layout(&placed(&fleet, &JobBuilder::gpus(5).build())),
        [("big".to_string(), vec![0, 1, 2, 3, 4])]
    );
}

#[test]
fn whole_gpus_take_the_lowest_idle_indices_and_book_full_vram() {
    let mut fleet = fleet(vec![node("a", 4).build()]);
    occupy(&mut fleet, "a", &[0, 2]);
    let shares = placed(&fleet, &JobBuilder::gpus(2).cpu(3000).memory(100).build());
    assert_eq!(layout(&shares), [("a".to_string(), vec![1, 3])]);
    assert!(shares[0]
        .gpus
        .iter()
        .all(|g| g.milli == MilliGpu::WHOLE && g.vram == VramMib(16_384)));
    assert_eq!(
        (shares[0].cpu, shares[0].memory),
        (CpuMilli(3000), MemMib(100))
    );
}

#[test]
fn a_gpu_shared_by_mps_clients_is_not_idle() {
    let mut fleet = fleet(vec![node("a", 2).build()]);
    share(&mut fleet, "a", 0, 100, 1000);
    assert_eq!(
        layout(&placed(&fleet, &JobBuilder::gpus(1).build())),
        [("a".to_string(), vec![1])]
    );
    assert!(place(&fleet, &f(), &JobBuilder::gpus(2).build()).is_err());
}

#[test]
fn whole_gpu_ties_break_on_cpu_then_memory_then_name() {
    let fleet1 = fleet(vec![
        node("a", 2).cpu(64_000).build(),
        node("b", 2).cpu(8_000).build(),
    ]);
    assert_eq!(
        placed(&fleet1, &JobBuilder::gpus(1).build())[0]
            .node
            .as_str(),
        "b"
    );
    let fleet2 = fleet(vec![
        node("a", 2).memory(100_000).build(),
        node("b", 2).memory(50_000).build(),
    ]);
    assert_eq!(
        placed(&fleet2, &JobBuilder::gpus(1).build())[0]
            .node
            .as_str(),
        "b"
    );
    let fleet3 = fleet(vec![node("b", 2).build(), node("a", 2).build()]);
    assert_eq!(
        placed(&fleet3, &JobBuilder::gpus(1).build())[0]
            .node
            .as_str(),
        "a"
    );
}

#[test]
fn whole_gpus_skip_nodes_short_of_host_cpu_or_memory() {
    let fleet = fleet(vec![
        node("tight", 1).cpu(2_000).memory(1_000).build(),
        node("roomy", 4).build(),
    ]);
    let hungry = JobBuilder::gpus(1).cpu(4_000).build();
    assert_eq!(placed(&fleet, &hungry)[0].node.as_str(), "roomy");
    let memory = JobBuilder::gpus(1).cpu(1_000).memory(2_000).build();
    assert_eq!(placed(&fleet, &memory)[0].node.as_str(), "roomy");
    let fits = JobBuilder::gpus(1).cpu(2_000).memory(1_000).build();
    assert_eq!(placed(&fleet, &fits)[0].node.as_str(), "tight");
}

#[test]
fn whole_gpus_honour_min_vram_and_gpu_models() {
    let fleet = fleet(vec![
        node("v100", 1).build(),
        node("t4", 1).model("T4").build(),
        node("a100", 4).model("A100").build(),
    ]);
    let mut big = JobBuilder::gpus(1).build();
    big.gpu = crate::model::GpuRequest::Whole {
        count: 1,
        min_vram: VramMib(40_000),
    };
    assert_eq!(placed(&fleet, &big)[0].node.as_str(), "a100");
    let t4 = JobBuilder::gpus(1).models(&["T4"]).build();
    assert_eq!(placed(&fleet, &t4)[0].node.as_str(), "t4");
    let none = JobBuilder::gpus(1).models(&["H100"]).build();
    assert_eq!(
        place(&fleet, &f(), &none),
        Err(Miss::Capacity {
            nodes: 0,
            most_free_gpus: 0,
            most_free_milli: MilliGpu::ZERO,
        })
    );
}

#[test]
fn only_nodes_of_the_flavor_are_considered() {
    let fleet = fleet(vec![
        NodeBuilder::new("elsewhere", "other", 8).build(),
        node("here", 1).build(),
    ]);
    assert_eq!(
        placed(&fleet, &JobBuilder::gpus(1).build())[0]
            .node
            .as_str(),
        "here"
    );
    assert!(place(&fleet, &f(), &JobBuilder::gpus(2).build()).is_err());
}

// ---------------------------------------------------------------- spreading

#[test]
fn spreading_is_only_tried_when_no_single_node_fits() {
    let fleet = fleet(vec![node("a", 4).build(), node("b", 4).build()]);
    let job = JobBuilder::gpus(4).spread().build();
    assert_eq!(
        layout(&placed(&fleet, &job)),
        [("a".to_string(), vec![0, 1, 2, 3])]
    );
}

#[test]
fn spreading_fills_the_nodes_with_most_idle_gpus_first() {
    let fleet = fleet(vec![
        node("two", 2).build(),
        node("four", 4).build(),
        node("three", 3).build(),
    ]);
    let job = JobBuilder::gpus(6).spread().cpu(6_000).memory(600).build();
    let shares = placed(&fleet, &job);
    assert_eq!(
        layout(&shares),
        [
            ("four".to_string(), vec![0, 1, 2, 3]),
            ("three".to_string(), vec![0, 1]),
        ]
    );
    // CPU and memory follow the GPUs, rounded up
    assert_eq!(
        (shares[0].cpu, shares[0].memory),
        (CpuMilli(4_000), MemMib(400))
    );
    assert_eq!(
        (shares[1].cpu, shares[1].memory),
        (CpuMilli(2_000), MemMib(200))
    );
    let odd = JobBuilder::gpus(7).spread().cpu(1_000).memory(1).build();
    let shares = placed(&fleet, &odd);
    let cpu: u64 = shares.iter().map(|s| s.cpu.0).sum();
    assert!(cpu >= 1_000, "proportional CPU must not under-book: {cpu}");
    assert!(shares.iter().all(|s| s.memory >= MemMib(1)));
}

#[test]
fn spreading_skips_a_node_without_host_room_for_its_share() {
    let fleet = fleet(vec![
        node("starved", 4).cpu(500).build(),
        node("a", 2).build(),
        node("b", 2).build(),
    ]);
    let job = JobBuilder::gpus(4).spread().cpu(4_000).build();
    assert_eq!(
        layout(&placed(&fleet, &job)),
        [("a".to_string(), vec![0, 1]), ("b".to_string(), vec![0, 1])]
    );
}

/// A node whose host room covers only part of the GPUs it could give used to be skipped
/// whole, so the job waited although `big` (3 of its 4 GPUs) + `one` had room; and taking a GPU
/// of `big` away made the same job fit.
#[test]
fn spreading_takes_as_many_gpus_as_a_nodes_host_room_allows() {
    // the job needs 1000m CPU per GPU; big has 4 idle GPUs but CPU for 3 only
    let mut fleet = fleet(vec![
        node("big", 4).cpu(3_000).build(),
        node("one", 1).build(),
    ]);
    let job = JobBuilder::gpus(4).spread().cpu(4_000).build();
    let shares = placed(&fleet, &job);
    assert_eq!(
        layout(&shares),
        [
            ("big".to_string(), vec![0, 1, 2]),
            ("one".to_string(), vec![0])
        ]
    );
    assert_eq!(shares[0].cpu, CpuMilli(3_000));
    occupy(&mut fleet, "big", &[3]);
    assert_eq!(placed(&fleet, &job).len(), 2);
}

#[test]
fn without_spread_a_job_bigger_than_any_node_reports_the_largest_hole() {
    let mut fleet = fleet(vec![node("a", 4).build(), node("b", 2).build()]);
    occupy(&mut fleet, "a", &[0]);
    let job = JobBuilder::gpus(4).build();
    assert_eq!(
        place(&fleet, &f(), &job),
        Err(Miss::Capacity {
            nodes: 2,
            most_free_gpus: 3,
            most_free_milli: MilliGpu::WHOLE,
        })
    );
    assert!(place(&fleet, &f(), &JobBuilder::gpus(6).spread().build()).is_err());
    assert_eq!(
        placed(&fleet, &JobBuilder::gpus(5).spread().build()).len(),
        2
    );
}

// ---------------------------------------------------------------- MPS fractions

#[test]
fn fractions_fill_the_fullest_gpu_that_still_has_room() {
    let mut fleet = fleet(vec![node("a", 2).build(), node("b", 2).build()]);
    share(&mut fleet, "a", 1, 300, 1_000);
    share(&mut fleet, "b", 0, 600, 1_000);
    // b/0 has 400 free: a 400 job fills it exactly
    let job = JobBuilder::fraction(400, 1_000).build();
    let shares = placed(&fleet, &job);
    assert_eq!(layout(&shares), [("b".to_string(), vec![0])]);
    assert_eq!(shares[0].gpus[0].milli, MilliGpu(400));
    assert_eq!(shares[0].gpus[0].vram, VramMib(1_000));
    // a 500 job does not fit b/0 and goes to a/1 (700 free), not to an idle GPU
    let job = JobBuilder::fraction(500, 1_000).build();
    assert_eq!(layout(&placed(&fleet, &job)), [("a".to_string(), vec![1])]);
}

#[test]
fn fractions_need_free_vram_on_the_gpu() {
    let mut fleet = fleet(vec![node("a", 2).build()]);
    share(&mut fleet, "a", 0, 100, 16_000);
    let job = JobBuilder::fraction(100, 1_000).build();
    assert_eq!(layout(&placed(&fleet, &job)), [("a".to_string(), vec![1])]);
    let huge = JobBuilder::fraction(100, 20_000).build();
    assert_eq!(
        place(&fleet, &f(), &huge),
        Err(Miss::Capacity {
            nodes: 1,
            most_free_gpus: 1,
            most_free_milli: MilliGpu::WHOLE,
        })
    );
}

#[test]
fn fractions_respect_the_mps_client_limit() {
    let mut fleet = fleet(vec![node("a", 1).build()]);
    // V100: 16 clients
    for _ in 0..16 {
        share(&mut fleet, "a", 0, 10, 10);
    }
    let job = JobBuilder::fraction(10, 10).build();
    assert!(matches!(
        place(&fleet, &f(), &job),
        Err(Miss::Capacity {
            nodes: 1,
            most_free_gpus: 0,
            most_free_milli: MilliGpu(840)
        })
    ));
    let t4 = fleet_with_t4_clients(16);
    assert!(place(&t4, &f(), &job).is_ok(), "T4 takes 48 clients");
}

fn fleet_with_t4_clients(clients: usize) -> Fleet {
    let mut fleet = fleet(vec![node("t", 1).model("T4").build()]);
    for _ in 0..clients {
        share(&mut fleet, "t", 0, 10, 10);
    }
    fleet
}

#[test]
fn fractions_never_go_to_gpus_without_mps() {
    let fleet = fleet(vec![node("k", 4).model("K80").build()]);
    let job = JobBuilder::fraction(100, 100).build();
    assert_eq!(
        place(&fleet, &f(), &job),
        Err(Miss::Capacity {
            nodes: 1,
            most_free_gpus: 4,
            most_free_milli: MilliGpu::ZERO,
        })
    );
    // whole GPUs of the same model are fine
    assert!(place(&fleet, &f(), &JobBuilder::gpus(4).build()).is_ok());
}

#[test]
fn fraction_ties_break_on_cpu_left_then_name_then_index() {
    let fleet1 = fleet(vec![
        node("a", 2).cpu(64_000).build(),
        node("b", 2).cpu(4_000).build(),
    ]);
    let job = JobBuilder::fraction(250, 100).build();
    assert_eq!(layout(&placed(&fleet1, &job)), [("b".to_string(), vec![0])]);
    let fleet2 = fleet(vec![node("b", 2).build(), node("a", 2).build()]);
    assert_eq!(layout(&placed(&fleet2, &job)), [("a".to_string(), vec![0])]);
}

#[test]
fn fractions_skip_nodes_short_of_host_room() {
    let mut fleet = fleet(vec![
        node("tight", 1).cpu(100).build(),
        node("roomy", 1).build(),
    ]);
    share(&mut fleet, "tight", 0, 500, 100);
    let job = JobBuilder::fraction(500, 100).cpu(1_000).build();
    assert_eq!(
        layout(&placed(&fleet, &job)),
        [("roomy".to_string(), vec![0])]
    );
}

// ---------------------------------------------------------------- CPU only

#[test]
fn cpu_only_work_prefers_nodes_with_fewest_idle_gpus() {
    let mut fleet = fleet(vec![
        node("gpu", 4).build(),
        node("cpu", 0).build(),
        node("busy", 2).build(),
    ]);
    let job = JobBuilder::cpu_only().cpu(2_000).build();
    let shares = placed(&fleet, &job);
    assert_eq!(layout(&shares), [("cpu".to_string(), vec![])]);
    assert_eq!(shares[0].cpu, CpuMilli(2_000));
    // without a CPU-only node, the node whose GPUs are all busy comes first
    fleet.remove(&"cpu".into());
    occupy(&mut fleet, "busy", &[0, 1]);
    assert_eq!(
        layout(&placed(&fleet, &job)),
        [("busy".to_string(), vec![])]
    );
}

#[test]
fn cpu_only_work_ignores_gpu_models_and_needs_host_room() {
    let fleet = fleet(vec![
        node("small", 0).cpu(1_000).build(),
        node("t4", 2).model("T4").build(),
    ]);
    let job = JobBuilder::cpu_only().cpu(2_000).models(&["A100"]).build();
    assert_eq!(layout(&placed(&fleet, &job)), [("t4".to_string(), vec![])]);
    let giant = JobBuilder::cpu_only().cpu(1_000_000).build();
    assert_eq!(
        place(&fleet, &f(), &giant),
        Err(Miss::Capacity {
            nodes: 2,
            most_free_gpus: 2,
            most_free_milli: MilliGpu::WHOLE,
        })
    );
}

// ---------------------------------------------------------------- shortfall

#[test]
fn an_empty_flavor_reports_no_nodes() {
    let fleet = fleet(Vec::new());
    assert_eq!(
        place(&fleet, &f(), &JobBuilder::gpus(1).build()),
        Err(Miss::Capacity {
            nodes: 0,
            most_free_gpus: 0,
            most_free_milli: MilliGpu::ZERO,
        })
    );
}

#[test]
fn the_shortfall_counts_only_nodes_whose_model_the_job_accepts() {
    let mut fleet = fleet(vec![
        node("v", 4).build(),
        node("a", 2).model("A100").build(),
        node("cpu", 0).build(),
    ]);
    share(&mut fleet, "a", 0, 900, 100);
    occupy(&mut fleet, "a", &[1]);
    let job = JobBuilder::gpus(3).models(&["A100"]).build();
    assert_eq!(
        place(&fleet, &f(), &job),
        Err(Miss::Capacity {
            nodes: 1,
            most_free_gpus: 0,
            most_free_milli: MilliGpu(100),
        })
    );
}
