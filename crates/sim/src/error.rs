//! The one error type of the `sim` library. Every variant that comes from input names where the
//! input was (file, line, field) so a user can fix it without reading our code.

use std::path::PathBuf;

/// Errors the simulator reports. `main` prints them as `path:line: field: reason` plus a hint.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A row of an input file could not be understood.
    #[error("{path}:{line}: {field}: {reason}", path = path.display())]
    BadRow {
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        line: u64,
        field: String,
        reason: String,
    },
    /// A row of a machine list (`sim fleet`, a scenario's `fleet.machines`): every row must
    /// be usable, there is no skipping.
    #[error("{path}:{line}: {field}: {reason}", path = path.display())]
    BadMachine {
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        field: String,
        reason: String,
    },
    /// A line of an inputs log that is not a record, or whose record the core cannot replay.
    #[error("{path}:{line}: {reason}", path = path.display())]
    BadLog {
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        reason: String,
    },
    /// A whole file is unusable (missing header column, wrong shape).
    #[error("{path}: {reason}", path = path.display())]
    BadFile { path: PathBuf, reason: String },
    /// Reading or writing a file failed.
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Kueue objects (a scenario's `kueue:` block) could not be read or translated; the error
    /// names the file, line, object and field.
    #[error(transparent)]
    Kueue(#[from] kueue_model::KueueError),
    /// An input that reads well but cannot be meant (a job for a queue the fleet lacks, a
    /// machine of an unknown model): `place` names the file and what in it; the hint says
    /// what to do instead.
    #[error("{place}: {reason}")]
    Refused {
        place: String,
        reason: String,
        hint: &'static str,
    },
    /// A command-line value is not usable.
    #[error("{flag}: {reason}")]
    BadArgument { flag: String, reason: String },
    /// A bug of ours, not of the input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl SimError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SimError::Io {
            path: path.into(),
            source,
        }
    }

    /// A line of advice printed under the error, if there is one worth giving.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SimError::BadRow { path, .. } if is_yaml(path) => {
                Some("scenarios/README.md describes scenario and fleet files")
            }
            SimError::BadRow { .. } => {
                Some("fix the row, or pass --skip-bad-rows to count and skip such rows")
            }
            SimError::BadMachine { .. } => Some(
                "fix the row: the machine lists `sim fleet` reads and what it assumes are in \
                 crates/sim/src/fleet/from_machines.rs",
            ),
            SimError::BadLog { .. } => Some(
                "an inputs log holds one JSON record a line, as `--inputs-log` writes them \
                 (README.md, \"Inputs logs\")",
            ),
            SimError::BadFile { path, .. } if is_yaml(path) => {
                Some("scenarios/README.md describes scenario and fleet files")
            }
            SimError::BadFile { .. } => Some("see traces/README.md for the expected columns"),
            SimError::Kueue(_) => Some("scenarios/README.md describes scenario and fleet files"),
            SimError::Refused { hint, .. } => Some(hint),
            SimError::Io { .. } => Some(
                "check that the path exists and is readable (or, for outputs, that its folder \
                 can be written)",
            ),
            SimError::BadArgument { .. } => Some("run with --help for the accepted values"),
            SimError::Internal(_) => {
                Some("this is a bug in sim; please report it with the command you ran")
            }
        }
    }
}

fn is_yaml(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

pub type Result<T, E = SimError> = std::result::Result<T, E>;
