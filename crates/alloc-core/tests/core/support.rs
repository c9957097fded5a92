//! Small helpers shared by the examples: a scheduler fed through builders, and lookups of one
//! job's decision that fail with the whole cycle printed.

use alloc_core::testing::{cycle_without_memo, ConfigBuilder, JobBuilder, NodeBuilder};
use alloc_core::{
    Config, Decision, Input, JobId, NoBurst, Placement, Policy, Quota, RejectReason, Scheduler,
    Tier, Time, WaitReason,
};

pub fn scheduler(config: Config) -> Scheduler {
    Scheduler::new(config, Policy::default()).unwrap()
}

pub fn scheduler_with(config: Config, policy: Policy) -> Scheduler {
    Scheduler::new(config, policy).unwrap()
}

/// Feeding a scheduler through builders.
pub trait Feed {
    fn node(&mut self, node: NodeBuilder) -> &mut Self;
    fn submit(&mut self, job: JobBuilder) -> &mut Self;
    /// Runs a cycle and checks every invariant after it, and that it decided as a cycle
    /// without the memo does.
    fn checked_cycle(&mut self, now: u64) -> Vec<Decision>;
    /// The shell's part of a preemption: it stops every victim in `decisions`.
    fn stop_victims(&mut self, decisions: &[Decision]) -> &mut Self;
}

impl Feed for Scheduler {
    fn node(&mut self, node: NodeBuilder) -> &mut Self {
        self.apply(Input::NodeAdded(node.build())).unwrap();
        self
    }

    fn submit(&mut self, job: JobBuilder) -> &mut Self {
        self.apply(Input::JobSubmitted(job.build())).unwrap();
        self
    }

    fn checked_cycle(&mut self, now: u64) -> Vec<Decision> {
        let mut afresh = self.clone();
        let decisions = self.decide_all(Time(now));
        if let Err(violations) = self.check_invariants() {
            panic!("invariants broken after the cycle: {violations:#?}\n{decisions:#?}");
        }
        let expected = cycle_without_memo(&mut afresh, Time(now));
        assert_eq!(decisions, expected, "the cycle's memo changed a decision");
        decisions
    }

    fn stop_victims(&mut self, decisions: &[Decision]) -> &mut Self {
        for decision in decisions {
            if let Decision::Preempt { victims, .. } = decision {
                for victim in victims {
                    self.apply(Input::JobRequeued(*victim)).unwrap();
                }
            }
        }
        self
    }
}

pub fn decision(decisions: &[Decision], id: u64) -> &Decision {
    match decisions.iter().find(|d| d.job() == JobId(id)) {
        Some(decision) => decision,
        None => panic!("no decision for job {id} in {decisions:#?}"),
    }
}

pub fn admitted(decisions: &[Decision], id: u64) -> &Placement {
    match decision(decisions, id) {
        Decision::Admit { placement, .. } => placement,
        other => panic!("job {id} was not admitted: {other}"),
    }
}

pub fn waiting(decisions: &[Decision], id: u64) -> &WaitReason {
    match decision(decisions, id) {
        Decision::Wait { reason, .. } => reason,
        other => panic!("job {id} does not wait: {other}"),
    }
}

/// Why a waiting job did not burst instead (`None`: the question did not arise).
pub fn no_burst(decisions: &[Decision], id: u64) -> Option<&NoBurst> {
    match decision(decisions, id) {
        Decision::Wait { no_burst, .. } => no_burst.as_ref(),
        other => panic!("job {id} does not wait: {other}"),
    }
}

pub fn rejected(decisions: &[Decision], id: u64) -> &RejectReason {
    match decision(decisions, id) {
        Decision::Reject { reason, .. } => reason,
        other => panic!("job {id} was not rejected: {other}"),
    }
}

/// Job ids in decision order.
pub fn order(decisions: &[Decision]) -> Vec<u64> {
    decisions.iter().map(|d| d.job().0).collect()
}

/// The node names of a placement.
pub fn nodes(placement: &Placement) -> Vec<&str> {
    placement.nodes.iter().map(|n| n.node.as_str()).collect()
}

/// Two BRONZE flavors, `a` then `b` in the queue's order, one two-GPU node each.
pub fn two_flavors() -> Scheduler {
    let config = ConfigBuilder::new()
        .private_flavor("a", Tier::Bronze)
        .private_flavor("b", Tier::Bronze)
        .queue(
            "q",
            &[("a", Quota::nominal(8_000)), ("b", Quota::nominal(8_000))],
        )
        .build();
    let mut s = scheduler(config);
    s.node(NodeBuilder::new("node-a", "a", 2))
        .node(NodeBuilder::new("node-b", "b", 2));
    s
}
