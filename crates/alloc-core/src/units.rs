//! Integer units. Every quantity that can reach a decision is an integer newtype so that
//! arithmetic is exact, ordering is total and two shells computing the same thing agree bit for
//! bit. Floats appear only in scores and reports.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

macro_rules! quantity {
    ($(#[$meta:meta])* $name:ident($inner:ty), $unit:literal) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
        )]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl $name {
            /// None of it: the start of a sum, a default.
            pub const ZERO: $name = $name(0);

            /// `self - other`, or zero when `other` is larger.
            pub fn saturating_sub(self, other: $name) -> $name {
                $name(self.0.saturating_sub(other.0))
            }

            /// `self - other`, or `None` when `other` is larger.
            pub fn checked_sub(self, other: $name) -> Option<$name> {
                self.0.checked_sub(other.0).map($name)
            }
        }

        impl Add for $name {
            type Output = $name;
            fn add(self, other: $name) -> $name {
                $name(self.0.saturating_add(other.0))
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, other: $name) {
                *self = *self + other;
            }
        }

        /// Subtraction saturates at zero: a ledger never goes negative, and the invariant checks
        /// catch any accounting that would have needed it to.
        impl Sub for $name {
            type Output = $name;
            fn sub(self, other: $name) -> $name {
                self.saturating_sub(other)
            }
        }

        impl SubAssign for $name {
            fn sub_assign(&mut self, other: $name) {
                *self = *self - other;
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", self.0, $unit)
            }
        }
    };
}

quantity!(
    /// Thousandths of one GPU. A whole GPU is 1000; an MPS client asks for less.
    MilliGpu(u64),
    "m GPU"
);
quantity!(
    /// GPU memory in MiB.
    VramMib(u64),
    " MiB VRAM"
);
quantity!(
    /// CPU in thousandths of a core, as Kubernetes counts it.
    CpuMilli(u64),
    "m CPU"
);
quantity!(
    /// Host memory in MiB.
    MemMib(u64),
    " MiB"
);
quantity!(
    /// A duration in milliseconds.
    Millis(u64),
    " ms"
);

impl MilliGpu {
    /// One whole GPU.
    pub const WHOLE: MilliGpu = MilliGpu(1000);

    /// `count` whole GPUs.
    pub fn whole(count: u64) -> MilliGpu {
        MilliGpu(count.saturating_mul(1000))
    }
}

impl Millis {
    /// This much reference-GPU work on a GPU of `speed_permille` (1000 = the reference),
    /// rounded up so an estimate is never optimistic.
    pub fn at_speed(self, speed_permille: u32) -> Millis {
        Millis(
            self.0
                .saturating_mul(1000)
                .div_ceil(u64::from(speed_permille.max(1))),
        )
    }

    /// `s` seconds.
    pub fn seconds(s: u64) -> Millis {
        Millis(s.saturating_mul(1_000))
    }
    /// `m` minutes.
    pub fn minutes(m: u64) -> Millis {
        Millis(m.saturating_mul(60_000))
    }
    /// `h` hours.
    pub fn hours(h: u64) -> Millis {
        Millis(h.saturating_mul(3_600_000))
    }
}

/// An instant: milliseconds since the start of the run (sim) or since the Unix epoch (live).
/// Only differences matter to the core.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Time(pub u64);

impl Time {
    /// The start of a simulated run.
    pub const ZERO: Time = Time(0);

    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Time) -> Millis {
        Millis(self.0.saturating_sub(earlier.0))
    }

    /// Time left from `self` until `later`, `None` if `later` has passed.
    pub fn until(self, later: Time) -> Option<Millis> {
        later.0.checked_sub(self.0).map(Millis)
    }
}

impl Add<Millis> for Time {
    type Output = Time;
    fn add(self, d: Millis) -> Time {
        Time(self.0.saturating_add(d.0))
    }
}

/// Milliseconds read in the largest whole units that say them, for explanations: `2 h 5 min`,
/// `45 min`, `30 s`, `0 s`.
pub(crate) struct Readable(pub u64);

impl fmt::Display for Readable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0 / 1000;
        let (hours, minutes) = (seconds / 3600, seconds % 3600 / 60);
        match (hours, minutes) {
            (0, 0) => write!(f, "{seconds} s"),
            (0, m) => write!(f, "{m} min"),
            (h, 0) => write!(f, "{h} h"),
            (h, m) => write!(f, "{h} h {m} min"),
        }
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}ms", self.0)
    }
}

