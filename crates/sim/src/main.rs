use clap::Parser;
use sim::cli::{
    Cli, Command, CompareArgs, FleetArgs, GenerateArgs, ImportArgs, PackArgs, PolicyArgs,
    QueueArgs, ReplayInputsArgs, RunArgs, ScenarioArgs, SchemaArgs, SweepArgs, SweepOneArgs,
    ValidateArgs,
};
use sim::engine::EngineOptions;
use sim::fleet::FleetFile;
use sim::rng::Seed;
use sim::run::{simulate, write_outputs, RunPlan};
use sim::scenario::Scenario;
use sim::{Result, SimError};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Prints a line of data on stdout; a closed pipe (`sim ... | head`) is not an error.
macro_rules! say {
    ($($arg:tt)*) => {
        let _ = writeln!(std::io::stdout(), $($arg)*);
    };
}

/// Said on standard error when `--two-phase` is on.
const TWO_PHASE: &str =
    "admission in two phases: Kueue reserves quota on a flavor, then the core decides within it";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        None => scenario(cli.scenario),
        Some(Command::Compare(args)) => compare(args),
        Some(Command::Schema(args)) => schema(args),
        Some(Command::Policy(args)) => policy(args),
        Some(Command::Sweep(args)) => sweep(args),
        Some(Command::SweepOne(args)) => sweep_one(args),
        Some(Command::Run(args)) => run(args),
        Some(Command::ReplayInputs(args)) => match replay_inputs(args) {
            Ok(Verdict::Identical) => Ok(()),
            Ok(Verdict::Differs) => return ExitCode::from(1),
            Err(error) => Err(error),
        },
        Some(Command::Import(args)) => import(args),
        Some(Command::Generate(args)) => generate(args),
        Some(Command::Fleet(args)) => fleet(args),
        Some(Command::Pack(args)) => pack(args),
        Some(Command::Validate(args)) => validate(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            if let Some(hint) = error.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}

fn scenario(args: ScenarioArgs) -> Result<()> {
    let Some(name) = args.scenario else {
        return Err(SimError::BadArgument {
            flag: "--scenario".into(),
            reason: "name a scenario (e.g. --scenario semester-peak) or a subcommand".into(),
        });
    };
    let scenario = Scenario::load(&name, args.seed)?;
    let policy = args.policy.unwrap_or_else(|| scenario.file.policy.clone());
    let mut plan = scenario.plan(&sim::scenario::baseline::baseline(&policy)?)?;
    plan.options.inputs_log = args.inputs_log.clone();
    plan.options.two_phase = args.two_phase;
    plan.options.metrics = args.openmetrics.is_some();
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("out").join(&scenario.name));
    sim::compare::check_out(&out)?;
    eprintln!("{}", scenario.describe(&plan.policy_name));
    for line in sim::run::config_warnings(&plan.config, &plan.nodes) {
        eprintln!("{line}");
    }
    if args.two_phase {
        eprintln!("{TWO_PHASE}");
    }
    let bar = sim::progress::bar(plan.workload.job_count() as u64, "simulating");
    let (output, summary, manifest) = simulate(plan, |done, _| bar.set_position(done))?;
    bar.finish_and_clear();
    for line in sim::run::warnings(&summary) {
        eprintln!("{line}");
    }
    write_outputs(&out, &output, &summary, &manifest)?;
    log_written(args.inputs_log.as_deref());
    if let Some(path) = &args.openmetrics {
        sim::openmetrics::write(path, &output.metrics, args.openmetrics_start)?;
        eprintln!("metrics written to {}", path.display());
    }
    say!("{}", sim::run::headline(&summary));
    say!("outputs in {}", out.display());
    say!("report: {}", out.join("report.html").display());
    Ok(())
}

