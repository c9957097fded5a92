//! Readers of the openb node and pod lists (columns as in traces/alibaba-openb/SOURCE.md).
//! Columns are found by header name; every bad value is reported with its file, 1-based line
//! and column.

use crate::error::{Result, SimError};
use alloc_core::packing::PodShape;
use alloc_core::state::NodeState;
use alloc_core::{ClusterName, CpuMilli, GpuModelName, MemMib, MilliGpu, NodeName, NodeSpec};
use std::fs::File;
use std::path::Path;

/// Nodes in file order, all GPUs free.
pub(crate) fn read_nodes(path: &Path) -> Result<Vec<NodeState>> {
    let mut table = Table::open(
        path,
        &["sn", "cpu_milli", "memory_mib", "gpu", "model"],
        &[],
    )?;
    let mut nodes = Vec::new();
    while let Some(row) = table.next_row()? {
        let gpus = row.integer("gpu")?;
        let gpus = u32::try_from(gpus).map_err(|_| row.bad("gpu", "too many GPUs"))?;
        let model = row.text("model")?.trim();
        let spec = NodeSpec {
            name: NodeName::new(row.text("sn")?.trim()),
            cluster: ClusterName::new("openb"),
            labels: Default::default(),
            cpu: CpuMilli(row.integer("cpu_milli")?),
            memory: MemMib(row.integer("memory_mib")?),
            gpu_model: (!model.is_empty()).then(|| GpuModelName::new(model)),
            gpus,
        };
        nodes.push(NodeState::new(spec, None));
    }
    Ok(nodes)
}

/// Pod shapes in file order. Times, QoS and phase are ignored: the experiment has no clock.
pub(crate) fn read_pods(path: &Path) -> Result<Vec<PodShape>> {
    let required = ["cpu_milli", "memory_mib", "num_gpu", "gpu_milli"];
    let mut table = Table::open(path, &required, &["gpu_spec"])?;
    let mut pods = Vec::new();
    while let Some(row) = table.next_row()? {
        let count = row.integer("num_gpu")?;
        let count = u32::try_from(count).map_err(|_| row.bad("num_gpu", "too many GPUs"))?;
        let spec = row.optional_text("gpu_spec").unwrap_or("").trim();
        let shape = PodShape {
            cpu: CpuMilli(row.integer("cpu_milli")?),
            memory: MemMib(row.integer("memory_mib")?),
            gpu_count: count,
            gpu_milli: MilliGpu(row.integer("gpu_milli")?),
            allowed_models: spec
                .split('|')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(GpuModelName::new)
                .collect(),
        };
        shape
            .validate()
            .map_err(|e| row.bad("gpu_milli", &e.to_string()))?;
        pods.push(shape);
    }
    Ok(pods)
}

/// A CSV file with named columns.
struct Table<'p> {
    path: &'p Path,
    reader: csv::Reader<File>,
    columns: Vec<(&'static str, Option<usize>)>,
    record: csv::StringRecord,
}

/// One row, able to name its line and columns in errors.
struct Row<'t, 'p> {
    table: &'t Table<'p>,
    line: u64,
}

impl<'p> Table<'p> {
    fn open(path: &'p Path, required: &[&'static str], optional: &[&'static str]) -> Result<Self> {
        let file = File::open(path).map_err(|e| SimError::io(path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(file);
        let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
        let find = |name: &str| headers.iter().position(|h| h.trim() == name);
        let mut columns = Vec::new();
        for name in required {
            let index = find(name).ok_or_else(|| SimError::BadFile {
                path: path.to_path_buf(),
                reason: format!("no {name:?} column (needs {})", required.join(", ")),
            })?;
            columns.push((*name, Some(index)));
        }
        columns.extend(optional.iter().map(|name| (*name, find(name))));
        Ok(Table {
            path,
            reader,
            columns,
            record: csv::StringRecord::new(),
        })
    }

    fn next_row(&mut self) -> Result<Option<Row<'_, 'p>>> {
        let more = self
            .reader
            .read_record(&mut self.record)
            .map_err(|e| csv_error(self.path, e))?;
        let line = self.record.position().map_or(0, |p| p.line());
        Ok(more.then_some(Row { table: self, line }))
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().find(|(n, _)| *n == name)?.1
    }
}

impl Row<'_, '_> {
    fn bad(&self, field: &str, reason: &str) -> SimError {
        SimError::BadRow {
            path: self.table.path.to_path_buf(),
            line: self.line,
            field: field.to_string(),
            reason: reason.to_string(),
        }
    }

    fn optional_text(&self, name: &str) -> Option<&str> {
        self.table.record.get(self.table.index(name)?)
    }

    fn text(&self, name: &str) -> Result<&str> {
        self.optional_text(name)
            .ok_or_else(|| self.bad(name, "missing value"))
    }

    fn integer(&self, name: &str) -> Result<u64> {
        let text = self.text(name)?.trim();
        text.parse().map_err(|_| {
            self.bad(
                name,
                &format!("expected a non-negative integer, got {text:?}"),
            )
        })
    }
}

/// A CSV-level failure (unequal field counts, bad UTF-8, I/O), placed where the reader was.
fn csv_error(path: &Path, error: csv::Error) -> SimError {
    let line = error.position().map(|p| p.line());
    match (line, error.into_kind()) {
        (_, csv::ErrorKind::Io(source)) => SimError::io(path, source),
        (Some(line), kind) => SimError::BadRow {
            path: path.to_path_buf(),
            line,
            field: "row".into(),
            reason: csv_reason(kind),
        },
        (None, kind) => SimError::BadFile {
            path: path.to_path_buf(),
            reason: csv_reason(kind),
        },
    }
}

fn csv_reason(kind: csv::ErrorKind) -> String {
    match kind {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".into(),
        other => format!("{other:?}"),
    }
}
