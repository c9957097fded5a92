//! Criterion benchmarks live here (issue 6); the package exists so the workspace layout is fixed.
