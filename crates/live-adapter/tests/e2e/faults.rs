//! Faults: the adapter killed mid-run and started again (it rebuilds from the admitted
//! Workloads: no decision lost, none written twice, counted in the apiserver's audit log), a
//! 409 on our status write (retried), kube-apiserver restarted (watches resume, decisions go
//! on), two replicas (only the leader writes; the other takes over within the lease time).

use crate::bed::{
    bed, is_true, pinned_node, state, update_annotation, Adapter, AuditedWrite, Bed, CHECK,
    FIELD_MANAGER, NAMESPACE,
};
use crate::world::{self, add_node, node, workload, JobSide};
use futures::future::join_all;
use kube::api::{Patch, PatchParams};
use kueue_model::objects::{AdmissionCheckState, CheckState};
use live_adapter::apply::Writer;
use live_adapter::reconcile::Write;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(90);

async fn silver_fleet(bed: &Bed, nodes: usize) {
    world::queues(bed, [0, 64, 0, 0]).await;
    join_all((0..nodes).map(|i| add_node(bed, node(&format!("silver-{i}"), 1, 4)))).await;
}

fn silver_job(name: &str) -> serde_json::Value {
    workload(
        name,
        1,
        Some("SILVER"),
        json!({"gpu-alloc.dev/tier": "SILVER", "gpu-alloc.dev/runtime": "2h"}),
    )
}

async fn wait_admitted(bed: &Bed, names: &[String]) -> BTreeMap<String, String> {
    let mut gpus = BTreeMap::new();
    for name in names {
        let admitted = bed
            .wait_workload(name, "Admitted", LONG, |w| {
                is_true(w, "Admitted") && state(w) == "Ready"
            })
            .await;
        let on = update_annotation(&admitted, "gpu-alloc.dev/gpus")
            .unwrap_or_default()
            .to_string();
        gpus.insert(name.clone(), on);
    }
    gpus
}

/// Every GPU is booked by one job at most.
fn assert_no_double_booking(gpus: &BTreeMap<String, String>) {
    let mut seen = BTreeMap::new();
    for (job, list) in gpus {
        for gpu in list.split(',').filter(|g| !g.is_empty()) {
            if let Some(other) = seen.insert(gpu.to_string(), job.clone()) {
                panic!("GPU {gpu} booked by {other} and {job}");
            }
        }
    }
}