fn compare(args: CompareArgs) -> Result<()> {
    let scenario = Scenario::load(&args.scenario, args.seed)?;
    let from_file = args.policies.is_empty();
    let policies = if from_file {
        scenario.compare_policies()
    } else {
        sim::scenario::baseline::join_overrides(&args.policies)
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("out").join(format!("{}-compare", scenario.name)));
    for policy in &policies {
        sim::scenario::baseline::baseline(policy).map_err(|error| match error {
            SimError::BadArgument { reason, .. } => SimError::BadArgument {
                flag: "--policies".into(),
                reason,
            },
            other => other,
        })?;
    }
    sim::compare::check_policies(&policies, from_file)?;
    // Found unusable now, not after every run.
    sim::compare::check_out(&out)?;
    eprintln!("{}", scenario.describe(&policies.join(", ")));
    let (config, nodes) = scenario.fleet.resolve(&scenario.fleet_path)?;
    for line in sim::run::config_warnings(&config, &nodes) {
        eprintln!("{line}");
    }
    let runs = sim::compare::run_all(&scenario, &policies, args.threads, |done| {
        eprintln!(
            "  {} done in {:.1} s",
            done.baseline.label, done.wall_seconds
        );
    })?;
    sim::compare::write_all(&out, &scenario, &runs)?;
    say!("{}", sim::compare::markdown(&runs));
    say!("outputs in {}", out.display());
    say!("report: {}", out.join("report.html").display());
    Ok(())
}

fn sweep(args: SweepArgs) -> Result<()> {
    let sizes = sim::sweep::parse_sizes(&args.jobs)?;
    let report = sim::sweep::report_path(&args.out)?;
    let fleet = match args.fleet {
        Some(path) => path,
        None => sim::scenario::search_dirs()
            .into_iter()
            .map(|dir| dir.join("fleets/department.yaml"))
            .find(|path| path.is_file())
            .ok_or_else(|| SimError::BadArgument {
                flag: "--fleet".into(),
                reason: "scenarios/fleets/department.yaml not found; pass --fleet".into(),
            })?,
    };
    let exe = std::env::current_exe().map_err(|e| SimError::io("sim", e))?;
    let mut rows = Vec::new();
    for jobs in sizes {
        let child = std::process::Command::new(&exe)
            .args(["sweep-one", "--jobs", &jobs.to_string(), "--fleet"])
            .arg(&fleet)
            .args(["--policy", &args.policy])
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| SimError::io(&exe, e))?;
        let line = String::from_utf8_lossy(&child.stdout);
        let row: serde_json::Value = serde_json::from_str(line.trim()).map_err(|_| {
            SimError::Internal(format!("the run of {jobs} jobs failed ({})", child.status))
        })?;
        eprintln!(
            "{jobs} jobs: {:.2} s, {:.0} events/s, peak RSS {:.0} MiB",
            row["wall_s"].as_f64().unwrap_or(f64::NAN),
            row["events_per_s"].as_f64().unwrap_or(f64::NAN),
            row["peak_rss_mib"].as_f64().unwrap_or(f64::NAN)
        );
        rows.push(row);
    }
    let csv = sim::sweep::csv(&rows);
    std::fs::write(&args.out, &csv).map_err(|e| SimError::io(&args.out, e))?;
    say!("{}", csv.trim_end());
    let points: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| Some((r["jobs"].as_f64()?, r["wall_s"].as_f64()?)))
        .collect();
    let exponent = sim::sweep::growth_exponent(&points);
    match exponent {
        Some(exponent) => {
            say!(
                "growth exponent of wall time: {exponent:.2} (target ≤ {})",
                sim::report::sweep::TARGET_EXPONENT
            );
        }
        None => {
            say!("growth exponent: needs two sizes or more");
        }
    }
    say!("targets: 1M jobs < 10 s and < 1 GiB peak RSS on 2 cores");
    let page = sim::report::sweep::page(&rows, &args.policy, exponent);
    sim::report::write(&report, &page)?;
    say!("report: {}", report.display());
    Ok(())
}

fn sweep_one(args: SweepOneArgs) -> Result<()> {
    let row = sim::sweep::measure_one(args.jobs, &args.fleet, &args.policy)?;
    say!("{row}");
    Ok(())
}

