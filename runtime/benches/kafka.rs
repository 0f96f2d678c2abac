//! Kafka end-to-end throughput on one broker, in one run: (a) a plain consume → produce copy
//! of a topic (batches of up to 512, each batch's acknowledgements awaited before the next,
//! no processing), and (b) iGOT's `pipeline-preprocessor` job run by the Kafka transport
//! (validate, dedup in memory, route, serialize, produce, commit) on the same records, once
//! waiting for each batch's acknowledgements as (a) does and once with up to 4 batches
//! unacknowledged (the default), and (c) the same job with `--exactly-once` (its outputs and
//! offsets in one Kafka transaction a batch). For the broker's own ceiling, Kafka's
//! `ProducerPerformance` and `ConsumerPerformance` (from the broker's jars, when `java` and
//! `scripts/kafka-broker fetch` find them) write and read records of the same size.
//!
//! Needs a broker: `PIPEC_BENCH_BROKERS` (default `127.0.0.1:9092`; `bash scripts/test` leaves
//! none running: `scripts/kafka-broker start --dir DIR --port 9092` starts the Apache Kafka it
//! uses). Input: generated Sunbird batches unpacked by the
//! extractor job in process, so the records are what the preprocessor reads in production.
//!
//! `cargo bench -p pipec-runtime --bench kafka -- [--events N] [--rounds N] [--tool-records N]`

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pipec_compiler::manifest::{self, Manifest, MemoryStore};
use pipec_runtime::cluster::{Admin, NewTopicSpec};
use pipec_runtime::r#gen::{GenOptions, Generator};
use pipec_runtime::metrics::Metrics;
use pipec_runtime::store::Store;
use pipec_runtime::transport::kafka::{self, KafkaRunOptions};
use pipec_runtime::{Job, Output};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const JOB: &str = "pipeline-preprocessor";

/// Partitions of every topic the bench creates.
const PARTITIONS: i32 = 4;

fn arg(name: &str, default: usize) -> usize {
    let argv: Vec<String> = std::env::args().collect();
    argv.windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(default)
}

