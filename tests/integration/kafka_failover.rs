//! Failover on Apache Kafka: two replicas of a job in one consumer group, one killed
//! (SIGKILL) while it works; the group gives its partitions to the survivor, which scans
//! their outputs since the group's last commit before it runs their records (the recovery
//! scan, for partitions gained, not only at start): nothing lost, nothing repeated. And
//! scaling up from one replica to three while it works.

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
    // It was given partitions more than once (at start, and the victim's) and looked at the
    // outputs each time: at start the group had no commit, so nothing to scan; the victim's
    // partitions had commits (at least the start points), so their outputs were scanned.
    let assigned = survivor_log.matches("partitions assigned").count();
    let scans = survivor_log.matches("recovery scan of the outputs").count();
    let skipped = survivor_log.matches("no recovery scan").count();
    assert!(
        assigned >= 2 && scans >= 1 && scans + skipped >= 2,
        "assigned {assigned} times, {scans} scans, {skipped} skipped:\n{survivor_log}"
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

/// Scaling up while the job runs: one replica at work on the first half of the stream, two
/// more started in its consumer group; once the group has given each of them partitions,
/// the second half. The first replica gives up partitions it was working on (what it had
/// written and not committed is found by the recovery scan of whoever gains them), the new
/// ones take records: every output equals the embedded run's.
#[test]
fn kafka_scaling_from_one_to_three_replicas_while_it_runs_loses_nothing() {
    let b = brokers();
    let (g, records) = generated_for(&b, "kscale");
    let mut log = format!("seed {}\n", g.seed);
    let raw = format!("{}.telemetry.raw", g.env);
    let (first_half, second_half) = records.split_at(records.len() / 2);

    let port1 = free_port();
    let mut first = start_preprocessor("pipelines/igot", &g.env, &b, &["--idle-exit", "40"], port1);
    produce(&b, &raw, first_half);
    let consuming = wait_consuming(port1);
    let done_before = records_in(port1).unwrap_or(0);
    let (port2, port3) = (free_port(), free_port());
    let mut second =
        start_preprocessor("pipelines/igot", &g.env, &b, &["--idle-exit", "40"], port2);
    let mut third = start_preprocessor("pipelines/igot", &g.env, &b, &["--idle-exit", "40"], port3);
    let assigned = |port: u16| {
        std::fs::read_to_string(job_log_path(port))
            .map_or(0, |l| l.matches("partitions assigned").count())
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while (assigned(port2) == 0 || assigned(port3) == 0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let joined = assigned(port2) > 0 && assigned(port3) > 0;
    let done_at_join = records_in(port1).unwrap_or(0);
    produce(&b, &raw, second_half);
    log.push_str(&format!(
        "the first replica had consumed {done_before} records when the others started, \
         {done_at_join} when both had partitions\n"
    ));
    // What the new replicas consume, read while they run (they exit when idle).
    let mut took = [0u64; 2];
    let started = Instant::now();
    let mut exited = [None, None, None];
    while exited.iter().any(Option::is_none) && started.elapsed() < Duration::from_secs(600) {
        for (i, port) in [port2, port3].into_iter().enumerate() {
            took[i] = took[i].max(records_in(port).unwrap_or(0));
        }
        for (i, child) in [&mut first, &mut second, &mut third]
            .into_iter()
            .enumerate()
        {
            if exited[i].is_none()
                && let Ok(Some(status)) = child.try_wait()
            {
                exited[i] = Some(status.success());
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for (i, port) in [port1, port2, port3].into_iter().enumerate() {
        log.push_str(&format!("--- replica {}:\n", i + 1));
        read_job_log(port, &mut log);
    }
    for child in [&mut first, &mut second, &mut third] {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        consuming && joined,
        "the replicas did not all start (first consuming: {consuming}, both joined: {joined}):\n{log}"
    );
    assert_eq!(
        exited,
        [Some(true); 3],
        "a replica failed or did not finish:\n{log}"
    );
    assert!(
        took.iter().all(|&n| n > 0),
        "the new replicas consumed {took:?} records: the group did not share the work:\n{log}"
    );
    log.push_str(&format!("the new replicas consumed {took:?} records\n"));
    assert_nothing_lost(&Killed {
        brokers: b,
        env: g.env,
        embedded: g.embedded,
        log,
    });
}
