//! Inputs logs end to end: a run writes one without changing anything else it writes,
//! `sim replay-inputs` replays it to the same decisions, and a changed or broken line is
//! reported by its line number.

use super::{files, plan, scenario, scratch, sim, text};
use serde_json::Value;
use sim::fleet::FailureModel;
use std::path::Path;
use std::process::Output;

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn replay_inputs(log: &Path) -> Output {
    sim(&["replay-inputs", log.to_str().unwrap()])
}

#[test]
fn a_scenario_logs_its_inputs_changes_no_output_and_replays_identically() {
    let dir = scratch("inputs-log");
    std::fs::create_dir_all(&dir).unwrap();
    let (with, without, log) = (dir.join("with"), dir.join("without"), dir.join("log.jsonl"));
    let scenario = scenario("notebook-day");
    let run = |out: &Path, log: Option<&Path>| {
        // Without keep-alive every cell asks for a lease and the warm pool is busy: a log
        // with thousands of decisions, pool slices among them.
        let mut args = vec![
            "--scenario",
            scenario.to_str().unwrap(),
            "--policy",
            "tiered-burst@keep-alive=0,lease-on-open=no",
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(log) = log {
            args.extend(["--inputs-log", log.to_str().unwrap()]);
        }
        let output = sim(&args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout).replace(out.to_str().unwrap(), "OUT")
    };
    let (logged_stdout, plain_stdout) = (run(&with, Some(&log)), run(&without, None));
    assert_eq!(logged_stdout, plain_stdout);
    assert_eq!(files(&with), files(&without), "the log changes no output");

    let records = lines(&log);
    assert!(records[0].starts_with(r#"{"record":"start","version":1,"#));
    let cycles = records
        .iter()
        .filter(|line| line.starts_with(r#"{"record":"cycle","#))
        .count();
    let inputs = records.len() - 1 - cycles;
    assert!(
        cycles > 100 && inputs > 100,
        "{cycles} cycles, {inputs} inputs"
    );
    for input in [
        "node_added",
        "node_removed",
        "job_submitted",
        "job_finished",
    ] {
        let tag = format!(r#"{{"record":"input","input":{{"{input}""#);
        assert!(records.iter().any(|line| line.starts_with(&tag)), "{input}");
    }

    let output = replay_inputs(&log);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary = text(&output.stdout);
    let decisions: usize = summary
        .split(", ")
        .find_map(|part| part.strip_suffix(" decisions: identical\n"))
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no decision count in {summary:?}"));
    assert_eq!(
        summary,
        format!(
            "{}: {} records: {inputs} inputs, {cycles} cycles, {decisions} decisions: identical\n",
            log.display(),
            records.len()
        )
    );
    assert!(decisions > 1_000, "{summary}");

    // --print: every replayed decision as a sentence after its cycle's time; the check's
    // summary on standard error.
    let output = sim(&["replay-inputs", "--print", log.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let printed = text(&output.stdout);
    assert_eq!(printed.lines().count(), decisions);
    assert!(
        printed
            .lines()
            .all(|line| line.starts_with("t=") && line.contains("ms job ")),
        "{}",
        &printed[..printed.len().min(400)]
    );
    assert!(
        printed.contains(": admitted: flavor "),
        "sentences, not JSON"
    );
    assert!(text(&output.stderr).contains("decisions: identical"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_changed_decision_or_a_broken_line_is_reported_by_its_line() {
    let dir = scratch("inputs-log-tampered");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log.jsonl");
    let out = dir.join("out");
    let output = sim(&[
        "--scenario",
        scenario("notebook-day").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--inputs-log",
        log.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let records = lines(&log);
    let tampered = dir.join("tampered.jsonl");

    // The first admission's node renamed: the replay admits to the real node.
    let (index, position, admit) = records
        .iter()
        .enumerate()
        .find_map(|(index, line)| {
            let record: Value = serde_json::from_str(line).unwrap();
            let decisions = record["decisions"].as_array()?;
            let position = decisions.iter().position(|d| d.get("admit").is_some())?;
            Some((index, position, decisions[position]["admit"].clone()))
        })
        .unwrap();
    let node = admit["placement"]["nodes"][0]["node"]
        .as_str()
        .unwrap()
        .to_string();
    let job = admit["job"].as_u64().unwrap();
    // The same line with its keys in another order (as another writer may put them) is
    // the same record.
    let mut reordered = records.clone();
    let value: Value = serde_json::from_str(&records[index]).unwrap();
    reordered[index] = serde_json::to_string_pretty(&value)
        .unwrap()
        .replace('\n', " ");
    assert!(!reordered[index].starts_with(r#"{"record""#));
    write_lines(&tampered, &reordered);
    let output = replay_inputs(&tampered);
    assert!(output.status.success(), "{}", text(&output.stdout));

    let mut changed = records.clone();
    changed[index] =
        changed[index].replacen(&format!(r#""node":"{node}""#), r#""node":"elsewhere""#, 1);
    write_lines(&tampered, &changed);
    let output = replay_inputs(&tampered);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report = text(&output.stdout);
    let now = records[index]
        .split(r#""now":"#)
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap();
    assert!(
        report.starts_with(&format!(
            "{}:{}: cycle at t={now}ms: decision {} of ",
            tampered.display(),
            index + 1,
            position + 1
        )),
        "{report}"
    );
    assert!(report.contains(&format!("(job {job}) differs")), "{report}");
    assert!(
        report.contains("  logged:   {\"admit\"") && report.contains("\"node\":\"elsewhere\""),
        "{report}"
    );
    assert!(report.contains(&format!("\"node\":\"{node}\"")), "{report}");
    assert!(
        report.contains(&format!("job {job}: admitted: flavor ")),
        "the replayed decision's sentence: {report}"
    );

    // A line that is not a record: an error naming the file, the line and the field.
    let input = records
        .iter()
        .position(|line| line.contains(r#""input":{"job_finished":"#))
        .unwrap();
    let mut broken = records.clone();
    broken[input] = r#"{"record":"input","input":{"job_finished":"seven"}}"#.into();
    write_lines(&tampered, &broken);
    let output = replay_inputs(&tampered);
    assert_eq!(output.status.code(), Some(2));
    let error = text(&output.stderr);
    assert!(
        error.starts_with(&format!("error: {}:{}: ", tampered.display(), input + 1)),
        "{error}"
    );
    assert!(error.contains("invalid type"), "{error}");
    assert!(error.contains("\nhint: an inputs log"), "{error}");

    // A line cut short, as by a crashed writer.
    let mut cut = records.clone();
    cut.truncate(40);
    let half = cut[39].len() / 2;
    cut[39].truncate(half);
    write_lines(&tampered, &cut);
    let error = text(&replay_inputs(&tampered).stderr);
    assert!(
        error.starts_with(&format!("error: {}:40: ", tampered.display())),
        "{error}"
    );

    // An input the core refuses: a job submitted twice.
    let submitted = records
        .iter()
        .position(|line| line.contains(r#""input":{"job_submitted":"#))
        .unwrap();
    let mut twice = records.clone();
    twice.insert(submitted + 1, records[submitted].clone());
    write_lines(&tampered, &twice);
    let output = replay_inputs(&tampered);
    assert_eq!(output.status.code(), Some(2));
    let error = text(&output.stderr);
    assert!(
        error.starts_with(&format!(
            "error: {}:{}: the core refuses this input: job ",
            tampered.display(),
            submitted + 2
        )) && error.contains("was already submitted"),
        "{error}"
    );

    // No start record, and a file that is not there.
    write_lines(&tampered, &records[1..]);
    let error = text(&replay_inputs(&tampered).stderr);
    assert!(
        error.starts_with(&format!(
            "error: {}:1: a log begins with its start record",
            tampered.display()
        )),
        "{error}"
    );
    let missing = dir.join("missing.jsonl");
    let output = replay_inputs(&missing);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains(&missing.display().to_string()));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn failures_bursts_and_bills_are_logged_and_replay_identically() {
    let dir = scratch("inputs-log-failures");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log.jsonl");
    let failures = Some(FailureModel {
        mtbf_hours: 30.0,
        repair_hours: 2.0,
    });
    let mut plan = plan(300, 3, failures);
    plan.policy = alloc_core::Policy::preset("tiered-burst").unwrap();
    plan.options.inputs_log = Some(log.clone());
    let (output, _, _) = sim::run::simulate(plan, |_, _| {}).unwrap();
    let records = lines(&log);
    for input in ["node_removed", "job_progress", "public_billed"] {
        let tag = format!(r#"{{"record":"input","input":{{"{input}""#);
        assert!(records.iter().any(|line| line.starts_with(&tag)), "{input}");
    }
    let checked = sim::inputs_log::check(&log, false, |_, _| {}, |_| {}).unwrap();
    assert_eq!(checked.mismatch, None);
    assert_eq!(checked.counts.cycles, output.cycles);
    assert_eq!(checked.counts.records, records.len() as u64);
    assert!(checked.same_core());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sim_run_writes_the_log_and_a_log_it_cannot_write_is_named() {
    let dir = scratch("inputs-log-run");
    std::fs::create_dir_all(&dir).unwrap();
    let (trace, log) = (dir.join("trace.csv"), dir.join("log.jsonl"));
    let fleet = super::fleet_path();
    let output = sim(&["generate", "--jobs", "80", "-o", trace.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let run = |log: &Path| {
        sim(&[
            "run",
            "--trace",
            trace.to_str().unwrap(),
            "--fleet",
            fleet.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
            "--inputs-log",
            log.to_str().unwrap(),
        ])
    };
    let output = run(&log);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = replay_inputs(&log);
    assert!(output.status.success(), "{}", text(&output.stdout));
    assert!(text(&output.stdout).ends_with("decisions: identical\n"));

    // Under a file, no directory can be made.
    let unwritable = trace.join("log.jsonl");
    let output = run(&unwritable);
    assert_eq!(output.status.code(), Some(2));
    let error = text(&output.stderr);
    assert!(
        error.starts_with(&format!("error: {}: ", unwritable.display())),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// What the twin acts on (the cycle's changes) adds up to every decision: a scenario's log
/// replayed twice, once by `cycle` and once by `decide_all`, gives at every cycle the same
/// admissions, preemptions and rejections, and the changes folded into what was told equal
/// every decision of the pending jobs.
#[test]
fn a_scenario_s_changes_add_up_to_every_decision() {
    use alloc_core::inputs_log::{LogRecord, Read};
    use alloc_core::{Decision, JobId};
    use std::collections::BTreeMap;

    let dir = scratch("changes-add-up");
    std::fs::create_dir_all(&dir).unwrap();
    let (out, log) = (dir.join("out"), dir.join("log.jsonl"));
    // a deadline surge: waits that change, bursts and preemptions
    let scenario = scenario("conference-deadline");
    let output = sim(&[
        "--scenario",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--inputs-log",
        log.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut changes_only = None;
    let mut every = None;
    let mut told: BTreeMap<JobId, Decision> = BTreeMap::new();
    let (mut cycles, mut preemptions, mut rewaits) = (0, 0, 0);
    for line in lines(&log) {
        let record: Read<Value> = serde_json::from_str(&line).unwrap();
        match record {
            LogRecord::Start(start) => {
                changes_only = Some(start.scheduler().unwrap());
                every = Some(start.scheduler().unwrap());
            }
            LogRecord::Input { input } => {
                for scheduler in [&mut changes_only, &mut every] {
                    // an input the run's core refused is refused here too
                    let _ = scheduler.as_mut().unwrap().apply(input.clone());
                }
            }
            LogRecord::Cycle { now, .. } => {
                let (a, b) = (changes_only.as_mut().unwrap(), every.as_mut().unwrap());
                let changes = a.cycle(now).changes;
                let all = b.decide_all(now);
                let acts = |decisions: &[Decision]| -> Vec<Decision> {
                    decisions
                        .iter()
                        .filter(|d| !matches!(d, Decision::Wait { .. }))
                        .cloned()
                        .collect()
                };
                assert_eq!(acts(&changes), acts(&all), "at {now}");
                for decision in changes {
                    preemptions += usize::from(matches!(decision, Decision::Preempt { .. }));
                    rewaits += usize::from(
                        matches!(decision, Decision::Wait { .. })
                            && told.contains_key(&decision.job()),
                    );
                    told.insert(decision.job(), decision);
                }
                let pending: Vec<JobId> = a.pending().map(|job| job.id).collect();
                told.retain(|id, _| pending.contains(id));
                let waits: BTreeMap<JobId, Decision> = all
                    .into_iter()
                    .filter(|d| matches!(d, Decision::Wait { .. }))
                    .map(|d| (d.job(), d))
                    .collect();
                let told_waits: BTreeMap<JobId, Decision> = told
                    .iter()
                    .filter(|(_, d)| matches!(d, Decision::Wait { .. }))
                    .map(|(id, d)| (*id, d.clone()))
                    .collect();
                assert_eq!(told_waits, waits, "what was told at {now}");
                cycles += 1;
            }
        }
    }
    // the run exercised what the fold must get right: preemptions, and waits told again
    // because their explanation changed
    assert!(
        cycles > 100 && preemptions > 10 && rewaits > 100,
        "{cycles} cycles, {preemptions} preemptions, {rewaits} waits told again"
    );
}
