//! Hand-written SVG charts: line and stacked-area charts over a linear or log x axis, and a
//! labelled scatter (grouped bars are in `bars`). Small, dependency-free and deterministic: every
//! coordinate is printed with one decimal.
//!
//! Each chart is an `<svg role="img">` whose `<title>` and `<desc>` carry its name and a
//! sentence about the data, for screen readers and as the hover tooltip.

use super::text::{coordinate, escape, shorten, tick_number};
use std::fmt::Write;

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
pub(crate) const PALETTE: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];
/// Dash patterns cycled with the colours, so lines differ by more than hue.
pub(crate) const DASHES: [&str; 4] = ["", "7 3", "2 3", "9 3 2 3"];

pub(crate) const WIDTH: f64 = 880.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 24.0;
const PLOT_HEIGHT: f64 = 280.0;
pub(crate) const BOTTOM: f64 = 52.0;
/// Rough width of a 12 px sans-serif character, for laying out legends.
const CHAR_WIDTH: f64 = 7.0;

/// The i-th series' colour and dash.
pub(crate) fn style(index: usize) -> (&'static str, &'static str) {
    (
        PALETTE[index % PALETTE.len()],
        DASHES[(index / PALETTE.len() + index) % DASHES.len()],
    )
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Scale {
    Linear { min: f64, max: f64 },
    Log { min: f64, max: f64 },
}

impl Scale {
    /// Where `value` falls between the ends, 0 to 1 (clamped).
    fn unit(self, value: f64) -> f64 {
        let u = match self {
            Scale::Linear { min, max } => (value - min) / (max - min),
            Scale::Log { min, max } => (value.max(min).ln() - min.ln()) / (max.ln() - min.ln()),
        };
        if u.is_finite() {
            u.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Axis {
    pub label: String,
    pub scale: Scale,
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// A linear axis from `min` to at least `max`, with about five round ticks.
    pub(crate) fn linear(label: impl Into<String>, min: f64, max: f64) -> Axis {
        Axis::linear_with(label.into(), min, max, true)
    }

    /// A linear axis that ends exactly at `max` (for time: no empty stretch after the end).
    pub(crate) fn linear_exact(label: impl Into<String>, min: f64, max: f64) -> Axis {
        Axis::linear_with(label.into(), min, max, false)
    }

    fn linear_with(label: String, min: f64, max: f64, round_top: bool) -> Axis {
        let max = if max > min { max } else { min + 1.0 };
        let step = nice_step(max - min, 5);
        // a little headroom, so a line at the maximum does not run along the frame
        let top = if round_top {
            ((max + (max - min) * 0.02) / step).ceil() * step
        } else {
            max
        };
        let first = (min / step).floor() * step;
        let mut ticks = Vec::new();
        let mut index = 0.0;
        loop {
            let value = first + index * step;
            if value > top + step * 1e-9 {
                break;
            }
            ticks.push((value, tick_number(value, step)));
            index += 1.0;
        }
        Axis {
            label,
            scale: Scale::Linear {
                min: first,
                max: top,
            },
            ticks,
        }
    }

    /// A log axis over the given labelled ticks, ending at the first tick at or past `max`.
    pub(crate) fn log(label: impl Into<String>, ticks: &[(f64, &str)], max: f64) -> Axis {
        let mut chosen: Vec<(f64, String)> = Vec::new();
        for (value, text) in ticks {
            chosen.push((*value, (*text).to_string()));
            if *value >= max {
                break;
            }
        }
        let min = chosen.first().map_or(1.0, |t| t.0);
        let top = chosen.last().map_or(10.0, |t| t.0).max(min * 10.0);
        Axis {
            label: label.into(),
            scale: Scale::Log { min, max: top },
            ticks: chosen,
        }
    }
}

/// The 1, 2 or 5 × 10ⁿ nearest (on a log scale) to `range` ÷ `target`.
fn nice_step(range: f64, target: usize) -> f64 {
    let raw = range / target.max(1) as f64;
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let nice = if norm < std::f64::consts::SQRT_2 {
        1.0
    } else if norm < 10f64.sqrt() {
        2.0
    } else if norm < 50f64.sqrt() {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

#[derive(Debug, Clone)]
pub(crate) enum Layer {
    Line {
        points: Vec<(f64, f64)>,
        colour: &'static str,
        dash: &'static str,
    },
    /// The area between two lines over the same x values (a layer of a stacked area chart).
    Band {
        lower: Vec<(f64, f64)>,
        upper: Vec<(f64, f64)>,
        colour: &'static str,
    },
    /// Labelled points.
    Points {
        points: Vec<(f64, f64, String)>,
        colour: &'static str,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct LegendEntry {
    pub label: String,
    pub colour: &'static str,
    pub dash: &'static str,
    /// A filled square (areas, bars) rather than a line sample.
    pub filled: bool,
}

/// Opening of an accessible SVG: role, title and description.
pub(crate) fn open(out: &mut String, id: &str, height: f64, title: &str, description: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\"><title id=\"{id}-t\">{t}</title><desc id=\"{id}-d\">{d}</desc>",
        w = WIDTH,
        h = coordinate(height),
        id = escape(id),
        t = escape(title),
        d = escape(description),
    );
}

/// Lays legend entries out in rows; returns the SVG and the height it takes.
pub(crate) fn legend(entries: &[LegendEntry], top: f64) -> (String, f64) {
    if entries.len() < 2 {
        return (String::new(), 0.0);
    }
    let mut out = String::from("<g class=\"legend\">");
    let (mut x, mut y) = (LEFT, top + 12.0);
    for entry in entries {
        let label = shorten(&entry.label, 40);
        let width = 34.0 + label.chars().count() as f64 * CHAR_WIDTH + 18.0;
        if x + width > WIDTH - RIGHT && x > LEFT {
            x = LEFT;
            y += 20.0;
        }
        if entry.filled {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"24\" height=\"12\" fill=\"{}\" fill-opacity=\"0.75\"/>",
                coordinate(x),
                coordinate(y - 10.0),
                entry.colour
            );
        } else {
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{y0}\" x2=\"{}\" y2=\"{y0}\" stroke=\"{}\" stroke-width=\"2.5\"{}/>",
                coordinate(x),
                coordinate(x + 24.0),
                entry.colour,
                dash_attribute(entry.dash),
                y0 = coordinate(y - 4.0),
            );
        }
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            coordinate(x + 30.0),
            coordinate(y),
            escape(&label)
        );
        x += width;
    }
    out.push_str("</g>");
    (out, y - top + 12.0)
}

fn dash_attribute(dash: &str) -> String {
    if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    }
}

/// An x–y chart with a legend above the plot area.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    /// Unique on the page; prefixes the ids of title and description.
    pub id: String,
    pub title: String,
    pub description: String,
    pub x: Axis,
    pub y: Axis,
    pub layers: Vec<Layer>,
    pub legend: Vec<LegendEntry>,
}

struct Frame {
    x: Scale,
    y: Scale,
    top: f64,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        LEFT + self.x.unit(x) * (WIDTH - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        self.top + (1.0 - self.y.unit(y)) * PLOT_HEIGHT
    }

    /// Path data through the points, dropping points that land on the previous pixel.
    fn path(&self, points: impl Iterator<Item = (f64, f64)>, out: &mut String) {
        let mut last = String::new();
        for (x, y) in points {
            let here = format!("{} {}", coordinate(self.px(x)), coordinate(self.py(y)));
            if here == last {
                continue;
            }
            out.push(if out.is_empty() || out.ends_with('Z') {
                'M'
            } else {
                'L'
            });
            out.push_str(&here);
            last = here;
        }
    }
}

impl Chart {
    pub(crate) fn render(&self) -> String {
        let (legend_svg, legend_height) = legend(&self.legend, 0.0);
        let top = 12.0 + legend_height;
        let height = top + PLOT_HEIGHT + BOTTOM;
        let frame = Frame {
            x: self.x.scale,
            y: self.y.scale,
            top,
        };
        let mut out = String::new();
        open(&mut out, &self.id, height, &self.title, &self.description);
        out.push_str(&legend_svg);
        let (left, right, bottom) = (LEFT, WIDTH - RIGHT, top + PLOT_HEIGHT);
        // grid and ticks
        out.push_str("<g class=\"grid\">");
        for (value, _) in &self.y.ticks {
            let y = coordinate(frame.py(*value));
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/>",
                coordinate(left),
                coordinate(right)
            );
        }
        for (value, _) in &self.x.ticks {
            let x = coordinate(frame.px(*value));
            let _ = write!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/>",
                coordinate(top),
                coordinate(bottom)
            );
        }
        out.push_str("</g><g class=\"ticks\">");
        for (value, text) in &self.y.ticks {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                coordinate(left - 6.0),
                coordinate(frame.py(*value) + 4.0),
                escape(text)
            );
        }
        for (value, text) in &self.x.ticks {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                coordinate(frame.px(*value)),
                coordinate(bottom + 17.0),
                escape(text)
            );
        }
        let _ = write!(
            out,
            "</g><text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            coordinate((left + right) / 2.0),
            coordinate(bottom + 40.0),
            escape(&self.x.label)
        );
        let _ = write!(
            out,
            "<text class=\"axis-label\" transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            coordinate(top + PLOT_HEIGHT / 2.0),
            escape(&self.y.label)
        );
        for layer in &self.layers {
            render_layer(&frame, layer, &mut out);
        }
        let _ = write!(
            out,
            "<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></svg>",
            coordinate(left),
            coordinate(top),
            coordinate(right - left),
            coordinate(PLOT_HEIGHT)
        );
        out
    }
}

