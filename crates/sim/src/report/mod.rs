//! `report.html`: one self-contained page per run, or one comparing several runs of the same
//! workload (one line per policy on shared axes, one table column per policy).
//!
//! The page needs no network: CSS is inline, charts are hand-written SVG (see `svg`), there
//! is no script. Bytes are deterministic — no timestamps, fixed number formats — and every
//! piece of text that came from input (tenant names, policy names) is escaped. Long runs are
//! thinned (`data`) so a 100k-job page stays well under a megabyte.
//!
//! `sweep.html`, the scale sweep's page, is built from the same pieces (`sweep`).
//!
//! Sections: the summary table, allocated GPUs per tier, queue length, the wait-time CDF,
//! waits by reason per tenant and tier, public spend, showback (money per tenant, queue, tier
//! and cluster), deadlines met by tenant, and idle
//! GPU-hours vs notebook cell latency.

mod bars;
mod charts;
mod costs;
mod data;
mod misses;
mod over_time;
mod reasons;
mod svg;
pub mod sweep;
mod table;
mod text;

use crate::engine::RunOutput;
use crate::error::{Result, SimError};
use crate::record::jobs::JobRecord;
use crate::record::timeseries::Sample;
use alloc_core::Millis;
use serde_json::Value;
use std::fmt::Write;
use std::path::Path;
use text::{count, duration_ms, escape};

/// What the report reads from one run; borrowed, so building one costs nothing.
#[derive(Debug, Clone, Copy)]
pub struct RunView<'a> {
    /// The policy's name, as the run was started with.
    pub policy: &'a str,
    pub seed: u64,
    pub records: &'a [JobRecord],
    pub samples: &'a [Sample],
    /// The run's `summary.json` value.
    pub summary: &'a Value,
    /// Notebook-session figures, for the idle GPU-hours vs cell latency plot; `None` for a run
    /// without sessions.
    pub notebook: Option<NotebookCells>,
}

/// What a run contributes to the "idle GPU-hours vs cell latency" plot: holding GPUs between
/// cells leaves them idle, releasing them makes cells wait for a GPU and a cold start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotebookCells {
    /// GPU-hours that GPUs were held by notebook sessions while no cell ran.
    pub idle_gpu_hours: f64,
    /// Median time from a cell asking for a GPU to the cell running.
    pub cell_latency_p50: Millis,
    /// The 95th percentile of the same.
    pub cell_latency_p95: Millis,
}

impl<'a> RunView<'a> {
    /// A view of a finished run; policy and seed are read from its summary.
    pub fn new(output: &'a RunOutput, summary: &'a Value) -> RunView<'a> {
        RunView {
            policy: summary["policy"].as_str().unwrap_or("unnamed policy"),
            seed: summary["seed"].as_u64().unwrap_or(0),
            records: &output.records,
            samples: &output.samples,
            summary,
            notebook: (output.notebook.sessions > 0).then(|| NotebookCells {
                idle_gpu_hours: output.notebook.idle_gpu_hours(),
                cell_latency_p50: Millis(
                    summary["notebook"]["cell_latency_ms"]["p50"]
                        .as_u64()
                        .unwrap_or(0),
                ),
                cell_latency_p95: Millis(
                    summary["notebook"]["cell_latency_ms"]["p95"]
                        .as_u64()
                        .unwrap_or(0),
                ),
            }),
        }
    }
}

/// A duration in milliseconds as the report writes it: "12.5 s", "3.2 min", "1.25 h".
pub fn short_duration(ms: u64) -> String {
    text::duration_ms(ms as f64)
}

/// A run with the label the page shows for it.
pub(crate) struct Shown<'a> {
    label: String,
    view: &'a RunView<'a>,
}

