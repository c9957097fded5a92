//! Parity: one event sequence through the sim's two-phase procedure on the core (what
//! `sim --two-phase` does each instant: Kueue's reservations, a cycle, the waiting jobs'
//! reservations given back) and through the controller (the same world as Kubernetes objects,
//! Kueue played by answering our writes) gives the same decisions, compared through the two
//! inputs logs; and the controller's log replays through the core as the sim replays one.

use crate::fixtures::{self, *};
use alloc_core::inputs_log::{self, Start, Written};
use alloc_core::{Input, JobId, Policy, Scheduler, Time};
use live_adapter::index::Event;
use live_adapter::inputs_log::InputsLog;
use live_adapter::labels::job_of;
use live_adapter::{Owner, Write};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A log written to memory.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().expect("not poisoned").clone();
        String::from_utf8(bytes)
            .expect("UTF-8")
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

/// Per job, the decisions a log's cycles reported, waits for a reservation left out (Kueue
/// is never told those), repeats folded.
fn decisions_by_job(lines: &[Value]) -> BTreeMap<u64, Vec<Value>> {
    let mut by_job: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for line in lines.iter().filter(|l| l["record"] == "cycle") {
        for decision in line["decisions"].as_array().expect("decisions") {
            let (_, body) = decision
                .as_object()
                .and_then(|o| o.iter().next())
                .expect("a tagged decision");
            if body["reason"] == "no_reservation" {
                continue;
            }
            let job = body["job"].as_u64().expect("a job id");
            let list = by_job.entry(job).or_default();
            if list.last() != Some(decision) {
                list.push(decision.clone());
            }
        }
    }
    by_job
}

/// The sim's two-phase procedure on the core, logging as the sim does.
struct Twin {
    scheduler: Scheduler,
    log: Vec<Value>,
}

impl Twin {
    fn new(start: Start) -> Twin {
        let scheduler = start.scheduler().expect("builds");
        let log = vec![serde_json::to_value(Written::Start(Box::new(start))).expect("serializes")];
        Twin { scheduler, log }
    }
    fn apply(&mut self, input: Input) {
        self.log
            .push(serde_json::to_value(Written::input(&input)).expect("serializes"));
        self.scheduler.apply(input).expect("the core accepts it");
    }
    /// Kueue's reservations, in Kueue's order, then the cycle, then the Retry releases.
    fn instant(&mut self, now: Time) -> Vec<(JobId, String)> {
        let reserved = self.scheduler.kueue_reservations();
        for (job, flavor) in &reserved {
            self.apply(Input::QuotaReserved {
                job: *job,
                flavor: Some(flavor.clone()),
            });
        }
        let changes = self.scheduler.cycle(now).changes;
        self.log
            .push(serde_json::to_value(Written::cycle(now, &changes)).expect("serializes"));
        let nominated: BTreeSet<JobId> = self.scheduler.nominated().collect();
        let waiting: Vec<JobId> = self
            .scheduler
            .reservations()
            .map(|(job, _)| job)
            .filter(|job| !nominated.contains(job))
            .collect();
        for job in waiting {
            self.apply(Input::QuotaReserved { job, flavor: None });
        }
        reserved
            .into_iter()
            .map(|(job, flavor)| (job, flavor.to_string()))
            .collect()
    }
}

/// Kueue and the cluster around the controller.
struct Cluster {
    owner: Owner,
    workloads: BTreeMap<String, Value>,
}

impl Cluster {
    fn batch(&mut self, events: Vec<Event>, now: Time) -> Vec<Write> {
        let step = self.owner.handle_batch(events, now);
        assert!(step.problems.is_empty(), "{:?}", step.problems);
        step.writes
    }
    fn event(&self, name: &str) -> Event {
        workload_event(&self.workloads[name])
    }
    /// Kueue answers our writes: Ready admits, Retry evicts and gives the quota back.
    fn kueue_reacts(&mut self, writes: Vec<Write>, now: Time) {
        let mut events = Vec::new();
        for write in writes {
            let Write::Check { name, entry, .. } = write else {
                continue;
            };
            let workload = self.workloads.get_mut(&name).expect("known");
            match entry.state {
                kueue_model::objects::CheckState::Ready => {
                    *workload = crate::index::admitted(
                        workload,
                        &Write::Check {
                            namespace: "team-a".into(),
                            name: name.clone(),
                            entry,
                            reason: String::new(),
                        },
                    );
                }
                _ => {
                    workload["status"] = json!({"admissionChecks": [{"name": CHECK, "state": "Pending", "message": "", "lastTransitionTime": CREATED, "retryCount": 1}]});
                }
            }
            events.push(workload_event(workload));
        }
        let writes = self.batch(events, now);
        assert!(
            writes.is_empty(),
            "Kueue's answers call for no write: {writes:?}"
        );
    }
}

