//! `sim validate`: replay a public trace on the fleet built from its machine list (durations as
//! recorded, tiers chosen for the trace, queues by the chosen rule) and put what the trace
//! recorded beside what the replay produced: waits (p50, p95, mean), GPU utilisation and
//! GPU-hours, with a CDF plot of waits in `validate.html`.
//!
//! Recorded waits exist only where the trace records start times (openb: `scheduled_time` −
//! `creation_time`, over the same pods the importer keeps). Elsewhere the recorded column says
//! so, and published figures (AcmeTrace's `cluster_summary.csv`) are printed beside the
//! replay's, labelled as a different sample. Nothing here is fitted to any of these figures.

use crate::error::{Result, SimError};
use crate::trace::TraceJob;
use std::fmt::Write as _;
use std::path::Path;

/// Wait statistics in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Waits {
    pub p50: f64,
    pub p95: f64,
    pub mean: f64,
    pub count: usize,
}

impl Waits {
    /// Statistics of `waits_ms` (sorted in place).
    pub fn of(waits_ms: &mut [u64]) -> Option<Waits> {
        if waits_ms.is_empty() {
            return None;
        }
        waits_ms.sort_unstable();
        let at = |q: f64| {
            let index = ((waits_ms.len() as f64 - 1.0) * q).round() as usize;
            waits_ms[index.min(waits_ms.len() - 1)] as f64 / 1000.0
        };
        let mean = waits_ms.iter().map(|&w| w as f64).sum::<f64>() / waits_ms.len() as f64;
        Some(Waits {
            p50: at(0.5),
            p95: at(0.95),
            mean: mean / 1000.0,
            count: waits_ms.len(),
        })
    }
}

/// One side of the comparison.
#[derive(Debug, Clone, Default)]
pub struct Side {
    /// Waits in ms, sorted (empty when unknown).
    pub waits_ms: Vec<u64>,
    pub gpu_hours: f64,
    /// GPU-time over (GPUs × span from first submission to last end).
    pub utilisation: f64,
}

/// The recorded side from the jobs' own durations; waits are added where the source has them.
pub fn recorded(jobs: &[TraceJob], fleet_gpus: u64, waits_ms: Vec<u64>) -> Side {
    let gpu_ms: f64 = jobs
        .iter()
        .map(|j| f64::from(j.gpus) * f64::from(j.gpu_milli) / 1000.0 * j.runtime_ms as f64)
        .sum();
    let start = jobs.iter().map(|j| j.submit_ms).min().unwrap_or(0);
    let mut end = jobs
        .iter()
        .map(|j| j.submit_ms + j.runtime_ms)
        .max()
        .unwrap_or(0);
    // With recorded waits, each job ended its wait later than its submission.
    if waits_ms.len() == jobs.len() {
        end = end.max(
            jobs.iter()
                .zip(&waits_ms)
                .map(|(j, w)| j.submit_ms + w + j.runtime_ms)
                .max()
                .unwrap_or(0),
        );
    }
    let span = end.saturating_sub(start).max(1) as f64;
    let mut waits_ms = waits_ms;
    waits_ms.sort_unstable();
    Side {
        waits_ms,
        gpu_hours: gpu_ms / 3_600_000.0,
        utilisation: gpu_ms / (fleet_gpus.max(1) as f64 * span),
    }
}

/// openb's recorded waits, `scheduled_time − creation_time` in ms, for the pods the importer
/// keeps (scheduled, and not deleted before being scheduled), in input order.
pub fn openb_waits(inputs: &[std::path::PathBuf]) -> Result<Vec<u64>> {
    let mut waits = Vec::new();
    for path in inputs {
        let mut reader = csv::Reader::from_path(path)
            .map_err(|e| SimError::io(path, std::io::Error::other(e)))?;
        let headers = reader
            .headers()
            .map_err(|e| SimError::io(path, std::io::Error::other(e)))?
            .clone();
        let column = |name: &str| headers.iter().position(|h| h.trim() == name);
        let (Some(created), Some(scheduled), Some(deleted)) = (
            column("creation_time"),
            column("scheduled_time"),
            column("deletion_time"),
        ) else {
            continue;
        };
        for record in reader.records() {
            let record = record.map_err(|e| SimError::io(path, std::io::Error::other(e)))?;
            let seconds = |i: usize| {
                record
                    .get(i)
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .map(|s| (s * 1000.0).round() as u64)
            };
            if let (Some(c), Some(s), Some(d)) =
                (seconds(created), seconds(scheduled), seconds(deleted))
            {
                if d >= s && s >= c {
                    waits.push(s - c);
                }
            }
        }
    }
    Ok(waits)
}

/// The published row of `summary` (AcmeTrace `cluster_summary.csv`) named `id`, as
/// (label, value) pairs for the columns a replay can be set beside.
pub fn published(summary: &Path, id: &str) -> Result<Vec<(String, f64)>> {
    let mut reader = csv::Reader::from_path(summary)
        .map_err(|e| SimError::io(summary, std::io::Error::other(e)))?;
    let headers = reader
        .headers()
        .map_err(|e| SimError::io(summary, std::io::Error::other(e)))?
        .clone();
    for record in reader.records() {
        let record = record.map_err(|e| SimError::io(summary, std::io::Error::other(e)))?;
        if record.get(0) != Some(id) {
            continue;
        }
        let mut out = Vec::new();
        for name in [
            "gpu_job_num",
            "avg_que_time_gpu",
            "med_que_time_gpu",
            "avg_run_time_gpu",
            "med_run_time_gpu",
        ] {
            if let Some(value) = headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .and_then(|t| t.parse::<f64>().ok())
            {
                out.push((name.to_string(), value));
            }
        }
        return Ok(out);
    }
    Ok(Vec::new())
}

