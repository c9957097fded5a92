//! Grouped horizontal bars with shares from 0 to 100%, for per-tenant figures.

use super::svg::{legend, open, LegendEntry, BOTTOM, WIDTH};
use super::text::{coordinate, escape, shorten};
use std::fmt::Write;

/// One bar group per category, one bar per series, values 0 to 1 shown as percentages.
#[derive(Debug, Clone)]
pub(crate) struct Bars {
    pub id: String,
    pub title: String,
    pub description: String,
    pub axis_label: String,
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
}

/// One run's bars: per category, the share (0 to 1) and the text printed beside the bar.
#[derive(Debug, Clone)]
pub(crate) struct BarSeries {
    pub label: String,
    pub colour: &'static str,
    pub values: Vec<Option<(f64, String)>>,
}

impl Bars {
    pub(crate) fn render(&self) -> String {
        const BAR: f64 = 14.0;
        const GAP: f64 = 10.0;
        const LABELS: f64 = 180.0;
        const VALUES: f64 = 130.0;
        let entries: Vec<LegendEntry> = self
            .series
            .iter()
            .map(|series| LegendEntry {
                label: series.label.clone(),
                colour: series.colour,
                dash: "",
                filled: true,
            })
            .collect();
        let (legend_svg, legend_height) = legend(&entries, 0.0);
        let top = 12.0 + legend_height;
        let group = BAR * self.series.len().max(1) as f64 + GAP;
        let plot_height = group * self.categories.len() as f64;
        let height = top + plot_height + BOTTOM;
        let (left, right) = (LABELS, WIDTH - VALUES);
        let px = |share: f64| left + share.clamp(0.0, 1.0) * (right - left);
        let mut out = String::new();
        open(&mut out, &self.id, height, &self.title, &self.description);
        out.push_str(&legend_svg);
        out.push_str("<g class=\"grid\">");
        for step in 0..=4 {
            let x = coordinate(px(f64::from(step) / 4.0));
            let _ = write!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/>",
                coordinate(top),
                coordinate(top + plot_height)
            );
        }
        out.push_str("</g><g class=\"ticks\">");
        for step in 0..=4 {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}%</text>",
                coordinate(px(f64::from(step) / 4.0)),
                coordinate(top + plot_height + 17.0),
                step * 25
            );
        }
        out.push_str("</g>");
        let _ = write!(
            out,
            "<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            coordinate((left + right) / 2.0),
            coordinate(top + plot_height + 40.0),
            escape(&self.axis_label)
        );
        for (row, category) in self.categories.iter().enumerate() {
            let y0 = top + row as f64 * group + GAP / 2.0;
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{}</title>{}</text>",
                coordinate(left - 8.0),
                coordinate(y0 + group / 2.0),
                escape(category),
                escape(&shorten(category, 24))
            );
            for (index, series) in self.series.iter().enumerate() {
                let (label, colour) = (&series.label, series.colour);
                let y = y0 + index as f64 * BAR;
                let Some(Some((share, text))) = series.values.get(row) else {
                    continue;
                };
                let _ = write!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{colour}\" fill-opacity=\"0.75\"><title>{}: {}</title></rect><text class=\"value\" x=\"{}\" y=\"{}\">{}</text>",
                    coordinate(left),
                    coordinate(y + 1.0),
                    coordinate(px(*share) - left),
                    coordinate(BAR - 2.0),
                    escape(label),
                    escape(text),
                    coordinate(px(*share) + 4.0),
                    coordinate(y + BAR - 3.0),
                    escape(text)
                );
            }
        }
        let _ = write!(
            out,
            "<line class=\"baseline\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/></svg>",
            coordinate(top),
            coordinate(top + plot_height),
            x = coordinate(left)
        );
        out
    }
}
