//! Bad input gets a clear error, never a hang or a silently different result: each case a new
//! user tried (issue 25) is run through the `sim` binary and must be refused with a message
//! naming the file, line or object and field, then a `hint:` — or be accepted for a reason
//! the test states. `fuzz` feeds every parser arbitrary and mutated inputs.
#![allow(clippy::unwrap_used)]

mod fuzz;

use std::path::{Path, PathBuf};
use std::process::Command;

const FLEET: &str = "\
gpu_models:
  - {name: V100, vram: 32768, speed_permille: 1000, max_mps_clients: 16}
clusters:
  - {name: private, kind: private}
flavors:
  - {name: v100, tier: bronze, cluster: private, node_labels: {gpu: v100}, gpu_model: V100}
cluster_queues:
  - name: cq
    flavors:
      - flavor: v100
        resources: {gpu: {nominal: 8000}, cpu: {nominal: 64000}, memory: {nominal: 262144}}
local_queues:
  - {name: default, cluster_queue: cq}
nodes:
  - {name: n, count: 1, cluster: private, labels: {gpu: v100}, cpu: 64000, memory: 262144, gpu_model: V100, gpus: 8}
";

const TRACE: &str = "job_id,submit_ms,gpus,runtime_ms\n1,0,1,60000\n2,1000,1,120000\n";

/// A fresh folder holding `fleet.yaml` and `trace.csv`.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-bad-input-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("fleet.yaml"), FLEET).unwrap();
    std::fs::write(dir.join("trace.csv"), TRACE).unwrap();
    dir
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn sim(dir: &Path, args: &[&str]) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(dir)
        .env("NO_PROGRESS", "1")
        .output()
        .unwrap();
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `args` and asserts exit code 2, every fragment in the error, and a `hint:` line.
fn refused(dir: &Path, args: &[&str], fragments: &[&str]) -> String {
    let out = sim(dir, args);
    assert_eq!(out.code, 2, "{args:?} should be refused:\n{}", out.stderr);
    for fragment in fragments {
        assert!(
            out.stderr.contains(fragment),
            "{args:?}: {fragment:?} missing in:\n{}",
            out.stderr
        );
    }
    assert!(
        out.stderr.lines().any(|l| l.starts_with("hint: ")),
        "{args:?}: no hint in:\n{}",
        out.stderr
    );
    out.stderr
}

fn run_trace(dir: &Path, trace: &str, fleet: &str, extra: &[&str]) -> Outcome {
    std::fs::write(dir.join("t.csv"), trace).unwrap();
    std::fs::write(dir.join("f.yaml"), fleet).unwrap();
    let mut args = vec![
        "run", "--trace", "t.csv", "--fleet", "f.yaml", "--out", "out",
    ];
    args.extend_from_slice(extra);
    sim(dir, &args)
}

const RUN: [&str; 7] = [
    "run", "--trace", "t.csv", "--fleet", "f.yaml", "--out", "out",
];

// --- Runs that never end -------------------------------------------------------------------

#[test]
fn a_job_failing_forever_without_checkpoints_is_reported_stuck_and_the_run_ends() {
    let dir = scratch("stuck");
    let fleet = FLEET.replace(
        "nodes:",
        "failures: {mtbf_hours: 1, repair_hours: 0.1}\nnodes:",
    );
    let out = run_trace(
        &dir,
        "job_id,submit_ms,gpus,runtime_ms\n1,0,1,172800000\n",
        &fleet,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("1 job(s) stuck"), "{}", out.stderr);
    assert!(out.stdout.contains("1 unfinished"), "{}", out.stdout);
    let jobs = std::fs::read_to_string(dir.join("out/jobs.csv")).unwrap();
    assert!(
        jobs.contains("stuck: interrupted 20 times in a row"),
        "{jobs}"
    );
    let summary = std::fs::read_to_string(dir.join("out/summary.json")).unwrap();
    assert!(summary.contains("\"stuck\": 1"), "{summary}");
}

#[test]
fn runtime_of_u64_max_is_refused_as_beyond_ten_years() {
    let dir = scratch("runtime-max");
    std::fs::write(
        dir.join("t.csv"),
        "job_id,submit_ms,gpus,runtime_ms\n1,0,1,18446744073709551615\n",
    )
    .unwrap();
    std::fs::write(dir.join("f.yaml"), FLEET).unwrap();
    refused(
        &dir,
        &RUN,
        &[
            "t.csv:2: runtime_ms: 18446744073709551615 ms is more than the 10 years",
            "hint: fix the row",
        ],
    );
}

