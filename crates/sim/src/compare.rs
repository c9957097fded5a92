//! `sim compare`: one scenario under several policies, side by side. Runs go in parallel
//! across cores, each on its own thread with its own engine and seeded streams, and results
//! are kept in the order the policies were named — so the outputs are byte-identical to
//! running them one after another.

use crate::engine::RunOutput;
use crate::error::{Result, SimError};
use crate::record::summary::GPU_CLASSES;
use crate::record::table::{write_json, Table};
use crate::report::{self, RunView};
use crate::run::{simulate, write_outputs};
use crate::scenario::baseline::{baseline, Baseline};
use crate::scenario::Scenario;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// One finished run of a comparison.
pub struct Finished {
    pub baseline: Baseline,
    pub output: RunOutput,
    pub summary: Value,
    pub manifest: Value,
    pub wall_seconds: f64,
}

/// Runs `scenario` under each policy on up to `threads` threads (0 = every core);
/// `on_done` hears of each run as it ends (in completion order, for progress only).
pub fn run_all(
    scenario: &Scenario,
    policies: &[String],
    threads: usize,
    on_done: impl Fn(&Finished) + Sync,
) -> Result<Vec<Finished>> {
    let baselines = policies
        .iter()
        .map(|p| baseline(p))
        .collect::<Result<Vec<_>>>()?;
    let mut plans = Vec::with_capacity(baselines.len());
    for b in &baselines {
        plans.push(Mutex::new(Some(scenario.plan(b)?)));
    }
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(baselines.len())
    .max(1);
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Finished>>>> =
        baselines.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(slot) = plans.get(index) else {
                    break;
                };
                let Some(plan) = slot.lock().ok().and_then(|mut p| p.take()) else {
                    continue;
                };
                let started = Instant::now();
                let outcome =
                    simulate(plan, |_, _| {}).map(|(output, summary, manifest)| Finished {
                        baseline: baselines[index].clone(),
                        output,
                        summary,
                        manifest,
                        wall_seconds: started.elapsed().as_secs_f64(),
                    });
                if let Ok(finished) = &outcome {
                    on_done(finished);
                }
                if let Ok(mut result) = results[index].lock() {
                    *result = Some(outcome);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(SimError::Internal("a comparison run did not finish".into()))
            })
        })
        .collect()
}

/// A policy label as a directory name: kept readable, never a path.
pub fn directory_name(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes each run's outputs under `dir/<policy>/`, then `compare.csv`, `compare.parquet`
/// and `report.html` over all of them.
pub fn write_all(dir: &Path, scenario: &Scenario, runs: &[Finished]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| SimError::io(dir, e))?;
    let mut written = Vec::new();
    for run in runs {
        let sub = dir.join(directory_name(&run.baseline.label));
        write_outputs(&sub, &run.output, &run.summary, &run.manifest)?;
        written.push(sub);
    }
    let summaries: Vec<&Value> = runs.iter().map(|r| &r.summary).collect();
    table(&summaries).write_both(dir, "compare")?;
    let views: Vec<RunView> = runs
        .iter()
        .map(|r| RunView::new(&r.output, &r.summary))
        .collect();
    report::write(&dir.join("report.html"), &report::compare(&views))?;
    write_json(
        &dir.join("manifest.json"),
        &serde_json::json!({
            "tool": "sim compare",
            "version": env!("CARGO_PKG_VERSION"),
            "scenario": scenario.name,
            "seed": scenario.file.seed,
            "policies": runs.iter().map(|r| r.baseline.label.clone()).collect::<Vec<_>>(),
            "runs": written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        }),
    )?;
    Ok(written)
}

fn float(value: &Value) -> Option<f64> {
    value.as_f64()
}

fn int(value: &Value) -> Option<i64> {
    value.as_i64()
}

