//! The crate's one error type. Every error says where: the file and line, the object (kind and
//! name) when it is known, and the field path inside it; what is wrong is a typed [`Reason`].

use crate::quantity::QuantityError;
use alloc_core::Resource;
use std::fmt;
use std::path::{Path, PathBuf};

/// Kueue objects that could not be read or have no meaning in alloc-core's model.
///
/// Displayed as `path:line: Kind/name: field: reason`, for example
/// `department-queues.yaml:44: ClusterQueue/lab-a:
/// spec.resourceGroups[0].flavors[0].resources[1].nominalQuota: "16GB" is not a Kubernetes
/// quantity: unknown suffix (...)`. The object is left out when the document could not be told
/// apart into objects (YAML syntax, an item with no `kind`). Boxed, so that a `Result` stays
/// small on the paths that succeed. The reason is part of the message, so it is not also
/// given as the error's source.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KueueError(Box<Details>);

#[derive(Debug)]
struct Details {
    path: PathBuf,
    line: u64,
    object: Option<ObjectRef>,
    field: String,
    reason: Reason,
}

impl KueueError {
    pub(crate) fn new(
        path: &Path,
        line: u64,
        object: Option<ObjectRef>,
        field: String,
        reason: Reason,
    ) -> Self {
        KueueError(Box::new(Details {
            path: path.to_path_buf(),
            line,
            object,
            field,
            reason,
        }))
    }

    /// The file the objects were read from (for objects pasted into a scenario, the scenario).
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// 1-based line of the file the field is on (or the deepest part of its path that was
    /// found in block-style YAML).
    pub fn line(&self) -> u64 {
        self.0.line
    }

    /// The object the field belongs to, when the document could be told apart into objects.
    pub fn object(&self) -> Option<&ObjectRef> {
        self.0.object.as_ref()
    }

    /// The field path inside the object, as `spec.resourceGroups[0].flavors[1].name`; `kind`
    /// or `apiVersion` for an object we do not read, `(document)` for YAML that does not
    /// parse, `(top level)` for the object as a whole.
    pub fn field(&self) -> &str {
        &self.0.field
    }

    /// What is wrong.
    pub fn reason(&self) -> &Reason {
        &self.0.reason
    }
}

impl fmt::Display for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path.display(), self.line)?;
        if let Some(object) = &self.object {
            write!(f, "{object}: ")?;
        }
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// An object named as `Kind/name`, as kubectl names objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// `None` when the object has no `kind`.
    pub kind: Option<String>,
    /// `None` when the object has no `metadata.name`.
    pub name: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind.as_deref().unwrap_or("(no kind)");
        let name = self.name.as_deref().unwrap_or("(unnamed)");
        write!(f, "{kind}/{name}")
    }
}

/// Which object of a file: its document (1-based, among the non-empty ones) and, for a list,
/// its item (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub document: usize,
    pub item: Option<usize>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.item {
            Some(item) => write!(f, "document {}, item {item}", self.document),
            None => write!(f, "document {}", self.document),
        }
    }
}

/// The kinds [`crate::parse`] reads, for [`Reason::UnsupportedKind`].
pub(crate) const SUPPORTED: &str =
    "ResourceFlavor, ClusterQueue, Cohort, LocalQueue (and Namespace, skipped)";

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// The YAML reader refused the text: a syntax error, an unknown field, a wrong type. Its
    /// own words, without the position (the error has the line).
    #[error("{0}")]
    Yaml(String),
    /// A document or list item that is not a Kubernetes object.
    #[error("{0}: not a Kubernetes object (no `kind`)")]
    NotAnObject(Place),
    /// A kind other than those read.
    #[error("{place}: kind {kind} is not supported in scenarios; supported: {SUPPORTED}")]
    UnsupportedKind { place: Place, kind: String },
    /// An apiVersion other than `kueue.x-k8s.io/v1beta2` or `v1beta1`.
    #[error(
        "{place}: apiVersion {} is not one of {}",
        found.as_deref().unwrap_or("(missing)"),
        crate::read::API_VERSIONS.join(", ")
    )]
    UnsupportedApiVersion { place: Place, found: Option<String> },
    /// A quantity that does not parse or does not fit.
    #[error(transparent)]
    Quantity(#[from] QuantityError),
    /// A Kueue feature that alloc-core does not model, set to something that would matter.
    #[error("not supported: {0}")]
    Unsupported(&'static str),
    /// Two objects of one kind with one name.
    #[error("{kind} {name} is defined twice")]
    DefinedTwice { kind: &'static str, name: String },
    /// Two LocalQueues with one name; queues are named without their namespace.
    #[error("{}", local_queue_twice(name, earlier, namespace))]
    LocalQueueDefinedTwice {
        name: String,
        earlier: String,
        namespace: String,
    },
    /// A LocalQueue without `spec`.
    #[error("a LocalQueue needs spec.clusterQueue")]
    MissingClusterQueue,
    /// A Cohort with a parent.
    #[error(
        "hierarchical cohorts are not supported: alloc-core models a cohort as a flat set of \
         ClusterQueues"
    )]
    HierarchicalCohort,
    /// A flavor listed twice in one ClusterQueue.
    #[error("flavor {0} is listed twice in this ClusterQueue")]
    FlavorListedTwice(String),
    /// A resource quota outside its resource group's `coveredResources`.
    #[error("resource {0} is not in this resource group's coveredResources")]
    NotCovered(String),
    /// `lendingLimit` above `nominalQuota`.
    #[error("lendingLimit must not exceed nominalQuota")]
    LendingAboveNominal,
    /// A borrowing or lending limit on a ClusterQueue without a cohort.
    #[error("needs the ClusterQueue in a cohort")]
    NeedsCohort,
    /// Two Kubernetes resources of one flavor that count as the same alloc-core resource.
    #[error(
        "a second {resource} resource in flavor {flavor}; alloc-core keeps one quota per resource"
    )]
    ResourceTwice { resource: Resource, flavor: String },
    /// The other apiVersion's name for the cohort field.
    #[error("this apiVersion calls the field {0}")]
    CohortFieldName(&'static str),
    /// Quota of a resource alloc-core does not count.
    #[error(
        "resource {0} is not modelled; quotas are kept for nvidia.com/gpu (or any */gpu), cpu \
         and memory only, other resources must have zero quota"
    )]
    UnmodelledResource(String),
    /// A v1beta1 enum value in a v1beta2 object.
    #[error("{0} is v1beta1's name; v1beta2 calls it MayStopSearch")]
    RenamedInV1beta2(&'static str),
    /// `borrowWithinCohort` without `reclaimWithinCohort`, which Kueue refuses.
    #[error("needs reclaimWithinCohort other than Never (Kueue refuses this ClusterQueue)")]
    BorrowWithoutReclaim,
}

fn local_queue_twice(name: &str, earlier: &str, namespace: &str) -> String {
    if earlier == namespace {
        format!("LocalQueue {name} is defined twice in namespace {namespace}")
    } else {
        format!(
            "LocalQueue {name} is defined twice (namespaces {earlier} and {namespace}); \
             scenarios name queues without their namespace"
        )
    }
}

pub type Result<T, E = KueueError> = std::result::Result<T, E>;
