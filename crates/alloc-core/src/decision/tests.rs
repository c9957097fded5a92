//! The stable codes: one per variant, pinned here because CSV columns and metric labels
//! depend on them, and unique within each enum.

use super::*;
use crate::units::{Money, Time};
use std::collections::BTreeSet;

/// Checks that `codes` pins one code per variant and that no two variants share one.
fn check<T>(codes: &[(T, &str)], code: impl Fn(&T) -> &'static str) {
    for (value, expected) in codes {
        assert_eq!(code(value), *expected);
    }
    let variants: Vec<_> = codes
        .iter()
        .map(|(value, _)| std::mem::discriminant(value))
        .collect();
    for (i, variant) in variants.iter().enumerate() {
        assert!(
            !variants[..i].contains(variant),
            "a variant is listed twice: {}",
            codes[i].1
        );
    }
    let unique: BTreeSet<_> = codes.iter().map(|(_, code)| *code).collect();
    assert_eq!(unique.len(), codes.len(), "codes are not unique");
}

fn placement() -> Placement {
    Placement {
        cluster: ClusterName::new("private"),
        flavor: FlavorName::new("v100"),
        tier: Tier::Silver,
        queue: QueueName::new("q"),
        nodes: Vec::new(),
        borrowing: false,
        passed_over: Vec::new(),
        public: None,
    }
}

#[test]
fn decision_codes() {
    let job = JobId(1);
    let reason = WaitReason::PublicOnly {
        queue: QueueName::new("q"),
    };
    check(
        &[
            (
                Decision::Admit {
                    job,
                    placement: placement(),
                },
                "admit",
            ),
            (
                Decision::Preempt {
                    job,
                    placement: placement(),
                    victims: vec![JobId(2)],
                },
                "preempt",
            ),
            (
                Decision::Wait {
                    job,
                    reason,
                    no_burst: None,
                },
                "wait",
            ),
            (
                Decision::Reject {
                    job,
                    reason: RejectReason::InvalidRequest("zero GPUs".to_string()),
                },
                "reject",
            ),
        ],
        Decision::code,
    );
}

#[test]
fn wait_reason_codes() {
    let queue = QueueName::new("q");
    let limit = Limit::RunningJobs { running: 2, max: 2 };
    let miss = FlavorMiss {
        flavor: FlavorName::new("v100"),
        miss: Miss::NoQuota {
            queue: queue.clone(),
            resource: Resource::Gpu,
        },
    };
    check(
        &[
            (
                WaitReason::BlockedByHead {
                    queue: queue.clone(),
                },
                "blocked-by-head",
            ),
            (
                WaitReason::UserLimit {
                    user: UserName::new("alice"),
                    limit,
                },
                "user-limit",
            ),
            (
                WaitReason::TenantLimit {
                    tenant: TenantName::new("lab"),
                    limit,
                },
                "tenant-limit",
            ),
            (
                WaitReason::NoFlavorFits {
                    misses: Arc::from([miss]),
                },
                "no-flavor-fits",
            ),
            (
                WaitReason::PublicOnly {
                    queue: queue.clone(),
                },
                "public-only",
            ),
            (
                WaitReason::VictimsStopping {
                    victims: vec![JobId(2)],
                },
                "victims-stopping",
            ),
            (WaitReason::NoReservation, "no-reservation"),
            (
                WaitReason::ReservationUnusable {
                    flavor: FlavorName::new("v100"),
                    why: Box::new(RejectReason::UnknownQueue(LocalQueueName::new("nowhere"))),
                },
                "reservation-unusable",
            ),
        ],
        WaitReason::code,
    );
}

#[test]
fn reject_reason_codes() {
    let queue = QueueName::new("q");
    check(
        &[
            (
                RejectReason::UnknownQueue(LocalQueueName::new("nowhere")),
                "unknown-queue",
            ),
            (
                RejectReason::InvalidRequest("zero GPUs".to_string()),
                "invalid-request",
            ),
            (
                RejectReason::NoMatchingFlavor {
                    queue: queue.clone(),
                    min_tier: Tier::Gold,
                    upgrade_allowed: false,
                },
                "no-matching-flavor",
            ),
            (
                RejectReason::ExceedsQuotaCeiling {
                    queue: queue.clone(),
                    misses: Vec::new(),
                },
                "exceeds-quota-ceiling",
            ),
            (
                RejectReason::DeadlineInfeasible {
                    deadline: Time(1),
                    earliest_end: Time(2),
                },
                "deadline-infeasible",
            ),
            (
                RejectReason::MayNotBurst {
                    queue: queue.clone(),
                    why: NoBurst::Sensitive,
                },
                "may-not-burst",
            ),
            (
                RejectReason::BudgetTooSmall {
                    limit: Money::units(1),
                    cheapest: Money::units(2),
                },
                "budget-too-small",
            ),
            (
                RejectReason::ExceedsCap {
                    who: "user alice".to_string(),
                    requested: MilliGpu(2_000),
                    max: MilliGpu(1_000),
                },
                "exceeds-cap",
            ),
        ],
        RejectReason::code,
    );
}

#[test]
fn unblock_codes() {
    let (queue, flavor) = (QueueName::new("q"), FlavorName::new("v100"));
    check(
        &[
            (
                Unblock::HeadStarts {
                    queue: queue.clone(),
                },
                "head-starts",
            ),
            (
                Unblock::UserJobFinishes {
                    user: UserName::new("alice"),
                },
                "user-job-finishes",
            ),
            (
                Unblock::TenantJobFinishes {
                    tenant: TenantName::new("lab"),
                },
                "tenant-job-finishes",
            ),
            (
                Unblock::QuotaFrees {
                    queue: queue.clone(),
                    flavor: flavor.clone(),
                    resource: Resource::Gpu,
                    amount: 1_000,
                },
                "quota-frees",
            ),
            (
                Unblock::QuotaAdded {
                    queue: queue.clone(),
                    flavor: flavor.clone(),
                    resource: Resource::Gpu,
                },
                "quota-added",
            ),
            (
                Unblock::CapacityFrees {
                    flavor: flavor.clone(),
                },
                "capacity-frees",
            ),
            (
                Unblock::NodeAdded {
                    flavor: flavor.clone(),
                },
                "node-added",
            ),
            (Unblock::Burst, "burst"),
            (Unblock::VictimsStop, "victims-stop"),
            (Unblock::Reservation, "reservation"),
        ],
        Unblock::code,
    );
}
