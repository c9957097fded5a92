//! Reading YAML input files so that every mistake names the file, the line and the field.

use crate::error::{Result, SimError};
use serde::de::DeserializeOwned;
use std::path::Path;

/// Parses `text` (read from `path`) into `T`, refusing unknown fields where `T` does.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    let deserializer = serde_norway::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner();
        let line = inner.location().map_or(0, |l| l.line() as u64);
        SimError::BadRow {
            path: path.to_path_buf(),
            line,
            field: if field == "." {
                "(top level)".into()
            } else {
                field
            },
            reason: strip_location(&inner.to_string()),
        }
    })
}

pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::io(path, e))?;
    parse(path, &text)
}

/// serde_norway appends "at line L column C"; the line is already in our message.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Vec<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        gpus: u32,
    }

    #[test]
    fn errors_name_line_and_field() {
        let text = "inner:\n  - gpus: 2\n  - gpus: many\n";
        let Err(SimError::BadRow { line, field, .. }) = parse::<Outer>(Path::new("f.yaml"), text)
        else {
            panic!("expected a bad row");
        };
        assert_eq!(line, 3);
        assert_eq!(field, "inner[1].gpus");
    }

    #[test]
    fn unknown_fields_are_errors() {
        let text = "inner:\n  - gpus: 2\n    gpu: 1\n";
        let Err(SimError::BadRow { reason, .. }) = parse::<Outer>(Path::new("f.yaml"), text) else {
            panic!("expected a bad row");
        };
        assert!(reason.contains("unknown field"), "{reason}");
    }
}
