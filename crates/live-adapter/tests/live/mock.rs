//! The owner's writes carried out against a mock API server (tower-test): method, path,
//! field manager and body.

use crate::fixtures::{self, *};
use crate::index::owner;
use http::{Request, Response};
use kube::client::Body;
use kube::Client;
use live_adapter::apply::Writer;
use live_adapter::Write;
use serde_json::{json, Value};

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

fn mock() -> (Client, Handle) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(service, "default"), handle)
}

async fn body(request: Request<Body>) -> Value {
    let bytes = request.into_body().collect_bytes().await.expect("a body");
    serde_json::from_slice(&bytes).expect("a JSON body")
}

/// Answers the next request with `status` and `answer`; returns the request's method, path
/// with query, content type and body.
async fn answer(
    handle: &mut Handle,
    status: u16,
    answer: &Value,
) -> (String, String, String, Value) {
    let (request, send) = handle.next_request().await.expect("a request");
    let method = request.method().to_string();
    let uri = request.uri().to_string();
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = body(request).await;
    let response = Response::builder()
        .status(status)
        .body(Body::from(serde_json::to_vec(answer).expect("serializes")))
        .expect("a response");
    send.send_response(response);
    (method, uri, content_type, body)
}

fn writes_for(workloads: &[Value]) -> Vec<Write> {
    let mut owner = owner();
    let mut writes = Vec::new();
    for event in initial_list(&[node("node-a", 4)], workloads, true) {
        writes.extend(owner.handle(event, at(1)).writes);
    }
    writes
}

async fn assert_written(write: Write, state: &str, served: &Value) -> Value {
    let (client, mut handle) = mock();
    let writer = Writer::new(client, "gpu-alloc-admission-check");
    let task = tokio::spawn(async move { writer.write(&write, "2026-01-01T00:00:01Z").await });
    let (method, uri, content_type, body) = answer(&mut handle, 200, served).await;
    task.await
        .expect("the task ends")
        .expect("the write succeeds");
    assert_eq!(method, "PATCH");
    let name = served["metadata"]["name"].as_str().expect("a name");
    assert_eq!(
        uri,
        format!("/apis/kueue.x-k8s.io/v1beta2/namespaces/team-a/workloads/{name}/status?&force=true&fieldManager=gpu-alloc-admission-check")
    );
    assert_eq!(content_type, "application/apply-patch+yaml");
    assert_eq!(body["kind"], "Workload");
    assert_eq!(
        body["metadata"],
        json!({"name": name, "namespace": "team-a"})
    );
    let entries = body["status"]["admissionChecks"]
        .as_array()
        .expect("entries");
    assert_eq!(entries.len(), 1, "our entry only");
    assert_eq!(entries[0]["name"], CHECK);
    assert_eq!(entries[0]["state"], state);
    assert!(entries[0].get("retryCount").is_none());
    entries[0].clone()
}

#[tokio::test]
async fn ready_retry_and_rejected_are_applied_to_workload_status() {
    let first = reserve(fixtures::workload("first", 4, json!({})), "v100-gold");
    let second = reserve(fixtures::workload("second", 4, json!({})), "v100-gold");
    let late = reserve(
        fixtures::workload(
            "late",
            1,
            json!({"gpu-alloc.dev/runtime": "5h", "gpu-alloc.dev/deadline": "2026-01-01T01:00:00Z"}),
        ),
        "v100-gold",
    );
    let writes = writes_for(&[first.clone(), late.clone(), second.clone()]);
    assert_eq!(writes.len(), 3, "{writes:?}");
    let ready = assert_written(writes[0].clone(), "Ready", &first).await;
    assert_eq!(ready["podSetUpdates"][0]["name"], "main");
    assert_eq!(
        ready["podSetUpdates"][0]["nodeSelector"]["kubernetes.io/hostname"],
        "node-a"
    );
    assert_eq!(
        ready["podSetUpdates"][0]["annotations"]["gpu-alloc.dev/reason"],
        "admit"
    );
    assert!(ready["message"]
        .as_str()
        .expect("a message")
        .contains("admitted"));
    let rejected = assert_written(writes[1].clone(), "Rejected", &late).await;
    assert!(rejected["message"]
        .as_str()
        .expect("a message")
        .contains("deadline"));
    let retry = assert_written(writes[2].clone(), "Retry", &second).await;
    assert_eq!(retry["requeueAfterSeconds"], 60);
}

#[tokio::test]
async fn the_no_op_case_sends_nothing() {
    let first = reserve(fixtures::workload("first", 4, json!({})), "v100-gold");
    let mut owner = owner();
    let mut writes = Vec::new();
    for event in initial_list(&[node("node-a", 4)], std::slice::from_ref(&first), true) {
        writes.extend(owner.handle(event, at(1)).writes);
    }
    let shown = crate::index::admitted(&first, &writes[0]);
    let step = owner.handle(workload_event(&shown), at(2));
    assert!(step.writes.is_empty());
    // and a fresh controller that finds it so writes nothing either
    let mut fresh = crate::index::owner();
    let mut again = Vec::new();
    for event in initial_list(&[node("node-a", 4)], &[shown], true) {
        again.extend(fresh.handle(event, at(3)).writes);
    }
    assert!(again.is_empty(), "{again:?}");
}

#[tokio::test]
async fn a_conflict_is_retried() {
    let first = reserve(fixtures::workload("first", 4, json!({})), "v100-gold");
    let write = writes_for(std::slice::from_ref(&first)).remove(0);
    let (client, mut handle) = mock();
    let writer = Writer::new(client, "gpu-alloc-admission-check");
    let task = tokio::spawn(async move { writer.write(&write, "2026-01-01T00:00:01Z").await });
    let conflict = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "conflict", "reason": "Conflict", "code": 409});
    let (_, _, _, once) = answer(&mut handle, 409, &conflict).await;
    let (method, _, _, twice) = answer(&mut handle, 200, &first).await;
    task.await
        .expect("the task ends")
        .expect("the retry succeeds");
    assert_eq!(method, "PATCH");
    assert_eq!(once, twice, "the same patch again");
}

#[tokio::test]
async fn the_active_condition_is_applied_to_the_admission_check() {
    let (client, mut handle) = mock();
    let writer = Writer::new(client, "gpu-alloc-admission-check");
    let task = tokio::spawn(async move {
        writer
            .write(
                &Write::Active { name: CHECK.into() },
                "2026-01-01T00:00:01Z",
            )
            .await
    });
    let served = serde_json::to_value(admission_check(true)).expect("serializes");
    let (method, uri, _, body) = answer(&mut handle, 200, &served).await;
    task.await
        .expect("the task ends")
        .expect("the write succeeds");
    assert_eq!(method, "PATCH");
    assert!(
        uri.starts_with("/apis/kueue.x-k8s.io/v1beta2/admissionchecks/gpu-alloc/status?"),
        "{uri}"
    );
    assert_eq!(body["status"]["conditions"][0]["type"], "Active");
    assert_eq!(body["status"]["conditions"][0]["status"], "True");
}
