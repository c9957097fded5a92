//! The scenario file: everything one experiment needs in one YAML document. Field docs here
//! are the descriptions in `scenarios/scenario.schema.json` (regenerate with `sim schema`).

use crate::fleet::FleetFile;
use crate::workload::generators::GeneratorSpec;
use alloc_core::{Tenant, Tier, User};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A scenario: fleet, queues, tenants, workload, policy, horizon and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Shown in outputs and reports; defaults to the file's name.
    #[serde(default)]
    pub name: Option<String>,
    /// One or two sentences: what the scenario stands for.
    #[serde(default)]
    pub description: Option<String>,
    /// Seed of every random stream (workload, failures); written into every output.
    #[serde(default = "one")]
    pub seed: u64,
    /// Stop after this many hours of simulated time; unfinished work is reported as such.
    #[serde(default)]
    pub horizon_hours: Option<f64>,
    /// Private clusters, nodes, GPU models, flavors, queues, quotas and public offers.
    // YAML writes an enum as a one-key map here (`fleet: {file: …}`), not as a `!tag`.
    #[serde(with = "serde_norway::with::singleton_map_recursive")]
    #[schemars(with = "FleetSource")]
    pub fleet: FleetSource,
    /// Replace the fleet's flavors and queues with Kueue objects pasted verbatim.
    #[serde(default)]
    pub kueue: Option<KueueQueues>,
    /// Replace the fleet's tenants (limits, fair-share weights, public budgets).
    #[serde(default)]
    pub tenants: Option<Vec<Tenant>>,
    /// Replace the fleet's users (limits).
    #[serde(default)]
    pub users: Option<Vec<User>>,
    /// Let every job run on a higher tier than it asked for, under every policy (for traces
    /// whose tiers mean little on this fleet).
    #[serde(default)]
    pub allow_tier_upgrade: bool,
    /// What is submitted: a generator or a trace.
    #[serde(with = "serde_norway::with::singleton_map_recursive")]
    #[schemars(with = "WorkloadSource")]
    pub workload: WorkloadSource,
    /// The policy `sim --scenario` runs: a baseline or preset name, optionally with overrides
    /// (`tiered-burst@keep-alive=10m`); see `sim compare --help`.
    #[serde(default = "default_policy")]
    pub policy: String,
    /// The policies `sim compare` runs when `--policies` is not given.
    #[serde(default)]
    pub compare: Option<Vec<String>>,
    /// Notebook session costs and the platform's keep-alive window.
    #[serde(default)]
    pub notebooks: NotebookSettings,
    /// How the twin samples and cycles.
    #[serde(default)]
    pub engine: EngineSettings,
    /// How showback (`costs.csv`, `summary.json`'s `showback`) prices private GPUs.
    #[serde(default)]
    pub showback: ShowbackSettings,
}

fn one() -> u64 {
    1
}

fn default_policy() -> String {
    "tiered-burst".into()
}

/// Where the fleet comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum FleetSource {
    /// A fleet file, relative to the scenario file (see scenarios/README.md).
    File(PathBuf),
    /// The fleet written out in place, in the fleet-file format.
    Inline(Box<FleetFile>),
    /// Built from a published machine list (`sim fleet`), relative to the scenario file.
    Machines {
        /// openb, pai2020, spot2026 or philly.
        format: String,
        path: PathBuf,
        /// `recorded` (default: every model at the reference speed, so a trace's jobs take
        /// their recorded durations) or `catalog` (each model's catalog speed: a what-if on
        /// other hardware).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        speeds: Option<String>,
        /// `auto` (default: one tier for every flavor when the trace's jobs all ask for one,
        /// else by generation), `generation`, `bronze`, `silver` or `gold`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tiers: Option<String>,
    },
}

/// Kueue ResourceFlavor, ClusterQueue, Cohort and LocalQueue objects (v1beta2 or v1beta1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KueueQueues {
    /// The objects as YAML text (several documents separated by `---`), or…
    #[serde(default)]
    pub objects: Option<String>,
    /// …a file holding them, relative to the scenario file.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// What Kueue's ResourceFlavor does not say: each flavor's tier, cluster and GPU model.
    pub flavors: BTreeMap<String, FlavorFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlavorFacts {
    pub tier: Tier,
    pub cluster: String,
    #[serde(default)]
    pub gpu_model: Option<String>,
}

/// What the scenario submits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum WorkloadSource {
    /// A generator and its parameters, e.g. `generate: {semester-peak: {weeks: 16}}`.
    Generate(GeneratorSpec),
    /// A recorded trace.
    Trace(TraceSource),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceSource {
    /// The trace file(s), relative to the scenario file.
    pub paths: Vec<PathBuf>,
    /// native (this project's CSV), alibaba-openb, philly, itp or chronus.
    #[serde(default = "native")]
    pub format: String,
    /// Submit every job to this LocalQueue (for traces whose queue names the fleet lacks).
    #[serde(default)]
    pub queue: Option<String>,
    /// Skip (and count) rows that cannot be read instead of stopping at the first.
    #[serde(default)]
    pub skip_bad_rows: bool,
    /// Keep only the first this many jobs (by submit time), for quicker runs.
    #[serde(default)]
    pub limit: Option<usize>,
}

fn native() -> String {
    "native".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NotebookSettings {
    /// How long the platform keeps an idle notebook's GPU share after a cell ends.
    pub keep_alive_minutes: f64,
    /// Starting a notebook's GPU container and CUDA context.
    pub cold_start_seconds: f64,
    /// Reloading a session's state onto a new GPU.
    pub restore_seconds: f64,
}

impl Default for NotebookSettings {
    fn default() -> Self {
        NotebookSettings {
            keep_alive_minutes: 0.0,
            cold_start_seconds: 20.0,
            restore_seconds: 15.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ShowbackSettings {
    /// The amortised cost of one private GPU-hour (purchase, power, cooling and operations
    /// spread over the GPUs' service life), in currency units; 0 (the default) shows private
    /// GPU-hours without a price.
    pub private_gpu_hour_price: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Seconds between scheduling cycles while jobs wait (cycles also run after every change).
    pub cycle_every_s: u64,
    /// Seconds between time-series samples.
    pub sample_every_s: u64,
    /// Minutes an idle rented public node is kept warm (and billed) before it is released,
    /// for every offer; by default each offer's own `scale_down_after`.
    pub public_scale_down_minutes: Option<f64>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            cycle_every_s: 300,
            sample_every_s: 300,
            public_scale_down_minutes: None,
        }
    }
}