#[test]
fn runtime_of_1e11_ms_is_accepted_as_three_years_and_finishes() {
    // 1e11 ms is 3.2 years: under the 10-year limit, so it is a job that may be meant; the
    // run is bounded by the samples it keeps (≈333k at 5 minutes).
    let dir = scratch("runtime-1e11");
    let out = run_trace(
        &dir,
        "job_id,submit_ms,gpus,runtime_ms\n1,0,1,100000000000\n",
        FLEET,
        &["--sample-every-s", "86400"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("1 finished"), "{}", out.stdout);
}

#[test]
fn submit_ms_of_u64_max_is_refused() {
    let dir = scratch("submit-max");
    std::fs::write(
        dir.join("t.csv"),
        "job_id,submit_ms,gpus,runtime_ms\n1,18446744073709551615,1,60000\n",
    )
    .unwrap();
    std::fs::write(dir.join("f.yaml"), FLEET).unwrap();
    refused(&dir, &RUN, &["t.csv:2: submit_ms:", "10 years"]);
}

#[test]
fn a_fleet_count_of_u32_max_is_refused_before_nodes_are_built() {
    let dir = scratch("count");
    std::fs::write(dir.join("t.csv"), TRACE).unwrap();
    std::fs::write(
        dir.join("f.yaml"),
        FLEET.replace("count: 1,", "count: 4294967295,"),
    )
    .unwrap();
    refused(
        &dir,
        &RUN,
        &["f.yaml: nodes[0] (n).count: 4294967295 nodes in all is more than a fleet may have (1000000)"],
    );
}

#[test]
fn a_failure_rate_too_high_to_simulate_is_refused() {
    let dir = scratch("mtbf");
    std::fs::write(dir.join("t.csv"), TRACE).unwrap();
    std::fs::write(
        dir.join("f.yaml"),
        FLEET.replace(
            "nodes:",
            "failures: {mtbf_hours: 0.0001, repair_hours: 0}\nnodes:",
        ),
    )
    .unwrap();
    refused(
        &dir,
        &RUN,
        &["failures.mtbf_hours: expected at least 0.1 hours"],
    );
}

#[test]
fn a_start_latency_that_cannot_be_meant_is_refused() {
    for (latency, expected) in [
        (
            "{median_seconds: 0, p95_seconds: 5}",
            "start_latency.median_seconds: expected more than 0 seconds, found 0",
        ),
        (
            "{median_seconds: 10, p95_seconds: 5}",
            "start_latency.p95_seconds: expected at least the median (10 s), found 5",
        ),
        (
            "{median_seconds: -1, p95_seconds: 5}",
            "start_latency.median_seconds: must not be negative, found -1",
        ),
        (
            "{median_seconds: .nan, p95_seconds: 5}",
            "start_latency.median_seconds: expected a number of seconds, found NaN",
        ),
    ] {
        let dir = scratch("start-latency");
        std::fs::write(dir.join("t.csv"), TRACE).unwrap();
        std::fs::write(
            dir.join("f.yaml"),
            FLEET.replace("nodes:", &format!("start_latency: {latency}\nnodes:")),
        )
        .unwrap();
        refused(&dir, &RUN, &[expected]);
    }
}

// --- Path escape ---------------------------------------------------------------------------

fn scenario(dir: &Path, extra: &str) -> &'static str {
    let text = format!(
        "name: mine\nfleet: {{file: fleet.yaml}}\nworkload:\n  trace: {{paths: [trace.csv]}}\n{extra}"
    );
    let text = match extra.starts_with("name:") {
        true => text.replacen("name: mine\n", "", 1),
        false => text,
    };
    std::fs::write(dir.join("s.yaml"), text).unwrap();
    "s.yaml"
}

#[test]
fn a_scenario_name_that_would_write_outside_out_is_refused() {
    let dir = scratch("escape");
    for name in ["/tmp/abs-path", "../../x", "a/b", ".."] {
        let file = scenario(&dir, &format!("name: {name:?}\n"));
        refused(
            &dir,
            &["--scenario", file],
            &["s.yaml:4: name:", "cannot be a folder name under out/"],
        );
    }
    assert!(!dir.join("../../x").exists());
}

// --- Silently different results ------------------------------------------------------------

