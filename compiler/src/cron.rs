//! Cron expressions as written in report schedules: the standard five fields (no seconds)
//! with lists, ranges, steps, month and weekday names, and the `@daily`-style macros.
//! Matching follows Vixie cron: when both day fields are restricted, either may match.

use std::fmt;
use std::ops::Range;

use crate::civil::civil_from_days;
use crate::suggest::suggest;

/// A malformed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    /// Byte range within the parsed string of the offending field or character.
    pub span: Range<usize>,
    /// What is wrong, as a short phrase.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CronError {}

fn err(span: Range<usize>, message: impl Into<String>, help: Option<String>) -> CronError {
    CronError {
        span,
        message: message.into(),
        help,
    }
}

/// A parsed schedule: the set of values each field allows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cron {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// The day-of-month field was `*` or `*/n` (unrestricted in Vixie's sense).
    day_star: bool,
    /// The day-of-week field was `*` or `*/n`.
    weekday_star: bool,
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
    },
    Field {
        name: "day-of-week",
        min: 0,
        max: 7,
        names: &DAYS,
    },
];

const MACROS: [(&str, &str); 7] = [
    ("@hourly", "0 * * * *"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"),
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
];

/// Parses a five-field cron expression or one of `@hourly @daily @midnight @weekly
/// @monthly @yearly @annually`.
pub fn parse_cron(s: &str) -> Result<Cron, CronError> {
    let trimmed = s.trim();
    let lead = s.len() - s.trim_start().len();
    let whole = lead..lead + trimmed.len();
    if trimmed.is_empty() {
        return Err(err(
            0..s.len(),
            "empty cron expression",
            Some(EXAMPLE.into()),
        ));
    }
    if trimmed.starts_with('@') {
        return parse_macro(trimmed, whole);
    }
    let mut fields = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain([(s.len(), ' ')]) {
        match (c.is_whitespace(), start) {
            (true, Some(b)) => {
                fields.push((b, &s[b..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if fields.len() != 5 {
        let help = if fields.len() == 6 {
            "seconds aren't supported: remove the seconds field (or a trailing year)".to_string()
        } else {
            EXAMPLE.to_string()
        };
        return Err(err(
            whole,
            format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            ),
            Some(help),
        ));
    }
    let mut sets = [0u64; 5];
    let mut stars = [false; 5];
    for (i, ((offset, text), field)) in fields.iter().zip(&FIELDS).enumerate() {
        (sets[i], stars[i]) = parse_field(text, *offset, field)?;
    }
    Ok(Cron {
        minutes: sets[0],
        hours: sets[1],
        days: sets[2],
        months: sets[3],
        weekdays: sets[4],
        day_star: stars[2],
        weekday_star: stars[4],
    })
}

const EXAMPLE: &str = "write e.g. `30 5 * * *` (05:30 every day) or `@daily`";

fn parse_macro(text: &str, span: Range<usize>) -> Result<Cron, CronError> {
    let lower = text.to_ascii_lowercase();
    if let Some((_, expansion)) = MACROS.iter().find(|(m, _)| *m == text) {
        return parse_cron(expansion);
    }
    // Cron daemons and Kubernetes compare macros as written: `@DAILY` is no schedule there.
    if MACROS.iter().any(|(m, _)| *m == lower) {
        return Err(err(
            span,
            format!("cron macro `{text}` is not in lower case"),
            Some(format!(
                "write `{lower}`: cron and Kubernetes read macros in lower case only"
            )),
        ));
    }
    if lower == "@reboot" {
        return Err(err(
            span,
            "`@reboot` is not supported",
            Some("reports run on a schedule; use e.g. `@daily`".into()),
        ));
    }
    let help = match suggest(&lower, MACROS.iter().map(|(m, _)| *m)) {
        Some(m) => format!("did you mean `{m}`?"),
        None => "use one of @hourly @daily @midnight @weekly @monthly @yearly @annually".into(),
    };
    Err(err(
        span,
        format!("unknown cron macro `{text}`"),
        Some(help),
    ))
}

/// Parses one field starting at byte `offset` of the expression: its set and whether it
/// is `*` or `*/n`.
fn parse_field(text: &str, offset: usize, field: &Field) -> Result<(u64, bool), CronError> {
    let star = text == "*" || (text.starts_with("*/") && !text.contains(','));
    let mut bits = 0u64;
    let mut pos = 0;
    for item in text.split(',') {
        let at = offset + pos;
        pos += item.len() + 1;
        if item.is_empty() {
            let comma = if at > offset { at - 1..at } else { at..at + 1 };
            return Err(err(
                comma,
                format!("empty list item in {}", field.name),
                None,
            ));
        }
        bits |= parse_item(item, at, field)?;
    }
    if field.max == 7 && bits & (1 << 7) != 0 {
        bits = (bits & !(1 << 7)) | 1;
    }
    Ok((bits, star))
}

fn parse_item(item: &str, at: usize, field: &Field) -> Result<u64, CronError> {
    let (base, step) = match item.split_once('/') {
        Some((b, s)) => (b, Some((s, at + b.len() + 1))),
        None => (item, None),
    };
    let width = field.max - field.min + 1;
    let step = match step {
        None => 1,
        Some((text, s_at)) => {
            let span = s_at..s_at + text.len().max(1);
            let help = Some("a step is a whole number, e.g. `*/15` or `0-30/5`".to_string());
            let n = match text.parse::<u32>() {
                Ok(n) if text.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    return Err(err(
                        span,
                        format!("bad step `{text}` in {}", field.name),
                        help,
                    ));
                }
            };
            if n == 0 {
                return Err(err(span, "step must be at least 1", help));
            }
            if n > width {
                let message = format!(
                    "step {n} is larger than the {} range {}-{}",
                    field.name, field.min, field.max
                );
                return Err(err(span, message, None));
            }
            n
        }
    };
    let (lo, hi) = if base == "*" {
        (field.min, field.max)
    } else if let Some((a, b)) = split_range(base) {
        let lo = parse_value(a, at, field)?;
        let hi = parse_value(b, at + a.len() + 1, field)?;
        if lo > hi {
            return Err(err(
                at..at + base.len(),
                format!("reversed range `{base}` in {}", field.name),
                Some(format!("write `{b}-{a}`; ranges cannot wrap around")),
            ));
        }
        (lo, hi)
    } else {
        let v = parse_value(base, at, field)?;
        (v, if step > 1 { field.max } else { v })
    };
    let mut bits = 0u64;
    let mut v = lo;
    while v <= hi {
        bits |= 1 << v;
        v += step;
    }
    Ok(bits)
}

/// Splits `a-b`; `None` when there is no `-` with text on both sides.
fn split_range(base: &str) -> Option<(&str, &str)> {
    base.split_once('-')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
}

fn parse_value(text: &str, at: usize, field: &Field) -> Result<u32, CronError> {
    let span = at..at + text.len().max(1);
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let in_range = text
            .parse::<u32>()
            .ok()
            .filter(|v| (field.min..=field.max).contains(v));
        return in_range.ok_or_else(|| {
            let message = format!(
                "{} {text} is out of range {}-{}",
                field.name, field.min, field.max
            );
            err(span, message, None)
        });
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphabetic()) && !field.names.is_empty()
    {
        let base = if field.max == 7 { 0 } else { 1 };
        if let Some(i) = field
            .names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(text))
        {
            return Ok(i as u32 + base);
        }
        let prefix = text.get(..3).unwrap_or(text);
        let help = match field.names.iter().find(|n| n.eq_ignore_ascii_case(prefix)) {
            Some(n) if text.len() > 3 => Some(format!("use the three-letter name `{n}`")),
            _ => suggest(text, field.names.iter().copied()).map(|n| format!("did you mean `{n}`?")),
        };
        let what = if field.max == 7 { "weekday" } else { "month" };
        return Err(err(span, format!("unknown {what} name `{text}`"), help));
    }
    let bad = text
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
        .map(|(i, c)| at + i..at + i + c.len_utf8());
    let message = match bad {
        Some(ref r) => format!(
            "unexpected `{}` in {}",
            text.get(r.start - at..r.end - at).unwrap_or(text),
            field.name
        ),
        None => format!("expected a number for {}, found `{text}`", field.name),
    };
    Err(err(bad.unwrap_or(span), message, None))
}

fn has(bits: u64, v: u32) -> bool {
    v < 64 && bits & (1 << v) != 0
}

impl Cron {
    /// Whether the schedule fires at this minute (`weekday` 0 or 7 is Sunday).
    pub fn matches(&self, minute: u32, hour: u32, day: u32, month: u32, weekday: u32) -> bool {
        has(self.minutes, minute) && has(self.hours, hour) && self.date_matches(day, month, weekday)
    }

    /// Whether the schedule fires on this date: both day fields must match when either is
    /// `*` (or `*/n`), else one of them is enough.
    fn date_matches(&self, day: u32, month: u32, weekday: u32) -> bool {
        let weekday = if weekday == 7 { 0 } else { weekday };
        let dom = has(self.days, day);
        let dow = has(self.weekdays, weekday);
        let day_ok = if self.day_star || self.weekday_star {
            dom && dow
        } else {
            dom || dow
        };
        has(self.months, month) && day_ok
    }

    /// The first time (seconds since the Unix epoch, UTC) strictly after `epoch_secs` at
    /// which the schedule fires; `None` if it never does (e.g. `0 0 30 2 *`).
    pub fn next_after(&self, epoch_secs: i64) -> Option<i64> {
        let start = epoch_secs.div_euclid(60).checked_add(1)?.checked_mul(60)?;
        let first_day = start.div_euclid(86_400);
        let start_of_day = start.rem_euclid(86_400);
        let mut from = start_of_day;
        // The Gregorian calendar repeats (weekdays included) every 146097 days.
        for offset in 0..=146_097 {
            let day = first_day + offset;
            let (_, month, dom) = civil_from_days(day);
            let weekday = (day + 4).rem_euclid(7) as u32;
            if self.date_matches(dom, month, weekday) {
                for hour in (from / 3600) as u32..24 {
                    if !has(self.hours, hour) {
                        continue;
                    }
                    let first = if i64::from(hour) == from / 3600 {
                        (from % 3600) / 60
                    } else {
                        0
                    };
                    if let Some(minute) = (first as u32..60).find(|m| has(self.minutes, *m)) {
                        let secs = i64::from(hour) * 3600 + i64::from(minute) * 60;
                        // Relative to `start`, so that times near the ends of i64 work.
                        return start.checked_add(offset * 86_400 + secs - start_of_day);
                    }
                }
            }
            from = 0;
        }
        None
    }
}

/// How a field renders its full set and evenly stepped sets.
/// `star` allows `*` and `*/n`; `keep_star` writes even a single value as `*/n`, so that
/// a day field keeps its "unrestricted" meaning.
fn render(bits: u64, min: u32, max: u32, star: bool, keep_star: bool) -> String {
    let values: Vec<u32> = (min..=max).filter(|v| has(bits, *v)).collect();
    let (Some(&first), Some(&last)) = (values.first(), values.last()) else {
        return String::new();
    };
    let width = max - min + 1;
    if star && values.len() as u32 == width {
        return "*".into();
    }
    let step = values.get(1).map_or(width, |second| second - first);
    let even = values.windows(2).all(|w| w[1] - w[0] == step);
    if star && even && first == min && last + step > max && (values.len() > 1 || keep_star) {
        return format!("*/{step}");
    }
    if even && step > 1 && values.len() >= 3 {
        return format!("{first}-{last}/{step}");
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        match j - i {
            0 => parts.push(values[i].to_string()),
            1 => parts.push(format!("{},{}", values[i], values[j])),
            _ => parts.push(format!("{}-{}", values[i], values[j])),
        }
        i = j + 1;
    }
    parts.join(",")
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}",
            render(self.minutes, 0, 59, true, false),
            render(self.hours, 0, 23, true, false),
            render(self.days, 1, 31, self.day_star, self.day_star),
            render(self.months, 1, 12, true, false),
            render(self.weekdays, 0, 6, self.weekday_star, self.weekday_star),
        )
    }
}

#[cfg(test)]
mod tests;