fn render_layer(frame: &Frame, layer: &Layer, out: &mut String) {
    match layer {
        Layer::Line {
            points,
            colour,
            dash,
        } => {
            let mut d = String::new();
            frame.path(points.iter().copied(), &mut d);
            if !d.is_empty() {
                let _ = write!(
                    out,
                    "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-linejoin=\"round\"{}/>",
                    dash_attribute(dash)
                );
            }
        }
        Layer::Band {
            lower,
            upper,
            colour,
        } => {
            let mut d = String::new();
            frame.path(
                upper.iter().copied().chain(lower.iter().rev().copied()),
                &mut d,
            );
            if !d.is_empty() {
                d.push('Z');
                let _ = write!(
                    out,
                    "<path d=\"{d}\" fill=\"{colour}\" fill-opacity=\"0.75\" stroke=\"{colour}\" stroke-width=\"0.5\"/>"
                );
            }
        }
        Layer::Points { points, colour } => {
            for (x, y, label) in points {
                let (px, py) = (frame.px(*x), frame.py(*y));
                let _ = write!(
                    out,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{colour}\"><title>{}</title></circle><text x=\"{}\" y=\"{}\">{}</text>",
                    coordinate(px),
                    coordinate(py),
                    escape(label),
                    coordinate(px + 8.0),
                    coordinate(py - 6.0),
                    escape(&shorten(label, 30))
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(100.0, 5), 20.0);
        assert_eq!(nice_step(7.0, 5), 1.0);
        assert_eq!(nice_step(51.0, 5), 10.0);
        assert_eq!(nice_step(0.9, 5), 0.2);
        let axis = Axis::linear("x", 0.0, 43.0);
        let labels: Vec<&str> = axis.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0", "10", "20", "30", "40", "50"]);
    }

    #[test]
    fn log_axis_stops_at_the_first_tick_past_the_data() {
        let axis = Axis::log("wait", &[(1.0, "1"), (10.0, "10"), (100.0, "100")], 5.0);
        assert_eq!(axis.ticks.len(), 2);
        assert!(
            (Scale::Log {
                min: 1.0,
                max: 100.0
            }
            .unit(10.0)
                - 0.5)
                .abs()
                < 1e-12
        );
    }
}
