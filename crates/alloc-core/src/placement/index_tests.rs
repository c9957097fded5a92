//! Placement on a fleet (`place`, the fit policies answered from the free index) against the
//! scan of the flavor's nodes (`place_among`, which the preemption search places with), under
//! every packing, on random fleets driven through random bookings and releases (in random name
//! order, so ranks are inserted between names and renumbered): the same answer every time,
//! shortfall included, and free and shape indexes that always equal a rebuild from the nodes.
//! Fleets include copies of one node under other names, so that the fragmentation-aware
//! placements, which score one node per distinct state, meet states that several nodes share.
#![allow(clippy::unwrap_used)]

use super::MpsPacking;
use super::{accepts, place, place_among, shortfall_by_scan, MixTracker};
use crate::decision::{Miss, NodeShare, Placement};
use crate::ids::{FlavorName, QueueName};
use crate::model::{Config, GpuModel, GpuRequest, Job, Tier};
use crate::state::{Fleet, NodeState};
use crate::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use crate::units::VramMib;
use proptest::prelude::*;

fn config() -> Config {
    let model = |name: &str, vram: u64, clients: u32| GpuModel {
        name: name.into(),
        vram: VramMib(vram),
        speed_permille: 1000,
        max_mps_clients: clients,
    };
    ConfigBuilder::new()
        .gpu_model(model("K80", 12_288, 0))
        .gpu_model(model("T4", 16_384, 3))
        .private_flavor("f", Tier::Bronze)
        .build()
}

const MODELS: [&str; 3] = ["V100", "K80", "T4"];

/// The scan of the flavor's nodes in name order, and the shortfall the scan reports.
fn place_by_scan(
    fleet: &Fleet,
    flavor: &FlavorName,
    job: &Job,
    packing: MpsPacking,
    mix: &MixTracker,
) -> Result<Vec<NodeShare>, Miss> {
    place_among(fleet.nodes_of(flavor), job, packing, mix)
        .ok_or_else(|| shortfall_by_scan(fleet.nodes_of(flavor).filter(|node| accepts(job, node))))
}

#[derive(Debug, Clone)]
struct NodePlan {
    name: u8,
    model: usize,
    gpus: u32,
    cpu: u64,
    memory: u64,
}

fn node_plan() -> impl Strategy<Value = NodePlan> {
    (0u8..40, 0usize..3, 0u32..5, 1u64..9, 1u64..9).prop_map(|(name, model, gpus, cpu, memory)| {
        NodePlan {
            name,
            model,
            gpus,
            cpu: cpu * 4000,
            memory: memory * 16_384,
        }
    })
}

fn job_plan() -> impl Strategy<Value = Job> {
    let request = prop_oneof![
        Just(GpuRequest::None),
        (1u32..4, 0u64..3).prop_map(|(count, vram)| GpuRequest::Whole {
            count,
            min_vram: VramMib(vram * 8192),
        }),
        (1u64..8, 0u64..4).prop_map(|(eighths, vram)| GpuRequest::Fraction {
            milli: crate::units::MilliGpu(eighths * 125),
            vram: VramMib(vram * 2048),
        }),
    ];
    (
        request,
        0u64..5,
        0u64..5,
        any::<bool>(),
        proptest::option::of(0usize..3),
    )
        .prop_map(|(gpu, cpu, memory, spread, model)| {
            let mut builder = match gpu {
                GpuRequest::None => JobBuilder::cpu_only(),
                GpuRequest::Whole { count, .. } => JobBuilder::gpus(count),
                GpuRequest::Fraction { milli, vram } => JobBuilder::fraction(milli.0, vram.0),
            }
            .cpu(cpu * 2000)
            .memory(memory * 8192);
            if spread {
                builder = builder.spread();
            }
            if let Some(model) = model {
                builder = builder.models(&[MODELS[model]]);
            }
            let mut job = builder.build();
            job.gpu = gpu;
            job
        })
}

