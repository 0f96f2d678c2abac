//! UTC timestamps for `iso8601()` and `from_iso8601()`, without a date-time crate: the
//! civil-from-days conversions of Howard Hinnant's "chrono-Compatible Low-Level Date
//! Algorithms".

use crate::civil::{civil_from_days, days_from_civil};

const MS_PER_DAY: i64 = 86_400_000;

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The instant `n` calendar months after `ms` (before, when negative), in UTC: the same
/// time of day and day of the month, or the month's last day when it is shorter (as
/// Joda-Time's `plusMonths`). `None` past the years ±10^9.
pub fn add_months(ms: i64, n: i64) -> Option<i64> {
    let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let months = year
        .checked_mul(12)?
        .checked_add(i64::from(month) - 1)?
        .checked_add(n)?;
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    if y.abs() > 1_000_000_000 {
        return None;
    }
    let d = i64::from(day).min(days_in_month(y, m));
    days_from_civil(y, m, d)
        .checked_mul(MS_PER_DAY)?
        .checked_add(ms.rem_euclid(MS_PER_DAY))
}

/// The last millisecond of the UTC day of `ms`.
pub fn end_of_day(ms: i64) -> Option<i64> {
    ms.div_euclid(MS_PER_DAY)
        .checked_add(1)?
        .checked_mul(MS_PER_DAY)?
        .checked_sub(1)
}

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.sssZ`; `None` outside years 0000–9999.
pub fn format_iso8601(ms: i64) -> Option<String> {
    let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    if !(0..=9999).contains(&year) {
        return None;
    }
    let t = ms.rem_euclid(MS_PER_DAY);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        t / 3_600_000,
        t / 60_000 % 60,
        t / 1_000 % 60,
        t % 1_000
    ))
}

/// A cursor over the bytes of a timestamp.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    /// Exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize) -> Option<i64> {
        let digits = self.bytes.get(self.pos..self.pos + n)?;
        let mut value = 0i64;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(d - b'0');
        }
        self.pos += n;
        Some(value)
    }

    /// Consumes `b` if it is next.
    fn eat(&mut self, options: &[u8]) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        if options.contains(&b) {
            self.pos += 1;
            Some(b)
        } else {
            None
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }
}

/// Milliseconds since the epoch of `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]][Z|±HH[:MM]]]`.
/// A date alone is midnight UTC; a time without an offset is taken as UTC; fractions
/// beyond milliseconds are truncated.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let mut c = Cursor {
        bytes: s.as_bytes(),
        pos: 0,
    };
    let year = c.digits(4)?;
    c.eat(b"-")?;
    let month = c.digits(2)?;
    c.eat(b"-")?;
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if c.at_end() {
        return Some(days * MS_PER_DAY);
    }
    c.eat(b"Tt ")?;
    let hour = c.digits(2)?;
    c.eat(b":")?;
    let minute = c.digits(2)?;
    let mut second = 0;
    let mut millis = 0;
    if c.eat(b":").is_some() {
        second = c.digits(2)?;
        if c.eat(b".,").is_some() {
            let start = c.pos;
            while c.bytes.get(c.pos).is_some_and(u8::is_ascii_digit) {
                c.pos += 1;
            }
            let frac = c.bytes.get(start..c.pos)?;
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            millis = frac
                .iter()
                .chain(std::iter::repeat(&b'0'))
                .take(3)
                .fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut offset_minutes = 0;
    if let Some(sign) = c.eat(b"+-") {
        let oh = c.digits(2)?;
        c.eat(b":");
        let om = if c.at_end() { 0 } else { c.digits(2)? };
        if oh > 23 || om > 59 {
            return None;
        }
        offset_minutes = (oh * 60 + om) * if sign == b'-' { -1 } else { 1 };
    } else if !c.at_end() {
        c.eat(b"Zz")?;
    }
    if !c.at_end() {
        return None;
    }
    let local = days * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1_000 + millis;
    Some(local - offset_minutes * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let f = |ms| format_iso8601(ms).unwrap_or_default();
        assert_eq!(f(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(f(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(f(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(f(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(f(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(f(-62_167_219_200_000), "0000-01-01T00:00:00.000Z");
        assert_eq!(format_iso8601(253_402_300_800_000), None);
        assert_eq!(format_iso8601(i64::MIN), None);
        assert_eq!(format_iso8601(i64::MAX), None);
    }

    #[test]
    fn parses_timestamps() {
        assert_eq!(
            parse_iso8601("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000_123)
        );
        assert_eq!(parse_iso8601("1970-01-01"), Some(0));
        assert_eq!(parse_iso8601("1970-01-01 00:01"), Some(60_000));
        assert_eq!(
            parse_iso8601("2023-11-15T03:43:20.123456+05:30"),
            Some(1_700_000_000_123)
        );
        assert_eq!(
            parse_iso8601("2023-11-14T17:13:20.1-0500"),
            Some(1_700_000_000_100)
        );
        assert_eq!(parse_iso8601("2000-02-29T00:00:00z"), Some(951_782_400_000));
        for bad in [
            "",
            "2023",
            "2023-13-01",
            "2023-02-29",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20Zjunk",
            "2023-11-14T22:13:20+5",
            "２０２３-01-01",
            "2023-11-14T22:60",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn round_trips_every_day_of_a_leap_cycle() {
        let start = days_from_civil(1999, 12, 25);
        for days in start..start + 4 * 366 {
            let ms = days * MS_PER_DAY + 45_296_789;
            let text = format_iso8601(ms).unwrap_or_default();
            assert_eq!(parse_iso8601(&text), Some(ms), "{text}");
        }
    }
}
