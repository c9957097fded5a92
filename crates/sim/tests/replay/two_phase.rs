//! `--two-phase`: Kueue's flavor assigner reserves quota, then the core decides within the
//! reserved flavor. A run in two phases ends every job as a one-phase run does, logs its
//! reservations and replays identically.

use super::{fleet_path, scenario, scratch, sim, text};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every job finished or rejected, none left unfinished.
fn every_job_ends(out: &Path) {
    let summary = json(&out.join("summary.json"));
    let jobs = &summary["jobs"];
    assert_eq!(jobs["unfinished"], 0, "{summary}");
    assert_eq!(
        jobs["finished"].as_u64().unwrap() + jobs["rejected"].as_u64().unwrap(),
        jobs["total"].as_u64().unwrap(),
        "{summary}"
    );
}

/// The log's quota reservations made and released, after checking that every job admitted
/// or preempting while it held a reservation did so on the reserved flavor.
fn reservations_in(log: &Path) -> (usize, usize) {
    let (mut made, mut released) = (0, 0);
    let mut held: BTreeMap<u64, String> = BTreeMap::new();
    for line in std::fs::read_to_string(log).unwrap().lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        if let Some(reserved) = record["input"].get("quota_reserved") {
            let job = reserved["job"].as_u64().unwrap();
            match reserved["flavor"].as_str() {
                Some(flavor) => {
                    made += 1;
                    held.insert(job, flavor.to_string());
                }
                None => {
                    released += 1;
                    held.remove(&job);
                }
            }
        }
        for decision in record["decisions"].as_array().into_iter().flatten() {
            for kind in ["admit", "preempt"] {
                let Some(body) = decision.get(kind) else {
                    continue;
                };
                let job = body["job"].as_u64().unwrap();
                if let Some(flavor) = held.get(&job) {
                    assert_eq!(body["placement"]["flavor"], flavor.as_str(), "{decision}");
                }
                if kind == "admit" {
                    held.remove(&job);
                }
            }
        }
    }
    (made, released)
}

fn replays_identically(log: &Path) {
    let output = sim(&["replay-inputs", log.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stdout));
    assert!(
        text(&output.stdout).ends_with("decisions: identical\n"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn sim_run_in_both_modes_ends_every_job_and_two_phases_log_reservations_that_replay() {
    let dir = scratch("two-phase-run");
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("trace.csv");
    let fleet = fleet_path();
    let output = sim(&["generate", "--jobs", "150", "-o", trace.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let run = |name: &str, extra: &[&str]| {
        let out = dir.join(name);
        let log = dir.join(format!("{name}.jsonl"));
        let mut args = vec![
            "run",
            "--trace",
            trace.to_str().unwrap(),
            "--fleet",
            fleet.to_str().unwrap(),
            "--policy",
            "tiered-burst",
            "--out",
            out.to_str().unwrap(),
            "--inputs-log",
            log.to_str().unwrap(),
        ];
        args.extend(extra);
        let output = sim(&args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        (out, log, text(&output.stderr))
    };
    let (one, one_log, one_stderr) = run("one", &[]);
    let (two, two_log, two_stderr) = run("two", &["--two-phase"]);
    every_job_ends(&one);
    every_job_ends(&two);

    assert_eq!(
        reservations_in(&one_log),
        (0, 0),
        "one phase reserves nothing"
    );
    let (made, released) = reservations_in(&two_log);
    assert!(
        made > 100 && released > 0,
        "{made} made, {released} released"
    );
    replays_identically(&two_log);

    // the mode is said on standard error and in the manifest, only when on
    assert!(
        two_stderr.contains("admission in two phases"),
        "{two_stderr}"
    );
    assert!(!one_stderr.contains("two phases"), "{one_stderr}");
    assert_eq!(json(&two.join("manifest.json"))["admission"], "two-phase");
    assert!(json(&one.join("manifest.json")).get("admission").is_none());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_scenario_runs_in_two_phases_and_replays_identically() {
    let dir = scratch("two-phase-scenario");
    std::fs::create_dir_all(&dir).unwrap();
    let (out, log) = (dir.join("out"), dir.join("log.jsonl"));
    let scenario = scenario("notebook-day");
    let output = sim(&[
        "--scenario",
        scenario.to_str().unwrap(),
        "--two-phase",
        "--out",
        out.to_str().unwrap(),
        "--inputs-log",
        log.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    every_job_ends(&out);
    let (made, released) = reservations_in(&log);
    assert!(made > 0, "{made} made, {released} released");
    replays_identically(&log);
    let _ = std::fs::remove_dir_all(dir);
}
