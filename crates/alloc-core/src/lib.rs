//! # alloc-core: every scheduling decision of the GPU platform
//!
//! A pure library: no I/O, no clock, no randomness. Two shells drive it the same way — the
//! `sim` digital twin and the live Kueue AdmissionCheck controller: they [`Scheduler::apply`]
//! [`Input`]s — events (job submitted / finished / requeued / cancelled, a stopped job's
//! progress, a burst's bill, node added / removed, quota changed) or, from a controller's
//! watches, levels that are idempotent (job upserted, job admitted with its placement, quota
//! reserved by Kueue, node and configuration objects upserted or removed, a resync) — and call
//! [`Scheduler::cycle`]`(now)`. It decides for every pending job and reports the decisions that
//! changed since the last report ([`Cycle`]), with the next instant the clock alone could change
//! one: **admit** (cluster, flavor, node(s), GPU indices — already booked; or a burst to a
//! public flavor, its worst-case bill reserved), **preempt** (victims marked evicting until the
//! shell stops them; the job starts after), **wait** (a typed [`WaitReason`], the [`Unblock`]
//! that would change it and why it does not burst, [`NoBurst`]) or **reject** (a typed
//! [`RejectReason`]). Every decision prints as a sentence a user can read.
//!
//! ## Model
//! Integer units throughout ([`MilliGpu`], [`VramMib`], [`CpuMilli`], [`MemMib`], [`Money`] in
//! micro-units, [`Millis`] and [`Time`] in ms). GPU models carry VRAM, relative speed and an MPS
//! client limit; flavors (Kueue ResourceFlavors) carry a tier BRONZE < SILVER < GOLD and a node
//! label selector; ClusterQueues hold quota per flavor and resource, in cohorts with Kueue's
//! borrowing and lending limits, and their own preemption rules; public flavors are rented
//! through a public cluster's offers and hold quota like any other; LocalQueues point at
//! ClusterQueues; tenants and users have caps, tenants a public budget.
//!
//! ## The cycle
//! Pending jobs are taken in Kueue's order (priority, submit time, id) or, under a scored
//! policy, by a weighted score of priority, aging, deadline urgency, fair share and budget
//! ([`score`]). Each is screened
//! (reject what can never run), held by StrictFIFO heads and user/tenant caps, then tried on its
//! candidate flavors in fungibility order (its tier first, higher tiers only when upgrades are
//! allowed): quota as Kueue computes it, then best-fit placement on the flavor's nodes. See the
//! `cycle` module for the steps.
//!
//! ## Invariants
//! After every cycle: no GPU, CPU or memory over-committed; no queue beyond nominal + allowed
//! borrowing; user and tenant caps held; only burstable jobs with flexible budgets and data that
//! may leave on public flavors, always of their own queue; no tenant billed and reserved beyond
//! its public budget; incremental ledgers equal a rebuild. [`Scheduler::check_invariants`] and [`Scheduler::quota_overruns`]
//! check them; the property tests run them after every step.
//!
//! ## Example: three jobs on a two-node fleet
//! The builders of `testing` come with the `testing` feature, which a crate turns on for its
//! tests (this one through a dev-dependency on itself).
//! ```
//! use alloc_core::testing::{ConfigBuilder, JobBuilder, NodeBuilder};
//! use alloc_core::{Decision, Input, Policy, Quota, Scheduler, Tier, Time};
//!
//! let config = ConfigBuilder::new()
//!     .private_flavor("v100", Tier::Silver)
//!     .queue("q", &[("v100", Quota::nominal(6_000))]) // six GPUs of quota
//!     .build();
//! let mut scheduler = Scheduler::new(config, Policy::default()).unwrap();
//! scheduler.apply(Input::NodeAdded(NodeBuilder::new("node-a", "v100", 4).build())).unwrap();
//! scheduler.apply(Input::NodeAdded(NodeBuilder::new("node-b", "v100", 2).build())).unwrap();
//! for (id, gpus) in [(1, 2), (2, 4), (3, 2)] {
//!     let job = JobBuilder::gpus(gpus).id(id).tier(Tier::Silver).build();
//!     scheduler.apply(Input::JobSubmitted(job)).unwrap();
//! }
//! let decisions = scheduler.decide_all(Time(0));
//! // Best fit: job 1 fills node-b exactly, job 2 takes node-a; job 3 is out of quota.
//! assert!(matches!(&decisions[0], Decision::Admit { placement, .. } if placement.nodes[0].node.as_str() == "node-b"));
//! assert!(matches!(&decisions[1], Decision::Admit { placement, .. } if placement.nodes[0].node.as_str() == "node-a"));
//! assert!(matches!(&decisions[2], Decision::Wait { .. }));
//! println!("{}", decisions[2]);
//! ```

#![warn(missing_docs)]

mod again;
mod assign;
pub mod backfill;
pub mod burst;
mod chains;
mod classes;
mod clock;
mod cycle;
mod decide;
pub mod decision;
pub mod error;
mod flavors;
pub mod ids;
pub mod input;
pub mod inputs_log;
mod invariants;
mod kueue_phase;
#[cfg(test)]
mod layering;
mod memo;
pub mod model;
mod order;
pub mod packing;
mod pending;
pub mod placement;
pub mod policy;
pub mod preemption;
pub mod progress;
mod protocol;
mod queries;
mod queue_order;
mod quota;
mod room_lines;
mod room_told;
mod running;
mod scheduler;
pub mod score;
mod screen;
mod screenings;
pub mod state;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod units;
mod view;
mod walk;
pub mod warm_pool;

pub use backfill::Backfill;
pub use burst::{BurstMode, BurstPolicy, NoBurst, Payer, WaitRule};
pub use clock::SCORE_RECHECK;
pub use cycle::Cycle;
pub use decision::{
    Decision, FlavorMiss, GpuShare, Limit, Miss, NodeShare, Placement, RejectReason, Unblock,
    WaitReason,
};
pub use error::{ConfigError, InputError};
pub use ids::*;
pub use input::{Applied, ConfigKey, ConfigObject, Input};
pub use inputs_log::LogRecord;
pub use invariants::{QuotaOverrun, QuotaScope};
pub use model::*;
pub use order::PendingKey;
pub use policy::{Admission, Policy};
pub use progress::Progress;
pub use running::{Evicting, Running};
pub use scheduler::Scheduler;
pub use score::{Ordering, Score, ScoreBreakdown, ScoreWeights};
pub use units::*;
pub use warm_pool::{ColdStart, WarmPoolRule, WarmPoolSize};