#[test]
fn a_negative_price_per_gpu_hour_is_refused() {
    let dir = scratch("price");
    let fleet = FLEET.replace(
        "  - {name: private, kind: private}",
        "  - {name: private, kind: private}\n  - name: cloud\n    kind: public\n    offers:\n      - {flavor: c, gpu_model: V100, price_per_gpu_hour: -3200000, provisioning_latency: 0, gpu_cap: 8}",
    )
    .replace(
        "flavors:\n  - {name: v100",
        "flavors:\n  - {name: c, tier: bronze, cluster: cloud, node_labels: {}, gpu_model: V100}\n  - {name: v100",
    );
    let out = run_trace(&dir, TRACE, &fleet, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("clusters[cloud].offers[0] (c).price_per_gpu_hour: must not be negative"),
        "{}",
        out.stderr
    );
}

#[test]
fn speed_permille_zero_is_refused_not_run_as_one_permille() {
    let dir = scratch("speed");
    let out = run_trace(
        &dir,
        TRACE,
        &FLEET.replace("speed_permille: 1000", "speed_permille: 0"),
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("gpu_models[0] (V100).speed_permille: expected 1..=100000"),
        "{}",
        out.stderr
    );
}

#[test]
fn negative_or_nan_scenario_durations_and_budgets_are_refused_naming_their_line() {
    let dir = scratch("durations");
    for (extra, fragment) in [
        (
            "horizon_hours: -1\n",
            "s.yaml:5: horizon_hours: must not be negative",
        ),
        (
            "horizon_hours: .nan\n",
            "s.yaml:5: horizon_hours: expected a number of hours, found NaN",
        ),
        (
            "horizon_hours: 0\n",
            "s.yaml:5: horizon_hours: must be positive",
        ),
        (
            "notebooks:\n  keep_alive_minutes: -5\n",
            "s.yaml:6: notebooks.keep_alive_minutes: must not be negative",
        ),
        (
            "notebooks: {cold_start_seconds: .nan}\n",
            "s.yaml:5: notebooks.cold_start_seconds: expected a number",
        ),
        (
            "notebooks: {restore_seconds: -1}\n",
            "s.yaml:5: notebooks.restore_seconds: must not be negative",
        ),
        (
            "notebooks:\n  warm_pool: lots\n",
            "s.yaml:6: notebooks.warm_pool: expected auto or a count of slices, found \"lots\"",
        ),
        (
            "notebooks: {warm_pool: 65}\n",
            "s.yaml:5: notebooks.warm_pool: at most 64 slices",
        ),
        (
            "notebooks: {restore_gib_per_second: 0}\n",
            "s.yaml:5: notebooks.restore_gib_per_second: must be above 0",
        ),
        (
            "notebooks: {warm_pool_quantile: 1}\n",
            "s.yaml:5: notebooks.warm_pool_quantile: must be between 0 and 1",
        ),
        (
            "notebooks: {container_start_seconds: -1}\n",
            "s.yaml:5: notebooks.container_start_seconds: must not be negative",
        ),
        (
            "engine: {public_scale_down_minutes: -10}\n",
            "s.yaml:5: engine.public_scale_down_minutes: must not be negative",
        ),
        (
            "engine: {sample_every_s: 0}\n",
            "s.yaml:5: engine.sample_every_s: must be at least 1 second",
        ),
        (
            "tenants:\n  - {name: t, weight: 1, public_budget: -5}\n",
            "tenants[0] (t).public_budget: must not be negative",
        ),
    ] {
        let file = scenario(&dir, extra);
        refused(&dir, &["--scenario", file], &[fragment]);
    }
}

#[test]
fn sample_every_s_zero_is_refused_on_the_command_line() {
    let dir = scratch("sample0");
    let out = run_trace(&dir, TRACE, FLEET, &["--sample-every-s", "0"]);
    assert_eq!(out.code, 2);
    assert!(out
        .stderr
        .contains("--sample-every-s: must be at least 1 second"));
}

