//! The trace layer: native CSV round trip and validation, each importer on tiny synthetic files,
//! and (when `../shared/traces` is present) every real trace with its measured row counts.
#![allow(clippy::unwrap_used)]

use sim::trace::native::{read_native, write_native, COLUMNS};
use sim::trace::{import, BudgetKind, DataClass, Format, ImportReport, Tier, TraceJob};
use sim::SimError;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A job with every field away from its default.
fn full_job(job_id: u64) -> TraceJob {
    TraceJob {
        job_id,
        submit_ms: 5_000,
        tenant: "lab-a".into(),
        user: "ada, lovelace".into(),
        queue: "lab-a-q".into(),
        gpus: 1,
        gpu_milli: 250,
        vram_mib: 8_192,
        spread: true,
        cpu_milli: 4_000,
        memory_mib: 32_768,
        gpu_models: vec!["A100".into(), "H100".into()],
        min_tier: Tier::Gold,
        priority: -3,
        runtime_ms: 3_600_000,
        deadline_ms: Some(7_205_000),
        budget_kind: BudgetKind::Fixed,
        budget: Some(12_500_001),
        burstable: true,
        data_class: DataClass::Sensitive,
        checkpoint_interval_ms: Some(600_000),
        restore_ms: 30_000,
    }
}

#[test]
fn native_round_trip_is_exact() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("jobs.csv");
    let mut whole = TraceJob::new(2, 0, 1);
    whole.gpus = 8;
    let jobs = vec![
        full_job(1),
        TraceJob::new(3, 5_000, 0),
        whole,
        TraceJob::new(0, 9_000, 7),
    ];
    write_native(&path, &jobs).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().next().unwrap(), COLUMNS.join(","));
    assert!(
        text.contains(",12.500001,"),
        "budget written as an exact decimal:\n{text}"
    );

    let read = read_native(&path, false).unwrap();
    assert!(read.skipped.is_empty());
    let mut expected = jobs.clone();
    expected.sort_by_key(|job| (job.submit_ms, job.job_id));
    assert_eq!(read.jobs, expected);

    write_native(&path, &read.jobs).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "writing again gives the same bytes"
    );
}

#[test]
fn absent_columns_and_empty_cells_mean_defaults() {
    let dir = TempDir::new().unwrap();
    let minimal = write(
        &dir,
        "min.csv",
        "runtime_ms,submit_ms,job_id\n60000,10,7\n60000,5,9\n",
    );
    let read = read_native(&minimal, false).unwrap();
    assert_eq!(
        read.jobs,
        vec![TraceJob::new(9, 5, 60_000), TraceJob::new(7, 10, 60_000)]
    );

    let empty_cells = format!("{}\n7,10,,,,,,,,,,,,,60000,,,,,,,\n", COLUMNS.join(","));
    let path = write(&dir, "empty.csv", &empty_cells);
    assert_eq!(
        read_native(&path, false).unwrap().jobs,
        vec![TraceJob::new(7, 10, 60_000)]
    );

    let spaced = write(
        &dir,
        "spaced.csv",
        "job_id, submit_ms ,runtime_ms,min_tier,budget\n 1 ,2,3, SILVER ,0.5\n",
    );
    let job = &read_native(&spaced, false).unwrap().jobs[0];
    assert_eq!((job.min_tier, job.budget), (Tier::Silver, Some(500_000)));
}

/// A native file whose line 2 is good and line 3 has `value` in `column`.
fn bad_cell_file(dir: &TempDir, column: &str, value: &str) -> PathBuf {
    let good = [
        "1", "0", "t", "u", "q", "1", "1000", "0", "false", "1000", "4096", "", "bronze", "0",
        "60000", "", "flex", "", "false", "internal", "", "0",
    ];
    let mut bad = good;
    bad[0] = "2";
    let position = COLUMNS.iter().position(|name| *name == column).unwrap();
    bad[position] = value;
    if column == "gpu_milli" && value == "500" {
        bad[5] = "2";
    }
    let text = format!(
        "{}\n{}\n{}\n",
        COLUMNS.join(","),
        good.join(","),
        bad.join(",")
    );
    write(dir, &format!("bad-{column}-{}.csv", value.len()), &text)
}

