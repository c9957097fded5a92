//! The controller's kinds, `AdmissionCheck` and `Workload`: Kueue's samples and a workload as
//! Kueue writes it read into the serde types, and every field the types write checked against
//! the CRDs.

use kueue_model::objects::{AdmissionCheck, CheckState, ConditionStatus, Quantity, Workload};
use serde_norway::Value;
use std::path::{Path, PathBuf};

fn shared(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/kueue")
        .join(folder)
}

fn read<T: serde::de::DeserializeOwned>(text: &str) -> T {
    match serde_norway::from_str(text) {
        Ok(value) => value,
        Err(error) => panic!("{error}\n{text}"),
    }
}

/// The documents of a file of kind `kind`.
fn documents_of_kind(text: &str, kind: &str) -> Vec<String> {
    text.split("\n---")
        .filter(|document| document.lines().any(|line| line == format!("kind: {kind}")))
        .map(str::to_string)
        .collect()
}

/// A workload as Kueue writes it once quota is reserved and the check has answered; written
/// from the v1beta2 CRD (Kueue publishes no Workload sample). `active` and `priorityClassRef`
/// are fields the types do not read.
const WORKLOAD: &str = r#"
apiVersion: kueue.x-k8s.io/v1beta2
kind: Workload
metadata:
  name: job-train-7f2c1
  namespace: lab-0
  uid: 1b3e6c1e-0000-4000-8000-000000000001
  labels:
    kueue.x-k8s.io/job-uid: "0a1b"
spec:
  active: true
  queueName: lab-0
  priority: 100
  priorityClassRef:
    group: kueue.x-k8s.io
    kind: WorkloadPriorityClass
    name: high
  podSets:
  - name: main
    count: 2
    template:
      metadata: {}
      spec:
        restartPolicy: Never
        containers:
        - name: trainer
          image: pytorch/pytorch:2.5
          resources:
            requests:
              cpu: "4"
              memory: 16Gi
              nvidia.com/gpu: 1
            limits:
              nvidia.com/gpu: 1
  - name: launcher
    template:
      spec:
        containers:
        - name: launcher
          resources:
            requests: {cpu: 500m}
status:
  admission:
    clusterQueue: lab-0
    podSetAssignments:
    - name: main
      count: 2
      flavors:
        cpu: v100
        memory: v100
        nvidia.com/gpu: v100
      resourceUsage:
        cpu: "8"
        memory: 32Gi
        nvidia.com/gpu: "2"
    - name: launcher
      count: 1
      flavors: {cpu: v100}
      resourceUsage: {cpu: 500m}
  conditions:
  - type: QuotaReserved
    status: "True"
    reason: QuotaReserved
    message: Quota reserved in ClusterQueue lab-0
    lastTransitionTime: "2025-03-01T10:00:00Z"
    observedGeneration: 1
  admissionChecks:
  - name: alloc-core
    state: Ready
    message: placed on gpu-3
    lastTransitionTime: "2025-03-01T10:00:02Z"
    retryCount: 1
    podSetUpdates:
    - name: main
      labels: {alloc.example/placement: whole-gpu}
      nodeSelector:
        kubernetes.io/hostname: gpu-3
      tolerations:
      - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
"#;

