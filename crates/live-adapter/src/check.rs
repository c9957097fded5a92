//! A core decision → what our entry in a Workload's `status.admissionChecks` should say, and
//! whether that needs writing: pure.
//!
//! | decision | state | what else |
//! |---|---|---|
//! | `Admit` on a private flavor | `Ready` | a pod set update per pod set: `nodeSelector` `kubernetes.io/hostname` (one node), annotations with the node, GPU indices, MPS share and the whole placement (what a restarted controller rebuilds the running job from) |
//! | `Admit` on a public flavor (a burst) | `Ready` | the rented GPU model, expected cost and time limit as annotations |
//! | `Wait` | `Retry` | `requeueAfterSeconds`: until the burst threshold passes (`NoBurst::TooEarly`), else until the core's next clock change, else the controller's default |
//! | `Reject` | `Rejected` | — |
//! | a Workload that cannot be read | `Rejected` | the error, naming the field |
//!
//! Every message is the core's explanation sentence; the stable reason code goes into the
//! `gpu-alloc.dev/reason` annotation of a Ready entry's pod set updates, and into metrics and
//! logs for every state. `lastTransitionTime` changes only with the state, and nothing is
//! written when the entry already says the same.

use crate::labels::PREFIX;
use alloc_core::{Decision, NoBurst, Time, WaitReason};
use kueue_model::objects::{AdmissionCheckState, CheckState, PodSetUpdate};
use std::collections::BTreeMap;

/// The node label a Ready entry pins a one-node placement to.
pub const HOSTNAME: &str = "kubernetes.io/hostname";

/// What our entry should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Ready, Retry or Rejected.
    pub state: CheckState,
    /// The core's sentence.
    pub message: String,
    /// A stable code: the decision's reason (`admit`, a wait or reject reason's code, or
    /// `invalid-workload`).
    pub reason: String,
    /// Why it does not burst, for a wait that could have.
    pub no_burst: Option<&'static str>,
    /// For Retry: when Kueue should try again.
    pub requeue_after_seconds: Option<i32>,
    /// For Ready: additions to each pod set.
    pub pod_set_updates: Vec<PodSetUpdate>,
}

/// When to requeue a waiting job that nothing more specific names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requeue {
    /// The core's next clock change (`Cycle::next_change`), if any.
    pub next_change: Option<Time>,
    /// Seconds to use when the core names no time.
    pub default_seconds: u32,
}

/// The verdict for `decision` on a Workload with pod sets `pod_sets`, decided at `now`;
/// `None` when there is nothing to tell Kueue (the job waits for a reservation, which Kueue
/// knows, or the decision is of a kind this controller does not know).
pub fn verdict(
    decision: &Decision,
    pod_sets: &[String],
    now: Time,
    requeue: Requeue,
) -> Option<Verdict> {
    let message = decision.to_string();
    match decision {
        Decision::Admit { placement, .. } => {
            let mut annotations = BTreeMap::new();
            let mut node_selector = BTreeMap::new();
            let mut kept = placement.clone();
            kept.passed_over.clear();
            annotations.insert(
                crate::index::placement_annotation(),
                serde_json::to_string(&kept).ok()?,
            );
            annotations.insert(format!("{PREFIX}reason"), "admit".into());
            annotations.insert(format!("{PREFIX}flavor"), placement.flavor.to_string());
            if let [share] = placement.nodes.as_slice() {
                if placement.public.is_none() {
                    node_selector.insert(HOSTNAME.into(), share.node.to_string());
                }
            }
            let nodes: Vec<String> = placement.nodes.iter().map(|n| n.node.to_string()).collect();
            if !nodes.is_empty() {
                annotations.insert(format!("{PREFIX}nodes"), nodes.join(","));
            }
            let gpus: Vec<String> = placement
                .nodes
                .iter()
                .flat_map(|n| {
                    n.gpus
                        .iter()
                        .map(move |g| format!("{}:{}", n.node, g.index))
                })
                .collect();
            if !gpus.is_empty() {
                annotations.insert(format!("{PREFIX}gpus"), gpus.join(","));
            }
            if let Some(share) = placement
                .nodes
                .iter()
                .flat_map(|n| &n.gpus)
                .find(|g| g.milli.0 < 1000)
            {
                annotations.insert(format!("{PREFIX}mps-milli"), share.milli.0.to_string());
                annotations.insert(format!("{PREFIX}mps-memory-mib"), share.vram.0.to_string());
            }
            if let Some(lease) = &placement.public {
                annotations.insert(
                    format!("{PREFIX}public-gpu-model"),
                    lease.gpu_model.to_string(),
                );
                annotations.insert(
                    format!("{PREFIX}expected-cost"),
                    lease.expected_cost.to_string(),
                );
            }
            let pod_set_updates = pod_sets
                .iter()
                .map(|name| PodSetUpdate {
                    name: name.clone(),
                    labels: BTreeMap::new(),
                    annotations: annotations.clone(),
                    node_selector: node_selector.clone(),
                    tolerations: Vec::new(),
                })
                .collect();
            Some(Verdict {
                state: CheckState::Ready,
                message,
                reason: "admit".into(),
                no_burst: None,
                requeue_after_seconds: None,
                pod_set_updates,
            })
        }
        Decision::Wait {
            reason: WaitReason::NoReservation,
            ..
        } => None,
        Decision::Wait {
            reason, no_burst, ..
        } => {
            let at = match no_burst {
                Some(NoBurst::TooEarly { from, .. })
                | Some(NoBurst::Paced {
                    from: Some(from), ..
                })
                | Some(NoBurst::KeptForDeadlines {
                    from: Some(from), ..
                }) => Some(*from),
                _ => requeue.next_change,
            };
            let seconds = match at {
                Some(at) => at.0.saturating_sub(now.0).div_ceil(1000).max(1),
                None => u64::from(requeue.default_seconds.max(1)),
            };
            Some(Verdict {
                state: CheckState::Retry,
                message,
                reason: reason.code().into(),
                no_burst: no_burst.as_ref().map(NoBurst::code),
                requeue_after_seconds: Some(i32::try_from(seconds).unwrap_or(i32::MAX)),
                pod_set_updates: Vec::new(),
            })
        }
        Decision::Reject { reason, .. } => Some(Verdict {
            state: CheckState::Rejected,
            message,
            reason: reason.code().into(),
            no_burst: None,
            requeue_after_seconds: None,
            pod_set_updates: Vec::new(),
        }),
        // Kueue preempts in its own phase; the controller runs the core without preemption,
        // so this is a preemptor told to wait for victims only the core knows of.
        Decision::Preempt { .. } => Some(Verdict {
            state: CheckState::Retry,
            message,
            reason: "preempt".into(),
            no_burst: None,
            requeue_after_seconds: Some(
                i32::try_from(requeue.default_seconds.max(1)).unwrap_or(i32::MAX),
            ),
            pod_set_updates: Vec::new(),
        }),
        _ => None,
    }
}