#[test]
fn the_controller_decides_as_the_twin_two_phase() {
    // Kueue's order in both shells (Policy's default ordering), so that the reservations
    // Kueue makes come in the order the cycle decides in.
    let policy = Policy::default();
    let buffer = Buffer::default();
    let log = InputsLog::to_writer(Path::new("live.jsonl"), buffer.clone());
    let mut cluster = Cluster {
        owner: Owner::new(fixtures::index(), policy, Some(log), 60),
        workloads: BTreeMap::new(),
    };
    let jobs = [("w1", 4), ("w2", 2), ("w3", 2), ("w4", 1), ("w5", 3)];
    for (name, gpus) in jobs {
        cluster.workloads.insert(
            name.into(),
            fixtures::workload(name, gpus, json!({"gpu-alloc.dev/runtime": "2h"})),
        );
    }
    // the first lists: the world, the Workloads without reservations
    let all: Vec<Value> = cluster.workloads.values().cloned().collect();
    for event in initial_list(&[node("node-a", 4), node("node-b", 4)], &all, true) {
        cluster.batch(vec![event], at(0));
    }
    let lines = buffer.lines();
    let start: Start = serde_json::from_value(lines[0].clone())
        .map(
            |record: alloc_core::inputs_log::LogRecord<Value, Value>| match record {
                alloc_core::inputs_log::LogRecord::Start(start) => *start,
                _ => panic!("a log begins with its start record"),
            },
        )
        .expect("a start record");
    let mut twin = Twin::new(start);
    for name in ["node-a", "node-b"] {
        let spec = live_adapter::nodes::node_spec(&node(name, 4), &platform()).expect("reads");
        twin.apply(Input::NodeAdded(spec));
    }
    for object in cluster.owner.index().replay() {
        if matches!(object, Input::ObjectUpserted(_)) {
            twin.apply(object);
        }
    }
    for workload in cluster.workloads.values() {
        twin.apply(Input::JobSubmitted(
            job_of(&typed(workload), &platform(), at(0)).expect("reads"),
        ));
    }
    let key_of = |job: JobId, cluster: &Cluster| {
        cluster
            .owner
            .index()
            .key_of(job)
            .map(|k| k.trim_start_matches("team-a/").to_string())
            .expect("a tracked job")
    };
    let mut finished = Vec::new();
    for round in 1..=4u64 {
        let now = at(round * 3600);
        if round > 1 {
            // the oldest running job finishes
            let running: Vec<JobId> = twin.scheduler.running().map(|r| r.job.id).collect();
            if let Some(&job) = running.iter().min_by_key(|job| job.0) {
                let name = key_of(job, &cluster);
                twin.apply(Input::JobFinished(job));
                let workload = cluster.workloads.get_mut(&name).expect("known");
                workload["status"]["conditions"].as_array_mut().expect("conditions").push(
                    json!({"type": "Finished", "status": "True", "reason": "Succeeded", "message": "", "lastTransitionTime": CREATED}));
                let event = cluster.event(&name);
                let writes = cluster.batch(vec![event], now);
                assert!(writes.is_empty(), "{writes:?}");
                finished.push(name);
            }
        }
        let reserved = twin.instant(now);
        let mut events = Vec::new();
        for (job, flavor) in reserved {
            let name = key_of(job, &cluster);
            let workload = cluster.workloads.get_mut(&name).expect("known");
            *workload = reserve(workload.clone(), &flavor);
            events.push(workload_event(workload));
        }
        let writes = cluster.batch(events, now);
        cluster.kueue_reacts(writes, now);
    }
    assert!(
        finished.len() >= 2,
        "the sequence finishes jobs: {finished:?}"
    );
    let live = decisions_by_job(&buffer.lines());
    let sim = decisions_by_job(&twin.log);
    assert_eq!(live.len(), jobs.len());
    assert_eq!(live, sim);
    let admitted = live
        .values()
        .filter(|d| d.iter().any(|d| d.get("admit").is_some()))
        .count();
    assert!(admitted >= 4, "{admitted} jobs admitted");
    // the controller's log replays through the core as `sim replay-inputs` replays it
    let records = buffer.lines().into_iter().map(|line| {
        serde_json::from_value::<alloc_core::inputs_log::Read<Value>>(line).expect("a record")
    });
    let cycles = inputs_log::replay(records).expect("replays");
    let encode = |d: &alloc_core::Decision| serde_json::to_value(d).expect("serializes");
    assert_eq!(inputs_log::first_difference(&cycles, encode), None);
}
