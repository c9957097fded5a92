//! Properties every generator's output has: determinism per seed, ordering, dense unique ids,
//! parameter checks and the YAML shape. The calibration lives in `calibration_tests`.

#![allow(clippy::unwrap_used)]

use super::*;
use std::collections::BTreeSet;

/// The department fleet's private GPU-hours in a week (56 GPUs).
pub(super) const FLEET_GPU_HOURS_PER_WEEK: f64 = 56.0 * 168.0;

pub(super) fn semester(seed: u64) -> Workload {
    GeneratorSpec::SemesterPeak(SemesterPeak::default())
        .generate(Seed(seed))
        .unwrap()
}

fn short_term() -> GeneratorSpec {
    GeneratorSpec::SemesterPeak(SemesterPeak {
        weeks: 3,
        deadline_weeks: vec![3],
        ..SemesterPeak::default()
    })
}

fn all_specs() -> Vec<GeneratorSpec> {
    vec![
        short_term(),
        GeneratorSpec::NotebookDay(NotebookDay::default()),
        GeneratorSpec::ConferenceDeadline(ConferenceDeadline {
            days: 4,
            ..ConferenceDeadline::default()
        }),
        GeneratorSpec::Poisson(PoissonMix::default()),
    ]
}

fn check_numbering(workload: &Workload) {
    assert!(workload
        .jobs
        .windows(2)
        .all(|w| w[0].submit_time <= w[1].submit_time));
    assert!(workload
        .sessions
        .windows(2)
        .all(|w| w[0].opened <= w[1].opened));
    let mut ids = BTreeSet::new();
    for job in &workload.jobs {
        assert!(ids.insert(job.id.0), "job id {} twice", job.id);
    }
    for session in &workload.sessions {
        assert!(!session.cells.is_empty());
        for index in 0..session.cells.len() {
            assert!(ids.insert(session.first_cell_id.0 + index as u64));
        }
    }
    let next = workload.next_free_id().0;
    assert!(ids.iter().all(|&id| id >= 1 && id < next));
    assert_eq!(ids.len() as u64, next - 1, "ids are dense from 1");
}

#[test]
fn every_generator_is_deterministic_and_numbered() {
    for spec in all_specs() {
        let workload = spec.generate(Seed(11)).unwrap();
        assert!(workload.job_count() > 0, "{} is empty", spec.name());
        assert_eq!(
            workload,
            spec.generate(Seed(11)).unwrap(),
            "{}",
            spec.name()
        );
        assert_ne!(
            workload,
            spec.generate(Seed(12)).unwrap(),
            "{}",
            spec.name()
        );
        check_numbering(&workload);
    }
}

#[test]
fn poisson_is_the_synthetic_mix() {
    let spec = GeneratorSpec::Poisson(PoissonMix::default());
    let expected = synthetic_default(Seed(5));
    assert_eq!(spec.generate(Seed(5)).unwrap().jobs, expected);
    let renamed = GeneratorSpec::Poisson(PoissonMix {
        tenants: vec!["vision".into(), "nlp".into(), "robotics".into()],
        ..PoissonMix::default()
    });
    let jobs = renamed.generate(Seed(5)).unwrap().jobs;
    assert_eq!(jobs.len(), expected.len());
    for (job, original) in jobs.iter().zip(&expected) {
        assert_eq!(job.runtime, original.runtime);
        assert_eq!(job.queue.as_str(), job.tenant.as_str());
        assert!(job
            .user
            .as_str()
            .starts_with(&format!("{}-user-", job.tenant)));
    }
}

fn synthetic_default(seed: Seed) -> Vec<alloc_core::Job> {
    crate::workload::synthetic::generate(
        &crate::workload::synthetic::SyntheticSpec::default(),
        seed,
    )
}

#[test]
fn invalid_parameters_name_the_field() {
    let cases = [
        (
            GeneratorSpec::SemesterPeak(SemesterPeak {
                weeks: 0,
                ..SemesterPeak::default()
            }),
            "weeks",
        ),
        (
            GeneratorSpec::SemesterPeak(SemesterPeak {
                deadline_weeks: vec![7, 20],
                ..SemesterPeak::default()
            }),
            "deadline_weeks",
        ),
        (
            GeneratorSpec::SemesterPeak(SemesterPeak {
                urgent_share: 1.5,
                ..SemesterPeak::default()
            }),
            "urgent_share",
        ),
        (
            GeneratorSpec::SemesterPeak(SemesterPeak {
                sensitive_share: f64::NAN,
                ..SemesterPeak::default()
            }),
            "sensitive_share",
        ),
        (
            GeneratorSpec::SemesterPeak(SemesterPeak {
                sweeps_per_week: 50_000.0,
                ..SemesterPeak::default()
            }),
            "semester-peak",
        ),
        (
            GeneratorSpec::NotebookDay(NotebookDay {
                class_hours: 12.0,
                ..NotebookDay::default()
            }),
            "class_hours",
        ),
        (
            GeneratorSpec::ConferenceDeadline(ConferenceDeadline {
                tenants: vec!["a".into(), "a".into()],
                ..ConferenceDeadline::default()
            }),
            "tenants",
        ),
        (
            GeneratorSpec::Poisson(PoissonMix {
                mean_interarrival_seconds: -1.0,
                ..PoissonMix::default()
            }),
            "mean_interarrival_seconds",
        ),
    ];
    for (spec, field) in cases {
        // Matched rather than unwrapped: a generated workload is too big to print.
        let Err(error) = spec.generate(Seed(1)) else {
            panic!("{} accepted a bad {field}", spec.name());
        };
        assert!(error.contains(field), "{error:?} should name {field}");
        assert!(error.starts_with(spec.name()), "{error:?}");
    }
}

#[test]
fn yaml_uses_generator_names_and_defaults() {
    // Scenario files read generators as single-key maps, as the scenario loader does.
    let parse = |text: &str| {
        serde_norway::with::singleton_map::deserialize::<GeneratorSpec, _>(
            serde_norway::Deserializer::from_str(text),
        )
    };
    let spec = parse("semester-peak: {weeks: 12}").unwrap();
    let GeneratorSpec::SemesterPeak(params) = &spec else {
        panic!("{spec:?}");
    };
    assert_eq!(params.weeks, 12);
    assert_eq!(params.urgent_share, SemesterPeak::default().urgent_share);
    let day = parse("notebook-day: {}").unwrap();
    assert_eq!(day, GeneratorSpec::NotebookDay(NotebookDay::default()));
    let typo = parse("semester-peak: {wekes: 3}").unwrap_err().to_string();
    assert!(typo.contains("wekes"), "{typo}");
    let schema = serde_json::to_string(&schemars::schema_for!(GeneratorSpec)).unwrap();
    assert!(schema.contains("Probability that a main author submits"));
}
