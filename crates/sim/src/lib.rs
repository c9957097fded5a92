//! `sim`: a discrete-event twin of a private + public GPU fleet. It feeds events to
//! `alloc-core`'s scheduler and applies the decisions it returns; it never decides itself.

pub mod error;
pub mod trace;

pub use error::{Result, SimError};