fn schema(args: SchemaArgs) -> Result<()> {
    let text = sim::scenario::schema_json();
    match args.output {
        Some(path) => std::fs::write(&path, text).map_err(|e| SimError::io(&path, e))?,
        None => {
            let _ = write!(std::io::stdout(), "{text}");
        }
    }
    Ok(())
}

fn policy(args: PolicyArgs) -> Result<()> {
    let file =
        sim::scenario::policy_file::policy_file(&args.policy).map_err(|error| match error {
            SimError::BadArgument { reason, .. } => SimError::BadArgument {
                flag: "POLICY".into(),
                reason,
            },
            other => other,
        })?;
    match &args.output {
        Some(path) => std::fs::write(path, &file.yaml).map_err(|e| SimError::io(path, e))?,
        None => {
            let _ = write!(std::io::stdout(), "{}", file.yaml);
        }
    }
    for line in &file.left_out {
        eprintln!("not in the file (the sim's alone): {line}");
    }
    if let Some(path) = &args.output {
        say!("policy written to {}", path.display());
    }
    Ok(())
}

fn run(args: RunArgs) -> Result<()> {
    let baseline = sim::scenario::baseline::baseline(&args.policy)?;
    let mut fleet = FleetFile::load(&args.fleet)?;
    if let Some(strategy) = baseline.queueing {
        for queue in &mut fleet.cluster_queues {
            queue.strategy = strategy;
        }
    }
    let (config, nodes) = fleet.resolve(&args.fleet)?;
    let read = sim::workload::from_trace::read_jobs(&args.trace, args.skip_bad_rows)?;
    if read.skipped > 0 {
        eprintln!(
            "skipped {} bad rows of {}",
            read.skipped,
            args.trace.display()
        );
    }
    let mut jobs = read.jobs;
    if let Some(queue) = &args.queue {
        for job in &mut jobs {
            job.queue = alloc_core::LocalQueueName::new(queue.as_str());
        }
    }
    let upgrades: sim::workload::upgrades::TierUpgrades =
        args.tier_upgrades
            .parse()
            .map_err(|reason: String| SimError::BadArgument {
                flag: "--tier-upgrades".into(),
                reason,
            })?;
    let upgraded = upgrades.apply(&mut jobs, &config);
    if upgraded.jobs > 0 {
        eprintln!("{upgraded}");
    }
    let workload = sim::workload::Workload::batch(jobs);
    if let Some((job, queue)) = sim::workload::unknown_queue(&workload, &config) {
        let known = sim::workload::known_queues(&config);
        return Err(match &args.queue {
            Some(_) => SimError::BadArgument {
                flag: "--queue".into(),
                reason: format!(
                    "no LocalQueue \"{queue}\" in {} (LocalQueues: {known})",
                    args.fleet.display()
                ),
            },
            None => SimError::Refused {
                place: args.trace.display().to_string(),
                reason: format!(
                    "{job} is submitted to LocalQueue \"{queue}\", which {} does not define \
                     (LocalQueues: {known}); every such job would be rejected",
                    args.fleet.display()
                ),
                hint: "pass --queue to submit every job to one LocalQueue of the fleet, or add \
                       the LocalQueue to the fleet's local_queues",
            },
        });
    }
    let horizon = match args.horizon_hours {
        None => None,
        Some(hours) if hours > 0.0 => Some(alloc_core::Time(sim::limits::hours(hours).map_err(
            |reason| SimError::BadArgument {
                flag: "--horizon-hours".into(),
                reason,
            },
        )?)),
        Some(hours) => {
            return Err(SimError::BadArgument {
                flag: "--horizon-hours".into(),
                reason: format!("must be positive (leave it out to run to the end), found {hours}"),
            })
        }
    };
    if args.sample_every_s == 0 {
        return Err(SimError::BadArgument {
            flag: "--sample-every-s".into(),
            reason: "must be at least 1 second between samples, found 0".into(),
        });
    }
    for (flag, seconds) in [
        ("--sample-every-s", args.sample_every_s),
        ("--cycle-every-s", args.cycle_every_s),
    ] {
        sim::limits::ms(seconds.saturating_mul(1000)).map_err(|reason| SimError::BadArgument {
            flag: flag.into(),
            reason,
        })?;
    }
    let options = EngineOptions {
        seed: Seed(args.seed),
        cycle_period: (args.cycle_every_s > 0)
            .then(|| alloc_core::Millis::seconds(args.cycle_every_s)),
        sample_period: alloc_core::Millis::seconds(args.sample_every_s),
        horizon,
        failures: fleet.failures,
        start_latency: fleet.start_latency,
        inputs_log: args.inputs_log.clone(),
        two_phase: args.two_phase,
        metrics: args.openmetrics.is_some(),
        runtime: sim::runtime_model::RuntimeModel {
            default_interference_permille: args.mps_interference_permille,
            ..sim::runtime_model::RuntimeModel::recorded()
        },
        ..EngineOptions::default()
    };
    let plan = RunPlan {
        config,
        nodes,
        workload,
        policy_name: args.policy.clone(),
        policy: baseline.policy,
        options,
        inputs: vec![args.trace.clone(), args.fleet.clone()],
    };
    sim::compare::check_out(&args.out)?;
    for line in sim::run::config_warnings(&plan.config, &plan.nodes) {
        eprintln!("{line}");
    }
    if args.two_phase {
        eprintln!("{TWO_PHASE}");
    }
    let bar = sim::progress::bar(plan.workload.job_count() as u64, "replaying");
    let (output, summary, manifest) = simulate(plan, |done, _| bar.set_position(done))?;
    bar.finish_and_clear();
    for line in sim::run::warnings(&summary) {
        eprintln!("{line}");
    }
    write_outputs(&args.out, &output, &summary, &manifest)?;
    log_written(args.inputs_log.as_deref());
    if let Some(path) = &args.openmetrics {
        sim::openmetrics::write(path, &output.metrics, args.openmetrics_start)?;
        eprintln!("metrics written to {}", path.display());
    }
    say!("{}", sim::run::headline(&summary));
    say!("outputs in {}", args.out.display());
    say!("report: {}", args.out.join("report.html").display());
    Ok(())
}

