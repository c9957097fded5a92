//! The HTML report: every section is there, numbers match the summary, bytes are stable,
//! input text is escaped, and long runs stay small.
#![allow(clippy::unwrap_used)]

use alloc_core::{Millis, TenantName};
use sim::engine::{EngineOptions, RunOutput};
use sim::fleet::FleetFile;
use sim::report::{compare, single, NotebookCells, RunView};
use sim::rng::Seed;
use sim::run::{simulate, RunPlan};
use sim::workload::synthetic::{generate, SyntheticSpec};
use std::path::Path;

mod costs;
mod openmetrics;
mod reasons;

fn run(jobs: usize, policy: &str) -> (RunOutput, serde_json::Value) {
    run_with(jobs, policy, false)
}

/// A synthetic run; `metrics` keeps the controller's metrics at each sample.
fn run_with(jobs: usize, policy: &str, metrics: bool) -> (RunOutput, serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/fleets/department.yaml");
    let fleet = FleetFile::load(&path).unwrap();
    let (config, nodes) = fleet.resolve(&path).unwrap();
    let workload = generate(
        &SyntheticSpec {
            jobs,
            ..SyntheticSpec::default()
        },
        Seed(7),
    );
    let plan = RunPlan {
        config,
        nodes,
        workload: sim::workload::Workload::batch(workload),
        policy_name: policy.into(),
        policy: sim::policy_preset(policy).unwrap(),
        options: EngineOptions {
            seed: Seed(3),
            metrics,
            ..EngineOptions::default()
        },
        inputs: vec![path],
    };
    let (output, summary, _) = simulate(plan, |_, _| {}).unwrap();
    (output, summary)
}

const SECTIONS: [&str; 10] = [
    "id=\"summary\"",
    "id=\"allocation\"",
    "id=\"queue\"",
    "id=\"waits\"",
    "id=\"reasons\"",
    "id=\"spend\"",
    "id=\"costs\"",
    "id=\"deadlines\"",
    "id=\"misses\"",
    "id=\"notebook\"",
];

#[test]
fn a_single_report_has_every_section_and_the_summary_numbers() {
    let (output, summary) = run(300, "default");
    let html = single(&RunView::new(&output, &summary));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.ends_with("</html>\n"));
    for section in SECTIONS {
        assert!(html.contains(section), "missing {section}");
    }
    // five charts: allocation, queue, waits, spend, deadlines; each accessible
    assert_eq!(html.matches("<svg ").count(), 5);
    assert_eq!(html.matches("role=\"img\"").count(), 5);
    assert_eq!(html.matches("<desc id=").count(), 5);
    assert!(html.contains("Simulation report: default, seed 3"));
    assert!(html.contains("<td>300</td>"), "submitted jobs");
    let finished = summary["jobs"]["finished"].as_u64().unwrap();
    assert!(html.contains(&format!("<td>{finished}</td>")));
    let cost = summary["public_cost"].as_f64().unwrap();
    assert!(html.contains(&format!("<td>{cost:.2}</td>")));
    let p95 = summary["wait_ms"]["p95"].as_f64().unwrap();
    let p95 = if p95 < 60_000.0 {
        format!("{:.1} s", p95 / 1000.0)
    } else if p95 < 3_600_000.0 {
        format!("{:.1} min", p95 / 60_000.0)
    } else {
        format!("{:.2} h", p95 / 3_600_000.0)
    };
    assert!(html.contains(&format!("<td>{p95}</td>")), "wait p95 {p95}");
    for tenant in ["lab-0", "lab-1", "lab-2"] {
        assert!(
            html.contains(tenant),
            "tenant {tenant} in the deadline chart"
        );
    }
    assert!(
        html.contains("No notebook sessions in this workload"),
        "a batch trace says why the notebook chart is empty"
    );
    // self-contained: no scripts, no external resources
    assert!(!html.contains("<script"));
    assert!(!html.contains("src="));
    assert!(!html.contains("href=\"http"));
    assert!(!html.contains("@import"));
}

