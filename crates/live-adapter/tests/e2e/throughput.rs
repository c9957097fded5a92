//! Throughput: admission checks decided per second with 1,000 Workloads pending on a
//! 1,000-node fleet of labelled Nodes, with the adapter's CPU and memory, beside Kueue's own
//! reservation rate on the same testbed. `GPU_ALLOC_E2E_SCALE` changes the 1,000.

use crate::bed::{bed, is_true, Adapter, CHECK};
use crate::world::{self, node, workload};
use futures::stream::{self, StreamExt};
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::json;
use std::time::{Duration, Instant};

async fn count(bed: &crate::bed::Bed, test: impl Fn(&serde_json::Value) -> bool) -> usize {
    bed.all_workloads().await.iter().filter(|w| test(w)).count()
}

#[tokio::test]
async fn decisions_per_second_1000_workloads_1000_nodes() {
    let Some(bed) = bed("throughput").await else {
        return;
    };
    let scale: usize = std::env::var("GPU_ALLOC_E2E_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let quota = u32::try_from(scale * 4).unwrap_or(u32::MAX);
    world::queues(&bed, [0, quota, 0, 0]).await;

    let started = Instant::now();
    stream::iter(0..scale)
        .for_each_concurrent(16, |i| {
            let bed = &bed;
            async move { world::add_node(bed, node(&format!("silver-{i:04}"), 1, 4)).await }
        })
        .await;
    let nodes_took = started.elapsed();
    // the check is not Active yet: the ClusterQueue is inactive and nothing is reserved
    let started = Instant::now();
    stream::iter(0..scale)
        .for_each_concurrent(16, |i| {
            let bed = &bed;
            async move {
                bed.apply(workload(
                    &format!("t{i:04}"),
                    1,
                    Some("SILVER"),
                    json!({"gpu-alloc.dev/tier": "SILVER", "gpu-alloc.dev/runtime": "2h"}),
                ))
                .await;
            }
        })
        .await;
    let workloads_took = started.elapsed();

    // Kueue alone: the check marked Active by the test, Kueue reserves every Workload
    bed.api("kueue.x-k8s.io/v1beta2", "AdmissionCheck", false)
        .patch_status(
            CHECK,
            &PatchParams::apply("e2e").force(),
            &Patch::Apply(live_adapter::check::active_body(
                CHECK,
                &jiff::Timestamp::now()
                    .strftime("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
            )),
        )
        .await
        .expect("the check Active");
    let kueue_started = Instant::now();
    crate::bed::until(
        "Kueue reserves every Workload",
        Duration::from_secs(600),
        || async { (count(&bed, |w| is_true(w, "QuotaReserved")).await == scale).then_some(()) },
    )
    .await;
    let kueue_took = kueue_started.elapsed();

    // the adapter: from its start to every entry Ready, then to every Workload Admitted
    let platform = world::platform(&bed);
    let adapter_started = Instant::now();
    let mut adapter = Adapter::start(
        &bed,
        "adapter",
        &platform,
        "default",
        &["--no-leader-election"],
    );
    adapter.wait_ready(Duration::from_secs(300)).await;
    let ready_took = adapter_started.elapsed();
    // the adapter's own count of Ready writes, then the apiserver's audit log for when the
    // last one arrived
    crate::bed::until_every(
        "every entry Ready",
        Duration::from_secs(600),
        Duration::from_millis(100),
        || async {
            (adapter
                .metric("gpu_alloc_status_writes_total", "state=\"Ready\"")
                .await? as usize
                >= scale)
                .then_some(())
        },
    )
    .await;
    let decided_took = adapter_started.elapsed();
    let audited = bed.status_writes();
    let first_write = audited.iter().filter_map(|w| w.at).min();
    let last_write = audited.iter().filter_map(|w| w.at).max();
    let write_span = match (first_write, last_write) {
        (Some(first), Some(last)) => Duration::try_from(last - first).unwrap_or_default(),
        _ => Duration::ZERO,
    };
    let (cpu, peak_mib) = adapter.usage().unwrap_or((f64::NAN, f64::NAN));
    crate::bed::until(
        "every Workload Admitted",
        Duration::from_secs(600),
        || async { (count(&bed, |w| is_true(w, "Admitted")).await == scale).then_some(()) },
    )
    .await;
    let admitted_took = adapter_started.elapsed();
    let decisions = adapter
        .metric("gpu_alloc_decisions_total", "")
        .await
        .unwrap_or(f64::NAN);
    let writes = adapter
        .metric("gpu_alloc_status_writes_total", "state=\"Ready\"")
        .await
        .unwrap_or(f64::NAN);
    let nodes = bed
        .api("v1", "Node", false)
        .list(&ListParams::default())
        .await
        .map(|l| l.items.len())
        .unwrap_or(0);
    let per_second = |n: usize, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    eprintln!("throughput ({scale} Workloads, {nodes} Nodes, debug build of live-adapter):");
    eprintln!("  created {scale} Nodes in {nodes_took:.1?}, {scale} Workloads in {workloads_took:.1?} (16 at a time)");
    eprintln!(
        "  Kueue (minimalkueue) reserved {scale} in {kueue_took:.1?}: {:.1} Workloads/s",
        per_second(scale, kueue_took)
    );
    eprintln!(
        "  adapter: ready (listed and built) {ready_took:.1?} after start; every entry Ready {decided_took:.1?} after start: {:.1} checks decided and written/s ({:.1}/s from the first write to the last in the audit log, {} writes); every Workload Admitted by Kueue {admitted_took:.1?} after start",
        per_second(scale, decided_took),
        per_second(scale, write_span),
        audited.len()
    );
    eprintln!("  adapter: {decisions} decisions, {writes} Ready writes, {cpu:.2} s CPU, peak RSS {peak_mib:.0} MiB");
    assert_eq!(writes as usize, scale, "one Ready write per Workload");
}
