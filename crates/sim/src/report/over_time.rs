//! The time-series sections: allocated GPUs per tier, queue length and public spend, one
//! line per run on a shared time axis.

use super::charts::{figure, missing};
use super::data::{
    bucket_words, downsample, time_unit, Reduce, MAX_COMPARE_POINTS, MAX_LINE_POINTS,
};
use super::svg::{style, Axis, Chart, Layer, LegendEntry};
use super::text::escape;
use super::Shown;
use crate::record::timeseries::Sample;

const TIERS: [(&str, &str); 3] = [
    ("bronze", "#D55E00"),
    ("silver", "#56B4E9"),
    ("gold", "#E69F00"),
];
/// The time axis shared by every time-series chart of the page.
fn time_axis(runs: &[Shown]) -> (Axis, f64) {
    let end = runs
        .iter()
        .filter_map(|run| run.view.samples.last())
        .map(|s| s.at.0 as f64)
        .fold(0.0, f64::max);
    let (divisor, unit) = time_unit(end);
    let label = if unit == "d" {
        "simulated time since start (days)"
    } else {
        "simulated time since start (hours)"
    };
    (Axis::linear_exact(label, 0.0, end / divisor), divisor)
}

fn rescale(points: Vec<(f64, f64)>, divisor: f64) -> Vec<(f64, f64)> {
    points.into_iter().map(|(x, y)| (x / divisor, y)).collect()
}

fn no_samples(runs: &[Shown]) -> bool {
    runs.iter().all(|run| run.view.samples.is_empty())
}

/// How much time a point stands for, for the longest run.
fn bucket_caption(runs: &[Shown], limit: usize) -> String {
    runs.iter()
        .max_by_key(|run| run.view.samples.len())
        .map_or_else(
            || "each sample".into(),
            |run| bucket_words(run.view.samples, limit),
        )
}

/// One line per run of `value` over time, at most `limit` points each.
fn lines_over_time(
    runs: &[Shown],
    limit: usize,
    reduce: Reduce,
    value: impl Fn(&Sample) -> f64 + Copy,
) -> (Vec<Layer>, Vec<LegendEntry>, f64) {
    let (_, divisor) = time_axis(runs);
    let mut layers = Vec::new();
    let mut legend = Vec::new();
    let mut top: f64 = 0.0;
    for (index, run) in runs.iter().enumerate() {
        let (colour, dash) = style(index);
        let points = rescale(downsample(run.view.samples, limit, reduce, value), divisor);
        top = points.iter().map(|p| p.1).fold(top, f64::max);
        layers.push(Layer::Line {
            points,
            colour,
            dash,
        });
        legend.push(LegendEntry {
            label: run.label.clone(),
            colour,
            dash,
            filled: false,
        });
    }
    (layers, legend, top)
}