/// Labels runs by policy, adding the seed where policies repeat and a number where both do.
fn shown<'a>(runs: &'a [RunView<'a>]) -> Vec<Shown<'a>> {
    let mut out: Vec<Shown> = Vec::with_capacity(runs.len());
    for view in runs {
        let repeats = runs.iter().filter(|r| r.policy == view.policy).count() > 1;
        let mut label = if repeats {
            format!("{} (seed {})", view.policy, view.seed)
        } else {
            view.policy.to_string()
        };
        if out.iter().any(|s| s.label == label) {
            label = format!("{label} #{}", out.len() + 1);
        }
        out.push(Shown { label, view });
    }
    out
}

/// The report of one run.
pub fn single(run: &RunView) -> String {
    let runs = std::slice::from_ref(run);
    let shown = shown(runs);
    let title = format!("Simulation report: {}, seed {}", run.policy, run.seed);
    let jobs = run.summary["jobs"]["total"].as_u64().unwrap_or(0);
    let span = run.summary["end_ms"]
        .as_f64()
        .map_or_else(|| "—".into(), duration_ms);
    let mut intro = format!(
        "<p class=\"lead\">Policy <strong>{}</strong>, seed {}, {} jobs, {} simulated.</p>",
        escape(run.policy),
        run.seed,
        count(jobs),
        escape(&span)
    );
    config_warnings(&mut intro, runs);
    page(&title, &intro, &shown)
}

/// The fleet's configuration warnings (`summary.json`'s `config_warnings`), each once, where a
/// reader meets them before the figures they explain.
fn config_warnings(intro: &mut String, runs: &[RunView]) {
    let mut said: Vec<&str> = Vec::new();
    for run in runs {
        for warning in run.summary["config_warnings"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(text) = warning.as_str().filter(|text| !said.contains(text)) {
                said.push(text);
                let _ = write!(
                    intro,
                    "<p class=\"warning\" role=\"note\">{}</p>",
                    escape(text)
                );
            }
        }
    }
}

/// One page comparing several runs, meant for several policies on the same workload.
pub fn compare(runs: &[RunView]) -> String {
    let shown = shown(runs);
    let title = format!("Policy comparison: {} runs", runs.len());
    let mut intro = String::from("<p class=\"lead\">");
    let names: Vec<String> = shown.iter().map(|s| escape(&s.label)).collect();
    let _ = write!(intro, "Runs: {}.", names.join(", "));
    intro.push_str("</p>");
    let totals: Vec<u64> = runs
        .iter()
        .map(|run| run.summary["jobs"]["total"].as_u64().unwrap_or(0))
        .collect();
    if totals.windows(2).any(|pair| pair[0] != pair[1]) {
        intro.push_str(
            "<p class=\"warning\" role=\"note\">The runs did not submit the same number of jobs, so they did not replay the same workload: compare with care.</p>",
        );
    }
    config_warnings(&mut intro, runs);
    page(&title, &intro, &shown)
}

/// Writes a page to `path`.
pub fn write(path: &Path, html: &str) -> Result<()> {
    std::fs::write(path, html).map_err(|e| SimError::io(path, e))
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1a1a1a;background:#fff;max-width:920px;margin:2rem auto;padding:0 1rem;line-height:1.45}\
h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}h3{font-size:1.05rem;margin:1.2rem 0 .3rem}\
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem}a{color:#0b5394}\
figure{margin:0.5rem 0 1rem}figure svg{width:100%;height:auto;display:block}figcaption{font-size:.9rem;color:#444;margin-top:.3rem}\
svg text{font-size:12px;fill:#1a1a1a;font-family:inherit}svg .axis-label{font-size:13px}svg .value{font-size:11px}\
svg .grid line{stroke:#e2e2e2;stroke-width:1}svg .frame{fill:none;stroke:#777}svg .baseline{stroke:#777}\
table.summary{border-collapse:collapse;min-width:60%;font-variant-numeric:tabular-nums}table.summary caption{text-align:left;font-size:.9rem;color:#444;padding-bottom:.4rem}\
table.summary th,table.summary td{padding:.25rem .6rem;border-bottom:1px solid #e5e5e5}table.summary td{text-align:right}\
table.summary thead th{text-align:right;border-bottom:2px solid #888}table.summary thead th:first-child,table.summary th[scope=row]{text-align:left;font-weight:normal}\
table.summary tr.group th{text-align:left;background:#f3f3f3;font-weight:600}\
.missing,.warning{background:#fff6e0;border-left:4px solid #E69F00;padding:.6rem .8rem}footer{margin-top:3rem;font-size:.85rem;color:#555}";

const SECTIONS: [(&str, &str); 10] = [
    ("summary", "Summary"),
    ("allocation", "Allocated GPUs"),
    ("queue", "Queue length"),
    ("waits", "Wait times"),
    ("reasons", "Waits by reason"),
    ("spend", "Public spend"),
    ("costs", "Showback"),
    ("deadlines", "Deadlines by tenant"),
    ("misses", "Missed deadlines"),
    ("notebook", "Idle GPUs vs cell latency"),
];

fn page(title: &str, intro: &str, runs: &[Shown]) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title><style>{STYLE}</style></head><body><header><h1>{t}</h1>{intro}<nav aria-label=\"sections\"><ul>",
        t = escape(title),
    );
    for (id, name) in SECTIONS {
        let _ = write!(out, "<li><a href=\"#{id}\">{name}</a></li>");
    }
    out.push_str("</ul></nav></header><main>");
    let columns: Vec<(String, &Value)> = runs
        .iter()
        .map(|run| (run.label.clone(), run.view.summary))
        .collect();
    out.push_str("<section id=\"summary\"><h2>Summary</h2>");
    out.push_str(&table::summary_table(&columns));
    out.push_str("</section>\n");
    for section in [
        over_time::allocation(runs),
        over_time::queue(runs),
        charts::waits(runs),
        reasons::section(runs),
        over_time::spend(runs),
        costs::section(runs),
        charts::deadlines(runs),
        misses::section(runs),
        charts::notebook(runs),
    ] {
        out.push_str(&section);
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "</main><footer>Written by sim {}. Same inputs and seed give the same bytes; the numbers come from summary.json, jobs.* and timeseries.* beside this file.</footer></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    out
}
