//! Runtimes as recorded: each importer's trace, replayed on a fleet built from a machine list of
//! the same shape with no contention, gives every job exactly its recorded duration, and the
//! replay's GPU-hours equal the trace's. The traces are small ones written here, in each
//! source's own columns (the public traces are not needed).

use sim::engine::EngineOptions;
use sim::fleet::from_machines::{self, MachineList};
use sim::fleet::replay::{BuildOptions, Tiers};
use sim::record::jobs::Outcome;
use sim::run::{simulate, RunPlan};
use sim::runtime_model::RuntimeModel;
use sim::trace::{import, Format, TraceJob};
use sim::workload::upgrades::TierUpgrades;
use std::path::PathBuf;
use tempfile::TempDir;

const PHILLY_MACHINES: &str = "machineId, number of GPUs, single GPU mem\n\
     m0,8, 12GB\nm1,8, 12GB\nm2,8, 24GB\nm3,8, 24GB\nm4,2, 12GB\n";

const OPENB_NODES: &str = "sn,cpu_milli,memory_mib,gpu,model\n\
     n0,96000,786432,8,G2\nn1,96000,786432,8,G2\nn2,64000,262144,2,P100\nn3,64000,262144,2,P100\n\
     n4,96000,786432,4,T4\n";

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Replays `jobs` as `sim run` does (tier upgrades `auto`, durations as recorded, every job in
/// the fleet's one queue) on the fleet built from `machines`, and checks each job ran for
/// exactly its recorded duration and the GPU-time equals the trace's.
fn replays_as_recorded(jobs: &[TraceJob], machines: (MachineList, &str), dir: &TempDir) {
    assert!(!jobs.is_empty());
    let machine_file = write(dir, "machines.csv", machines.1);
    let options = BuildOptions {
        tiers: Tiers::for_jobs(jobs),
        ..BuildOptions::default()
    };
    let built = from_machines::build(machines.0, &machine_file, options).unwrap();
    let (config, nodes) = built.fleet.resolve(&machine_file).unwrap();
    let mut workload = sim::workload::from_trace::to_jobs(jobs);
    for job in &mut workload {
        job.queue = alloc_core::LocalQueueName::new("default");
    }
    TierUpgrades::Auto.apply(&mut workload, &config);
    let plan = RunPlan {
        config,
        nodes,
        workload: sim::workload::Workload::batch(workload),
        policy_name: "fifo".into(),
        policy: sim::scenario::baseline::baseline("fifo").unwrap().policy,
        options: EngineOptions {
            runtime: RuntimeModel::recorded(),
            ..EngineOptions::default()
        },
        inputs: Vec::new(),
    };
    let (output, summary, _) = simulate(plan, |_, _| {}).unwrap();
    assert_eq!(output.records.len(), jobs.len());
    let mut replayed_gpu_ms = 0u64;
    let mut recorded_gpu_ms = 0u64;
    for record in &output.records {
        let job = jobs.iter().find(|j| j.job_id == record.job.id.0).unwrap();
        assert_eq!(
            record.outcome,
            Outcome::Finished,
            "job {} finishes: {summary}",
            job.job_id
        );
        let start = record.first_start.unwrap();
        let end = record.end.unwrap();
        assert_eq!(
            start.0, job.submit_ms,
            "job {} waits for nothing",
            job.job_id
        );
        assert_eq!(
            end.0 - start.0,
            job.runtime_ms,
            "job {} runs its recorded duration on {:?}",
            job.job_id,
            record.flavor
        );
        let milli = if job.gpus == 0 {
            0
        } else {
            u64::from(job.gpus) * u64::from(job.gpu_milli)
        };
        recorded_gpu_ms += milli * job.runtime_ms / 1000;
        replayed_gpu_ms += record.gpu_ms;
    }
    assert_eq!(replayed_gpu_ms, recorded_gpu_ms, "GPU-time as in the trace");
}

#[test]
fn openb_pods_take_their_recorded_durations() {
    let dir = TempDir::new().unwrap();
    // Whole, fractional (two sharing one GPU at once), CPU-only and model-pinned pods.
    let pods = write(
        &dir,
        "openb_pod_list_test.csv",
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
         openb-pod-0000,8000,30000,1,1000,,LS,Succeeded,0,3610,10\n\
         openb-pod-0001,4000,8000,1,500,,BE,Succeeded,100,5100,100\n\
         openb-pod-0002,4000,8000,1,500,,BE,Running,100,9100,100\n\
         openb-pod-0003,16000,20000,0,0,,Burstable,Succeeded,200,1400,200\n\
         openb-pod-0004,8000,30000,2,1000,P100,LS,Succeeded,300,7503,303\n\
         openb-pod-0005,8000,30000,8,1000,,LS,Succeeded,400,86800,400\n\
         openb-pod-0006,8000,30000,1,1000,T4,LS,Succeeded,500,1700,500\n",
    );
    let report = import(Format::AlibabaOpenb, &[pods], false).unwrap();
    assert_eq!(report.jobs.len(), 7);
    replays_as_recorded(&report.jobs, (MachineList::Openb, OPENB_NODES), &dir);
}

#[test]
fn philly_jobs_take_their_recorded_durations() {
    let dir = TempDir::new().unwrap();
    let trace = write(
        &dir,
        "philly.csv",
        "timestamp,duration,num_gpus,gpu_time,cluster\n\
         2017-10-03 10:00:00,3600,1,3600,vc1\n\
         2017-10-03 10:00:05,7200.5,8,57604,vc2\n\
         2017-10-03 10:01:00,120,2,240,vc1\n\
         2017-10-03 10:02:00,86400,16,1382400,vc3\n\
         2017-10-03 10:03:00,59,4,236,vc2\n",
    );
    let report = import(Format::Philly, &[trace], false).unwrap();
    replays_as_recorded(&report.jobs, (MachineList::Philly, PHILLY_MACHINES), &dir);
}

#[test]
fn itp_jobs_take_their_recorded_durations() {
    let dir = TempDir::new().unwrap();
    let raw = write(
        &dir,
        "cluster01.csv",
        "job_id,submission_time,duration,num_gpu\n\
         a1,0,3600,1\na2,10,600,8\na3,20,7200,2\na4,30,45,4\n",
    );
    let report = import(Format::Itp, &[raw], false).unwrap();
    replays_as_recorded(&report.jobs, (MachineList::Philly, PHILLY_MACHINES), &dir);
    // ElasticFlow's files add deadlines: every job asks for GOLD, and a deadline as long as
    // the job's own recorded duration is met.
    let elastic = write(
        &dir,
        "cluster02.csv",
        "job_id,submission_time,duration,num_gpu,num_iteration,model_name,deadline,batch_size\n\
         b1,0,3600,1,100,resnet50,3600,64\nb2,10,600,8,100,bert,1000,32\n",
    );
    let report = import(Format::Itp, &[elastic], false).unwrap();
    assert!(report.jobs.iter().all(|j| j.deadline_ms.is_some()));
    replays_as_recorded(&report.jobs, (MachineList::Philly, PHILLY_MACHINES), &dir);
}

#[test]
fn chronus_jobs_take_their_recorded_durations() {
    let dir = TempDir::new().unwrap();
    // strict (GOLD), soft (SILVER) and best-effort (BRONZE) jobs: the fleet keeps tiers by
    // generation, and the BRONZE jobs, which no flavor serves, may upgrade.
    let trace = write(
        &dir,
        "trace_job_Philly_SLO.csv",
        "job_id,user,num_gpu,submit_time,duration,expect_time_list,best_effort,job_type\n\
         0,vc_a,1,0,3600,7200,0,strict\n\
         1,vc_b,2,5,600,900-1800,1,best\n\
         2,vc_a,4,10,1200,1500-3000,0,soft\n\
         3,vc_c,8,15,30,60,0,strict\n",
    );
    let mut report = import(Format::Chronus, &[trace], false).unwrap();
    // `best` rows must say best_effort = 1; the soft row above says 0.
    report.jobs.sort_by_key(|j| j.job_id);
    replays_as_recorded(&report.jobs, (MachineList::Philly, PHILLY_MACHINES), &dir);
}
