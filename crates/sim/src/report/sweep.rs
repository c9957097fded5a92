//! `sweep.html`: a scale sweep on one page. Wall time and peak RSS against the job count on
//! log–log axes, where growth is a straight line whose slope is the growth exponent: each chart
//! shows the measured sizes, the line linear growth would draw from the smallest of them, and the
//! target at a million jobs; a table lists the rows as the CSV has them.
//!
//! Unlike the run report, the figures are timings, so two sweeps never give the same bytes; the
//! page is still self-contained, with no script and every input text escaped.

use super::charts::figure;
use super::svg::{style, Axis, Chart, Layer, LegendEntry, Scale};
use super::text::{count, escape};
use super::STYLE;
use serde_json::Value;
use std::fmt::Write;

/// The targets the sweep is measured against (issue 6), at [`TARGET_JOBS`].
pub const TARGET_WALL_S: f64 = 10.0;
pub const TARGET_RSS_MIB: f64 = 1024.0;
pub const TARGET_JOBS: f64 = 1_000_000.0;
/// The largest growth exponent the target allows.
pub const TARGET_EXPONENT: f64 = 1.1;
/// How far past the largest value an axis reaches at least, so that nothing runs along the
/// frame.
const HEADROOM: f64 = 1.2;

const JOB_TICKS: [(f64, &str); 13] = [
    (100.0, "100"),
    (300.0, "300"),
    (1e3, "1k"),
    (3e3, "3k"),
    (1e4, "10k"),
    (3e4, "30k"),
    (1e5, "100k"),
    (3e5, "300k"),
    (1e6, "1M"),
    (3e6, "3M"),
    (1e7, "10M"),
    (3e7, "30M"),
    (1e8, "100M"),
];
const SECOND_TICKS: [(f64, &str); 12] = [
    (0.001, "1 ms"),
    (0.003, "3 ms"),
    (0.01, "10 ms"),
    (0.03, "30 ms"),
    (0.1, "0.1 s"),
    (0.3, "0.3 s"),
    (1.0, "1 s"),
    (3.0, "3 s"),
    (10.0, "10 s"),
    (30.0, "30 s"),
    (100.0, "100 s"),
    (1000.0, "1000 s"),
];
const MIB_TICKS: [(f64, &str); 10] = [
    (1.0, "1 MiB"),
    (3.0, "3 MiB"),
    (10.0, "10 MiB"),
    (30.0, "30 MiB"),
    (100.0, "100 MiB"),
    (300.0, "300 MiB"),
    (1024.0, "1 GiB"),
    (3072.0, "3 GiB"),
    (10240.0, "10 GiB"),
    (30720.0, "30 GiB"),
];

/// One size of the sweep, as read from its row.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Size {
    jobs: f64,
    wall_s: f64,
    peak_rss_mib: Option<f64>,
}

impl Size {
    fn of(row: &Value) -> Option<Size> {
        let positive = |value: &Value| value.as_f64().filter(|v| v.is_finite() && *v > 0.0);
        Some(Size {
            jobs: positive(&row["jobs"])?,
            wall_s: positive(&row["wall_s"])?,
            peak_rss_mib: positive(&row["peak_rss_mib"]),
        })
    }
}

