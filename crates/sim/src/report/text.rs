//! Text for the page: HTML escaping and the fixed number formats the report uses, so the same
//! run always gives the same bytes.

use serde_json::Value;
use std::cmp::Ordering;
use std::fmt::Write;

/// Escapes text for HTML and SVG content and attribute values (tenant names are user input).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// At most `max` characters, with an ellipsis when cut (for labels inside charts).
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Orders names as people expect, numbers by value: `lab-2` before `lab-10`. Ties (`a01`
/// and `a1`) fall back to plain string order, so the order is total.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let digits = |it: &mut std::iter::Peekable<std::str::Chars>| {
                    let mut run = String::new();
                    while let Some(c) = it.next_if(char::is_ascii_digit) {
                        run.push(c);
                    }
                    run.trim_start_matches('0').to_string()
                };
                let (m, n) = (digits(&mut x), digits(&mut y));
                let order = m.len().cmp(&n.len()).then_with(|| m.cmp(&n));
                if order != Ordering::Equal {
                    return order;
                }
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(&d);
                }
                x.next();
                y.next();
            }
        }
    }
}

/// A coordinate in SVG: one decimal is finer than a pixel, and fixed so bytes are stable.
pub(crate) fn coordinate(x: f64) -> String {
    let x = if x.is_finite() { x } else { 0.0 };
    let mut out = format!("{x:.1}");
    if out == "-0.0" {
        out = "0.0".into();
    }
    out
}

/// A duration in milliseconds as people read it: seconds under a minute, minutes under an
/// hour, hours above.
pub(crate) fn duration_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "—".into();
    }
    if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms < 3_600_000.0 {
        format!("{:.1} min", ms / 60_000.0)
    } else {
        format!("{:.2} h", ms / 3_600_000.0)
    }
}

/// Thousands separated by a thin space: 12 345.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, c) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with one decimal.
pub(crate) fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// A number for an axis tick, with as many decimals as the tick step needs.
pub(crate) fn tick_number(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 || step <= 0.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let mut out = String::new();
    let _ = write!(out, "{value:.decimals$}");
    if out.starts_with("-0") && out.trim_start_matches(['-', '0', '.']).is_empty() {
        out.remove(0);
    }
    out
}

/// Formats a JSON number with `format`, or a dash when it is null or absent.
pub(crate) fn json_or_dash(value: &Value, format: impl Fn(f64) -> String) -> String {
    value.as_f64().map_or_else(|| "—".to_string(), format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn human_units() {
        assert_eq!(duration_ms(1500.0), "1.5 s");
        assert_eq!(duration_ms(90_000.0), "1.5 min");
        assert_eq!(duration_ms(5_400_000.0), "1.50 h");
        assert_eq!(count(1_234_567), "1\u{2009}234\u{2009}567");
        assert_eq!(count(999), "999");
        assert_eq!(percent(0.876), "87.6%");
        assert_eq!(tick_number(0.5, 0.5), "0.5");
        assert_eq!(tick_number(20.0, 10.0), "20");
        assert_eq!(coordinate(-0.01), "0.0");
        assert_eq!(shorten("abcdef", 4), "abc…");
    }

    #[test]
    fn names_sort_with_numbers_by_value() {
        let mut names = vec!["lab-10", "lab-2", "lab-1", "lab-01", "b", "a", "lab-"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["a", "b", "lab-", "lab-01", "lab-1", "lab-2", "lab-10"]
        );
    }
}
