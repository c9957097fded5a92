//! One record per job: what happened to it, for `jobs.csv` / `jobs.parquet` and the summary.

use super::table::Table;
use alloc_core::{ClusterName, FlavorName, Job, Millis, Money, Tier, Time};

/// The wait-reason code of the time a burst waits for its rented GPUs to be provisioned
/// (admitted, not yet running): the twin's, beside the core's `WaitReason` codes.
pub const PROVISIONING: &str = "provisioning";

/// The wait-reason code of the time a job placed on a private node takes to start computing
/// (the fleet's `start_latency`): the twin's, as [`PROVISIONING`] is.
pub const STARTING: &str = "starting";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    Rejected,
    /// Still pending or running when the run ended.
    Unfinished,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::Rejected => "rejected",
            Outcome::Unfinished => "unfinished",
        }
    }
}

#[derive(Debug, Clone)]
pub struct JobRecord {
    pub job: Job,
    pub first_start: Option<Time>,
    pub end: Option<Time>,
    pub outcome: Outcome,
    pub cluster: Option<ClusterName>,
    pub flavor: Option<FlavorName>,
    pub tier: Option<Tier>,
    pub gpus: u32,
    pub public: bool,
    pub cost: Money,
    /// Stops by the scheduler's preemption.
    pub preemptions: u32,
    /// Stops because the node failed.
    pub interruptions: u32,
    /// GPU-milliseconds of compute thrown away by stops (milli-GPU × ms ÷ 1000).
    pub lost_gpu_ms: u64,
    /// GPU-milliseconds actually held (milli-GPU × ms ÷ 1000), lost work included.
    pub gpu_ms: u64,
    pub reject_reason: Option<String>,
    /// The notebook session a cell belongs to; `None` for batch jobs.
    pub session: Option<u64>,
    /// Time spent pending, per wait-reason code (`WaitReason::code`), in ms, in the order
    /// the reasons were first met: every pending interval, requeues included.
    pub waited_for: Vec<(&'static str, u64)>,
    /// The reason the job waits for now and since when; `None` while it is not pending (or
    /// not yet decided for).
    pub waiting: Option<(&'static str, Time)>,
    /// The code of the last burst rule it failed while waiting (`NoBurst::code`).
    pub no_burst_reason: Option<&'static str>,
    /// Why it burst, for a job that ran on a rented GPU (`alloc_core::burst::BurstCause::code`).
    pub burst_reason: Option<&'static str>,
}

impl JobRecord {
    pub fn new(job: Job) -> JobRecord {
        JobRecord {
            job,
            first_start: None,
            end: None,
            outcome: Outcome::Unfinished,
            cluster: None,
            flavor: None,
            tier: None,
            gpus: 0,
            public: false,
            cost: Money::ZERO,
            preemptions: 0,
            interruptions: 0,
            lost_gpu_ms: 0,
            gpu_ms: 0,
            reject_reason: None,
            session: None,
            waited_for: Vec::new(),
            waiting: None,
            no_burst_reason: None,
            burst_reason: None,
        }
    }

    /// The core told the job to wait for `code` at `now`: the reason it waited for until
    /// now (if another) is charged its time.
    pub fn wait_for(&mut self, code: &'static str, now: Time) {
        if self.waiting.is_some_and(|(current, _)| current == code) {
            return;
        }
        self.stop_waiting(now);
        self.waiting = Some((code, now));
    }

    /// Charges `ms` of waiting to `code` (the twin's own reasons, such as
    /// [`PROVISIONING`], which the core never reports).
    pub fn charge(&mut self, code: &'static str, ms: u64) {
        match self.waited_for.iter_mut().find(|(c, _)| *c == code) {
            Some(entry) => entry.1 += ms,
            None => self.waited_for.push((code, ms)),
        }
    }

    /// The job stopped pending at `now` (started, rejected, cancelled or the run ended):
    /// its current reason is charged the time since it began.
    pub fn stop_waiting(&mut self, now: Time) {
        let Some((code, since)) = self.waiting.take() else {
            return;
        };
        self.charge(code, now.since(since).0);
    }

    /// The reason held longest (the first met, on a tie) and its share of all the time the
    /// job spent pending with a reason; `None` for a job that never waited.
    pub fn main_wait_reason(&self) -> Option<(&'static str, f64)> {
        let total: u64 = self.waited_for.iter().map(|(_, ms)| ms).sum();
        let (code, longest) = self.waited_for.iter().fold(
            None,
            |best: Option<(&'static str, u64)>, &(code, ms)| match best {
                Some((_, most)) if most >= ms => best,
                _ => Some((code, ms)),
            },
        )?;
        (total > 0).then(|| (code, longest as f64 / total as f64))
    }

    pub fn wait(&self) -> Option<Millis> {
        self.first_start
            .map(|start| start.since(self.job.submit_time))
    }

    pub fn completion(&self) -> Option<Millis> {
        self.end.map(|end| end.since(self.job.submit_time))
    }

    /// `None` for jobs without a deadline.
    pub fn deadline_met(&self) -> Option<bool> {
        let deadline = self.job.deadline?;
        Some(self.outcome == Outcome::Finished && self.end.is_some_and(|end| end <= deadline))
    }
}

fn int(x: u64) -> Option<i64> {
    i64::try_from(x).ok()
}

pub fn table(records: &[JobRecord]) -> Table {
    let col = |f: &dyn Fn(&JobRecord) -> Option<i64>| records.iter().map(f).collect::<Vec<_>>();
    let text = |f: &dyn Fn(&JobRecord) -> Option<String>| records.iter().map(f).collect::<Vec<_>>();
    Table::new()
        .int("job_id", col(&|r| int(r.job.id.0)))
        .text(
            "kind",
            text(&|r| Some(if r.session.is_some() { "cell" } else { "batch" }.to_string())),
        )
        .int("session_id", col(&|r| r.session.and_then(int)))
        .text("tenant", text(&|r| Some(r.job.tenant.to_string())))
        .text("user", text(&|r| Some(r.job.user.to_string())))
        .text("queue", text(&|r| Some(r.job.queue.to_string())))
        .text("min_tier", text(&|r| Some(r.job.min_tier.to_string())))
        .int("gpu_milli", col(&|r| int(r.job.gpu.milli().0)))
        .int("submit_ms", col(&|r| int(r.job.submit_time.0)))
        .int("start_ms", col(&|r| r.first_start.and_then(|t| int(t.0))))
        .int("end_ms", col(&|r| r.end.and_then(|t| int(t.0))))
        .int("wait_ms", col(&|r| r.wait().and_then(|t| int(t.0))))
        .int("jct_ms", col(&|r| r.completion().and_then(|t| int(t.0))))
        .text("status", text(&|r| Some(r.outcome.as_str().to_string())))
        .text(
            "cluster",
            text(&|r| r.cluster.as_ref().map(|c| c.to_string())),
        )
        .text(
            "flavor",
            text(&|r| r.flavor.as_ref().map(|f| f.to_string())),
        )
        .text("tier", text(&|r| r.tier.map(|t| t.to_string())))
        .int("gpus", col(&|r| Some(i64::from(r.gpus))))
        .int("cost_micros", col(&|r| Some(r.cost.0)))
        .int("preemptions", col(&|r| Some(i64::from(r.preemptions))))
        .int("interruptions", col(&|r| Some(i64::from(r.interruptions))))
        .int("lost_gpu_ms", col(&|r| int(r.lost_gpu_ms)))
        .int(
            "deadline_ms",
            col(&|r| r.job.deadline.and_then(|t| int(t.0))),
        )
        .int("deadline_met", col(&|r| r.deadline_met().map(i64::from)))
        .text("reject_reason", text(&|r| r.reject_reason.clone()))
        .text(
            "wait_reason",
            text(&|r| r.main_wait_reason().map(|(code, _)| code.to_string())),
        )
        .float(
            "wait_reason_share",
            records
                .iter()
                .map(|r| r.main_wait_reason().map(|(_, share)| share))
                .collect(),
        )
        .text(
            "no_burst_reason",
            text(&|r| r.no_burst_reason.map(str::to_string)),
        )
        .text(
            "burst_reason",
            text(&|r| r.burst_reason.map(str::to_string)),
        )
        .text(
            "deadline_miss",
            text(&|r| r.deadline_miss().map(str::to_string)),
        )
}
