//! `sim run`: replay a workload on a fleet and write every output file.

use crate::engine::{Engine, EngineOptions, RunOutput};
use crate::error::{Result, SimError};
use crate::record::{costs, jobs, summary, table, timeseries};
use crate::workload::Workload;
use alloc_core::burst::Term;
use alloc_core::{Config, Millis, NodeSpec, Policy, Time};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Everything one run needs, already validated.
pub struct RunPlan {
    pub config: Config,
    pub nodes: Vec<NodeSpec>,
    pub workload: Workload,
    pub policy_name: String,
    pub policy: Policy,
    pub options: EngineOptions,
    /// Input files, for the manifest.
    pub inputs: Vec<PathBuf>,
}

/// Runs the plan; `progress` receives (done, total) now and then.
pub fn simulate(
    mut plan: RunPlan,
    progress: impl FnMut(u64, u64),
) -> Result<(RunOutput, Value, Value)> {
    budget_term(&mut plan);
    let seed = plan.options.seed.0;
    let manifest = manifest(&plan)?;
    let config_warnings = config_warnings(&plan.config, &plan.nodes);
    let engine = Engine::new(
        plan.config,
        plan.policy,
        plan.nodes,
        plan.workload,
        plan.options,
    )?;
    let output = engine.run(progress)?;
    let mut summary = summary::summary(&plan.policy_name, seed, &output);
    // Only when there is one, so that a sound fleet's summary keeps its bytes.
    if !config_warnings.is_empty() {
        summary["config_warnings"] = json!(config_warnings);
    }
    Ok((output, summary, manifest))
}

/// A rescue policy without a term for its budgets gets the run's: from time 0 to the horizon,
/// or to the last arrival (a scenario's budgets are for its whole workload, as a lab's are for
/// its term). The manifest records the term used.
fn budget_term(plan: &mut RunPlan) {
    let Some(rescue) = plan
        .policy
        .burst
        .rescue
        .as_mut()
        .filter(|r| r.term.is_none())
    else {
        return;
    };
    let workload = &plan.workload;
    let last_arrival = workload
        .jobs
        .iter()
        .map(|job| job.submit_time)
        .chain(workload.sessions.iter().map(|session| session.opened))
        .max()
        .unwrap_or(Time(0));
    let end = plan.options.horizon.unwrap_or(last_arrival);
    rescue.term = Some(Term {
        start: Time(0),
        over: Millis(end.0.max(1)),
    });
}

/// Writes jobs, time series, summary, report and manifest into `dir` (created if needed).
pub fn write_outputs(
    dir: &Path,
    output: &RunOutput,
    summary: &Value,
    manifest: &Value,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| SimError::io(dir, e))?;
    jobs::table(&output.records).write_both(dir, "jobs")?;
    timeseries::table(&output.samples).write_both(dir, "timeseries")?;
    costs::table(&output.showback, output.private_gpu_hour_price).write_both(dir, "costs")?;
    table::write_json(&dir.join("summary.json"), summary)?;
    crate::report::write(
        &dir.join("report.html"),
        &crate::report::single(&crate::report::RunView::new(output, summary)),
    )?;
    table::write_json(&dir.join("manifest.json"), manifest)
}

fn manifest(plan: &RunPlan) -> Result<Value> {
    let mut inputs = Vec::new();
    for path in &plan.inputs {
        let bytes = std::fs::read(path).map_err(|e| SimError::io(path, e))?;
        inputs.push(json!({
            "path": path.display().to_string(),
            "bytes": bytes.len(),
            "fnv1a64": format!("{:016x}", crate::rng::fnv1a(&bytes)),
        }));
    }
    let mut manifest = json!({
        "tool": "sim",
        "version": env!("CARGO_PKG_VERSION"),
        "seed": plan.options.seed.0,
        "policy": plan.policy_name,
        "policy_parameters": serde_json::to_value(&plan.policy).unwrap_or(Value::Null),
        "inputs": inputs,
        "jobs": plan.workload.jobs.len(),
        "sessions": plan.workload.sessions.len(),
        "cells": plan.workload.job_count() - plan.workload.jobs.len(),
        "nodes": plan.nodes.len(),
        "cycle_period_ms": plan.options.cycle_period.map(|p| p.0),
        "sample_period_ms": plan.options.sample_period.0,
        "horizon_ms": plan.options.horizon.map(|h| h.0),
    });
    // Named only when on, so that a one-phase run's manifest is as it always was.
    if plan.options.two_phase {
        manifest["admission"] = json!("two-phase");
    }
    Ok(manifest)
}

/// One line for the terminal: the numbers a user looks at first.
pub fn headline(summary: &Value) -> String {
    let jobs = &summary["jobs"];
    format!(
        "{} jobs: {} finished, {} rejected, {} unfinished; wait p50 {} ms, p95 {} ms; deadline met {}; public cost {}",
        jobs["total"], jobs["finished"], jobs["rejected"], jobs["unfinished"],
        summary["wait_ms"]["p50"], summary["wait_ms"]["p95"], summary["deadline_met_ratio"], summary["public_cost"],
    )
}

/// What the fleet's configuration wastes before anything runs: GPUs of a private flavor that
/// no quota can admit ([`Config::stranded_gpus`]). Printed on standard error before a run,
/// and kept in `summary.json` (`config_warnings`) and the report.
pub fn config_warnings(config: &Config, nodes: &[NodeSpec]) -> Vec<String> {
    config
        .stranded_gpus(nodes)
        .iter()
        .map(|stranded| format!("warning: {stranded}"))
        .collect()
}

/// What a user must know before reading the numbers: a run a limit stopped, jobs given up as
/// stuck ([`crate::limits`]). Printed on standard error.
pub fn warnings(summary: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(stopped) = summary["stopped"].as_str() {
        lines.push(format!("warning: the run {stopped}"));
    }
    if let Some(stuck) = summary["jobs"]["stuck"].as_u64() {
        lines.push(format!(
            "warning: {stuck} job(s) stuck: interrupted {} times in a row without keeping any \
             work, so the twin stopped retrying them (jobs.csv: reject_reason)",
            crate::limits::MAX_FRUITLESS_ATTEMPTS
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc_core::testing::{ConfigBuilder, NodeBuilder};
    use alloc_core::{Quota, Tier};

    #[test]
    fn quota_below_the_gpus_is_warned_of_in_gpus() {
        let config = ConfigBuilder::new()
            .private_flavor("a30", Tier::Gold)
            .queue_in_cohort("lab-0", "c", &[("a30", Quota::nominal(5_000))])
            .queue_in_cohort("lab-1", "c", &[("a30", Quota::nominal(5_500))])
            .build();
        let nodes = [
            NodeBuilder::new("n1", "a30", 8).build(),
            NodeBuilder::new("n2", "a30", 8).build(),
        ];
        let lines = config_warnings(&config, &nodes);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with(
                "warning: flavor a30 has 16 GPUs but 10.5 GPUs of nominal quota over all \
                 ClusterQueues, so 5.5 GPU(s) can never be admitted"
            ),
            "{}",
            lines[0]
        );
        assert!(config_warnings(&config, &nodes[..1]).is_empty());
    }
}