/// The page for `rows` (as `sweep::measure_one` returns them) measured under `policy`, with
/// the fitted `exponent` when there is one.
pub fn page(rows: &[Value], policy: &str, exponent: Option<f64>) -> String {
    let mut sizes: Vec<Size> = rows.iter().filter_map(Size::of).collect();
    sizes.sort_by(|a, b| a.jobs.total_cmp(&b.jobs));
    let title = format!("Scale sweep: policy {policy}");
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title><style>{STYLE}</style></head><body><header><h1>{t}</h1><p class=\"lead\">{lead}</p></header><main>",
        t = escape(&title),
        lead = lead(&sizes, exponent),
    );
    if sizes.is_empty() {
        out.push_str(
            "<p class=\"missing\" role=\"note\">No size finished, so there is nothing to plot.</p>",
        );
    } else {
        let wall: Vec<(f64, f64)> = sizes.iter().map(|s| (s.jobs, s.wall_s)).collect();
        let rss: Vec<(f64, f64)> = sizes
            .iter()
            .filter_map(|s| Some((s.jobs, s.peak_rss_mib?)))
            .collect();
        out.push_str("<section id=\"wall\"><h2>Wall time</h2>");
        out.push_str(&figure(
            &growth_chart(GrowthChart {
                id: "wall",
                what: "wall time",
                points: &wall,
                ticks: &SECOND_TICKS,
                target: TARGET_WALL_S,
                target_label: "target at 1M jobs: 10 s",
                unit: |v| format!("{v:.2} s"),
            }),
            "Wall time of each size, generating the workload and replaying it (log–log: the \
             slope is the growth exponent). The dashed line is linear growth from the smallest \
             size; a sweep that bends above it grows faster than linearly.",
        ));
        out.push_str("</section><section id=\"rss\"><h2>Peak memory</h2>");
        if rss.is_empty() {
            out.push_str("<p class=\"missing\" role=\"note\">Peak RSS was not measured (it is read from /proc, which this system does not have).</p>");
        } else {
            out.push_str(&figure(
                &growth_chart(GrowthChart {
                    id: "rss",
                    what: "peak RSS",
                    points: &rss,
                    ticks: &MIB_TICKS,
                    target: TARGET_RSS_MIB,
                    target_label: "target at 1M jobs: 1 GiB",
                    unit: |v| format!("{v:.0} MiB"),
                }),
                "Peak resident memory of each size's process (log–log). The dashed line is \
                 linear growth from the smallest size.",
            ));
        }
        out.push_str("</section>");
    }
    out.push_str("<section id=\"rows\"><h2>Rows</h2>");
    out.push_str(&table(rows));
    out.push_str("</section></main><footer>Written by <code>sim sweep</code>; the same rows are in the CSV beside this page.</footer></body></html>\n");
    out
}

/// The sentence under the title: sizes, the exponent against its target, and the largest size
/// against the targets when it reached a million jobs.
fn lead(sizes: &[Size], exponent: Option<f64>) -> String {
    let mut lead = format!("{} sizes measured", sizes.len());
    match exponent {
        Some(exponent) => {
            let met = if exponent <= TARGET_EXPONENT {
                "met"
            } else {
                "not met"
            };
            let _ = write!(
                lead,
                "; growth exponent of wall time {exponent:.2} (target ≤ {TARGET_EXPONENT}: {met})"
            );
        }
        None => lead.push_str("; the growth exponent needs two sizes or more"),
    }
    if let Some(largest) = sizes.last().filter(|s| s.jobs >= TARGET_JOBS) {
        let verdict = |ok: bool| if ok { "met" } else { "not met" };
        let _ = write!(
            lead,
            "; {} jobs took {:.2} s (target < {TARGET_WALL_S} s: {})",
            count(largest.jobs as u64),
            largest.wall_s,
            verdict(largest.wall_s < TARGET_WALL_S)
        );
        if let Some(rss) = largest.peak_rss_mib {
            let _ = write!(
                lead,
                " and {rss:.0} MiB at peak (target < 1 GiB: {})",
                verdict(rss < TARGET_RSS_MIB)
            );
        }
    }
    lead.push('.');
    escape(&lead)
}

struct GrowthChart<'a> {
    id: &'a str,
    what: &'a str,
    points: &'a [(f64, f64)],
    ticks: &'a [(f64, &'a str)],
    target: f64,
    target_label: &'a str,
    unit: fn(f64) -> String,
}

