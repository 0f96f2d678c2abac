//! Civil (proleptic Gregorian) dates from and to day counts since 1970-01-01, without a
//! date-time crate: the algorithms of Howard Hinnant's "chrono-Compatible Low-Level Date
//! Algorithms". Shared by cron schedules and the expression language's time functions.

/// Year, month (1–12) and day (1–31) of a count of days since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a civil date (month 1–12, day 1–31).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A calendar day (UTC), as a count of days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i64);

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

impl Date {
    /// `YYYY-MM-DD`, a real calendar day.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let t = s.get(r)?;
            t.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| t.parse().ok())?
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return None;
        }
        Some(Date(days_from_civil(y, m, d)))
    }

    /// The day an instant (epoch milliseconds) falls on, in UTC.
    pub fn from_epoch_ms(ms: i64) -> Date {
        Date(ms.div_euclid(DAY_MS))
    }

    /// The day of a count of days since 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        self.0
    }

    /// The day `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Date {
        Date(self.0 + n)
    }

    /// Its first millisecond since the epoch.
    pub fn start_ms(self) -> i64 {
        self.0 * DAY_MS
    }

    /// Year, month and day.
    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.0)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// Days in a month of a year (Gregorian).
fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An instant as epoch milliseconds: a number of milliseconds, `YYYY-MM-DD` (its
/// midnight, UTC) or `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
pub fn parse_instant(s: &str) -> Option<i64> {
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    let day = Date::parse(s.get(..10)?)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(day.start_ms());
    }
    let time = rest.strip_prefix(['T', ' '])?.strip_suffix('Z')?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut parts = hms.split(':');
    let mut num = |max: i64| -> Option<i64> {
        let p = parts.next()?;
        let v: i64 =
            (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse().ok())??;
        (v <= max).then_some(v)
    };
    let (h, m, sec) = (num(23)?, num(59)?, num(60)?);
    if parts.next().is_some() || !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let ms = if frac.is_empty() {
        0
    } else {
        let f: i64 = frac.parse().ok()?;
        f * 10i64.pow(9 - frac.len() as u32) / 1_000_000
    };
    Some(day.start_ms() + ((h * 60 + m) * 60 + sec) * 1000 + ms)
}

/// Days since 1970-01-01 of `YYYY-MM-DD`, when it is a real calendar day.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    Date::parse(s).map(Date::days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(
            Date::parse("2018-08-20").map(|d| d.to_string()).as_deref(),
            Some("2018-08-20")
        );
        assert_eq!(
            Date::parse("2024-02-29")
                .map(|d| d.add_days(1).to_string())
                .as_deref(),
            Some("2024-03-01")
        );
        assert_eq!(
            parse_instant("2024-06-15T14:30:00Z"),
            Some(1_718_461_800_000)
        );
        assert_eq!(
            parse_instant("2024-06-15T14:30:00.25Z"),
            Some(1_718_461_800_250)
        );
        assert_eq!(parse_instant("2024-06-15"), Some(1_718_409_600_000));
        assert_eq!(parse_instant("17"), Some(17));
        assert_eq!(parse_instant("2024-06-15T25:00:00Z"), None);
        assert_eq!(parse_instant("2024-06-15T14:30Z"), None);
        for bad in [
            "2023-02-29",
            "2018-13-01",
            "2018-8-20",
            "2018-08-2x",
            "",
            "2018-00-10",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        for d in [-800_000, -1, 0, 59, 11_016, 2_932_896] {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(day)), d);
        }
    }
}
