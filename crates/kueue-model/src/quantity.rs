//! Kubernetes quantities (`4`, `1.5`, `500m`, `16Gi`, `100M`, `1e3`) in alloc-core's units:
//! GPUs and CPUs in thousandths, memory in MiB. Arithmetic is exact (integers, no floats); a
//! result that falls between two units is rounded down, so a quota never grants more than was
//! written.

use alloc_core::Resource;

/// Why a quantity could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("quantity {0:?} must not be negative")]
    Negative(String),
    #[error("{text:?} is not a Kubernetes quantity: {problem}")]
    Malformed { text: String, problem: Malformed },
    /// More than `u64` units of the resource.
    #[error("quantity {0:?} is too large")]
    TooLarge(String),
    /// Not zero, but less than one unit of the resource (1 MiB of memory, a thousandth of a
    /// GPU or CPU): rounding it down to nothing would silently grant no quota.
    #[error("quantity {text:?} is less than one {unit} (the smallest amount alloc-core counts) but not 0; write 0 or at least 1{suffix}")]
    BelowUnit {
        text: String,
        unit: &'static str,
        suffix: &'static str,
    },
}

/// What is wrong with the text of a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("expected digits")]
    NoDigits,
    #[error("more than one decimal point")]
    DecimalPoints,
    #[error("too many digits")]
    TooManyDigits,
    #[error("unknown suffix (use one of n u m k M G T P E Ki Mi Gi Ti Pi Ei, or e<exponent>)")]
    UnknownSuffix,
    #[error("the exponent is out of range (e-60 to e60)")]
    ExponentOutOfRange,
}

/// A non-negative decimal `mantissa × 10^exponent × 1024^binary`.
struct Decimal {
    mantissa: u128,
    exponent: i32,
    binary: u32,
}

/// Parses `text` as a quantity of `resource`, in that resource's alloc-core unit: milli-GPU,
/// milli-CPU or MiB, rounded down (a request of less than one unit counts as none).
pub fn to_units(text: &str, resource: Resource) -> Result<u64, QuantityError> {
    match to_quota_units(text, resource) {
        Err(QuantityError::BelowUnit { .. }) => Ok(0),
        other => other,
    }
}

/// As [`to_units`], for a quota: a quantity that is not zero but less than one unit is
/// refused ([`QuantityError::BelowUnit`]) rather than rounded down to a quota of nothing.
pub fn to_quota_units(text: &str, resource: Resource) -> Result<u64, QuantityError> {
    let decimal = parse(text.trim())?;
    let (multiply, divide): (u128, u128) = match resource {
        Resource::Gpu | Resource::Cpu => (1000, 1),
        Resource::Memory => (1, 1 << 20),
    };
    let too_large = || QuantityError::TooLarge(text.to_string());
    let mut numerator = decimal
        .mantissa
        .checked_mul(1024u128.checked_pow(decimal.binary).ok_or_else(too_large)?)
        .and_then(|value| value.checked_mul(multiply))
        .ok_or_else(too_large)?;
    let mut denominator = divide;
    if decimal.exponent >= 0 {
        let scale = 10u128
            .checked_pow(decimal.exponent.unsigned_abs())
            .ok_or_else(too_large)?;
        numerator = numerator.checked_mul(scale).ok_or_else(too_large)?;
    } else {
        match 10u128.checked_pow(decimal.exponent.unsigned_abs()) {
            Some(scale) => denominator = denominator.saturating_mul(scale),
            // Smaller than any unit.
            None => denominator = u128::MAX,
        }
    }
    let units = numerator / denominator;
    if units == 0 && decimal.mantissa != 0 {
        let (unit, suffix) = match resource {
            Resource::Memory => ("MiB", "Mi"),
            Resource::Gpu | Resource::Cpu => ("thousandth", "m"),
        };
        return Err(QuantityError::BelowUnit {
            text: text.to_string(),
            unit,
            suffix,
        });
    }
    u64::try_from(units).map_err(|_| too_large())
}

/// Whether `text` is a quantity equal to zero (for resources whose unit we do not know).
pub fn is_zero(text: &str) -> Result<bool, QuantityError> {
    parse(text.trim()).map(|decimal| decimal.mantissa == 0)
}

