//! "Which deadlines were missed, and what the money bought": missed deadlines per reason
//! (`record::misses`) for each run, and — for a comparison — each run's public spend against
//! the deadlines it met, with the runs no other beats on both (the Pareto front) joined.

use super::charts::figure;
use super::svg::{style, Axis, Chart, Layer};
use super::text::{escape, percent};
use super::Shown;
use crate::record::misses::CODES;
use std::fmt::Write;

/// One run's point: public cost, deadline-met ratio, label.
type Point = (f64, f64, String);

/// The section.
pub(crate) fn section(runs: &[Shown]) -> String {
    let mut out = String::from(
        "<section id=\"misses\"><h2>Missed deadlines, and what the money bought</h2><p>Each job that missed its deadline counted once, under the first reason that fits, in the order of the columns (<code>jobs.csv</code>: <code>deadline_miss</code>; <code>summary.json</code>: <code>deadline_misses</code>).</p>",
    );
    out.push_str("<table class=\"summary\"><caption>Missed deadlines by reason</caption><thead><tr><th scope=\"col\">run</th><th scope=\"col\">deadline met</th><th scope=\"col\">public cost</th>");
    for code in CODES {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(code));
    }
    out.push_str("<th scope=\"col\">missed</th></tr></thead><tbody>");
    for run in runs {
        let summary = run.view.summary;
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{:.0}</td>",
            escape(&run.label),
            summary["deadline_met_ratio"]
                .as_f64()
                .map_or("—".to_string(), percent),
            summary["public_cost"].as_f64().unwrap_or(0.0)
        );
        let mut missed = 0;
        for code in CODES {
            let n = run
                .view
                .records
                .iter()
                .filter(|r| r.deadline_miss() == Some(code))
                .count();
            missed += n;
            let _ = write!(out, "<td>{n}</td>");
        }
        let _ = write!(out, "<td>{missed}</td></tr>");
    }
    out.push_str("</tbody></table>");
    let points: Vec<Point> = runs
        .iter()
        .filter_map(|run| {
            let summary = run.view.summary;
            Some((
                summary["public_cost"].as_f64()?,
                summary["deadline_met_ratio"].as_f64()?,
                run.label.clone(),
            ))
        })
        .collect();
    if points.len() > 1 {
        out.push_str(&pareto_chart(&points));
    }
    out.push_str("</section>");
    out
}

/// The points no other point beats: none is as cheap or cheaper and meets as many deadlines
/// or more, with one of the two strictly better. Cheapest first.
pub(crate) fn pareto_front(points: &[Point]) -> Vec<Point> {
    let beaten = |p: &Point| {
        points
            .iter()
            .any(|q| q.0 <= p.0 && q.1 >= p.1 && (q.0 < p.0 || q.1 > p.1))
    };
    let mut front: Vec<Point> = points.iter().filter(|p| !beaten(p)).cloned().collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.2.cmp(&b.2)));
    front
}

fn pareto_chart(points: &[Point]) -> String {
    let front = pareto_front(points);
    let most = points.iter().map(|p| p.0).fold(1.0, f64::max);
    let (low, high) = points
        .iter()
        .fold((1.0f64, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let description: Vec<String> = points
        .iter()
        .map(|(cost, met, label)| format!("{label}: {} met at {cost:.0}", percent(*met)))
        .collect();
    let chart = Chart {
        id: "pareto-chart".into(),
        title: "Deadlines met against public spend, per run".into(),
        description: format!("{}.", description.join("; ")),
        x: Axis::linear("public cost", 0.0, most),
        y: Axis::linear(
            "deadline-met ratio",
            (low - 0.02).max(0.0),
            (high + 0.01).min(1.0),
        ),
        layers: vec![
            Layer::Line {
                points: front.iter().map(|p| (p.0, p.1)).collect(),
                colour: style(1).0,
                dash: "4 3",
            },
            Layer::Points {
                points: points.to_vec(),
                colour: style(0).0,
            },
        ],
        legend: Vec::new(),
    };
    let names: Vec<&str> = front.iter().map(|p| p.2.as_str()).collect();
    figure(
        &chart.render(),
        &format!(
            "Upper left is better: more deadlines met for less money. The dashed line joins the runs no other beats on both (the Pareto front): {}. A run below the line spends more for as many deadlines, or meets fewer for as much. One seed is noisy: a point or two of deadline-met is within seed-to-seed spread.",
            escape(&names.join(", "))
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_keeps_only_runs_nothing_beats() {
        let p = |cost: f64, met: f64, name: &str| (cost, met, name.to_string());
        let points = vec![
            p(0.0, 0.70, "never"),
            p(8000.0, 0.76, "always"),
            p(6000.0, 0.80, "rescue"),
            p(6000.0, 0.78, "worse-same-cost"),
            p(9000.0, 0.80, "dearer-same-met"),
        ];
        let names: Vec<String> = pareto_front(&points).into_iter().map(|p| p.2).collect();
        assert_eq!(names, ["never", "rescue"]);
    }
}
