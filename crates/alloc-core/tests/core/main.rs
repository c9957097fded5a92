//! The integration suite of alloc-core: behaviour examples written with the `testing`
//! builders, explanations users read (snapshotted), property tests over generated fleets and
//! event sequences, a brute-force oracle on tiny fleets, and pinned regressions.
#![allow(clippy::unwrap_used)]

mod backfill;
mod burst;
mod cycle;
mod explain;
mod inputs;
mod inputs_log;
mod mps;
mod oracle;
mod preemption;
mod properties;
mod protocol;
mod quota_and_caps;
mod regressions;
mod rescue;
mod scoring;
mod strategies;
mod support;
mod two_phase;