/// Killed mid-run and started again: the jobs the first process admitted keep their GPUs and
/// get no second write; the jobs that arrived while no adapter ran are decided by the second,
/// on the GPUs left; every Workload's entry was written exactly once (the audit log counts).
#[tokio::test]
async fn adapter_restart_loses_nothing_writes_nothing_twice() {
    let Some(bed) = bed("adapter_restart").await else {
        return;
    };
    silver_fleet(&bed, 4).await;
    let platform = world::platform(&bed);
    let args = ["--no-leader-election", "--requeue-after", "6"];
    let mut first = Adapter::start(&bed, "first", &platform, "default", &args);
    first.wait_ready(LONG).await;
    world::wait_queue_active(&bed).await;

    let before: Vec<String> = (0..8).map(|i| format!("w{i:02}")).collect();
    join_all(before.iter().map(|name| bed.apply(silver_job(name)))).await;
    // mid-run: killed as soon as some entries are written, while others may not be
    crate::bed::until("the first adapter's first writes", LONG, || async {
        (bed.status_writes().iter().filter(|w| w.code == 200).count() >= 1).then_some(())
    })
    .await;
    first.kill();

    let after: Vec<String> = (8..16).map(|i| format!("w{i:02}")).collect();
    join_all(after.iter().map(|name| bed.apply(silver_job(name)))).await;
    let second_started = jiff::Timestamp::now();
    let mut second = Adapter::start(&bed, "second", &platform, "default", &args);
    second.wait_ready(LONG).await;
    let all: Vec<String> = before.iter().chain(&after).cloned().collect();
    let gpus = wait_admitted(&bed, &all).await;
    assert_no_double_booking(&gpus);

    // quiet for a while: nothing more is written
    tokio::time::sleep(Duration::from_secs(3)).await;
    let writes = bed.status_writes();
    // A write in flight when the first process died reaches the audit log with the code of
    // an abandoned request (504) though etcd may have taken it: the second process then sees
    // the entry and writes nothing; had it not been taken, the second would write it again.
    let mut succeeded: BTreeMap<&str, Vec<&AuditedWrite>> = BTreeMap::new();
    let mut interrupted: BTreeMap<&str, Vec<&AuditedWrite>> = BTreeMap::new();
    for write in &writes {
        let into = if write.code == 200 {
            &mut succeeded
        } else {
            &mut interrupted
        };
        into.entry(write.workload.as_str()).or_default().push(write);
    }
    for name in &all {
        let ok = succeeded.get(name.as_str()).map_or(0, Vec::len);
        let cut = interrupted.get(name.as_str()).map_or(0, Vec::len);
        assert!(
            ok <= 1,
            "{name}: written {ok} times: {:?}",
            succeeded.get(name.as_str())
        );
        assert!(ok + cut >= 1, "{name}: never written, yet Ready");
        for write in interrupted.get(name.as_str()).into_iter().flatten() {
            assert!(
                write.at.is_some_and(|at| at < second_started),
                "only a write cut by the kill fails: {write:?}"
            );
        }
    }
    for write in writes.iter().filter(|w| after.contains(&w.workload)) {
        assert!(
            write.at.is_some_and(|at| at >= second_started),
            "the Workloads created while no adapter ran are written by the second: {write:?}"
        );
    }
    let by_first = writes
        .iter()
        .filter(|w| w.code == 200 && w.at.is_some_and(|at| at < second_started))
        .count();
    let by_second = writes
        .iter()
        .filter(|w| w.code == 200 && w.at.is_some_and(|at| at >= second_started))
        .count();
    let second_says = second
        .metric("gpu_alloc_status_writes_total", "state=\"Ready\"")
        .await
        .unwrap_or(-1.0);
    let cut: usize = interrupted.values().map(Vec::len).sum();
    eprintln!(
        "adapter restart: {} Workloads; the first process wrote {by_first} entries (and {cut} cut by the kill), the second {by_second} (its metric: {second_says}); no entry written twice",
        all.len()
    );
    assert_eq!(
        second_says, by_second as f64,
        "the second's metric counts what the apiserver saw"
    );
}