/// A log–log chart of `points` (sorted by jobs), with linear growth from the first point and
/// the target as a horizontal line.
fn growth_chart(chart: GrowthChart<'_>) -> String {
    let (first, last) = match (chart.points.first(), chart.points.last()) {
        (Some(first), Some(last)) => (*first, *last),
        _ => return String::new(),
    };
    // The jobs axis reaches past a million even when the sweep stops short of it, so that the
    // linear line shows where the target size would land; and past the largest size, so that
    // its label fits.
    let x = log_axis(
        "jobs",
        &JOB_TICKS,
        first.0,
        last.0.max(TARGET_JOBS) * HEADROOM,
    );
    let (x_start, x_end) = match x.scale {
        Scale::Log { min, max } | Scale::Linear { min, max } => (min, max),
    };
    let linear_end = (x_end, first.1 * x_end / first.0);
    let low = chart.points.iter().map(|p| p.1).fold(first.1, f64::min);
    let high = chart
        .points
        .iter()
        .map(|p| p.1)
        .fold(chart.target, f64::max);
    let y = log_axis(chart.what, chart.ticks, low, high * HEADROOM);
    let (measured, linear, target) = (style(0), style(1), style(4));
    let labelled = chart
        .points
        .iter()
        .map(|&(jobs, value)| (jobs, value, (chart.unit)(value)))
        .collect();
    Chart {
        id: format!("sweep-{}", chart.id),
        title: format!("{} against jobs", capitalised(chart.what)),
        description: format!(
            "{} from {} at {} jobs to {} at {} jobs",
            capitalised(chart.what),
            (chart.unit)(first.1),
            count(first.0 as u64),
            (chart.unit)(last.1),
            count(last.0 as u64)
        ),
        x,
        y,
        layers: vec![
            Layer::Line {
                points: vec![(x_start, chart.target), (x_end, chart.target)],
                colour: target.0,
                dash: "2 3",
            },
            Layer::Line {
                points: vec![first, linear_end],
                colour: linear.0,
                dash: "7 3",
            },
            Layer::Line {
                points: chart.points.to_vec(),
                colour: measured.0,
                dash: measured.1,
            },
            Layer::Points {
                points: labelled,
                colour: measured.0,
            },
        ],
        legend: vec![
            LegendEntry {
                label: "measured".into(),
                colour: measured.0,
                dash: measured.1,
                filled: false,
            },
            LegendEntry {
                label: "linear growth from the smallest size".into(),
                colour: linear.0,
                dash: "7 3",
                filled: false,
            },
            LegendEntry {
                label: chart.target_label.into(),
                colour: target.0,
                dash: "2 3",
                filled: false,
            },
        ],
    }
    .render()
}

