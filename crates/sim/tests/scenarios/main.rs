//! Scenario files: the bundled ones load, the committed JSON Schema matches the types, errors
//! name file, line and field, Kueue objects mean what the short form means, and a comparison
//! run in parallel equals one run sequentially.
#![allow(clippy::unwrap_used)]

use sim::compare::{run_all, write_all};
use sim::scenario::baseline::baseline;
use sim::scenario::{schema_json, Scenario};
use sim::SimError;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared_traces() -> Option<PathBuf> {
    let dir = repo().join("../shared/traces");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping the replay scenarios: ../shared/traces is absent");
        None
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-scenarios-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_committed_schema_is_the_one_the_types_generate() {
    let committed = std::fs::read_to_string(repo().join("scenarios/scenario.schema.json")).unwrap();
    assert!(
        committed == schema_json(),
        "scenarios/scenario.schema.json is stale: run `cargo run -p sim -- schema -o scenarios/scenario.schema.json`"
    );
}

#[test]
fn the_example_policy_file_is_what_sim_policy_writes() {
    let example = "deploy/examples/policy-deadlines-and-large-jobs.yaml";
    let committed = std::fs::read_to_string(repo().join(example)).unwrap();
    let spec = committed
        .lines()
        .next()
        .and_then(|line| line.split_once("--policy '"))
        .and_then(|(_, rest)| rest.split('\'').next())
        .expect("the first line names the policy between quotes");
    assert!(
        committed == sim::scenario::policy_file::policy_file(spec).unwrap().yaml,
        "{example} is stale: run `cargo run -p sim -- policy '{spec}' -o {example}`"
    );
}

#[test]
fn every_bundled_scenario_loads_and_its_policies_resolve() {
    let generated = ["semester-peak", "notebook-day", "conference-deadline"];
    let replays = ["openb-replay", "philly-replay", "itp-deadlines"];
    let mut names: Vec<&str> = generated.to_vec();
    if shared_traces().is_some() {
        names.extend(replays);
    }
    for name in names {
        let path = repo().join(format!("scenarios/{name}.yaml"));
        let scenario =
            Scenario::load(path.to_str().unwrap(), None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(scenario.name, name);
        assert!(scenario.workload.job_count() > 0, "{name} has work");
        for policy in scenario.compare_policies() {
            let plan = scenario.plan(&baseline(&policy).unwrap()).unwrap();
            assert!(!plan.nodes.is_empty(), "{name} under {policy} has nodes");
            if generated.contains(&name) {
                let warnings = sim::run::config_warnings(&plan.config, &plan.nodes);
                assert!(warnings.is_empty(), "{name}: {warnings:?}");
            }
        }
    }
}

#[test]
fn sessions_and_rhythm_reach_the_flagship_scenario() {
    let path = repo().join("scenarios/semester-peak.yaml");
    let scenario = Scenario::load(path.to_str().unwrap(), None).unwrap();
    assert!(!scenario.workload.sessions.is_empty());
    let again = Scenario::load(path.to_str().unwrap(), None).unwrap();
    assert_eq!(scenario.workload, again.workload, "same seed, same work");
    let reseeded = Scenario::load(path.to_str().unwrap(), Some(2)).unwrap();
    assert_ne!(
        scenario.workload, reseeded.workload,
        "--seed reaches the generator"
    );
}

#[test]
fn kueue_objects_and_the_short_form_describe_the_same_queues() {
    let path = repo().join("scenarios/semester-peak.yaml");
    let from_kueue = Scenario::load(path.to_str().unwrap(), None).unwrap();
    let short =
        sim::fleet::FleetFile::load(&repo().join("scenarios/fleets/department.yaml")).unwrap();
    assert_eq!(from_kueue.fleet.flavors, short.flavors);
    assert_eq!(from_kueue.fleet.local_queues, short.local_queues);
    for (kueue, written) in from_kueue
        .fleet
        .cluster_queues
        .iter()
        .zip(&short.cluster_queues)
    {
        assert_eq!(kueue.name, written.name);
        assert_eq!(kueue.cohort, written.cohort);
        assert_eq!(kueue.flavors, written.flavors, "{} quotas", kueue.name);
    }
}

fn write_scenario(dir: &Path, body: &str) -> PathBuf {
    let fleet = repo().join("scenarios/fleets/department.yaml");
    let text = body.replace("FLEET", &fleet.display().to_string());
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn mistakes_name_the_file_the_line_and_the_field() {
    let dir = scratch("errors");
    let path = write_scenario(
        &dir,
        "seed: 3\nfleet: {file: FLEET}\nworkload:\n  generate:\n    poisson: {jobs: 10, tenant: [lab-0]}\n",
    );
    let error = Scenario::load(path.to_str().unwrap(), None).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("scenario.yaml:5"), "{message}");
    assert!(message.contains("tenant"), "{message}");
    let path = write_scenario(
        &dir,
        "fleet: {file: FLEET}\nworkload: {generate: {poisson: {}}}\npolicy: fastest\n",
    );
    let error = Scenario::load(path.to_str().unwrap(), None).unwrap_err();
    assert!(matches!(error, SimError::BadArgument { .. }), "{error}");
    assert!(error.to_string().contains("fastest"), "{error}");
    let missing = Scenario::load("no-such-scenario", None)
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("semester-peak"),
        "lists the known names: {missing}"
    );
}

#[test]
fn a_parallel_comparison_equals_a_sequential_one() {
    let dir = scratch("compare");
    let path = write_scenario(
        &dir,
        "fleet: {file: FLEET}\nworkload:\n  generate:\n    notebook-day: {}\n",
    );
    let scenario = Scenario::load(path.to_str().unwrap(), None).unwrap();
    let policies: Vec<String> = [
        "static-notebook",
        "tiered-burst@keep-alive=0,lease-on-open=no,warm-pool=0",
        "tiered-burst@keep-alive=10m",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let parallel = run_all(&scenario, &policies, 3, |_| {}).unwrap();
    let sequential = run_all(&scenario, &policies, 1, |_| {}).unwrap();
    write_all(&dir.join("parallel"), &scenario, &parallel).unwrap();
    write_all(&dir.join("sequential"), &scenario, &sequential).unwrap();
    for file in [
        "compare.csv",
        "report.html",
        "tiered-burst_keep-alive_10m/jobs.csv",
        "static-notebook/summary.json",
    ] {
        let a = std::fs::read(dir.join("parallel").join(file)).unwrap();
        let b = std::fs::read(dir.join("sequential").join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between parallel and sequential runs"
        );
    }
    // The levers act: a whole GPU per session idles far more than per-cell leases, and a
    // keep-alive window trades idle GPU time for fewer cold starts.
    let idle = |i: usize| parallel[i].output.notebook.idle_gpu_hours();
    assert!(
        idle(0) > idle(1) * 5.0,
        "static {} vs per-cell {}",
        idle(0),
        idle(1)
    );
    assert!(idle(2) > idle(1));
    assert!(parallel[2].output.notebook.warm_starts > parallel[1].output.notebook.warm_starts);
}