#[test]
fn a_negative_horizon_on_the_command_line_is_refused_as_a_value() {
    let dir = scratch("horizon");
    let out = run_trace(&dir, TRACE, FLEET, &["--horizon-hours", "-1"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--horizon-hours: must be positive"),
        "{}",
        out.stderr
    );
}

#[test]
fn job_ids_and_times_that_csv_and_parquet_cannot_hold_are_refused() {
    let dir = scratch("ids");
    let out = run_trace(
        &dir,
        "job_id,submit_ms,gpus,runtime_ms\n9223372036854775808,0,1,60000\n",
        FLEET,
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("t.csv:2: job_id: 9223372036854775808 is above the largest id"),
        "{}",
        out.stderr
    );
    let out = run_trace(
        &dir,
        "job_id,submit_ms,gpus,runtime_ms,deadline_ms\n1,0,1,60000,9223372036854775808\n",
        FLEET,
        &[],
    );
    assert!(
        out.stderr.contains("t.csv:2: deadline_ms:"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_keep_alive_without_a_unit_is_refused_not_read_as_milliseconds() {
    let dir = scratch("keep-alive");
    let out = run_trace(
        &dir,
        TRACE,
        FLEET,
        &["--policy", "tiered-burst@keep-alive=5"],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("\"5\" needs a unit: 5ms, 5s, 5m or 5h"),
        "{}",
        out.stderr
    );
}

#[test]
fn generate_with_zero_tenants_is_refused() {
    let dir = scratch("tenants");
    refused(
        &dir,
        &["generate", "--tenants", "0", "-o", "g.csv"],
        &["--tenants: at least 1 tenant"],
    );
    assert!(!dir.join("g.csv").exists());
}

fn machines(dir: &Path, text: &str) -> String {
    std::fs::write(dir.join("m.csv"), text).unwrap();
    let out = sim(
        dir,
        &["fleet", "--from", "openb", "m.csv", "-o", "fleet-out.yaml"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(!out.stderr.contains("--skip-bad-rows"), "{}", out.stderr);
    assert!(out.stderr.contains("hint: "), "{}", out.stderr);
    out.stderr
}

#[test]
fn sim_fleet_refuses_an_unknown_gpu_model_instead_of_inventing_one() {
    let dir = scratch("fleet-model");
    let error = machines(
        &dir,
        "sn,cpu_milli,memory_mib,gpu,model\nn0,1000,1000,2,V10O\n",
    );
    assert!(
        error.contains("m.csv:2: model: unknown GPU model \"V10O\""),
        "{error}"
    );
}

#[test]
fn sim_fleet_refuses_a_machine_listed_twice() {
    let dir = scratch("fleet-dup");
    let error = machines(
        &dir,
        "sn,cpu_milli,memory_mib,gpu,model\nn0,1000,1000,2,T4\nn0,1000,1000,2,T4\n",
    );
    assert!(
        error.contains("m.csv:3: name: machine \"n0\" is already listed on line 2"),
        "{error}"
    );
}

#[test]
fn sim_fleet_refuses_a_header_only_file() {
    let dir = scratch("fleet-empty");
    let error = machines(&dir, "sn,cpu_milli,memory_mib,gpu,model\n");
    assert!(
        error.contains("no machine with GPUs among the 0 listed"),
        "{error}"
    );
    assert!(!dir.join("fleet-out.yaml").exists());
}

#[test]
fn openb_pods_scheduled_before_they_were_created_are_bad_rows() {
    let dir = scratch("openb");
    std::fs::write(
        dir.join("pods.csv"),
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
         openb-pod-0001,1000,1024,1,1000,,LS,Running,100,200,50\n",
    )
    .unwrap();
    refused(
        &dir,
        &[
            "import",
            "--format",
            "alibaba-openb",
            "pods.csv",
            "-o",
            "n.csv",
        ],
        &["pods.csv:2: scheduled_time: the pod is scheduled (50000 ms) before it was created"],
    );
}

// --- Errors found too late or not at all ---------------------------------------------------

#[test]
fn an_unknown_local_queue_is_refused_from_the_flag_the_scenario_and_a_trace_row() {
    let dir = scratch("queue");
    let out = run_trace(&dir, TRACE, FLEET, &["--queue", "nope"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--queue: no LocalQueue \"nope\" in f.yaml (LocalQueues: default)"),
        "{}",
        out.stderr
    );
    let out = run_trace(
        &dir,
        "job_id,submit_ms,gpus,runtime_ms,queue\n1,0,1,60000,nope\n",
        FLEET,
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("t.csv: job 1 is submitted to LocalQueue \"nope\""),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: pass --queue"), "{}", out.stderr);
    std::fs::write(
        dir.join("s.yaml"),
        "fleet: {file: fleet.yaml}\nworkload:\n  trace:\n    paths: [trace.csv]\n    queue: nope\n",
    )
    .unwrap();
    refused(
        &dir,
        &["--scenario", "s.yaml"],
        &["s.yaml:5: workload.trace.queue: job 1 is submitted to LocalQueue \"nope\""],
    );
}

#[test]
fn compare_refuses_an_unusable_out_before_running_any_policy() {
    let dir = scratch("compare-out");
    let file = scenario(&dir, "");
    std::fs::write(dir.join("blocker"), "a file, not a folder").unwrap();
    let stderr = refused(
        &dir,
        &[
            "compare",
            "--scenario",
            file,
            "--policies",
            "fifo",
            "--out",
            "blocker/sub",
        ],
        &["blocker/sub"],
    );
    assert!(!stderr.contains("done in"), "a policy ran first:\n{stderr}");
}

#[test]
fn compare_refuses_an_empty_policy_list_and_empty_trace_paths() {
    let dir = scratch("compare-empty");
    let file = scenario(&dir, "compare: []\n");
    refused(
        &dir,
        &["compare", "--scenario", file],
        &["s.yaml:5: compare: an empty list runs nothing"],
    );
    std::fs::write(
        dir.join("s.yaml"),
        "fleet: {file: fleet.yaml}\nworkload:\n  trace:\n    paths: []\n",
    )
    .unwrap();
    refused(
        &dir,
        &["--scenario", "s.yaml"],
        &["s.yaml:4: workload.trace.paths: the list is empty"],
    );
}

#[test]
fn compare_refuses_a_policy_listed_twice() {
    let dir = scratch("compare-twice");
    let file = scenario(&dir, "");
    refused(
        &dir,
        &["compare", "--scenario", file, "--policies", "fifo,fifo"],
        &["--policies: \"fifo\" is listed twice"],
    );
}

// --- Misleading messages -------------------------------------------------------------------

#[test]
fn kueue_object_errors_name_the_kueue_file_and_line_not_the_fleet() {
    let dir = scratch("kueue");
    std::fs::write(
        dir.join("queues.yaml"),
        "apiVersion: kueue.x-k8s.io/v1beta1\nkind: ResourceFlavor\nmetadata:\n  name: v100\nspec:\n  nodeLabels: {gpu: v100}\n---\n\
         apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata:\n  name: cq\nspec:\n  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\", \"cpu\", \"memory\"]\n    flavors:\n    - name: v100\n      resources:\n      - {name: nvidia.com/gpu, nominalQuota: 8}\n      - {name: cpu, nominalQuota: 64}\n      - {name: memory, nominalQuota: 256Gi}\n---\n\
         apiVersion: kueue.x-k8s.io/v1beta1\nkind: LocalQueue\nmetadata:\n  name: default\n  namespace: x\nspec:\n  clusterQueue: elsewhere\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        "fleet: {file: fleet.yaml}\nkueue:\n  file: queues.yaml\n  flavors:\n    v100: {tier: bronze, cluster: private, gpu_model: V100}\nworkload:\n  trace: {paths: [trace.csv]}\n",
    )
    .unwrap();
    let stderr = refused(
        &dir,
        &["--scenario", "s.yaml"],
        &["queues.yaml:25: LocalQueue/default: cluster_queue: no such object: elsewhere"],
    );
    assert!(!stderr.contains("fleet.yaml"), "{stderr}");
}

#[test]
fn io_errors_carry_a_hint() {
    let dir = scratch("io");
    refused(
        &dir,
        &[
            "run",
            "--trace",
            "missing.csv",
            "--fleet",
            "fleet.yaml",
            "--out",
            "out",
        ],
        &["missing.csv", "hint: check that the path exists"],
    );
}

#[test]
fn an_unterminated_quote_is_reported_as_such_not_as_a_field_count() {
    let dir = scratch("quote");
    let out = run_trace(
        &dir,
        "job_id,submit_ms,gpus,runtime_ms\n1,\"0,1,60000\n2,0,1,5\n",
        FLEET,
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("t.csv:2: submit_ms: a quoted cell runs past the end of its line"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("fields as in the header"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_negative_tune_is_a_bad_value_not_an_unexpected_argument() {
    let dir = scratch("tune");
    let out = sim(
        &dir,
        &[
            "pack", "--nodes", "n.csv", "--pods", "p.csv", "--tune", "-1",
        ],
    );
    assert_eq!(out.code, 2);
    assert!(
        !out.stderr.contains("unexpected argument"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("--tune: -1 is not a demand multiple in (0, 10]"),
        "{}",
        out.stderr
    );
}
