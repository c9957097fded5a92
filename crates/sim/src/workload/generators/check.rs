//! Parameter checks. Parameters come from users' scenario files, so every bad value becomes an
//! error naming the generator and the field, never a panic or a silently clamped number.

/// Upper bound on per-week and per-day rates: generous for real departments, small enough that
/// a typo (`1e9`) is reported instead of exhausting memory.
pub(crate) const MAX_RATE: f64 = 100_000.0;

fn error(generator: &str, field: &str, reason: impl std::fmt::Display) -> String {
    format!("{generator}: {field}: {reason}")
}

pub(crate) fn probability(generator: &str, field: &str, value: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(error(
            generator,
            field,
            format!("must be in [0, 1], got {value}"),
        ))
    }
}

/// A finite value in `[min, max]`.
pub(crate) fn within(
    generator: &str,
    field: &str,
    value: f64,
    min: f64,
    max: f64,
) -> Result<f64, String> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(error(
            generator,
            field,
            format!("must be in [{min}, {max}], got {value}"),
        ))
    }
}

pub(crate) fn rate(generator: &str, field: &str, value: f64) -> Result<f64, String> {
    within(generator, field, value, 0.0, MAX_RATE)
}

pub(crate) fn count(
    generator: &str,
    field: &str,
    value: u32,
    min: u32,
    max: u32,
) -> Result<u32, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(error(
            generator,
            field,
            format!("must be in {min}..={max}, got {value}"),
        ))
    }
}

/// Tenant names double as LocalQueue names, so they must be present, non-empty and distinct.
pub(crate) fn tenants(generator: &str, field: &str, names: &[String]) -> Result<(), String> {
    if names.is_empty() {
        return Err(error(generator, field, "needs at least one tenant"));
    }
    for (index, name) in names.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(error(generator, field, format!("entry {index} is empty")));
        }
        if names[..index].contains(name) {
            return Err(error(generator, field, format!("`{name}` is listed twice")));
        }
    }
    Ok(())
}

pub(crate) fn default_tenants() -> Vec<String> {
    (0..3).map(|lab| format!("lab-{lab}")).collect()
}