/// A log axis over `ticks` from the last tick at or below `low` to the first at or above
/// `high`.
fn log_axis(label: &str, ticks: &[(f64, &str)], low: f64, high: f64) -> Axis {
    let start = ticks.iter().rposition(|t| t.0 <= low).unwrap_or(0);
    Axis::log(label, &ticks[start..], high)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The rows as a table, in the CSV's columns and order.
fn table(rows: &[Value]) -> String {
    let columns = [
        ("jobs", "jobs"),
        ("nodes", "nodes"),
        ("gpus", "GPUs"),
        ("events", "events"),
        ("wall_s", "wall (s)"),
        ("events_per_s", "events/s"),
        ("peak_rss_mib", "peak RSS (MiB)"),
        ("outcome_digest", "outcome digest"),
    ];
    let mut out = String::from(
        "<table class=\"summary\"><caption>One row per size; the digest is the same for builds that decide alike.</caption><thead><tr>",
    );
    for (_, header) in columns {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(header));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (key, _) in columns {
            let value = &row[key];
            let text = match (key, value) {
                (_, Value::String(text)) => text.clone(),
                ("wall_s", value) => value.as_f64().map_or("—".into(), |v| format!("{v:.3}")),
                ("events_per_s" | "peak_rss_mib", value) => {
                    value.as_f64().map_or("—".into(), |v| format!("{v:.0}"))
                }
                (_, value) => value.as_u64().map_or("—".into(), count),
            };
            let _ = write!(out, "<td>{}</td>", escape(&text));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(jobs: u64, wall_s: f64, rss: f64) -> Value {
        json!({"jobs": jobs, "policy": "default", "nodes": 4, "gpus": 28, "events": jobs * 4,
               "wall_s": wall_s, "events_per_s": 1000.0, "peak_rss_mib": rss,
               "outcome_digest": "0123456789abcdef"})
    }

    #[test]
    fn a_sweep_page_plots_both_measures_with_their_targets() {
        let rows = [
            row(1_000_000, 15.7, 502.0),
            row(10_000, 0.12, 14.0),
            row(100_000, 1.1, 64.0),
        ];
        let html = page(&rows, "default", Some(1.08));
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
        assert_eq!(html.matches("<svg ").count(), 2);
        assert_eq!(html.matches("role=\"img\"").count(), 2);
        assert!(html.contains("target at 1M jobs: 10 s"));
        assert!(html.contains("target at 1M jobs: 1 GiB"));
        assert!(html.contains("growth exponent of wall time 1.08 (target ≤ 1.1: met)"));
        assert!(
            html.contains("1\u{2009}000\u{2009}000 jobs took 15.70 s (target &lt; 10 s: not met)")
        );
        assert!(html.contains("502 MiB at peak (target &lt; 1 GiB: met)"));
        // every size is labelled on the chart, in the table, and sorted by jobs on the axis
        for label in ["0.12 s", "1.10 s", "15.70 s", "14 MiB", "502 MiB"] {
            assert!(html.contains(&format!(">{label}</text>")), "{label}");
        }
        assert_eq!(html.matches("<tr><td>").count(), 3);
        assert!(html.contains("Wall time from 0.12 s at 10\u{2009}000 jobs to 15.70 s"));
    }

    #[test]
    fn a_page_without_sizes_or_memory_says_so_and_escapes_the_policy() {
        let html = page(&[], "<fgd>", None);
        assert!(html.contains("Scale sweep: policy &lt;fgd&gt;"));
        assert!(!html.contains("<fgd>"));
        assert!(html.contains("nothing to plot"));
        assert!(html.contains("needs two sizes or more"));
        assert_eq!(html.matches("<svg ").count(), 0);

        let mut without_rss = row(10_000, 0.1, 1.0);
        without_rss["peak_rss_mib"] = Value::Null;
        let html = page(&[without_rss], "default", None);
        assert_eq!(html.matches("<svg ").count(), 1);
        assert!(html.contains("Peak RSS was not measured"));
        assert!(html.contains("<td>—</td>"));
    }

    #[test]
    fn the_linear_line_grows_in_proportion_to_jobs_to_the_end_of_the_axis() {
        let html = growth_chart(GrowthChart {
            id: "t",
            what: "wall time",
            points: &[(10_000.0, 0.1), (1_000_000.0, 20.0)],
            ticks: &SECOND_TICKS,
            target: TARGET_WALL_S,
            target_label: "target",
            unit: |v| format!("{v:.2} s"),
        });
        let paths: Vec<&str> = html
            .match_indices("<path d=\"")
            .map(|(at, _)| {
                let path = &html[at + 9..];
                &path[..path.find('"').unwrap_or(0)]
            })
            .collect();
        // target, linear, measured
        assert_eq!(paths.len(), 3, "{html}");
        let end = |path: &str| -> (f64, f64) {
            let last = path.rsplit('L').next().unwrap_or("");
            let mut xy = last
                .split(' ')
                .map(|v| v.parse::<f64>().unwrap_or(f64::NAN));
            (xy.next().unwrap_or(f64::NAN), xy.next().unwrap_or(f64::NAN))
        };
        let (target, linear) = (end(paths[0]), end(paths[1]));
        // the jobs axis reaches 3M (past 1M with headroom), where linear growth from 0.1 s at
        // 10k jobs is 30 s: the top tick of the time axis, 20 s needing headroom above it
        assert_eq!(target.0, linear.0);
        let tick = |label: &str| -> f64 {
            let at = html.find(&format!(">{label}</text>")).unwrap_or(0);
            let y = &html[..at];
            let y = &y[y.rfind("y=\"").unwrap_or(0) + 3..];
            y[..y.find('"').unwrap_or(0)]
                .parse::<f64>()
                .unwrap_or(f64::NAN)
                - 4.0
        };
        assert!(html.contains(">3M</text>"));
        assert_eq!(linear.1, tick("30 s"));
        assert_eq!(target.1, tick("10 s"));
        assert!(
            linear.1 < target.1,
            "linear growth passes the target before the axis ends"
        );
    }
}
