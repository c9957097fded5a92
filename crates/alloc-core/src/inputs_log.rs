//! Inputs logs: what a shell fed the core and what the core decided, one record per line of a
//! JSON-lines file, so that a run can be replayed through the core and two shells (the sim and
//! the live controller) compared decision for decision. Pure: the types of one line, the
//! replay and the comparison; the shells read and write the files.
//!
//! A log is a [`Start`] record, everything [`Scheduler`] construction takes; then, in the
//! order the shell made the calls, one [`LogRecord::Input`] per [`Scheduler::apply`] and one
//! [`LogRecord::Cycle`] per [`Scheduler::cycle`], with its `now` and the decisions it
//! reported (the changes: a wait is logged when it begins or its explanation changes). Replaying rebuilds the scheduler, applies every input and runs every cycle at its
//! `now`. The core is deterministic, so the replayed decisions equal the logged ones unless
//! the core changed, or the log did.
//!
//! Nothing here looks inside an input: whatever [`Input`] the core accepts can be logged and
//! replayed.
//!
//! A reader may take the logged decisions as some other type than [`Decision`] (a shell
//! reads them as JSON values, so a log written by another build still compares) and
//! compares them with the replayed decisions encoded the same way
//! ([`ReplayedCycle::first_difference`]).

use crate::decision::Decision;
use crate::error::{ConfigError, InputError};
use crate::ids::JobId;
use crate::input::Input;
use crate::model::Config;
use crate::placement::MixTracker;
use crate::policy::Policy;
use crate::scheduler::Scheduler;
use crate::units::Time;
use serde::{Deserialize, Serialize};

/// The version of the log format this core writes and reads: [`Start::version`].
pub const FORMAT_VERSION: u32 = 1;

/// The version of alloc-core built into this program: [`Start::core_version`].
pub const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One line of an inputs log, tagged by its `record` field, written first:
///
/// ```text
/// {"record":"start","version":1,"core_version":"0.1.0","mix_window":4096,"policy":{…},"config":{…}}
/// {"record":"input","input":{"job_submitted":{"id":1,…}}}
/// {"record":"cycle","now":0,"decisions":[{"admit":{"job":1,"placement":{…}}}]}
/// ```
///
/// `I` is the input and `L` the cycle's decisions: a shell writes [`Written`] records (they
/// borrow what they log) and reads [`Read`] ones; the fields of every type are written in
/// declaration order and maps in key order, so one run always gives the same bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum LogRecord<I = Input, L = Vec<Decision>> {
    /// The first record: how the scheduler was built.
    Start(Box<Start>),
    /// One input, as the shell applied it (refused or not).
    Input {
        /// The input.
        input: I,
    },
    /// One cycle: its time and the decisions it returned, in the order returned.
    Cycle {
        /// The time the cycle ran at.
        now: Time,
        /// The decisions it returned.
        decisions: L,
    },
}

/// A record as a shell writes it, borrowing the input or the decisions it logs.
pub type Written<'a> = LogRecord<&'a Input, &'a [Decision]>;

/// A record as read back, the logged decisions taken as `E` (a JSON value, say: [`Decision`]
/// cannot be deserialized).
pub type Read<E> = LogRecord<Input, Vec<E>>;

impl<'a> Written<'a> {
    /// The record of an input.
    pub fn input(input: &'a Input) -> Written<'a> {
        LogRecord::Input { input }
    }

    /// The record of a cycle at `now` that returned `decisions`.
    pub fn cycle(now: Time, decisions: &'a [Decision]) -> Written<'a> {
        LogRecord::Cycle { now, decisions }
    }
}

/// Everything [`Scheduler`] construction takes, and the versions that wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Start {
    /// The log format's version ([`FORMAT_VERSION`] when this core wrote it).
    pub version: u32,
    /// The alloc-core version that wrote the log. A replay by another version may decide
    /// otherwise, which is what replaying tells.
    pub core_version: String,
    /// [`Scheduler::with_mix_window`].
    pub mix_window: usize,
    /// The policy the scheduler ran.
    pub policy: Policy,
    /// The configuration it started with; later changes are inputs.
    pub config: Config,
}

impl Start {
    /// The start of a log by this core, for [`Scheduler::new`]`(config, policy)` with the
    /// default mix window.
    pub fn new(config: Config, policy: Policy) -> Start {
        Start {
            version: FORMAT_VERSION,
            core_version: CORE_VERSION.to_string(),
            mix_window: MixTracker::DEFAULT_WINDOW,
            policy,
            config,
        }
    }

