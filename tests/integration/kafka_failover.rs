//! Failover on Apache Kafka: two replicas of a job in one consumer group, one killed
//! (SIGKILL) while it works; the group gives its partitions to the survivor, which scans
//! their outputs since the group's last commit before it runs their records (the recovery
//! scan, for partitions gained, not only at start): nothing lost, nothing repeated.

use std::time::{Duration, Instant};

use crate::kafka_generated::*;
use crate::kafka_support::*;
use crate::support::brokers;

#[test]
fn kafka_the_survivor_of_two_replicas_takes_the_partitions_of_the_killed_one() {
    let b = brokers();
    let (g, records) = generated_for(&b, "kfail");
    let mut random = random_from(g.seed);
    let mut log = format!("seed {}\n", g.seed);

    // The survivor, until idle: long enough to outlast the killed member's session (10 s),
    // after which the group gives it the partitions.
    let port_s = free_port();
    let mut survivor =
        start_preprocessor("pipelines/igot", &g.env, &b, &["--idle-exit", "40"], port_s);
    let port_v = free_port();
    let mut victim = start_preprocessor("pipelines/igot", &g.env, &b, &[], port_v);
    // Once the group has split the partitions between the two (both were given partitions,
    // the first to join twice: alone, then its half), the input; the victim is killed after a
    // random number of its records.
    let split = wait_split(port_s, port_v);
    produce(&b, &format!("{}.telemetry.raw", g.env), &records);
    let both = split && wait_consuming(port_s) && wait_consuming(port_v);
    let target = 1 + random(GENERATED as u64 / 4);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = 0;
    while both && seen < target && Instant::now() < deadline {
        seen = records_in(port_v).unwrap_or(seen);
        std::thread::sleep(Duration::from_millis(2));
    }
    victim.kill().expect("kill");
    let _ = victim.wait();
    log.push_str(&format!(
        "round 0: the victim killed after {seen} records (aimed at {target}); its log:\n"
    ));
    read_job_log(port_v, &mut log);
    assert!(
        both,
        "the two replicas did not both consume (split: {split}):\n{log}"
    );

    let ok = wait(&mut survivor, Duration::from_secs(600));
    let mut survivor_log = String::new();
    read_job_log(port_s, &mut survivor_log);
    log.push_str("--- the survivor:\n");
    log.push_str(&survivor_log);
    assert!(ok, "the survivor failed:\n{log}");
    // It was given partitions more than once (at start, and the victim's), and scanned the
    // outputs each time.
    let assigned = survivor_log.matches("partitions assigned").count();
    let scans = survivor_log.matches("recovery scan of the outputs").count();
    assert!(
        assigned >= 2 && scans >= 2,
        "assigned {assigned} times, {scans} scans:\n{survivor_log}"
    );
    log.push_str(&format!(
        "round 1: the survivor was assigned partitions {assigned} times and ran {scans} recovery scans\n"
    ));
    assert_nothing_lost(&Killed {
        brokers: b,
        env: g.env,
        embedded: g.embedded,
        log,
    });
}

/// Waits (up to 90 s) until the group has given partitions to both jobs served on the two
/// ports, and to one of them twice.
fn wait_split(a: u16, b: u16) -> bool {
    let assigned = |port: u16| {
        std::fs::read_to_string(job_log_path(port))
            .map_or(0, |l| l.matches("partitions assigned").count())
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        let (x, y) = (assigned(a), assigned(b));
        if x >= 1 && y >= 1 && x + y >= 3 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
