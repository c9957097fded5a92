//! Brute force on tiny fleets: with some jobs already running, a lone new job is admitted
//! exactly when an exhaustive look at every node (whole GPUs) or every GPU (fractions) finds
//! room and the queue's quota allows it.

use alloc_core::testing::{ConfigBuilder, FLAVOR_LABEL};
use alloc_core::{
    Decision, GpuModel, GpuRequest, Input, Job, JobId, Miss, NodeSpec, Quota, Scheduler, Tier,
    Time, WaitReason,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet};

/// The builder's models, with T4 limited to two MPS clients so the limit is reached on tiny
/// fleets, and a K80 that does not do MPS at all.
const MODELS: [&str; 4] = ["V100", "T4", "A100", "K80"];

fn tiny_node() -> impl Strategy<Value = (u32, usize, u64, u64)> {
    (
        0u32..=4,
        0usize..4,
        prop_oneof![Just(2_000u64), Just(8_000), Just(64_000)],
        prop_oneof![Just(8_192u64), Just(524_288)],
    )
}

fn request() -> impl Strategy<Value = GpuRequest> {
    prop_oneof![
        (1u32..=3).prop_map(|count| GpuRequest::Whole {
            count,
            min_vram: alloc_core::VramMib(0)
        }),
        (1u64..=19, 0u64..=8).prop_map(|(milli, vram)| GpuRequest::Fraction {
            milli: alloc_core::MilliGpu(milli * 50),
            vram: alloc_core::VramMib(vram * 2_000),
        }),
    ]
}

#[derive(Debug, Clone)]
struct Probe {
    gpu: GpuRequest,
    spread: bool,
    cpu: u64,
    memory: u64,
    model: Option<usize>,
}

fn whole_probe() -> impl Strategy<Value = Probe> {
    (
        1u32..=4,
        prop_oneof![3 => Just(0u64), 1 => Just(20_000)],
        prop_oneof![Just(500u64), Just(4_000), Just(16_000)],
        prop_oneof![Just(1_024u64), Just(16_384)],
        proptest::option::weighted(0.3, 0usize..4),
    )
        .prop_map(|(count, vram, cpu, memory, model)| Probe {
            gpu: GpuRequest::Whole {
                count,
                min_vram: alloc_core::VramMib(vram),
            },
            spread: false,
            cpu,
            memory,
            model,
        })
}

fn fraction_probe() -> impl Strategy<Value = Probe> {
    (
        1u64..=19,
        0u64..=10,
        prop_oneof![Just(500u64), Just(4_000), Just(16_000)],
        prop_oneof![Just(1_024u64), Just(16_384)],
        proptest::option::weighted(0.3, 0usize..4),
    )
        .prop_map(|(milli, vram, cpu, memory, model)| Probe {
            gpu: GpuRequest::Fraction {
                milli: alloc_core::MilliGpu(milli * 50),
                vram: alloc_core::VramMib(vram * 2_000),
            },
            spread: false,
            cpu,
            memory,
            model,
        })
}

fn spread_probe() -> impl Strategy<Value = Probe> {
    (
        1u32..=7,
        prop_oneof![Just(500u64), Just(4_000), Just(12_000)],
        prop_oneof![Just(1_024u64), Just(12_000)],
        proptest::option::weighted(0.2, 0usize..4),
    )
        .prop_map(|(count, cpu, memory, model)| Probe {
            gpu: GpuRequest::Whole {
                count,
                min_vram: alloc_core::VramMib(0),
            },
            spread: true,
            cpu,
            memory,
            model,
        })
}

fn job(id: u64, gpu: GpuRequest, cpu: u64, memory: u64, model: Option<usize>) -> Job {
    let mut job = alloc_core::testing::JobBuilder::cpu_only()
        .id(id)
        .cpu(cpu)
        .memory(memory)
        .build();
    job.gpu = gpu;
    job.gpu_models = model.map(|m| BTreeSet::from([MODELS[m].into()]));
    job
}

