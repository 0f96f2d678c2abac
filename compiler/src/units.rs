//! Durations (`48h`, `1h30m`) and sizes (`5MB`, `512KiB`) as written in specs, with
//! errors that point at the offending part of the text.

use crate::suggest::suggest;
use std::fmt;
use std::ops::Range;

/// A malformed duration or size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError {
    /// Byte range within the parsed string of the offending part.
    pub span: Range<usize>,
    /// What is wrong, as a short phrase.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl UnitError {
    fn new(span: Range<usize>, message: impl Into<String>, help: Option<String>) -> Self {
        UnitError {
            span,
            message: message.into(),
            help,
        }
    }
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UnitError {}

const DURATION_UNITS: [(&str, u64); 6] = [
    ("w", 604_800_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

const DURATION_HELP: &str = "add a unit, e.g. `48h` (ms, s, m, h, d, w)";

/// One `<digits><letters>` part of a duration or size: its number, the unit text and spans.
struct Part<'a> {
    number: &'a str,
    number_span: Range<usize>,
    unit: &'a str,
    unit_span: Range<usize>,
}

/// Splits `s[start..]` at the next part; `None` at the end of the text.
fn next_part(s: &str, start: usize) -> Option<Result<(Part<'_>, usize), UnitError>> {
    let bytes = s.as_bytes();
    let mut i = start;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if i >= bytes.len() {
        return None;
    }
    let num_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let num_end = i;
    if i < bytes.len() && bytes[i] == b'.' {
        let mut end = i + 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
        return Some(Err(UnitError::new(
            num_start..end,
            "fractions are not supported",
            Some("use whole numbers with a smaller unit, e.g. `1h30m` or `1536KiB`".into()),
        )));
    }
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    let unit_start = i;
    while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
        i += 1;
    }
    let unit_end = i;
    if num_start == num_end {
        // Not a digit: skip to the end of this odd run of characters to report it whole.
        let mut end = unit_end.max(num_start + 1);
        while end < s.len() && !s.is_char_boundary(end) {
            end += 1;
        }
        return Some(Err(UnitError::new(
            num_start..end,
            format!("expected a number, found `{}`", &s[num_start..end]),
            None,
        )));
    }
    let unit_span = if unit_start == unit_end {
        num_end..num_end
    } else {
        unit_start..unit_end
    };
    Some(Ok((
        Part {
            number: &s[num_start..num_end],
            number_span: num_start..num_end,
            unit: &s[unit_start..unit_end],
            unit_span,
        },
        unit_end,
    )))
}

fn parse_number(part: &Part<'_>, what: &str) -> Result<u64, UnitError> {
    part.number.parse::<u64>().map_err(|_| {
        UnitError::new(
            part.number_span.clone(),
            format!("{what} is too large"),
            None,
        )
    })
}

/// Parses a duration such as `500ms`, `30s`, `5m`, `48h`, `7d`, `2w` or `1h30m` into
/// milliseconds. Parts must go from the largest unit to the smallest.
pub fn parse_duration(s: &str) -> Result<u64, UnitError> {
    if s.trim().is_empty() {
        return Err(UnitError::new(
            0..s.len(),
            "empty duration",
            Some(DURATION_HELP.into()),
        ));
    }
    let mut total: u64 = 0;
    let mut pos = 0;
    let mut last_unit: Option<usize> = None;
    while let Some(part) = next_part(s, pos) {
        let (part, end) = part?;
        pos = end;
        if part.unit.is_empty() {
            return Err(UnitError::new(
                part.number_span.clone(),
                "missing unit",
                Some(DURATION_HELP.into()),
            ));
        }
        let Some(index) = DURATION_UNITS.iter().position(|(u, _)| *u == part.unit) else {
            let names = DURATION_UNITS.iter().map(|(u, _)| *u);
            let help = match suggest(part.unit, names) {
                Some(u) => format!("did you mean `{u}`? units are ms, s, m, h, d, w"),
                None => "units are ms, s, m, h, d, w".into(),
            };
            return Err(UnitError::new(
                part.unit_span.clone(),
                format!("unknown duration unit `{}`", part.unit),
                Some(help),
            ));
        };
        if last_unit.is_some_and(|last| index <= last) {
            return Err(UnitError::new(
                part.number_span.start..part.unit_span.end,
                "units must go from largest to smallest",
                Some("write e.g. `1h30m`, with each unit once".into()),
            ));
        }
        last_unit = Some(index);
        let factor = DURATION_UNITS[index].1;
        let value = parse_number(&part, "duration")?
            .checked_mul(factor)
            .and_then(|v| v.checked_add(total));
        total = value.ok_or_else(|| {
            UnitError::new(
                part.number_span.start..part.unit_span.end,
                "duration is too large",
                None,
            )
        })?;
    }
    Ok(total)
}

