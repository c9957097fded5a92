//! A scenario's `kueue:` block: Kueue objects pasted verbatim replace the fleet's flavors and
//! queues. Kueue's ResourceFlavor knows node labels but not our tier, cluster or GPU model, so
//! the block names those per flavor, and every flavor must be named exactly once.

use super::file::KueueQueues;
use crate::error::{Result, SimError};
use crate::fleet::FleetFile;
use alloc_core::{ClusterName, Flavor, GpuModelName};
use std::path::{Path, PathBuf};

/// Applies the objects to `fleet`; returns the objects' file when they came from one.
pub(super) fn apply(
    kueue: &KueueQueues,
    fleet: &mut FleetFile,
    base: &Path,
    scenario: &Path,
) -> Result<Option<PathBuf>> {
    let bad = |reason: String| SimError::BadFile {
        path: scenario.to_path_buf(),
        reason,
    };
    let (text, source, file) = match (&kueue.objects, &kueue.file) {
        (Some(text), None) => (text.clone(), scenario.to_path_buf(), None),
        (None, Some(file)) => {
            let path = base.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| SimError::io(&path, e))?;
            (text, path.clone(), Some(path))
        }
        _ => {
            return Err(bad(
                "kueue: give exactly one of `objects` (the YAML text) or `file`".into(),
            ))
        }
    };
    let objects = kueue_model::parse(&source, &text)?;
    let mut flavors = Vec::with_capacity(objects.flavors.len());
    for flavor in &objects.flavors {
        let facts = kueue.flavors.get(flavor.name.as_str()).ok_or_else(|| {
            bad(format!(
                "kueue.flavors: ResourceFlavor {} needs its tier and cluster here",
                flavor.name
            ))
        })?;
        flavors.push(Flavor {
            name: flavor.name.clone(),
            tier: facts.tier,
            cluster: ClusterName::new(facts.cluster.as_str()),
            node_labels: flavor.node_labels.clone(),
            gpu_model: facts.gpu_model.as_deref().map(GpuModelName::new),
        });
    }
    for name in kueue.flavors.keys() {
        if !objects.flavors.iter().any(|f| f.name.as_str() == name) {
            return Err(bad(format!(
                "kueue.flavors.{name}: no ResourceFlavor of that name among the objects"
            )));
        }
    }
    fleet.flavors = flavors;
    fleet.cluster_queues = objects.cluster_queues;
    fleet.local_queues = objects.local_queues;
    Ok(file)
}

/// Checks the configuration the objects make with the fleet, so that a mistake in a Kueue
/// object (a ClusterQueue naming a flavor it cannot use, a LocalQueue without its
/// ClusterQueue) is reported against the Kueue file and the object's line, not the fleet file.
/// Mistakes of the fleet's own are left to [`FleetFile::resolve`].
pub(super) fn check_config(
    kueue: &KueueQueues,
    fleet: &FleetFile,
    base: &Path,
    scenario: &Path,
) -> Result<()> {
    let outcome = alloc_core::Config::new(
        fleet.gpu_models.clone(),
        fleet.clusters.clone(),
        fleet.flavors.clone(),
        fleet.cluster_queues.clone(),
        fleet.local_queues.clone(),
        fleet.tenants.clone(),
        fleet.users.clone(),
    );
    let Err(alloc_core::ConfigError::Invalid {
        place,
        field,
        reason,
    }) = outcome
    else {
        return Ok(());
    };
    let Some((list, name, rest)) = split_place(&place) else {
        return Ok(());
    };
    let kind = match list {
        "cluster_queues" => "ClusterQueue",
        "local_queues" => "LocalQueue",
        "flavors" => "ResourceFlavor",
        _ => return Ok(()),
    };
    let scenario_text = std::fs::read_to_string(scenario).unwrap_or_default();
    // What a ResourceFlavor does not say comes from the scenario's `kueue.flavors`.
    if kind == "ResourceFlavor" && matches!(field.as_str(), "cluster" | "gpu_model" | "tier") {
        return Err(SimError::BadRow {
            path: scenario.to_path_buf(),
            line: line_of(&scenario_text, &format!("{name}:"), 0),
            field: format!("kueue.flavors.{name}.{field}"),
            reason,
        });
    }
    let (path, text, offset) = match &kueue.file {
        Some(file) => {
            let path = base.join(file);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            (path, text, 0)
        }
        None => {
            let start = line_of(&scenario_text, "objects:", 0);
            (
                scenario.to_path_buf(),
                kueue.objects.clone().unwrap_or_default(),
                start,
            )
        }
    };
    let at = line_of(&text, &format!("kind: {kind}"), 0).saturating_sub(1) as usize;
    let skipped: usize = text.lines().take(at).count();
    let line = text
        .lines()
        .enumerate()
        .skip(skipped)
        .find(|(_, line)| line.trim_start().starts_with("name:") && line.contains(name))
        .map_or(0, |(index, _)| index as u64 + 1);
    Err(SimError::BadRow {
        path,
        line: if line == 0 { 0 } else { line + offset },
        field: format!("{kind}/{name}: {}{field}", rest_field(rest)),
        reason,
    })
}

/// `cluster_queues[lab-0].flavors[a30]` → (`cluster_queues`, `lab-0`, `flavors[a30]`).
fn split_place(place: &str) -> Option<(&str, &str, &str)> {
    let (list, after) = place.split_once('[')?;
    let (name, rest) = after.split_once(']')?;
    Some((list, name, rest.trim_start_matches('.')))
}

fn rest_field(rest: &str) -> String {
    match rest.is_empty() {
        true => String::new(),
        false => format!("{rest}."),
    }
}

/// The 1-based line of the first line after line `from` containing `needle`, or 0.
fn line_of(text: &str, needle: &str, from: usize) -> u64 {
    text.lines()
        .enumerate()
        .skip(from)
        .find(|(_, line)| line.contains(needle))
        .map_or(0, |(index, _)| index as u64 + 1)
}
