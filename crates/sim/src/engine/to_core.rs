//! The engine's calls that change the core, in one place: building the scheduler, applying an
//! input, running a cycle. When the run writes an inputs log, each is written here as it is
//! made, so the log holds exactly what the core was told and what it answered.

use crate::inputs_log::InputsLog;
use alloc_core::inputs_log::Start;
use alloc_core::{
    Applied, Config, ConfigError, Decision, Input, InputError, Policy, Scheduler, Time,
};

/// Builds the scheduler; with a log, from the start record the log begins with.
pub(super) fn build(
    config: Config,
    policy: Policy,
    log: Option<&mut InputsLog>,
) -> Result<Scheduler, ConfigError> {
    match log {
        None => Scheduler::new(config, policy),
        Some(log) => {
            let start = Start::new(config, policy);
            log.start(&start);
            start.scheduler()
        }
    }
}

/// Sends `input` to the core, logged first: an input the core refuses is in the log too, and
/// a replay stops there as the run did.
pub(super) fn apply(
    scheduler: &mut Scheduler,
    log: Option<&mut InputsLog>,
    input: Input,
) -> Result<Applied, InputError> {
    if let Some(log) = log {
        log.input(&input);
    }
    scheduler.apply(input)
}

/// Runs one cycle at `now`; returns (and logs) the decisions that changed.
pub(super) fn cycle(
    scheduler: &mut Scheduler,
    log: Option<&mut InputsLog>,
    now: Time,
) -> Vec<Decision> {
    let changes = scheduler.cycle(now).changes;
    if let Some(log) = log {
        log.cycle(now, &changes);
    }
    changes
}