/// Allocated GPUs per tier: a stacked area for one run, one chart per tier for several.
pub(crate) fn allocation(runs: &[Shown]) -> String {
    let mut out = String::from("<section id=\"allocation\"><h2>Allocated GPUs per tier</h2>");
    if no_samples(runs) {
        out.push_str(&missing("The run recorded no samples."));
        out.push_str("</section>");
        return out;
    }
    let (x, divisor) = time_axis(runs);
    if let [run] = runs {
        let samples = run.view.samples;
        let mut layers = Vec::new();
        let mut legend = Vec::new();
        let mut lower: Vec<(f64, f64)> = Vec::new();
        let mut description = Vec::new();
        for (tier, (name, colour)) in TIERS.iter().enumerate() {
            let points = rescale(
                downsample(samples, MAX_LINE_POINTS, Reduce::Mean, |s| {
                    s.allocated[..=tier].iter().sum()
                }),
                divisor,
            );
            if lower.is_empty() {
                lower = points.iter().map(|p| (p.0, 0.0)).collect();
            }
            let peak = samples
                .iter()
                .map(|s| s.allocated[tier])
                .fold(0.0, f64::max);
            let mean = samples.iter().map(|s| s.allocated[tier]).sum::<f64>()
                / samples.len().max(1) as f64;
            description.push(format!("{name}: mean {mean:.1}, peak {peak:.1} GPUs"));
            layers.push(Layer::Band {
                lower: std::mem::replace(&mut lower, points.clone()),
                upper: points,
                colour,
            });
            legend.push(LegendEntry {
                label: format!("{name} (allocated)"),
                colour,
                dash: "",
                filled: true,
            });
        }
        let public = rescale(
            downsample(samples, MAX_LINE_POINTS, Reduce::Mean, |s| s.public_gpus),
            divisor,
        );
        let top = lower
            .iter()
            .chain(public.iter())
            .map(|p| p.1)
            .fold(0.0, f64::max);
        layers.push(Layer::Line {
            points: public,
            colour: "#000000",
            dash: "7 3",
        });
        legend.push(LegendEntry {
            label: "public GPUs rented".into(),
            colour: "#000000",
            dash: "7 3",
            filled: false,
        });
        let chart = Chart {
            id: "allocation-chart".into(),
            title: format!("Allocated GPUs per tier over time, {}", run.label),
            description: format!("Stacked areas. {}.", description.join("; ")),
            x,
            y: Axis::linear("allocated GPUs (count)", 0.0, top),
            layers,
            legend,
        };
        out.push_str(&figure(
            &chart.render(),
            &format!(
                "GPUs allocated on each tier's flavors (MPS fractions count as parts of a GPU), stacked with bronze at the bottom; the dashed line is GPUs rented from the public cloud, whether provisioning, busy or kept warm. Each point is the mean over {}.",
                bucket_caption(runs, MAX_LINE_POINTS)
            ),
        ));
    } else {
        for (tier, (name, _)) in TIERS.iter().enumerate() {
            let (layers, legend, top) =
                lines_over_time(runs, MAX_COMPARE_POINTS, Reduce::Mean, move |s| {
                    s.allocated[tier]
                });
            let peaks: Vec<String> = runs
                .iter()
                .map(|run| {
                    let peak = run
                        .view
                        .samples
                        .iter()
                        .map(|s| s.allocated[tier])
                        .fold(0.0, f64::max);
                    format!("{} peak {peak:.1}", run.label)
                })
                .collect();
            let chart = Chart {
                id: format!("allocation-{name}"),
                title: format!("Allocated {name} GPUs over time, per policy"),
                description: format!("One line per policy. {}.", peaks.join("; ")),
                x: x.clone(),
                y: Axis::linear(format!("allocated {name} GPUs"), 0.0, top),
                layers,
                legend,
            };
            out.push_str(&format!("<h3>{}</h3>", escape(&format!("Tier {name}"))));
            out.push_str(&figure(
                &chart.render(),
                &format!(
                    "GPUs allocated on {name} flavors (MPS fractions count as parts of a GPU); each point is the mean over {}.",
                    bucket_caption(runs, MAX_COMPARE_POINTS)
                ),
            ));
        }
    }
    out.push_str("</section>");
    out
}

/// Jobs pending over time.
pub(crate) fn queue(runs: &[Shown]) -> String {
    let mut out = String::from("<section id=\"queue\"><h2>Queue length</h2>");
    if no_samples(runs) {
        out.push_str(&missing("The run recorded no samples."));
    } else {
        let (x, _) = time_axis(runs);
        let (layers, legend, top) =
            lines_over_time(runs, MAX_LINE_POINTS, Reduce::Max, |s| s.pending as f64);
        let peaks: Vec<String> = runs
            .iter()
            .map(|run| {
                let peak = run
                    .view
                    .samples
                    .iter()
                    .map(|s| s.pending)
                    .max()
                    .unwrap_or(0);
                format!("{}: longest queue {peak} jobs", run.label)
            })
            .collect();
        let chart = Chart {
            id: "queue-chart".into(),
            title: "Pending jobs over time".into(),
            description: format!("{}.", peaks.join("; ")),
            x,
            y: Axis::linear("pending jobs (count)", 0.0, top),
            layers,
            legend,
        };
        out.push_str(&figure(
            &chart.render(),
            &format!(
                "Jobs submitted and not yet running. Each point is the largest value over {}, so short peaks stay visible.",
                bucket_caption(runs, MAX_LINE_POINTS)
            ),
        ));
    }
    out.push_str("</section>");
    out
}

/// Cumulative public spend over time.
pub(crate) fn spend(runs: &[Shown]) -> String {
    let mut out = String::from("<section id=\"spend\"><h2>Public spend over time</h2>");
    if no_samples(runs) {
        out.push_str(&missing("The run recorded no samples."));
    } else {
        let (x, _) = time_axis(runs);
        let (layers, legend, top) = lines_over_time(runs, MAX_LINE_POINTS, Reduce::Last, |s| {
            s.spend.0 as f64 / 1e6
        });
        let totals: Vec<String> = runs
            .iter()
            .map(|run| {
                let total = run
                    .view
                    .samples
                    .last()
                    .map_or(0.0, |s| s.spend.0 as f64 / 1e6);
                format!("{}: {total:.2} currency units by the end", run.label)
            })
            .collect();
        let chart = Chart {
            id: "spend-chart".into(),
            title: "Public cloud spend so far, over time".into(),
            description: format!("{}.", totals.join("; ")),
            x,
            y: Axis::linear("public spend so far (currency units)", 0.0, top),
            layers,
            legend,
        };
        out.push_str(&figure(
            &chart.render(),
            "Everything the public cloud billed up to each moment: jobs' GPU time, provisioning and warm-idle time.",
        ));
    }
    out.push_str("</section>");
    out
}