fn booking(nodes: Vec<NodeShare>) -> Placement {
    Placement {
        cluster: "private".into(),
        flavor: FlavorName::new("f"),
        tier: Tier::Bronze,
        queue: QueueName::new("q"),
        nodes,
        borrowing: false,
        passed_over: Vec::new(),
        public: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn placement_on_the_fleet_equals_the_scan_of_its_nodes(
        mut nodes in proptest::collection::vec(node_plan(), 1..14),
        copies in proptest::collection::vec((0usize..14, 0u8..40), 0..12),
        shapes in any::<bool>(),
        jobs in proptest::collection::vec((job_plan(), 0..MpsPacking::ALL.len(), any::<bool>()), 1..40),
    ) {
        let config = config();
        let flavor = FlavorName::new("f");
        for (of, name) in copies {
            let copy = NodePlan { name, ..nodes[of % nodes.len()].clone() };
            nodes.push(copy);
        }
        let mut fleet = Fleet::default();
        if shapes {
            fleet.track_shapes();
        }
        for plan in &nodes {
            let mut spec = NodeBuilder::new(&format!("n{:02}", plan.name), "f", plan.gpus)
                .model(MODELS[plan.model])
                .cpu(plan.cpu)
                .memory(plan.memory)
                .build();
            if plan.gpus == 0 {
                spec.gpu_model = None;
            }
            let model = spec.gpu_model.as_ref().and_then(|m| config.gpu_models.get(m));
            fleet.add(NodeState::new(spec, model), &config.flavors);
        }
        let mut booked: Vec<Placement> = Vec::new();
        let mut mix = MixTracker::default();
        for (job, packing, release) in jobs {
            let packing = MpsPacking::ALL[packing];
            mix.record(&job);
            let indexed = place(&fleet, &flavor, &job, packing, &mix);
            let scanned = place_by_scan(&fleet, &flavor, &job, packing, &mix);
            // every packing finds room exactly when any does (`fits` relies on it)
            for other in MpsPacking::ALL {
                let found = place(&fleet, &flavor, &job, other, &mix).is_ok();
                prop_assert_eq!(found, indexed.is_ok(), "{:?} vs {:?}", other, packing);
            }
            prop_assert_eq!(&indexed, &scanned, "job {:?}", job);
            if let Ok(shares) = indexed {
                let placement = booking(shares);
                fleet.book(&placement);
                booked.push(placement);
            }
            if release && !booked.is_empty() {
                let placement = booked.remove(booked.len() / 2);
                fleet.release(&placement);
            }
            prop_assert!(fleet.free_indexes_match_nodes());
        }
    }
}

/// Names that always fall between the same two neighbours use up the rank gap (it halves
/// each time) and force a renumbering; ties must still go to the first node by name.
#[test]
fn ties_go_to_the_first_name_after_ranks_are_renumbered() {
    let config = config();
    let mut fleet = Fleet::default();
    let mut add = |name: String| {
        let spec = NodeBuilder::new(&name, "f", 2).model("V100").build();
        let model = config.gpu_models.get(&"V100".into());
        fleet.add(NodeState::new(spec, model), &config.flavors);
    };
    add("a".into());
    add("b".into());
    for zeros in (1..=70).rev() {
        add(format!("a{}", "0".repeat(zeros)));
    }
    assert!(fleet.free_indexes_match_nodes());
    let names: Vec<String> = fleet
        .nodes_of(&FlavorName::new("f"))
        .map(|node| node.spec.name.to_string())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let first_node = |job: Job, packing: MpsPacking| {
        let placed = place(
            &fleet,
            &FlavorName::new("f"),
            &job,
            packing,
            &MixTracker::default(),
        );
        placed.unwrap()[0].node.to_string()
    };
    assert_eq!(
        first_node(JobBuilder::gpus(1).build(), MpsPacking::BestFit),
        "a"
    );
    let fraction = JobBuilder::fraction(250, 1024).build();
    assert_eq!(first_node(fraction, MpsPacking::WorstFit), "a");
}

/// Two nodes whose GPUs are in the same states in another order share one shape group; the
/// fragmentation-aware placements still choose the first node by name and name the GPU of
/// that node (not of the group's sorted states) that a scan names.
#[test]
fn nodes_with_permuted_gpu_states_share_a_group_and_place_like_the_scan() {
    let config = config();
    let flavor = FlavorName::new("f");
    let mut fleet = Fleet::default();
    fleet.track_shapes();
    for name in ["a", "b"] {
        let spec = NodeBuilder::new(name, "f", 2).model("T4").build();
        let model = config.gpu_models.get(&"T4".into());
        fleet.add(NodeState::new(spec, model), &config.flavors);
    }
    let half_of = |node: &str, index: u32| {
        booking(vec![NodeShare {
            node: node.into(),
            gpus: vec![crate::decision::GpuShare {
                index,
                milli: crate::units::MilliGpu(500),
                vram: VramMib(4096),
            }],
            cpu: crate::units::CpuMilli(0),
            memory: crate::units::MemMib(0),
        }])
    };
    // a: [idle, half used]; b: [half used, idle]
    fleet.book(&half_of("a", 1));
    fleet.book(&half_of("b", 0));
    assert_eq!(fleet.shapes_of(&flavor), 1);
    assert!(fleet.free_indexes_match_nodes());
    let mut mix = MixTracker::default();
    for milli in [250, 500, 750] {
        let job = JobBuilder::fraction(milli, 1024).build();
        mix.record(&job);
    }
    for milli in [250, 500, 750] {
        let job = JobBuilder::fraction(milli, 1024).build();
        for packing in [MpsPacking::Fgd, MpsPacking::FgdPack] {
            let indexed = place(&fleet, &flavor, &job, packing, &mix);
            let scanned = place_by_scan(&fleet, &flavor, &job, packing, &mix);
            assert_eq!(indexed, scanned, "{milli} milli under {packing:?}");
            let shares = indexed.unwrap();
            assert_eq!(shares[0].node.as_str(), "a");
        }
    }
    let whole = JobBuilder::gpus(1).build();
    let placed = place(&fleet, &flavor, &whole, MpsPacking::FgdPack, &mix).unwrap();
    assert_eq!(placed[0].node.as_str(), "a");
    assert_eq!(placed[0].gpus[0].index, 0, "a's idle GPU is its first");
}
