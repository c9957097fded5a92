//! Every parser fed arbitrary and mutated inputs (at most a few KB each, so no case can run
//! long): none panics, and every input is either refused with an error that names its file,
//! or accepted and read back identically once written (native trace, importers, fleet YAML,
//! scenario YAML) or read the same twice (Kueue objects).
//!
//! `FUZZ_CASES=N cargo test -p sim --test bad_input fuzz` runs N cases per parser; CI runs
//! the default, [`DEFAULT_CASES`].

use super::{FLEET, TRACE};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sim::trace::{import, read_native, write_native, Format};
use std::path::{Path, PathBuf};

/// Cases per parser when `FUZZ_CASES` is not set: small enough for 2-core CI.
const DEFAULT_CASES: u32 = 96;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// A fresh folder for one parser's cases.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Byte edits applied to a valid seed: (position, byte, 0 = replace / 1 = insert / 2 = delete).
type Edits = Vec<(usize, u8, u8)>;

/// Bytes that matter to CSV and YAML, plus digits and letters, and now and then anything.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(b",\"\n\r :-{}[]|.0123456789eE#&*!'\\\t".to_vec()),
        1 => any::<u8>(),
    ]
}

fn edits() -> impl Strategy<Value = Edits> {
    prop::collection::vec((any::<usize>(), interesting_byte(), 0..3u8), 0..12)
}

fn mutate(seed: &str, edits: &Edits) -> Vec<u8> {
    let mut bytes = seed.as_bytes().to_vec();
    for &(position, byte, op) in edits {
        let at = position % (bytes.len() + 1);
        match op {
            0 if at < bytes.len() => bytes[at] = byte,
            2 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, byte),
        }
    }
    bytes
}

/// Either a mutated seed or arbitrary text of at most 600 bytes.
fn input(seed: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => edits().prop_map(move |e| mutate(seed, &e)),
        1 => prop::collection::vec(interesting_byte(), 0..600),
    ]
}

/// Runs `check` on `cases()` inputs drawn from `strategy`; returns how many it ran.
fn fuzz(strategy: impl Strategy<Value = Vec<u8>>, check: impl Fn(&[u8])) -> u32 {
    let cases = cases();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&strategy, |bytes| {
        check(&bytes);
        Ok(())
    });
    if let Err(error) = outcome {
        panic!("{error}");
    }
    cases
}

/// An error must name the file it is about.
fn names(error: &sim::SimError, path: &Path) {
    let message = error.to_string();
    let file = path.file_name().unwrap().to_string_lossy();
    assert!(
        message.contains(file.as_ref()),
        "the error does not name {file}: {message}"
    );
}

#[test]
fn fuzz_native_trace_refuses_or_round_trips() {
    let dir = folder("native");
    let (path, copy) = (dir.join("t.csv"), dir.join("copy.csv"));
    let seed = "job_id,submit_ms,tenant,queue,gpus,gpu_milli,vram_mib,min_tier,priority,runtime_ms,deadline_ms,budget_kind,budget,burstable,data_class,checkpoint_interval_ms,restore_ms\n\
                1,0,lab,default,1,500,1024,silver,2,60000,90000,fixed,1.5,true,public,10000,5\n\
                2,10,lab,default,2,1000,0,gold,-1,120000,,flex,,false,sensitive,,0\n";
    fuzz(input(Box::leak(seed.into())), |bytes| {
        std::fs::write(&path, bytes).unwrap();
        for skip in [false, true] {
            match read_native(&path, skip) {
                Err(error) => names(&error, &path),
                Ok(read) => {
                    write_native(&copy, &read.jobs).unwrap_or_else(|e| {
                        panic!(
                            "read but not writable: {e}\n{}",
                            String::from_utf8_lossy(bytes)
                        )
                    });
                    let again = read_native(&copy, false).unwrap();
                    assert_eq!(again.jobs, read.jobs);
                }
            }
        }
    });
}

/// One importer: a seed in its format; whatever it imports is written and read back.
fn importer(format: Format, name: &str, file: &str, seed: &'static str) {
    let dir = folder(name);
    let (path, copy) = (dir.join(file), dir.join("native.csv"));
    fuzz(input(seed), |bytes| {
        std::fs::write(&path, bytes).unwrap();
        match import(format, std::slice::from_ref(&path), true) {
            Err(error) => names(&error, &path),
            Ok(report) => {
                let accounted =
                    report.jobs.len() as u64 + report.dropped_total() + report.skipped_bad;
                assert_eq!(report.rows_read, accounted, "a row is unaccounted for");
                write_native(&copy, &report.jobs).unwrap_or_else(|e| {
                    panic!(
                        "imported but not writable: {e}\n{}",
                        String::from_utf8_lossy(bytes)
                    )
                });
                assert_eq!(read_native(&copy, false).unwrap().jobs, report.jobs);
            }
        }
    });
}

#[test]
fn fuzz_openb_import_refuses_or_round_trips() {
    importer(
        Format::AlibabaOpenb,
        "openb",
        "openb_pod_list_default.csv",
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
         openb-pod-0001,1000,1024,1,500,V100M16|T4,LS,Running,100,200,150\n\
         openb-pod-0002,2000,2048,2,1000,,BE,Succeeded,110,300,120\n\
         openb-pod-0003,2000,2048,0,0,,Burstable,Pending,120,,\n",
    );
}

