//! A scenario's settings checked as the file is read: every value that cannot be meant is
//! refused naming the file, the line of its key and the field, instead of being clamped.

use super::file::{ScenarioFile, WarmPoolSetting, WorkloadSource};
use super::Scenario;
use crate::error::{Result, SimError};
use crate::limits;
use std::path::Path;

/// The warm pool and restore figures: the field at fault and why.
fn notebook_pool(
    notebooks: &super::file::NotebookSettings,
) -> std::result::Result<(), (&'static str, String)> {
    let state = notebooks.session_state_gib;
    if !(0.0..=65_536.0).contains(&state) {
        return Err((
            "notebooks.session_state_gib",
            format!("must be between 0 and 65536 GiB, found {state}"),
        ));
    }
    let bandwidth = notebooks.restore_gib_per_second;
    if !(bandwidth > 0.0 && bandwidth <= 10_000.0) {
        return Err((
            "notebooks.restore_gib_per_second",
            format!("must be above 0 and at most 10000 GiB/s, found {bandwidth}"),
        ));
    }
    match &notebooks.warm_pool {
        WarmPoolSetting::Word(word) if word != "auto" => {
            return Err((
                "notebooks.warm_pool",
                format!("expected auto or a count of slices, found {word:?}"),
            ))
        }
        WarmPoolSetting::Count(count) if *count > alloc_core::warm_pool::MAX_POOL => {
            return Err((
                "notebooks.warm_pool",
                format!(
                    "at most {} slices per class of sessions, found {count}",
                    alloc_core::warm_pool::MAX_POOL
                ),
            ))
        }
        _ => {}
    }
    let quantile = notebooks.warm_pool_quantile;
    if !(quantile > 0.0 && quantile < 1.0) {
        return Err((
            "notebooks.warm_pool_quantile",
            format!("must be between 0 and 1 (exclusive), found {quantile}"),
        ));
    }
    limits::minutes(notebooks.warm_pool_max_idle_minutes)
        .map_err(|reason| ("notebooks.warm_pool_max_idle_minutes", reason))?;
    let window = notebooks.warm_pool_window_minutes;
    limits::minutes(window).map_err(|reason| ("notebooks.warm_pool_window_minutes", reason))?;
    if window <= 0.0 {
        return Err((
            "notebooks.warm_pool_window_minutes",
            format!("must be positive, found {window}"),
        ));
    }
    Ok(())
}

/// Checks `file` (read from `path`, whose text is `text`).
pub(super) fn settings(file: &ScenarioFile, path: &Path, text: &str) -> Result<()> {
    let bad = |field: &str, reason: String| SimError::BadRow {
        path: path.to_path_buf(),
        line: key_line(text, field),
        field: field.to_string(),
        reason,
    };
    if let Some(name) = &file.name {
        folder_name(name).map_err(|reason| bad("name", reason))?;
    }
    if let Some(hours) = file.horizon_hours {
        limits::hours(hours).map_err(|reason| bad("horizon_hours", reason))?;
        if hours <= 0.0 {
            return Err(bad(
                "horizon_hours",
                format!("must be positive (leave it out to run to the end), found {hours}"),
            ));
        }
    }
    let notebooks = &file.notebooks;
    limits::minutes(notebooks.keep_alive_minutes)
        .map_err(|reason| bad("notebooks.keep_alive_minutes", reason))?;
    for (field, value) in [
        (
            "notebooks.container_start_seconds",
            Some(notebooks.container_start_seconds),
        ),
        (
            "notebooks.cuda_context_seconds",
            Some(notebooks.cuda_context_seconds),
        ),
        (
            "notebooks.restore_fixed_seconds",
            Some(notebooks.restore_fixed_seconds),
        ),
        ("notebooks.cold_start_seconds", notebooks.cold_start_seconds),
        ("notebooks.restore_seconds", notebooks.restore_seconds),
    ] {
        if let Some(value) = value {
            limits::seconds(value).map_err(|reason| bad(field, reason))?;
        }
    }
    notebook_pool(notebooks).map_err(|(field, reason)| bad(field, reason))?;
    let price = file.showback.private_gpu_hour_price;
    if !(0.0..=1e6).contains(&price) {
        return Err(bad(
            "showback.private_gpu_hour_price",
            format!("must be between 0 and 1000000 currency units per GPU-hour, found {price}"),
        ));
    }
    let engine = &file.engine;
    if engine.sample_every_s == 0 {
        return Err(bad(
            "engine.sample_every_s",
            "must be at least 1 second between samples, found 0".into(),
        ));
    }
    for (field, value) in [
        ("engine.sample_every_s", engine.sample_every_s),
        ("engine.cycle_every_s", engine.cycle_every_s),
    ] {
        limits::ms(value.saturating_mul(1000)).map_err(|reason| bad(field, reason))?;
    }
    if let Some(minutes) = engine.public_scale_down_minutes {
        limits::minutes(minutes)
            .map_err(|reason| bad("engine.public_scale_down_minutes", reason))?;
    }
    if file.compare.as_ref().is_some_and(Vec::is_empty) {
        return Err(bad(
            "compare",
            "an empty list runs nothing; name at least one policy, or leave `compare` out for \
             the six baselines"
                .into(),
        ));
    }
    if let WorkloadSource::Trace(trace) = &file.workload {
        if trace.paths.is_empty() {
            return Err(bad(
                "workload.trace.paths",
                "the list is empty: name at least one trace file".into(),
            ));
        }
        if trace.limit == Some(0) {
            return Err(bad(
                "workload.trace.limit",
                "0 keeps no job; leave it out to keep every job".into(),
            ));
        }
    }
    if let Some(tenants) = &file.tenants {
        crate::fleet::check_budgets(tenants).map_err(|(field, reason)| bad(&field, reason))?;
    }
    Ok(())
}

