//! The errors alloc-core returns. Configuration errors name the object and field; input errors
//! name the job or node the shell sent.

use crate::ids::{JobId, NodeName};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `place` is a path such as `cluster_queues[team-a].flavors[gold]`.
    #[error("{place}: {field}: {reason}")]
    Invalid {
        place: String,
        field: String,
        reason: String,
    },
}

impl ConfigError {
    pub(crate) fn unknown(place: String, field: &str, name: &impl std::fmt::Display) -> Self {
        ConfigError::Invalid {
            place,
            field: field.to_string(),
            reason: format!("no such object: {name}"),
        }
    }
}

/// An input the scheduler cannot apply. The state is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    #[error("{0} was already submitted")]
    DuplicateJob(JobId),
    #[error("{0} is not known to the scheduler")]
    UnknownJob(JobId),
    #[error("{0} is not running, so it cannot finish or be evicted")]
    NotRunning(JobId),
    #[error("{0} is running, so its progress is not the shell's to set until it stops")]
    NotPending(JobId),
    #[error(
        "{job} has no open lease {lease} to bill: its bill came in already, or it never burst"
    )]
    UnknownLease { job: JobId, lease: u32 },
    #[error("node {0} already exists")]
    DuplicateNode(NodeName),
    #[error("node {0} is not known to the scheduler")]
    UnknownNode(NodeName),
    #[error("node {node}: {reason}")]
    InvalidNode { node: NodeName, reason: String },
    #[error("{job} cannot be booked where the cluster runs it: {reason}")]
    InvalidPlacement { job: JobId, reason: String },
    #[error("{0} is not configured")]
    UnknownObject(crate::input::ConfigKey),
    #[error("{object} cannot be removed while {job} runs through it")]
    InUse {
        object: crate::input::ConfigKey,
        job: JobId,
    },
    #[error("{0}")]
    Config(#[from] ConfigError),
}
