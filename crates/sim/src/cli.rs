//! The command line. Doc comments here are the `--help` text.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// A discrete-event twin of a private + public GPU fleet, scheduled by alloc-core.
///
/// Start with `sim --scenario semester-peak`: a 16-week university term on the bundled
/// department fleet under the default policy, written to out/semester-peak/ with a
/// self-contained report.html. `sim compare --scenario semester-peak` runs the six baselines
/// side by side. Scenario files are documented in scenarios/README.md.
///
/// `--inputs-log FILE` also writes the core's inputs and decisions as JSON lines, and
/// `sim replay-inputs FILE` replays such a log through the core to check its decisions.
/// `--two-phase` admits as a cluster does: Kueue reserves quota on a flavor, then the core
/// decides within it.
///
/// Exit codes: 0 success; 1 `sim replay-inputs` found a decision that differs; 2 bad input
/// (a file, row or argument; the message names it).
#[derive(Debug, Parser)]
#[command(
    name = "sim",
    version,
    about,
    propagate_version = true,
    args_conflicts_with_subcommands = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// `sim --scenario <name|path>`: run one scenario.
#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// Scenario to run: a name in scenarios/ (semester-peak, notebook-day, conference-deadline,
    /// openb-replay, philly-replay, itp-deadlines) or a path to a scenario YAML file.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Output directory [default: out/<scenario name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run under this policy instead of the scenario's (see `sim compare --help` for names).
    #[arg(long)]
    pub policy: Option<String>,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write the core's inputs and decisions to this file, one JSON record a line
    /// (a start record with the configuration and policy, then every input and every cycle's
    /// decisions as they happen); `sim replay-inputs FILE` replays it. Other outputs do not
    /// change.
    #[arg(long, value_name = "FILE")]
    pub inputs_log: Option<PathBuf>,
    /// Admit in two phases, as Kueue does with alloc-core as its AdmissionCheck: before each
    /// cycle Kueue's flavor assigner reserves quota for pending jobs on one flavor each (by
    /// quota alone, in Kueue's order, the first flavor in fungibility order with room), then
    /// the core decides each reserved job within that flavor; a job told to wait gives its
    /// reservation back (Kueue's Retry) and is reserved afresh at a later cycle. A job Kueue
    /// reserves nothing for is still decided by the core, as in one phase. Without the flag,
    /// the core picks the flavor itself (one phase). The manifest then says
    /// `"admission": "two-phase"`; with --inputs-log, the log holds the reservations
    /// (`quota_reserved` inputs).
    #[arg(long)]
    pub two_phase: bool,
    /// Also write the run's metrics to this file as Prometheus would have scraped them from
    /// the live controller, in OpenMetrics text with timestamps (one sample per time-series
    /// sample): `gpu_alloc_decisions_total{kind,reason}`, `gpu_alloc_pending_jobs{queue,tier}`,
    /// `gpu_alloc_gpus_admitted{flavor}`, `gpu_alloc_public_spend{tenant}`. Load it with
    /// `promtool tsdb create-blocks-from openmetrics FILE DIR`. Other outputs do not change.
    #[arg(long, value_name = "FILE")]
    pub openmetrics: Option<PathBuf>,
    /// Unix time (seconds) that simulated time 0 is written as in --openmetrics [default: 0];
    /// pick one within your Prometheus retention to query the blocks there.
    #[arg(long, value_name = "UNIX_SECONDS", default_value_t = 0)]
    pub openmetrics_start: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scenario under several policies side by side (in parallel; results identical
    /// to running them one by one), print the comparison table and write report.html.
    Compare(CompareArgs),
    /// Write the JSON Schema of scenario files (scenarios/scenario.schema.json).
    Schema(SchemaArgs),
    /// Write the alloc-core policy a --policy name stands for (overrides included) as the YAML
    /// file the live controller's --policy FILE reads, so a policy measured here runs in a
    /// cluster unchanged; names on standard error what of it is the sim's alone (notebook
    /// holding, the queues' strategy, the budgets' term, which the sim sets to each run).
    Policy(PolicyArgs),
    /// Scale sweep: synthetic workloads of each size on a department fleet scaled with it (≈70%
    /// offered load), each in its own process; writes jobs, wall time, events/s and peak RSS
    /// per size to a CSV and a page plotting them against the targets, and prints the fitted
    /// growth exponent of wall time.
    Sweep(SweepArgs),
    /// One size of a sweep, measured in this process (used by `sim sweep`).
    #[command(hide = true)]
    SweepOne(SweepOneArgs),
    /// Replay a native trace on a fleet and write jobs, time series, summary, manifest and an
    /// HTML report.
    Run(RunArgs),
    /// Replay an inputs log through the core and check that it decides what the log says.
    ///
    /// The log is one JSON record a line, as `sim --scenario NAME --inputs-log FILE` or
    /// `sim run ... --inputs-log FILE` write it (the format the live controller is to write
    /// too, so that the two shells compare by replaying or diffing their logs): a start record with the configuration and policy, then every input the shell sent and
    /// every cycle with its time and decisions. The replay builds the scheduler from the start
    /// record, applies each input, runs each cycle at its time and compares the decisions,
    /// as JSON, with the logged ones.
    ///
    /// Prints one line on success: records, inputs, cycles, decisions and "identical".
    /// Otherwise it stops at the first decision that differs and prints its line in the log,
    /// the cycle's time, the job, the logged decision and the replayed one with its sentence.
    ///
    /// Exit codes: 0 identical; 1 a decision differs; 2 a line is not a record or the core
    /// refuses its input (the message names the file and line).
    ReplayInputs(ReplayInputsArgs),
    /// Convert a public trace to the native CSV format (see traces/README.md).
    Import(ImportArgs),
    /// Write a synthetic native trace (Poisson arrivals of a department's job mix).
    Generate(GenerateArgs),
    /// Build a fleet file from a published machine list.
    Fleet(FleetArgs),
    /// Replay a public trace on the fleet of its machine list (durations as recorded, tiers
    /// chosen for the trace, queues by --queues) and print recorded vs replayed waits
    /// (p50/p95/mean), GPU utilisation and GPU-hours; writes validate.html (with a CDF of
    /// waits) and validate.md to --out. Traces without start times print published figures
    /// (--published) beside the replay's, labelled as a different sample. Nothing is fitted.
    Validate(ValidateArgs),
    /// FGD's static packing experiment (ATC'23) on an openb node and pod list: pods inflated to
    /// `--tune` × GPU capacity, shuffled per seed, placed once each; prints the allocation ratio
    /// at 100% and 130% of arrived demand.
    Pack(PackArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Native trace CSV (traces/README.md documents the columns).
    #[arg(long)]
    pub trace: PathBuf,
    /// Fleet YAML: GPU models, clusters, flavors, queues, tenants, nodes.
    #[arg(long)]
    pub fleet: PathBuf,
    /// Output directory; created if missing, files in it are overwritten.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of every random stream (node failures, ...); written into every output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Policy: default (= tiered-burst), or any name `sim compare --help` lists (static-notebook,
    /// fifo, kueue-like, never-burst, always-burst, starburst-*, scored-*, …).
    #[arg(long, default_value = "default")]
    pub policy: String,
    /// Skip (and count) trace rows that cannot be read instead of stopping at the first.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Submit every job to this LocalQueue, for traces whose queue names the fleet does not
    /// define (tenants stay as in the trace).
    #[arg(long)]
    pub queue: Option<String>,
    /// Which jobs may run on a higher tier than they ask for: `auto` (jobs whose tier no
    /// flavor of the fleet has, which would otherwise all be rejected; their count is
    /// printed), `never`, or `always` (every job).
    #[arg(long, default_value = "auto")]
    pub tier_upgrades: String,
    /// Slowdown per extra job sharing a GPU (MPS), in thousandths. 0 by default: a recorded
    /// trace's durations already include the sharing the cluster had. 150 is the twin's
    /// model for synthetic work.
    #[arg(long, default_value_t = 0)]
    pub mps_interference_permille: u32,
    /// Stop the simulation after this many hours of simulated time (positive; at most 10
    /// years). Without it a run ends when its work is done, or at the 20-year limit.
    #[arg(long, allow_negative_numbers = true)]
    pub horizon_hours: Option<f64>,
    /// Seconds between time-series samples (at least 1).
    #[arg(long, default_value_t = 300)]
    pub sample_every_s: u64,
    /// Seconds between scheduling cycles while jobs wait (cycles also run after every change;
    /// 0 = only after changes).
    #[arg(long, default_value_t = 300)]
    pub cycle_every_s: u64,
    /// Also write the core's inputs and decisions to this file, one JSON record a line
    /// (a start record with the configuration and policy, then every input and every cycle's
    /// decisions as they happen); `sim replay-inputs FILE` replays it. Other outputs do not
    /// change.
    #[arg(long, value_name = "FILE")]
    pub inputs_log: Option<PathBuf>,
    /// Admit in two phases, as Kueue does with alloc-core as its AdmissionCheck: before each
    /// cycle Kueue's flavor assigner reserves quota for pending jobs on one flavor each (by
    /// quota alone, in Kueue's order, the first flavor in fungibility order with room), then
    /// the core decides each reserved job within that flavor; a job told to wait gives its
    /// reservation back (Kueue's Retry) and is reserved afresh at a later cycle. A job Kueue
    /// reserves nothing for is still decided by the core, as in one phase. Without the flag,
    /// the core picks the flavor itself (one phase). The manifest then says
    /// `"admission": "two-phase"`; with --inputs-log, the log holds the reservations
    /// (`quota_reserved` inputs).
    #[arg(long)]
    pub two_phase: bool,
    /// Also write the run's metrics to this file in OpenMetrics text, with the live
    /// controller's names and labels (as `sim --scenario … --openmetrics`). Other outputs do
    /// not change.
    #[arg(long, value_name = "FILE")]
    pub openmetrics: Option<PathBuf>,
    /// Unix time (seconds) that simulated time 0 is written as in --openmetrics [default: 0].
    #[arg(long, value_name = "UNIX_SECONDS", default_value_t = 0)]
    pub openmetrics_start: u64,
}

#[derive(Debug, Args)]
pub struct ReplayInputsArgs {
    /// The inputs log to replay.
    #[arg(value_name = "FILE")]
    pub log: PathBuf,
    /// Print every replayed decision as a sentence, after its cycle's time
    /// (`t=3600000ms job 7: admitted: ...`), replaying to the end; the check's summary or
    /// first difference then goes to standard error.
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Source format: alibaba-openb, philly, itp or chronus.
    #[arg(long)]
    pub format: String,
    /// Input files of that format.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Native CSV to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Skip (and count) rows that cannot be read instead of stopping at the first.
    #[arg(long)]
    pub skip_bad_rows: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of jobs.
    #[arg(long, default_value_t = 500)]
    pub jobs: usize,
    /// Mean seconds between arrivals.
    #[arg(long, default_value_t = 90)]
    pub interarrival_s: u64,
    /// Number of tenants (lab-0 … lab-N-1, each submitting to LocalQueue lab-i).
    #[arg(long, default_value_t = 3)]
    pub tenants: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Native CSV to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct FleetArgs {
    /// Machine list format: openb, pai2020, spot2026 or philly.
    #[arg(long)]
    pub from: String,
    /// The machine list file (in ../shared/traces).
    pub input: PathBuf,
    /// Fleet YAML to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// GPU speeds: `recorded` (every model at the reference speed, so a trace recorded on
    /// these machines keeps its durations) or `catalog` (each model's catalog speed relative
    /// to a V100: a what-if on other hardware).
    #[arg(long, default_value = "recorded")]
    pub speeds: String,
    /// Flavor tiers: `auto` (one tier for every flavor when --trace's jobs all ask for that
    /// tier, so all are admissible without upgrades; else by generation), `generation`, or
    /// `bronze`/`silver`/`gold` for all. The tier each machine group got is printed.
    #[arg(long, default_value = "auto")]
    pub tiers: String,
    /// The native trace (from `sim import`) to be replayed on this fleet, for `--tiers auto`
    /// and `--queues per-vc`.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    #[command(flatten)]
    pub queues: QueueArgs,
    /// Also write the fleet's flavors and queues as Kueue objects (v1beta2) to this file, for
    /// a user to edit.
    #[arg(long, value_name = "FILE")]
    pub kueue_out: Option<PathBuf>,
}

/// How a fleet built for a trace gets its queues (`sim fleet`, `sim validate`).
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// Queues: `one` (ClusterQueue `default` with the whole fleet) or `per-vc` (one
    /// ClusterQueue and LocalQueue per `queue` of the trace — Philly's virtual clusters, ITP's
    /// clusters — in cohort `trace`, each with --quota-rule's share; borrowing by
    /// --borrowing-limit).
    #[arg(long, default_value = "one")]
    pub queues: String,
    /// With `--queues per-vc`: each VC's share of every flavor is `gpu-time` (its share of the
    /// trace's GPU-time) or `p95-demand` (its 95th-percentile concurrent GPU demand, over the
    /// sum of those). Documented in traces/README.md.
    #[arg(long, default_value = "gpu-time")]
    pub quota_rule: String,
    /// With `--queues per-vc`: how much each VC may borrow from the cohort beyond its own
    /// quota, `none` (no limit: anything the others leave idle) or a percentage of its own
    /// nominal quota such as `50%` (Kueue's borrowingLimit; `0%` forbids borrowing).
    #[arg(long, default_value = "none")]
    pub borrowing_limit: String,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Trace format: alibaba-openb, philly, itp or chronus.
    #[arg(long)]
    pub format: String,
    /// The trace's files.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Machine list format (openb, pai2020, spot2026, philly).
    #[arg(long)]
    pub machines: String,
    /// The machine list file.
    #[arg(long)]
    pub machine_list: PathBuf,
    #[command(flatten)]
    pub queues: QueueArgs,
    /// Policy, as for `sim run`.
    #[arg(long, default_value = "kueue-like")]
    pub policy: String,
    /// Seconds between scheduling cycles while jobs wait (0 = only after changes).
    #[arg(long, default_value_t = 0)]
    pub cycle_every_s: u64,
    /// Published summary (AcmeTrace `cluster_summary.csv`) and its row, e.g.
    /// `../shared/traces/acme-summary/cluster_summary.csv:Philly`.
    #[arg(long, value_name = "FILE:ROW")]
    pub published: Option<String>,
    /// Output directory for validate.md and validate.html.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct PackArgs {
    /// Node list, e.g. ../shared/traces/alibaba-openb/openb_node_list_gpu_node.csv.
    #[arg(long)]
    pub nodes: PathBuf,
    /// Pod list, e.g. ../shared/traces/alibaba-openb/openb_pod_list_default.csv.
    #[arg(long)]
    pub pods: PathBuf,
    /// Packing policy: bestfit, worstfit, fgd, fgd-pack.
    #[arg(long, default_value = "fgd")]
    pub policy: String,
    /// Inflate arrived GPU demand up to this multiple of cluster GPU capacity, in (0, 10].
    #[arg(long, default_value_t = 1.3, allow_negative_numbers = true)]
    pub tune: f64,
    /// Seeds: "42..51" (inclusive), "42,43" or a mix.
    #[arg(long, default_value = "42")]
    pub seeds: String,
    /// Directory for allocation.csv, allocation_mean.csv and seeds.csv.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads across seeds (0 = all cores); results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Scenario: a name in scenarios/ or a path to a scenario YAML file.
    #[arg(long)]
    pub scenario: String,
    /// Comma-separated policies [default: the scenario's `compare` list, else the six
    /// baselines]. Baselines: static-notebook (Kueue-like, a whole GPU per open notebook),
    /// fifo (StrictFIFO, never burst), kueue-like (BestEffortFIFO, cohort borrowing, the
    /// queues' own preemption rules, never burst), never-burst, always-burst, tiered-burst (the
    /// default: scored order; bursts only burstable jobs with a flexible budget and data that
    /// may leave, within public quota and budget, after 30 min or sooner near a deadline, at
    /// once while a deadline job that may not burst waits for its flavors;
    /// preemption that loses at most 5 min of work, at most 3 times per job). Any alloc-core
    /// preset works too (starburst-gpus, scored-fair-share, …). Overrides after `@`:
    /// keep-alive=<duration> (notebook GPU kept after a cell), burst-after=<duration>,
    /// packing=best-fit|worst-fit|fgd|fgd-pack, max-loss=<duration>|none,
    /// max-evictions=<count>|none, min-run=<duration>, eviction-cost=grows|flat,
    /// protect-deadlines=on|off, backfill=off|on|<reservations per flavor> (reservations for
    /// large jobs), backfill-min-gpus=<count>, warm-pool=auto|<count> (notebook slices started
    /// ahead of demand, per-cell policies only), order=balanced|deadline-first|fair-share|
    /// fifo-aging (the score's weights), priority-weight, aging-weight, deadline-weight,
    /// fair-share-weight, budget-weight=<number ≥ 0> (one weight of the score, on top of the
    /// policy's or `order`'s; from `balanced` under a priority order), rescue=on|off,
    /// reserve=<%>, rescue-cap=<%>, queue-ahead=on|off, term=<duration>, pace=off|<%>,
    /// displace=on|off (the rescue rule, scenarios/README.md), e.g.
    /// tiered-burst@keep-alive=10m. A comma-separated `key=value`
    /// without `@` adds an override to the policy before it:
    /// tiered-burst@keep-alive=5m,warm-pool=auto.
    #[arg(long, value_delimiter = ',')]
    pub policies: Vec<String>,
    /// Output directory [default: out/<scenario name>-compare]: one folder per policy plus
    /// compare.csv, compare.parquet and report.html.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Runs at once (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Where to write it; standard output when absent.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// A policy as --policy takes it, e.g. 'tiered-burst@backfill=2,backfill-min-gpus=5'.
    pub policy: String,
    /// Where to write it; standard output when absent.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Comma-separated job counts.
    #[arg(long, default_value = "10000,100000,1000000")]
    pub jobs: String,
    /// CSV to write (one row per size); an HTML page plotting the rows against the targets is
    /// written beside it (`sweep.csv` → `sweep.html`).
    #[arg(long)]
    pub out: PathBuf,
    /// The fleet one copy of which serves 2,000 jobs [default: scenarios/fleets/department.yaml].
    #[arg(long)]
    pub fleet: Option<PathBuf>,
    /// Policy to measure, with `@` overrides as for `sim run` (e.g. `default@packing=best-fit`);
    /// tier upgrades are always allowed so the whole fleet serves the mix.
    #[arg(long, default_value = "default")]
    pub policy: String,
}

#[derive(Debug, Args)]
pub struct SweepOneArgs {
    #[arg(long)]
    pub jobs: usize,
    #[arg(long)]
    pub fleet: PathBuf,
    #[arg(long, default_value = "default")]
    pub policy: String,
}
