//! Scenarios: one YAML file names the fleet, the queues, the tenants, the workload, the policy,
//! the horizon and the seed ([`file::ScenarioFile`]; documented in `scenarios/README.md`). A
//! [`Scenario`] is a loaded file with its workload built once; [`Scenario::plan`] turns it
//! into a run under any [`baseline::Baseline`], so every policy of a comparison sees the same
//! jobs.

pub mod baseline;
mod check;
pub mod file;
pub mod policy_file;
mod queues;

use crate::engine::{EngineOptions, NotebookOptions};
use crate::error::{Result, SimError};
use crate::fleet::FleetFile;
use crate::rng::Seed;
use crate::run::RunPlan;
use crate::workload::{from_trace, Workload};
use alloc_core::{LocalQueueName, Millis, Time};
use baseline::Baseline;
use file::{FleetSource, ScenarioFile, WorkloadSource};
use std::path::{Path, PathBuf};

/// Where `sim --scenario <name>` looks for `<name>.yaml`, in order.
pub fn search_dirs() -> Vec<PathBuf> {
    vec![
        PathBuf::from("scenarios"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios"),
    ]
}

/// A scenario file, resolved: fleet loaded, queues and tenants applied, workload built.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub path: PathBuf,
    pub file: ScenarioFile,
    pub fleet: FleetFile,
    /// Where the fleet came from, for messages and the manifest.
    pub fleet_path: PathBuf,
    pub workload: Workload,
    /// Every file read, for the manifest.
    pub inputs: Vec<PathBuf>,
}