fn expect_bad_row(
    result: Result<impl std::fmt::Debug, SimError>,
    want_line: u64,
    want_field: &str,
) -> String {
    match result {
        Err(SimError::BadRow {
            line,
            field,
            reason,
            ..
        }) => {
            assert_eq!(
                (line, field.as_str()),
                (want_line, want_field),
                "reason: {reason}"
            );
            reason
        }
        other => panic!("expected BadRow at {want_line} {want_field}, got {other:?}"),
    }
}

#[test]
fn every_bad_cell_is_a_bad_row_naming_line_and_field() {
    let dir = TempDir::new().unwrap();
    let cases = [
        ("job_id", "x", "unsigned integer"),
        ("job_id", "", "required"),
        ("submit_ms", "-1", "unsigned integer"),
        ("gpus", "two", "whole GPUs"),
        ("gpu_milli", "0", "1..=1000"),
        ("gpu_milli", "1001", "1..=1000"),
        ("gpu_milli", "500", "gpus = 1"),
        ("vram_mib", "8G", "MiB"),
        ("cpu_milli", "1.5", "milli-CPU"),
        ("memory_mib", "lots", "MiB"),
        ("gpu_models", "A100||H100", "empty name"),
        ("min_tier", "platinum", "bronze|silver|gold"),
        ("priority", "99999999999", "32-bit"),
        ("runtime_ms", "", "required"),
        ("deadline_ms", "0", "after submit_ms"),
        ("budget_kind", "maybe", "fixed|flex"),
        ("budget", "1.0000001", "at most 6 decimals"),
        ("budget", "-3", "non-negative"),
        ("burstable", "yes", "true or false"),
        ("data_class", "secret", "public|internal|sensitive"),
        ("checkpoint_interval_ms", "0", "positive"),
        ("restore_ms", "soon", "unsigned integer"),
    ];
    for (column, value, phrase) in cases {
        let path = bad_cell_file(&dir, column, value);
        let reason = expect_bad_row(read_native(&path, false), 3, column);
        assert!(
            reason.contains(phrase),
            "{column}={value:?}: {reason:?} lacks {phrase:?}"
        );
    }
}

#[test]
fn duplicate_ids_wrong_width_and_bad_bytes_are_bad_rows() {
    let dir = TempDir::new().unwrap();
    let duplicate = write(
        &dir,
        "dup.csv",
        "job_id,submit_ms,runtime_ms\n4,0,1\n5,0,1\n4,9,1\n",
    );
    let reason = expect_bad_row(read_native(&duplicate, false), 4, "job_id");
    assert!(reason.contains("line 2"), "{reason}");

    let narrow = write(&dir, "narrow.csv", "job_id,submit_ms,runtime_ms\n1,0\n");
    expect_bad_row(read_native(&narrow, false), 2, "row");

    let path = dir.path().join("bytes.csv");
    std::fs::write(
        &path,
        b"job_id,submit_ms,runtime_ms,tenant\n1,0,1,\xff\xfe\n",
    )
    .unwrap();
    expect_bad_row(read_native(&path, false), 2, "tenant");
}

