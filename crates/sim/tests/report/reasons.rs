//! Where time went: each job's pending time is charged to the core's wait reasons, `jobs.csv`
//! names the longest-held one with its share, and the report breaks waits down by reason per
//! tenant and tier.

use super::run;
use sim::record::jobs::{table, Outcome};
use sim::report::{single, RunView};

#[test]
fn a_job_started_once_has_its_whole_wait_charged_to_reasons() {
    let (output, _) = run(400, "default");
    let mut waited = 0;
    for record in output.records.iter().filter(|r| r.session.is_none()) {
        assert!(
            record.waiting.is_none(),
            "job {} still waiting",
            record.job.id
        );
        let charged: u64 = record.waited_for.iter().map(|(_, ms)| ms).sum();
        if record.outcome == Outcome::Finished && record.preemptions + record.interruptions == 0 {
            assert_eq!(
                Some(charged),
                record.wait().map(|w| w.0),
                "job {}: {:?}",
                record.job.id,
                record.waited_for
            );
        }
        match record.main_wait_reason() {
            Some((code, share)) => {
                waited += 1;
                assert!(!code.is_empty());
                assert!(share > 0.0 && share <= 1.0, "{share}");
                let longest = record.waited_for.iter().map(|(_, ms)| *ms).max();
                assert_eq!(
                    record
                        .waited_for
                        .iter()
                        .find(|(c, _)| *c == code)
                        .map(|e| e.1),
                    longest
                );
            }
            None => assert_eq!(charged, 0),
        }
    }
    assert!(waited > 0, "some jobs waited");
}

#[test]
fn jobs_csv_gains_reason_columns_after_the_old_ones() {
    let (output, _) = run(300, "default");
    let dir = tempfile::tempdir().unwrap();
    table(&output.records)
        .write_csv(&dir.path().join("jobs.csv"))
        .unwrap();
    let text = std::fs::read_to_string(dir.path().join("jobs.csv")).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.ends_with(
            ",deadline_met,reject_reason,wait_reason,wait_reason_share,no_burst_reason,burst_reason,\
             deadline_miss"
        ),
        "{header}"
    );
    let burst = output
        .records
        .iter()
        .filter(|r| r.public && r.session.is_none())
        .count();
    let with_reason = output
        .records
        .iter()
        .filter(|r| r.public && r.session.is_none())
        .filter(|r| r.burst_reason.is_some())
        .count();
    assert_eq!(burst, with_reason, "every burst says why ({burst} bursts)");
}

#[test]
fn the_report_breaks_waits_down_by_reason_per_tenant_and_tier() {
    let (output, summary) = run(300, "default");
    let html = single(&RunView::new(&output, &summary));
    let section = html.split("id=\"reasons\"").nth(1).unwrap();
    let section = section.split("</section>").next().unwrap();
    let code = output
        .records
        .iter()
        .find_map(|r| r.main_wait_reason())
        .unwrap()
        .0;
    assert!(
        section.contains(&format!("<th scope=\"col\">{code}</th>")),
        "{section}"
    );
    assert!(
        section.contains("<th scope=\"row\">lab-0</th>"),
        "{section}"
    );
}

#[test]
fn waits_per_gpu_class_cover_every_started_job_and_reach_compare_csv() {
    let (output, summary) = run(300, "default");
    let classes = summary["wait_ms_by_gpus"].as_object().unwrap();
    let keys: Vec<&String> = classes.keys().collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    let counted: u64 = classes.values().map(|d| d["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, summary["wait_ms"]["count"].as_u64().unwrap());
    let one_gpu = output
        .records
        .iter()
        .filter(|r| r.session.is_none() && r.first_start.is_some())
        .filter(|r| r.job.gpu.milli().0 <= 1000)
        .count() as u64;
    assert_eq!(classes["1"]["count"].as_u64().unwrap(), one_gpu);
    let dir = tempfile::tempdir().unwrap();
    sim::compare::table(&[&summary])
        .write_csv(&dir.path().join("compare.csv"))
        .unwrap();
    let csv = std::fs::read_to_string(dir.path().join("compare.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with(",lost_gpu_hours,wait_p50_ms_gpus_1,wait_p95_ms_gpus_1,wait_p50_ms_gpus_2,wait_p95_ms_gpus_2,wait_p50_ms_gpus_3_4,wait_p95_ms_gpus_3_4,wait_p50_ms_gpus_5_8,wait_p95_ms_gpus_5_8,wait_p50_ms_gpus_9plus,wait_p95_ms_gpus_9plus"),
        "{header}"
    );
    let html = single(&RunView::new(&output, &summary));
    assert!(html.contains("Wait p50 / p95 by GPUs asked for"));
}
