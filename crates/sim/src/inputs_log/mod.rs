//! Inputs logs (`--inputs-log FILE`, `sim replay-inputs FILE`): the core's inputs and
//! decisions as JSON lines, one [`alloc_core::LogRecord`] a line, written as the engine makes
//! its calls and replayed through the core to check that it decides the same. A log from the
//! live controller replays the same way, which is how the twin and the live shell are compared.

mod replay;
mod write;

pub use replay::{check, Checked, Mismatch};
pub use write::InputsLog;