impl Scenario {
    /// Loads `name_or_path`: a path to a YAML file, or a name looked up in [`search_dirs`];
    /// `seed` overrides the file's.
    pub fn load(name_or_path: &str, seed: Option<u64>) -> Result<Scenario> {
        let path = locate(name_or_path)?;
        let text = std::fs::read_to_string(&path).map_err(|e| SimError::io(&path, e))?;
        let mut file: ScenarioFile = crate::yaml::parse(&path, &text)?;
        check::settings(&file, &path, &text)?;
        if let Some(seed) = seed {
            file.seed = seed;
        }
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut inputs = vec![path.clone()];
        let (mut fleet, fleet_path) = load_fleet(&file.fleet, &base, &path)?;
        if fleet_path != path {
            inputs.push(fleet_path.clone());
        }
        if let Some(kueue) = &file.kueue {
            if let Some(objects) = queues::apply(kueue, &mut fleet, &base, &path)? {
                inputs.push(objects);
            }
        }
        if let Some(tenants) = &file.tenants {
            fleet.tenants.clone_from(tenants);
        }
        if let Some(users) = &file.users {
            fleet.users.clone_from(users);
        }
        let workload = build_workload(&file, &base, &path, &mut inputs)?;
        if let FleetSource::Machines { tiers, .. } = &file.fleet {
            retier(&mut fleet, tiers.as_deref(), &workload, &path)?;
        }
        let name = file.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned())
        });
        let scenario = Scenario {
            name,
            path,
            file,
            fleet,
            fleet_path,
            workload,
            inputs,
        };
        // Fail on a bad fleet or policy now, not in the middle of a comparison.
        if let Some(kueue) = &scenario.file.kueue {
            queues::check_config(kueue, &scenario.fleet, &base, &scenario.path)?;
        }
        let (config, _) = scenario.fleet.resolve(&scenario.fleet_path)?;
        check::queues_exist(&scenario, &config, &text)?;
        baseline::baseline(&scenario.file.policy)?;
        Ok(scenario)
    }

    /// The policies `sim compare` runs by default: the file's list, else the six baselines.
    pub fn compare_policies(&self) -> Vec<String> {
        self.file.compare.clone().unwrap_or_else(|| {
            baseline::BASELINES
                .iter()
                .map(|s| (*s).to_string())
                .collect()
        })
    }

    /// One line for the terminal: what is about to be simulated, and under which policy.
    pub fn describe(&self, policy: &str) -> String {
        let nodes: u64 = self.fleet.nodes.iter().map(|g| u64::from(g.count)).sum();
        let gpus: u64 = self
            .fleet
            .nodes
            .iter()
            .map(|g| u64::from(g.count) * u64::from(g.gpus))
            .sum();
        let cells = self.workload.job_count() - self.workload.jobs.len();
        format!(
            "scenario {}: {} batch jobs, {} notebook sessions ({} cells) on {} nodes / {} GPUs; policy {}; seed {}",
            self.name,
            self.workload.jobs.len(),
            self.workload.sessions.len(),
            cells,
            nodes,
            gpus,
            policy,
            self.file.seed
        )
    }

    /// A run of this scenario under `baseline`.
    pub fn plan(&self, baseline: &Baseline) -> Result<RunPlan> {
        let mut fleet = self.fleet.clone();
        if let Some(strategy) = baseline.queueing {
            for queue in &mut fleet.cluster_queues {
                queue.strategy = strategy;
            }
        }
        let (config, nodes) = fleet.resolve(&self.fleet_path)?;
        let settings = &self.file;
        // Checked when the file was loaded (`check::settings`): never negative, NaN or huge.
        let minutes = |m: f64| Millis(crate::limits::minutes(m).unwrap_or(0));
        let seconds = |s: f64| Millis(crate::limits::seconds(s).unwrap_or(0));
        let model = settings.notebooks.cold_start_model();
        let notebooks = NotebookOptions {
            hold: baseline.notebook_hold,
            keep_alive: baseline
                .keep_alive
                .unwrap_or_else(|| minutes(settings.notebooks.keep_alive_minutes)),
            cold_start: settings
                .notebooks
                .cold_start_seconds
                .map_or(model.start(), seconds),
            restore: settings
                .notebooks
                .restore_seconds
                .map_or(model.restore(), seconds),
            lease_on_open: baseline
                .lease_on_open
                .unwrap_or(settings.notebooks.lease_on_open),
            warm_pool: baseline
                .warm_pool
                .unwrap_or_else(|| settings.notebooks.warm_pool_size()),
            pool_rule: settings.notebooks.warm_pool_rule(),
        };
        let engine = &settings.engine;
        let options = EngineOptions {
            seed: Seed(settings.seed),
            cycle_period: (engine.cycle_every_s > 0).then(|| Millis::seconds(engine.cycle_every_s)),
            sample_period: Millis::seconds(engine.sample_every_s.max(1)),
            horizon: settings
                .horizon_hours
                .map(|h| Time(crate::limits::hours(h).unwrap_or(0))),
            failures: fleet.failures,
            start_latency: fleet.start_latency,
            public_scale_down: engine.public_scale_down_minutes.map(minutes),
            notebooks,
            runtime: match settings.workload {
                // Recorded durations already include the sharing the cluster had.
                WorkloadSource::Trace(_) => crate::runtime_model::RuntimeModel::recorded(),
                WorkloadSource::Generate(_) => crate::runtime_model::RuntimeModel::default(),
            },
            private_gpu_hour_price: alloc_core::Money(
                (settings.showback.private_gpu_hour_price * 1e6).round() as i64,
            ),
            ..EngineOptions::default()
        };
        let mut policy = baseline.policy.clone();
        policy.allow_tier_upgrade |= settings.allow_tier_upgrade;
        Ok(RunPlan {
            config,
            nodes,
            workload: self.workload.clone(),
            policy_name: baseline.label.clone(),
            policy,
            options,
            inputs: self.inputs.clone(),
        })
    }
}

/// The JSON Schema of scenario files, as committed in `scenarios/scenario.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(ScenarioFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

fn locate(name_or_path: &str) -> Result<PathBuf> {
    let direct = PathBuf::from(name_or_path);
    if direct.is_file() {
        return Ok(direct);
    }
    for dir in search_dirs() {
        let candidate = dir.join(format!("{name_or_path}.yaml"));
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(SimError::BadArgument {
        flag: "--scenario".into(),
        reason: format!(
            "no scenario {name_or_path:?}: not a file, and not a name in scenarios/; known: {}",
            known_names().join(", ")
        ),
    })
}

/// Scenario names found in [`search_dirs`].
pub fn known_names() -> Vec<String> {
    let mut names = Vec::new();
    for dir in search_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "yaml") {
                if let Some(stem) = path.file_stem() {
                    names.push(stem.to_string_lossy().into_owned());
                }
            }
        }
        if !names.is_empty() {
            break;
        }
    }
    names.sort();
    names.dedup();
    names
}