/// One row per run: the figures the comparison is about.
pub fn table(summaries: &[&Value]) -> Table {
    let text = |f: &dyn Fn(&Value) -> Option<String>| summaries.iter().map(|s| f(s)).collect();
    let ints = |f: &dyn Fn(&Value) -> Option<i64>| summaries.iter().map(|s| f(s)).collect();
    let floats = |f: &dyn Fn(&Value) -> Option<f64>| summaries.iter().map(|s| f(s)).collect();
    let table = Table::new()
        .text("policy", text(&|s| s["policy"].as_str().map(String::from)))
        .int("jobs", ints(&|s| int(&s["jobs"]["total"])))
        .int("finished", ints(&|s| int(&s["jobs"]["finished"])))
        .int("rejected", ints(&|s| int(&s["jobs"]["rejected"])))
        .int("unfinished", ints(&|s| int(&s["jobs"]["unfinished"])))
        .float(
            "deadline_met_ratio",
            floats(&|s| float(&s["deadline_met_ratio"])),
        )
        .float("public_cost", floats(&|s| float(&s["public_cost"])))
        .float(
            "public_gpu_hours",
            floats(&|s| float(&s["public_gpu_hours"])),
        )
        .int("wait_p50_ms", ints(&|s| int(&s["wait_ms"]["p50"])))
        .int("wait_p95_ms", ints(&|s| int(&s["wait_ms"]["p95"])))
        .int("jct_p50_ms", ints(&|s| int(&s["jct_ms"]["p50"])))
        .int(
            "cell_latency_p50_ms",
            ints(&|s| int(&s["notebook"]["cell_latency_ms"]["p50"])),
        )
        .int(
            "cell_latency_p95_ms",
            ints(&|s| int(&s["notebook"]["cell_latency_ms"]["p95"])),
        )
        .float(
            "notebook_idle_gpu_hours",
            floats(&|s| float(&s["notebook"]["idle_gpu_hours"])),
        )
        .float(
            "jain_fairness_tenants",
            floats(&|s| float(&s["jain_fairness_tenants"])),
        )
        .float(
            "utilisation_bronze",
            floats(&|s| float(&s["utilisation"]["per_tier"]["bronze"])),
        )
        .float(
            "utilisation_silver",
            floats(&|s| float(&s["utilisation"]["per_tier"]["silver"])),
        )
        .float(
            "utilisation_gold",
            floats(&|s| float(&s["utilisation"]["per_tier"]["gold"])),
        )
        .int("preemptions", ints(&|s| int(&s["preemptions"])))
        .int(
            "max_preemptions_per_job",
            ints(&|s| int(&s["max_preemptions_per_job"])),
        )
        .float("lost_gpu_hours", floats(&|s| float(&s["lost_gpu_hours"])));
    // Waits per GPU-count class, after the columns above so that those keep their places.
    let mut table = table;
    for class in GPU_CLASSES {
        let key = class.key;
        table = table
            .int(
                class.p50_column,
                ints(&|s| int(&s["wait_ms_by_gpus"][key]["p50"])),
            )
            .int(
                class.p95_column,
                ints(&|s| int(&s["wait_ms_by_gpus"][key]["p95"])),
            );
    }
    table
}

/// The comparison as a Markdown table, for the terminal and for notes.
pub fn markdown(runs: &[Finished]) -> String {
    let mut out = String::from(
        "| policy | deadline met | public cost | wait p50 | wait p95 | cell p50 | cell p95 | notebook idle GPU-h | preemptions (most of one job) | lost GPU-h | Jain (tenants) | finished | rejected |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for run in runs {
        let s = &run.summary;
        let ms = |v: &Value| v.as_u64().map_or("–".into(), crate::report::short_duration);
        let num =
            |v: &Value, digits: usize| v.as_f64().map_or("–".into(), |x| format!("{x:.digits$}"));
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} |\n",
            run.baseline.label,
            num(&s["deadline_met_ratio"], 3),
            num(&s["public_cost"], 0),
            ms(&s["wait_ms"]["p50"]),
            ms(&s["wait_ms"]["p95"]),
            ms(&s["notebook"]["cell_latency_ms"]["p50"]),
            ms(&s["notebook"]["cell_latency_ms"]["p95"]),
            num(&s["notebook"]["idle_gpu_hours"], 0),
            s["preemptions"],
            s["max_preemptions_per_job"],
            num(&s["lost_gpu_hours"], 0),
            num(&s["jain_fairness_tenants"], 3),
            s["jobs"]["finished"],
            s["jobs"]["rejected"],
        ));
    }
    out
}

/// Refuses a list of policies that would run nothing, or two runs into one folder
/// (`fifo,fifo`). `from_file`: the list is the scenario's `compare`, else `--policies`.
pub fn check_policies(policies: &[String], from_file: bool) -> Result<()> {
    let flag = match from_file {
        true => "compare (scenario)",
        false => "--policies",
    };
    if policies.is_empty() {
        return Err(SimError::BadArgument {
            flag: flag.into(),
            reason: "no policy to run; name at least one".into(),
        });
    }
    let mut seen: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for policy in policies {
        if let Some(first) = seen.insert(directory_name(policy), policy) {
            return Err(SimError::BadArgument {
                flag: flag.into(),
                reason: format!(
                    "{policy:?} is listed twice (or writes to the same folder as {first:?}); \
                     each policy runs once, into its own folder"
                ),
            });
        }
    }
    Ok(())
}

/// Makes sure `dir` can be written before hours are spent on the runs: creates it and writes
/// (then removes) a probe file.
pub fn check_out(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| SimError::io(dir, e))?;
    let probe = dir.join(".sim-write-check");
    std::fs::write(&probe, b"").map_err(|e| SimError::io(&probe, e))?;
    std::fs::remove_file(&probe).map_err(|e| SimError::io(&probe, e))
}
