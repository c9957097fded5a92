//! A column-typed table written both as CSV (for eyes and spreadsheets) and as Parquet (for
//! `pl.read_parquet`), from one definition so the two never disagree.

use crate::error::{Result, SimError};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Int(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    fn cell(&self, row: usize) -> String {
        match self {
            Column::Int(v) => v[row].map(|x| x.to_string()).unwrap_or_default(),
            Column::Float(v) => v[row].map(format_float).unwrap_or_default(),
            Column::Text(v) => v[row].clone().unwrap_or_default(),
        }
    }
}

/// Floats in outputs: fixed 6 decimals, so bytes are stable and diffs readable.
pub fn format_float(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else {
        String::new()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    columns: Vec<(&'static str, Column)>,
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    pub fn int(mut self, name: &'static str, values: Vec<Option<i64>>) -> Table {
        self.columns.push((name, Column::Int(values)));
        self
    }

    pub fn float(mut self, name: &'static str, values: Vec<Option<f64>>) -> Table {
        self.columns.push((name, Column::Float(values)));
        self
    }

    pub fn text(mut self, name: &'static str, values: Vec<Option<String>>) -> Table {
        self.columns.push((name, Column::Text(values)));
        self
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let file = std::fs::File::create(path).map_err(|e| SimError::io(path, e))?;
        let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(file));
        let io = |e: csv::Error| SimError::io(path, std::io::Error::other(e));
        writer
            .write_record(self.columns.iter().map(|(name, _)| *name))
            .map_err(io)?;
        for row in 0..self.rows() {
            writer
                .write_record(self.columns.iter().map(|(_, column)| column.cell(row)))
                .map_err(io)?;
        }
        writer.flush().map_err(|e| SimError::io(path, e))
    }

    pub fn write_parquet(&self, path: &Path) -> Result<()> {
        let err = |e: parquet::errors::ParquetError| SimError::io(path, std::io::Error::other(e));
        let fields: Vec<String> = self
            .columns
            .iter()
            .map(|(name, column)| match column {
                Column::Int(_) => format!("OPTIONAL INT64 {name};"),
                Column::Float(_) => format!("OPTIONAL DOUBLE {name};"),
                Column::Text(_) => format!("OPTIONAL BINARY {name} (UTF8);"),
            })
            .collect();
        let schema = Arc::new(
            parse_message_type(&format!("message table {{ {} }}", fields.join(" ")))
                .map_err(err)?,
        );
        let properties = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build(),
        );
        let file = std::fs::File::create(path).map_err(|e| SimError::io(path, e))?;
        let mut writer = SerializedFileWriter::new(file, schema, properties).map_err(err)?;
        let mut group = writer.next_row_group().map_err(err)?;
        let mut columns = self.columns.iter();
        while let Some(mut out) = group.next_column().map_err(err)? {
            let Some((_, column)) = columns.next() else {
                break;
            };
            match column {
                Column::Int(values) => {
                    let (present, levels) = split(values);
                    out.typed::<Int64Type>()
                        .write_batch(&present, Some(&levels), None)
                        .map_err(err)?;
                }
                Column::Float(values) => {
                    let (present, levels) = split(values);
                    out.typed::<DoubleType>()
                        .write_batch(&present, Some(&levels), None)
                        .map_err(err)?;
                }
                Column::Text(values) => {
                    let (present, levels) = split(values);
                    let bytes: Vec<ByteArray> = present
                        .into_iter()
                        .map(|s| ByteArray::from(s.into_bytes()))
                        .collect();
                    out.typed::<ByteArrayType>()
                        .write_batch(&bytes, Some(&levels), None)
                        .map_err(err)?;
                }
            }
            out.close().map_err(err)?;
        }
        group.close().map_err(err)?;
        writer.close().map_err(err)?;
        Ok(())
    }

    /// Writes `stem.csv` and `stem.parquet` in `dir`.
    pub fn write_both(&self, dir: &Path, stem: &str) -> Result<()> {
        self.write_csv(&dir.join(format!("{stem}.csv")))?;
        self.write_parquet(&dir.join(format!("{stem}.parquet")))
    }
}

/// Present values and Parquet definition levels (1 = present, 0 = null).
fn split<T: Clone>(values: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let present = values.iter().flatten().cloned().collect();
    let levels = values.iter().map(|v| i16::from(v.is_some())).collect();
    (present, levels)
}

/// Writes a JSON value pretty-printed with a trailing newline.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|e| SimError::io(path, e))?;
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| SimError::io(path, std::io::Error::other(e)))?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.write_all(b"\n"))
        .map_err(|e| SimError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_header_and_empty_nulls() {
        let dir = std::env::temp_dir().join(format!("sim-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| e.to_string())
            .ok();
        let table = Table::new()
            .int("a", vec![Some(1), None])
            .float("b", vec![Some(0.5), Some(2.0)])
            .text("c", vec![None, Some("x,y".into())]);
        table.write_both(&dir, "t").ok();
        let csv = std::fs::read_to_string(dir.join("t.csv")).unwrap_or_default();
        assert_eq!(csv, "a,b,c\n1,0.500000,\n,2.000000,\"x,y\"\n");
        let parquet = std::fs::read(dir.join("t.parquet")).unwrap_or_default();
        assert_eq!(&parquet[..4], b"PAR1");
        std::fs::remove_dir_all(&dir).ok();
    }
}
