//! `sim`: a discrete-event twin of a private + public GPU fleet. It feeds events to
//! `alloc-core`'s scheduler and applies the decisions it returns; it never decides itself.
//!
//! Pieces: [`engine`] (event queue, the loop), [`fleet`] (fleet files), [`runtime_model`]
//! (how long a job runs where it lands), [`workload`] (traces and generators), [`trace`]
//! (native format and importers), [`record`] (outputs), [`run`] (a whole replay),
//! [`inputs_log`] (the core's inputs and decisions written and replayed).

pub mod cli;
pub mod compare;
pub mod engine;
pub mod error;
pub mod fleet;
pub mod inputs_log;
pub mod limits;
pub mod openmetrics;
pub mod pack;
pub mod progress;
pub mod record;
pub mod report;
pub mod rng;
pub mod run;
pub mod runtime_model;
pub mod scenario;
pub mod sweep;
pub mod trace;
pub mod validate;
pub mod workload;
mod yaml;

pub use error::{Result, SimError};

/// The scheduling policy named on the command line (see [`alloc_core::Policy::preset`]).
pub fn policy_preset(name: &str) -> Result<alloc_core::Policy> {
    alloc_core::Policy::preset(name).ok_or_else(|| SimError::BadArgument {
        flag: "--policy".into(),
        reason: format!(
            "unknown policy {name:?}; known: {}",
            alloc_core::Policy::preset_names().join(", ")
        ),
    })
}
