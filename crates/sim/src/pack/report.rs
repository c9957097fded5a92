//! The results of a packing run: per-seed columns, their mean and spread, the one-line summary
//! and the CSV files.

use super::metrics::Columns;
use crate::error::{Result, SimError};
use alloc_core::packing::PackPolicy;
use std::fmt::Write as _;
use std::path::Path;

/// One seed's run.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedRun {
    pub seed: u64,
    /// Pods that arrived (after inflation).
    pub pods: usize,
    pub placed: usize,
    /// Pods that fit nowhere; they count as arrived but never run.
    pub dropped: usize,
    /// Allocated ÷ capacity after the last pod, in %.
    pub final_allocation: f64,
    /// Table columns 0..=top (allocation and fragmentation ratio, in %).
    pub columns: Columns,
}

/// Mean and sample standard deviation over the seeds that have a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub sd: f64,
    pub seeds: usize,
}

/// Everything `sim pack` measured.
#[derive(Debug, Clone, PartialEq)]
pub struct PackReport {
    pub policy: PackPolicy,
    pub tune: f64,
    /// The last column, round(tune · 100).
    pub top: usize,
    pub capacity_milli: u64,
    /// In the order the seeds were given.
    pub seeds: Vec<SeedRun>,
}

impl PackReport {
    /// Allocation ratio of column `k` across seeds.
    pub fn allocation(&self, k: usize) -> Option<Spread> {
        spread(
            self.seeds
                .iter()
                .filter_map(|s| *s.columns.allocation.get(k)?),
        )
    }

    /// Fragmentation ratio of column `k` across seeds.
    pub fn fragmentation(&self, k: usize) -> Option<Spread> {
        spread(
            self.seeds
                .iter()
                .filter_map(|s| *s.columns.fragmentation.get(k)?),
        )
    }

    /// `allocation ratio at 100%: X.XX%, at 130%: Y.YY% (mean over N seeds, sd Z.ZZ)`, the sd
    /// being that of the top column.
    pub fn final_line(&self) -> String {
        let at_100 = self.allocation(100);
        let top = self.allocation(self.top);
        format!(
            "allocation ratio at 100%: {}, at {}%: {} (mean over {} seeds, sd {})",
            at_100.map_or("n/a".into(), |s| format!("{:.2}%", s.mean)),
            self.top,
            top.map_or("n/a".into(), |s| format!("{:.2}%", s.mean)),
            self.seeds.len(),
            top.map_or("n/a".into(), |s| format!("{:.2}", s.sd)),
        )
    }

    /// `fragmentation ratio at 50%: A.AA%, 80%: B.BB%, 90%: C.CC% (mean over N seeds)`.
    pub fn fragmentation_line(&self) -> String {
        let mut line = String::from("fragmentation ratio at");
        for (i, k) in [50, 80, 90].into_iter().enumerate() {
            let value = self
                .fragmentation(k)
                .map_or("n/a".into(), |s| format!("{:.2}%", s.mean));
            let _ = write!(line, "{} {k}%: {value}", if i == 0 { "" } else { "," });
        }
        let _ = write!(line, " (mean over {} seeds)", self.seeds.len());
        line
    }

    /// One line per seed: pods, drops and the 100% and top columns.
    pub fn seed_lines(&self) -> Vec<String> {
        let cell = |v: Option<&Option<f64>>| {
            v.copied()
                .flatten()
                .map_or("n/a".into(), |v| format!("{v:.2}%"))
        };
        self.seeds
            .iter()
            .map(|s| {
                format!(
                    "seed {}: {} pods, {} placed, {} dropped; allocation at 100%: {}, at {}%: {}",
                    s.seed,
                    s.pods,
                    s.placed,
                    s.dropped,
                    cell(s.columns.allocation.get(100)),
                    self.top,
                    cell(s.columns.allocation.get(self.top)),
                )
            })
            .collect()
    }

    /// Writes `allocation.csv` (seed,k,allocation_ratio,fragmentation_ratio),
    /// `allocation_mean.csv` (per k: mean and sd over seeds) and `seeds.csv` (per seed counts).
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| SimError::io(dir, e))?;
        let mut per_seed = String::from("seed,k,allocation_ratio,fragmentation_ratio\n");
        for run in &self.seeds {
            for k in 0..=self.top {
                let a = number(run.columns.allocation.get(k).copied().flatten());
                let f = number(run.columns.fragmentation.get(k).copied().flatten());
                let _ = writeln!(per_seed, "{},{k},{a},{f}", run.seed);
            }
        }
        let mut mean = String::from(
            "policy,tune,k,seeds,allocation_mean,allocation_sd,fragmentation_mean,fragmentation_sd\n",
        );
        for k in 0..=self.top {
            let (a, f) = (self.allocation(k), self.fragmentation(k));
            let _ = writeln!(
                mean,
                "{},{},{k},{},{},{},{},{}",
                self.policy,
                self.tune,
                a.map_or(0, |s| s.seeds),
                number(a.map(|s| s.mean)),
                number(a.map(|s| s.sd)),
                number(f.map(|s| s.mean)),
                number(f.map(|s| s.sd)),
            );
        }
        let mut seeds =
            String::from("seed,policy,tune,pods,placed,dropped,final_allocation_ratio\n");
        for s in &self.seeds {
            let _ = writeln!(
                seeds,
                "{},{},{},{},{},{},{:.6}",
                s.seed, self.policy, self.tune, s.pods, s.placed, s.dropped, s.final_allocation
            );
        }
        for (name, text) in [
            ("allocation.csv", per_seed),
            ("allocation_mean.csv", mean),
            ("seeds.csv", seeds),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| SimError::io(&path, e))?;
        }
        Ok(())
    }
}

/// Six decimals, or empty when there is no value.
fn number(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v:.6}"))
}

fn spread(values: impl Iterator<Item = f64>) -> Option<Spread> {
    let values: Vec<f64> = values.collect();
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Some(Spread {
        mean,
        sd,
        seeds: values.len(),
    })
}