fn brokers() -> String {
    std::env::var("PIPEC_BENCH_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

fn manifest(env: &str) -> Manifest {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let opts = pipec_compiler::CheckOptions {
        env: Some(env.to_owned()),
        env_lookup: &|_| None,
    };
    match pipec_compiler::compile(&root.join("pipelines/igot"), &opts).manifest {
        Some(m) => m,
        None => panic!("pipelines/igot does not compile"),
    }
}

/// Generated batches through the extractor: the records of its `raw` output.
async fn raw_events(m: &Manifest, n: usize) -> Vec<Vec<u8>> {
    let mut stores = HashMap::new();
    for name in &m.jobs["telemetry-extractor"].stores {
        let def = manifest::Store::Memory(MemoryStore {
            max_keys: None,
            ttl_ms: None,
            snapshot: None,
            load: None,
            key: None,
        });
        let s = Store::open(name, &def, Path::new("."))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        stores.insert(name.clone(), Arc::new(s));
    }
    let job = Job::build("telemetry-extractor", m, &stores).unwrap_or_else(|e| panic!("{e}"));
    let mut g = Generator::new(GenOptions {
        events_per_batch: 100,
        duplicate_rate: 0.05,
        invalid_rate: 0.02,
        seed: 7,
    });
    let mut raw = Vec::with_capacity(n);
    while raw.len() < n {
        let batches: Vec<Vec<u8>> = (0..10).map(|_| g.batch()).collect();
        let refs: Vec<&[u8]> = batches.iter().map(Vec::as_slice).collect();
        let mut out = Output::default();
        job.process(&refs, &mut out)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        raw.extend(
            out.records
                .into_iter()
                .filter(|(t, _)| &**t == "raw")
                .map(|(_, b)| b),
        );
    }
    raw.truncate(n);
    raw
}

async fn create(admin: &Admin, names: &[String], partitions: i32) {
    let specs: Vec<NewTopicSpec> = names
        .iter()
        .map(|n| NewTopicSpec {
            name: n.clone(),
            partitions,
            replication: 1,
            configs: Vec::new(),
        })
        .collect();
    for chunk in specs.chunks(8) {
        let outcomes = admin
            .create_topics(chunk)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for o in outcomes {
            if let Err(r) = o.result {
                panic!("creating {}: {r}", o.topic);
            }
        }
    }
}

/// Hands a record to the producer at once (waiting while its queue is full) and returns its
/// acknowledgement to come. (`FutureProducer::send` is lazy: awaiting its futures one after
/// the other would enqueue each record only once the one before is acknowledged.)
async fn enqueue(p: &FutureProducer, mut record: FutureRecord<'_, (), [u8]>) -> DeliveryFuture {
    loop {
        match p.send_result(record) {
            Ok(d) => return d,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err((e, _)) => panic!("producing: {e}"),
        }
    }
}

/// Waits for an acknowledgement; a failure ends the bench.
async fn acked(f: DeliveryFuture, what: &str) {
    match f.await {
        Ok(Ok(_)) => {}
        Ok(Err((e, _))) => panic!("{what}: {e}"),
        Err(_) => panic!("{what}: the producer went away"),
    }
}

async fn produce_all(topic: &str, records: &[Vec<u8>]) {
    let p: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("linger.ms", "5")
        .create()
        .unwrap_or_else(|e| panic!("{e}"));
    for chunk in records.chunks(10_000) {
        let mut pending = Vec::with_capacity(chunk.len());
        for r in chunk {
            pending.push(enqueue(&p, FutureRecord::to(topic).payload(r.as_slice())).await);
        }
        for f in pending {
            acked(f, "producing the input").await;
        }
    }
    let _ = p.flush(Duration::from_secs(30));
}

/// (a): consume `from` in batches of up to 512 (50 ms to fill), produce each record to `to`,
/// wait for the acknowledgements, commit; until `n` records are copied and the broker has the
/// commit of the last.
async fn copy(from: &str, to: &str, group: &str, n: usize) -> (Duration, f64) {
    let c: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap_or_else(|e| panic!("{e}"));
    c.subscribe(&[from]).unwrap_or_else(|e| panic!("{e}"));
    let idempotent = std::env::var("PIPEC_BENCH_IDEMPOTENT").map_or("true".to_owned(), |v| v);
    let p: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("enable.idempotence", &idempotent)
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()
        .unwrap_or_else(|e| panic!("{e}"));
    // Ready before the clock starts, as the job's producers are: the target's metadata known
    // (on Tansu the first record of a new producer otherwise waits some 600 ms for it).
    p.client()
        .fetch_metadata(Some(to), Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("metadata of `{to}`: {e}"));
    let mut copied = 0;
    let mut started = None;
    // When the first batch was committed, and the records then: the steady rate is taken
    // from there, as the job's is (see `steady`).
    let mut first_commit: Option<(Instant, usize)> = None;
    while copied < n {
        let first = c.recv().await.unwrap_or_else(|e| panic!("{e}")).detach();
        started.get_or_insert_with(Instant::now);
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + Duration::from_millis(50);
        while batch.len() < 512 {
            match tokio::time::timeout_at(deadline, c.recv()).await {
                Ok(Ok(m)) => batch.push(m.detach()),
                _ => break,
            }
        }
        let mut pending = Vec::with_capacity(batch.len());
        for m in &batch {
            pending.push(
                enqueue(
                    &p,
                    FutureRecord::to(to).payload(m.payload().unwrap_or_default()),
                )
                .await,
            );
        }
        for f in pending {
            acked(f, "copy").await;
        }
        let mut tpl = TopicPartitionList::new();
        for m in &batch {
            let _ =
                tpl.add_partition_offset(m.topic(), m.partition(), Offset::Offset(m.offset() + 1));
        }
        let _ = c.commit(&tpl, CommitMode::Async);
        copied += batch.len();
        first_commit.get_or_insert_with(|| (Instant::now(), copied));
        if std::env::var_os("PIPEC_BENCH_DEBUG").is_some() {
            eprintln!(
                "copied {copied} at {:?} (batch of {})",
                started.map(|s| s.elapsed()),
                batch.len()
            );
        }
    }
    // Timed, as (b) is, until the broker has the commit of the last record.
    let offsets = group_reader(group);
    while committed(&offsets, from, PARTITIONS) < i64::try_from(n).unwrap_or(i64::MAX) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (
        started.map_or(Duration::ZERO, |s| s.elapsed()),
        steady(first_commit, n),
    )
}

/// Records a second from the first commit to the end: a run's rate without what it does
/// once at its start (for the job, the recovery scan of its outputs, which looks back 15
/// minutes when the group has no commit, so that each round's job reads the outputs of
/// the rounds before it).
fn steady(first_commit: Option<(Instant, usize)>, n: usize) -> f64 {
    first_commit.map_or(0.0, |(at, done)| {
        n.saturating_sub(done) as f64 / at.elapsed().as_secs_f64().max(1e-9)
    })
}

/// A client that reads `group`'s committed offsets (it joins nothing).
fn group_reader(group: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", group)
        .create()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The records of `topic` (partitions `0..partitions`, a topic written from offset 0) that
/// `group` has committed.
fn committed(c: &BaseConsumer, topic: &str, partitions: i32) -> i64 {
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    c.committed_offsets(tpl, Duration::from_secs(5))
        .map(|t| {
            t.elements()
                .iter()
                .map(|e| match e.offset() {
                    Offset::Offset(o) => o,
                    _ => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// (b): the preprocessor job on the transport, until it has consumed `n` records and its
/// group has committed all of them (several acknowledged batches may share one commit, so the
/// broker's committed offsets are what tells).
async fn preprocessor(
    m: &Manifest,
    group: &str,
    n: usize,
    unacked: usize,
    exactly_once: bool,
) -> (Duration, f64) {
    let source = m.topics[&m.jobs[JOB].from].name.clone();
    let offsets = group_reader(group);
    let mut m = m.clone();
    if let Some(j) = m.jobs.get_mut(JOB) {
        j.consumer_group = group.to_owned();
    }
    let brokers = m.clusters.keys().map(|c| (c.clone(), brokers())).collect();
    let mut opts = KafkaRunOptions::new(brokers);
    opts.jobs = vec![JOB.to_owned()];
    opts.memory_stores = true;
    opts.unacked_batches = unacked;
    opts.exactly_once = exactly_once;
    opts.instance = "bench".to_owned();
    let metrics = Arc::new(Metrics::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let run = {
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move { kafka::run(&m, &opts, metrics, stop_rx).await })
    };
    let mut started = None;
    let mut first_commit = None;
    loop {
        let (records, batches, commits) = metrics.progress(JOB);
        if records > 0 {
            started.get_or_insert_with(Instant::now);
        }
        if commits > 0 {
            first_commit.get_or_insert_with(|| (Instant::now(), records as usize));
        }
        if records as usize >= n
            && committed(&offsets, &source, PARTITIONS) >= i64::try_from(n).unwrap_or(i64::MAX)
        {
            break;
        }
        if std::env::var_os("PIPEC_BENCH_DEBUG").is_some()
            && started.is_some_and(|s: Instant| s.elapsed().as_millis() % 1000 < 3)
        {
            eprintln!("preprocessor: {records} records, {batches} batches, {commits} commits");
        }
        tokio::time::sleep(Duration::from_millis(if records as usize >= n {
            10
        } else {
            2
        }))
        .await;
    }
    let took = started.map_or(Duration::ZERO, |s| s.elapsed());
    if std::env::var_os("PIPEC_BENCH_DEBUG").is_some() {
        for l in metrics
            .render()
            .lines()
            .filter(|l| l.contains("latency") || l.contains("produced"))
        {
            eprintln!("{l}");
        }
    }
    let _ = stop_tx.send(true);
    match run.await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => panic!("{e}"),
        Err(e) => panic!("{e}"),
    }
    (took, steady(first_commit, n))
}

fn main() {
    let n = arg("--events", 50_000);
    let rounds = arg("--rounds", 3);
    // Kafka's tools, JVMs, spend their first seconds compiling: they get more records.
    let tool_records = arg("--tool-records", 250_000);
    if std::env::var_os("PIPEC_BENCH_DEBUG").is_some() {
        // The jobs' own log lines too: among them, where each job's consume loop spent its
        // time (logged when it stops).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("pipec_runtime=info"))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let env = format!("bench{stamp}");
        let m = manifest(&env);
        let admin = match Admin::connect(&brokers(), Duration::from_secs(10)).await {
            Ok(a) => a,
            Err(e) => panic!(
                "no broker at {} ({e}): start one (scripts/kafka-broker start --dir DIR --port 9092) or set PIPEC_BENCH_BROKERS",
                brokers()
            ),
        };
        let job = &m.jobs[JOB];
        let source = m.topics[&job.from].name.clone();
        let copy_to = format!("{env}.bench.copy");
        let mut names: Vec<String> = job.outputs.iter().map(|t| m.topics[t].name.clone()).collect();
        names.push(source.clone());
        names.push(copy_to.clone());
        names.sort();
        names.dedup();
        create(&admin, &names, PARTITIONS).await;
        let raw = raw_events(&m, n).await;
        let bytes: usize = raw.iter().map(Vec::len).sum();
        let t = Instant::now();
        produce_all(&source, &raw).await;
        println!(
            "broker {}; {n} records of {} bytes on average produced to `{source}` (4 partitions) \
             at {:.0} records/s (one producer, acks=1, no consumer)",
            brokers(),
            bytes / n.max(1),
            n as f64 / t.elapsed().as_secs_f64()
        );
        let tools_topic = format!("{env}.bench.tools");
        create(&admin, std::slice::from_ref(&tools_topic), PARTITIONS).await;
        names.push(tools_topic.clone());
        let (mut tp, mut tc) = (Vec::new(), Vec::new());
        let (mut a, mut b0, mut b4, mut c) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // The same, from each run's first commit on (see `steady`).
        let (mut sa, mut s0, mut s4, mut sc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            if let Some((p, r)) = kafka_tools(&tools_topic, tool_records, bytes / n.max(1), round) {
                println!("round {round}: ProducerPerformance {p:.0}/s, ConsumerPerformance {r:.0}/s");
                tp.push(p);
                tc.push(r);
            }
            let (ta, qa) = copy(&source, &copy_to, &format!("{env}-copy-{round}"), n).await;
            let (t0, q0) = preprocessor(&m, &format!("{env}-pre0-{round}"), n, 0, false).await;
            let (t4, q4) = preprocessor(&m, &format!("{env}-pre4-{round}"), n, 4, false).await;
            let (te, qe) = preprocessor(&m, &format!("{env}-eos-{round}"), n, 0, true).await;
            let rate = |t: Duration| n as f64 / t.as_secs_f64();
            let (ra, r0, r4, re) = (rate(ta), rate(t0), rate(t4), rate(te));
            println!(
                "round {round}: (a) copy {ra:.0}/s, (b) preprocessor {r0:.0}/s waiting for each \
                 batch, {r4:.0}/s with 4 batches unacknowledged, (c) exactly-once {re:.0}/s"
            );
            println!(
                "round {round}, from the first commit on: (a) {qa:.0}/s, (b) {q0:.0}/s and \
                 {q4:.0}/s, (c) {qe:.0}/s"
            );
            a.push(ra);
            b0.push(r0);
            b4.push(r4);
            c.push(re);
            sa.push(qa);
            s0.push(q0);
            s4.push(q4);
            sc.push(qe);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        let (ma, m0, m4, me) = (median(&mut a), median(&mut b0), median(&mut b4), median(&mut c));
        println!("median of {rounds} rounds:");
        println!("{:<64} {:>12}", "benchmark", "records/s");
        if !tp.is_empty() {
            println!("{:<64} {:>12.0}", "Kafka's ProducerPerformance (acks=all, idempotent)", median(&mut tp));
            println!("{:<64} {:>12.0}", "Kafka's ConsumerPerformance (fetch rate)", median(&mut tc));
        }
        // The four cases and their ratios, once from the first record, once from the first
        // commit (its start-up, e.g. the recovery scan, left out).
        let (qa, q0, q4, qe) = (median(&mut sa), median(&mut s0), median(&mut s4), median(&mut sc));
        for (title, [a, b0, b4, c]) in [("", [ma, m0, m4, me]), (
            "from each run's first commit on (its start-up, e.g. the recovery scan, left out):",
            [qa, q0, q4, qe],
        )] {
            if !title.is_empty() {
                println!("{title}");
            }
            for (label, v, digits) in [
                ("(a) consume -> produce copy, acks awaited per batch, commit", a, 0),
                ("(b) pipeline-preprocessor, --unacked-batches 0", b0, 0),
                ("(b) pipeline-preprocessor, --unacked-batches 4 (default)", b4, 0),
                ("(c) pipeline-preprocessor, --exactly-once", c, 0),
                ("(b, 0) / (a)", b0 / a, 2),
                ("(b, 4) / (a)", b4 / a, 2),
                ("(c) / (b, 4)", c / b4, 2),
            ] {
                println!("{label:<64} {v:>12.digits$}");
            }
        }
        let _ = admin.delete_topics(&names.iter().map(String::as_str).collect::<Vec<_>>()).await;
    });
}

/// Kafka's own tools, from the broker's jars (`scripts/kafka-broker fetch`): records/s of
/// `ProducerPerformance` writing `n` records of `size` bytes to `topic` (`acks=all`,
/// idempotent, as the job's producers) and of `ConsumerPerformance` reading them back (its
/// fetch rate, without the group's join). None, with the reason printed, when `java` or the
/// jars are missing.
fn kafka_tools(topic: &str, n: usize, size: usize, round: usize) -> Option<(f64, f64)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/kafka-broker");
    let libs = std::process::Command::new(script)
        .arg("fetch")
        .output()
        .ok()?;
    if !libs.status.success() {
        println!("Kafka's tools skipped: scripts/kafka-broker fetch failed");
        return None;
    }
    let cp = format!("{}/*", String::from_utf8_lossy(&libs.stdout).trim());
    let java = |args: &[&str]| -> Option<String> {
        match std::process::Command::new("java")
            .arg("-cp")
            .arg(&cp)
            .args(args)
            .output()
        {
            Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
            Ok(o) => {
                println!(
                    "Kafka's tools failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                None
            }
            Err(e) => {
                println!("Kafka's tools skipped: java: {e}");
                None
            }
        }
    };
    let (n, size) = (n.to_string(), size.to_string());
    let produced = java(&[
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        &n,
        "--record-size",
        &size,
        "--throughput",
        "-1",
        "--producer-props",
        &format!("bootstrap.servers={}", brokers()),
        "acks=all",
        "enable.idempotence=true",
        "linger.ms=5",
    ])?;
    // The last line: "N records sent, R records/sec (...)".
    let p = produced.lines().rev().find_map(|l| {
        l.split(" records/sec")
            .next()?
            .rsplit(", ")
            .next()?
            .parse()
            .ok()
    })?;
    let consumed = java(&[
        "org.apache.kafka.tools.ConsumerPerformance",
        "--bootstrap-server",
        &brokers(),
        "--topic",
        topic,
        "--num-records",
        &n,
        "--group",
        &format!("bench-tools-{round}-{}", std::process::id()),
        "--timeout",
        "60000",
    ])?;
    // A header and one row of comma-separated values: the rate is `fetch.nMsg.sec`.
    let mut lines = consumed.lines().filter(|l| l.contains(','));
    let header: Vec<&str> = lines.next()?.split(',').map(str::trim).collect();
    let row: Vec<&str> = lines.next()?.split(',').map(str::trim).collect();
    let at = header.iter().position(|h| *h == "fetch.nMsg.sec")?;
    let c = row.get(at)?.parse().ok()?;
    Some((p, c))
}
