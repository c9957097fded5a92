//! `sim::openmetrics`: the file parses as OpenMetrics text the way `promtool tsdb
//! create-blocks-from openmetrics` reads it, and carries the live controller's metric names,
//! types and labels.

use super::run_with;
use std::collections::{BTreeMap, BTreeSet};

/// A series' label pairs, in the order written.
type Labels = Vec<(String, String)>;

/// A series: its sample name and labels.
type SeriesKey = (String, Labels);

/// One parsed family: its type, help and samples by series (name and labels).
#[derive(Debug, Default)]
struct Family {
    kind: String,
    help: Option<String>,
    series: BTreeMap<SeriesKey, Vec<(f64, f64)>>,
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `name="value",...}` after the opening brace: the labels and the rest of the line.
fn labels(mut text: &str) -> Result<(Labels, &str), String> {
    let mut out = Vec::new();
    loop {
        if let Some(rest) = text.strip_prefix('}') {
            return Ok((out, rest));
        }
        if !out.is_empty() {
            text = text
                .strip_prefix(',')
                .ok_or("labels not separated by ','")?;
        }
        let (name, rest) = text.split_once("=\"").ok_or("label without =\"")?;
        if !is_label_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    other => return Err(format!("bad escape \\{other}")),
                },
                (_, '\n') => return Err("newline in label value".into()),
                (_, c) => value.push(c),
            }
        };
        if out.iter().any(|(n, _): &(String, String)| n == name) {
            return Err(format!("label {name} repeated"));
        }
        out.push((name.to_string(), value));
        text = &rest[end + 1..];
    }
}

fn number(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ if text.contains(['i', 'I', 'n', 'N']) => Err(format!("bad number {text:?}")),
        _ => text.parse().map_err(|_| format!("bad number {text:?}")),
    }
}

/// Parses OpenMetrics text strictly: `# TYPE` before a family's samples, families and series
/// each in one block, sample names as the type asks (`_total` for counters), timestamps
/// rising within a series, counters never falling, `# EOF` last.
fn parse(text: &str) -> Result<BTreeMap<String, Family>, String> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut closed_series: BTreeSet<SeriesKey> = BTreeSet::new();
    let mut last_series: Option<SeriesKey> = None;
    let body = text
        .strip_suffix("# EOF\n")
        .ok_or("does not end with # EOF")?;
    for (number_, line) in body.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", number_ + 1);
        if line.is_empty() {
            return Err(at("empty line".into()));
        }
        if let Some(meta) = line.strip_prefix("# ") {
            let mut parts = meta.splitn(3, ' ');
            let (keyword, name, rest) = (parts.next(), parts.next(), parts.next());
            let (Some(keyword), Some(name)) = (keyword, name) else {
                return Err(at("bad metadata".into()));
            };
            if !is_name(name) {
                return Err(at(format!("bad family name {name}")));
            }
            if current.as_deref() != Some(name) {
                if families.contains_key(name) {
                    return Err(at(format!("family {name} is split")));
                }
                families.insert(name.to_string(), Family::default());
                current = Some(name.to_string());
            }
            let family = families.get_mut(name).ok_or("no family")?;
            match (keyword, rest) {
                ("TYPE", Some(kind)) => {
                    if !family.series.is_empty() || !family.kind.is_empty() {
                        return Err(at("TYPE after samples or twice".into()));
                    }
                    if ![
                        "counter",
                        "gauge",
                        "histogram",
                        "summary",
                        "info",
                        "stateset",
                        "gaugehistogram",
                        "unknown",
                    ]
                    .contains(&kind)
                    {
                        return Err(at(format!("unknown type {kind}")));
                    }
                    family.kind = kind.to_string();
                }
                ("HELP", Some(help)) => family.help = Some(help.to_string()),
                _ => return Err(at("unknown metadata".into())),
            }
            continue;
        }
        let (name, rest) = match line.find(['{', ' ']) {
            Some(i) => line.split_at(i),
            None => return Err(at("no value".into())),
        };
        let (labels, rest) = match rest.strip_prefix('{') {
            Some(rest) => labels(rest).map_err(at)?,
            None => (Vec::new(), rest),
        };
        let rest = rest
            .strip_prefix(' ')
            .ok_or_else(|| at("no space before value".into()))?;
        let mut fields = rest.split(' ');
        let value = number(fields.next().unwrap_or("")).map_err(at)?;
        let timestamp =
            number(fields.next().ok_or_else(|| at("no timestamp".into()))?).map_err(at)?;
        if fields.next().is_some() {
            return Err(at("trailing fields (exemplars are not written)".into()));
        }
        let family_name = current
            .clone()
            .ok_or_else(|| at("sample before any TYPE".into()))?;
        let family = families.get_mut(&family_name).ok_or("no family")?;
        let expected = match family.kind.as_str() {
            "counter" => format!("{family_name}_total"),
            "gauge" => family_name.clone(),
            other => return Err(at(format!("unexpected type {other}"))),
        };
        if name != expected {
            return Err(at(format!("sample {name} in family {family_name}")));
        }
        let key = (name.to_string(), labels);
        if last_series.as_ref() != Some(&key) {
            if let Some(last) = last_series.take() {
                closed_series.insert(last);
            }
            if closed_series.contains(&key) {
                return Err(at("series is split".into()));
            }
            last_series = Some(key.clone());
        }
        let points = family.series.entry(key).or_default();
        if let Some(&(before, previous)) = points.last() {
            if timestamp <= before {
                return Err(at("timestamp does not rise".into()));
            }
            if family.kind == "counter" && value < previous {
                return Err(at("counter falls".into()));
            }
        }
        if family.kind == "counter" && (value.is_nan() || value < 0.0) {
            return Err(at("negative counter".into()));
        }
        points.push((timestamp, value));
    }
    Ok(families)
}

