//! The cycle's steps read a `View` and never the scheduler itself: only the orchestration
//! (`scheduler`, `cycle`, `walk`, `room_told`, `queries`, `protocol`, `kueue_phase`,
//! `invariants`, `inputs_log`) may name it. Read from the sources, so that an `impl Scheduler` or an import creeping back
//! into a step fails here rather than quietly closing the import circle again. Test modules
//! drive a scheduler as a shell does and are left out.

/// Each step module's path and source.
const STEPS: &[(&str, &str)] = &[
    ("assign.rs", include_str!("assign.rs")),
    ("backfill/mod.rs", include_str!("backfill/mod.rs")),
    ("backfill/plan.rs", include_str!("backfill/plan.rs")),
    ("burst/mod.rs", include_str!("burst/mod.rs")),
    ("burst/offers.rs", include_str!("burst/offers.rs")),
    ("burst/outlook.rs", include_str!("burst/outlook.rs")),
    ("burst/policy.rs", include_str!("burst/policy.rs")),
    ("burst/screen.rs", include_str!("burst/screen.rs")),
    ("burst/why.rs", include_str!("burst/why.rs")),
    ("clock.rs", include_str!("clock.rs")),
    ("decide.rs", include_str!("decide.rs")),
    ("flavors.rs", include_str!("flavors.rs")),
    ("memo.rs", include_str!("memo.rs")),
    (
        "placement/cpu_only.rs",
        include_str!("placement/cpu_only.rs"),
    ),
    ("placement/fgd.rs", include_str!("placement/fgd.rs")),
    (
        "placement/fraction.rs",
        include_str!("placement/fraction.rs"),
    ),
    ("placement/indexed.rs", include_str!("placement/indexed.rs")),
    (
        "placement/mix_tracker.rs",
        include_str!("placement/mix_tracker.rs"),
    ),
    ("placement/mod.rs", include_str!("placement/mod.rs")),
    (
        "placement/whole_gpu.rs",
        include_str!("placement/whole_gpu.rs"),
    ),
    ("policy.rs", include_str!("policy.rs")),
    (
        "preemption/evictable.rs",
        include_str!("preemption/evictable.rs"),
    ),
    ("preemption/mod.rs", include_str!("preemption/mod.rs")),
    ("preemption/prune.rs", include_str!("preemption/prune.rs")),
    ("preemption/rank.rs", include_str!("preemption/rank.rs")),
    (
        "preemption/refusals.rs",
        include_str!("preemption/refusals.rs"),
    ),
    ("preemption/search.rs", include_str!("preemption/search.rs")),
    ("preemption/trial.rs", include_str!("preemption/trial.rs")),
    ("quota.rs", include_str!("quota.rs")),
    ("room_lines.rs", include_str!("room_lines.rs")),
    ("running.rs", include_str!("running.rs")),
    ("score/context.rs", include_str!("score/context.rs")),
    ("score/mod.rs", include_str!("score/mod.rs")),
    ("score/rank.rs", include_str!("score/rank.rs")),
    ("score/speeds.rs", include_str!("score/speeds.rs")),
    ("score/terms.rs", include_str!("score/terms.rs")),
    ("score/weights.rs", include_str!("score/weights.rs")),
    ("screen.rs", include_str!("screen.rs")),
    ("screenings.rs", include_str!("screenings.rs")),
    ("view.rs", include_str!("view.rs")),
];

/// The lines of `source` outside comments and its inline test module that name the
/// scheduler, with their numbers.
fn naming_the_scheduler(source: &str) -> Vec<(usize, &str)> {
    let code = source
        .split("#[cfg(test)]\nmod tests {")
        .next()
        .unwrap_or(source);
    code.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .filter(|(_, line)| line.contains("scheduler::") || line.contains("Scheduler"))
        .map(|(at, line)| (at + 1, line))
        .collect()
}

#[test]
fn no_step_names_the_scheduler() {
    let found: Vec<String> = STEPS
        .iter()
        .flat_map(|(path, source)| {
            naming_the_scheduler(source)
                .into_iter()
                .map(move |(at, line)| format!("{path}:{at}: {}", line.trim()))
        })
        .collect();
    assert!(
        found.is_empty(),
        "steps naming the scheduler:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_an_import_and_an_impl() {
    let source = "use crate::scheduler::Scheduler;\n// Scheduler in a comment\nimpl Scheduler {}\n\
                  #[cfg(test)]\nmod tests {\n    use crate::scheduler::Scheduler;\n}\n";
    let lines: Vec<usize> = naming_the_scheduler(source)
        .into_iter()
        .map(|(at, _)| at)
        .collect();
    assert_eq!(lines, [1, 3]);
}
