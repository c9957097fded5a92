//! End-to-end replays through the engine: conservation, determinism, failures.
#![allow(clippy::unwrap_used)]

mod billing;
mod inputs_log;
mod notebooks;
mod real;
mod recorded;
mod two_phase;

use sim::engine::EngineOptions;
use sim::fleet::{FailureModel, FleetFile};
use sim::record::jobs::Outcome;
use sim::rng::Seed;
use sim::run::{simulate, write_outputs, RunPlan};
use sim::workload::synthetic::{generate, SyntheticSpec};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `sim` binary, its progress off.
fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .env("NO_PROGRESS", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A bundled scenario file.
fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../scenarios/{name}.yaml"))
}

fn fleet_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/fleets/department.yaml")
}

fn plan(jobs: usize, seed: u64, failures: Option<FailureModel>) -> RunPlan {
    let path = fleet_path();
    let fleet = FleetFile::load(&path).unwrap();
    let (config, nodes) = fleet.resolve(&path).unwrap();
    let workload = generate(
        &SyntheticSpec {
            jobs,
            ..SyntheticSpec::default()
        },
        Seed(7),
    );
    RunPlan {
        config,
        nodes,
        workload: sim::workload::Workload::batch(workload),
        policy_name: "default".into(),
        policy: alloc_core::Policy::default(),
        options: EngineOptions {
            seed: Seed(seed),
            failures,
            ..EngineOptions::default()
        },
        inputs: vec![path],
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-replay-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_job_ends_exactly_once_and_gpu_time_is_conserved() {
    let (output, summary, _) = simulate(plan(300, 1, None), |_, _| {}).unwrap();
    assert_eq!(output.records.len(), 300);
    let ids: std::collections::BTreeSet<_> = output.records.iter().map(|r| r.job.id).collect();
    assert_eq!(ids.len(), 300, "each job reported once");
    let unfinished = output
        .records
        .iter()
        .filter(|r| r.outcome == Outcome::Unfinished)
        .count();
    assert_eq!(
        unfinished, 0,
        "without failures or a horizon every job ends"
    );
    for record in &output.records {
        if record.outcome == Outcome::Finished {
            let (start, end) = (record.first_start.unwrap(), record.end.unwrap());
            assert!(record.job.submit_time <= start && start <= end);
        }
    }
    // GPU time the records hold equals the engine's allocated integral, up to per-attempt
    // rounding to whole GPU-milliseconds.
    let held: u64 = output.records.iter().map(|r| r.gpu_ms).sum();
    let integral: u128 = output
        .utilisation
        .allocated_gpu_ms_per_cluster
        .values()
        .sum();
    let attempts = output.records.len() as u128;
    assert!(
        (integral as i128 - held as i128).unsigned_abs() <= attempts,
        "{integral} vs {held}"
    );
    assert_eq!(summary["jobs"]["total"], 300);
    assert_eq!(summary["sensitive_on_public"], 0);
}

#[test]
fn same_seed_gives_byte_identical_outputs_and_another_seed_differs() {
    let failures = Some(FailureModel {
        mtbf_hours: 50.0,
        repair_hours: 2.0,
    });
    let mut dirs = Vec::new();
    for (name, seed) in [("a", 5), ("b", 5), ("c", 6)] {
        let dir = scratch(name);
        let (output, summary, manifest) = simulate(plan(200, seed, failures), |_, _| {}).unwrap();
        write_outputs(&dir, &output, &summary, &manifest).unwrap();
        dirs.push(dir);
    }
    let (a, b, c) = (files(&dirs[0]), files(&dirs[1]), files(&dirs[2]));
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "costs.csv",
            "costs.parquet",
            "jobs.csv",
            "jobs.parquet",
            "manifest.json",
            "report.html",
            "summary.json",
            "timeseries.csv",
            "timeseries.parquet"
        ]
    );
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a, c, "another seed changes the failures and so the outputs");
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn failures_interrupt_jobs_and_lose_work_but_nothing_is_lost() {
    let failures = Some(FailureModel {
        mtbf_hours: 20.0,
        repair_hours: 1.0,
    });
    let (output, summary, _) = simulate(plan(300, 3, failures), |_, _| {}).unwrap();
    let interrupted: u32 = output.records.iter().map(|r| r.interruptions).sum();
    assert!(
        interrupted > 0,
        "a 20-hour MTBF over this run interrupts someone"
    );
    assert!(summary["lost_gpu_hours"].as_f64().unwrap() > 0.0);
    assert_eq!(output.records.len(), 300);
    assert!(output
        .records
        .iter()
        .all(|r| r.outcome != Outcome::Unfinished));
}