#[test]
fn skip_bad_rows_counts_every_skipped_row() {
    let dir = TempDir::new().unwrap();
    let text =
        "job_id,submit_ms,runtime_ms,gpus\n1,0,10,1\nx,0,10,1\n2,5,10,nine\n\n3,1,10,2\n1,7,10,1\n";
    let path = write(&dir, "mixed.csv", text);
    expect_bad_row(read_native(&path, false), 3, "job_id");

    let read = read_native(&path, true).unwrap();
    assert_eq!(
        read.jobs.iter().map(|job| job.job_id).collect::<Vec<_>>(),
        vec![1, 3]
    );
    let lines: Vec<u64> = read
        .skipped
        .iter()
        .map(|error| match error {
            SimError::BadRow { line, .. } => *line,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        lines,
        vec![3, 4, 7],
        "the blank line still counts as a line"
    );
}

#[test]
fn unknown_or_missing_columns_reject_the_file() {
    let dir = TempDir::new().unwrap();
    let typo = write(
        &dir,
        "typo.csv",
        "job_id,submit_ms,runtime_ms,gpu_mili\n1,0,1,500\n",
    );
    match read_native(&typo, true) {
        Err(SimError::BadFile { reason, .. }) => assert!(reason.contains("gpu_mili"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let missing = write(&dir, "missing.csv", "job_id,submit_ms\n1,0\n");
    match read_native(&missing, true) {
        Err(SimError::BadFile { reason, .. }) => assert!(reason.contains("runtime_ms"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let empty = write(&dir, "empty.csv", "");
    assert!(matches!(
        read_native(&empty, true),
        Err(SimError::BadFile { .. })
    ));
    let twice = write(&dir, "twice.csv", "job_id,submit_ms,runtime_ms,job_id\n");
    assert!(matches!(
        read_native(&twice, true),
        Err(SimError::BadFile { .. })
    ));
    assert!(matches!(
        read_native(&dir.path().join("absent.csv"), true),
        Err(SimError::Io { .. })
    ));
}

#[test]
fn write_refuses_what_it_could_not_read_back() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("out.csv");
    let refusals = [
        vec![TraceJob::new(1, 0, 1), TraceJob::new(1, 5, 1)],
        vec![TraceJob {
            tenant: " padded".into(),
            ..TraceJob::new(1, 0, 1)
        }],
        vec![TraceJob {
            gpu_models: vec!["A|B".into()],
            ..TraceJob::new(1, 0, 1)
        }],
        vec![TraceJob {
            gpus: 2,
            gpu_milli: 500,
            ..TraceJob::new(1, 0, 1)
        }],
        vec![TraceJob {
            deadline_ms: Some(10),
            ..TraceJob::new(1, 10, 1)
        }],
    ];
    for jobs in refusals {
        assert!(
            matches!(write_native(&path, &jobs), Err(SimError::BadFile { .. })),
            "{jobs:?}"
        );
    }
}

/// The accounting every importer promises.
fn assert_accounted(report: &ImportReport) {
    let total = report.jobs.len() as u64 + report.dropped_total() + report.skipped_bad;
    assert_eq!(report.rows_read, total, "{report}");
    let keys: Vec<(u64, u64)> = report
        .jobs
        .iter()
        .map(|job| (job.submit_ms, job.job_id))
        .collect();
    assert!(
        keys.windows(2).all(|pair| pair[0] < pair[1]),
        "sorted by (submit, id)"
    );
    let mut ids: Vec<u64> = report.jobs.iter().map(|job| job.job_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), report.jobs.len(), "ids unique");
    for job in &report.jobs {
        assert_eq!(job.check(), Ok(()), "{job:?}");
    }
}

/// Imports through the public dispatcher, as `sim import` does, and checks the accounting.
fn import_files(
    format: Format,
    paths: &[&Path],
    skip_bad_rows: bool,
) -> Result<ImportReport, SimError> {
    let inputs: Vec<PathBuf> = paths.iter().map(|path| path.to_path_buf()).collect();
    let report = import(format, &inputs, skip_bad_rows)?;
    assert_accounted(&report);
    Ok(report)
}

#[test]
fn formats_use_the_cli_names() {
    let names = [
        (Format::AlibabaOpenb, "alibaba-openb"),
        (Format::Philly, "philly"),
        (Format::Itp, "itp"),
        (Format::Chronus, "chronus"),
    ];
    for (format, name) in names {
        assert_eq!(name.parse::<Format>(), Ok(format));
        assert_eq!(format.to_string(), name);
    }
    assert!("openb"
        .parse::<Format>()
        .unwrap_err()
        .contains("alibaba-openb|philly|itp|chronus"));
}

fn dropped(report: &ImportReport) -> Vec<(&str, u64)> {
    report
        .dropped
        .iter()
        .map(|(reason, count)| (reason.as_str(), *count))
        .collect()
}

fn ids(report: &ImportReport) -> Vec<u64> {
    report.jobs.iter().map(|job| job.job_id).collect()
}

mod importers {
    use super::*;

    const OPENB: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
openb-pod-0007,4000,8192,1,250,T4|P100,LS,Running,10,500,12
openb-pod-0003,8000,16384,2,1000,,BE,Succeeded,5,100,5
openb-pod-0004,1000,1024,0,0,,Burstable,Pending,20,50,
openb-pod-0005,1000,1024,0,0,,Guaranteed,Failed,30,40,45
";

    #[test]
    fn openb_maps_pods_and_counts_what_it_drops() {
        let dir = TempDir::new().unwrap();
        let path = write(&dir, "pods.csv", OPENB);
        let report = import_files(Format::AlibabaOpenb, &[&path], false).unwrap();
        assert_eq!(report.rows_read, 4);
        assert_eq!(
            dropped(&report),
            vec![
                ("deletion_time before scheduled_time", 1),
                ("never scheduled (Pending): run time unknown", 1)
            ]
        );
        let mut whole = TraceJob::new(3, 5_000, 95_000);
        (
            whole.gpus,
            whole.cpu_milli,
            whole.memory_mib,
            whole.priority,
        ) = (2, 8_000, 16_384, -1);
        let mut fraction = TraceJob::new(7, 10_000, 488_000);
        (
            fraction.gpus,
            fraction.gpu_milli,
            fraction.cpu_milli,
            fraction.memory_mib,
        ) = (1, 250, 4_000, 8_192);
        (fraction.gpu_models, fraction.priority) = (vec!["T4".into(), "P100".into()], 1);
        assert_eq!(report.jobs, vec![whole, fraction]);

        let twice = import_files(Format::AlibabaOpenb, &[&path, &path], false).unwrap();
        assert_eq!(
            ids(&twice),
            vec![1, 3, 0, 2],
            "repeated pod names: renumbered in input order"
        );
    }

    #[test]
    fn openb_refuses_lists_without_times_and_bad_rows() {
        let dir = TempDir::new().unwrap();
        let static_list = write(
            &dir,
            "multigpu.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\nopenb-pod-0000,1,1,1,1000\n",
        );
        assert!(matches!(
            import_files(Format::AlibabaOpenb, &[&static_list], true),
            Err(SimError::BadFile { .. })
        ));

        let bad = OPENB
            .replace("BE,Succeeded", "XL,Succeeded")
            .replace("2,1000,,XL", "2,500,,XL");
        let path = write(&dir, "bad.csv", &bad);
        let error = import_files(Format::AlibabaOpenb, &[&path], false);
        expect_bad_row(error, 3, "gpu_milli");
        let report = import_files(Format::AlibabaOpenb, &[&path], true).unwrap();
        assert_eq!((report.skipped_bad, report.jobs.len()), (1, 1));
        assert!(
            report.to_string().contains("skipped bad rows: 1"),
            "{report}"
        );
    }

    #[test]
    fn philly_numbers_jobs_and_starts_the_clock_at_zero() {
        let dir = TempDir::new().unwrap();
        let text = "timestamp,duration,num_gpus,gpu_time,cluster
2017-10-09 07:01:55,66.0,1,66.0,vc1
2017-10-08 23:59:59,2951.5,8,23612.0,vc2
2017-10-09 07:01:56,10.0,0,0.0,vc1
";
        let path = write(&dir, "philly.csv", text);
        let report = import_files(Format::Philly, &[&path], false).unwrap();
        assert_eq!(dropped(&report), vec![("num_gpus = 0", 1)]);
        let mut first = TraceJob::new(1, 0, 2_951_500);
        (first.gpus, first.tenant, first.queue) = (8, "vc2".into(), "vc2".into());
        first.spread = true;
        let mut second = TraceJob::new(0, 25_316_000, 66_000);
        (second.gpus, second.tenant, second.queue) = (1, "vc1".into(), "vc1".into());
        assert_eq!(report.jobs, vec![first, second]);

        let bad = write(
            &dir,
            "bad.csv",
            &text.replace("2017-10-09 07:01:55", "2017-10-32 07:01:55"),
        );
        expect_bad_row(import_files(Format::Philly, &[&bad], false), 2, "timestamp");

        let workload = write(
            &dir,
            "workload-1.csv",
            "name,time,application,num_replicas,batch_size\nx-0,1,ncf,1,32\n",
        );
        match import_files(Format::Philly, &[&workload], false) {
            Err(SimError::BadFile { reason, .. }) => assert!(reason.contains("no run"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn itp_reads_raw_and_deadline_files_together() {
        let dir = TempDir::new().unwrap();
        let raw = write(
            &dir,
            "cluster07.csv",
            "job_id,submission_time,duration,num_gpu\naaaa,100,600,4\nbbbb,50,700,1",
        );
        let flow = write(
            &dir,
            "cluster08.csv",
            "job_id,submission_time,num_iteration,model_name,deadline,batch_size,num_gpu,duration
cccc,10,5,bert,900,64,2,1000
dddd,20,5,bert,20,64,2,1000
eeee,30,5,bert,100,64,0,1000
",
        );
        let report = import_files(Format::Itp, &[&raw, &flow], false).unwrap();
        assert_eq!(report.rows_read, 5);
        assert_eq!(
            dropped(&report),
            vec![
                ("deadline not after submission_time", 1),
                ("num_gpu = 0", 1)
            ]
        );
        assert_eq!(ids(&report), vec![2, 1, 0]);
        let deadline_job = &report.jobs[0];
        assert_eq!(
            (
                deadline_job.tenant.as_str(),
                deadline_job.queue.as_str(),
                deadline_job.submit_ms,
                deadline_job.runtime_ms
            ),
            ("cluster08", "cluster08", 10_000, 1_000_000)
        );
        assert_eq!(
            (
                deadline_job.deadline_ms,
                deadline_job.min_tier,
                deadline_job.gpus
            ),
            (Some(900_000), Tier::Gold, 2)
        );
        let raw_job = &report.jobs[2];
        assert_eq!(
            (
                raw_job.queue.as_str(),
                raw_job.deadline_ms,
                raw_job.min_tier
            ),
            ("cluster07", None, Tier::Bronze)
        );

        let bad = write(
            &dir,
            "bad.csv",
            "job_id,submission_time,duration,num_gpu\na,1,2,3\nb,x,2,3\n",
        );
        expect_bad_row(
            import_files(Format::Itp, &[&bad], false),
            3,
            "submission_time",
        );
        let missing = write(&dir, "missing.csv", "job_id,submission_time\na,1\n");
        assert!(matches!(
            import_files(Format::Itp, &[&missing], false),
            Err(SimError::BadFile { .. })
        ));
    }

    const CHRONUS: &str = "job_id,user,num_gpu,submit_time,iterations,model_name,duration,interval,expect_time_list,expect_value_list,best_effort,job_type
5,vc_a,1,100,10,alexnet,60,5,120,10,0,strict
6,vc_b,4,90,10,vgg16,30,5,40-60-80,10-8-5,0,soft
7,vc_a,2,80,10,vgg16,30,5,80,0,1,best
8,vc_a,0,80,10,vgg16,30,5,80,10,0,strict
";

    #[test]
    fn chronus_maps_deadline_classes_to_tiers() {
        let dir = TempDir::new().unwrap();
        let path = write(&dir, "trace.csv", CHRONUS);
        let report = import_files(Format::Chronus, &[&path], false).unwrap();
        assert_eq!(dropped(&report), vec![("num_gpu = 0", 1)]);
        let summary: Vec<_> = report
            .jobs
            .iter()
            .map(|job| (job.job_id, job.min_tier, job.deadline_ms, job.gpus))
            .collect();
        assert_eq!(
            summary,
            vec![
                (7, Tier::Bronze, None, 2),
                (6, Tier::Silver, Some(130_000), 4),
                (5, Tier::Gold, Some(220_000), 1)
            ]
        );
        assert_eq!(
            (
                report.jobs[1].tenant.as_str(),
                report.jobs[1].queue.as_str()
            ),
            ("vc_b", "vc_b")
        );

        let twice = import_files(Format::Chronus, &[&path, &path], false).unwrap();
        assert_eq!(
            ids(&twice),
            vec![2, 5, 1, 4, 0, 3],
            "ids repeat across files: renumbered"
        );
    }

    #[test]
    fn chronus_rejects_contradictory_rows() {
        let dir = TempDir::new().unwrap();
        let contradiction = write(
            &dir,
            "a.csv",
            &CHRONUS.replace("120,10,0,strict", "120,10,1,strict"),
        );
        expect_bad_row(
            import_files(Format::Chronus, &[&contradiction], false),
            2,
            "best_effort",
        );
        let two_strict = write(
            &dir,
            "b.csv",
            &CHRONUS.replace("120,10,0,strict", "120-130,10,0,strict"),
        );
        expect_bad_row(
            import_files(Format::Chronus, &[&two_strict], false),
            2,
            "expect_time_list",
        );
        let unknown = write(&dir, "c.csv", &CHRONUS.replace("0,soft", "0,firm"));
        let report = import_files(Format::Chronus, &[&unknown], true).unwrap();
        assert_eq!((report.skipped_bad, report.jobs.len()), (1, 2));
        match &report.first_bad[..] {
            [SimError::BadRow { line: 3, field, .. }] => assert_eq!(field, "job_type"),
            other => panic!("{other:?}"),
        }
    }
}

/// The public traces in `../shared/traces`, when this checkout has them: rows read are the counts
/// their SOURCE.md states; imported and dropped counts were measured and are listed in
/// `traces/README.md`.
mod real {
    use super::*;

    fn shared_traces() -> Option<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/traces");
        if root.is_dir() {
            Some(root)
        } else {
            eprintln!(
                "skipping: ../shared/traces not found (looked in {})",
                root.display()
            );
            None
        }
    }

    fn imported(format: Format, root: &Path, files: &[String]) -> ImportReport {
        let paths: Vec<PathBuf> = files.iter().map(|file| root.join(file)).collect();
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        import_files(format, &refs, false).unwrap()
    }

    /// Writes the jobs as a native trace and reads them back unchanged.
    fn assert_native_round_trip(report: &ImportReport) {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("native.csv");
        write_native(&path, &report.jobs).unwrap();
        assert_eq!(read_native(&path, false).unwrap().jobs, report.jobs);
    }

    fn tier_counts(report: &ImportReport) -> [usize; 3] {
        let count = |tier| {
            report
                .jobs
                .iter()
                .filter(|job| job.min_tier == tier)
                .count()
        };
        [count(Tier::Gold), count(Tier::Silver), count(Tier::Bronze)]
    }

    const NEVER_SCHEDULED: &str = "never scheduled (Pending): run time unknown";

    #[test]
    fn alibaba_openb() {
        let Some(root) = shared_traces() else { return };
        // (file suffix, rows read, dropped as never scheduled); every other row is imported.
        let expected = [
            ("default", 8_152, 897),
            ("gpushare20", 8_152, 840),
            ("gpushare40", 8_152, 981),
            ("gpushare60", 8_152, 1_050),
            ("gpushare80", 8_152, 1_146),
            ("gpushare100", 8_152, 1_209),
            ("gpuspec05", 8_152, 897),
            ("gpuspec10", 8_152, 897),
            ("gpuspec20", 8_152, 897),
            ("gpuspec25", 8_152, 897),
            ("gpuspec33", 8_152, 897),
            ("cpu0", 7_064, 861),
            ("cpu037", 7_336, 870),
            ("cpu050", 7_439, 878),
            ("cpu072", 7_608, 884),
            ("cpu100", 7_853, 883),
            ("cpu200", 8_832, 927),
            ("cpu235", 9_240, 933),
            ("cpu250", 9_420, 934),
            ("cpu300", 10_094, 955),
        ];
        for (suffix, rows, never_scheduled) in expected {
            let report = imported(
                Format::AlibabaOpenb,
                &root,
                &[format!("alibaba-openb/openb_pod_list_{suffix}.csv")],
            );
            assert_eq!(report.rows_read, rows, "{suffix}");
            assert_eq!(
                dropped(&report),
                vec![(NEVER_SCHEDULED, never_scheduled)],
                "{suffix}"
            );
            assert_eq!(report.jobs.len() as u64, rows - never_scheduled, "{suffix}");
        }
        let default = imported(
            Format::AlibabaOpenb,
            &root,
            &["alibaba-openb/openb_pod_list_default.csv".into()],
        );
        let fractions = default
            .jobs
            .iter()
            .filter(|job| job.gpus == 1 && job.gpu_milli < 1000)
            .count();
        assert!(
            fractions > 2_500,
            "most of the 3,078 fractional tasks are kept: {fractions}"
        );
        assert_native_round_trip(&default);

        for n in [20, 30, 40, 50] {
            let path = root.join(format!("alibaba-openb/openb_pod_list_multigpu{n}.csv"));
            let result = import_files(Format::AlibabaOpenb, &[&path], false);
            assert!(
                matches!(result, Err(SimError::BadFile { .. })),
                "multigpu{n} has no times"
            );
        }
    }

    #[test]
    fn philly_pollux() {
        let Some(root) = shared_traces() else { return };
        let report = imported(Format::Philly, &root, &["philly-pollux/philly.csv".into()]);
        assert_eq!((report.rows_read, report.jobs.len()), (82_247, 82_247));
        assert!(report.dropped.is_empty());
        let tenants: std::collections::BTreeSet<&str> =
            report.jobs.iter().map(|job| job.tenant.as_str()).collect();
        assert_eq!(tenants.len(), 15, "15 VCs");
        // 2017-09-04 10:30:41 → 2017-12-22 08:02:11.
        assert_eq!(
            (
                report.jobs[0].submit_ms,
                report.jobs.last().map(|job| job.submit_ms)
            ),
            (0, Some(9_408_690_000))
        );
        assert_native_round_trip(&report);

        let workload = root.join("philly-pollux/workloads/workload-6.csv");
        assert!(matches!(
            import_files(Format::Philly, &[&workload], false),
            Err(SimError::BadFile { .. })
        ));
    }

    #[test]
    fn elasticflow_itp() {
        let Some(root) = shared_traces() else { return };
        let rows = [
            1_595, 5_778, 3_011, 15_802, 3_629, 2_396, 12_699, 13_047, 11_134, 260,
        ];
        for (folder, deadlines) in [("raw-traces", false), ("elasticflow-traces", true)] {
            let files: Vec<String> = (1..=10)
                .map(|n| format!("elasticflow-itp/{folder}/cluster{n:02}.csv"))
                .collect();
            for (file, expected) in files.iter().zip(rows) {
                let report = imported(Format::Itp, &root, std::slice::from_ref(file));
                assert_eq!(
                    (report.rows_read, report.jobs.len()),
                    (expected, expected as usize),
                    "{file}"
                );
            }
            let all = imported(Format::Itp, &root, &files);
            assert_eq!(
                (all.rows_read, all.jobs.len()),
                (69_351, 69_351),
                "{folder}"
            );
            assert!(all.dropped.is_empty(), "{folder}");
            let with_deadline = all
                .jobs
                .iter()
                .filter(|job| job.deadline_ms.is_some())
                .count();
            assert_eq!(
                with_deadline,
                if deadlines { 69_351 } else { 0 },
                "{folder}"
            );
        }
        let slice = imported(
            Format::Itp,
            &root,
            &["elasticflow-itp/elasticflow-traces/195job.csv".into()],
        );
        assert_eq!(
            (slice.rows_read, slice.jobs.len(), tier_counts(&slice)),
            (195, 195, [195, 0, 0])
        );
        assert_native_round_trip(&slice);
    }

    #[test]
    fn philly_chronus() {
        let Some(root) = shared_traces() else { return };
        // (file, dropped for num_gpu = 0, jobs per tier [gold, silver, bronze]).
        let expected = [
            ("MIX1", 184, [21_600, 0, 9_156]),
            ("MIX2", 194, [9_211, 18_410, 3_125]),
            ("SLO", 205, [30_735, 0, 0]),
        ];
        for (name, no_gpus, tiers) in expected {
            let report = imported(
                Format::Chronus,
                &root,
                &[format!("philly-chronus/trace_job_Philly_{name}.csv")],
            );
            assert_eq!(report.rows_read, 30_940, "{name}");
            assert_eq!(dropped(&report), vec![("num_gpu = 0", no_gpus)], "{name}");
            assert_eq!(tier_counts(&report), tiers, "{name}");
            assert!(
                report.jobs.iter().all(|job| job.job_id < 30_940),
                "source ids kept"
            );
            assert_eq!(
                report.jobs.last().map(|job| job.submit_ms),
                Some(20_151_000),
                "{name}: 5.6 h"
            );
            assert_native_round_trip(&report);
        }
    }
}

/// Any job list `write_native` accepts reads back identically (sorted), whatever the names hold.
mod round_trip_property {
    use super::*;
    use proptest::prelude::*;

    /// Names with commas, quotes and inner spaces, which the CSV layer must quote and keep.
    fn name() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9 ,\"_.-]{0,6}[a-z0-9]"
    }

    fn job() -> impl Strategy<Value = TraceJob> {
        let identity = (
            any::<u32>(),
            name(),
            name(),
            name(),
            0..=8u32,
            1..=1000u32,
            any::<u64>(),
        );
        let sizes = (
            any::<u64>(),
            any::<u64>(),
            proptest::collection::vec("[A-Z][A-Za-z0-9]{0,5}", 0..3),
        );
        // Times up to the 10-year limit every reader enforces (`sim::limits::MAX_MS`).
        let service = (
            0..3u8,
            any::<i32>(),
            0..=sim::limits::MAX_MS,
            proptest::option::of(1..=1_000_000u64),
        );
        let money = (
            any::<bool>(),
            proptest::option::of(0..=i64::MAX),
            any::<bool>(),
            0..3u8,
        );
        let recovery = (
            proptest::option::of(1..=sim::limits::MAX_MS),
            0..=sim::limits::MAX_MS,
        );
        (identity, sizes, service, money, recovery).prop_map(
            |(
                (submit, tenant, user, queue, gpus, milli, vram),
                (cpu, memory, models),
                (tier, priority, runtime, deadline_after),
                (fixed, budget, burstable, class),
                (checkpoint, restore),
            )| {
                let submit_ms = u64::from(submit);
                TraceJob {
                    job_id: 0,
                    submit_ms,
                    tenant,
                    user,
                    queue,
                    gpus,
                    gpu_milli: if gpus > 1 { 1000 } else { milli },
                    spread: gpus > 1,
                    vram_mib: vram,
                    cpu_milli: cpu,
                    memory_mib: memory,
                    gpu_models: models,
                    min_tier: [Tier::Bronze, Tier::Silver, Tier::Gold][usize::from(tier)],
                    priority,
                    runtime_ms: runtime,
                    deadline_ms: deadline_after.map(|after| submit_ms + after),
                    budget_kind: if fixed {
                        BudgetKind::Fixed
                    } else {
                        BudgetKind::Flex
                    },
                    budget,
                    burstable,
                    data_class: [DataClass::Public, DataClass::Internal, DataClass::Sensitive]
                        [usize::from(class)],
                    checkpoint_interval_ms: checkpoint,
                    restore_ms: restore,
                }
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn written_jobs_read_back_identically(mut jobs in proptest::collection::vec(job(), 0..6)) {
            for (id, job) in jobs.iter_mut().enumerate() {
                job.job_id = id as u64 * 7;
            }
            let dir = TempDir::new().unwrap();
            let path = dir.path().join("jobs.csv");
            write_native(&path, &jobs).unwrap();
            jobs.sort_by_key(|job| (job.submit_ms, job.job_id));
            prop_assert_eq!(read_native(&path, false).unwrap().jobs, jobs);
        }
    }
}
