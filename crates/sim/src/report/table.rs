//! The summary table: one row per headline number of `summary.json`, one column per run, in
//! human units (durations in s/min/h, shares in %, money in currency units).

use super::text::{count, duration_ms, escape, json_or_dash, percent};
use serde_json::Value;
use std::fmt::Write;

type Cell = fn(&Value) -> String;

fn integer(value: &Value) -> String {
    value.as_u64().map_or_else(|| "—".to_string(), count)
}

fn duration(value: &Value) -> String {
    json_or_dash(value, duration_ms)
}

fn share(value: &Value) -> String {
    json_or_dash(value, percent)
}

fn fixed2(value: &Value) -> String {
    json_or_dash(value, |x| format!("{x:.2}"))
}

fn fixed3(value: &Value) -> String {
    json_or_dash(value, |x| format!("{x:.3}"))
}

/// "p50 / p95" of the waits of one GPU-count class (`summary.json`: `wait_ms_by_gpus`).
fn by_gpus(summary: &Value, class: &str) -> String {
    let waits = &summary["wait_ms_by_gpus"][class];
    format!("{} / {}", duration(&waits["p50"]), duration(&waits["p95"]))
}

/// (group heading, rows of (label, cell)).
const ROWS: &[(&str, &[(&str, Cell)])] = &[
    (
        "Jobs",
        &[
            ("submitted", |s| integer(&s["jobs"]["total"])),
            ("finished", |s| integer(&s["jobs"]["finished"])),
            ("rejected", |s| integer(&s["jobs"]["rejected"])),
            ("unfinished at the end", |s| {
                integer(&s["jobs"]["unfinished"])
            }),
        ],
    ),
    (
        "Job completion time (finished jobs)",
        &[
            ("mean", |s| duration(&s["jct_ms"]["mean"])),
            ("p50", |s| duration(&s["jct_ms"]["p50"])),
            ("p95", |s| duration(&s["jct_ms"]["p95"])),
            ("p99", |s| duration(&s["jct_ms"]["p99"])),
        ],
    ),
    (
        "Wait until first start (started jobs)",
        &[
            ("mean", |s| duration(&s["wait_ms"]["mean"])),
            ("p50", |s| duration(&s["wait_ms"]["p50"])),
            ("p95", |s| duration(&s["wait_ms"]["p95"])),
            ("p99", |s| duration(&s["wait_ms"]["p99"])),
        ],
    ),
    (
        "Wait p50 / p95 by GPUs asked for (started jobs)",
        &[
            ("1 GPU or a fraction", |s| by_gpus(s, "1")),
            ("2 GPUs", |s| by_gpus(s, "2")),
            ("3–4 GPUs", |s| by_gpus(s, "3-4")),
            ("5–8 GPUs", |s| by_gpus(s, "5-8")),
            ("9 GPUs or more", |s| by_gpus(s, "9+")),
        ],
    ),
    (
        "Deadlines",
        &[
            ("jobs with a deadline", |s| {
                integer(&s["jobs_with_deadline"])
            }),
            ("deadline met", |s| share(&s["deadline_met_ratio"])),
        ],
    ),
    (
        "Public cloud",
        &[
            ("public cost (currency units)", |s| {
                fixed2(&s["public_cost"])
            }),
            ("public GPU-hours", |s| fixed2(&s["public_gpu_hours"])),
            ("sensitive jobs on public (must be 0)", |s| {
                integer(&s["sensitive_on_public"])
            }),
        ],
    ),
    (
        "Disruption",
        &[
            ("preemptions", |s| integer(&s["preemptions"])),
            ("interruptions (node failures)", |s| {
                integer(&s["interruptions"])
            }),
            ("lost GPU-hours", |s| fixed2(&s["lost_gpu_hours"])),
        ],
    ),
    (
        "Fairness and utilisation",
        &[
            ("Jain fairness over tenants (1 = even)", |s| {
                fixed3(&s["jain_fairness_tenants"])
            }),
            ("utilisation, bronze", |s| {
                share(&s["utilisation"]["per_tier"]["bronze"])
            }),
            ("utilisation, silver", |s| {
                share(&s["utilisation"]["per_tier"]["silver"])
            }),
            ("utilisation, gold", |s| {
                share(&s["utilisation"]["per_tier"]["gold"])
            }),
        ],
    ),
    (
        "Run",
        &[
            ("seed", |s| integer(&s["seed"])),
            ("simulated time", |s| duration(&s["end_ms"])),
            ("scheduling cycles", |s| integer(&s["cycles"])),
        ],
    ),
];

/// The table, with one column per (label, summary).
pub(crate) fn summary_table(runs: &[(String, &Value)]) -> String {
    let mut out = String::from(
        "<table class=\"summary\"><caption>Headline numbers (summary.json): durations in seconds (s), minutes (min) or hours (h); a dash means no data</caption><thead><tr><th scope=\"col\">metric</th>",
    );
    for (label, _) in runs {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(label));
    }
    out.push_str("</tr></thead>");
    for (group, rows) in ROWS {
        let _ = write!(
            out,
            "<tbody><tr class=\"group\"><th scope=\"rowgroup\" colspan=\"{}\">{}</th></tr>",
            runs.len() + 1,
            escape(group)
        );
        for (label, cell) in *rows {
            let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(label));
            for (_, summary) in runs {
                let _ = write!(out, "<td>{}</td>", escape(&cell(summary)));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody>");
    }
    out.push_str("</table>");
    out
}
