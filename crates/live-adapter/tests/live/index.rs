//! Watch events through the index and the owner: inputs, decisions, writes.

use crate::fixtures::{self, *};
use alloc_core::{Input, Policy};
use kube::runtime::watcher;
use kueue_model::objects::CheckState;
use live_adapter::index::Event;
use live_adapter::kueue::SetupKind;
use live_adapter::{Owner, Write};
use serde_json::{json, Value};

pub fn owner() -> Owner {
    Owner::new(
        fixtures::index(),
        Policy::preset("default").expect("a preset"),
        None,
        60,
    )
}

fn feed(owner: &mut Owner, events: Vec<Event>, now: alloc_core::Time) -> Vec<Write> {
    let mut writes = Vec::new();
    for event in events {
        let step = owner.handle(event, now);
        // only the bad Workload of the rejection test is a problem
        assert!(
            step.problems.iter().all(|p| p.contains("team-a/bad")),
            "{:?}",
            step.problems
        );
        writes.extend(step.writes);
    }
    writes
}

fn check_writes(writes: &[Write]) -> Vec<(&str, CheckState, &str)> {
    writes
        .iter()
        .filter_map(|w| match w {
            Write::Check {
                name,
                entry,
                reason,
                ..
            } => Some((name.as_str(), entry.state, reason.as_str())),
            Write::Active { .. } => None,
        })
        .collect()
}

/// The Workload as Kueue shows it once our Ready entry `write` is on it and it is admitted.
pub fn admitted(workload: &Value, write: &Write) -> Value {
    let Write::Check { entry, .. } = write else {
        panic!("not a check write")
    };
    let mut workload = workload.clone();
    workload["status"]["admissionChecks"] = json!([entry]);
    workload["status"]["conditions"]
        .as_array_mut()
        .expect("conditions")
        .push(json!({"type": "Admitted", "status": "True", "reason": "Admitted", "message": "", "lastTransitionTime": CREATED}));
    workload
}

#[test]
fn nothing_is_decided_until_every_watch_has_listed() {
    let mut owner = owner();
    let mut events = initial_list(&[node("node-a", 4)], &[], true);
    let last = events.pop().expect("events");
    feed(&mut owner, events, T0);
    assert!(owner.scheduler().is_none());
    feed(&mut owner, vec![last], T0);
    assert!(owner.scheduler().is_some());
    assert!(!owner
        .index()
        .start_config()
        .expect("builds")
        .flavors
        .is_empty());
}

#[test]
fn an_inactive_check_is_made_active() {
    let mut owner = owner();
    let writes = feed(
        &mut owner,
        initial_list(&[node("node-a", 4)], &[], false),
        T0,
    );
    assert!(
        writes.contains(&Write::Active { name: CHECK.into() }),
        "{writes:?}"
    );
}

#[test]
fn a_reservation_on_a_private_flavor_is_placed_and_a_second_waits() {
    let mut owner = owner();
    let first = reserve(fixtures::workload("first", 4, json!({})), "v100-gold");
    let second = reserve(fixtures::workload("second", 4, json!({})), "v100-gold");
    let writes = feed(
        &mut owner,
        initial_list(&[node("node-a", 4)], &[first.clone(), second], true),
        at(1),
    );
    assert_eq!(
        check_writes(&writes),
        vec![
            ("first", CheckState::Ready, "admit"),
            ("second", CheckState::Retry, "no-flavor-fits")
        ]
    );
    let Write::Check { entry, .. } = &writes[0] else {
        panic!("a check write")
    };
    assert_eq!(
        entry.pod_set_updates[0]
            .node_selector
            .get("kubernetes.io/hostname")
            .map(String::as_str),
        Some("node-a")
    );
    assert!(entry.pod_set_updates[0]
        .annotations
        .contains_key("gpu-alloc.dev/placement"));
    // the Ready entry shown back by the watch changes nothing and writes nothing
    let step = owner.handle(workload_event(&admitted(&first, &writes[0])), at(2));
    assert!(step.writes.is_empty(), "{:?}", step.writes);
    assert!(step.changes.is_empty(), "{:?}", step.changes);
}

#[test]
fn a_restarted_controller_rebuilds_running_jobs_from_their_placements() {
    let mut before = owner();
    let first = reserve(fixtures::workload("first", 4, json!({})), "v100-gold");
    let writes = feed(
        &mut before,
        initial_list(&[node("node-a", 4)], std::slice::from_ref(&first), true),
        at(1),
    );
    let running = admitted(&first, &writes[0]);
    // a fresh controller finds the first Workload admitted and a second one reserved
    let mut after = owner();
    let second = reserve(fixtures::workload("second", 2, json!({})), "v100-gold");
    let writes = feed(
        &mut after,
        initial_list(&[node("node-a", 4)], &[running, second], true),
        at(5),
    );
    assert_eq!(
        check_writes(&writes),
        vec![("second", CheckState::Retry, "no-flavor-fits")]
    );
    let scheduler = after.scheduler().expect("built");
    assert_eq!(scheduler.running().count(), 1);
}