/// The side-by-side table, as Markdown.
pub fn table(recorded: &Side, replayed: &Side) -> String {
    let waits = |side: &Side| Waits::of(&mut side.waits_ms.clone());
    let cell = |w: Option<Waits>, f: fn(Waits) -> f64| {
        w.map_or_else(|| "not recorded".to_string(), |w| format!("{:.0}", f(w)))
    };
    let (r, p) = (waits(recorded), waits(replayed));
    let mut text = String::from("| | recorded | replayed |\n|---|---|---|\n");
    for (label, f) in [
        ("wait p50 (s)", (|w: Waits| w.p50) as fn(Waits) -> f64),
        ("wait p95 (s)", |w| w.p95),
        ("wait mean (s)", |w| w.mean),
    ] {
        let _ = writeln!(text, "| {label} | {} | {} |", cell(r, f), cell(p, f));
    }
    let _ = writeln!(
        text,
        "| jobs that waited > 0 s | {} | {} |",
        waited(&recorded.waits_ms),
        waited(&replayed.waits_ms)
    );
    let _ = writeln!(
        text,
        "| GPU utilisation | {:.1}% | {:.1}% |",
        recorded.utilisation * 100.0,
        replayed.utilisation * 100.0
    );
    let _ = writeln!(
        text,
        "| GPU-hours | {:.0} | {:.0} |",
        recorded.gpu_hours, replayed.gpu_hours
    );
    text
}

fn waited(waits: &[u64]) -> String {
    if waits.is_empty() {
        return "not recorded".into();
    }
    let n = waits.iter().filter(|&&w| w > 0).count();
    format!("{:.1}%", n as f64 * 100.0 / waits.len() as f64)
}

/// A self-contained page: the table and a CDF of waits (log-scaled seconds) for both sides.
pub fn page(title: &str, table_md: &str, notes: &str, recorded: &Side, replayed: &Side) -> String {
    let (width, height, pad) = (640.0, 320.0, 40.0);
    let x = |ms: u64| {
        let s = (ms as f64 / 1000.0 + 1.0).log10();
        pad + s / 7.0 * (width - 2.0 * pad)
    };
    let curve = |waits: &[u64], colour: &str| {
        if waits.is_empty() {
            return String::new();
        }
        let step = (waits.len() / 400).max(1);
        let points: Vec<String> = waits
            .iter()
            .enumerate()
            .step_by(step)
            .chain(std::iter::once((waits.len() - 1, &waits[waits.len() - 1])))
            .map(|(i, &w)| {
                let y = height - pad - (i + 1) as f64 / waits.len() as f64 * (height - 2.0 * pad);
                format!("{:.1},{:.1}", x(w), y)
            })
            .collect();
        format!(
            "<polyline fill='none' stroke='{colour}' stroke-width='2' points='{}'/>",
            points.join(" ")
        )
    };
    let mut ticks = String::new();
    for (label, seconds) in [
        ("0", 0u64),
        ("10 s", 10),
        ("1 min", 60),
        ("1 h", 3600),
        ("1 d", 86_400),
        ("10 d", 864_000),
    ] {
        let at = x(seconds * 1000);
        let _ = write!(
            ticks,
            "<line x1='{at:.1}' x2='{at:.1}' y1='{}' y2='{}' stroke='#ccc'/><text x='{at:.1}' y='{}' font-size='11' text-anchor='middle'>{label}</text>",
            pad,
            height - pad,
            height - pad + 14.0
        );
    }
    let escape = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;");
    format!(
        "<!doctype html><meta charset='utf-8'><title>{title}</title>\
         <body style='font-family:sans-serif;max-width:760px'><h1>{title}</h1><pre>{}</pre>\
         <h2>Waits: share of jobs that waited at most x</h2>\
         <svg width='{width}' height='{height}'>{ticks}\
         <line x1='{pad}' x2='{}' y1='{}' y2='{}' stroke='#000'/>{}{}\
         <text x='{}' y='20' font-size='12' fill='#d62728'>recorded</text>\
         <text x='{}' y='36' font-size='12' fill='#1f77b4'>replayed</text></svg>\
         <p>{}</p></body>\n",
        escape(table_md),
        width - pad,
        height - pad,
        height - pad,
        curve(&recorded.waits_ms, "#d62728"),
        curve(&replayed.waits_ms, "#1f77b4"),
        width - 120.0,
        width - 120.0,
        escape(notes),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_statistics_and_recorded_side() {
        let waits = Waits::of(&mut [0, 1000, 2000, 3000, 94_000]).unwrap_or_else(|| panic!());
        assert_eq!((waits.p50, waits.p95, waits.mean), (2.0, 94.0, 20.0));
        let mut job = TraceJob::new(0, 0, 3_600_000);
        job.gpus = 2;
        let side = recorded(&[job], 4, Vec::new());
        assert_eq!(side.gpu_hours, 2.0);
        assert_eq!(side.utilisation, 0.5);
        let table = table(&side, &side);
        assert!(
            table.contains("| wait p50 (s) | not recorded | not recorded |"),
            "{table}"
        );
    }
}
