//! Notebook sessions through the engine: when leases are held, what cells wait for, and that
//! every cell is accounted for whatever happens to its lease.

use super::fleet_path;
use alloc_core::testing::JobBuilder;
use alloc_core::{JobId, Millis, Time, WarmPoolSize};
use proptest::prelude::*;
use sim::engine::{EngineOptions, NotebookHold, NotebookOptions, RunOutput};
use sim::fleet::{FailureModel, FleetFile};
use sim::record::jobs::{JobRecord, Outcome};
use sim::rng::Seed;
use sim::run::{simulate, RunPlan};
use sim::workload::{Cell, Session, Workload};

const COLD: Millis = Millis(20_000);
const RESTORE: Millis = Millis(15_000);

fn session(id: u64, opened: Time, cells: Vec<Cell>, first_cell_id: u64) -> Session {
    let mut template = JobBuilder::fraction(500, 8_192).build();
    template.queue = alloc_core::LocalQueueName::new("lab-0");
    template.tenant = alloc_core::TenantName::new("lab-0");
    template.user = alloc_core::UserName::new("lab-0-user-0");
    template.priority = 50;
    // The reference GPU, so compute times are wall times.
    template.min_tier = alloc_core::Tier::Silver;
    template.gpu_models = Some([alloc_core::GpuModelName::new("V100")].into());
    Session {
        id,
        template,
        opened,
        cells,
        close_after: Millis::minutes(5),
        first_cell_id: JobId(first_cell_id),
    }
}

fn cells(thinks_s: &[u64], compute_s: u64) -> Vec<Cell> {
    thinks_s
        .iter()
        .map(|&think| Cell {
            think: Millis::seconds(think),
            compute: Millis::seconds(compute_s),
        })
        .collect()
}

fn run(workload: Workload, hold: NotebookHold, keep_alive: Millis) -> RunOutput {
    run_with(workload, hold, keep_alive, None, 1)
}

fn run_with(
    workload: Workload,
    hold: NotebookHold,
    keep_alive: Millis,
    failures: Option<FailureModel>,
    seed: u64,
) -> RunOutput {
    let options = EngineOptions {
        seed: Seed(seed),
        failures,
        notebooks: NotebookOptions {
            hold,
            keep_alive,
            cold_start: COLD,
            restore: RESTORE,
            ..NotebookOptions::default()
        },
        ..EngineOptions::default()
    };
    simulate(plan(workload, options), |_, _| {}).unwrap().0
}

/// The workload on the department fleet under the default policy.
fn plan(workload: Workload, options: EngineOptions) -> RunPlan {
    let path = fleet_path();
    let fleet = FleetFile::load(&path).unwrap();
    let (config, nodes) = fleet.resolve(&path).unwrap();
    RunPlan {
        config,
        nodes,
        workload,
        policy_name: "default".into(),
        policy: alloc_core::Policy::default(),
        options,
        inputs: vec![path],
    }
}

fn cell_records(output: &RunOutput) -> Vec<&JobRecord> {
    let mut cells: Vec<&JobRecord> = output
        .records
        .iter()
        .filter(|r| r.session.is_some())
        .collect();
    cells.sort_by_key(|r| r.job.id);
    cells
}

fn gpu_hours(seconds: u64, milli: u64) -> f64 {
    (seconds * milli) as f64 / 3_600_000.0
}

#[test]
fn per_cell_without_keep_alive_cold_starts_every_cell_and_holds_nothing_idle() {
    let workload = Workload {
        jobs: Vec::new(),
        sessions: vec![session(1, Time(0), cells(&[60, 120, 300], 30), 1)],
    };
    let output = run(workload, NotebookHold::PerCell, Millis::ZERO);
    let cells = cell_records(&output);
    assert_eq!(cells.len(), 3);
    for cell in &cells {
        assert_eq!(cell.outcome, Outcome::Finished);
        assert_eq!(
            cell.wait(),
            Some(COLD + RESTORE),
            "an idle fleet: no queueing"
        );
        assert_eq!(cell.session, Some(1));
    }
    assert_eq!(output.notebook.cold_starts, 3);
    assert_eq!(output.notebook.warm_starts, 0);
    assert!(output.notebook.idle_gpu_hours() < 1e-6);
    // Each cell's own lease: setup plus compute, nothing else.
    let per_lease = (COLD + RESTORE).0 / 1000;
    assert!(
        (output.notebook.held_gpu_ms as f64 / 3_600_000.0 - gpu_hours(3 * (per_lease + 30), 500))
            .abs()
            < 1e-3
    );
}

