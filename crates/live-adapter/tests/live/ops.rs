//! Leader election's rule, the HTTP endpoints, and the deploy/ files the controller reads.

use alloc_core::testing::JobBuilder;
use alloc_core::{Decision, JobId, RejectReason, StrandedGpus, Time};
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::LeaseSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use live_adapter::http::{respond, State};
use live_adapter::kueue::SetupKind;
use live_adapter::leader::{decide, Action};
use live_adapter::metrics::Metrics;
use live_adapter::setup::config_object;
use live_adapter::Platform;
use prometheus_client::registry::Registry;
use std::path::Path;
use std::sync::Arc;

fn lease(holder: &str, renewed: Timestamp) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(holder.into()),
        lease_duration_seconds: Some(15),
        renew_time: Some(MicroTime(renewed)),
        ..LeaseSpec::default()
    }
}

#[test]
fn a_lease_is_taken_when_free_or_expired_and_kept_by_its_holder() {
    let now: Timestamp = "2026-01-01T00:00:30Z".parse().expect("a time");
    let fresh: Timestamp = "2026-01-01T00:00:20Z".parse().expect("a time");
    let stale: Timestamp = "2026-01-01T00:00:10Z".parse().expect("a time");
    assert_eq!(decide(None, "me", now), Action::Acquire);
    assert_eq!(decide(Some(&lease("me", fresh)), "me", now), Action::Renew);
    assert_eq!(
        decide(Some(&lease("other", fresh)), "me", now),
        Action::Follow {
            holder: "other".into()
        }
    );
    assert_eq!(
        decide(Some(&lease("other", stale)), "me", now),
        Action::Acquire
    );
}

#[test]
fn endpoints_answer_health_readiness_and_metrics() {
    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    let _ = JobBuilder::gpus(1);
    metrics.decided(&[Decision::Reject {
        job: JobId(1),
        reason: RejectReason::DeadlineInfeasible {
            deadline: Time(1),
            earliest_end: Time(2),
        },
    }]);
    metrics.stranded(&[StrandedGpus {
        flavor: "a30".into(),
        gpus: 16_000,
        quota: 15_000,
    }]);
    let (ready, watching) = tokio::sync::watch::channel(false);
    let state = State {
        registry: Arc::new(registry),
        ready: watching,
    };
    assert_eq!(respond(&state, "/healthz").status(), 200);
    assert_eq!(respond(&state, "/readyz").status(), 503);
    ready.send_replace(true);
    assert_eq!(respond(&state, "/readyz").status(), 200);
    assert_eq!(respond(&state, "/nothing").status(), 404);
    let response = respond(&state, "/metrics");
    assert_eq!(response.status(), 200);
    let body = futures::executor::block_on(http_body_util::BodyExt::collect(response.into_body()))
        .expect("a body")
        .to_bytes();
    let text = String::from_utf8(body.to_vec()).expect("UTF-8");
    assert!(
        text.contains(
            "gpu_alloc_decisions_total{kind=\"reject\",reason=\"deadline-infeasible\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("# TYPE gpu_alloc_decision_latency_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("gpu_alloc_unadmittable_gpus{flavor=\"a30\"} 1.0"),
        "{text}"
    );
}

#[test]
fn the_deploy_platform_and_example_queues_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let platform =
        Platform::read(&root.join("base/platform.yaml")).expect("the shipped platform file reads");
    let text =
        std::fs::read_to_string(root.join("examples/queues.yaml")).expect("the examples read");
    let mut read = 0;
    for document in text.split("\n---") {
        let value: serde_json::Value = serde_norway::from_str(document).expect("YAML");
        let kind = match value["kind"].as_str() {
            Some("ResourceFlavor") => SetupKind::ResourceFlavor,
            Some("ClusterQueue") => SetupKind::ClusterQueue,
            Some("LocalQueue") => SetupKind::LocalQueue,
            _ => continue,
        };
        config_object(kind, &value, &platform).expect("every example object translates");
        read += 1;
    }
    assert_eq!(read, 8);
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("grafana/dashboard.json")).expect("reads"),
    )
    .expect("JSON");
    assert!(dashboard["panels"].as_array().is_some_and(|p| p.len() >= 6));
    // every metric a panel queries is one the controller exports (its table in metrics.rs)
    let table = include_str!("../../src/metrics.rs");
    let panels = dashboard["panels"].as_array().expect("panels");
    for expr in panels
        .iter()
        .flat_map(|panel| panel["targets"].as_array().into_iter().flatten())
        .filter_map(|target| target["expr"].as_str())
    {
        for (at, _) in expr.match_indices("gpu_alloc_") {
            let name: String = expr[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let exported = ["", "_bucket", "_total"].iter().any(|suffix| {
                name.strip_suffix(suffix)
                    .is_some_and(|base| table.contains(&format!("`{base}`")))
            });
            assert!(exported, "{expr}: {name} is not in the controller's table");
        }
    }
}
