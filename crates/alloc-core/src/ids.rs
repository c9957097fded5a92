//! Identifiers. Names of configured objects are strings (they come from Kubernetes objects and
//! scenario files and appear in explanations); jobs are numbered. All are ordered, so maps keyed
//! by them iterate deterministically.
//!
//! A name's text is shared (`Arc<str>`): every job, placement and ledger entry carries names,
//! and cloning one is then a count increment instead of an allocation; equal names cloned from
//! one another also compare equal without reading their text.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

macro_rules! name_id {
    ($($(#[$meta:meta])* $name:ident;)*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                // `Arc`'s own equality reads the text even of one shared value (its pointer
                // shortcut needs a sized `T`), and names are compared on every hot path.
                Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
            }
        }

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                // as equality: by the text
                self.0.hash(state);
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                // Maps keyed by names mostly meet the very value they hold.
                if Arc::ptr_eq(&self.0, &other.0) {
                    std::cmp::Ordering::Equal
                } else {
                    self.0.cmp(&other.0)
                }
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl $name {
            pub fn new(name: impl Into<String>) -> Self {
                $name(Arc::from(name.into()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(name: &str) -> Self {
                $name(Arc::from(name))
            }
        }

        impl From<String> for $name {
            fn from(name: String) -> Self {
                $name(Arc::from(name))
            }
        }
    )*};
}

name_id! {
    /// A GPU model such as `V100` or `A100-80GB`.
    GpuModelName;
    /// A Kueue ResourceFlavor.
    FlavorName;
    /// A cluster: the private fleet or a public cloud region.
    ClusterName;
    /// A Kubernetes node.
    NodeName;
    /// A Kueue ClusterQueue.
    QueueName;
    /// A Kueue LocalQueue (namespaced in Kubernetes; `namespace/name` by convention here).
    LocalQueueName;
    /// A Kueue Cohort.
    CohortName;
    /// A tenant: a lab or group that owns a budget and a fair share.
    TenantName;
    /// A user inside a tenant.
    UserName;
}

/// A job's number, unique for the lifetime of a scheduler.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}", self.0)
    }
}
