//! The fleet twin's description: GPU models, clusters and flavors, queues and quotas, tenants,
//! the nodes of the private fleet, and how often nodes fail. Read from a YAML fleet file.

mod file;
pub mod from_machines;
pub mod queues;
pub mod replay;

pub use file::{check_budgets, FailureModel, FleetFile, NodeGroup, StartLatency};