#[test]
fn fuzz_philly_import_refuses_or_round_trips() {
    importer(
        Format::Philly,
        "philly",
        "philly.csv",
        "timestamp,duration,num_gpus,gpu_time,cluster\n\
         2017-10-03 14:08:21,120.5,2,241.0,vc1\n\
         2017-10-03 14:09:00,30,1,30,vc2\n",
    );
}

#[test]
fn fuzz_itp_import_refuses_or_round_trips() {
    importer(
        Format::Itp,
        "itp",
        "cluster04.csv",
        "job_id,num_gpu,submission_time,duration,deadline\n\
         a1b2,2,100,3600,9000\n\
         c3d4,1,200,60,100000\n",
    );
}

#[test]
fn fuzz_chronus_import_refuses_or_round_trips() {
    importer(
        Format::Chronus,
        "chronus",
        "trace_job_Philly_1.csv",
        "job_id,user,num_gpu,submit_time,iterations,model_name,duration,interval,job_type,best_effort,expect_time_list,expect_value_list\n\
         1,vc_ab,2,100,10,resnet,3600,60,strict,0,7200,100\n\
         2,vc_cd,1,200,10,vgg,60,60,best,1,-1,0\n",
    );
}

#[test]
fn fuzz_fleet_yaml_refuses_or_round_trips() {
    let dir = folder("fleet");
    let path = dir.join("fleet.yaml");
    let seed = FLEET.replace(
        "nodes:",
        "tenants:\n  - {name: t, weight: 1, public_budget: 5}\nfailures: {mtbf_hours: 2000, repair_hours: 6}\nnodes:",
    );
    fuzz(input(Box::leak(seed.into_boxed_str())), |bytes| {
        std::fs::write(&path, bytes).unwrap();
        match sim::fleet::FleetFile::load(&path) {
            Err(error) => names(&error, &path),
            Ok(fleet) => {
                let text = serde_norway::to_string(&fleet).unwrap();
                let again: sim::fleet::FleetFile = serde_norway::from_str(&text).unwrap();
                assert_eq!(again, fleet);
                if let Err(error) = fleet.resolve(&path) {
                    names(&error, &path);
                }
            }
        }
    });
}

#[test]
fn fuzz_scenario_yaml_refuses_or_round_trips() {
    let dir = folder("scenario");
    std::fs::write(dir.join("fleet.yaml"), FLEET).unwrap();
    std::fs::write(dir.join("trace.csv"), TRACE).unwrap();
    let path = dir.join("s.yaml");
    let seed = "name: mine\nseed: 3\nhorizon_hours: 24\nfleet: {file: fleet.yaml}\n\
                workload:\n  trace: {paths: [trace.csv], queue: default, limit: 5}\n\
                policy: fifo\ncompare: [fifo, never-burst]\n\
                notebooks: {keep_alive_minutes: 5, cold_start_seconds: 20, restore_seconds: 15}\n\
                engine: {cycle_every_s: 300, sample_every_s: 60, public_scale_down_minutes: 10}\n";
    fuzz(input(seed), |bytes| {
        std::fs::write(&path, bytes).unwrap();
        match sim::scenario::Scenario::load(path.to_str().unwrap(), None) {
            // A broken scenario may be refused for a file it names (its fleet, its trace).
            Err(error) => {
                let message = error.to_string();
                // It names the scenario, a file the scenario names, or a policy (`--policy`).
                assert!(
                    message.contains("s.yaml")
                        || message.contains(dir.to_str().unwrap())
                        || message.starts_with("--"),
                    "{message}"
                );
            }
            Ok(scenario) => {
                let text = serde_norway::to_string(&scenario.file).unwrap();
                let again: sim::scenario::file::ScenarioFile =
                    serde_norway::from_str(&text).unwrap();
                assert_eq!(again, scenario.file);
            }
        }
    });
}

#[test]
fn fuzz_kueue_objects_refuse_or_read_the_same_twice() {
    let path = Path::new("queues.yaml");
    let seed = "apiVersion: kueue.x-k8s.io/v1beta1\nkind: ResourceFlavor\nmetadata:\n  name: v100\nspec:\n  nodeLabels: {gpu: v100}\n---\n\
                apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata:\n  name: cq\nspec:\n  cohort: all\n  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\", \"cpu\", \"memory\"]\n    flavors:\n    - name: v100\n      resources:\n      - {name: nvidia.com/gpu, nominalQuota: 8, borrowingLimit: 2}\n      - {name: cpu, nominalQuota: 500m}\n      - {name: memory, nominalQuota: 1.5Gi}\n---\n\
                apiVersion: kueue.x-k8s.io/v1beta1\nkind: LocalQueue\nmetadata:\n  name: default\n  namespace: x\nspec:\n  clusterQueue: cq\n";
    fuzz(input(seed), |bytes| {
        let text = String::from_utf8_lossy(bytes);
        match kueue_model::parse(path, &text) {
            Err(error) => {
                let message = error.to_string();
                assert!(message.starts_with("queues.yaml:"), "{message}");
            }
            Ok(objects) => assert_eq!(kueue_model::parse(path, &text).ok(), Some(objects)),
        }
    });
}