fn load_fleet(source: &FleetSource, base: &Path, scenario: &Path) -> Result<(FleetFile, PathBuf)> {
    match source {
        FleetSource::File(path) => {
            let path = base.join(path);
            Ok((FleetFile::load(&path)?, path))
        }
        FleetSource::Inline(fleet) => Ok(((**fleet).clone(), scenario.to_path_buf())),
        FleetSource::Machines {
            format,
            path,
            speeds,
            ..
        } => {
            let bad = |field: &str, reason: String| SimError::BadFile {
                path: scenario.to_path_buf(),
                reason: format!("fleet.machines.{field}: {reason}"),
            };
            let format: crate::fleet::from_machines::MachineList =
                format.parse().map_err(|reason| bad("format", reason))?;
            let speeds = match speeds {
                Some(text) => text.parse().map_err(|reason| bad("speeds", reason))?,
                None => crate::fleet::replay::Speeds::Recorded,
            };
            let path = base.join(path);
            let options = crate::fleet::replay::BuildOptions {
                speeds,
                tiers: crate::fleet::replay::Tiers::Generation,
            };
            let built = crate::fleet::from_machines::build(format, &path, options)?;
            Ok((built.fleet, path))
        }
    }
}

/// Tiers of a fleet built from a machine list: as the scenario says, or (`auto`, the default)
/// flat when every job of the workload asks for one tier ([`crate::fleet::replay`]).
fn retier(
    fleet: &mut FleetFile,
    tiers: Option<&str>,
    workload: &Workload,
    scenario: &Path,
) -> Result<()> {
    use crate::fleet::replay::Tiers;
    let tiers = match tiers.unwrap_or("auto") {
        "auto" => Tiers::for_tiers(workload.jobs.iter().map(|job| job.min_tier)),
        text => text.parse().map_err(|reason: String| SimError::BadFile {
            path: scenario.to_path_buf(),
            reason: format!("fleet.machines.tiers: {reason} (or auto)"),
        })?,
    };
    tiers.apply(fleet);
    Ok(())
}

fn build_workload(
    file: &ScenarioFile,
    base: &Path,
    scenario: &Path,
    inputs: &mut Vec<PathBuf>,
) -> Result<Workload> {
    match &file.workload {
        WorkloadSource::Generate(spec) => {
            spec.generate(Seed(file.seed))
                .map_err(|reason| SimError::BadFile {
                    path: scenario.to_path_buf(),
                    reason: format!("workload.generate.{}: {reason}", spec.name()),
                })
        }
        WorkloadSource::Trace(trace) => {
            let paths: Vec<PathBuf> = trace.paths.iter().map(|p| base.join(p)).collect();
            let mut jobs = if trace.format == "native" {
                let mut jobs = Vec::new();
                for path in &paths {
                    jobs.extend(from_trace::read_jobs(path, trace.skip_bad_rows)?.jobs);
                }
                jobs
            } else {
                let format: crate::trace::Format =
                    trace
                        .format
                        .parse()
                        .map_err(|reason: String| SimError::BadFile {
                            path: scenario.to_path_buf(),
                            reason: format!("workload.trace.format: {reason}"),
                        })?;
                let report = crate::trace::import(format, &paths, trace.skip_bad_rows)?;
                from_trace::to_jobs(&report.jobs)
            };
            jobs.sort_by_key(|j| (j.submit_time, j.id));
            if let Some(limit) = trace.limit {
                jobs.truncate(limit);
            }
            if let Some(queue) = &trace.queue {
                for job in &mut jobs {
                    job.queue = LocalQueueName::new(queue.as_str());
                }
            }
            inputs.extend(paths);
            Ok(Workload::batch(jobs))
        }
    }
}