/// The canonical text of a duration in milliseconds: days, hours, minutes, seconds and
/// milliseconds from largest to smallest (`5400000` → `1h30m`), or whole weeks when the
/// duration is a multiple of a week (`1209600000` → `2w`). Zero is `0s`.
pub fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let week = DURATION_UNITS[0].1;
    if ms.is_multiple_of(week) {
        return format!("{}w", ms / week);
    }
    let mut rest = ms;
    let mut out = String::new();
    for (unit, factor) in &DURATION_UNITS[1..] {
        let n = rest / factor;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            rest %= factor;
        }
    }
    out
}

const SIZE_UNITS: [(&str, u64); 9] = [
    ("B", 1),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

/// Parses a size: plain bytes (`1048576`), `B`, decimal `KB`/`MB`/`GB`/`TB` (powers of
/// 1000) or binary `KiB`/`MiB`/`GiB`/`TiB` (powers of 1024). Units are case-insensitive.
pub fn parse_size(s: &str) -> Result<u64, UnitError> {
    let help = "write bytes or a number with a unit, e.g. `5MB` or `512KiB`";
    let Some(first) = next_part(s, 0) else {
        return Err(UnitError::new(0..s.len(), "empty size", Some(help.into())));
    };
    let (part, end) = first?;
    if let Some(extra) = next_part(s, end) {
        let span = match extra {
            Ok((p, _)) => p.number_span.start..p.unit_span.end,
            Err(e) => e.span,
        };
        return Err(UnitError::new(
            span,
            "unexpected text after the size",
            Some(help.into()),
        ));
    }
    let factor = if part.unit.is_empty() {
        1
    } else {
        match SIZE_UNITS
            .iter()
            .find(|(u, _)| u.eq_ignore_ascii_case(part.unit))
        {
            Some((_, f)) => *f,
            None => {
                let names = SIZE_UNITS.iter().map(|(u, _)| *u);
                let help = match suggest(part.unit, names) {
                    Some(u) => format!("did you mean `{u}`?"),
                    None => "units are B, KB, MB, GB, TB, KiB, MiB, GiB, TiB".into(),
                };
                return Err(UnitError::new(
                    part.unit_span.clone(),
                    format!("unknown size unit `{}`", part.unit),
                    Some(help),
                ));
            }
        }
    };
    parse_number(&part, "size")?
        .checked_mul(factor)
        .ok_or_else(|| {
            UnitError::new(
                part.number_span.start..part.unit_span.end,
                "size is too large",
                None,
            )
        })
}

/// The canonical text of a size: the unit (decimal or binary) that writes it exactly with
/// the smallest number (`5000000` → `5MB`, `1536` → `1536B`, `1048576` → `1MiB`).
pub fn format_size(bytes: u64) -> String {
    let mut best = ("B", bytes);
    for (unit, factor) in SIZE_UNITS {
        if bytes.is_multiple_of(factor) && bytes / factor < best.1 {
            best = (unit, bytes / factor);
        }
    }
    format!("{}{}", best.1, best.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("30s"), Ok(30_000));
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration(" 48h "), Ok(172_800_000));
        assert_eq!(parse_duration("7d"), Ok(604_800_000));
        assert_eq!(parse_duration("2w"), Ok(1_209_600_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("1h 30m 5s 20ms"), Ok(5_405_020));
        assert_eq!(parse_duration("0s"), Ok(0));
    }

    #[test]
    fn duration_errors() {
        let e = parse_duration("48").unwrap_err();
        assert_eq!(e.span, 0..2);
        assert_eq!(e.message, "missing unit");
        assert_eq!(e.help.as_deref(), Some(DURATION_HELP));
        let e = parse_duration("1h30").unwrap_err();
        assert_eq!(e.span, 2..4);
        let e = parse_duration("5hr").unwrap_err();
        assert_eq!(
            (e.span.clone(), e.message.as_str()),
            (1..3, "unknown duration unit `hr`")
        );
        assert_eq!(
            e.help.as_deref(),
            Some("did you mean `h`? units are ms, s, m, h, d, w")
        );
        let e = parse_duration("5M").unwrap_err();
        assert!(e.help.unwrap_or_default().contains("`m`"));
        assert_eq!(parse_duration("30m1h").unwrap_err().span, 3..5);
        assert_eq!(parse_duration("1h1h").unwrap_err().span, 2..4);
        assert_eq!(parse_duration("").unwrap_err().message, "empty duration");
        assert_eq!(parse_duration("1.5h").unwrap_err().span, 0..3);
        assert_eq!(parse_duration("h").unwrap_err().span, 0..1);
        assert_eq!(
            parse_duration("99999999999999999w").unwrap_err().message,
            "duration is too large"
        );
        assert_eq!(
            parse_duration("99999999999999999999999ms")
                .unwrap_err()
                .span,
            0..23
        );
        assert_eq!(parse_duration("5é").unwrap_err().span, 0..1);
        assert_eq!(parse_duration("5hé").unwrap_err().span, 2..4);
    }

    #[test]
    fn duration_formatting() {
        assert_eq!(format_duration(259_200_000), "3d");
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(1_209_600_000), "2w");
        assert_eq!(format_duration(864_000_000), "10d");
        assert_eq!(format_duration(1_500), "1s500ms");
        assert_eq!(format_duration(0), "0s");
        for ms in [1, 999, 61_000, 90_061_001, u64::MAX / 2] {
            assert_eq!(parse_duration(&format_duration(ms)), Ok(ms));
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("512KB"), Ok(512_000));
        assert_eq!(parse_size("5mb"), Ok(5_000_000));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("512KiB"), Ok(524_288));
        assert_eq!(parse_size("5MiB"), Ok(5_242_880));
        assert_eq!(parse_size(" 1gib "), Ok(1_073_741_824));
        assert_eq!(parse_size("10 B"), Ok(10));
        assert_eq!(format_size(5_000_000), "5MB");
        assert_eq!(format_size(1_048_576), "1MiB");
        assert_eq!(format_size(1_536), "1536B");
        assert_eq!(format_size(0), "0B");
        for b in [1, 1_000, 1_024, 1_024_000, u64::MAX] {
            assert_eq!(parse_size(&format_size(b)), Ok(b));
        }
    }

    #[test]
    fn size_errors() {
        let e = parse_size("5MG").unwrap_err();
        assert_eq!(e.span, 1..3);
        assert_eq!(e.message, "unknown size unit `MG`");
        assert_eq!(e.help.as_deref(), Some("did you mean `MB`?"));
        assert_eq!(parse_size("5MB 3KB").unwrap_err().span, 4..7);
        assert_eq!(parse_size("").unwrap_err().message, "empty size");
        assert_eq!(
            parse_size("20000000TB").unwrap_err().message,
            "size is too large"
        );
        assert_eq!(parse_size("-5").unwrap_err().span, 0..1);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_spans_are_in_bounds(s in proptest::arbitrary::any::<String>()) {
            for result in [parse_duration(&s), parse_size(&s)] {
                if let Err(e) = result {
                    proptest::prop_assert!(s.get(e.span.clone()).is_some(), "{:?}", e.span);
                }
            }
        }

        #[test]
        fn durations_round_trip(ms in 0u64..u64::MAX / 2) {
            proptest::prop_assert_eq!(parse_duration(&format_duration(ms)), Ok(ms));
        }
    }
}
