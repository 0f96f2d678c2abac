//! After a crash, at-least-once consumes the records whose offsets were not committed again,
//! and their outputs would be produced again, although the broker may have stored some or all
//! of them before the crash. So each output record carries the position token of the input
//! record it came from (header `pipec-src`), and a job that is given partitions — when it
//! starts, and when a rebalance gives it those of a replica that died or left — reads what its
//! output topics received since the group's last commit of those partitions (its time is kept
//! in the commit's metadata) and skips producing a record that is already there: the same
//! input record, topic and bytes.
//! The outputs of a job are deterministic (dedup keys carry position tokens too), so a record
//! produced again is byte for byte the one stored.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// The header naming the input record an output came from (its position token, in hex).
pub(crate) const SOURCE_HEADER: &str = "pipec-src";

/// How far before the last commit the scan starts (clocks of other hosts, linger).
const MARGIN_MS: i64 = 60_000;

/// Without a commit to go by (a job that never committed), how far back the scan goes.
const NO_COMMIT_LOOKBACK_MS: i64 = 15 * 60_000;

/// Outputs stored on the broker: (Kafka topic, source token, xxh3 of the bytes) → how many.
pub(crate) type Written = HashMap<(String, u64, u64), u32>;

/// The key of an output record in [`Written`].
pub(crate) fn key(topic: &str, source: u64, bytes: &[u8]) -> (String, u64, u64) {
    (topic.to_owned(), source, xxhash_rust::xxh3::xxh3_64(bytes))
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Where the scan starts: the earliest commit time recorded in the group's offsets of
/// `partitions` (the metadata `commit()` writes), less a margin. `None`: there is nothing to
/// scan, because the group has no commit of any of them, and so never produced an output
/// from them (see [`start_points`]). A commit without a time (made by another tool) or
/// offsets that cannot be read give a fixed look-back from now.
pub(crate) fn since<C: Consumer<X>, X: ConsumerContext>(
    consumer: &C,
    partitions: &[(String, i32)],
    timeout: Duration,
) -> Option<i64> {
    let mut tpl = TopicPartitionList::new();
    for (topic, p) in partitions {
        tpl.add_partition(topic, *p);
    }
    let Ok(committed) = consumer.committed_offsets(tpl, timeout) else {
        return Some(now_ms() - NO_COMMIT_LOOKBACK_MS);
    };
    let mut earliest: Option<i64> = None;
    let mut untimed = false;
    let mut fresh = Vec::new();
    for e in committed.elements() {
        match (e.offset(), e.metadata().parse::<i64>()) {
            (Offset::Offset(_), Ok(t)) => earliest = Some(earliest.map_or(t, |m| m.min(t))),
            (Offset::Offset(_), Err(_)) => untimed = true,
            _ => fresh.push((e.topic().to_owned(), e.partition())),
        }
    }
    if !fresh.is_empty()
        && let Err(e) = start_points(consumer, &fresh, timeout)
    {
        // The next start of the job would not scan these partitions' outputs: records of
        // them consumed again after a crash before the first commit would be produced again
        // (at-least-once still holds).
        tracing::warn!(error = %e, "committing where partitions start");
    }
    if untimed {
        return Some(now_ms() - NO_COMMIT_LOOKBACK_MS);
    }
    earliest.map(|t| t - MARGIN_MS)
}

/// Commits, for partitions the group has never committed, the offset the job starts reading
/// them from, with the time. Done before any of their records is run, it makes "no commit"
/// mean "no output produced from this partition", so a job's first start scans nothing, and
/// one killed before its first regular commit scans from here.
///
/// The offset is the partition's log start (its low watermark), found for all partitions in
/// one ListOffsets request (`offsets_for_times` with the "earliest" marker, not a time: a time
/// of 0 would pass over records without a timestamp; a request per partition for its
/// watermarks took half a second each). The job reads a partition without a commit from its
/// earliest record, so this is where it starts anyway; when the broker gives no offset, 0,
/// which a log starting later resets to its start.
fn start_points<C: Consumer<X>, X: ConsumerContext>(
    consumer: &C,
    partitions: &[(String, i32)],
    timeout: Duration,
) -> Result<(), String> {
    let mut at = TopicPartitionList::new();
    for (topic, p) in partitions {
        at.add_partition_offset(topic, *p, Offset::Beginning)
            .map_err(|e| e.to_string())?;
    }
    let first = consumer
        .offsets_for_times(at, timeout)
        .map_err(|e| format!("where partitions start: {e}"))?;
    let mut tpl = TopicPartitionList::new();
    let now = now_ms().to_string();
    for e in first.elements() {
        let offset = match e.offset() {
            Offset::Offset(o) if o >= 0 => o,
            _ => 0,
        };
        tpl.add_partition_offset(e.topic(), e.partition(), Offset::Offset(offset))
            .map_err(|e| e.to_string())?;
        if let Some(mut t) = tpl.find_partition(e.topic(), e.partition()) {
            t.set_metadata(now.as_str());
        }
    }
    consumer
        .commit(&tpl, rdkafka::consumer::CommitMode::Sync)
        .map_err(|e| e.to_string())
}

/// Adds what a scan found to what earlier scans found: a record counted by both is the same
/// record on the broker, so the larger count of a key stands, not the sum.
pub(crate) fn merge(into: &mut Written, found: Written) {
    for (k, n) in found {
        let e = into.entry(k).or_default();
        *e = (*e).max(n);
    }
}

/// How long a scan that has reached every high watermark waits for more records (the rest of
/// a record batch already fetched: see `scan`).
const QUIET: Duration = Duration::from_millis(200);

/// Reads every record `topics` received from `since_ms` to their current end, counting those
/// with a source header. Gives up at `deadline` (what was read is kept: a record missed here
/// is produced again, as without the scan).
pub(crate) fn scan(
    config: &ClientConfig,
    group: &str,
    topics: &[String],
    since_ms: i64,
    deadline: Duration,
) -> Result<Written, String> {
    let started = Instant::now();
    let consumer: BaseConsumer = super::client::for_consumer(config)
        .set("group.id", format!("{group}.recovery"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .map_err(|e| e.to_string())?;
    let timeout = Duration::from_secs(10);
    let mut start = TopicPartitionList::new();
    let mut ends: HashMap<(String, i32), i64> = HashMap::new();
    for topic in topics {
        let md = consumer
            .fetch_metadata(Some(topic), timeout)
            .map_err(|e| format!("metadata of `{topic}`: {e}"))?;
        let Some(t) = md.topics().iter().find(|t| t.name() == topic) else {
            continue;
        };
        let mut at = TopicPartitionList::new();
        for p in t.partitions() {
            at.add_partition_offset(topic, p.id(), Offset::Offset(since_ms))
                .map_err(|e| e.to_string())?;
        }
        let found = consumer
            .offsets_for_times(at, timeout)
            .map_err(|e| format!("offsets of `{topic}` since {since_ms}: {e}"))?;
        for e in found.elements() {
            let Offset::Offset(from) = e.offset() else {
                continue; // nothing written since then
            };
            let (_, high) = consumer
                .fetch_watermarks(topic, e.partition(), timeout)
                .map_err(|e| format!("end of `{topic}`: {e}"))?;
            // Read even when `from` is not below the high watermark: Tansu 0.6 (in memory)
            // reports the base offset of a partition's last record batch plus one, which is
            // short of its end when that batch holds several records.
            start
                .add_partition_offset(topic, e.partition(), Offset::Offset(from))
                .map_err(|e| e.to_string())?;
            if from < high {
                ends.insert((topic.clone(), e.partition()), high);
            }
        }
    }
    let mut written = Written::new();
    if start.count() == 0 {
        return Ok(written);
    }
    consumer.assign(&start).map_err(|e| e.to_string())?;
    // Done once every partition's position has reached its high watermark and then nothing
    // more has come for a moment (see above; on Kafka this only adds the moment).
    let mut last_record = Instant::now();
    while started.elapsed() < deadline {
        if let Ok(position) = consumer.position() {
            ends.retain(|(topic, partition), high| {
                !matches!(
                    position.find_partition(topic, *partition).map(|e| e.offset()),
                    Some(Offset::Offset(o)) if o >= *high
                )
            });
        }
        if ends.is_empty() && last_record.elapsed() >= QUIET {
            break;
        }
        let Some(m) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let Ok(m) = m else { continue };
        last_record = Instant::now();
        if let Some(h) = m.headers()
            && let Some(v) = h
                .iter()
                .find(|h| h.key == SOURCE_HEADER)
                .and_then(|h| h.value)
            && let Some(token) = std::str::from_utf8(v)
                .ok()
                .and_then(|s| u64::from_str_radix(s, 16).ok())
        {
            *written
                .entry(key(m.topic(), token, m.payload().unwrap_or_default()))
                .or_default() += 1;
        }
    }
    if !ends.is_empty() {
        tracing::warn!(
            partitions = ends.len(),
            "recovery scan stopped at its deadline: some outputs may be produced twice"
        );
    }
    Ok(written)
}