#[test]
fn keep_alive_longer_than_think_time_serves_later_cells_warm() {
    let workload = Workload {
        jobs: Vec::new(),
        sessions: vec![session(1, Time(0), cells(&[60, 120, 300], 30), 1)],
    };
    let output = run(workload, NotebookHold::PerCell, Millis::minutes(10));
    let cells = cell_records(&output);
    assert_eq!(cells[0].wait(), Some(COLD + RESTORE));
    assert_eq!(cells[1].wait(), Some(Millis::ZERO));
    assert_eq!(cells[2].wait(), Some(Millis::ZERO));
    assert_eq!(
        (output.notebook.cold_starts, output.notebook.warm_starts),
        (1, 2)
    );
    // Idle: the two think times between cells, then the close-out (min of keep-alive and
    // close_after = 5 min), on half a GPU.
    let expected = gpu_hours(120 + 300 + 300, 500);
    assert!((output.notebook.idle_gpu_hours() - expected).abs() < 1e-3);
}

#[test]
fn a_whole_session_holds_one_gpu_from_open_to_close() {
    let workload = Workload {
        jobs: Vec::new(),
        sessions: vec![session(1, Time(0), cells(&[60, 120], 30), 1)],
    };
    let output = run(workload, NotebookHold::WholeSession, Millis::ZERO);
    let cells = cell_records(&output);
    // The lease was asked for when the session opened; it was ready before the first cell.
    assert_eq!(cells[0].wait(), Some(Millis::ZERO));
    assert_eq!(cells[1].wait(), Some(Millis::ZERO));
    // Held: open → 60 s think → 30 s → 120 s → 30 s → 5 min close, on a whole GPU.
    let held = 60 + 30 + 120 + 30 + 300;
    assert!(
        (output.notebook.held_gpu_ms as f64 / 3_600_000.0 - gpu_hours(held, 1000)).abs() < 1e-3
    );
    let idle = held - 60 - 35;
    assert!((output.notebook.idle_gpu_hours() - gpu_hours(idle, 1000)).abs() < 1e-3);
}

#[test]
fn a_horizon_reports_cells_that_never_ran() {
    let workload = Workload {
        jobs: Vec::new(),
        sessions: vec![session(1, Time(0), cells(&[60, 3_600, 60], 30), 1)],
    };
    let options = EngineOptions {
        horizon: Some(Time(Millis::minutes(30).0)),
        ..EngineOptions::default()
    };
    let (output, summary, _) = simulate(plan(workload, options), |_, _| {}).unwrap();
    let cells = cell_records(&output);
    assert_eq!(cells.len(), 3, "nothing lost");
    assert_eq!(cells[0].outcome, Outcome::Finished);
    assert_eq!(cells[1].outcome, Outcome::Unfinished);
    assert_eq!(cells[2].outcome, Outcome::Unfinished);
    assert_eq!(summary["notebook"]["cells"]["unfinished"], 2);
}