/// Answers the first PATCH of `workloads/status` with 409 Conflict and passes everything else
/// to the real apiserver: a conflict the apiserver itself gives only in a race, made certain.
/// The test drives `Writer`, the code the adapter writes with.
#[tokio::test]
async fn conflict_on_status_write_is_retried() {
    let Some(bed) = bed("conflict_409").await else {
        return;
    };
    world::queues(&bed, [0, 8, 0, 0]).await;
    add_node(&bed, node("silver-0", 1, 4)).await;
    // no adapter: the test marks the check Active itself, so Kueue reserves
    bed.api("kueue.x-k8s.io/v1beta2", "AdmissionCheck", false)
        .patch_status(
            CHECK,
            &PatchParams::apply("e2e").force(),
            &Patch::Apply(live_adapter::check::active_body(CHECK, &now())),
        )
        .await
        .expect("the check Active");
    world::wait_queue_active(&bed).await;
    bed.apply(silver_job("c1")).await;
    bed.wait_workload("c1", "QuotaReserved", LONG, |w| is_true(w, "QuotaReserved"))
        .await;

    let (service, mut handle) = tower_test::mock::pair::<
        http::Request<kube::client::Body>,
        http::Response<kube::client::Body>,
    >();
    let client = kube::Client::new(service, NAMESPACE);
    let real = bed.client.clone();
    let proxy = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some((request, respond)) = handle.next_request().await {
            let first_status_patch = request.method() == http::Method::PATCH
                && request.uri().path().ends_with("/status")
                && !seen
                    .iter()
                    .any(|(method, _)| *method == http::Method::PATCH);
            seen.push((request.method().clone(), request.uri().to_string()));
            if first_status_patch {
                let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "message": "Operation cannot be fulfilled on workloads.kueue.x-k8s.io \"c1\": the object has been modified; please apply your changes to the latest version and try again",
                    "reason": "Conflict", "code": 409});
                let response = http::Response::builder()
                    .status(409)
                    .header("content-type", "application/json")
                    .body(kube::client::Body::from(body.to_string().into_bytes()))
                    .expect("a 409 response");
                respond.send_response(response);
            } else {
                match real.send(request).await {
                    Ok(response) => respond.send_response(response),
                    Err(error) => respond.send_error(error),
                }
            }
        }
        seen
    });
    let writer = Writer::new(client, FIELD_MANAGER);
    let entry = AdmissionCheckState {
        name: CHECK.into(),
        state: CheckState::Ready,
        message: "written through a 409".into(),
        last_transition_time: now(),
        requeue_after_seconds: None,
        retry_count: None,
        pod_set_updates: Vec::new(),
    };
    let write = Write::Check {
        namespace: NAMESPACE.into(),
        name: "c1".into(),
        entry,
        reason: "admit".into(),
    };
    writer
        .write(&write, &now())
        .await
        .expect("the write succeeds after the conflict");
    drop(writer);
    let seen = proxy.await.expect("the proxy's requests");
    let patches: Vec<_> = seen
        .iter()
        .filter(|(method, _)| *method == http::Method::PATCH)
        .collect();
    assert_eq!(patches.len(), 2, "a 409, then the retry: {seen:?}");
    let admitted = bed
        .wait_workload("c1", "Admitted after the retried write", LONG, |w| {
            is_true(w, "Admitted")
        })
        .await;
    assert_eq!(state(&admitted), "Ready");
    let writes: Vec<_> = bed
        .status_writes()
        .into_iter()
        .filter(|w| w.workload == "c1")
        .collect();
    assert_eq!(
        writes.len(),
        1,
        "the 409 never reached the apiserver; the retry did, once: {writes:?}"
    );
    assert_eq!(writes[0].code, 200);
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// kube-apiserver stopped and started again under a running adapter: its watches fail, resume
/// (a re-list), and it goes on deciding what arrives afterwards.
#[tokio::test]
async fn apiserver_restart_watches_resume() {
    let Some(bed) = bed("apiserver_restart").await else {
        return;
    };
    let _job_side = JobSide::start(&bed);
    silver_fleet(&bed, 2).await;
    let platform = world::platform(&bed);
    let mut adapter = Adapter::start(
        &bed,
        "adapter",
        &platform,
        "default",
        &["--no-leader-election"],
    );
    adapter.wait_ready(LONG).await;
    world::wait_queue_active(&bed).await;
    let first: Vec<String> = (0..3).map(|i| format!("a{i}")).collect();
    join_all(first.iter().map(|name| bed.apply(silver_job(name)))).await;
    wait_admitted(&bed, &first).await;

    let restart = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbed/restart");
    let started = Instant::now();
    let status = std::process::Command::new(&restart)
        .arg("kube-apiserver")
        .env("TESTBED_STATE", &bed.dir)
        .status()
        .expect("testbed/restart");
    assert!(status.success(), "testbed/restart kube-apiserver failed");
    eprintln!(
        "kube-apiserver restarted and ready in {:?}",
        started.elapsed()
    );

    let later: Vec<String> = (3..6).map(|i| format!("a{i}")).collect();
    for name in &later {
        // the first requests after the restart may meet a connection being re-made
        crate::bed::until("create a Workload after the restart", LONG, || async {
            bed.workloads()
                .patch(
                    name,
                    &PatchParams::apply("e2e").force(),
                    &Patch::Apply(silver_job(name)),
                )
                .await
                .ok()
        })
        .await;
    }
    let decided_from = Instant::now();
    let gpus = wait_admitted(
        &bed,
        &first.iter().chain(&later).cloned().collect::<Vec<_>>(),
    )
    .await;
    assert_no_double_booking(&gpus);
    let watch_errors = adapter
        .metric("gpu_alloc_reconcile_errors_total", "kind=\"watch\"")
        .await
        .unwrap_or(0.0);
    eprintln!(
        "after the apiserver restart: {} new Workloads admitted in {:?}; the adapter saw {watch_errors} watch errors",
        later.len(),
        decided_from.elapsed()
    );
    assert!(adapter.running(), "the adapter survived the restart");
    let gpus_of_first: BTreeSet<_> = first.iter().map(|n| gpus[n].clone()).collect();
    assert_eq!(gpus_of_first.len(), first.len());
    let pinned = bed.workload("a0").await;
    assert!(pinned_node(&pinned).is_some());
}

