//! The distribution and per-tenant sections: the wait-time CDF, deadlines met by tenant, and
//! idle GPU-hours vs notebook cell latency; plus the figure wrapper every section uses. Each takes every
//! run being shown (one for a single report, several for a comparison).

use super::bars::{BarSeries, Bars};
use super::data::{deadlines_by_tenant, wait_cdf};
use super::svg::{style, Axis, Chart, Layer, LegendEntry};
use super::text::{duration_ms, escape, natural_cmp, percent};
use super::Shown;
use std::fmt::Write;

/// Tenants shown in the deadline chart; the rest are counted in a note.
const MAX_TENANTS: usize = 30;
/// Waits below this are drawn at it: a log axis has no zero.
const WAIT_FLOOR_MS: f64 = 1000.0;
const DURATION_TICKS: [(f64, &str); 11] = [
    (1e3, "1 s"),
    (1e4, "10 s"),
    (6e4, "1 min"),
    (6e5, "10 min"),
    (3.6e6, "1 h"),
    (2.16e7, "6 h"),
    (8.64e7, "1 d"),
    (6.048e8, "1 w"),
    (2.592e9, "30 d"),
    (7.776e9, "90 d"),
    (3.1536e10, "1 y"),
];

pub(crate) fn figure(svg: &str, caption: &str) -> String {
    format!("<figure>{svg}<figcaption>{caption}</figcaption></figure>")
}

pub(crate) fn missing(text: &str) -> String {
    format!("<p class=\"missing\">{}</p>", escape(text))
}

/// Share of jobs started within a wait, log wait axis.
pub(crate) fn waits(runs: &[Shown]) -> String {
    let mut out = String::from("<section id=\"waits\"><h2>Wait-time distribution</h2>");
    let cdfs: Vec<_> = runs
        .iter()
        .map(|run| wait_cdf(run.view.records, WAIT_FLOOR_MS))
        .collect();
    if cdfs.iter().all(|cdf| cdf.started == 0) {
        out.push_str(&missing("No job started."));
        out.push_str("</section>");
        return out;
    }
    let longest = cdfs
        .iter()
        .flat_map(|cdf| cdf.points.last())
        .map(|p| p.0)
        .fold(WAIT_FLOOR_MS * 60.0, f64::max);
    let mut layers = Vec::new();
    let mut legend = Vec::new();
    let mut notes = Vec::new();
    for (index, (run, cdf)) in runs.iter().zip(&cdfs).enumerate() {
        let (colour, dash) = style(index);
        layers.push(Layer::Line {
            points: cdf.points.iter().map(|(x, y)| (*x, y * 100.0)).collect(),
            colour,
            dash,
        });
        legend.push(LegendEntry {
            label: run.label.clone(),
            colour,
            dash,
            filled: false,
        });
        notes.push(format!(
            "{}: median wait {}, {} of jobs started within 1 s, {} started at all",
            run.label,
            cdf.median_ms.map_or_else(|| "—".into(), duration_ms),
            percent(cdf.within_floor as f64 / cdf.total.max(1) as f64),
            percent(cdf.started as f64 / cdf.total.max(1) as f64),
        ));
    }
    let chart = Chart {
        id: "waits-chart".into(),
        title: "Cumulative distribution of wait until first start".into(),
        description: format!("{}.", notes.join("; ")),
        x: Axis::log(
            "wait until first start (log scale; 1 s or less drawn at 1 s)",
            &DURATION_TICKS,
            longest,
        ),
        y: Axis::linear_exact("started within the wait (% of jobs)", 0.0, 100.0),
        layers,
        legend,
    };
    let mut caption = String::from(
        "Share of all submitted batch jobs that had started within a given wait (notebook cells are in the last section). A curve that ends below 100% left jobs unstarted (rejected or still pending at the end).",
    );
    for note in &notes {
        let _ = write!(caption, "<br>{}.", escape(note));
    }
    out.push_str(&figure(&chart.render(), &caption));
    out.push_str("</section>");
    out
}

