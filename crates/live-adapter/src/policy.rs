//! `--policy NAME|FILE`: one of alloc-core's presets by name, or a YAML file of its `Policy`.
//! `sim policy SPEC -o FILE` writes such a file for any policy the twin measured, overrides
//! included, so the controller runs what was measured.

use anyhow::{anyhow, bail, Context};
use std::path::Path;

/// The policy `arg` names: a preset, else a file.
pub fn read(arg: &str) -> anyhow::Result<alloc_core::Policy> {
    if let Some(policy) = alloc_core::Policy::preset(arg) {
        return Ok(policy);
    }
    let path = Path::new(arg);
    if !path.exists() {
        bail!(
            "--policy {arg}: neither a preset ({}) nor a file",
            alloc_core::Policy::preset_names().join(", ")
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    serde_norway::from_str(&text).map_err(|error| {
        let line = error
            .location()
            .map(|at| format!(":{}", at.line()))
            .unwrap_or_default();
        anyhow!("{}{line}: not a policy: {error}", path.display())
    })
}