#[test]
fn a_finished_workload_frees_its_gpus() {
    let mut owner = owner();
    let first = reserve(fixtures::workload("first", 4, json!({})), "v100-gold");
    let second = reserve(fixtures::workload("second", 4, json!({})), "v100-gold");
    let writes = feed(
        &mut owner,
        initial_list(&[node("node-a", 4)], &[first.clone(), second], true),
        at(1),
    );
    let mut finished = admitted(&first, &writes[0]);
    finished["status"]["conditions"].as_array_mut().expect("conditions").push(
        json!({"type": "Finished", "status": "True", "reason": "Succeeded", "message": "", "lastTransitionTime": CREATED}));
    let step = owner.handle(workload_event(&finished), at(60));
    assert_eq!(
        check_writes(&step.writes),
        vec![("second", CheckState::Ready, "admit")]
    );
}

#[test]
fn a_deadline_nothing_can_meet_is_rejected_and_a_bad_workload_too() {
    let mut owner = owner();
    let late = reserve(
        fixtures::workload(
            "late",
            1,
            json!({"gpu-alloc.dev/runtime": "5h", "gpu-alloc.dev/deadline": "2026-01-01T01:00:00Z"}),
        ),
        "v100-gold",
    );
    let bad = reserve(
        fixtures::workload("bad", 1, json!({"gpu-alloc.dev/data-class": "secret"})),
        "v100-gold",
    );
    let writes = feed(
        &mut owner,
        initial_list(&[node("node-a", 4)], &[late, bad], true),
        at(1),
    );
    assert_eq!(
        check_writes(&writes),
        vec![
            ("bad", CheckState::Rejected, "invalid-workload"),
            ("late", CheckState::Rejected, "deadline-infeasible")
        ]
    );
    let Write::Check { entry, .. } = &writes[0] else {
        panic!("a check write")
    };
    assert!(
        entry.message.contains("gpu-alloc.dev/data-class"),
        "{}",
        entry.message
    );
}

#[test]
fn a_relist_ends_in_a_resync_that_drops_what_went_away() {
    let mut index = fixtures::index();
    for event in initial_list(&[node("node-a", 4), node("node-b", 4)], &[], true) {
        index.handle(event, T0);
    }
    assert!(index.synced());
    index.handle(Event::Node(Box::new(watcher::Event::Init)), T0);
    index.handle(
        Event::Node(Box::new(watcher::Event::InitApply(node("node-a", 4)))),
        T0,
    );
    let update = index.handle(Event::Node(Box::new(watcher::Event::InitDone)), T0);
    assert_eq!(update.inputs.first(), Some(&Input::ResyncStarted));
    assert_eq!(update.inputs.last(), Some(&Input::ResyncFinished));
    let nodes: Vec<_> = update
        .inputs
        .iter()
        .filter_map(|i| match i {
            Input::NodeUpserted(spec) => Some(spec.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(nodes, vec!["node-a"]);
}

#[test]
fn gpus_no_quota_can_admit_are_reported_each_time_they_change() {
    let mut owner = owner();
    let mut reports = Vec::new();
    for event in initial_list(&[node("n1", 8), node("n2", 8)], &[], true) {
        reports.extend(owner.handle(event, T0).stranded);
    }
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].len(), 1);
    assert!(
        reports[0][0].to_string().starts_with(
            "flavor v100-gold has 16 GPUs but 8 GPUs of nominal quota over all ClusterQueues, \
             so 8 GPU(s) can never be admitted"
        ),
        "{}",
        reports[0][0]
    );
    // a Workload changes neither nodes nor quotas: nothing is reported again
    let step = owner.handle(workload_event(&workload("w1", 1, json!({}))), T0);
    assert_eq!(step.stranded, None);
    // quota for every GPU: reported as none left, once
    let raised = Event::Setup(
        SetupKind::ClusterQueue,
        apply(dynamic(cluster_queue("16", "8"))),
    );
    assert_eq!(owner.handle(raised, T0).stranded, Some(vec![]));
    // a third node outgrows the quota again
    let step = owner.handle(Event::Node(Box::new(apply(node("n3", 8)))), T0);
    let stranded = step.stranded.expect("reported");
    assert_eq!((stranded[0].gpus, stranded[0].quota), (24_000, 16_000));
}