/// Deadline-met share per tenant, grouped bars.
pub(crate) fn deadlines(runs: &[Shown]) -> String {
    let mut out = String::from("<section id=\"deadlines\"><h2>Deadlines met, by tenant</h2>");
    let per_run: Vec<_> = runs
        .iter()
        .map(|run| deadlines_by_tenant(run.view.records))
        .collect();
    // tenants ordered by how many deadline jobs they have across runs, then by name
    let mut tenants: Vec<(String, usize)> = Vec::new();
    for tenant in per_run.iter().flat_map(|m| m.keys()) {
        if !tenants.iter().any(|(t, _)| t == tenant) {
            let jobs = per_run
                .iter()
                .filter_map(|m| m.get(tenant))
                .map(|v| v.1)
                .max();
            tenants.push((tenant.clone(), jobs.unwrap_or(0)));
        }
    }
    if tenants.is_empty() {
        out.push_str(&missing("No job had a deadline."));
        out.push_str("</section>");
        return out;
    }
    tenants.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let hidden = tenants.len().saturating_sub(MAX_TENANTS);
    tenants.truncate(MAX_TENANTS);
    tenants.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    let series = runs
        .iter()
        .zip(&per_run)
        .enumerate()
        .map(|(index, (run, map))| {
            let values = tenants
                .iter()
                .map(|(tenant, _)| {
                    map.get(tenant).map(|(met, with)| {
                        let share = *met as f64 / (*with).max(1) as f64;
                        (share, format!("{} ({met}/{with})", percent(share)))
                    })
                })
                .collect();
            BarSeries {
                label: run.label.clone(),
                colour: style(index).0,
                values,
            }
        })
        .collect();
    let bars = Bars {
        id: "deadlines-chart".into(),
        title: "Share of jobs with a deadline that met it, per tenant".into(),
        description: format!(
            "{} tenants with deadline jobs shown; each bar is the share met, labelled with met/with deadline.",
            tenants.len()
        ),
        axis_label: "jobs that met their deadline (% of the tenant's jobs with one)".into(),
        categories: tenants.into_iter().map(|(t, _)| t).collect(),
        series,
    };
    let mut caption = String::from(
        "A job meets its deadline when it finishes by it; rejected and unfinished jobs did not. Tenants in name order.",
    );
    if hidden > 0 {
        let _ = write!(
            caption,
            " {hidden} tenants with fewer deadline jobs are not shown."
        );
    }
    out.push_str(&figure(&bars.render(), &caption));
    out.push_str("</section>");
    out
}

/// A latency already raised to the chart's floor, in words that do not overstate it.
fn at_most_floor(ms: f64) -> String {
    if ms <= WAIT_FLOOR_MS {
        format!("≤ {}", duration_ms(WAIT_FLOOR_MS))
    } else {
        duration_ms(ms)
    }
}

/// Idle GPU-hours against notebook cell latency, one point per run with notebook sessions.
pub(crate) fn notebook(runs: &[Shown]) -> String {
    let mut out =
        String::from("<section id=\"notebook\"><h2>Idle GPU-hours vs notebook cell latency</h2>");
    let shown: Vec<(f64, f64, f64, String)> = runs
        .iter()
        .filter_map(|run| {
            run.view.notebook.map(|n| {
                (
                    (n.cell_latency_p50.0 as f64).max(WAIT_FLOOR_MS),
                    (n.cell_latency_p95.0 as f64).max(WAIT_FLOOR_MS),
                    n.idle_gpu_hours,
                    run.label.clone(),
                )
            })
        })
        .collect();
    let points: Vec<(f64, f64, String)> = shown
        .iter()
        .map(|(p50, _, idle, label)| (*p50, *idle, label.clone()))
        .collect();
    // Each run's spread of latencies: a line from its median out to its 95th percentile.
    let spreads: Vec<Layer> = shown
        .iter()
        .filter(|(p50, p95, _, _)| p95 > p50)
        .map(|(p50, p95, idle, _)| Layer::Line {
            points: vec![(*p50, *idle), (*p95, *idle)],
            colour: style(0).0,
            dash: "4 3",
        })
        .collect();
    if points.is_empty() {
        out.push_str(&missing(
            "No notebook sessions in this workload, so there are no idle GPU-hours or cell latencies to plot. Scenarios with sessions (semester-peak, notebook-day) fill this section.",
        ));
        out.push_str("</section>");
        return out;
    }
    let longest = shown
        .iter()
        .map(|p| p.1)
        .fold(WAIT_FLOOR_MS * 60.0, f64::max);
    let top = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let description: Vec<String> = shown
        .iter()
        .map(|(p50, p95, idle, label)| {
            format!(
                "{label}: {idle:.1} idle GPU-hours at median latency {} (95th percentile {})",
                at_most_floor(*p50),
                at_most_floor(*p95)
            )
        })
        .collect();
    let chart = Chart {
        id: "notebook-chart".into(),
        title: "Idle GPU-hours against notebook cell latency, per policy".into(),
        description: format!("{}.", description.join("; ")),
        x: Axis::log(
            "median cell latency, GPU request to start (log scale)",
            &DURATION_TICKS,
            longest,
        ),
        y: Axis::linear("GPU-hours held idle by notebooks", 0.0, top),
        layers: spreads
            .into_iter()
            .chain([Layer::Points {
                points,
                colour: style(0).0,
            }])
            .collect(),
        legend: Vec::new(),
    };
    let mut caption =
        String::from("One point per run at its median cell latency; the dashed line reaches its 95th percentile. Lower left is better (little idle GPU time, fast cells).");
    let without = runs
        .iter()
        .filter(|run| run.view.notebook.is_none())
        .count();
    if without > 0 {
        let _ = write!(
            caption,
            " {without} runs without notebook data are not shown."
        );
    }
    out.push_str(&figure(&chart.render(), &caption));
    out.push_str("</section>");
    out
}