fn arbitrary_workload() -> impl Strategy<Value = Workload> {
    let one_session = (
        0u64..7_200_000,
        prop::collection::vec((0u64..1_200, 1u64..600), 1..8),
    );
    (prop::collection::vec(one_session, 1..12), 0usize..40).prop_map(|(sessions, batch)| {
        let mut jobs = sim::workload::synthetic::generate(
            &sim::workload::synthetic::SyntheticSpec {
                jobs: batch,
                mean_interarrival: Millis::seconds(120),
                ..Default::default()
            },
            Seed(3),
        );
        jobs.sort_by_key(|j| (j.submit_time, j.id));
        let mut next_id = batch as u64 + 1;
        let mut built = Vec::new();
        for (index, (opened, cell_specs)) in sessions.into_iter().enumerate() {
            let cells: Vec<Cell> = cell_specs
                .iter()
                .map(|&(think, compute)| Cell {
                    think: Millis::seconds(think),
                    compute: Millis::seconds(compute),
                })
                .collect();
            let count = cells.len() as u64;
            built.push(session(index as u64, Time(opened), cells, next_id));
            next_id += count;
        }
        built.sort_by_key(|s| s.opened);
        Workload {
            jobs,
            sessions: built,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever the mode and however nodes fail, every cell is reported once, a session's
    /// cells run in order without overlapping, and each waits at least its think time.
    #[test]
    fn cells_run_in_order_and_none_is_lost(
        workload in arbitrary_workload(),
        whole in any::<bool>(),
        keep_alive_s in 0u64..900,
        seed in 0u64..1_000,
    ) {
        let expected: usize = workload.sessions.iter().map(|s| s.cells.len()).sum();
        let sessions = workload.sessions.clone();
        let hold = if whole { NotebookHold::WholeSession } else { NotebookHold::PerCell };
        let failures = Some(FailureModel { mtbf_hours: 2.0, repair_hours: 0.5 });
        let output = run_with(workload, hold, Millis::seconds(keep_alive_s), failures, seed);
        let cells = cell_records(&output);
        prop_assert_eq!(cells.len(), expected);
        for session in &sessions {
            let mine: Vec<&&JobRecord> = cells.iter().filter(|r| r.session == Some(session.id)).collect();
            prop_assert_eq!(mine.len(), session.cells.len());
            for pair in mine.windows(2) {
                let (Some(end), Some(next_submit)) = (pair[0].end, Some(pair[1].job.submit_time)) else {
                    continue;
                };
                if pair[1].outcome == Outcome::Finished {
                    prop_assert!(next_submit >= end);
                    prop_assert!(pair[1].first_start.unwrap() >= next_submit);
                }
            }
            for (index, record) in mine.iter().enumerate() {
                if record.outcome == Outcome::Finished {
                    prop_assert!(record.end.unwrap() >= record.first_start.unwrap() + session.cells[index].compute.at_speed(3_500));
                }
            }
        }
        prop_assert!(output.notebook.busy_gpu_ms <= output.notebook.held_gpu_ms);
    }
}

/// Sessions whose every cell comes after the keep-alive window, on a pool that keeps one
/// slice (so that the test does not hang on the demand-rate rule).
fn pooled(workload: Workload, warm_pool: WarmPoolSize) -> RunOutput {
    let options = EngineOptions {
        seed: Seed(1),
        notebooks: NotebookOptions {
            hold: NotebookHold::PerCell,
            keep_alive: Millis::ZERO,
            cold_start: COLD,
            restore: RESTORE,
            warm_pool,
            ..NotebookOptions::default()
        },
        ..EngineOptions::default()
    };
    simulate(plan(workload, options), |_, _| {}).unwrap().0
}

#[test]
fn a_cell_served_from_the_warm_pool_skips_the_cold_start() {
    let workload = Workload {
        jobs: Vec::new(),
        sessions: vec![session(1, Time(0), cells(&[60, 600, 600], 30), 1)],
    };
    let output = pooled(workload.clone(), WarmPoolSize::Fixed(1));
    let cells = cell_records(&output);
    // The first cell finds the pool empty (it fills on the first demand) and starts cold;
    // the slice asked for then is ready long before the next cell, which pays only the
    // restore, and so does the third, from the slice the second one's take asked for.
    assert_eq!(cells[0].wait(), Some(COLD + RESTORE));
    assert_eq!(cells[1].wait(), Some(RESTORE));
    assert_eq!(cells[2].wait(), Some(RESTORE));
    assert_eq!(
        (
            output.notebook.cold_starts,
            output.notebook.pool_starts,
            output.notebook.warm_starts
        ),
        (1, 2, 0)
    );
    // Without a pool the same cells all start cold.
    let cold = pooled(workload, WarmPoolSize::Fixed(0));
    assert!(cell_records(&cold)
        .iter()
        .all(|c| c.wait() == Some(COLD + RESTORE)));
    assert_eq!(cold.notebook.pool_starts, 0);
    assert_eq!(cold.notebook.pool_slices, 0);
}

#[test]
fn a_pool_slice_waiting_for_a_cell_counts_as_idle() {
    let workload = Workload {
        jobs: Vec::new(),
        sessions: vec![session(1, Time(0), cells(&[60, 600, 600], 30), 1)],
    };
    let without = pooled(workload.clone(), WarmPoolSize::Fixed(0));
    let with = pooled(workload, WarmPoolSize::Fixed(1));
    assert!(
        without.notebook.idle_gpu_hours() < 1e-6,
        "nothing held idle"
    );
    // Each demand (a cell finding no lease) asks for a slice, ready COLD later; it then waits
    // for the next cell, and the last one until the run ends with the third cell. Those
    // waits are idle; the slices' start-ups and the taken slices' restores are set-up.
    let cells = cell_records(&with);
    let submit = |i: usize| cells[i].job.submit_time;
    let end = cells[2].end.unwrap();
    let waits = [
        submit(1).since(submit(0) + COLD),
        submit(2).since(submit(1) + COLD),
        end.since(submit(2) + COLD),
    ];
    assert!(waits[0] >= Millis::seconds(600), "{waits:?}");
    let idle_s: u64 = waits.iter().map(|w| w.0).sum::<u64>() / 1000;
    let expected = gpu_hours(idle_s, 500);
    let idle = with.notebook.idle_gpu_hours();
    assert!(
        (idle - expected).abs() < 1e-3,
        "idle {idle} GPU-h, expected {expected} ({waits:?})"
    );
    assert_eq!(with.notebook.pool_slices, 3);
}