fn parse(text: &str) -> Result<Decimal, QuantityError> {
    let bad = |problem: Malformed| QuantityError::Malformed {
        text: text.to_string(),
        problem,
    };
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    if unsigned.starts_with('-') {
        return Err(QuantityError::Negative(text.to_string()));
    }
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(bad(Malformed::NoDigits));
    }
    if fraction.contains('.') {
        return Err(bad(Malformed::DecimalPoints));
    }
    let mut mantissa: u128 = 0;
    for digit in whole.chars().chain(fraction.chars()) {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|value| value.checked_add(u128::from(digit.to_digit(10).unwrap_or(0))))
            .ok_or_else(|| bad(Malformed::TooManyDigits))?;
    }
    let fraction_digits =
        i32::try_from(fraction.len()).map_err(|_| bad(Malformed::TooManyDigits))?;
    let (exponent, binary) = suffix_scale(suffix).ok_or_else(|| match exponent_form(suffix) {
        true => bad(Malformed::ExponentOutOfRange),
        false => bad(Malformed::UnknownSuffix),
    })?;
    Ok(Decimal {
        mantissa,
        exponent: exponent - fraction_digits,
        binary,
    })
}

/// Whether `suffix` is written as an exponent (`e400`, `E-3`), whatever its size.
fn exponent_form(suffix: &str) -> bool {
    let Some(exponent) = suffix.strip_prefix(['e', 'E']) else {
        return false;
    };
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// The power of ten and the power of 1024 a suffix stands for.
fn suffix_scale(suffix: &str) -> Option<(i32, u32)> {
    let binary = match suffix {
        "Ki" => Some(1),
        "Mi" => Some(2),
        "Gi" => Some(3),
        "Ti" => Some(4),
        "Pi" => Some(5),
        "Ei" => Some(6),
        _ => None,
    };
    if let Some(power) = binary {
        return Some((0, power));
    }
    let decimal = match suffix {
        "" => 0,
        "n" => -9,
        "u" => -6,
        "m" => -3,
        "k" => 3,
        "M" => 6,
        "G" => 9,
        "T" => 12,
        "P" => 15,
        "E" => 18,
        // `1e3`, `5E-2`: Kubernetes' exponent form (a bare `E` above is exa).
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let value: i32 = exponent.parse().ok()?;
            return (-60..=60).contains(&value).then_some((value, 0));
        }
    };
    Some((decimal, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(text: &str, resource: Resource) -> u64 {
        match to_quota_units(text, resource) {
            Ok(value) => value,
            Err(reason) => panic!("{text}: {reason}"),
        }
    }

    #[test]
    fn cpu_quantities_are_milli_cpu() {
        assert_eq!(units("500m", Resource::Cpu), 500);
        assert_eq!(units("2", Resource::Cpu), 2000);
        assert_eq!(units("1.5", Resource::Cpu), 1500);
        assert_eq!(units("+4", Resource::Cpu), 4000);
        assert_eq!(units("1e3", Resource::Cpu), 1_000_000);
        assert_eq!(units("0.0", Resource::Cpu), 0);
    }

    #[test]
    fn gpu_quantities_are_milli_gpu() {
        assert_eq!(units("9", Resource::Gpu), 9000);
        assert_eq!(units("0.5", Resource::Gpu), 500);
        assert_eq!(units("250m", Resource::Gpu), 250);
    }

    #[test]
    fn memory_quantities_are_mib_rounded_down() {
        assert_eq!(units("16Gi", Resource::Memory), 16 * 1024);
        assert_eq!(units("512Mi", Resource::Memory), 512);
        assert_eq!(units("1Ti", Resource::Memory), 1024 * 1024);
        // 10^9 bytes = 953.67 MiB; 10^8 bytes = 95.37 MiB.
        assert_eq!(units("1G", Resource::Memory), 953);
        assert_eq!(units("100M", Resource::Memory), 95);
        assert_eq!(units("1048576", Resource::Memory), 1);
        assert_eq!(units("1.5Gi", Resource::Memory), 1536);
    }

    #[test]
    fn cpu_and_gpu_quantities_below_a_thousandth_are_refused() {
        for text in ["100u", "0.0001"] {
            assert_eq!(to_units(text, Resource::Cpu), Ok(0));
            let error = to_quota_units(text, Resource::Cpu)
                .err()
                .map(|e| e.to_string());
            assert!(
                error
                    .as_deref()
                    .is_some_and(|e| e.contains("less than one thousandth")),
                "{text}: {error:?}"
            );
        }
    }

    #[test]
    fn bad_quantities_say_why() {
        for (text, why) in [
            ("-1", "negative"),
            ("lots", "expected digits"),
            ("4x", "unknown suffix"),
            ("1.2.3", "decimal point"),
            ("1e99", "exponent is out of range"),
            ("1e400", "exponent is out of range"),
            ("512Ki", "less than one MiB"),
            ("1", "less than one MiB"),
            ("1e-50", "less than one MiB"),
            ("100000000000000000000000Ei", "too large"),
        ] {
            match to_quota_units(text, Resource::Memory) {
                Ok(value) => panic!("{text} parsed as {value}"),
                Err(error) => {
                    let reason = error.to_string();
                    assert!(reason.contains(why), "{text}: {reason}");
                }
            }
        }
    }
}