#[test]
fn a_horizon_reports_unfinished_work() {
    let mut plan = plan(300, 1, None);
    plan.options.horizon = Some(alloc_core::Time(3_600_000));
    let (output, summary, _) = simulate(plan, |_, _| {}).unwrap();
    assert_eq!(
        output.records.len(),
        300,
        "jobs not yet arrived are reported too"
    );
    assert!(summary["jobs"]["unfinished"].as_u64().unwrap() > 0);
}

#[test]
fn bursts_rent_public_nodes_within_budgets_and_never_for_sensitive_data() {
    let mut plan = plan(300, 1, None);
    plan.policy = alloc_core::Policy::preset("tiered-burst").unwrap();
    plan.policy_name = "tiered-burst".into();
    let (output, summary, _) = simulate(plan, |_, _| {}).unwrap();
    let public: Vec<_> = output.records.iter().filter(|r| r.public).collect();
    assert!(!public.is_empty(), "a busy department bursts some jobs");
    assert_eq!(summary["sensitive_on_public"], 0);
    for record in &public {
        assert!(record.job.burstable && record.job.data_class != alloc_core::DataClass::Sensitive);
        if record.job.budget.kind == alloc_core::BudgetKind::Fixed {
            assert!(
                record
                    .job
                    .budget
                    .limit
                    .is_none_or(|limit| record.cost <= limit),
                "{record:?}"
            );
        }
    }
    // The cloud bills jobs' own time plus provisioning and warm-idle time: at least the sum.
    let job_costs: i64 = output.records.iter().map(|r| r.cost.0).sum();
    assert!(output.public_spend.0 >= job_costs && job_costs > 0);
    assert!(summary["public_gpu_hours"].as_f64().unwrap() > 0.0);
    assert!(output.samples.iter().any(|s| s.public_gpus > 0.0));
}

#[test]
fn a_high_priority_job_preempts_a_checkpointing_one_which_resumes_and_finishes() {
    use alloc_core::preemption::PreemptionPolicy;
    use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
    use alloc_core::{Millis, Policy, Quota, Tier, Time};
    const MIN: u64 = 60_000;
    let config = ConfigBuilder::new()
        .private_flavor("f", Tier::Bronze)
        .queue("q", &[("f", Quota::nominal(2_000))])
        .build();
    // two hours of work on both GPUs, checkpointed every 10 minutes, 1 minute to restore
    let mut low = JobBuilder::gpus(2).id(1).runtime(Millis::hours(2)).build();
    low.checkpoint_interval = Some(Millis::minutes(10));
    low.restore_cost = Millis::minutes(1);
    let high = JobBuilder::gpus(2)
        .id(2)
        .priority(5)
        .runtime(Millis::minutes(30))
        .submitted(Time(45 * MIN))
        .build();
    let plan = RunPlan {
        config,
        nodes: vec![NodeBuilder::new("n", "f", 2).build()],
        workload: sim::workload::Workload::batch(vec![low, high]),
        policy_name: "preempting".into(),
        policy: Policy {
            preemption: PreemptionPolicy {
                enabled: true,
                ..PreemptionPolicy::default()
            },
            ..Policy::default()
        },
        options: EngineOptions::default(),
        inputs: Vec::new(),
    };
    let (output, _, _) = simulate(plan, |_, _| {}).unwrap();
    let record = |id: u64| output.records.iter().find(|r| r.job.id.0 == id).unwrap();
    let (victim, preemptor) = (record(1), record(2));
    assert_eq!(preemptor.first_start, Some(Time(45 * MIN)), "{preemptor:?}");
    assert_eq!(preemptor.preemptions, 0);
    assert_eq!(victim.preemptions, 1, "{victim:?}");
    // 45 minutes in, the last checkpoint was at 40: five minutes on two GPUs are lost
    assert_eq!(victim.lost_gpu_ms, 2 * 5 * MIN);
    assert!(
        victim.lost_gpu_ms < 2 * 10 * MIN,
        "less than a checkpoint interval"
    );
    assert_eq!(victim.outcome, Outcome::Finished);
    // resumes when the preemptor ends (75 min), restores for a minute, then 80 minutes left
    assert_eq!(victim.end, Some(Time((75 + 1 + 80) * MIN)), "{victim:?}");
}
