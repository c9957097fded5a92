//! Decisions → check entries, pure.

use alloc_core::testing::JobBuilder;
use alloc_core::{Decision, JobId, NoBurst, RejectReason, Time, WaitReason};
use kueue_model::objects::{AdmissionCheckState, CheckState};
use live_adapter::check::{entry, verdict, Requeue};

const REQUEUE: Requeue = Requeue {
    next_change: None,
    default_seconds: 60,
};

#[test]
fn a_burst_not_yet_allowed_retries_when_the_threshold_passes() {
    let _ = JobBuilder::gpus(1);
    let decision = Decision::Wait {
        job: JobId(1),
        reason: WaitReason::PublicOnly {
            queue: alloc_core::QueueName::new("q"),
        },
        no_burst: Some(NoBurst::TooEarly {
            threshold: alloc_core::Millis::minutes(30),
            from: Time(1_800_000),
        }),
    };
    let verdict = verdict(&decision, &["main".into()], Time(1_000), REQUEUE).expect("a verdict");
    assert_eq!(verdict.state, CheckState::Retry);
    assert_eq!(verdict.requeue_after_seconds, Some(1799));
    assert_eq!(verdict.reason, "public-only");
    assert_eq!(verdict.no_burst, Some("threshold-not-reached"));
    assert_eq!(verdict.message, decision.to_string());
}

#[test]
fn a_wait_for_room_retries_at_the_next_change_or_the_default() {
    let decision = Decision::Wait {
        job: JobId(1),
        reason: WaitReason::VictimsStopping { victims: vec![] },
        no_burst: None,
    };
    let soon = Requeue {
        next_change: Some(Time(10_500)),
        default_seconds: 60,
    };
    assert_eq!(
        verdict(&decision, &[], Time(0), soon).and_then(|v| v.requeue_after_seconds),
        Some(11)
    );
    assert_eq!(
        verdict(&decision, &[], Time(0), REQUEUE).and_then(|v| v.requeue_after_seconds),
        Some(60)
    );
    let unreserved = Decision::Wait {
        job: JobId(1),
        reason: WaitReason::NoReservation,
        no_burst: None,
    };
    assert_eq!(verdict(&unreserved, &[], Time(0), REQUEUE), None);
}

#[test]
fn a_rejection_names_its_code() {
    let decision = Decision::Reject {
        job: JobId(1),
        reason: RejectReason::DeadlineInfeasible {
            deadline: Time(5),
            earliest_end: Time(9),
        },
    };
    let verdict = verdict(&decision, &[], Time(0), REQUEUE).expect("a verdict");
    assert_eq!(
        (verdict.state, verdict.reason.as_str()),
        (CheckState::Rejected, "deadline-infeasible")
    );
}

#[test]
fn the_entry_is_written_only_when_it_changes_and_keeps_its_transition_time() {
    let decision = Decision::Reject {
        job: JobId(1),
        reason: RejectReason::InvalidRequest("x".into()),
    };
    let verdict = verdict(&decision, &[], Time(0), REQUEUE).expect("a verdict");
    let pending = AdmissionCheckState {
        name: "c".into(),
        state: CheckState::Pending,
        message: String::new(),
        last_transition_time: "2026-01-01T00:00:00Z".into(),
        requeue_after_seconds: None,
        retry_count: Some(1),
        pod_set_updates: vec![],
    };
    let written = entry("c", &verdict, Some(&pending), "2026-01-01T00:05:00Z").expect("changed");
    assert_eq!(written.last_transition_time, "2026-01-01T00:05:00Z");
    assert_eq!(written.retry_count, None, "retryCount is Kueue's");
    assert_eq!(
        entry("c", &verdict, Some(&written), "2026-01-01T00:09:00Z"),
        None
    );
    let mut reworded = written.clone();
    reworded.message = "old words".into();
    let rewritten = entry("c", &verdict, Some(&reworded), "2026-01-01T00:09:00Z").expect("changed");
    assert_eq!(
        rewritten.last_transition_time, "2026-01-01T00:05:00Z",
        "same state, same transition"
    );
}