/// A scheduler on one flavor with `nodes`, where `background` jobs were admitted (those that
/// fit), the rest cancelled, and some of the admitted ones finished again.
fn busy_fleet(
    nodes: &[(u32, usize, u64, u64)],
    background: &[(GpuRequest, u64)],
    finished: &[Index],
    nominal: u64,
) -> Result<Scheduler, TestCaseError> {
    let model = |name: &str, vram, max_mps_clients| GpuModel {
        name: name.into(),
        vram: alloc_core::VramMib(vram),
        speed_permille: 1000,
        max_mps_clients,
    };
    let config = ConfigBuilder::new()
        .gpu_model(model("T4", 16_384, 2))
        .gpu_model(model("K80", 12_288, 0))
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(nominal))])
        .build();
    let mut s = Scheduler::new(config, alloc_core::Policy::default())
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let fail = |e: alloc_core::InputError| TestCaseError::fail(e.to_string());
    for (index, &(gpus, model, cpu, memory)) in nodes.iter().enumerate() {
        s.apply(Input::NodeAdded(NodeSpec {
            name: alloc_core::NodeName::new(format!("n{index}")),
            cluster: "private".into(),
            labels: BTreeMap::from([(FLAVOR_LABEL.to_string(), "f".to_string())]),
            cpu: alloc_core::CpuMilli(cpu),
            memory: alloc_core::MemMib(memory),
            gpu_model: (gpus > 0).then(|| MODELS[model].into()),
            gpus,
        }))
        .map_err(fail)?;
    }
    for (index, &(gpu, cpu)) in background.iter().enumerate() {
        let job = job(index as u64 + 1, gpu, cpu, 1_024, None);
        s.apply(Input::JobSubmitted(job)).map_err(fail)?;
    }
    s.decide_all(Time(0));
    let waiting: Vec<JobId> = s.pending().map(|j| j.id).collect();
    for id in waiting {
        s.apply(Input::JobCancelled(id)).map_err(fail)?;
    }
    for index in finished {
        let running: Vec<JobId> = s.running().map(|r| r.job.id).collect();
        if !running.is_empty() {
            s.apply(Input::JobFinished(running[index.index(running.len())]))
                .map_err(fail)?;
        }
    }
    Ok(s)
}

/// Per node: (spec, per GPU (milli used, VRAM used, clients), CPU used, memory used), from the
/// running placements alone.
type Usage = (NodeSpec, Vec<(u64, u64, u32)>, u64, u64);

fn usage(s: &Scheduler) -> Vec<Usage> {
    let mut nodes: BTreeMap<_, Usage> = s
        .ledgers()
        .fleet
        .nodes()
        .map(|n| {
            (
                n.spec.name.clone(),
                (
                    (*n.spec).clone(),
                    vec![(0, 0, 0); n.spec.gpus as usize],
                    0,
                    0,
                ),
            )
        })
        .collect();
    for running in s.running() {
        for share in &running.placement.nodes {
            if let Some(node) = nodes.get_mut(&share.node) {
                node.2 += share.cpu.0;
                node.3 += share.memory.0;
                for gpu in &share.gpus {
                    let slot = &mut node.1[gpu.index as usize];
                    slot.0 += gpu.milli.0;
                    slot.1 += gpu.vram.0;
                    slot.2 += u32::from(gpu.milli.0 < 1000);
                }
            }
        }
    }
    nodes.into_values().collect()
}

/// Whether any node (whole GPUs) or any GPU (fractions) has room for `probe`, by brute force.
fn room_exists(s: &Scheduler, probe: &Job) -> bool {
    if probe.spread {
        return spread_room(s, probe);
    }
    usage(s).iter().any(|(spec, gpus, cpu, memory)| {
        let Some(model) = spec
            .gpu_model
            .as_ref()
            .and_then(|m| s.config().gpu_models.get(m))
        else {
            return false;
        };
        let host = spec.cpu.0 - cpu >= probe.cpu.0 && spec.memory.0 - memory >= probe.memory.0;
        if !host || !probe.accepts_model(Some(&model.name)) {
            return false;
        }
        match probe.gpu {
            GpuRequest::Whole { count, min_vram } => {
                let idle = gpus.iter().filter(|g| **g == (0, 0, 0)).count();
                model.vram >= min_vram && idle >= count as usize
            }
            GpuRequest::Fraction { milli, vram } => {
                gpus.iter().any(|&(used, vram_used, clients)| {
                    1000 - used >= milli.0
                        && model.vram.0 - vram_used >= vram.0
                        && clients < model.max_mps_clients
                })
            }
            GpuRequest::None => true,
        }
    })
}

