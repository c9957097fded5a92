//! Import and replay of the public traces in `../shared/traces`, on fleets built from the
//! published machine lists. Skipped, with a message, when that folder is absent.

use sim::engine::EngineOptions;
use sim::fleet::from_machines::{self, MachineList};
use sim::record::jobs::Outcome;
use sim::run::{simulate, RunPlan};
use sim::trace::Format;
use std::path::{Path, PathBuf};

fn traces() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/traces");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: ../shared/traces not found (real-trace replays need it)");
        None
    }
}

/// Imports `files`, replays them on the fleet built from `machines` with every job in the
/// fleet's one queue and tier upgrades allowed, and checks nothing is lost.
fn replay(format: Format, files: &[&str], machines: (MachineList, &str), imported: usize) {
    let Some(dir) = traces() else { return };
    let inputs: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    let report = sim::trace::import(format, &inputs, false).unwrap();
    assert_eq!(report.jobs.len(), imported, "{format} rows imported");
    let mut workload: Vec<alloc_core::Job> = report
        .jobs
        .iter()
        .map(sim::workload::from_trace::to_job)
        .collect();
    for job in &mut workload {
        job.queue = alloc_core::LocalQueueName::new("default");
    }
    let machine_file = dir.join(machines.1);
    let built = from_machines::build(machines.0, &machine_file, Default::default()).unwrap();
    let (config, nodes) = built.fleet.resolve(&machine_file).unwrap();
    let plan = RunPlan {
        config,
        nodes,
        workload: sim::workload::Workload::batch(workload),
        policy_name: "tier-upgrade".into(),
        policy: sim::policy_preset("tier-upgrade").unwrap(),
        options: EngineOptions {
            cycle_period: None,
            ..EngineOptions::default()
        },
        inputs: Vec::new(),
    };
    let (output, summary, _) = simulate(plan, |_, _| {}).unwrap();
    assert_eq!(
        output.records.len(),
        imported,
        "every imported job is reported"
    );
    let finished = output
        .records
        .iter()
        .filter(|r| r.outcome == Outcome::Finished)
        .count();
    assert_eq!(
        finished, imported,
        "{format}: every job runs to the end on its fleet: {summary}"
    );
}

#[test]
fn openb_default_replays_on_the_openb_fleet() {
    replay(
        Format::AlibabaOpenb,
        &["alibaba-openb/openb_pod_list_default.csv"],
        (
            MachineList::Openb,
            "alibaba-openb/openb_node_list_gpu_node.csv",
        ),
        7_255,
    );
}

#[test]
fn philly_replays_on_the_philly_fleet() {
    replay(
        Format::Philly,
        &["philly-pollux/philly.csv"],
        (MachineList::Philly, "philly-machines/cluster_machine_list"),
        82_247,
    );
}

#[test]
fn itp_with_deadlines_replays_on_the_philly_fleet() {
    replay(
        Format::Itp,
        &[
            "elasticflow-itp/elasticflow-traces/cluster01.csv",
            "elasticflow-itp/elasticflow-traces/cluster02.csv",
        ],
        (MachineList::Philly, "philly-machines/cluster_machine_list"),
        7_373,
    );
}

#[test]
fn chronus_replays_on_the_philly_fleet() {
    replay(
        Format::Chronus,
        &["philly-chronus/trace_job_Philly_MIX2.csv"],
        (MachineList::Philly, "philly-machines/cluster_machine_list"),
        30_746,
    );
}
