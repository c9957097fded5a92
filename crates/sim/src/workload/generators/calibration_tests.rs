//! The calibration the scenarios promise, measured on their real output: rhythm, surges above
//! the department fleet, urgency of paper runs, sensitive share, the crowded class block.
//! Each test generates at most one default-sized term (well under a second in debug).

#![allow(clippy::unwrap_used)]

use super::batch::{PAPER_PRIORITY, SWEEP_PRIORITY, TRAINING_PRIORITY};
use super::calendar::{hour_of_day, weekday, DAY, HOUR};
use super::term::offered_gpu_hours_by_week;
use super::tests::{semester, FLEET_GPU_HOURS_PER_WEEK};
use super::*;
use alloc_core::DataClass;

#[test]
fn semester_follows_the_week_and_the_day() {
    let workload = semester(1);
    let training: Vec<f64> = workload
        .jobs
        .iter()
        .filter(|job| job.priority == TRAINING_PRIORITY)
        .map(|job| job.submit_time.0 as f64)
        .collect();
    let per_day = |days: &[usize]| {
        training
            .iter()
            .filter(|&&t| days.contains(&weekday(t)))
            .count() as f64
            / days.len() as f64
    };
    let weekend_ratio = per_day(&[5, 6]) / per_day(&[0, 1, 2, 3, 4]);
    assert!((0.3..0.47).contains(&weekend_ratio), "{weekend_ratio}");
    let per_hour = |hours: std::ops::Range<usize>| {
        let width = hours.len() as f64;
        training
            .iter()
            .filter(|&&t| hours.contains(&hour_of_day(t)))
            .count() as f64
            / width
    };
    let night_ratio = per_hour(1..6) / per_hour(10..18);
    assert!(night_ratio < 0.15, "{night_ratio}");
}

#[test]
fn surge_weeks_exceed_the_fleet_and_normal_weeks_fit() {
    let workload = semester(2);
    let weeks = offered_gpu_hours_by_week(&workload, 16);
    let mean =
        |indices: &[usize]| indices.iter().map(|&w| weeks[w]).sum::<f64>() / indices.len() as f64;
    // Weeks are 0-based here: deadlines end weeks 7 and 14, surges cover the two before.
    let surge = mean(&[5, 6, 12, 13]);
    let normal = mean(&[0, 1, 2, 3, 8, 9, 10, 14, 15]);
    let normal_load = normal / FLEET_GPU_HOURS_PER_WEEK;
    assert!(
        (0.5..0.85).contains(&normal_load),
        "normal {normal_load:.2}"
    );
    assert!(
        surge > 1.2 * normal,
        "surge {surge:.0} vs normal {normal:.0}"
    );
    assert!(surge > 1.2 * FLEET_GPU_HOURS_PER_WEEK, "surge {surge:.0}");
    assert!((30_000..=60_000).contains(&workload.job_count()));
}

#[test]
fn paper_runs_keep_their_deadlines_and_urgency() {
    let workload = semester(3);
    let papers: Vec<_> = workload
        .jobs
        .iter()
        .filter(|job| job.priority == PAPER_PRIORITY)
        .collect();
    assert!(papers.len() > 300, "{} paper runs", papers.len());
    let mut tight = 0;
    for job in &papers {
        let deadline = job.deadline.unwrap().0;
        let slack = deadline - job.submit_time.0 - job.runtime.0;
        tight += usize::from(slack <= HOUR as u64);
        let conference = [7.0 * 7.0 * DAY, 14.0 * 7.0 * DAY]
            .into_iter()
            .find(|&c| job.submit_time.0 as f64 <= c)
            .unwrap();
        assert!(deadline as f64 <= conference + 12.0 * HOUR + 1.0);
        assert!(job.user.as_str().ends_with("-user-0") || job.user.as_str().ends_with("-user-1"));
    }
    let share = tight as f64 / papers.len() as f64;
    assert!((0.53..0.67).contains(&share), "urgent share {share:.2}");
}

#[test]
fn sensitive_share_is_near_target() {
    let workload = semester(4);
    // Sweeps share one data class per sweep, so they are counted once each, by their head.
    let jobs = workload
        .jobs
        .iter()
        .filter(|job| job.priority != SWEEP_PRIORITY);
    let classes: Vec<DataClass> = jobs
        .map(|job| job.data_class)
        .chain(workload.sessions.iter().map(|s| s.template.data_class))
        .collect();
    let share = classes
        .iter()
        .filter(|&&class| class == DataClass::Sensitive)
        .count() as f64
        / classes.len() as f64;
    assert!((0.12..0.18).contains(&share), "sensitive {share:.3}");
}

#[test]
fn notebook_day_has_a_crowded_class_block() {
    let workload = GeneratorSpec::NotebookDay(NotebookDay::default())
        .generate(Seed(6))
        .unwrap();
    let class: Vec<_> = workload
        .sessions
        .iter()
        .filter(|s| s.template.user.as_str().contains("-student-"))
        .collect();
    assert_eq!(class.len(), 60);
    let open_at_three = |s: &&&Session| {
        let opened = s.opened.0;
        let busy: u64 = s.cells.iter().map(|c| c.think.0 + c.compute.0).sum();
        opened <= 15 * HOUR as u64 && opened + busy >= 15 * HOUR as u64
    };
    assert!(class.iter().filter(open_at_three).count() >= 50);
    assert!(workload.sessions.len() > 70 && !workload.jobs.is_empty());
}

#[test]
fn conference_deadline_is_a_surge_throughout() {
    let workload = GeneratorSpec::ConferenceDeadline(ConferenceDeadline::default())
        .generate(Seed(7))
        .unwrap();
    let weeks = offered_gpu_hours_by_week(&workload, 2);
    let mean = weeks.iter().sum::<f64>() / 2.0;
    assert!(mean > 1.2 * FLEET_GPU_HOURS_PER_WEEK, "{weeks:?}");
}

/// Prints the calibration numbers of the defaults:
/// `cargo test -p sim --release --lib generators::calibration_tests::calibration -- --ignored --nocapture`.
#[test]
#[ignore]
fn calibration() {
    let specs = [
        (GeneratorSpec::SemesterPeak(SemesterPeak::default()), 16),
        (
            GeneratorSpec::ConferenceDeadline(ConferenceDeadline::default()),
            2,
        ),
        (GeneratorSpec::NotebookDay(NotebookDay::default()), 1),
    ];
    for (spec, weeks) in specs {
        for seed in 1..=3 {
            let workload = spec.generate(Seed(seed)).unwrap();
            let cells: usize = workload.sessions.iter().map(|s| s.cells.len()).sum();
            let offered = offered_gpu_hours_by_week(&workload, weeks);
            let papers = workload
                .jobs
                .iter()
                .filter(|j| j.priority == PAPER_PRIORITY)
                .count();
            let sweeps = workload
                .jobs
                .iter()
                .filter(|j| j.priority == SWEEP_PRIORITY)
                .count();
            println!(
                "{} seed {seed}: {} jobs ({papers} paper, {sweeps} sweep), {} sessions, {cells} \
                 cells, total {}; GPU-h/week {:?}",
                spec.name(),
                workload.jobs.len(),
                workload.sessions.len(),
                workload.job_count(),
                offered.iter().map(|h| h.round()).collect::<Vec<_>>()
            );
        }
    }
}
