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

/// How a notebook cell gets its GPU: the keep-alive window, the warm pool and the cold-start
/// model (scenarios/README.md, "Notebook sessions", gives the figures' sources).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NotebookSettings {
    /// How long the platform keeps an idle notebook's GPU share after a cell ends.
    pub keep_alive_minutes: f64,
    /// Per-cell policies: a session's first GPU lease starts when the notebook opens (as its
    /// kernel does) and is kept `keep_alive_minutes` once ready, instead of when its first
    /// cell runs.
    pub lease_on_open: bool,
    /// Pre-started GPU slices each class of sessions keeps (per-cell policies only): `auto`
    /// (sized from the recent demand rate), or a count (0: no pool).
    pub warm_pool: WarmPoolSetting,
    /// `auto`: the share of lease demands that should find a slice ready (0 < q < 1).
    pub warm_pool_quantile: f64,
    /// `auto`: no pool while a slice would wait longer than this on average for a cell.
    pub warm_pool_max_idle_minutes: f64,
    /// `auto`: the trailing window lease demands are counted in to estimate their rate.
    pub warm_pool_window_minutes: f64,
    /// Starting a lease's container, its image already on the node.
    pub container_start_seconds: f64,
    /// Creating the CUDA context and loading the framework's GPU kernels.
    pub cuda_context_seconds: f64,
    /// The restore's fixed part: starting the kernel and deserialising its variables.
    pub restore_fixed_seconds: f64,
    /// A session's state in the checkpoint store, in GiB.
    pub session_state_gib: f64,
    /// The checkpoint store's read bandwidth for one session, in GiB per second.
    pub restore_gib_per_second: f64,
    /// Replaces container start + CUDA context with this total, when set.
    pub cold_start_seconds: Option<f64>,
    /// Replaces the restore model (fixed + state ÷ bandwidth) with this total, when set.
    pub restore_seconds: Option<f64>,
}

impl Default for NotebookSettings {
    fn default() -> Self {
        let model = alloc_core::ColdStart::default();
        let rule = alloc_core::WarmPoolRule::default();
        let seconds = |m: alloc_core::Millis| m.0 as f64 / 1000.0;
        NotebookSettings {
            // Measured on notebook-day and semester-peak (scenarios/README.md, "Notebook
            // sessions"): these meet cell latency p95 ≤ 10 s with idle GPU time well under
            // 40% of a whole GPU per session.
            keep_alive_minutes: 15.0,
            lease_on_open: true,
            warm_pool: WarmPoolSetting::Word("auto".to_string()),
            warm_pool_quantile: f64::from(rule.quantile_permille) / 1000.0,
            warm_pool_max_idle_minutes: rule.max_idle.0 as f64 / 60_000.0,
            warm_pool_window_minutes: rule.window.0 as f64 / 60_000.0,
            container_start_seconds: seconds(model.container),
            cuda_context_seconds: seconds(model.cuda_context),
            restore_fixed_seconds: seconds(model.restore_fixed),
            session_state_gib: model.state_mib as f64 / 1024.0,
            restore_gib_per_second: model.restore_mib_per_s as f64 / 1024.0,
            cold_start_seconds: None,
            restore_seconds: None,
        }
    }
}

impl NotebookSettings {
    /// The cold-start model these settings describe. Values were checked when the file was
    /// read (`check::settings`), so conversions here only round.
    pub fn cold_start_model(&self) -> alloc_core::ColdStart {
        let ms = |s: f64| alloc_core::Millis(crate::limits::seconds(s).unwrap_or(0));
        alloc_core::ColdStart {
            container: ms(self.container_start_seconds),
            cuda_context: ms(self.cuda_context_seconds),
            restore_fixed: ms(self.restore_fixed_seconds),
            state_mib: (self.session_state_gib * 1024.0).round() as u64,
            restore_mib_per_s: (self.restore_gib_per_second * 1024.0).round().max(1.0) as u64,
        }
    }

    /// The warm pool's size setting; a word other than `auto` (refused when the file is
    /// checked) means no pool.
    pub fn warm_pool_size(&self) -> alloc_core::WarmPoolSize {
        match &self.warm_pool {
            WarmPoolSetting::Count(count) => alloc_core::WarmPoolSize::Fixed(*count),
            WarmPoolSetting::Word(word) if word == "auto" => alloc_core::WarmPoolSize::Auto,
            WarmPoolSetting::Word(_) => alloc_core::WarmPoolSize::Fixed(0),
        }
    }

    /// The `auto` sizing rule's parameters.
    pub fn warm_pool_rule(&self) -> alloc_core::WarmPoolRule {
        let ms = |m: f64| alloc_core::Millis(crate::limits::minutes(m).unwrap_or(0));
        alloc_core::WarmPoolRule {
            quantile_permille: (self.warm_pool_quantile * 1000.0).round() as u32,
            max_idle: ms(self.warm_pool_max_idle_minutes),
            window: ms(self.warm_pool_window_minutes),
        }
    }
}

/// `auto` or a count of slices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum WarmPoolSetting {
    Count(u32),
    /// `auto`; any other word is refused when the file is checked.
    Word(String),
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