/// Money in integer micro-units of the account currency (1.0 = 1_000_000). Signed so that
/// "remaining budget" can be computed without a separate overdraft type.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    /// Nothing spent, nothing left.
    pub const ZERO: Money = Money(0);
    /// Micro-units in one unit of the currency.
    pub const MICROS_PER_UNIT: i64 = 1_000_000;

    /// `whole` units of the currency.
    pub fn units(whole: i64) -> Money {
        Money(whole.saturating_mul(Self::MICROS_PER_UNIT))
    }

    /// The price of `gpus` for `duration` at `per_gpu_hour`, rounded up to the micro-unit so a
    /// fixed budget is never under-charged.
    pub fn for_gpu_time(per_gpu_hour: Money, gpus: MilliGpu, duration: Millis) -> Money {
        let numerator = i128::from(per_gpu_hour.0) * i128::from(gpus.0) * i128::from(duration.0);
        let denominator: i128 = 1000 * 3_600_000;
        let rounded = (numerator + denominator - 1).div_euclid(denominator);
        Money(i64::try_from(rounded).unwrap_or(i64::MAX))
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let per = Self::MICROS_PER_UNIT.unsigned_abs();
        let whole = abs / per;
        let cents = (abs % per) / 10_000;
        write!(f, "{sign}{whole}.{cents:02}")
    }
}

/// Why a decimal money string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a decimal amount with at most 6 decimals, like 12.50, got {0:?}")]
pub struct ParseMoneyError(pub String);

impl std::str::FromStr for Money {
    type Err = ParseMoneyError;

    /// Parses `12`, `12.5`, `-0.000001` exactly, without going through floats.
    fn from_str(text: &str) -> Result<Money, ParseMoneyError> {
        let error = || ParseMoneyError(text.to_string());
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 6 {
            return Err(error());
        }
        let whole: i64 = whole.parse().map_err(|_| error())?;
        let mut micros: i64 = 0;
        for (place, digit) in fraction.bytes().enumerate() {
            let scale = 10_i64.pow(5 - place as u32);
            micros += i64::from(digit - b'0') * scale;
        }
        let total = whole
            .checked_mul(Self::MICROS_PER_UNIT)
            .and_then(|w| w.checked_add(micros))
            .ok_or_else(error)?;
        Ok(Money(if negative { -total } else { total }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_durations_use_whole_units() {
        assert_eq!(Readable(0).to_string(), "0 s");
        assert_eq!(Readable(30_500).to_string(), "30 s");
        assert_eq!(Readable(45 * 60_000).to_string(), "45 min");
        assert_eq!(Readable(2 * 3_600_000).to_string(), "2 h");
        assert_eq!(Readable(125 * 60_000).to_string(), "2 h 5 min");
    }

    #[test]
    fn money_parses_exactly() {
        assert_eq!("12.5".parse::<Money>(), Ok(Money(12_500_000)));
        assert_eq!("0.000001".parse::<Money>(), Ok(Money(1)));
        assert_eq!("-3".parse::<Money>(), Ok(Money(-3_000_000)));
        assert!("1.0000001".parse::<Money>().is_err());
        assert!("abc".parse::<Money>().is_err());
        assert!(".5".parse::<Money>().is_err());
        assert!("99999999999999999".parse::<Money>().is_err());
    }

    #[test]
    fn money_displays_cents() {
        assert_eq!(Money(12_345_678).to_string(), "12.34");
        assert_eq!(Money(-1_500_000).to_string(), "-1.50");
    }

    #[test]
    fn gpu_time_cost_rounds_up() {
        // 2 GPUs for 30 minutes at 3.00 per GPU-hour = 3.00
        let cost = Money::for_gpu_time(Money::units(3), MilliGpu::whole(2), Millis::minutes(30));
        assert_eq!(cost, Money::units(3));
        // one millisecond of a tenth of a GPU still costs at least one micro-unit
        let tiny = Money::for_gpu_time(Money::units(1), MilliGpu(100), Millis(1));
        assert_eq!(tiny, Money(1));
    }

    #[test]
    fn ledger_subtraction_saturates() {
        assert_eq!(MilliGpu(100) - MilliGpu(300), MilliGpu::ZERO);
        assert_eq!(MilliGpu(100).checked_sub(MilliGpu(300)), None);
    }
}
