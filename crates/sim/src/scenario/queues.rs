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
