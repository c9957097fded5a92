//! The shell: seven watches (AdmissionChecks, Workloads, Nodes, ResourceFlavors, Cohorts,
//! ClusterQueues, LocalQueues) merged into one stream that a single loop owns, with the
//! [`Owner`] (index and core) inside it. After each event (or when the clock reaches the
//! core's next change) the loop carries out the owner's writes, if this replica leads;
//! gaining the lease makes it write everything the current decisions call for.

use crate::apply::Writer;
use crate::index::Event;
use crate::kueue::{setup_kind, AdmissionCheck, SetupKind, Workload};
use crate::labels::time_of;
use crate::metrics::Metrics;
use crate::reconcile::{rfc3339, Owner, Write};
use alloc_core::Time;
use futures::stream::{self, BoxStream, StreamExt};
use futures::FutureExt;
use k8s_openapi::api::core::v1::Node;
use kube::api::DynamicObject;
use kube::runtime::watcher::{self, watcher};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The most watch events one cycle takes.
pub const BATCH: usize = 256;

/// The most status writes in flight at once.
pub const WRITERS: usize = 16;

/// The controller's clock: milliseconds since the Unix epoch.
pub fn now() -> Time {
    time_of(jiff::Timestamp::now().as_millisecond())
}

/// Every watch, merged: each event tagged with its kind, watch errors passed on.
pub fn events(client: &Client) -> BoxStream<'static, Result<Event, watcher::Error>> {
    let config = watcher::Config::default;
    let mut streams: Vec<BoxStream<'static, Result<Event, watcher::Error>>> = vec![
        watcher(Api::<AdmissionCheck>::all(client.clone()), config())
            .default_backoff()
            .map(|e| e.map(Event::Check))
            .boxed(),
        watcher(Api::<Workload>::all(client.clone()), config())
            .default_backoff()
            .map(|e| e.map(|e| Event::Workload(Box::new(e))))
            .boxed(),
        watcher(Api::<Node>::all(client.clone()), config())
            .default_backoff()
            .map(|e| e.map(|e| Event::Node(Box::new(e))))
            .boxed(),
    ];
    for kind in SetupKind::ALL {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &setup_kind(kind));
        streams.push(
            watcher(api, config())
                .default_backoff()
                .map(move |e| e.map(|e| Event::Setup(kind, e)))
                .boxed(),
        );
    }
    stream::select_all(streams).boxed()
}

/// Runs the loop until the event stream ends or the process is told to stop.
pub async fn run(
    mut owner: Owner,
    mut events: BoxStream<'static, Result<Event, watcher::Error>>,
    writer: Writer,
    metrics: Arc<Metrics>,
    mut leading: watch::Receiver<bool>,
    ready: watch::Sender<bool>,
) {
    let mut next_change: Option<Time> = None;
    let mut shutdown = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let wait = next_change.map(|at| Duration::from_millis(at.0.saturating_sub(now().0)));
        let started = std::time::Instant::now();
        let step = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => {
                    // the events already waiting go in the same cycle
                    let mut batch = vec![event];
                    while batch.len() < BATCH {
                        match events.next().now_or_never() {
                            Some(Some(Ok(event))) => batch.push(event),
                            _ => break,
                        }
                    }
                    owner.handle_batch(batch, now())
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "watch failed; it retries with backoff");
                    metrics.error("watch");
                    continue;
                }
                None => return,
            },
            () = tokio::time::sleep(wait.unwrap_or(Duration::ZERO)), if wait.is_some() => owner.tick(now()),
            changed = leading.changed() => {
                if changed.is_err() {
                    return;
                }
                let leads = *leading.borrow_and_update();
                metrics.leader.set(i64::from(leads));
                if leads {
                    let writes = owner.all_writes(now());
                    carry_out(&writes, &writer, &metrics).await;
                }
                continue;
            }
            _ = &mut shutdown => {
                tracing::info!("stopping");
                return;
            }
        };
        if step.next_change.is_some() || !step.changes.is_empty() {
            next_change = step.next_change;
        }
        if let Some(stranded) = &step.stranded {
            for flavor in stranded {
                tracing::warn!(warning = %flavor, "configuration");
            }
            metrics.stranded(stranded);
        }
        for problem in &step.problems {
            tracing::warn!(problem = %problem, "cannot use");
            metrics.error(if problem.starts_with("the core refused") {
                "refused-input"
            } else {
                "object"
            });
        }
        if let Some(scheduler) = owner.scheduler() {
            ready.send_replace(true);
            metrics.decided(&step.changes);
            metrics.observe(scheduler);
        }
        for decision in &step.changes {
            let workload = owner.index().key_of(decision.job()).unwrap_or("?");
            tracing::debug!(
                workload,
                job = decision.job().0,
                kind = decision.code(),
                reason = crate::metrics::reason_code(decision),
                "{decision}"
            );
        }
        if let Some(error) = owner.log().and_then(|log| log.error()) {
            tracing::error!(%error, "the inputs log cannot be written");
        }
        if *leading.borrow() {
            carry_out(&step.writes, &writer, &metrics).await;
        }
        metrics.latency.observe(started.elapsed().as_secs_f64());
    }
}

async fn carry_out(writes: &[Write], writer: &Writer, metrics: &Metrics) {
    let stamp = rfc3339(now());
    // Each write is to a different object and the loop waits for all of them before the next
    // event, so they go in parallel: against a real apiserver one status patch takes tens of
    // milliseconds, and one at a time held 1,000 Ready entries to ~25 a second (42-58 now).
    stream::iter(writes)
        .for_each_concurrent(WRITERS, |write| {
            carry_out_one(write, writer, metrics, &stamp)
        })
        .await;
}

async fn carry_out_one(write: &Write, writer: &Writer, metrics: &Metrics, stamp: &str) {
    let (state, target) = match write {
        Write::Check {
            namespace,
            name,
            entry,
            reason,
        } => {
            tracing::info!(workload = %format!("{namespace}/{name}"), state = ?entry.state, reason = %reason, message = %entry.message, "check");
            (
                format!("{:?}", entry.state),
                format!("Workload {namespace}/{name}"),
            )
        }
        Write::Active { name } => ("Active".into(), format!("AdmissionCheck {name}")),
    };
    match writer.write(write, stamp).await {
        Ok(()) => {
            metrics
                .writes
                .get_or_create(&crate::metrics::State { state })
                .inc();
        }
        Err(error) => {
            tracing::warn!(%error, target = %target, "status write failed");
            metrics.error("write");
        }
    }
}
