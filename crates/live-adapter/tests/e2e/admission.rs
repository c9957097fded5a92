//! The whole admission-check loop against a real apiserver and a real Kueue: Kueue reserves
//! quota, the adapter decides and writes its entry, and Kueue admits (Ready, our pod set
//! updates on the Workload), requeues (Retry, `requeueState.requeueAt` as asked) or
//! deactivates (Rejected); a burstable flex job waits on the public flavor until its threshold
//! passes and is admitted there; a sensitive one never is.

use crate::bed::{
    bed, entry, is_true, pinned_node, reserved_flavor, state, update_annotation, Adapter, NAMESPACE,
};
use crate::world::{self, add_node, node, workload, JobSide, PUBLIC};
use kube::api::DeleteParams;
use serde_json::{json, Value};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(90);

fn time(value: &Value) -> jiff::Timestamp {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("not a time: {value}"))
}

/// Ready on each private tier with the node and GPUs as pod set updates; Retry when quota
/// is reserved but no node has room, with Kueue's requeueAt = our transition + the seconds we
/// asked, then Ready on the node a finished job freed; Rejected for a Workload whose keys
/// cannot be read and for one whose deadline has passed, and Kueue deactivates both.
#[tokio::test]
async fn ready_retry_rejected() {
    let Some(bed) = bed("ready_retry_rejected").await else {
        return;
    };
    let _job_side = JobSide::start(&bed);
    world::queues(&bed, [8, 8, 8, 8]).await;
    for tier in 0..3 {
        for i in 0..2 {
            let name = format!("{}-{i}", ["bronze", "silver", "gold"][tier]);
            add_node(&bed, node(&name, tier, if tier == 2 { 2 } else { 4 })).await;
        }
    }
    let platform = world::platform(&bed);
    let mut adapter = Adapter::start(
        &bed,
        "adapter",
        &platform,
        "default",
        &["--no-leader-election", "--requeue-after", "6"],
    );
    adapter.wait_ready(LONG).await;
    world::wait_queue_active(&bed).await;

    let long = json!({"gpu-alloc.dev/runtime": "2h"});
    for (name, gpus, tier) in [
        ("b1", 1, "BRONZE"),
        ("s1", 1, "SILVER"),
        ("g1", 2, "GOLD"),
        ("g2", 2, "GOLD"),
    ] {
        let mut annotations = long.clone();
        annotations["gpu-alloc.dev/tier"] = json!(tier);
        bed.apply(workload(name, gpus, Some(tier), annotations))
            .await;
    }
    let mut gold_nodes = Vec::new();
    for (name, nodes) in [
        ("b1", "bronze-"),
        ("s1", "silver-"),
        ("g1", "gold-"),
        ("g2", "gold-"),
    ] {
        let admitted = bed
            .wait_workload(name, "Admitted after our Ready", LONG, |w| {
                is_true(w, "Admitted") && state(w) == "Ready"
            })
            .await;
        let pinned = pinned_node(&admitted)
            .unwrap_or_else(|| panic!("{name}: no node in {:?}", entry(&admitted)));
        assert!(pinned.starts_with(nodes), "{name} runs on {pinned}");
        assert!(
            update_annotation(&admitted, "gpu-alloc.dev/placement").is_some(),
            "{name}: the placement annotation is on the pod set update"
        );
        let gpus = update_annotation(&admitted, "gpu-alloc.dev/gpus").unwrap_or_default();
        assert!(gpus.starts_with(pinned), "{name}: GPUs {gpus} on {pinned}");
        if nodes == "gold-" {
            gold_nodes.push(pinned.to_string());
        }
    }
    assert_ne!(
        gold_nodes[0], gold_nodes[1],
        "two 2-GPU jobs on 2-GPU nodes share none"
    );

    // quota left (8 GPUs of gold) but no node with two free GPUs: Retry
    bed.apply(workload(
        "g3",
        2,
        Some("GOLD"),
        json!({"gpu-alloc.dev/tier": "GOLD", "gpu-alloc.dev/runtime": "1h"}),
    ))
    .await;
    let retried = bed
        .wait_workload("g3", "Retry with requeueState.requeueAt", LONG, |w| {
            !w["status"]["requeueState"]["requeueAt"].is_null()
                && entry(w).is_some_and(|e| {
                    e["state"] == "Retry" || e["retryCount"].as_i64().unwrap_or(0) >= 1
                })
        })
        .await;
    eprintln!(
        "g3 after Retry: {}",
        serde_json::to_string(&retried["status"]).unwrap_or_default()
    );
    let requeue_at = time(&retried["status"]["requeueState"]["requeueAt"]);
    let ours = entry(&retried).cloned().unwrap_or_default();
    if ours["state"] == "Retry" {
        // Kueue's requeueAt is our transition time plus the seconds we asked for
        let asked = ours["requeueAfterSeconds"]
            .as_i64()
            .expect("requeueAfterSeconds");
        assert_eq!(
            requeue_at,
            time(&ours["lastTransitionTime"]) + jiff::SignedDuration::from_secs(asked),
            "requeueAt as we asked"
        );
        assert!(ours["message"]
            .as_str()
            .unwrap_or_default()
            .contains("has room"));
    }
    // then Kueue evicts it and resets our entry to Pending, counting the retry
    let reset = bed
        .wait_workload(
            "g3",
            "our entry reset to Pending with retryCount 1",
            LONG,
            |w| entry(w).is_some_and(|e| e["retryCount"].as_i64().unwrap_or(0) >= 1),
        )
        .await;
    eprintln!(
        "g3 after the eviction: {}",
        serde_json::to_string(&reset["status"]).unwrap_or_default()
    );
    assert!(
        bed.status_writes()
            .iter()
            .any(|w| w.workload == "g3" && w.code == 200),
        "the adapter wrote g3's entry"
    );

    // g1 finishes: its node frees, and after requeueAt Kueue reserves g3 again and we say Ready
    let g1_node = gold_nodes[0].clone();
    bed.workloads()
        .delete("g1", &DeleteParams::default())
        .await
        .expect("delete g1");
    let admitted = bed
        .wait_workload("g3", "Admitted after the requeue", LONG, |w| {
            is_true(w, "Admitted") && state(w) == "Ready"
        })
        .await;
    assert_eq!(
        pinned_node(&admitted),
        Some(g1_node.as_str()),
        "g3 takes the node g1 freed"
    );
    let admitted_at = time(
        &crate::bed::condition(&admitted, "Admitted").expect("Admitted")["lastTransitionTime"],
    );
    assert!(
        admitted_at >= requeue_at,
        "readmitted at {admitted_at}, not before requeueAt {requeue_at}"
    );

    // Rejected: a Workload whose keys cannot be read, and one whose deadline has passed
    bed.apply(workload(
        "bad",
        1,
        Some("SILVER"),
        json!({"gpu-alloc.dev/data-class": "top-secret"}),
    ))
    .await;
    bed.apply(workload(
        "late",
        1,
        Some("SILVER"),
        json!({"gpu-alloc.dev/deadline": "2020-01-01T00:00:00Z", "gpu-alloc.dev/runtime": "1h"}),
    ))
    .await;
    // Kueue deactivates a Workload whose check is Rejected, evicts it and resets our entry
    // to Pending ("Previously: Rejected"); what we wrote is in the adapter's log
    for (name, says) in [("bad", "data-class"), ("late", "deadline")] {
        let deactivated = bed
            .wait_workload(name, "deactivated after our Rejected", LONG, |w| {
                w["spec"]["active"] == false
                    && crate::bed::condition(w, "Evicted")
                        .is_some_and(|c| c["reason"] == "DeactivatedDueToAdmissionCheck")
            })
            .await;
        let kueue_says = entry(&deactivated)
            .and_then(|e| e["message"].as_str())
            .unwrap_or_default();
        assert!(
            kueue_says.contains("Rejected"),
            "{name}: Kueue's record of our entry: {kueue_says}"
        );
        assert!(!is_true(&deactivated, "Admitted"));
        let log = std::fs::read_to_string(&adapter.log).unwrap_or_default();
        let written = log
            .lines()
            .find(|line| line.contains(&format!("{NAMESPACE}/{name}")) && line.contains("Rejected"))
            .unwrap_or_else(|| panic!("no Rejected write for {name} in {}", adapter.log.display()));
        assert!(
            written.contains(says),
            "{name}: our message names the reason: {written}"
        );
        eprintln!("{name}: {written}");
    }
    assert!(
        adapter.running(),
        "the adapter is still running: {}",
        crate::bed::tail(&adapter.log)
    );
    eprintln!("ready_retry_rejected took {:?}", bed.elapsed());
}

