//! "Where money went": `summary.json`'s showback as a table per run, summed by tenant,
//! LocalQueue, tier and cluster. Public money is split as the cloud billed it (running,
//! provisioning, warm idle); private GPU-hours are priced at the run's amortised price.

use super::text::{escape, json_or_dash};
use super::Shown;
use serde_json::Value;
use std::fmt::Write;

const COLUMNS: [(&str, &str); 8] = [
    ("private_gpu_hours", "private GPU-h"),
    ("private_cost", "private cost"),
    ("public_gpu_hours", "public GPU-h"),
    ("public_running", "public running"),
    ("public_provisioning", "public provisioning"),
    ("public_warm_idle", "public warm idle"),
    ("public_billed", "public billed"),
    ("total", "total"),
];

const GROUPS: [(&str, &str); 4] = [
    ("by_tenant", "tenant"),
    ("by_queue", "queue"),
    ("by_tier", "tier"),
    ("by_cluster", "cluster"),
];

fn row(out: &mut String, label: &str, line: &Value) {
    let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(label));
    for (key, _) in COLUMNS {
        let _ = write!(
            out,
            "<td>{}</td>",
            json_or_dash(&line[key], |x| format!("{x:.2}"))
        );
    }
    out.push_str("</tr>");
}

/// The section: one table per run.
pub(crate) fn section(runs: &[Shown]) -> String {
    let mut out = String::from(
        "<section id=\"costs\"><h2>Where money went: showback</h2><p>GPU-hours and money per tenant, queue, tier and cluster (<code>costs.csv</code>, <code>summary.json</code>: <code>showback</code>). Public money is what the cloud billed, split into time jobs ran, provisioning and nodes kept warm after their job; private GPU-hours are priced at the amortised price per GPU-hour the scenario sets (<code>showback.private_gpu_hour_price</code>).</p>",
    );
    for run in runs {
        let showback = &run.view.summary["showback"];
        if runs.len() > 1 {
            let _ = write!(out, "<h3>{}</h3>", escape(&run.label));
        }
        if !showback.is_object() {
            out.push_str("<p class=\"missing\">This run's summary has no showback.</p>");
            continue;
        }
        let price = json_or_dash(&showback["private_gpu_hour_price"], |x| format!("{x:.2}"));
        let _ = write!(
            out,
            "<table class=\"summary\"><caption>Showback in currency units; private GPUs at {} per GPU-hour</caption><thead><tr><th scope=\"col\"></th>",
            escape(&price)
        );
        for (_, title) in COLUMNS {
            let _ = write!(out, "<th scope=\"col\">{title}</th>");
        }
        out.push_str("</tr></thead><tbody>");
        for (key, title) in GROUPS {
            let Some(lines) = showback[key].as_object() else {
                continue;
            };
            let _ = write!(
                out,
                "<tr class=\"group\"><th colspan=\"{}\">by {title}</th></tr>",
                COLUMNS.len() + 1
            );
            for (name, line) in lines {
                row(&mut out, name, line);
            }
        }
        out.push_str("<tr class=\"group\"><th colspan=\"9\">all</th></tr>");
        row(&mut out, "total", &showback["total"]);
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
    out
}
