//! `live-adapter`: the Kueue AdmissionCheck controller. Reads flags, builds the client, the
//! index and the core's owner, and runs the watches, the leader election and the HTTP
//! endpoints until stopped.

use anyhow::Context;
use clap::Parser;
use live_adapter::apply::Writer;
use live_adapter::http::{self, State};
use live_adapter::inputs_log::InputsLog;
use live_adapter::leader::{self, LeaseConfig};
use live_adapter::metrics::Metrics;
use live_adapter::telemetry::{self, LogFormat};
use live_adapter::{controller, Index, Owner, Platform};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Kueue AdmissionCheck controller: for every Workload whose ClusterQueue names an
/// AdmissionCheck with our controllerName, once Kueue has reserved quota on a flavor, asks
/// alloc-core where exactly it runs (Ready, with the node, GPUs and MPS share as pod set
/// updates), why not now (Retry, with requeueAfterSeconds) or why never (Rejected).
///
/// Exit codes: 0 stopped, 1 failed at run time, 2 bad flags or files.
#[derive(Debug, Parser)]
#[command(name = "live-adapter", version)]
struct Args {
    /// The platform file (YAML): GPU models, the private and public clusters with their
    /// offers, tenants and users, GFD product names, MPS replicas (see deploy/README.md).
    #[arg(long, value_name = "FILE")]
    platform: PathBuf,

    /// A kubeconfig to use instead of the in-cluster service account (or $KUBECONFIG).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,

    /// The AdmissionCheck `spec.controllerName` this controller decides.
    #[arg(
        long,
        default_value = "gpu-alloc.dev/admission-check",
        value_name = "NAME"
    )]
    controller_name: String,

    /// The field manager of our server-side apply writes.
    #[arg(long, default_value = "gpu-alloc-admission-check", value_name = "NAME")]
    field_manager: String,

    /// The scheduling policy: a preset name (default, tiered-burst, never-burst, …; see the
    /// sim's --policy) or a YAML file of alloc-core's Policy, as `sim policy SPEC -o FILE`
    /// writes it for any policy the sim runs. It always runs two-phase and without the core's
    /// own preemption: Kueue reserves and preempts.
    #[arg(long, default_value = "default", value_name = "NAME|FILE")]
    policy: String,

    /// Seconds a Retry asks Kueue to wait when the core names no time.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    requeue_after: u32,

    /// The Lease that elects the one replica that writes.
    #[arg(long, default_value = "gpu-alloc-admission-check", value_name = "NAME")]
    lease_name: String,

    /// The Lease's namespace (default: the pod's, from $POD_NAMESPACE, else kueue-system).
    #[arg(long, value_name = "NAMESPACE")]
    lease_namespace: Option<String>,

    /// Seconds a lease holds without renewal.
    #[arg(long, default_value_t = 15, value_name = "SECONDS")]
    lease_duration: u64,

    /// This replica's identity in the Lease (default: $POD_NAME, else the host name).
    #[arg(long, value_name = "NAME")]
    identity: Option<String>,

    /// Write status without leader election (one replica only).
    #[arg(long)]
    no_leader_election: bool,

    /// Where /metrics, /healthz and /readyz are served.
    #[arg(long, default_value = "0.0.0.0:8080", value_name = "ADDRESS")]
    metrics_address: SocketAddr,

    /// Write every input and decision as JSON lines in the sim's format, for
    /// `sim replay-inputs FILE`.
    #[arg(long, value_name = "FILE")]
    inputs_log: Option<PathBuf>,

    /// Log lines as text or JSON (filter with RUST_LOG).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

fn main() {
    let args = Args::parse();
    telemetry::init(args.log_format);
    let prepared = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(error) => {
            eprintln!("error: {error:#}");
            eprintln!("hint: live-adapter --help explains every flag");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            std::process::exit(1);
        }
    };
    if let Err(error) = runtime.block_on(run(args, prepared)) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

struct Prepared {
    platform: Platform,
    policy: alloc_core::Policy,
    log: Option<InputsLog>,
}

fn prepare(args: &Args) -> anyhow::Result<Prepared> {
    let platform = Platform::read(&args.platform)?;
    let policy = live_adapter::policy::read(&args.policy)?;
    let log = match &args.inputs_log {
        Some(path) => Some(InputsLog::create(path).with_context(|| path.display().to_string())?),
        None => None,
    };
    Ok(Prepared {
        platform,
        policy,
        log,
    })
}

async fn run(args: Args, prepared: Prepared) -> anyhow::Result<()> {
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .with_context(|| path.display().to_string())?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?
        }
        None => kube::Config::infer()
            .await
            .context("no kubeconfig and not in a cluster")?,
    };
    let client = kube::Client::try_from(config)?;
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = Arc::new(Metrics::register(&mut registry));
    let (ready_tx, ready_rx) = tokio::sync::watch::channel(false);
    let state = State {
        registry: Arc::new(registry),
        ready: ready_rx,
    };
    let address = args.metrics_address;
    tokio::spawn(async move {
        if let Err(error) = http::serve(address, state).await {
            tracing::error!(%error, %address, "cannot serve metrics");
        }
    });
    let (leading_tx, leading_rx) = tokio::sync::watch::channel(args.no_leader_election);
    // kept for the run: with election off nobody sends, and the loop must not see it closed
    let _unelected = if args.no_leader_election {
        metrics.leader.set(1);
        Some(leading_tx)
    } else {
        let namespace = args
            .lease_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "kueue-system".into());
        let identity = args
            .identity
            .clone()
            .or_else(|| std::env::var("POD_NAME").ok())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "live-adapter".into());
        let lease = LeaseConfig {
            name: args.lease_name.clone(),
            namespace,
            identity,
            duration: Duration::from_secs(args.lease_duration.max(3)),
        };
        tokio::spawn(leader::run(client.clone(), lease, leading_tx));
        None
    };
    let index = Index::new(prepared.platform, args.controller_name.clone());
    let owner = Owner::new(index, prepared.policy, prepared.log, args.requeue_after);
    let writer = Writer::new(client.clone(), args.field_manager.clone());
    tracing::info!(controller = %args.controller_name, field_manager = %args.field_manager, "watching");
    controller::run(
        owner,
        controller::events(&client),
        writer,
        metrics,
        leading_rx,
        ready_tx,
    )
    .await;
    Ok(())
}
