//! Tests of cron parsing, matching, next-run times and normalized text.

use super::*;

/// Seconds since the epoch of a UTC date and time (test helper, Hinnant's algorithm).
fn epoch(y: i64, m: i64, d: i64, hh: i64, mm: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400 + hh * 3600 + mm * 60
}

fn cron(s: &str) -> Cron {
    match parse_cron(s) {
        Ok(c) => c,
        Err(e) => panic!("{s}: {e:?}"),
    }
}

fn error(s: &str) -> CronError {
    match parse_cron(s) {
        Ok(c) => panic!("{s} parsed as {c}"),
        Err(e) => e,
    }
}

#[test]
fn calendar() {
    assert_eq!(epoch(2024, 1, 1, 6, 0), 1_704_088_800);
    assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(
        civil_from_days(epoch(2028, 2, 29, 0, 0) / 86_400),
        (2028, 2, 29)
    );
}

#[test]
fn next_times() {
    let daily = cron("30 5 * * *");
    assert_eq!(
        daily.next_after(epoch(2024, 1, 1, 6, 0)),
        Some(1_704_173_400)
    );
    assert_eq!(
        daily.next_after(epoch(2024, 1, 1, 5, 0)),
        Some(epoch(2024, 1, 1, 5, 30))
    );
    // Strictly after: at 05:30 itself the next run is tomorrow.
    assert_eq!(
        daily.next_after(epoch(2024, 1, 1, 5, 30)),
        Some(epoch(2024, 1, 2, 5, 30))
    );
    assert_eq!(
        daily.next_after(epoch(2024, 12, 31, 23, 59)),
        Some(epoch(2025, 1, 1, 5, 30))
    );
    let leap = cron("0 12 29 2 *");
    assert_eq!(
        leap.next_after(epoch(2024, 3, 1, 0, 0)),
        Some(epoch(2028, 2, 29, 12, 0))
    );
    assert_eq!(cron("0 0 30 2 *").next_after(0), None);
    assert_eq!(
        cron("@hourly").next_after(epoch(2024, 1, 1, 6, 0) + 1),
        Some(epoch(2024, 1, 1, 7, 0))
    );
    assert_eq!(cron("* * * * *").next_after(-30), Some(0));
    assert_eq!(cron("* * * * *").next_after(i64::MAX), None);
    assert!(cron("* * * * *").next_after(i64::MIN).is_some());
}

#[test]
fn day_fields_use_or_when_both_restricted() {
    // The 13th or any Friday; 2024-01-01 is a Monday.
    let c = cron("0 0 13 * FRI");
    assert!(c.matches(0, 0, 12, 1, 5));
    assert!(c.matches(0, 0, 13, 1, 6));
    assert!(!c.matches(0, 0, 14, 1, 0));
    let start = epoch(2024, 1, 1, 0, 0);
    assert_eq!(c.next_after(start), Some(epoch(2024, 1, 5, 0, 0)));
    assert_eq!(
        c.next_after(epoch(2024, 1, 12, 0, 0)),
        Some(epoch(2024, 1, 13, 0, 0))
    );
    // A `*` day-of-month leaves only the weekday.
    let fridays = cron("0 0 * * 5");
    assert!(!fridays.matches(0, 0, 13, 1, 6));
    assert!(fridays.matches(0, 0, 12, 1, 5));
    // `*/2` counts as unrestricted too (Vixie cron).
    let odd_fridays = cron("0 0 */2 * 5");
    assert!(!odd_fridays.matches(0, 0, 2, 1, 5));
    assert!(odd_fridays.matches(0, 0, 3, 1, 5));
    assert!(cron("0 0 * * 7").matches(0, 0, 7, 1, 0));
    assert!(cron("0 0 * * 0").matches(0, 0, 7, 1, 7));
}