#[test]
fn a_workload_reads_its_pod_sets_admission_and_checks() {
    let workload: Workload = read(WORKLOAD);
    assert_eq!(workload.metadata.name, "job-train-7f2c1");
    assert_eq!(workload.metadata.namespace.as_deref(), Some("lab-0"));
    assert_eq!(workload.spec.queue_name.as_deref(), Some("lab-0"));
    assert_eq!(workload.spec.priority, Some(100));
    let [main, launcher] = workload.spec.pod_sets.as_slice() else {
        panic!("{:?}", workload.spec.pod_sets);
    };
    assert_eq!((main.name.as_str(), main.count), ("main", 2));
    // `count` defaults to 1, as the CRD says.
    assert_eq!((launcher.name.as_str(), launcher.count), ("launcher", 1));
    let requests = &main.template.spec.containers[0].resources.requests;
    assert_eq!(requests["nvidia.com/gpu"], Quantity("1".into()));
    assert_eq!(requests["memory"].as_str(), "16Gi");
    let launcher_cpu = &launcher.template.spec.containers[0].resources.requests["cpu"];
    assert_eq!(launcher_cpu.as_str(), "500m");

    let Some(status) = &workload.status else {
        panic!("no status");
    };
    let Some(admission) = &status.admission else {
        panic!("no admission");
    };
    assert_eq!(admission.cluster_queue, "lab-0");
    let assignment = &admission.pod_set_assignments[0];
    assert_eq!(assignment.name, "main");
    assert_eq!(assignment.count, Some(2));
    assert_eq!(assignment.flavors["nvidia.com/gpu"], "v100");
    assert_eq!(assignment.resource_usage["memory"].as_str(), "32Gi");
    assert_eq!(status.conditions[0].type_, "QuotaReserved");
    assert_eq!(status.conditions[0].status, ConditionStatus::True);
    assert_eq!(status.conditions[0].observed_generation, Some(1));
    let check = &status.admission_checks[0];
    assert_eq!(
        (check.name.as_str(), check.state),
        ("alloc-core", CheckState::Ready)
    );
    assert_eq!(check.message, "placed on gpu-3");
    assert_eq!(check.retry_count, Some(1));
    let update = &check.pod_set_updates[0];
    assert_eq!(update.name, "main");
    assert_eq!(update.node_selector["kubernetes.io/hostname"], "gpu-3");
    assert_eq!(update.tolerations[0].operator.as_deref(), Some("Exists"));
}

#[test]
fn a_written_workload_reads_back_the_same() {
    let workload: Workload = read(WORKLOAD);
    let text = match serde_norway::to_string(&workload) {
        Ok(text) => text,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(read::<Workload>(&text), workload);
    // Empty optional fields are left out, as a server-side-apply patch needs.
    assert!(!text.contains("initContainers"), "{text}");
    assert!(!text.contains("requeueAfterSeconds"), "{text}");
}

#[test]
fn kueue_admission_check_samples_read() {
    let fixture = "apiVersion: kueue.x-k8s.io/v1beta2\nkind: AdmissionCheck\nmetadata:\n  \
                   name: alloc-core\nspec:\n  controllerName: example.com/alloc-core\n";
    let check: AdmissionCheck = read(fixture);
    assert_eq!(check.spec.controller_name, "example.com/alloc-core");
    assert_eq!(check.spec.parameters, None);

    let Ok(text) = std::fs::read_to_string(shared("samples/sample-admission-check.yaml")) else {
        println!("skipped: no Kueue samples");
        return;
    };
    let documents = documents_of_kind(&text, "AdmissionCheck");
    assert_eq!(documents.len(), 1);
    let check: AdmissionCheck = read(&documents[0]);
    assert_eq!(check.metadata.name, "prov-test");
    assert_eq!(check.spec.controller_name, "ProvisioningRequestController");
    let Some(parameters) = &check.spec.parameters else {
        panic!("no parameters");
    };
    assert_eq!(parameters.api_group, "kueue.x-k8s.io");
    assert_eq!(parameters.kind, "ProvisioningRequestConfig");
    assert_eq!(parameters.name, "prov-test-config");

    for (file, controller) in [
        ("multikueue-setup.yaml", "kueue.x-k8s.io/multikueue"),
        (
            "provisioning-setup.yaml",
            "kueue.x-k8s.io/provisioning-request",
        ),
    ] {
        let Ok(text) = std::fs::read_to_string(shared("samples").join(file)) else {
            panic!("cannot read {file}");
        };
        let documents = documents_of_kind(&text, "AdmissionCheck");
        assert_eq!(documents.len(), 1, "{file}");
        let check: AdmissionCheck = read(&documents[0]);
        assert_eq!(check.spec.controller_name, controller, "{file}");
    }
}

/// The v1beta2 schema of a CRD file.
fn schema(crd: &str) -> Option<Value> {
    let text = std::fs::read_to_string(shared("crds").join(crd)).ok()?;
    let crd: Value = read(&text);
    let versions = crd.get("spec")?.get("versions")?.as_sequence()?;
    let version = versions
        .iter()
        .find(|version| version.get("name").and_then(Value::as_str) == Some("v1beta2"))?;
    version.get("schema")?.get("openAPIV3Schema").cloned()
}

/// The first field of `value` that is not in `schema`, or enum value it does not list.
fn mismatch(schema: &Value, value: &Value, path: &str) -> Option<String> {
    match value {
        Value::Mapping(map) => {
            let properties = schema.get("properties");
            let additional = schema.get("additionalProperties");
            map.iter().find_map(|(key, inner)| {
                let Some(key) = key.as_str() else {
                    return Some(format!("{path}: key {key:?} is not text"));
                };
                let here = format!("{path}.{key}");
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(field), _) | (None, Some(field)) => mismatch(field, inner, &here),
                    // An object without a schema of its own (`metadata`) takes anything.
                    (None, None) if properties.is_none() => None,
                    (None, None) => Some(format!("{here} is not in the CRD")),
                }
            })
        }
        Value::Sequence(items) => {
            let Some(item) = schema.get("items") else {
                return Some(format!("{path} is not a list in the CRD"));
            };
            items
                .iter()
                .enumerate()
                .find_map(|(index, inner)| mismatch(item, inner, &format!("{path}[{index}]")))
        }
        Value::String(text) => {
            let allowed = schema.get("enum").and_then(Value::as_sequence)?;
            let listed = allowed.iter().any(|value| value.as_str() == Some(text));
            (!listed).then(|| format!("{path}: {text} is not one of {allowed:?}"))
        }
        _ => None,
    }
}

