//! The errors alloc-core returns. Configuration errors name the object and field; input errors
//! name the job or node the shell sent.

use crate::ids::{JobId, NodeName};

/// A configuration the scheduler refuses, with where the mistake is: the shell reports it
/// against its own file or object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `place` is a path such as `cluster_queues[team-a].flavors[gold]`.
    #[error("{place}: {field}: {reason}")]
    Invalid {
        /// The object, as a path into the configuration.
        place: String,
        /// The field of that object.
        field: String,
        /// What is wrong with it.
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
    /// `JobSubmitted` for a job the scheduler already holds.
    #[error("{0} was already submitted")]
    DuplicateJob(JobId),
    /// The input names a job that is neither pending nor running.
    #[error("{0} is not known to the scheduler")]
    UnknownJob(JobId),
    /// `JobFinished` or `JobRequeued` for a job that is pending.
    #[error("{0} is not running, so it cannot finish or be evicted")]
    NotRunning(JobId),
    /// An input meant for a pending job (its progress, say) names a running one.
    #[error("{0} is running, so its progress is not the shell's to set until it stops")]
    NotPending(JobId),
    /// A bill for a lease that is not open.
    #[error(
        "{job} has no open lease {lease} to bill: its bill came in already, or it never burst"
    )]
    UnknownLease {
        /// The job the bill names.
        job: JobId,
        /// The lease number the bill names.
        lease: u32,
    },
    /// `NodeAdded` for a node the fleet already has.
    #[error("node {0} already exists")]
    DuplicateNode(NodeName),
    /// The input names a node the fleet does not have.
    #[error("node {0} is not known to the scheduler")]
    UnknownNode(NodeName),
    /// A node the configuration cannot hold: an unknown or public cluster, an unknown GPU
    /// model.
    #[error("node {node}: {reason}")]
    InvalidNode {
        /// The node.
        node: NodeName,
        /// What is wrong with it.
        reason: String,
    },
    /// `JobAdmitted` with a placement the scheduler cannot book.
    #[error("{job} cannot be booked where the cluster runs it: {reason}")]
    InvalidPlacement {
        /// The job.
        job: JobId,
        /// Why its placement cannot be booked.
        reason: String,
    },
    /// The input names a configuration object that does not exist.
    #[error("{0} is not configured")]
    UnknownObject(crate::input::ConfigKey),
    /// `ObjectRemoved` for an object a running job holds quota through.
    #[error("{object} cannot be removed while {job} runs through it")]
    InUse {
        /// The object.
        object: crate::input::ConfigKey,
        /// A running job that uses it.
        job: JobId,
    },
    /// A quota change or object upsert that would leave the configuration invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
}