/// Refuses a workload whose jobs name a LocalQueue the fleet (or the Kueue objects) lack.
pub(super) fn queues_exist(
    scenario: &Scenario,
    config: &alloc_core::Config,
    text: &str,
) -> Result<()> {
    let Some((job, queue)) = crate::workload::unknown_queue(&scenario.workload, config) else {
        return Ok(());
    };
    let field = match &scenario.file.workload {
        WorkloadSource::Trace(trace) if trace.queue.is_some() => "workload.trace.queue",
        _ => "workload",
    };
    Err(SimError::BadRow {
        path: scenario.path.clone(),
        line: key_line(text, field),
        field: field.to_string(),
        reason: format!(
            "{job} is submitted to LocalQueue \"{queue}\", which the fleet does not define \
             (LocalQueues: {}); every such job would be rejected. Set workload.trace.queue to \
             one of them, or add the LocalQueue",
            crate::workload::known_queues(config)
        ),
    })
}

/// A scenario's name becomes its output folder (`out/<name>`): one plain path component.
pub(crate) fn folder_name(name: &str) -> std::result::Result<(), String> {
    let plain = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    match plain {
        true => Ok(()),
        false => Err(format!(
            "{name:?} cannot be a folder name under out/: use letters, digits, `-`, `_` and `.` \
             (not first), at most 100 characters"
        )),
    }
}

/// The 1-based line of `field` (`a.b`: key `b` after top-level key `a`; a bare key: the
/// top-level key, or any line holding `key:`), 0 when it is not found.
fn key_line(text: &str, field: &str) -> u64 {
    let lines: Vec<&str> = text.lines().collect();
    let (first, rest) = match field.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (field, None),
    };
    let key = |line: &str, key: &str| {
        line.trim_start()
            .trim_start_matches(['-', ' ', '{'])
            .starts_with(&format!("{key}:"))
            || line.contains(&format!("{{{key}:"))
            || line.contains(&format!(" {key}:"))
    };
    let top = lines
        .iter()
        .position(|line| line.starts_with(&format!("{first}:")))
        .or_else(|| lines.iter().position(|line| key(line, first)));
    let found = match (top, rest) {
        (Some(top), Some(rest)) => {
            let last = rest.rsplit('.').next().unwrap_or(rest);
            lines[top..]
                .iter()
                .position(|line| key(line, last))
                .map(|offset| top + offset)
        }
        (top, None) => top,
        (None, Some(_)) => None,
    };
    found.map_or(0, |index| index as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lines_are_found_in_block_and_flow_style() {
        let text = "name: x\nnotebooks:\n  cold_start_seconds: 3\n  keep_alive_minutes: -1\nengine: {sample_every_s: 0}\n";
        assert_eq!(key_line(text, "name"), 1);
        assert_eq!(key_line(text, "notebooks.keep_alive_minutes"), 4);
        assert_eq!(key_line(text, "engine.sample_every_s"), 5);
        assert_eq!(key_line(text, "horizon_hours"), 0);
    }

    #[test]
    fn folder_names_are_one_plain_component() {
        assert!(folder_name("semester-peak").is_ok());
        for bad in ["/abs/path", "../../x", "..", ".hidden", "a/b", "a\\b", ""] {
            assert!(folder_name(bad).is_err(), "{bad}");
        }
    }
}