/// A burstable flex job on a full private GOLD flavor: Kueue reserves the public flavor, we
/// say Retry until the burst threshold passes, then Ready there with the offer's GPU model;
/// a sensitive job, reserved on the same public flavor, is never admitted there.
#[tokio::test]
async fn burst_after_threshold_sensitive_never() {
    let Some(bed) = bed("burst_after_threshold_sensitive_never").await else {
        return;
    };
    let _job_side = JobSide::start(&bed);
    // private GOLD: one node of 2 GPUs, quota 2; the public flavor: quota 8
    world::queues(&bed, [0, 0, 2, 8]).await;
    add_node(&bed, node("gold-0", 2, 2)).await;
    let platform = world::platform(&bed);
    let threshold = Duration::from_secs(20);
    let policy = world::policy_with_burst_after(&bed, threshold);
    let mut adapter = Adapter::start(
        &bed,
        "adapter",
        &platform,
        &policy,
        &["--no-leader-election", "--requeue-after", "6"],
    );
    adapter.wait_ready(LONG).await;
    world::wait_queue_active(&bed).await;

    bed.apply(workload(
        "filler",
        2,
        None,
        json!({"gpu-alloc.dev/runtime": "4h"}),
    ))
    .await;
    bed.wait_workload("filler", "Admitted on the private GOLD flavor", LONG, |w| {
        is_true(w, "Admitted") && reserved_flavor(w) == Some("a30-gold")
    })
    .await;

    let burst = json!({
        "gpu-alloc.dev/burstable": "true", "gpu-alloc.dev/budget-mode": "flex",
        "gpu-alloc.dev/budget": "50.00", "gpu-alloc.dev/runtime": "20m",
        "gpu-alloc.dev/data-class": "internal"});
    let mut sensitive = burst.clone();
    sensitive["gpu-alloc.dev/data-class"] = json!("sensitive");
    bed.apply(workload("flex", 1, None, burst)).await;
    bed.apply(workload("secret", 1, None, sensitive)).await;
    let created = jiff::Timestamp::now();

    // first: reserved on the public flavor, and we ask Kueue to come back at the threshold
    let retried = bed
        .wait_workload("flex", "Retry on the public flavor", LONG, |w| {
            !w["status"]["requeueState"]["requeueAt"].is_null()
        })
        .await;
    eprintln!(
        "flex after Retry: {}",
        serde_json::to_string(&retried["status"]).unwrap_or_default()
    );
    let requeue_at = time(&retried["status"]["requeueState"]["requeueAt"]);
    assert!(
        requeue_at >= created + jiff::SignedDuration::from_secs(10),
        "requeueAt {requeue_at} is at the threshold, not sooner (created {created})"
    );

    // then admitted there, after the threshold; the sensitive one never
    let mut secret_seen = Vec::new();
    let admitted = loop {
        let secret = bed.workload("secret").await;
        assert!(
            !is_true(&secret, "Admitted") && state(&secret) != "Ready",
            "the sensitive job must never be admitted on the public flavor: {}",
            serde_json::to_string(&secret["status"]).unwrap_or_default()
        );
        if let Some(message) = entry(&secret).and_then(|e| e["message"].as_str()) {
            if !message.is_empty() && !secret_seen.contains(&message.to_string()) {
                secret_seen.push(message.to_string());
            }
        }
        let flex = bed.workload("flex").await;
        if is_true(&flex, "Admitted") {
            break flex;
        }
        assert!(
            bed.elapsed() < Duration::from_secs(180),
            "flex not admitted: {}",
            serde_json::to_string(&flex["status"]).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(reserved_flavor(&admitted), Some(PUBLIC));
    assert_eq!(
        update_annotation(&admitted, "gpu-alloc.dev/public-gpu-model"),
        Some("A100")
    );
    let admitted_at = time(
        &crate::bed::condition(&admitted, "Admitted").expect("Admitted")["lastTransitionTime"],
    );
    assert!(
        admitted_at
            >= created + jiff::SignedDuration::try_from(threshold).expect("seconds")
                - jiff::SignedDuration::from_secs(2),
        "burst at {admitted_at}, before the threshold (created {created})"
    );
    // the sensitive job has been decided, and told why not
    assert!(
        !secret_seen.is_empty(),
        "the sensitive job got an entry from us"
    );
    eprintln!("secret's messages: {secret_seen:?}");
    let secret = bed.workload("secret").await;
    assert!(!is_true(&secret, "Admitted"));
    eprintln!(
        "burst_after_threshold_sensitive_never took {:?}",
        bed.elapsed()
    );
}