    /// The same, for a scheduler built [`Scheduler::with_mix_window`]`(window)`.
    pub fn with_mix_window(mut self, window: usize) -> Start {
        self.mix_window = window;
        self
    }

    /// Builds the scheduler this record describes. A shell that logs builds its scheduler
    /// here, so that the log says exactly what it ran.
    pub fn scheduler(&self) -> Result<Scheduler, ConfigError> {
        Ok(Scheduler::new(self.config.clone(), self.policy.clone())?
            .with_mix_window(self.mix_window))
    }
}

/// A record the replay could not carry out: `record` counts from 0, the start record first.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("record {record}: {kind}")]
pub struct ReplayError {
    /// The record's position in the log.
    pub record: usize,
    /// What went wrong there.
    pub kind: ReplayErrorKind,
}

/// Why a replay stopped at a record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplayErrorKind {
    /// The log ended before its start record.
    #[error("the log has no start record")]
    Empty,
    /// The first record is not a start record.
    #[error("a log begins with its start record")]
    NoStart,
    /// A start record after the first record.
    #[error("a second start record: a log holds one run")]
    SecondStart,
    /// The log is in a format version this core does not read.
    #[error("log format version {found}; this core reads version {FORMAT_VERSION}")]
    Version {
        /// The start record's version.
        found: u32,
    },
    /// The start record's configuration no longer builds a scheduler.
    #[error("the start record's configuration is refused: {0}")]
    Config(ConfigError),
    /// The core refuses a logged input: the run stopped there too, or this core differs.
    #[error("the core refuses this input: {0}")]
    Refused(InputError),
}

/// How much a replay has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Every record, the start record included.
    pub records: u64,
    /// Input records applied.
    pub inputs: u64,
    /// Cycle records replayed.
    pub cycles: u64,
    /// Replayed decisions.
    pub decisions: u64,
}

/// One cycle replayed: where it was in the log, the logged decisions and the replayed ones.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayedCycle<L> {
    /// The cycle record's position in the log, from 0.
    pub record: usize,
    /// The time the cycle ran at.
    pub now: Time,
    /// The decisions the log says it returned.
    pub logged: L,
    /// The decisions this core returns for it.
    pub replayed: Vec<Decision>,
}

/// The first place where a replay decided otherwise than its log.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference<'a, E> {
    /// The cycle record's position in the log, from 0.
    pub record: usize,
    /// The time the cycle ran at.
    pub now: Time,
    /// The position of the first differing decision in its cycle, from 0.
    pub position: usize,
    /// The logged decision there; `None` when the log has fewer decisions.
    pub logged: Option<&'a E>,
    /// The replayed decision there; `None` when the replay made fewer.
    pub replayed: Option<&'a Decision>,
}

impl<E> Difference<'_, E> {
    /// The job the replayed decision is about, if the replay made one there.
    pub fn job(&self) -> Option<JobId> {
        self.replayed.map(Decision::job)
    }
}