/// Says where the inputs log went, on standard error: standard output stays as without it.
fn log_written(path: Option<&std::path::Path>) {
    if let Some(path) = path {
        eprintln!("inputs log in {}", path.display());
    }
}

enum Verdict {
    Identical,
    Differs,
}

fn replay_inputs(args: ReplayInputsArgs) -> Result<Verdict> {
    let size = std::fs::metadata(&args.log)
        .map_err(|e| SimError::io(&args.log, e))?
        .len();
    // Printed decisions show the progress themselves.
    let bar = match args.print {
        true => indicatif::ProgressBar::hidden(),
        false => sim::progress::bytes(size, "replaying"),
    };
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut print = |now: alloc_core::Time, decision: &alloc_core::Decision| {
        if args.print {
            // A closed pipe (`| head`) ends the printing, not the check.
            let _ = writeln!(stdout, "{now} {decision}");
        }
    };
    let checked = sim::inputs_log::check(&args.log, args.print, &mut print, |bytes| {
        bar.set_position(bytes)
    });
    bar.finish_and_clear();
    let _ = stdout.flush();
    drop(stdout);
    let checked = checked?;
    if !checked.same_core() {
        eprintln!(
            "note: the log was written by alloc-core {}; this is alloc-core {}",
            checked.core_version,
            alloc_core::inputs_log::CORE_VERSION
        );
    }
    let path = args.log.display();
    let report = match &checked.mismatch {
        None => format!("{path}: {}", checked.summary()),
        Some(mismatch) => format!("{path}:{}: {mismatch}", mismatch.line),
    };
    if args.print {
        eprintln!("{report}");
    } else {
        say!("{report}");
    }
    Ok(match checked.mismatch {
        None => Verdict::Identical,
        Some(_) => Verdict::Differs,
    })
}

