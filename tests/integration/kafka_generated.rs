//! The generated stream of the kill, failover and fencing tests (Sunbird events with
//! duplicates and invalid ones, for a fresh environment, with what the embedded transport
//! writes for it), the kill-and-restart loop, brokers of a test's own, and the check that
//! every topic holds what the embedded run wrote.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::kafka_support::*;
use crate::support::{brokers, root, scratch, unique_env};

/// The generated stream of the kill tests: one event a record (as the extractor writes
/// `raw`), keyed by `mid` so that a duplicate is in its original's partition, behind it
/// (which copy comes first decides which is the duplicate); fresh `mid`s from the seed, so
/// Redis holds none of them yet; producers of the environment, whose events the spec dedups.
pub(crate) fn generated_raw(env: &str, seed: u64, n: usize) -> Vec<(Option<String>, Vec<u8>)> {
    let mut g = pipec_runtime::r#gen::Generator::new(pipec_runtime::r#gen::GenOptions {
        events_per_batch: n,
        duplicate_rate: 0.1,
        invalid_rate: 0.05,
        seed,
    });
    let mut batch = g.batch_value();
    let events = batch["events"].as_array_mut().expect("events");
    for e in events.iter_mut() {
        if let Some(id) = e.pointer_mut("/context/pdata/id")
            && let Some(rest) = id.as_str().and_then(|s| s.strip_prefix("dev."))
        {
            *id = Value::String(format!("{env}.{rest}"));
        }
    }
    events
        .iter()
        .map(|e| {
            (
                e["mid"].as_str().map(str::to_owned),
                serde_json::to_vec(e).expect("json"),
            )
        })
        .collect()
}

/// Events in the generated stream of the kill tests: enough that the job (about 1,000 a
/// second here, debug build) is still at work at every kill.
pub(crate) const GENERATED: usize = 3000;

/// What the kill test saw: the embedded outputs and the Kafka run's log.
pub(crate) struct Killed {
    pub(crate) brokers: String,
    pub(crate) env: String,
    pub(crate) embedded: std::path::PathBuf,
    pub(crate) log: String,
}

/// A generated stream on the broker, in the raw topic of a fresh environment, with what the
/// embedded transport writes for it.
pub(crate) struct Generated {
    pub(crate) env: String,
    pub(crate) embedded: std::path::PathBuf,
    pub(crate) seed: u64,
}

/// Creates igot's topics for a fresh environment on `b`, produces `GENERATED` events to
/// its raw topic and runs igot's preprocessor on them on the embedded transport.
pub(crate) fn generated_on(b: &str, tag: &str) -> Generated {
    let (g, records) = generated_for(b, tag);
    produce(b, &format!("{}.telemetry.raw", g.env), &records);
    g
}

/// Records with their keys, to produce.
pub(crate) type Keyed = Vec<(Option<String>, Vec<u8>)>;

/// [`generated_on`] without producing the records: they are given back.
pub(crate) fn generated_for(b: &str, tag: &str) -> (Generated, Keyed) {
    let env = unique_env(tag);
    let dir = scratch(&format!("kafka-kill-{env}"));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    apply_topics(b, &env);
    let records = generated_raw(&env, seed, GENERATED);
    let input = dir.join("raw.ndjson");
    let text: Vec<String> = records
        .iter()
        .map(|(_, r)| String::from_utf8_lossy(r).into_owned())
        .collect();
    std::fs::write(&input, text.join("\n") + "\n").expect("input");
    let embedded = dir.join("embedded");
    // igot itself: a copy of it may keep a snapshot, which this run would write.
    run_embedded(
        "pipelines/igot",
        &env,
        &input,
        &["--topic", "raw", "--job", "pipeline-preprocessor"],
        &embedded,
    );
    let g = Generated {
        env,
        embedded,
        seed,
    };
    (g, records)
}

/// xorshift64 from `seed`: `random(n)` in `0..n`.
pub(crate) fn random_from(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut rng = seed | 1;
    move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    }
}

