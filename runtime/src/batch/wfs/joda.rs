//! The Joda-Time patterns Sunbird's `CommonUtil.getEventSyncTS` tries on an event's
//! `@timestamp`, for the `syncts` of a summary.

/// `CommonUtil.getEventSyncTS(@timestamp)`: the first of `yyyy-MM-dd'T'HH:mm:ss.SSSZ`,
/// `yyyy-MM-dd'T'HH:mm:ssZZ` and (on the first 19 characters, in UTC) `yyyy-MM-dd'T'HH:mm:ss`
/// that parses the whole text, in epoch milliseconds; 0 when none does (or the text is null).
pub(super) fn sync_ts(text: Option<&str>) -> i64 {
    let Some(text) = text else { return 0 };
    if let Some(ms) = parse_joda(text, true, true) {
        return ms;
    }
    if let Some(ms) = parse_joda(text, false, true) {
        return ms;
    }
    // `substring(0, 19)` counts UTF-16 units; a shorter text throws and gives 0.
    let units: Vec<u16> = text.encode_utf16().collect();
    match units.get(..19).map(String::from_utf16) {
        Some(Ok(head)) => parse_joda(&head, false, false).unwrap_or(0),
        _ => 0,
    }
}

/// One of the three Joda patterns over the whole of `text`, in UTC unless an offset is given.
/// Joda reads number fields with up to their width in digits (a year with up to 9), checks
/// field ranges, and takes `Z` or `±HH[[:]mm]` for an offset.
fn parse_joda(text: &str, fraction: bool, offset: bool) -> Option<i64> {
    let mut p = Cursor {
        s: text.as_bytes(),
        at: 0,
    };
    let year = p.digits(1, 9)?;
    p.literal(b'-')?;
    let month = p.digits(1, 2)?;
    p.literal(b'-')?;
    let day = p.digits(1, 2)?;
    p.literal(b'T')?;
    let hour = p.digits(1, 2)?;
    p.literal(b':')?;
    let minute = p.digits(1, 2)?;
    p.literal(b':')?;
    let second = p.digits(1, 2)?;
    let mut millis = 0;
    if fraction {
        p.literal(b'.')?;
        let start = p.at;
        let value = p.digits(1, 3)?;
        millis = value * [100, 10, 1][p.at - start - 1];
    }
    let mut offset_ms = 0;
    if offset {
        if p.peek() == Some(b'Z') {
            p.at += 1;
        } else {
            let sign = match p.peek()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            p.at += 1;
            let hours = p.fixed(2)?;
            let mut minutes = 0;
            if p.peek() == Some(b':') {
                p.at += 1;
                minutes = p.fixed(2)?;
            } else if p.peek().is_some_and(|b| b.is_ascii_digit()) {
                minutes = p.fixed(2)?;
            }
            if hours > 23 || minutes > 59 {
                return None;
            }
            offset_ms = sign * (hours * 3_600_000 + minutes * 60_000);
        }
    }
    if p.at != p.s.len() {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= month_days[(month.max(1) - 1) as usize]
        && hour <= 23
        && minute <= 59
        && second <= 59;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(
        days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis - offset_ms,
    )
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A position in ASCII text being parsed.
struct Cursor<'s> {
    s: &'s [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn literal(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    /// Between `min` and `max` decimal digits, as many as there are.
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.at;
        let mut value = 0i64;
        while self.at - start < max {
            match self.peek() {
                Some(b) if b.is_ascii_digit() => {
                    value = value * 10 + i64::from(b - b'0');
                    self.at += 1;
                }
                _ => break,
            }
        }
        (self.at - start >= min).then_some(value)
    }

    /// Exactly `n` decimal digits.
    fn fixed(&mut self, n: usize) -> Option<i64> {
        self.digits(n, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_ts_tries_sunbirds_three_patterns() {
        assert_eq!(sync_ts(Some("2018-01-08T09:36:35.665Z")), 1_515_404_195_665);
        assert_eq!(
            sync_ts(Some("2018-01-08T09:05:54.310+0000")),
            1_515_402_354_310
        );
        assert_eq!(
            sync_ts(Some("2018-01-08T15:05:54.310+05:30")),
            1_515_404_154_310
        );
        assert_eq!(sync_ts(Some("2018-01-08T09:36:35Z")), 1_515_404_195_000);
        // Neither full pattern fits; the first 19 characters are read as UTC.
        assert_eq!(
            sync_ts(Some("2018-01-08T09:36:35.665123Z")),
            1_515_404_195_000
        );
        assert_eq!(sync_ts(Some("2018-02-30T09:36:35Z")), 0);
        assert_eq!(sync_ts(Some("yesterday")), 0);
        assert_eq!(sync_ts(None), 0);
    }
}