fn import(args: ImportArgs) -> Result<()> {
    let format: sim::trace::Format =
        args.format
            .parse()
            .map_err(|reason: String| SimError::BadArgument {
                flag: "--format".into(),
                reason,
            })?;
    let report = sim::trace::import(format, &args.inputs, args.skip_bad_rows)?;
    sim::trace::native::write_native(&args.output, &report.jobs)?;
    eprintln!("{report}");
    say!(
        "wrote {} jobs to {}",
        report.jobs.len(),
        args.output.display()
    );
    Ok(())
}

fn generate(args: GenerateArgs) -> Result<()> {
    if args.tenants == 0 {
        return Err(SimError::BadArgument {
            flag: "--tenants".into(),
            reason: "at least 1 tenant must submit the jobs, found 0".into(),
        });
    }
    if args.jobs > sim::limits::MAX_GENERATED_JOBS {
        return Err(SimError::BadArgument {
            flag: "--jobs".into(),
            reason: format!(
                "{} jobs is more than a generated trace may hold ({})",
                args.jobs,
                sim::limits::MAX_GENERATED_JOBS
            ),
        });
    }
    sim::limits::ms(args.interarrival_s.saturating_mul(1000)).map_err(|reason| {
        SimError::BadArgument {
            flag: "--interarrival-s".into(),
            reason,
        }
    })?;
    let spec = sim::workload::synthetic::SyntheticSpec {
        jobs: args.jobs,
        mean_interarrival: alloc_core::Millis::seconds(args.interarrival_s),
        tenants: args.tenants,
        ..Default::default()
    };
    let jobs = sim::workload::synthetic::generate(&spec, Seed(args.seed));
    sim::workload::from_trace::write_jobs(&args.output, &jobs)?;
    say!("wrote {} jobs to {}", jobs.len(), args.output.display());
    Ok(())
}

fn fleet(args: FleetArgs) -> Result<()> {
    let format: sim::fleet::from_machines::MachineList =
        args.from
            .parse()
            .map_err(|reason: String| SimError::BadArgument {
                flag: "--from".into(),
                reason,
            })?;
    let bad = |flag: &str| {
        let flag = flag.to_string();
        move |reason: String| SimError::BadArgument { flag, reason }
    };
    let speeds = args.speeds.parse().map_err(bad("--speeds"))?;
    let trace = match &args.trace {
        Some(path) => Some(sim::trace::read_native(path, false)?.jobs),
        None => None,
    };
    let tiers = match (args.tiers.as_str(), &trace) {
        ("auto", Some(jobs)) => sim::fleet::replay::Tiers::for_jobs(jobs),
        ("auto", None) => sim::fleet::replay::Tiers::Generation,
        (text, _) => text.parse().map_err(bad("--tiers"))?,
    };
    let options = sim::fleet::replay::BuildOptions { speeds, tiers };
    let mut built = sim::fleet::from_machines::build(format, &args.input, options)?;
    let shares = match (per_vc(&args.queues)?, &trace) {
        (None, _) => Vec::new(),
        (Some((rule, borrowing)), Some(jobs)) => {
            let weights = sim::fleet::queues::weights(jobs, rule);
            sim::fleet::queues::per_vc(&mut built.fleet, &weights, borrowing)
        }
        (Some(_), None) => {
            return Err(SimError::BadArgument {
                flag: "--queues".into(),
                reason: "per-vc needs --trace: the VCs and their quotas come from it".into(),
            })
        }
    };
    if let Some(path) = &args.kueue_out {
        let text = sim::fleet::queues::kueue_yaml(&built.fleet);
        std::fs::write(path, text).map_err(|e| SimError::io(path, e))?;
    }
    let yaml = serde_norway::to_string(&built.fleet)
        .map_err(|e| SimError::io(&args.output, std::io::Error::other(e)))?;
    std::fs::write(&args.output, yaml).map_err(|e| SimError::io(&args.output, e))?;
    say!(
        "wrote {}: {} machines, {} GPUs in {} node groups ({} machines without GPUs dropped)",
        args.output.display(),
        built.machines,
        built.gpus,
        built.fleet.nodes.len(),
        built.dropped_without_gpu
    );
    // Said after the file is written, so that a closed pipe cannot lose it.
    eprintln!("tiers: {}", tiers.describe());
    for group in &built.fleet.nodes {
        let tier = built
            .fleet
            .flavors
            .iter()
            .find(|flavor| flavor.gpu_model == group.gpu_model)
            .map_or_else(|| "-".to_string(), |flavor| format!("{:?}", flavor.tier));
        eprintln!(
            "  {:<40} {:>6} machines × {} GPUs  tier {tier}",
            group.name, group.count, group.gpus
        );
    }
    if !shares.is_empty() {
        eprintln!(
            "queues: one per VC in cohort trace, quota by {}",
            args.queues.quota_rule
        );
        for (queue, share) in shares {
            eprintln!("  {queue:<40} {:>6.2}%", share * 100.0);
        }
    }
    Ok(())
}

