//! Workloads: jobs from a trace file or from a generator, and notebook sessions.

pub mod from_trace;
pub mod generators;
pub mod session;
pub mod synthetic;
pub mod upgrades;

pub use session::{Cell, Session, Workload};

/// The first job (batch job or notebook session) submitted to a LocalQueue `config` does
/// not define, with that queue's name: such a job could only be rejected, so a run refuses
/// it up front rather than reporting every job rejected.
pub fn unknown_queue(
    workload: &Workload,
    config: &alloc_core::Config,
) -> Option<(String, alloc_core::LocalQueueName)> {
    let known = |queue: &alloc_core::LocalQueueName| config.local_queues.contains_key(queue);
    if let Some(job) = workload.jobs.iter().find(|job| !known(&job.queue)) {
        return Some((job.id.to_string(), job.queue.clone()));
    }
    workload
        .sessions
        .iter()
        .enumerate()
        .find(|(_, session)| !known(&session.template.queue))
        .map(|(_, session)| {
            (
                format!("notebook session {}", session.id),
                session.template.queue.clone(),
            )
        })
}

/// The LocalQueues `config` defines, for messages.
pub fn known_queues(config: &alloc_core::Config) -> String {
    let names: Vec<String> = config.local_queues.keys().map(|q| q.to_string()).collect();
    match names.is_empty() {
        true => "none".into(),
        false => names.join(", "),
    }
}
