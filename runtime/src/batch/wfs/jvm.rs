//! The JVM library behaviour that Sunbird's output depends on, written out: Scala's decimal
//! rounding, the iteration order of Scala 2.11/2.12 hash maps (which orders `edata.eks` and the
//! summary lists), and Java's case rules and `toString` of deserialized values.

use std::borrow::Cow;

use serde_json::Value;

/// `CommonUtil.roundDouble(v, 2)`: Scala's `BigDecimal(v)` starts from the double's shortest
/// decimal string (not its exact binary value), then `setScale(2, HALF_UP)` rounds half away
/// from zero. So 0.125 gives 0.13 and 1.005 gives 1.01.
pub(super) fn round2(v: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    // Rust's `Display` prints the shortest string that reads back as `v`, never in exponent
    // form: the same digits as Java's `Double.toString` for the values this model produces.
    let mut buf = Buf::default();
    if std::fmt::write(&mut buf, format_args!("{}", v.abs())).is_err() {
        return v;
    }
    let text = buf.as_str();
    let Some((int, frac)) = text.split_once('.') else {
        return v;
    };
    if frac.len() <= 2 {
        return v;
    }
    // The integer part and two decimals, as a number of hundredths.
    let mut cents: u128 = 0;
    for b in int.bytes().chain(frac.bytes().take(2)) {
        cents = match cents.checked_mul(10) {
            Some(c) => c + u128::from(b - b'0'),
            None => return v,
        };
    }
    if frac.as_bytes()[2] >= b'5' {
        cents += 1;
    }
    signed(v, hundredths(cents))
}

/// `roundDouble(ms / 1000.0, 2)` for a whole number of milliseconds, as the model's gaps and
/// durations are: the shortest decimal of `ms / 1000.0` is `ms` with the point moved three
/// places (for |ms| under 10^15), so rounding it half up is integer arithmetic.
pub(super) fn round2_ms(ms: i64) -> f64 {
    let abs = ms.unsigned_abs();
    if abs >= 1_000_000_000_000_000 {
        return round2(ms as f64 / 1000.0);
    }
    let v = if ms < 0 { -1.0 } else { 1.0 };
    signed(v, hundredths(u128::from((abs + 5) / 10)))
}

/// The double nearest to `cents / 100`.
fn hundredths(cents: u128) -> f64 {
    if cents < 1 << 53 {
        // Both exact, and IEEE division rounds to nearest.
        cents as f64 / 100.0
    } else {
        format!("{}.{:02}", cents / 100, cents % 100)
            .parse()
            .unwrap_or(f64::MAX)
    }
}

/// `magnitude` with the sign of `v`.
fn signed(v: f64, magnitude: f64) -> f64 {
    if v < 0.0 { -magnitude } else { magnitude }
}

/// A stack buffer for formatting a double (at most ~330 characters without exponent).
struct Buf {
    bytes: [u8; 400],
    len: usize,
}

impl Default for Buf {
    fn default() -> Self {
        Buf {
            bytes: [0; 400],
            len: 0,
        }
    }
}

impl Buf {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl std::fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Java's `String.hashCode` (over UTF-16 code units); Scala's `null.##` is 0.
pub(super) fn java_hash(s: Option<&str>) -> i32 {
    s.map_or(0, |s| {
        s.encode_utf16()
            .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
    })
}

/// Where a key sorts in a Scala 2.11/2.12 `immutable.HashMap` (a hash trie): the improved hash
/// is cut into 5-bit pieces from the low end, one per trie level, and the trie is walked in
/// piece order level by level.
fn trie_rank(hash: i32) -> u64 {
    let mut h = hash.wrapping_add(!(hash << 9));
    h ^= ((h as u32) >> 14) as i32;
    h = h.wrapping_add(h << 4);
    h ^= ((h as u32) >> 10) as i32;
    let h = h as u32;
    (0..7).fold(0u64, |rank, level| {
        (rank << 5) | u64::from((h >> (5 * level)) & 31)
    })
}

/// The bucket of a key in a fresh Scala 2.11/2.12 `mutable.HashMap` (16 buckets): the hash goes
/// through `byteswap32`, is rotated right by the table's seed (4) and its top 4 bits pick the
/// bucket.
fn bucket16(hash: i32) -> u32 {
    const MIX: i32 = 0x9e37_75cd_u32 as i32;
    let swapped = hash.wrapping_mul(MIX).swap_bytes().wrapping_mul(MIX) as u32;
    swapped.rotate_right(4) >> 28
}

/// The iteration order of a Scala immutable `Map` built one key at a time (`+=`, or a builder)
/// from keys with these hashes, given in first-insertion order: up to four keys it is a
/// `Map1`…`Map4`, which keeps insertion order; from five keys on it is a hash trie.
pub(super) fn built_map_order(hashes: &[i32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..hashes.len()).collect();
    if hashes.len() > 4 {
        order.sort_by_key(|&i| trie_rank(hashes[i]));
    }
    order
}

/// The iteration order of the map that `groupBy` returns, for group keys with these hashes in
/// first-appearance order: `groupBy` fills a `mutable.HashMap` and copies it into an immutable
/// one, so up to four groups come out in the mutable map's order (buckets from the last to the
/// first, the latest key first within a bucket) and from five on in hash-trie order.
pub(super) fn group_by_order(hashes: &[i32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..hashes.len()).collect();
    if hashes.len() > 4 {
        order.sort_by_key(|&i| trie_rank(hashes[i]));
    } else {
        order.sort_by_key(|&i| (std::cmp::Reverse(bucket16(hashes[i])), std::cmp::Reverse(i)));
    }
    order
}

/// Java's `String.toLowerCase` (Sunbird lower-cases `edata.type`).
pub(super) fn java_lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// `StringUtils.equalsIgnoreCase`: equal lengths and, character by character, equal as they
/// are, upper-cased or lower-cased (Java's `regionMatches(true, …)`); two nulls are equal.
pub(super) fn eq_ignore_case(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) if a.is_ascii() && b.is_ascii() => a.eq_ignore_ascii_case(b),
        (Some(a), Some(b)) => {
            a.chars().count() == b.chars().count()
                && a.chars().zip(b.chars()).all(|(x, y)| {
                    let (ux, uy) = (upper_char(x), upper_char(y));
                    x == y || ux == uy || lower_char(ux) == lower_char(uy)
                })
        }
        _ => false,
    }
}

