//! "Where time went": the time batch jobs spent pending, split by the core's wait-reason
//! code, per tenant and requested tier (the tier a pending job is held to), one table per run.
//! Read from the records' per-reason times, the same that give `jobs.csv` its `wait_reason`.

use super::text::{duration_ms, escape, natural_cmp, percent};
use super::Shown;
use crate::record::jobs::JobRecord;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Pending time (ms) per reason code.
type Row = BTreeMap<&'static str, u64>;

/// A [`Row`] per (tenant, tier).
type Breakdown = BTreeMap<(String, String), Row>;

fn breakdown(records: &[JobRecord]) -> Breakdown {
    let mut out: Breakdown = BTreeMap::new();
    for record in records.iter().filter(|r| r.session.is_none()) {
        if record.waited_for.is_empty() {
            continue;
        }
        let row = out
            .entry((
                record.job.tenant.to_string(),
                record.job.min_tier.to_string(),
            ))
            .or_default();
        for (code, ms) in &record.waited_for {
            *row.entry(code).or_default() += ms;
        }
    }
    out
}

/// The section: one table per run, rows tenant × tier, columns the reasons met in that run.
pub(crate) fn section(runs: &[Shown]) -> String {
    let mut out = String::from(
        "<section id=\"reasons\"><h2>Where time went: waits by reason</h2><p>Time batch jobs spent pending, by the core's reason for the wait (<code>jobs.csv</code>: <code>wait_reason</code> is each job's longest-held one), per tenant and requested tier; each cell is the pending time and its share of the row.</p>",
    );
    for run in runs {
        let data = breakdown(run.view.records);
        if runs.len() > 1 {
            let _ = write!(out, "<h3>{}</h3>", escape(&run.label));
        }
        if data.is_empty() {
            out.push_str("<p class=\"missing\">No job waited with a reason in this run.</p>");
            continue;
        }
        let mut codes: Vec<&'static str> =
            data.values().flat_map(|row| row.keys().copied()).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut rows: Vec<(&(String, String), &Row)> = data.iter().collect();
        rows.sort_by(|a, b| natural_cmp(&a.0 .0, &b.0 .0).then_with(|| a.0 .1.cmp(&b.0 .1)));
        out.push_str("<table class=\"summary\"><caption>Pending time by wait reason (batch jobs)</caption><thead><tr><th scope=\"col\">tenant</th><th scope=\"col\">tier</th>");
        for code in &codes {
            let _ = write!(out, "<th scope=\"col\">{}</th>", escape(code));
        }
        out.push_str("<th scope=\"col\">total</th></tr></thead><tbody>");
        for ((tenant, tier), row) in rows {
            let total: u64 = row.values().sum();
            let _ = write!(
                out,
                "<tr><th scope=\"row\">{}</th><td>{}</td>",
                escape(tenant),
                escape(tier)
            );
            for code in &codes {
                match row.get(code) {
                    Some(ms) if total > 0 => {
                        let _ = write!(
                            out,
                            "<td>{} ({})</td>",
                            escape(&duration_ms(*ms as f64)),
                            percent(*ms as f64 / total as f64)
                        );
                    }
                    _ => out.push_str("<td>—</td>"),
                }
            }
            let _ = write!(out, "<td>{}</td></tr>", escape(&duration_ms(total as f64)));
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
    out
}
