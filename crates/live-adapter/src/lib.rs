//! # live-adapter: alloc-core as a Kueue AdmissionCheck controller
//!
//! Kueue admits in two phases: its flavor assigner reserves quota for a Workload on one
//! ResourceFlavor, then every AdmissionCheck of the Workload's ClusterQueue must say Ready.
//! This controller is one of those checks. For a Workload that holds a reservation it asks
//! alloc-core, restricted to the reserved flavor: on a private flavor, where exactly (node,
//! GPU indices, MPS share) — Ready with pod set updates — or why not now — Retry with
//! `requeueAfterSeconds` from the core's next clock change; on a public flavor, whether the
//! burst rule allows it now; and what can never run — Rejected. Every message is the core's
//! explanation sentence.
//!
//! Modules, each with one reason to change:
//! - [`kueue`]: the Kueue kinds watched and written (kueue-model's types plus metadata);
//! - [`labels`]: the documented `gpu-alloc.dev/` keys, Workload → core job;
//! - [`nodes`]: Node → node spec from GPU Feature Discovery labels;
//! - [`setup`]: ResourceFlavor, Cohort, ClusterQueue, LocalQueue → core objects via kueue-model;
//! - [`platform`]: what the cluster does not say (GPU models, clouds and offers, tenants);
//! - [`index`]: watch events → core inputs (pure);
//! - [`check`]: decision → our check entry, and whether it needs writing (pure);
//! - [`reconcile`]: the owner task: index → core → check;
//! - [`apply`]: server-side apply on the status subresources, conflicts retried;
//! - [`leader`]: Lease-based leader election; only the leader writes;
//! - [`metrics`], [`http`], [`telemetry`]: Prometheus, `/metrics` `/healthz` `/readyz`, logs;
//! - [`controller`]: the watches and the loop that ties them together;
//! - [`inputs_log`]: the sim's `--inputs-log` format.

pub mod apply;
pub mod check;
pub mod controller;
pub mod error;
pub mod http;
pub mod index;
pub mod inputs_log;
pub mod kueue;
pub mod labels;
pub mod leader;
pub mod metrics;
pub mod nodes;
pub mod platform;
pub mod policy;
pub mod reconcile;
pub mod setup;
pub mod telemetry;

pub use error::ObjectError;
pub use index::{Event, Index};
pub use platform::Platform;
pub use reconcile::{Owner, Write};