fn pack(args: PackArgs) -> Result<()> {
    let config = sim::pack::PackConfig {
        nodes: args.nodes,
        pods: args.pods,
        policy: sim::pack::parse_policy(&args.policy)?,
        tune: args.tune,
        seeds: sim::pack::parse_seeds(&args.seeds)?,
        out: args.out,
        threads: args.threads,
    };
    let report = sim::pack::run(config)?;
    for line in report.seed_lines() {
        eprintln!("{line}");
    }
    say!("{}", report.fragmentation_line());
    say!("{}", report.final_line());
    Ok(())
}

/// `--queues`, `--quota-rule` and `--borrowing-limit` read: `None` for one queue, the rule
/// and borrowing limit for one queue per VC.
fn per_vc(
    args: &QueueArgs,
) -> Result<Option<(sim::fleet::queues::QuotaRule, sim::fleet::queues::Borrowing)>> {
    let bad = |flag: &str| {
        let flag = flag.to_string();
        move |reason: String| SimError::BadArgument { flag, reason }
    };
    let rule = args.quota_rule.parse().map_err(bad("--quota-rule"))?;
    let borrowing = args
        .borrowing_limit
        .parse()
        .map_err(bad("--borrowing-limit"))?;
    match args.queues.as_str() {
        "one" => Ok(None),
        "per-vc" => Ok(Some((rule, borrowing))),
        other => Err(bad("--queues")(format!(
            "expected one or per-vc, found {other:?}"
        ))),
    }
}