/// The controller's metric table (`live-adapter/src/metrics.rs`): name → (type, labels).
fn controller_metrics() -> BTreeMap<String, (String, Vec<String>)> {
    let source = include_str!("../../../live-adapter/src/metrics.rs");
    let mut out = BTreeMap::new();
    for line in source.lines() {
        let Some(row) = line.strip_prefix("//! | `gpu_alloc_") else {
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let name = format!("gpu_alloc_{}", cells[0].trim_end_matches('`'));
        let labels = cells[2]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect();
        out.insert(name, (cells[1].to_string(), labels));
    }
    out
}

#[test]
fn the_openmetrics_export_parses_and_uses_the_controllers_names_and_labels() {
    let (output, summary) = run_with(300, "default", true);
    assert!(!output.metrics.is_empty());
    let text = sim::openmetrics::text(&output.metrics, 1_700_000_000);
    let families = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let controller = controller_metrics();
    assert!(
        controller.contains_key("gpu_alloc_decisions_total"),
        "{controller:?}"
    );
    assert_eq!(families.len(), 4, "{:?}", families.keys());
    for (name, family) in &families {
        let sample = if family.kind == "counter" {
            format!("{name}_total")
        } else {
            name.clone()
        };
        let (kind, labels) = controller
            .get(&sample)
            .unwrap_or_else(|| panic!("{sample} is not a metric the controller exports"));
        assert_eq!(&family.kind, kind, "{sample}");
        assert!(family.help.is_some());
        for (_, series_labels) in family.series.keys() {
            let names: Vec<&String> = series_labels.iter().map(|(n, _)| n).collect();
            assert_eq!(names, labels.iter().collect::<Vec<_>>(), "{sample}");
        }
    }
    // Times are the samples', shifted to the start given.
    let first = output.metrics[0].at.0 as f64 / 1000.0 + 1_700_000_000.0;
    let spend = &families["gpu_alloc_public_spend"];
    assert!(spend.series.values().all(|points| points[0].0 == first));
    // The decision counters end where the run's decisions did: every batch job admitted or
    // rejected at least once was counted.
    let decided: f64 = families["gpu_alloc_decisions"]
        .series
        .iter()
        .filter(|((_, labels), _)| labels[0].1 == "admit" || labels[0].1 == "reject")
        .map(|(_, points)| points.last().map_or(0.0, |p| p.1))
        .sum();
    let started = output
        .records
        .iter()
        .filter(|r| r.first_start.is_some() || r.reject_reason.is_some())
        .count() as f64;
    assert!(
        decided >= started * 0.9,
        "{decided} decisions, {started} jobs"
    );
    // Spend is money billed and reserved: never negative, one series per configured tenant.
    assert!(spend.series.values().flatten().all(|p| p.1 >= 0.0));
    let tenants = summary["public_cost_by_tenant"].as_object().unwrap().len();
    assert!(
        spend.series.len() >= tenants,
        "{} vs {tenants}",
        spend.series.len()
    );
    // Same run, same bytes.
    let (again, _) = run_with(300, "default", true);
    assert_eq!(text, sim::openmetrics::text(&again.metrics, 1_700_000_000));
}

#[test]
fn the_parser_refuses_what_promtool_refuses() {
    let good =
        "# TYPE a counter\n# HELP a x\na_total{k=\"v\"} 1 1.000\na_total{k=\"v\"} 2 2.000\n# EOF\n";
    assert!(parse(good).is_ok());
    for bad in [
        "# TYPE a counter\na_total 1 1.000\n",           // no EOF
        "# TYPE a counter\na 1 1.000\n# EOF\n",          // no _total
        "# TYPE a gauge\na 1 2.000\na 1 1.000\n# EOF\n", // time falls
        "# TYPE a counter\na_total 2 1.000\na_total 1 2.000\n# EOF\n", // counter falls
        "# TYPE a gauge\na{k=\"v} 1 1.000\n# EOF\n",     // bad label
        "# TYPE a gauge\na 1 1.000\n# TYPE b gauge\nb 1 1.000\n# TYPE a gauge\n# EOF\n", // split
        "a 1 1.000\n# EOF\n",                            // no TYPE
        "# TYPE a gauge\na{k=\"1\"} 1 1.000\na{k=\"2\"} 1 1.000\na{k=\"1\"} 1 2.000\n# EOF\n", // split series
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn sim_run_writes_the_same_metrics_for_a_replayed_trace() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = std::env::temp_dir().join(format!("sim-run-openmetrics-{}", std::process::id()));
    let file = out.join("metrics.om");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["run", "--trace"])
        .arg(format!("{root}/traces/examples/department-500.csv"))
        .arg("--fleet")
        .arg(format!("{root}/scenarios/fleets/department.yaml"))
        .arg("--out")
        .arg(&out)
        .arg("--openmetrics")
        .arg(&file)
        .env("NO_PROGRESS", "1")
        .output()
        .expect("the sim binary runs");
    assert!(status.status.success(), "{status:?}");
    let text = std::fs::read_to_string(&file).expect("the metrics file was written");
    let families = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let controller = controller_metrics();
    for (name, family) in &families {
        let sample = match family.kind.as_str() {
            "counter" => format!("{name}_total"),
            _ => name.clone(),
        };
        assert!(controller.contains_key(&sample), "{sample}");
    }
    assert!(families.contains_key("gpu_alloc_pending_jobs"));
    std::fs::remove_dir_all(&out).ok();
}
