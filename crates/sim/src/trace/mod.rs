//! Trace formats: the native CSV ([`native`]) and one importer per public trace.
//!
//! Every importer turns its source rows into native [`TraceJob`]s and accounts for every row it
//! read: `rows_read = imported + dropped (by reason) + skipped_bad`. Nothing is silently lost.
//! `traces/README.md` documents the native columns and each importer's mapping.

pub mod alibaba_openb;
pub mod chronus;
mod collect;
mod decimal;
pub mod itp;
pub mod native;
pub mod philly;
mod table;

pub use native::{read_native, write_native, ReadReport, TraceJob};

use crate::error::{Result, SimError};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Minimum service tier a job asks for (mapped onto alloc-core's tiers by the workload layer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    #[default]
    Bronze,
    Silver,
    Gold,
}

/// Whether a job's budget is a hard cap (`fixed`) or may be stretched (`flex`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BudgetKind {
    Fixed,
    #[default]
    Flex,
}

/// How sensitive a job's data is (limits where it may run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataClass {
    Public,
    #[default]
    Internal,
    Sensitive,
}

/// Implements `Display` and case-insensitive `FromStr` for a small enum from one name table, so
/// the names written and the names accepted can never drift apart.
macro_rules! named_enum {
    ($type:ty, $what:literal, [$(($variant:path, $name:literal)),+ $(,)?]) => {
        impl $type {
            /// The accepted names, in declaration order (for error messages).
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The lower-case name used in CSV files and on the command line.
            pub fn name(self) -> &'static str {
                match self {
                    $($variant => $name,)+
                }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $type {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                $(if text.eq_ignore_ascii_case($name) {
                    return Ok($variant);
                })+
                Err(format!(
                    "expected {} ({}), found {text:?}",
                    $what,
                    Self::NAMES.join("|")
                ))
            }
        }
    };
}

named_enum!(
    Tier,
    "a tier",
    [
        (Tier::Bronze, "bronze"),
        (Tier::Silver, "silver"),
        (Tier::Gold, "gold")
    ]
);
named_enum!(
    BudgetKind,
    "a budget kind",
    [(BudgetKind::Fixed, "fixed"), (BudgetKind::Flex, "flex")]
);
named_enum!(
    DataClass,
    "a data class",
    [
        (DataClass::Public, "public"),
        (DataClass::Internal, "internal"),
        (DataClass::Sensitive, "sensitive")
    ]
);

/// A public trace format `sim import` understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Alibaba cluster-trace-gpu-v2023 `openb_pod_list_*.csv` ([`alibaba_openb`]).
    AlibabaOpenb,
    /// Microsoft Philly as shipped by Pollux, `philly.csv` ([`philly`]).
    Philly,
    /// Microsoft ITP from ElasticFlow, raw or with deadlines ([`itp`]).
    Itp,
    /// Chronus' Philly-derived deadline traces ([`chronus`]).
    Chronus,
}

named_enum!(
    Format,
    "a trace format",
    [
        (Format::AlibabaOpenb, "alibaba-openb"),
        (Format::Philly, "philly"),
        (Format::Itp, "itp"),
        (Format::Chronus, "chronus"),
    ]
);

/// Imports `inputs` (concatenated, in the order given) from `format` into native jobs.
pub fn import(format: Format, inputs: &[PathBuf], skip_bad_rows: bool) -> Result<ImportReport> {
    match format {
        Format::AlibabaOpenb => alibaba_openb::import(inputs, skip_bad_rows),
        Format::Philly => philly::import(inputs, skip_bad_rows),
        Format::Itp => itp::import(inputs, skip_bad_rows),
        Format::Chronus => chronus::import(inputs, skip_bad_rows),
    }
}

/// What an import produced and what it left out, row by row.
///
/// Invariant: `rows_read == jobs.len() + dropped.values().sum() + skipped_bad`.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Imported jobs, sorted by (submit_ms, job_id), ids unique.
    pub jobs: Vec<TraceJob>,
    /// Data rows read from all inputs (headers not counted).
    pub rows_read: u64,
    /// Well-formed rows the native format cannot represent, counted by reason.
    pub dropped: BTreeMap<String, u64>,
    /// Malformed rows skipped because `skip_bad_rows` was set.
    pub skipped_bad: u64,
    /// The first few skipped rows' errors, so a user can see what was wrong.
    pub first_bad: Vec<SimError>,
}

impl ImportReport {
    /// How many skipped-row errors are kept in `first_bad`.
    pub const KEPT_ERRORS: usize = 5;

    /// Rows dropped for any reason.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "rows read:        {}", self.rows_read)?;
        writeln!(f, "imported:         {}", self.jobs.len())?;
        writeln!(f, "dropped:          {}", self.dropped_total())?;
        for (reason, count) in &self.dropped {
            writeln!(f, "  {count:>8}  {reason}")?;
        }
        write!(f, "skipped bad rows: {}", self.skipped_bad)?;
        for error in &self.first_bad {
            write!(f, "\n  {error}")?;
        }
        if self.skipped_bad > self.first_bad.len() as u64 {
            write!(
                f,
                "\n  ... and {} more",
                self.skipped_bad - self.first_bad.len() as u64
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ignore_case() {
        for format in [
            Format::AlibabaOpenb,
            Format::Philly,
            Format::Itp,
            Format::Chronus,
        ] {
            assert_eq!(format.to_string().parse::<Format>(), Ok(format));
        }
        assert_eq!("GOLD".parse::<Tier>(), Ok(Tier::Gold));
        assert_eq!("Fixed".parse::<BudgetKind>(), Ok(BudgetKind::Fixed));
        assert_eq!(DataClass::Sensitive.to_string(), "sensitive");
        let error = "platinum".parse::<Tier>().unwrap_err();
        assert!(error.contains("bronze|silver|gold"), "{error}");
    }
}