impl<E: PartialEq> ReplayedCycle<Vec<E>> {
    /// The first decision where the replay differs from the log, the replayed ones encoded by
    /// `encode` as the logged ones were read.
    pub fn first_difference(
        &self,
        mut encode: impl FnMut(&Decision) -> E,
    ) -> Option<Difference<'_, E>> {
        let length = self.logged.len().max(self.replayed.len());
        (0..length).find_map(|position| {
            let logged = self.logged.get(position);
            let replayed = self.replayed.get(position);
            let same = match (logged, replayed) {
                (Some(logged), Some(replayed)) => *logged == encode(replayed),
                _ => false,
            };
            (!same).then_some(Difference {
                record: self.record,
                now: self.now,
                position,
                logged,
                replayed,
            })
        })
    }
}

/// The first difference over a whole replay ([`ReplayedCycle::first_difference`]).
pub fn first_difference<E: PartialEq>(
    cycles: &[ReplayedCycle<Vec<E>>],
    mut encode: impl FnMut(&Decision) -> E,
) -> Option<Difference<'_, E>> {
    cycles
        .iter()
        .find_map(|cycle| cycle.first_difference(&mut encode))
}

/// Replays a log, one record at a time (a shell streams a long log through it).
#[derive(Debug, Clone, Default)]
pub struct Replayer {
    scheduler: Option<Scheduler>,
    counts: Counts,
}

impl Replayer {
    /// A replayer waiting for a log's start record.
    pub fn new() -> Replayer {
        Replayer::default()
    }

    /// Replays the next record: builds the scheduler from the start record, applies an input,
    /// or runs a cycle and returns it beside what the log says it decided.
    pub fn step<L>(
        &mut self,
        record: LogRecord<Input, L>,
    ) -> Result<Option<ReplayedCycle<L>>, ReplayError> {
        let index = self.counts.records as usize;
        let fail = |kind| ReplayError {
            record: index,
            kind,
        };
        let cycle = match (record, &mut self.scheduler) {
            (LogRecord::Start(start), None) => {
                if start.version != FORMAT_VERSION {
                    return Err(fail(ReplayErrorKind::Version {
                        found: start.version,
                    }));
                }
                let scheduler = start
                    .scheduler()
                    .map_err(|error| fail(ReplayErrorKind::Config(error)))?;
                self.scheduler = Some(scheduler);
                None
            }
            (LogRecord::Start(_), Some(_)) => return Err(fail(ReplayErrorKind::SecondStart)),
            (_, None) => return Err(fail(ReplayErrorKind::NoStart)),
            (LogRecord::Input { input }, Some(scheduler)) => {
                scheduler
                    .apply(input)
                    .map_err(|error| fail(ReplayErrorKind::Refused(error)))?;
                self.counts.inputs += 1;
                None
            }
            (LogRecord::Cycle { now, decisions }, Some(scheduler)) => {
                let replayed = scheduler.cycle(now).changes;
                self.counts.cycles += 1;
                self.counts.decisions += replayed.len() as u64;
                Some(ReplayedCycle {
                    record: index,
                    now,
                    logged: decisions,
                    replayed,
                })
            }
        };
        self.counts.records += 1;
        Ok(cycle)
    }

    /// What was replayed so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The scheduler as the records so far left it; `None` before the start record.
    pub fn scheduler(&self) -> Option<&Scheduler> {
        self.scheduler.as_ref()
    }

    /// Ends the replay: an error if the log had no record at all.
    pub fn finish(self) -> Result<Counts, ReplayError> {
        match self.scheduler {
            Some(_) => Ok(self.counts),
            None => Err(ReplayError {
                record: 0,
                kind: ReplayErrorKind::Empty,
            }),
        }
    }
}

/// Replays a whole log: every cycle's replayed decisions beside the logged ones.
pub fn replay<L>(
    records: impl IntoIterator<Item = LogRecord<Input, L>>,
) -> Result<Vec<ReplayedCycle<L>>, ReplayError> {
    let mut replayer = Replayer::new();
    let mut cycles = Vec::new();
    for record in records {
        cycles.extend(replayer.step(record)?);
    }
    replayer.finish()?;
    Ok(cycles)
}