/// Spreading: node by node, the most idle GPUs whose proportional CPU and memory (rounded up)
/// fit; the job fits when these add up to its count.
fn spread_room(s: &Scheduler, probe: &Job) -> bool {
    let GpuRequest::Whole { count, min_vram } = probe.gpu else {
        return false;
    };
    let share = |total: u64, k: u64| (total * k).div_ceil(u64::from(count));
    let mut available = 0;
    for (spec, gpus, cpu, memory) in usage(s) {
        let Some(model) = spec
            .gpu_model
            .as_ref()
            .and_then(|m| s.config().gpu_models.get(m))
        else {
            continue;
        };
        if !probe.accepts_model(Some(&model.name)) || model.vram < min_vram {
            continue;
        }
        let idle = gpus.iter().filter(|g| **g == (0, 0, 0)).count() as u64;
        available += (0..=idle)
            .rev()
            .find(|&k| {
                share(probe.cpu.0, k) <= spec.cpu.0 - cpu
                    && share(probe.memory.0, k) <= spec.memory.0 - memory
            })
            .unwrap_or(0);
    }
    available >= u64::from(count)
}

fn check_lone_job(
    nodes: &[(u32, usize, u64, u64)],
    background: &[(GpuRequest, u64)],
    finished: &[Index],
    nominal: u64,
    probe: &Probe,
) -> Result<(), TestCaseError> {
    let probe_spread = probe.spread;
    let mut s = busy_fleet(nodes, background, finished, nominal)?;
    let mut probe = job(100, probe.gpu, probe.cpu, probe.memory, probe.model);
    probe.spread = probe_spread;
    let used: u64 = s.running().map(|r| r.job.gpu.milli().0).sum();
    let requested = probe.gpu.milli().0;
    let room = room_exists(&s, &probe);
    s.apply(Input::JobSubmitted(probe))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let decisions = s.decide_all(Time(1));
    prop_assert_eq!(decisions.len(), 1);
    let quota = used + requested <= nominal;
    match &decisions[0] {
        Decision::Admit { .. } => {
            prop_assert!(quota && room, "admitted without room: {}", decisions[0])
        }
        Decision::Reject { .. } => prop_assert!(requested > nominal, "{}", decisions[0]),
        Decision::Preempt { .. } => prop_assert!(false, "preemption is off: {}", decisions[0]),
        Decision::Wait { reason, .. } => {
            prop_assert!(requested <= nominal && !(quota && room), "{}", decisions[0]);
            let WaitReason::NoFlavorFits { misses } = reason else {
                return Err(TestCaseError::fail(format!("unexpected wait: {reason}")));
            };
            if quota {
                prop_assert!(matches!(misses[0].miss, Miss::Capacity { .. }), "{reason}");
            } else {
                prop_assert!(matches!(misses[0].miss, Miss::Quota { .. }), "{reason}");
            }
        }
        other => prop_assert!(false, "a decision the oracle does not know: {other}"),
    }
    prop_assert_eq!(s.check_invariants(), Ok(()));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_lone_whole_gpu_job_is_admitted_iff_a_node_has_room_and_quota_allows(
        nodes in vec(tiny_node(), 1..=3),
        background in vec((request(), prop_oneof![Just(500u64), Just(4_000)]), 0..=8),
        finished in vec(any::<Index>(), 0..=3),
        nominal in (0u64..=24).prop_map(|n| n * 500),
        probe in whole_probe(),
    ) {
        check_lone_job(&nodes, &background, &finished, nominal, &probe)?;
    }

    #[test]
    fn a_lone_fraction_is_admitted_iff_a_gpu_has_milli_vram_and_a_client_slot(
        nodes in vec(tiny_node(), 1..=3),
        background in vec((request(), prop_oneof![Just(500u64), Just(4_000)]), 0..=10),
        finished in vec(any::<Index>(), 0..=3),
        nominal in (0u64..=24).prop_map(|n| n * 500),
        probe in fraction_probe(),
    ) {
        check_lone_job(&nodes, &background, &finished, nominal, &probe)?;
    }

    #[test]
    fn a_lone_spread_job_is_admitted_iff_the_nodes_host_room_adds_up(
        nodes in vec(tiny_node(), 1..=3),
        background in vec((request(), prop_oneof![Just(500u64), Just(4_000)]), 0..=6),
        finished in vec(any::<Index>(), 0..=3),
        nominal in (0u64..=24).prop_map(|n| n * 500),
        probe in spread_probe(),
    ) {
        check_lone_job(&nodes, &background, &finished, nominal, &probe)?;
    }
}