#[test]
fn normalized_text() {
    let cases = [
        ("0,15,30,45 9-17 * JAN-MAR mon-fri", "*/15 9-17 * 1-3 1-5"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@annually", "0 0 1 1 *"),
        ("0 0 1-31 * 7", "0 0 1-31 * 0"),
        ("5-50/15 * * * *", "5-50/15 * * * *"),
        ("0 0 */31 * *", "0 0 */31 * *"),
        ("1,2,3,5 0 1,15 6/2 5-7", "1-3,5 0 1,15 6-12/2 0,5,6"),
        ("10/20 * * * *", "10-50/20 * * * *"),
    ];
    for (input, text) in cases {
        let c = cron(input);
        assert_eq!(c.to_string(), text, "{input}");
        assert_eq!(cron(text), c, "{input} round trip");
    }
}

#[test]
fn errors() {
    let e = error("0 * * * * *");
    assert_eq!(
        e.message,
        "expected 5 fields (minute hour day-of-month month day-of-week), found 6"
    );
    assert!(
        e.help
            .unwrap_or_default()
            .contains("seconds aren't supported")
    );
    assert_eq!(error(" 0 0 *").span, 1..6);
    let e = error("75 * * * *");
    assert_eq!(
        (e.span, e.message.as_str()),
        (0..2, "minute 75 is out of range 0-59")
    );
    let e = error("* * * 13 *");
    assert_eq!(
        (e.span, e.message.as_str()),
        (6..8, "month 13 is out of range 1-12")
    );
    assert_eq!(
        error("* * * * 8").message,
        "day-of-week 8 is out of range 0-7"
    );
    assert_eq!(
        error("* * 0 * *").message,
        "day-of-month 0 is out of range 1-31"
    );
    assert_eq!(error("99999999999 * * * *").span, 0..11);
    let e = error("*/0 * * * *");
    assert_eq!(
        (e.span, e.message.as_str()),
        (2..3, "step must be at least 1")
    );
    assert_eq!(error("*/x * * * *").message, "bad step `x` in minute");
    assert_eq!(error("1/ * * * *").span, 2..3);
    assert_eq!(
        error("*/90 * * * *").message,
        "step 90 is larger than the minute range 0-59"
    );
    let e = error("0 5-1 * * *");
    assert_eq!(
        (e.span, e.message.as_str()),
        (2..5, "reversed range `5-1` in hour")
    );
    assert_eq!(
        e.help.as_deref(),
        Some("write `1-5`; ranges cannot wrap around")
    );
    let e = error("* * * FOO *");
    assert_eq!(
        (e.span, e.message.as_str()),
        (6..9, "unknown month name `FOO`")
    );
    assert_eq!(
        error("* * * * MONDAY").help.as_deref(),
        Some("use the three-letter name `MON`")
    );
    assert_eq!(
        error("* * * * TUS").help.as_deref(),
        Some("did you mean `TUE`?")
    );
    assert_eq!(
        error("a * * * *").message,
        "expected a number for minute, found `a`"
    );
    let e = error("1% * * * *");
    assert_eq!(
        (e.span, e.message.as_str()),
        (1..2, "unexpected `%` in minute")
    );
    assert_eq!(error("é * * * *").span, 0..2);
    assert_eq!(error("1,,2 * * * *").span, 1..2);
    assert_eq!(error(",1 * * * *").span, 0..1);
    assert_eq!(error("-5 * * * *").span, 0..1);
    assert_eq!(error("").message, "empty cron expression");
    assert_eq!(
        error("@dayly").help.as_deref(),
        Some("did you mean `@daily`?")
    );
    assert_eq!(error("@reboot").message, "`@reboot` is not supported");
    let e = error("@ANNUALLY");
    assert_eq!(e.message, "cron macro `@ANNUALLY` is not in lower case");
    assert_eq!(
        e.help.as_deref(),
        Some("write `@annually`: cron and Kubernetes read macros in lower case only")
    );
}

proptest::proptest! {
    #[test]
    fn never_panics_and_spans_are_in_bounds(s in proptest::arbitrary::any::<String>()) {
        if let Err(e) = parse_cron(&s) {
            proptest::prop_assert!(s.get(e.span.clone()).is_some(), "{:?}", e.span);
        }
    }

    #[test]
    fn fields_round_trip(
        fields in proptest::collection::vec(
            proptest::sample::select(vec!["*", "*/7", "1-5", "2,4", "3-20/4", "5", "1/2", "0-7"]),
            5,
        ),
        start in -10_000_000_000i64..10_000_000_000,
    ) {
        let text = fields.join(" ");
        if let Ok(c) = parse_cron(&text) {
            proptest::prop_assert_eq!(parse_cron(&c.to_string()), Ok(c.clone()));
            if let Some(next) = c.next_after(start) {
                proptest::prop_assert!(next > start && next % 60 == 0);
                let days = next.div_euclid(86_400);
                let (_, month, day) = civil_from_days(days);
                let weekday = (days + 4).rem_euclid(7) as u32;
                let secs = next.rem_euclid(86_400);
                let (hour, minute) = ((secs / 3600) as u32, ((secs % 3600) / 60) as u32);
                proptest::prop_assert!(c.matches(minute, hour, day, month, weekday));
            }
        }
    }
}