/// Runs the preprocessor of `spec` (igot, or a copy with other stores) on a generated
/// stream, kills its process (SIGKILL) `PIPEC_TEST_KILLS` times (3) at a random moment while
/// it consumes, restarting it each time, then runs it until idle. Also runs igot's on the
/// embedded transport on the same input, for what every topic must hold.
pub(crate) fn kill_and_restart(spec: &str, tag: &str, extra: &[&str]) -> Killed {
    let b = brokers();
    let g = generated_on(&b, tag);
    let mut random = random_from(g.seed);
    let mut log = format!("seed {}\n", g.seed);
    let kills: usize = std::env::var("PIPEC_TEST_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(3);
    for round in 0..kills {
        // Started again at once: the group rebalances when the killed member's session (10 s)
        // has run out, and gives the new member every partition.
        let port = free_port();
        let mut child = start_preprocessor(spec, &g.env, &b, extra, port);
        let consuming = wait_consuming(port);
        // Kill it once it has consumed a random number of records, under a third of the
        // input: so every round has records left to consume, however fast the job (a kill at
        // a random time after it began consuming found it done in another round, all
        // committed, and the next start had nothing to read).
        let target = 1 + random(GENERATED as u64 / 3 - 1);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = 0;
        while consuming && seen < target && Instant::now() < deadline {
            seen = records_in(port).unwrap_or(seen);
            std::thread::sleep(Duration::from_millis(2));
        }
        // `Child::kill` is SIGKILL on Unix.
        child.kill().expect("kill");
        let _ = child.wait();
        log.push_str(&format!(
            "round {round}: consuming {consuming}, killed after {seen} records (aimed at {target}); its log:\n"
        ));
        read_job_log(port, &mut log);
        assert!(consuming, "the job did not start consuming:\n{log}");
    }
    let mut args = extra.to_vec();
    args.extend(["--idle-exit", "20"]);
    let port = free_port();
    let mut child = start_preprocessor(spec, &g.env, &b, &args, port);
    let ok = wait(&mut child, Duration::from_secs(600));
    read_job_log(port, &mut log);
    assert!(ok, "the last run failed:\n{log}");
    Killed {
        brokers: b,
        env: g.env,
        embedded: g.embedded,
        log,
    }
}

/// An Apache Kafka broker of the test's own (`scripts/kafka-broker`), on ports of its own,
/// its data in a scratch directory, so that it can be killed and started again with what it
/// held.
pub(crate) struct OwnBroker {
    pub(crate) port: u16,
    pub(crate) controller_port: u16,
    /// Its directory: data, `server.properties`, `kafka.log`.
    pub(crate) dir: std::path::PathBuf,
}

impl OwnBroker {
    pub(crate) fn start(name: &str) -> OwnBroker {
        let mut b = OwnBroker {
            port: free_port(),
            controller_port: free_port(),
            dir: scratch(&format!("own-broker-{name}")),
        };
        b.restart();
        b
    }

    pub(crate) fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `scripts/kafka-broker ARGS --dir DIR`, which must succeed.
    pub(crate) fn script(&self, args: &[&str]) {
        let o = Command::new(root().join("scripts/kafka-broker"))
            .args(args)
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .output()
            .expect("run scripts/kafka-broker");
        assert!(
            o.status.success(),
            "scripts/kafka-broker {args:?} failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// Starts the broker (again) on its ports and data; returns once it answers.
    pub(crate) fn restart(&mut self) {
        let (port, controller) = (self.port.to_string(), self.controller_port.to_string());
        self.script(&[
            "start",
            "--port",
            &port,
            "--controller-port",
            &controller,
            "--heap",
            "512m",
        ]);
    }

    /// Kills the broker with SIGKILL (what it had stored stays in its directory).
    pub(crate) fn kill(&mut self) {
        self.script(&["kill"]);
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(self.dir.join("data"));
    }
}

/// Every topic holds exactly what the embedded run wrote to it: nothing lost, no event taken
/// for a duplicate of itself, nothing twice — the restarted job found the outputs stored
/// before a kill and did not produce them again (what it skipped is printed).
pub(crate) fn assert_nothing_lost(k: &Killed) {
    let skipped: u64 = k
        .log
        .lines()
        .filter(|l| l.contains("not produced again"))
        .filter_map(|l| {
            l.split("skipped=")
                .nth(1)
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum();
    let compared = same_on_kafka(&k.brokers, &k.env, &k.embedded, &k.log);
    let nonempty: BTreeMap<&String, &usize> = compared.iter().filter(|(_, n)| **n > 0).collect();
    let rounds: Vec<&str> = k
        .log
        .lines()
        .filter(|l| l.starts_with("round ") || l.starts_with("broker killed"))
        .collect();
    eprintln!(
        "{}\n{nonempty:?}; outputs already stored and not produced again after restarts: {skipped}",
        rounds.join("\n")
    );
    assert!(
        compared["unique"] > GENERATED * 3 / 4
            && compared["duplicate"] > GENERATED / 25
            && compared["failed"] > GENERATED / 60,
        "{compared:?}"
    );
}
