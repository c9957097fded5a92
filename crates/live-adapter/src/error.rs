//! The crate's one error type: an object of the cluster (or the platform file) that cannot be
//! turned into the core's model, named by kind, name and field, as
//! `Workload team-a/train-7: metadata.annotations["gpu-alloc.dev/deadline"]: "tomorrow" is not
//! an RFC 3339 time`. Nothing a watch delivers panics: every bad field ends here.

use std::fmt;

/// An object that cannot be read into the core's model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{object}: {field}: {reason}")]
pub struct ObjectError {
    /// `Kind name` or `Kind namespace/name`.
    pub object: String,
    /// The field path inside the object.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ObjectError {
    /// An error about `field` of `object`.
    pub fn new(
        object: impl fmt::Display,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        ObjectError {
            object: object.to_string(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// An object's kind and name, as errors and logs name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectName {
    /// `Workload`, `Node`, `ClusterQueue`, ...
    pub kind: &'static str,
    /// `namespace/name` for namespaced kinds, `name` otherwise.
    pub name: String,
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}