fn validate(args: ValidateArgs) -> Result<()> {
    let bad = |flag: &str| {
        let flag = flag.to_string();
        move |reason: String| SimError::BadArgument { flag, reason }
    };
    let format: sim::trace::Format = args.format.parse().map_err(bad("--format"))?;
    let machines: sim::fleet::from_machines::MachineList =
        args.machines.parse().map_err(bad("--machines"))?;
    let queues = per_vc(&args.queues)?;
    let report = sim::trace::import(format, &args.inputs, false)?;
    let mut rows = report.jobs;
    let options = sim::fleet::replay::BuildOptions {
        speeds: sim::fleet::replay::Speeds::Recorded,
        tiers: sim::fleet::replay::Tiers::for_jobs(&rows),
    };
    let mut built = sim::fleet::from_machines::build(machines, &args.machine_list, options)?;
    match queues {
        None => rows.iter_mut().for_each(|row| row.queue = "default".into()),
        Some((rule, borrowing)) => {
            let weights = sim::fleet::queues::weights(&rows, rule);
            sim::fleet::queues::per_vc(&mut built.fleet, &weights, borrowing);
        }
    }
    let baseline = sim::scenario::baseline::baseline(&args.policy)?;
    if let Some(strategy) = baseline.queueing {
        for queue in &mut built.fleet.cluster_queues {
            queue.strategy = strategy;
        }
    }
    let (config, nodes) = built.fleet.resolve(&args.machine_list)?;
    let mut jobs = sim::workload::from_trace::to_jobs(&rows);
    sim::workload::upgrades::TierUpgrades::Auto.apply(&mut jobs, &config);
    let plan = RunPlan {
        config,
        nodes,
        workload: sim::workload::Workload::batch(jobs),
        policy_name: args.policy.clone(),
        policy: baseline.policy,
        options: EngineOptions {
            cycle_period: (args.cycle_every_s > 0)
                .then(|| alloc_core::Millis::seconds(args.cycle_every_s)),
            runtime: sim::runtime_model::RuntimeModel::recorded(),
            ..EngineOptions::default()
        },
        inputs: args.inputs.clone(),
    };
    eprintln!(
        "replaying {} jobs on {} GPUs ({} queue(s), policy {})",
        rows.len(),
        built.gpus,
        built.fleet.cluster_queues.len(),
        args.policy
    );
    let started = std::time::Instant::now();
    let bar = sim::progress::bar(plan.workload.job_count() as u64, "replaying");
    let (output, _, _) = simulate(plan, |done, _| bar.set_position(done))?;
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let recorded_waits = match format {
        sim::trace::Format::AlibabaOpenb => sim::validate::openb_waits(&args.inputs)?,
        _ => Vec::new(),
    };
    let recorded = sim::validate::recorded(&rows, built.gpus, recorded_waits);
    let mut waits = Vec::new();
    let mut gpu_ms = 0u64;
    let (mut first, mut last) = (u64::MAX, 0u64);
    for record in &output.records {
        gpu_ms += record.gpu_ms;
        first = first.min(record.job.submit_time.0);
        if let (Some(start), Some(end)) = (record.first_start, record.end) {
            waits.push(start.0.saturating_sub(record.job.submit_time.0));
            last = last.max(end.0);
        }
    }
    waits.sort_unstable();
    let span = last.saturating_sub(first).max(1) as f64;
    let replayed = sim::validate::Side {
        waits_ms: waits,
        gpu_hours: gpu_ms as f64 / 3_600_000.0,
        utilisation: gpu_ms as f64 / (built.gpus.max(1) as f64 * span),
    };
    let mut text = format!(
        "{} ({} jobs) on {} ({} GPUs), queues {}{}, policy {}; replay {:.1} s wall\n\n{}",
        args.format,
        rows.len(),
        args.machines,
        built.gpus,
        args.queues.queues,
        if queues.is_some() {
            format!(" by {}", args.queues.quota_rule)
        } else {
            String::new()
        },
        args.policy,
        wall,
        sim::validate::table(&recorded, &replayed)
    );
    if let Some(published) = &args.published {
        let (file, row) = published
            .rsplit_once(':')
            .ok_or_else(|| bad("--published")("expected FILE:ROW".into()))?;
        let figures = sim::validate::published(std::path::Path::new(file), row)?;
        text.push_str(&format!(
            "\nPublished figures for {row} ({file}) — a different sample (the full trace as its \
             authors cleaned it), not this replay's jobs:\n\n| figure | published |\n|---|---|\n"
        ));
        for (name, value) in figures {
            text.push_str(&format!("| {name} | {value} |\n"));
        }
    }
    std::fs::create_dir_all(&args.out).map_err(|e| SimError::io(&args.out, e))?;
    let md = args.out.join("validate.md");
    std::fs::write(&md, &text).map_err(|e| SimError::io(&md, e))?;
    let html = args.out.join("validate.html");
    let notes = "Recorded: the trace's own start times where it has them; utilisation is GPU-time \
                 over (the fleet's GPUs x the span from first submission to last end). Nothing \
                 in the replay is fitted to these figures.";
    let page = sim::validate::page(
        &format!("sim validate: {}", args.format),
        &text,
        notes,
        &recorded,
        &replayed,
    );
    std::fs::write(&html, page).map_err(|e| SimError::io(&html, e))?;
    say!("{}", text.trim_end());
    say!("report: {}", html.display());
    Ok(())
}