/// `Character.toUpperCase(char)`: one character in, one out.
fn upper_char(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// `Character.toLowerCase(char)`: one character in, one out.
fn lower_char(c: char) -> char {
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `toString` of a value Jackson deserialized into `AnyRef`: `String`, `Integer`/`Long`,
/// `Double` (Java's `Double.toString`), `Boolean`, `LinkedHashMap` (`{k=v, …}`) and
/// `ArrayList` (`[a, b]`). A null prints as `null` (Sunbird would throw there).
pub(super) fn java_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() => java_double(f),
            _ => n.to_string(),
        },
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(java_to_string).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}={}", java_to_string(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// Java's `Double.toString`: plain decimals with at least one fractional digit between 10^-3
/// and 10^7, otherwise `d.dddE±n`.
pub(super) fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    if (1e-3..1e7).contains(&d.abs()) {
        let s = d.to_string();
        return if s.contains('.') { s } else { s + ".0" };
    }
    let s = format!("{d:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if mantissa.contains('.') => format!("{mantissa}E{exp}"),
        Some((mantissa, exp)) => format!("{mantissa}.0E{exp}"),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round2_rounds_the_decimal_string_half_up() {
        assert_eq!(round2(12.172), 12.17);
        assert_eq!(round2(0.125), 0.13);
        // The double nearest 1.005 is a little below it; Scala rounds its string "1.005".
        assert_eq!(round2(1.005), 1.01);
        assert_eq!(round2(-1.005), -1.01);
        assert_eq!(round2(0.1 + 0.2), 0.3);
        assert_eq!(round2(1200.0), 1200.0);
        assert_eq!(round2(11.0 / 3.0), 3.67);
        assert_eq!(round2(1e300), 1e300);
        assert_eq!(round2(5e-324), 0.0);
    }

    #[test]
    fn round2_ms_is_round2_of_the_seconds() {
        for ms in [
            0, 1, 4, 5, 15, 125, 599_995, 11_696, 12_172, -5, -12_175, 86_400_000,
        ] {
            assert_eq!(round2_ms(ms), round2(ms as f64 / 1000.0), "{ms}");
        }
        let mut x: i64 = 1;
        for _ in 0..10_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let ms = (x >> 20) % 100_000_000_000;
            assert_eq!(round2_ms(ms), round2(ms as f64 / 1000.0), "{ms}");
        }
    }

    #[test]
    fn eks_keys_come_out_in_the_order_sunbird_writes_them() {
        // Sunbird's own ME_WORKFLOW_SUMMARY sample (VALID_DENORM_SUMMARY_EVENT.json of its
        // druid-events-validator tests) lists the eleven measures in this order.
        let written = [
            "interact_events_per_min",
            "start_time",
            "interact_events_count",
            "item_responses",
            "end_time",
            "events_summary",
            "page_summary",
            "time_diff",
            "telemetry_version",
            "env_summary",
            "time_spent",
        ];
        let built = [
            "start_time",
            "end_time",
            "time_diff",
            "time_spent",
            "telemetry_version",
            "item_responses",
            "interact_events_count",
            "interact_events_per_min",
            "env_summary",
            "events_summary",
            "page_summary",
        ];
        let hashes: Vec<i32> = built.iter().map(|k| java_hash(Some(k))).collect();
        let order: Vec<&str> = built_map_order(&hashes).iter().map(|&i| built[i]).collect();
        assert_eq!(order, written);
    }

    #[test]
    fn java_strings() {
        assert_eq!(java_hash(Some("abc")), 96354);
        assert_eq!(java_double(21.0), "21.0");
        assert_eq!(java_double(1e10), "1.0E10");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(
            java_to_string(&serde_json::json!({"a": [1, 2.5], "b": null})),
            "{a=[1, 2.5], b=null}"
        );
        assert!(eq_ignore_case(Some("Session"), Some("session")));
        assert!(!eq_ignore_case(Some("app"), None));
        assert_eq!(java_lower("TextBookUnit"), "textbookunit");
    }
}
