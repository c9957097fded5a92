//! What the scheduler knows about the world: hardware, flavors, queues, people and jobs.
//! Plain data, serde-ready, so the sim reads it from scenario files and the live adapter builds it
//! from Kubernetes objects.

mod cluster;
mod config;
mod flavor;
mod gpu;
mod job;
mod node;
mod queue;
mod stranded;
mod tenant;

pub use cluster::{Cluster, ClusterKind, Offer};
pub use config::Config;
pub use flavor::{Flavor, Tier};
pub use gpu::GpuModel;
pub use job::{Budget, BudgetKind, DataClass, GpuRequest, Job};
pub use node::NodeSpec;
pub use queue::{
    BorrowWithinCohort, BorrowWithinCohortPolicy, ClusterQueue, Cohort, FlavorFungibility,
    FlavorQuotas, LocalQueue, QueuePreemption, QueueingStrategy, Quota, ReclaimWithinCohort,
    Resource, ResourceAmounts, WhenCanBorrow, WhenCanPreempt, WithinClusterQueue,
};
pub use stranded::StrandedGpus;
pub use tenant::{Tenant, User};