#[test]
fn quota_that_strands_gpus_is_said_in_the_summary_and_the_report() {
    let (output, summary) = run(100, "default");
    assert!(
        summary.get("config_warnings").is_none(),
        "the bundled fleet strands nothing"
    );
    assert!(!single(&RunView::new(&output, &summary)).contains("can never be admitted"));

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/fleets/department.yaml");
    let (mut config, nodes) = FleetFile::load(&path).unwrap().resolve(&path).unwrap();
    for queue in config.cluster_queues.values_mut() {
        for quotas in queue
            .flavors
            .iter_mut()
            .filter(|q| q.flavor.as_str() == "a30")
        {
            if let Some(gpu) = quotas.resources.get_mut(&alloc_core::Resource::Gpu) {
                gpu.nominal = gpu.nominal.min(5000);
            }
        }
    }
    let plan = RunPlan {
        config,
        nodes,
        workload: sim::workload::Workload::batch(generate(
            &SyntheticSpec {
                jobs: 100,
                ..SyntheticSpec::default()
            },
            Seed(7),
        )),
        policy_name: "default".into(),
        policy: sim::policy_preset("default").unwrap(),
        options: EngineOptions::default(),
        inputs: vec![path],
    };
    let (output, summary, _) = simulate(plan, |_, _| {}).unwrap();
    let warning = "warning: flavor a30 has 16 GPUs but 15 GPUs of nominal quota";
    let warnings = summary["config_warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].as_str().unwrap().starts_with(warning));
    let view = RunView::new(&output, &summary);
    assert_eq!(single(&view).matches(warning).count(), 1);
    // said once in a comparison of runs on the same fleet
    assert_eq!(
        compare(&[view, RunView::new(&output, &summary)])
            .matches(warning)
            .count(),
        1
    );
}

#[test]
fn reports_are_byte_identical_for_the_same_run() {
    let (a, summary_a) = run(200, "default");
    let (b, summary_b) = run(200, "default");
    let first = single(&RunView::new(&a, &summary_a));
    assert_eq!(first, single(&RunView::new(&b, &summary_b)));
    assert_eq!(first, single(&RunView::new(&a, &summary_a)));
    let views = [RunView::new(&a, &summary_a), RunView::new(&b, &summary_b)];
    assert_eq!(compare(&views), compare(&views));
}

#[test]
fn input_text_is_escaped() {
    let (mut output, mut summary) = run(150, "default");
    for record in output.records.iter_mut().take(40) {
        record.job.tenant = TenantName::new("<script>alert('x')</script>");
    }
    summary["policy"] = "<b>bold</b>".into();
    let html = single(&RunView::new(&output, &summary));
    assert!(!html.contains("<script"));
    assert!(!html.contains("<b>bold"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"));
}

#[test]
fn a_comparison_has_one_line_and_one_column_per_policy() {
    let (a, summary_a) = run(300, "default");
    let (b, summary_b) = run(300, "never-burst");
    let (c, summary_c) = run(300, "always-burst");
    let views = [
        RunView::new(&a, &summary_a),
        RunView::new(&b, &summary_b),
        RunView::new(&c, &summary_c),
    ];
    let html = compare(&views);
    for section in SECTIONS {
        assert!(html.contains(section), "missing {section}");
    }
    for policy in ["default", "never-burst", "always-burst"] {
        assert!(html.contains(&format!("<th scope=\"col\">{policy}</th>")));
    }
    // allocation is one chart per tier, then queue, waits, spend, deadlines, and spend
    // against deadlines met
    assert_eq!(html.matches("<svg ").count(), 3 + 5);
    assert!(html.contains("id=\"pareto-chart-t\""));
    assert!(html.contains("Missed deadlines by reason"));
    // queue chart: one line per run
    let queue = html.split("id=\"queue\"").nth(1).unwrap();
    let queue = queue.split("</svg>").next().unwrap();
    assert_eq!(queue.matches("<path ").count(), 3);
    assert!(!html.contains("did not submit the same number of jobs"));

    let (d, summary_d) = run(100, "default");
    let html = compare(&[RunView::new(&a, &summary_a), RunView::new(&d, &summary_d)]);
    assert!(html.contains("did not submit the same number of jobs"));
    assert!(
        html.contains("default (seed 3)"),
        "repeated policies are told apart"
    );
}

#[test]
fn the_notebook_plot_draws_runs_that_carry_notebook_figures() {
    let (a, summary_a) = run(100, "default");
    let (b, summary_b) = run(100, "never-burst");
    let mut with = RunView::new(&a, &summary_a);
    with.notebook = Some(NotebookCells {
        idle_gpu_hours: 12.5,
        cell_latency_p50: Millis::seconds(40),
        cell_latency_p95: Millis::seconds(90),
    });
    let html = compare(&[with, RunView::new(&b, &summary_b)]);
    let section = html.split("id=\"notebook\"").nth(1).unwrap();
    assert!(section.contains("<svg "));
    assert!(section.contains(
        "default: 12.5 idle GPU-hours at median latency 40.0 s (95th percentile 1.5 min)"
    ));
    assert!(section.contains("1 runs without notebook data are not shown"));
}

#[test]
fn a_few_thousand_jobs_make_a_small_page() {
    let (output, summary) = run(2500, "default");
    assert!(output.samples.len() > 600, "enough samples to be thinned");
    let html = single(&RunView::new(&output, &summary));
    assert!(html.len() < 200_000, "single page is {} bytes", html.len());
    // no time-series path has more than 600 points
    for path in html.split("<path d=\"").skip(1) {
        let d = path.split('"').next().unwrap();
        assert!(d.matches(['M', 'L']).count() <= 2 * 600 + 1);
    }
    let views = [
        RunView::new(&output, &summary),
        RunView::new(&output, &summary),
    ];
    let html = compare(&views);
    assert!(
        html.len() < 400_000,
        "comparison page is {} bytes",
        html.len()
    );
}

#[test]
fn a_hundred_thousand_jobs_stay_under_a_megabyte() {
    let (output, summary) = run(1000, "default");
    let span = output.samples.last().unwrap().at.0 + 1;
    let mut big = output.clone();
    big.records = (0..100)
        .flat_map(|copy| {
            output.records.iter().cloned().map(move |mut record| {
                record.job.tenant = TenantName::new(format!("tenant-{copy}"));
                record
            })
        })
        .collect();
    big.samples = (0..40)
        .flat_map(|copy| {
            output
                .samples
                .iter()
                .map(move |sample| sim::record::timeseries::Sample {
                    at: alloc_core::Time(sample.at.0 + copy * span),
                    ..*sample
                })
        })
        .collect();
    assert_eq!(big.records.len(), 100_000);
    let html = single(&RunView::new(&big, &summary));
    assert!(html.len() < 1_000_000, "page is {} bytes", html.len());
    assert!(html.contains("70 tenants with fewer deadline jobs are not shown"));
    let views = [RunView::new(&big, &summary), RunView::new(&big, &summary)];
    assert!(compare(&views).len() < 1_000_000);
}
