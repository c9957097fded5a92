//! Inputs logs: a recorded run replays to the decisions it logged, a tampered log is caught
//! at the record that differs, and records the core cannot replay are named by position.

use alloc_core::inputs_log::{
    first_difference, replay, Read, ReplayError, ReplayErrorKind, Replayer, Start, Written,
    FORMAT_VERSION,
};
use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    Decision, Input, InputError, JobId, Millis, Money, Policy, Quota, Resource, Scheduler, Tier,
    Time,
};
use serde_json::Value;

/// A shell that writes every call it makes to the core as one JSON line.
struct Recorder {
    scheduler: Scheduler,
    lines: Vec<String>,
    /// Every cycle's decisions, as the scheduler returned them.
    cycles: Vec<Vec<Decision>>,
}

impl Recorder {
    fn new(start: Start) -> Recorder {
        let line = serde_json::to_string(&Written::Start(Box::new(start.clone()))).unwrap();
        Recorder {
            scheduler: start.scheduler().unwrap(),
            lines: vec![line],
            cycles: Vec::new(),
        }
    }

    fn apply(&mut self, input: Input) {
        self.lines
            .push(serde_json::to_string(&Written::input(&input)).unwrap());
        self.scheduler.apply(input).unwrap();
    }

    fn cycle(&mut self, minutes: u64) -> Vec<Decision> {
        let now = Time(Millis::minutes(minutes).0);
        let decisions = self.scheduler.cycle(now).changes;
        self.lines
            .push(serde_json::to_string(&Written::cycle(now, &decisions)).unwrap());
        self.cycles.push(decisions.clone());
        decisions
    }

    /// The oldest running job, if any.
    fn a_running_job(&self) -> Option<JobId> {
        self.scheduler.running().map(|r| r.job.id).min()
    }
}

/// A private V100 flavor and a public T4 offer in one queue, under the tiered-burst policy
/// (scored order, FGD-pack, preemption, burst): nodes come and go, jobs start, finish, are
/// requeued, cancelled and billed, quota changes, and a burst happens after its wait.
fn recorded_run() -> Recorder {
    let config = ConfigBuilder::new()
        .private_flavor("v100", Tier::Silver)
        .offer("cloud-t4", Tier::Silver, "T4", 1, 5, 8)
        .queue(
            "q",
            &[
                ("v100", Quota::nominal(4_000)),
                ("cloud-t4", Quota::nominal(8_000)),
            ],
        )
        .tenant("lab", None, None)
        .build();
    let policy = Policy::preset("tiered-burst").unwrap();
    let mut run = Recorder::new(Start::new(config, policy).with_mix_window(8));
    run.apply(Input::NodeAdded(NodeBuilder::new("a", "v100", 2).build()));
    run.apply(Input::NodeAdded(NodeBuilder::new("b", "v100", 1).build()));
    for id in 1..=6 {
        let job = match id % 3 {
            0 => JobBuilder::fraction(300, 4_096),
            1 => JobBuilder::gpus(1).burstable(),
            _ => JobBuilder::gpus(2).priority(id as i32),
        };
        let job = job
            .id(id)
            .tier(Tier::Silver)
            .runtime(Millis::hours(2))
            .submitted(Time(id));
        run.apply(Input::JobSubmitted(job.build()));
    }
    run.cycle(0);
    if let Some(job) = run.a_running_job() {
        run.apply(Input::JobFinished(job));
    }
    run.cycle(10);
    run.apply(Input::NodeRemoved("b".into()));
    if let Some(job) = run.a_running_job() {
        run.apply(Input::JobRequeued(job));
        run.apply(Input::JobProgress {
            job,
            remaining: Millis::minutes(30),
        });
    }
    run.apply(Input::JobCancelled(JobId(6)));
    run.cycle(20);
    // Long enough for a waiting burstable job to go public.
    let decisions = run.cycle(45);
    for decision in &decisions {
        if let Decision::Admit { job, placement } = decision {
            if let Some(lease) = &placement.public {
                run.apply(Input::PublicBilled {
                    job: *job,
                    lease: lease.lease,
                    cost: Money::units(1),
                });
            }
        }
    }
    run.apply(Input::QuotaChanged {
        queue: "q".into(),
        flavor: "v100".into(),
        resource: Resource::Gpu,
        quota: Quota::nominal(2_000),
    });
    run.apply(Input::NodeAdded(NodeBuilder::new("c", "v100", 4).build()));
    run.cycle(60);
    run
}