fn check_against(schema: &Value, value: &Value, path: &str) {
    if let Some(problem) = mismatch(schema, value, path) {
        panic!("{problem}");
    }
}

fn written(value: &impl serde::Serialize) -> Value {
    match serde_norway::to_value(value) {
        Ok(value) => value,
        Err(error) => panic!("{error}"),
    }
}

#[test]
fn the_types_write_only_fields_the_crds_have() {
    let (Some(workloads), Some(checks)) = (
        schema("kueue.x-k8s.io_workloads.yaml"),
        schema("kueue.x-k8s.io_admissionchecks.yaml"),
    ) else {
        println!("skipped: no Kueue CRDs");
        return;
    };
    let workload: Workload = read(WORKLOAD);
    check_against(&workloads, &written(&workload), "Workload");
    // The check itself catches a misspelt field and an unknown enum value.
    let misspelt = WORKLOAD.replace("queueName:", "queue:");
    let problem = mismatch(&workloads, &read(&misspelt), "Workload");
    assert_eq!(
        problem.as_deref(),
        Some("Workload.spec.queue is not in the CRD")
    );
    let unknown = WORKLOAD.replace("state: Ready", "state: Done");
    let problem = mismatch(&workloads, &read(&unknown), "Workload");
    assert!(problem.is_some_and(|p| p.contains("Done is not one of")));
    let states = [
        CheckState::Pending,
        CheckState::Ready,
        CheckState::Retry,
        CheckState::Rejected,
    ];
    for state in states {
        let mut workload = workload.clone();
        if let Some(status) = &mut workload.status {
            status.admission_checks[0].state = state;
            status.admission_checks[0].requeue_after_seconds = Some(60);
            status.conditions[0].status = ConditionStatus::Unknown;
        }
        check_against(&workloads, &written(&workload), "Workload");
    }
    let check_text = "apiVersion: kueue.x-k8s.io/v1beta2\nkind: AdmissionCheck\nmetadata: \
                      {name: a}\nspec:\n  controllerName: c\n  parameters: {apiGroup: g, kind: \
                      K, name: n}\nstatus:\n  conditions:\n  - {type: Active, status: \"True\", \
                      reason: Active, message: ok, lastTransitionTime: \"2025-03-01T10:00:00Z\"}\n";
    let check: AdmissionCheck = read(check_text);
    assert_eq!(
        check.status.as_ref().map(|status| status.conditions.len()),
        Some(1)
    );
    check_against(&checks, &written(&check), "AdmissionCheck");
}
