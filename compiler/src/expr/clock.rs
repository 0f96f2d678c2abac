//! The clock `now_ms()` reads: the system's, or an instant a run fixes (`pipec run --now`,
//! a test's `now:`) so that what it computes from the time (expiry filters, `syncts` of
//! batches that carry none) is the same whatever the day it runs.
//!
//! One clock for the process: a run is one pipeline at one time. Whoever fixes it (the
//! CLI, the test runner, a test) sets it back with [`fix`]`(None)` when done.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// No fixed time: read the system clock.
const UNSET: i64 = i64::MIN;

static FIXED: AtomicI64 = AtomicI64::new(UNSET);

/// Fixes the clock at `ms` (milliseconds since 1970-01-01 UTC), or lets it follow the
/// system clock again (`None`).
pub fn fix(ms: Option<i64>) {
    FIXED.store(ms.unwrap_or(UNSET), Ordering::Relaxed);
}

/// The fixed time, if one is set.
pub fn fixed() -> Option<i64> {
    let ms = FIXED.load(Ordering::Relaxed);
    (ms != UNSET).then_some(ms)
}

/// Milliseconds since the epoch: the fixed time, or the system clock's.
pub fn now_ms() -> i64 {
    if let Some(ms) = fixed() {
        return ms;
    }
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN + 1, |ms| -ms),
    }
}
