//! Exact text ⇄ integer conversions: decimals to fixed-point integers (money in micro-units,
//! seconds in milliseconds) and wall-clock timestamps to milliseconds. No floats, so a value read
//! and written again is bit-for-bit the same, and `0.1 + 0.2` problems cannot reach a ledger.

/// What to do with fraction digits beyond the integer scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Excess {
    /// Refuse them (money: a sub-micro amount is a typo, not a value).
    Reject,
    /// Round half up (source durations in seconds with sub-millisecond noise).
    Round,
}

/// Parses a non-negative decimal (`12`, `12.5`, `.5`, `12.`) into an integer scaled by
/// `10^decimals`. The error says what was expected.
pub(crate) fn parse_scaled(text: &str, decimals: u32, excess: Excess) -> Result<u64, String> {
    let expected = || match excess {
        Excess::Reject => {
            format!("expected a non-negative decimal with at most {decimals} decimals")
        }
        Excess::Round => "expected a non-negative decimal number".to_string(),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits_only(whole) || !digits_only(fraction) {
        return Err(format!("{}, found {text:?}", expected()));
    }
    let overflow = || format!("{text:?} is too large");
    let scale = 10u64.checked_pow(decimals).ok_or_else(overflow)?;
    let mut value = if whole.is_empty() {
        0
    } else {
        whole.parse::<u64>().map_err(|_| overflow())?
    };
    value = value.checked_mul(scale).ok_or_else(overflow)?;
    let (kept, rest) = fraction.split_at(fraction.len().min(decimals as usize));
    let mut place = scale;
    for digit in kept.bytes() {
        place /= 10;
        value = value
            .checked_add(u64::from(digit - b'0') * place)
            .ok_or_else(overflow)?;
    }
    match (excess, rest.bytes().next()) {
        (_, None) => Ok(value),
        (Excess::Reject, Some(_)) => Err(format!("{}, found {text:?}", expected())),
        (Excess::Round, Some(first)) if first >= b'5' => value.checked_add(1).ok_or_else(overflow),
        (Excess::Round, Some(_)) => Ok(value),
    }
}

/// Writes `value / 10^decimals` in the shortest exact form: `12500000, 6` → `12.5`.
pub(crate) fn format_scaled(value: i64, decimals: u32) -> String {
    let scale = 10u64.pow(decimals);
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    let (whole, fraction) = (magnitude / scale, magnitude % scale);
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{fraction:0width$}", width = decimals as usize);
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

/// Seconds (integer or decimal) to milliseconds, rounding sub-millisecond digits half up.
pub(crate) fn seconds_to_ms(text: &str) -> Result<u64, String> {
    parse_scaled(text, 3, Excess::Round).map_err(|reason| format!("{reason} (seconds)"))
}

/// `YYYY-MM-DD HH:MM:SS` (or with `T`) to milliseconds since 1970-01-01 00:00:00 on the same
/// clock. The zone is not known and not needed: importers only use differences.
pub(crate) fn wall_clock_ms(text: &str) -> Result<u64, String> {
    let bad = || format!("expected a timestamp YYYY-MM-DD HH:MM:SS, found {text:?}");
    let bytes = text.as_bytes();
    if bytes.len() != 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b' ' | b'T')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| -> Result<u64, String> {
        let part = text.get(range).ok_or_else(bad)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse::<u64>().map_err(|_| bad())
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if year < 1970 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(format!("{text:?} is not a calendar date from 1970 on"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("{text:?} is not a time of day"));
    }
    let days = days_since_epoch(year, month, day);
    Ok((((days * 24 + hour) * 60 + minute) * 60 + second) * 1000)
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date on or after it (a plain count; dates are validated above).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let whole_years: u64 = (1970..year)
        .map(|y| if is_leap(y) { 366 } else { 365 })
        .sum();
    let whole_months: u64 = (1..month).map(|m| days_in_month(year, m)).sum();
    whole_years + whole_months + day - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact() {
        assert_eq!(parse_scaled("12.5", 6, Excess::Reject), Ok(12_500_000));
        assert_eq!(parse_scaled("0.000001", 6, Excess::Reject), Ok(1));
        assert_eq!(parse_scaled(".5", 6, Excess::Reject), Ok(500_000));
        assert_eq!(parse_scaled("7.", 6, Excess::Reject), Ok(7_000_000));
        assert!(parse_scaled("0.0000001", 6, Excess::Reject).is_err());
        for bad in [
            "",
            ".",
            "-1",
            "1e3",
            "1.2.3",
            "abc",
            " 1",
            "99999999999999999999",
        ] {
            assert!(parse_scaled(bad, 6, Excess::Reject).is_err(), "{bad:?}");
        }
        for value in [0, 1, 12_500_000, 1_000_000, 123_456_789, i64::MAX] {
            let text = format_scaled(value, 6);
            assert_eq!(
                parse_scaled(&text, 6, Excess::Reject),
                Ok(value as u64),
                "{text}"
            );
        }
        assert_eq!(format_scaled(12_500_000, 6), "12.5");
        assert_eq!(format_scaled(-1, 6), "-0.000001");
    }

    #[test]
    fn seconds_round_to_milliseconds() {
        assert_eq!(seconds_to_ms("66.0"), Ok(66_000));
        assert_eq!(seconds_to_ms("1.2344999"), Ok(1_234));
        assert_eq!(seconds_to_ms("1.2345"), Ok(1_235), "half rounds up");
        assert_eq!(seconds_to_ms("1.2355"), Ok(1_236));
        assert_eq!(seconds_to_ms("600"), Ok(600_000));
    }

    #[test]
    fn wall_clock_counts_days_and_leap_years() {
        assert_eq!(wall_clock_ms("1970-01-01 00:00:00"), Ok(0));
        assert_eq!(wall_clock_ms("1970-01-02T00:00:01"), Ok(86_401_000));
        // 2017-10-09 07:01:55 UTC is 1507532515 s after the epoch.
        assert_eq!(wall_clock_ms("2017-10-09 07:01:55"), Ok(1_507_532_515_000));
        assert_eq!(wall_clock_ms("2000-03-01 00:00:00"), Ok(951_868_800_000));
        for bad in [
            "2017-02-29 00:00:00",
            "2017-13-01 00:00:00",
            "2017-10-09 24:00:00",
            "2017-10-09",
            "x",
        ] {
            assert!(wall_clock_ms(bad).is_err(), "{bad}");
        }
    }
}
