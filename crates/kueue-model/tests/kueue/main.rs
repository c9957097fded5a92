//! kueue-model's tests: Kueue setups read and translated, the refusals, and the serde types of
//! the controller's kinds. Fixtures are written here, not copied from Kueue; the samples and
//! CRD tests read Kueue's own files from `../shared/kueue` when that checkout is present.

use alloc_core::{
    BorrowWithinCohort, BorrowWithinCohortPolicy, ClusterQueue, CohortName, FlavorFungibility,
    FlavorName, FlavorQuotas, LocalQueue, LocalQueueName, QueueName, QueuePreemption,
    QueueingStrategy, Quota, ReclaimWithinCohort, Resource, WhenCanBorrow, WhenCanPreempt,
    WithinClusterQueue,
};
use kueue_model::{parse, KueueFlavor, KueueObjects};
use std::collections::BTreeMap;
use std::path::Path;

mod errors;
mod objects;

const SETUP: &str = "\
# Two flavors, two ClusterQueues sharing a cohort, one LocalQueue each.
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata:
  name: v100
  labels: {team: infra}
spec:
  nodeLabels:
    gpu.chipset: v100
  nodeTaints:
  - {key: gpu, value: \"true\", effect: NoSchedule}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata:
  name: a30
---
apiVersion: v1
kind: Namespace
metadata:
  name: lab-a
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: Cohort
metadata:
  name: department
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata:
  name: lab-a
spec:
  cohortName: department
  namespaceSelector: {}
  queueingStrategy: StrictFIFO
  resourceGroups:
  - coveredResources: [\"cpu\", \"memory\", \"nvidia.com/gpu\"]
    flavors:
    - name: v100
      resources:
      - name: cpu
        nominalQuota: 500m
      - name: memory
        nominalQuota: 16Gi
      - name: nvidia.com/gpu
        nominalQuota: 2
        borrowingLimit: \"1.5\"
        lendingLimit: 1
    - name: a30
      resources:
      - name: nvidia.com/gpu
        nominalQuota: 4
  flavorFungibility:
    whenCanBorrow: TryNextFlavor
    whenCanPreempt: MayStopSearch
  preemption:
    withinClusterQueue: LowerPriority
    reclaimWithinCohort: Any
    borrowWithinCohort:
      policy: LowerPriority
      maxPriorityThreshold: 100
status:
  pendingWorkloads: 3
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata:
  name: lab-b
spec:
  cohortName: department
  resourceGroups:
  - coveredResources: [\"memory\", \"nvidia.com/gpu\"]
    flavors:
    - name: a30
      resources:
      - name: memory
        nominalQuota: 100M
      - name: nvidia.com/gpu
        nominalQuota: 4
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata:
  namespace: lab-a
  name: queue-a
spec:
  clusterQueue: lab-a
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata:
  name: queue-b
spec:
  clusterQueue: lab-b
";

fn read(text: &str) -> KueueObjects {
    match parse(Path::new("kueue.yaml"), text) {
        Ok(objects) => objects,
        Err(error) => panic!("{error}"),
    }
}

/// The error `text` must give.
fn refusal(text: &str) -> kueue_model::KueueError {
    match parse(Path::new("kueue.yaml"), text) {
        Err(error) => error,
        Ok(objects) => panic!("expected an error, got {objects:?}"),
    }
}

/// The line, `Kind/name: field` and reason of the error `text` must give.
fn refused(text: &str) -> (u64, String, String) {
    let error = refusal(text);
    let field = match error.object() {
        Some(object) => format!("{object}: {}", error.field()),
        None => error.field().to_string(),
    };
    (error.line(), field, error.reason().to_string())
}

fn gpu(nominal: u64) -> BTreeMap<Resource, Quota> {
    BTreeMap::from([(Resource::Gpu, Quota::nominal(nominal))])
}

fn expected_setup() -> KueueObjects {
    let lab_a = ClusterQueue {
        name: QueueName::new("lab-a"),
        cohort: Some(CohortName::new("department")),
        strategy: QueueingStrategy::StrictFIFO,
        flavors: vec![
            FlavorQuotas {
                flavor: FlavorName::new("v100"),
                resources: BTreeMap::from([
                    (Resource::Cpu, Quota::nominal(500)),
                    (Resource::Memory, Quota::nominal(16 * 1024)),
                    (
                        Resource::Gpu,
                        Quota {
                            nominal: 2000,
                            borrowing_limit: Some(1500),
                            lending_limit: Some(1000),
                        },
                    ),
                ]),
            },
            FlavorQuotas {
                flavor: FlavorName::new("a30"),
                resources: gpu(4000),
            },
        ],
        fungibility: FlavorFungibility {
            when_can_borrow: WhenCanBorrow::TryNextFlavor,
            when_can_preempt: WhenCanPreempt::MayStopSearch,
        },
        preemption: Some(QueuePreemption {
            within_cluster_queue: WithinClusterQueue::LowerPriority,
            reclaim_within_cohort: ReclaimWithinCohort::Any,
            borrow_within_cohort: BorrowWithinCohort {
                policy: BorrowWithinCohortPolicy::LowerPriority,
                max_priority_threshold: Some(100),
            },
        }),
    };
    let mut b_resources = gpu(4000);
    b_resources.insert(Resource::Memory, Quota::nominal(95));
    let lab_b = ClusterQueue {
        name: QueueName::new("lab-b"),
        cohort: Some(CohortName::new("department")),
        strategy: QueueingStrategy::BestEffortFIFO,
        flavors: vec![FlavorQuotas {
            flavor: FlavorName::new("a30"),
            resources: b_resources,
        }],
        fungibility: FlavorFungibility::default(),
        // no spec.preemption: Kueue's defaults, nobody may be evicted
        preemption: Some(QueuePreemption::KUEUE_DEFAULT),
    };
    let local = |name: &str, queue: &str| LocalQueue {
        name: LocalQueueName::new(name),
        cluster_queue: QueueName::new(queue),
    };
    KueueObjects {
        flavors: vec![
            KueueFlavor {
                name: FlavorName::new("v100"),
                node_labels: BTreeMap::from([("gpu.chipset".into(), "v100".into())]),
            },
            KueueFlavor {
                name: FlavorName::new("a30"),
                node_labels: BTreeMap::new(),
            },
        ],
        cluster_queues: vec![lab_a, lab_b],
        local_queues: vec![local("queue-a", "lab-a"), local("queue-b", "lab-b")],
        cohorts: vec!["department".into()],
        namespaces: BTreeMap::from([
            (LocalQueueName::new("queue-a"), "lab-a".into()),
            (LocalQueueName::new("queue-b"), "default".into()),
        ]),
    }
}

#[test]
fn a_two_queue_cohort_translates_to_the_model() {
    assert_eq!(read(SETUP), expected_setup());
}

#[test]
fn the_result_builds_an_alloc_core_config() {
    let objects = read(SETUP);
    let flavors = objects.flavors.iter().map(|flavor| alloc_core::Flavor {
        name: flavor.name.clone(),
        tier: alloc_core::Tier::Silver,
        cluster: alloc_core::ClusterName::new("private"),
        node_labels: flavor.node_labels.clone(),
        gpu_model: None,
    });
    let config = alloc_core::Config::new(
        Vec::new(),
        vec![alloc_core::Cluster::private("private")],
        flavors.collect(),
        objects.cluster_queues,
        objects.local_queues,
        Vec::new(),
        Vec::new(),
    );
    assert!(config.is_ok(), "{config:?}");
}

/// The same setup as a YAML list and as a `kind: List`, indented one level deeper.
fn as_list(text: &str, kind_list: bool) -> String {
    let pad = if kind_list { "  " } else { "" };
    let mut out = String::from(if kind_list {
        "apiVersion: v1\nkind: List\nitems:\n"
    } else {
        ""
    });
    for document in text.split("---\n") {
        let mut first = true;
        for line in document.lines().filter(|line| !line.starts_with('#')) {
            let marker = if first { "- " } else { "  " };
            out.push_str(&format!("{pad}{marker}{line}\n"));
            first = false;
        }
    }
    out
}

#[test]
fn lists_and_kind_list_read_like_documents() {
    assert_eq!(read(&as_list(SETUP, false)), expected_setup());
    assert_eq!(read(&as_list(SETUP, true)), expected_setup());
}