/// The verdict on a Workload that cannot be read.
pub fn invalid(error: &crate::error::ObjectError) -> Verdict {
    Verdict {
        state: CheckState::Rejected,
        message: error.to_string(),
        reason: "invalid-workload".into(),
        no_burst: None,
        requeue_after_seconds: None,
        pod_set_updates: Vec::new(),
    }
}

/// The entry to write for `verdict` under the check `name`, given what the Workload's entry
/// says now; `None` when it already says the same. `now` is the RFC 3339 time a changed
/// state takes as its `lastTransitionTime`.
pub fn entry(
    name: &str,
    verdict: &Verdict,
    observed: Option<&AdmissionCheckState>,
    now: &str,
) -> Option<AdmissionCheckState> {
    if let Some(observed) = observed {
        if observed.state == verdict.state
            && observed.message == verdict.message
            && observed.requeue_after_seconds == verdict.requeue_after_seconds
            && observed.pod_set_updates == verdict.pod_set_updates
        {
            return None;
        }
    }
    let last_transition_time = match observed {
        Some(observed) if observed.state == verdict.state => observed.last_transition_time.clone(),
        _ => now.to_string(),
    };
    Some(AdmissionCheckState {
        name: name.to_string(),
        state: verdict.state,
        message: verdict.message.clone(),
        last_transition_time,
        requeue_after_seconds: verdict.requeue_after_seconds,
        retry_count: None,
        pod_set_updates: verdict.pod_set_updates.clone(),
    })
}

/// The body of the server-side apply patch on `workloads/status` that sets our entry only.
pub fn patch_body(
    namespace: &str,
    workload: &str,
    entry: &AdmissionCheckState,
) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": format!("{}/{}", crate::kueue::GROUP, crate::kueue::VERSION),
        "kind": "Workload",
        "metadata": {"name": workload, "namespace": namespace},
        "status": {"admissionChecks": [entry]},
    })
}

/// The body of the server-side apply patch on `admissionchecks/status` that keeps `Active`
/// True.
pub fn active_body(check: &str, now: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": format!("{}/{}", crate::kueue::GROUP, crate::kueue::VERSION),
        "kind": "AdmissionCheck",
        "metadata": {"name": check},
        "status": {"conditions": [{
            "type": "Active",
            "status": "True",
            "reason": "Active",
            "message": "the gpu-alloc controller decides this check",
            "lastTransitionTime": now,
        }]},
    })
}