/// Two replicas with leader election: only the lease holder writes; killed, the other takes
/// the lease within its duration and goes on deciding.
#[tokio::test]
async fn two_replicas_only_the_leader_writes_and_fails_over() {
    let Some(bed) = bed("replicas").await else {
        return;
    };
    silver_fleet(&bed, 2).await;
    let platform = world::platform(&bed);
    let lease_seconds = 6;
    let replica = |name: &str| {
        Adapter::start(
            &bed,
            name,
            &platform,
            "default",
            &[
                "--lease-namespace",
                NAMESPACE,
                "--lease-duration",
                &lease_seconds.to_string(),
                "--identity",
                name,
            ],
        )
    };
    let mut replicas = BTreeMap::from([("a", replica("a")), ("b", replica("b"))]);
    for adapter in replicas.values_mut() {
        adapter.wait_ready(LONG).await;
    }
    world::wait_queue_active(&bed).await;
    let leases = bed.api("coordination.k8s.io/v1", "Lease", true);
    let holder = crate::bed::until("a lease holder", LONG, || async {
        let lease = leases.get_opt("gpu-alloc-admission-check").await.ok()??;
        serde_json::to_value(lease).ok()?["spec"]["holderIdentity"]
            .as_str()
            .map(String::from)
    })
    .await;
    let follower = if holder == "a" { "b" } else { "a" };
    let jobs: Vec<String> = (0..4).map(|i| format!("r{i}")).collect();
    join_all(jobs.iter().map(|name| bed.apply(silver_job(name)))).await;
    wait_admitted(&bed, &jobs).await;
    let leader_writes = replicas[holder.as_str()]
        .metric("gpu_alloc_status_writes_total", "")
        .await
        .unwrap_or(0.0);
    let follower_writes = replicas[follower]
        .metric("gpu_alloc_status_writes_total", "")
        .await
        .unwrap_or(-1.0);
    assert!(
        leader_writes >= 4.0,
        "the leader {holder} wrote {leader_writes}"
    );
    assert_eq!(
        follower_writes, 0.0,
        "the follower {follower} wrote nothing"
    );

    if let Some(leader) = replicas.get_mut(holder.as_str()) {
        leader.kill();
    }
    let killed = Instant::now();
    let survivor = &replicas[follower];
    crate::bed::until(
        "the follower takes the lease",
        Duration::from_secs(30),
        || async { (survivor.metric("gpu_alloc_leader", "").await? == 1.0).then_some(()) },
    )
    .await;
    let failover = killed.elapsed();
    eprintln!("failover: {follower} leads {failover:?} after {holder} was killed (lease {lease_seconds} s)");
    assert!(
        failover <= Duration::from_secs(lease_seconds + lease_seconds / 3 + 2),
        "failover took {failover:?}, more than the lease time"
    );
    let more: Vec<String> = (4..6).map(|i| format!("r{i}")).collect();
    join_all(more.iter().map(|name| bed.apply(silver_job(name)))).await;
    let gpus = wait_admitted(&bed, &jobs.iter().chain(&more).cloned().collect::<Vec<_>>()).await;
    assert_no_double_booking(&gpus);
    let survivor_writes = survivor
        .metric("gpu_alloc_status_writes_total", "")
        .await
        .unwrap_or(0.0);
    assert!(
        survivor_writes >= 2.0,
        "the new leader wrote the new entries: {survivor_writes}"
    );
}