fn read(lines: &[String]) -> Vec<Read<Value>> {
    lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn encode(decision: &Decision) -> Value {
    serde_json::to_value(decision).unwrap()
}

#[test]
fn a_recorded_run_replays_to_the_decisions_it_logged() {
    let run = recorded_run();
    let decided: usize = run.cycles.iter().map(Vec::len).sum();
    assert!(decided >= 10, "the run decides something: {:?}", run.cycles);
    for input in [
        "node_removed",
        "job_finished",
        "job_requeued",
        "job_progress",
        "job_cancelled",
        "public_billed",
        "quota_changed",
    ] {
        let tag = format!(r#"{{"record":"input","input":{{"{input}""#);
        assert!(
            run.lines.iter().any(|line| line.starts_with(&tag)),
            "the run sends {input}"
        );
    }
    let cycles = replay(read(&run.lines)).unwrap();
    assert_eq!(first_difference(&cycles, encode), None);
    let replayed: Vec<Vec<Decision>> = cycles.iter().map(|c| c.replayed.clone()).collect();
    assert_eq!(
        replayed, run.cycles,
        "the very decisions, not only their JSON"
    );
    let nows: Vec<u64> = cycles.iter().map(|c| c.now.0 / 60_000).collect();
    assert_eq!(nows, [0, 10, 20, 45, 60]);
    for cycle in &cycles {
        assert!(
            run.lines[cycle.record].starts_with(r#"{"record":"cycle""#),
            "a cycle knows its record"
        );
    }

    // Streamed one record at a time, with the counts a summary prints.
    let mut replayer = Replayer::new();
    for record in read(&run.lines) {
        replayer.step(record).unwrap();
    }
    let counts = replayer.finish().unwrap();
    assert_eq!(counts.records, run.lines.len() as u64);
    assert_eq!(counts.cycles, 5);
    assert_eq!(counts.inputs, run.lines.len() as u64 - 1 - 5);
    assert_eq!(counts.decisions, decided as u64);
}

#[test]
fn one_record_per_line_tag_first_in_a_stable_order() {
    let run = recorded_run();
    let start = &run.lines[0];
    assert!(
        start.starts_with(&format!(
            r#"{{"record":"start","version":{FORMAT_VERSION},"core_version":"{}","mix_window":8,"policy":{{"#,
            alloc_core::inputs_log::CORE_VERSION
        )),
        "{start}"
    );
    assert!(run.lines.iter().all(|line| !line.contains('\n')));
    assert_eq!(
        serde_json::to_string(&Written::input(&Input::JobFinished(JobId(7)))).unwrap(),
        r#"{"record":"input","input":{"job_finished":7}}"#
    );
    assert_eq!(
        serde_json::to_string(&Written::cycle(Time(5), &[])).unwrap(),
        r#"{"record":"cycle","now":5,"decisions":[]}"#
    );
    // The start record reads back as written, scoring weights (floats) and all.
    let Ok(Read::<Value>::Start(read_back)) = serde_json::from_str(start) else {
        panic!("not a start record: {start}");
    };
    assert_eq!(
        serde_json::to_string(&Written::Start(read_back)).unwrap(),
        *start
    );
    // The same run recorded twice gives the same bytes.
    assert_eq!(recorded_run().lines, run.lines);
}

/// The first cycle record with a decision, and that decision's job.
fn first_decided(lines: &[String]) -> (usize, Value) {
    lines
        .iter()
        .enumerate()
        .find_map(|(index, line)| {
            let record: Value = serde_json::from_str(line).unwrap();
            let decisions = record["decisions"].as_array()?;
            Some((index, decisions.first()?.clone()))
        })
        .unwrap()
}

#[test]
fn a_tampered_decision_is_reported_at_its_cycle_and_position() {
    let run = recorded_run();
    let (index, decision) = first_decided(&run.lines);
    let mut record: Value = serde_json::from_str(&run.lines[index]).unwrap();
    let (kind, body) = decision.as_object().unwrap().iter().next().unwrap();
    let job = body["job"].as_u64().unwrap();
    // The first decision of that cycle now names another job.
    record["decisions"][0][kind]["job"] = Value::from(999);
    let mut lines = run.lines.clone();
    lines[index] = record.to_string();
    let cycles = replay(read(&lines)).unwrap();
    let difference = first_difference(&cycles, encode).unwrap();
    assert_eq!(difference.record, index);
    assert_eq!(difference.position, 0);
    assert_eq!(difference.now, Time(0));
    assert_eq!(difference.job(), Some(JobId(job)));
    assert_eq!(difference.logged.unwrap()[kind]["job"], 999);
    assert_eq!(difference.replayed.map(encode), Some(decision));

    // A decision missing from the log: the replay made one more than it says.
    let last = cycles.iter().rposition(|c| !c.replayed.is_empty()).unwrap();
    let (index, count) = (cycles[last].record, cycles[last].replayed.len());
    let mut record: Value = serde_json::from_str(&run.lines[index]).unwrap();
    record["decisions"].as_array_mut().unwrap().pop();
    let mut lines = run.lines.clone();
    lines[index] = record.to_string();
    let cycles = replay(read(&lines)).unwrap();
    let difference = first_difference(&cycles, encode).unwrap();
    assert_eq!((difference.record, difference.position), (index, count - 1));
    assert_eq!(difference.logged, None);
    assert_eq!(difference.replayed, run.cycles[last].last());
}

#[test]
fn records_the_core_cannot_replay_are_named_by_position() {
    let run = recorded_run();
    let error = |lines: &[String]| replay(read(lines)).unwrap_err();

    // Job 1 submitted twice: the core refuses the second.
    let submitted = run
        .lines
        .iter()
        .position(|line| line.contains(r#""job_submitted":{"id":1,"#))
        .unwrap();
    let mut lines = run.lines.clone();
    lines.insert(submitted + 1, run.lines[submitted].clone());
    assert_eq!(
        error(&lines),
        ReplayError {
            record: submitted + 1,
            kind: ReplayErrorKind::Refused(InputError::DuplicateJob(JobId(1))),
        }
    );

    assert_eq!(error(&run.lines[1..]).kind, ReplayErrorKind::NoStart);
    assert_eq!(error(&run.lines[1..]).record, 0);
    let mut twice = run.lines.clone();
    twice.insert(3, run.lines[0].clone());
    assert_eq!(error(&twice).record, 3);
    assert_eq!(error(&twice).kind, ReplayErrorKind::SecondStart);
    assert_eq!(error(&[]).kind, ReplayErrorKind::Empty);
    let mut later = run.lines.clone();
    later[0] = later[0].replacen(r#""version":1"#, r#""version":2"#, 1);
    assert_eq!(
        error(&later),
        ReplayError {
            record: 0,
            kind: ReplayErrorKind::Version { found: 2 },
        }
    );
    assert_eq!(
        error(&later).to_string(),
        "record 0: log format version 2; this core reads version 1"
    );
}
