//! The batch stage end to end, through the binary: `pipec check` places a report's SQL
//! mistakes, `pipec run` writes backups that the workflow summary reads back and that
//! `--from-backup` replays, and every command of the crontab `pipec compile` writes for
//! igot runs and succeeds against the real PostgreSQL (the warehouse fixtures loaded) and
//! the real Kafka broker.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{brokers, copy_dir, igot_one_replica, pipec, root, scratch, unique_env};

/// `pipec` in `dir`, with the given environment.
fn pipec_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pipec"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PIPEC_ENV")
        .env_remove("PIPEC_DATA_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("pipec runs")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn today() -> String {
    let out = Command::new("date")
        .args(["-u", "+%F"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn day_after(d: &str) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("{d} + 1 day"), "+%F"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn check_places_a_misspelt_column_of_a_reports_sql() {
    let dir = scratch("sql-typo");
    copy_dir(&root().join("pipelines/igot"), &dir);
    let sql = dir.join("sql/user_enrolment_report.sql");
    let text_before = std::fs::read_to_string(&sql).expect("sql");
    // Where `e.enrolled_on` is first used, outside comments: the line and column the
    // diagnostic must give.
    let (line, col) = text_before
        .lines()
        .enumerate()
        .find_map(|(i, l)| {
            let code = l.split("--").next().unwrap_or("");
            code.find("e.enrolled_on").map(|c| (i + 1, c + 1))
        })
        .expect("the SQL uses e.enrolled_on");
    std::fs::write(
        &sql,
        text_before.replacen("e.enrolled_on", "e.enroled_on", 1),
    )
    .expect("write");
    let out = pipec(&["check", &dir.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PC0805"), "{err}");
    assert!(
        err.contains(&format!("sql/user_enrolment_report.sql:{line}:{col}")),
        "wanted the typo placed at {line}:{col}:\n{err}"
    );
    assert!(
        err.contains("enrolled_on"),
        "a did-you-mean names the column:\n{err}"
    );
    // The same spec compiles to nothing while the SQL is wrong.
    let out_dir = dir.join("out");
    let compiled = pipec(&[
        "compile",
        &dir.to_string_lossy(),
        "--out",
        &out_dir.to_string_lossy(),
    ]);
    assert_eq!(compiled.status.code(), Some(1), "{}", text(&compiled));
    assert!(!out_dir.join("manifest.json").exists());
}

#[test]
fn backups_written_by_run_are_read_by_the_workflow_summary_and_replayed() {
    let dir = scratch("backup-wfs");
    let spec = root().join("pipelines/igot");
    let spec = spec.to_string_lossy();
    let input = root().join("pipelines/igot/tests/fixtures/wfs/test-data1.log");
    // test-data1's events are unique telemetry already: they go straight to `unique`.
    let run = pipec_in(
        &dir,
        &[
            "run",
            &spec,
            "--input",
            &input.to_string_lossy(),
            "--topic",
            "unique",
            "--stores",
            "memory",
            "--data-dir",
            "data",
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let events = lines(&input)
        .iter()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert!(
        stdout.contains(&format!("backup unique: {events} record(s) in 1 file(s)")),
        "{stdout}"
    );
    // Backups go to the folder of the day the records were written (no time field).
    let day = today();
    let folder = dir.join("data/backups/telemetry.unique").join(&day);
    let files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("the day's folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one visible file, no hidden leftovers: {files:?}"
    );
    assert_eq!(lines(&files[0]).len(), events);

    // The workflow summary of the next day reads yesterday's backup.
    let date = day_after(&day);
    let report = |out: &str| {
        pipec_in(
            &dir,
            &[
                "report",
                "workflow-summary",
                &spec,
                "--date",
                &date,
                "--data-dir",
                "data",
                "--out",
                out,
                "--now",
                "2024-06-15",
            ],
            &[],
        )
    };
    let first = report("out1");
    assert!(first.status.success(), "{}", text(&first));
    let err = text(&first);
    let read = err.lines().any(|l| {
        l.trim_start().starts_with("read")
            && l.contains(" events ")
            && l.contains(&format!(" {events} rows"))
    });
    assert!(
        read,
        "the summary says every backed-up event was read: {err}"
    );
    let summaries = lines(&dir.join("out1/derived.ndjson"));
    assert!(!summaries.is_empty(), "{err}");
    for s in &summaries {
        let v: serde_json::Value = serde_json::from_str(s).expect("json");
        assert_eq!(v["eid"], "ME_WORKFLOW_SUMMARY", "{s}");
    }
    // A rerun of the date gives the same events, so the same mids (downstream dedup
    // drops the repeats).
    let second = report("out2");
    assert!(second.status.success(), "{}", text(&second));
    assert_eq!(summaries, lines(&dir.join("out2/derived.ndjson")));

    // A replay of the stored day through the stream jobs reading `unique`, which does not
    // write the backup it reads again.
    let replay = pipec_in(
        &dir,
        &[
            "run",
            &spec,
            "--from-backup",
            "unique",
            "--date",
            &day,
            "--stores",
            "memory",
            "--data-dir",
            "data",
            "--out",
            "replay",
        ],
        &[],
    );
    assert!(replay.status.success(), "{}", text(&replay));
    let stdout = String::from_utf8_lossy(&replay.stdout);
    assert!(
        stdout.contains(&format!("{events} input records")),
        "{stdout}"
    );
    assert!(!stdout.contains("backup unique:"), "{stdout}");
    assert_eq!(std::fs::read_dir(&folder).expect("folder").count(), 1);
    let missing = pipec_in(
        &dir,
        &[
            "run",
            &spec,
            "--from-backup",
            "unique",
            "--date",
            "2001-01-01",
            "--data-dir",
            "data",
        ],
        &[],
    );
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no files for 2001-01-01"),
        "{}",
        text(&missing)
    );
}

/// The test database server: `PIPEC_TEST_POSTGRES` names a database on it (scripts/test
/// starts the server and sets it).
fn postgres() -> String {
    std::env::var("PIPEC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://pipec:pipec@127.0.0.1:5432/pipec_test".into())
}

/// `url` without its password, and the password (empty when it has none): specs take a
/// database's password from a variable (`password: { secret, key, env }`), never from the URL.
fn without_password(url: &str) -> (String, String) {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, pw)) = userinfo.split_once(':')
    {
        return (format!("{scheme}://{user}@{host}"), pw.to_string());
    }
    (url.to_string(), String::new())
}

fn psql(url: &str, args: &[&str]) {
    let out = Command::new("psql")
        .arg(url)
        .args(["-q", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .output()
        .expect("psql runs (scripts/test installs PostgreSQL)");
    assert!(out.status.success(), "psql {args:?}: {}", text(&out));
}

/// A fresh database on the test server with the warehouse DDL and fixtures loaded; its URL.
fn warehouse(name: &str) -> String {
    let admin = postgres();
    psql(&admin, &["-c", &format!("DROP DATABASE IF EXISTS {name}")]);
    psql(&admin, &["-c", &format!("CREATE DATABASE {name}")]);
    let url = match admin.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("PIPEC_TEST_POSTGRES is not a URL: {admin}"),
    };
    let igot = root().join("pipelines/igot");
    psql(
        &url,
        &[
            "-f",
            &igot.join("sql/warehouse-schema.sql").to_string_lossy(),
        ],
    );
    for table in ["org_hierarchy", "user_detail", "content", "user_enrolments"] {
        let csv = igot.join(format!("tests/fixtures/warehouse/{table}.csv"));
        let header = lines(&csv).first().cloned().expect("a header");
        psql(
            &url,
            &[
                "-c",
                &format!(
                    "\\copy {table} ({header}) FROM '{}' WITH (FORMAT csv, HEADER true)",
                    csv.display()
                ),
            ],
        );
    }
    url
}

/// Rows of a CSV without the column that holds the run's clock.
fn rows_without_clock(p: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let clock = header.iter().position(|h| h == "Report_Last_Generated_On");
    let mut rows = vec![header.clone()];
    for rec in r.records() {
        let rec = rec.expect("record");
        rows.push(
            rec.iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != clock)
                .map(|(_, v)| v.to_owned())
                .collect(),
        );
    }
    if let Some(c) = clock {
        rows[0].remove(c);
    }
    rows
}

#[test]
fn every_crontab_command_runs_on_compiled_igot() {
    let env = unique_env("cron");
    let spec = igot_one_replica(&format!("cron-{env}"));
    let dir = spec.join("run");
    std::fs::create_dir_all(&dir).expect("dir");
    let b = brokers();
    let db = format!("warehouse_{}", std::process::id());
    let url = warehouse(&db);
    let (url_no_pw, pw) = without_password(&url);
    let compiled = pipec_in(
        &dir,
        &[
            "compile",
            &spec.to_string_lossy(),
            "--env",
            &env,
            "--out",
            "compiled",
        ],
        &[("WAREHOUSE_URL", &url_no_pw), ("WAREHOUSE_PASSWORD", &pw)],
    );
    assert!(compiled.status.success(), "{}", text(&compiled));
    // The workflow summary writes `derived` on Kafka: the topics exist first.
    let applied = pipec(&[
        "apply",
        &spec.to_string_lossy(),
        "--env",
        &env,
        "--brokers",
        &b,
    ]);
    assert!(applied.status.success(), "{}", text(&applied));

    // A day of unique events in yesterday's backup folder, as `pipec run` writes it.
    let day = today();
    let yesterday = {
        let out = Command::new("date")
            .args(["-u", "-d", &format!("{day} - 1 day"), "+%F"])
            .output()
            .expect("date");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let backup = dir.join("data/backups/telemetry.unique").join(&yesterday);
    std::fs::create_dir_all(&backup).expect("backup dir");
    std::fs::copy(
        root().join("pipelines/igot/tests/fixtures/wfs/test-data3.log"),
        backup.join("part-test-1.ndjson"),
    )
    .expect("copy");

    let crontab = std::fs::read_to_string(dir.join("compiled/cron/crontab")).expect("crontab");
    let commands: Vec<String> = crontab
        .lines()
        .filter(|l| l.contains("pipec report"))
        .map(|l| {
            // The command cron hands to sh: from `pipec` to the log redirection, with
            // cron's `\%` as `%`.
            let start = l.find("pipec report").expect("command");
            let end = l.find(" >> ").expect("log redirection");
            l[start..end].replace("\\%", "%")
        })
        .collect();
    assert_eq!(commands.len(), 4, "{crontab}");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_pipec"))
        .parent()
        .expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cluster_var = "PIPEC_BROKERS_PROCESSING";
    for cmd in &commands {
        let out = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&dir)
            .env("PATH", &path)
            .env("PIPEC_MANIFEST", dir.join("compiled/manifest.json"))
            .env("PIPEC_DATA_DIR", dir.join("data"))
            .env(cluster_var, &b)
            .env("WAREHOUSE_PASSWORD", &pw)
            .env("NO_COLOR", "1")
            .output()
            .expect("sh");
        assert!(out.status.success(), "`{cmd}`: {}", text(&out));
    }
    assert!(
        commands
            .iter()
            .any(|c| c.contains("workflow-summary") && c.contains("--kafka")),
        "{commands:?}"
    );

    // The three SQL reports read the warehouse in PostgreSQL and wrote one CSV per MDO:
    // the fixtures' expected files, but for the run's clock.
    let expected = root().join("pipelines/igot/tests/fixtures/warehouse/expected");
    for (report, folder) in [
        ("user-report", "user-report"),
        ("user-enrolment-report", "user-enrollment-report"),
        ("course-report", "course-report"),
    ] {
        let written = dir.join("data/reports").join(folder).join(&day);
        let mut got: Vec<String> = std::fs::read_dir(&written)
            .unwrap_or_else(|e| panic!("{}: {e}", written.display()))
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        got.sort();
        let mut want: Vec<String> = std::fs::read_dir(expected.join(report))
            .expect("expected")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        want.sort();
        assert_eq!(got, want, "{report}: one file per MDO");
        for f in &want {
            assert_eq!(
                rows_without_clock(&written.join(f)),
                rows_without_clock(&expected.join(report).join(f)),
                "{report}/{f}"
            );
        }
    }
    psql(
        &postgres(),
        &["-c", &format!("DROP DATABASE IF EXISTS {db}")],
    );
}

/// Records in the visible files of a backup folder tree, and the hidden files left.
fn backup_contents(dir: &Path) -> (Vec<String>, Vec<PathBuf>) {
    let mut records = Vec::new();
    let mut hidden = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                hidden.push(p);
            } else {
                records.extend(lines(&p));
            }
        }
    }
    records.sort();
    (records, hidden)
}

#[test]
fn a_kafka_backup_killed_and_restarted_writes_every_record_once() {
    use rdkafka::ClientConfig;
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

    let b = brokers();
    let env = unique_env("bk");
    let spec = igot_one_replica(&format!("backup-{env}"));
    // Small files, so that the run commits many times and a kill lands between commits.
    let batch = spec.join("batch.yaml");
    let yaml = std::fs::read_to_string(&batch).expect("batch.yaml");
    let small = "partition: daily, roll: { size: 16KiB, age: 1s } }";
    assert!(yaml.contains("partition: daily }"), "igot's backup changed");
    std::fs::write(&batch, yaml.replacen("partition: daily }", small, 1)).expect("write");
    let s = spec.to_string_lossy().to_string();
    let applied = pipec(&["apply", &s, "--env", &env, "--brokers", &b]);
    assert!(applied.status.success(), "{}", text(&applied));

    let n: usize = 20_000;
    let sent: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"eid":"INTERACT","mid":"bk-{i:06}","ets":{}}}"#,
                1_700_000_000_000_u64 + i as u64
            )
        })
        .collect();
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &b)
        .create()
        .expect("producer");
    let topic = format!("{env}.telemetry.unique");
    for (i, r) in sent.iter().enumerate() {
        let key = format!("k{}", i % 7);
        let mut rec = Some(BaseRecord::to(&topic).payload(r.as_str()).key(key.as_str()));
        while let Some(x) = rec.take() {
            if let Err((_, back)) = p.send(x) {
                p.poll(std::time::Duration::from_millis(50));
                rec = Some(back);
            }
        }
    }
    p.flush(std::time::Duration::from_secs(30)).expect("flush");

    let dir = spec.join("run");
    std::fs::create_dir_all(&dir).expect("dir");
    let args = |idle: &str| -> Vec<String> {
        [
            "run",
            &s,
            "--kafka",
            "--env",
            &env,
            "--brokers",
            &b,
            "--backup",
            "unique",
            "--data-dir",
            "data",
            "--instance",
            "w1",
            "--idle-exit",
            idle,
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    // Killed once partway through...
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipec"))
        .args(args("30"))
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("first.log")).expect("log"))
        .spawn()
        .expect("spawn");
    let backup = dir.join("data/backups/telemetry.unique");
    let started = std::time::Instant::now();
    while backup_contents(&backup).0.len() < n / 4 && started.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let partial = backup_contents(&backup).0.len();
    assert!(
        partial > 0 && partial < n,
        "killed after {partial} records were backed up"
    );
    // ... then run to the end.
    let done = pipec_in(
        &dir,
        &args("4").iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    );
    assert!(done.status.success(), "{}", text(&done));
    let (mut got, hidden) = backup_contents(&backup);
    let logs = format!(
        "first run:\n{}\nsecond run:\n{}",
        std::fs::read_to_string(dir.join("first.log")).unwrap_or_default(),
        text(&done)
    );
    assert!(hidden.is_empty(), "hidden files left: {hidden:?}\n{logs}");
    got.dedup();
    let (all, _) = backup_contents(&backup);
    assert_eq!(
        all.len(),
        got.len(),
        "a record is in two visible files\n{logs}"
    );
    let mut want = sent.clone();
    want.sort();
    assert_eq!(got.len(), want.len(), "records lost\n{logs}");
    assert_eq!(got, want);
}

#[test]
fn a_table_output_replaces_the_dates_rows_in_postgres_and_a_table_input_reads_them_back() {
    let dir = scratch("pg-table");
    copy_dir(&root().join("examples/quickstart"), &dir);
    let db = format!("pgtable_{}", std::process::id());
    let admin = postgres();
    psql(&admin, &["-c", &format!("DROP DATABASE IF EXISTS {db}")]);
    psql(&admin, &["-c", &format!("CREATE DATABASE {db}")]);
    let url = format!("{}/{db}", admin.rsplit_once('/').expect("a URL").0);
    let ddl = "CREATE TABLE page_views(day DATE, page VARCHAR(255), views BIGINT);\n";
    std::fs::write(dir.join("dw.sql"), ddl).expect("ddl");
    psql(&url, &["-c", ddl]);
    // A row of another day that the run must leave alone, and a stale row of its own day
    // that it must replace.
    psql(
        &url,
        &[
            "-c",
            "INSERT INTO page_views VALUES ('2024-11-20', '/old', 7), ('2024-11-28', '/stale', 99)",
        ],
    );
    std::fs::write(
        dir.join("sql/page_views.sql"),
        "-- `day` is left out: pipec fills in the run's date.\nSELECT page, count(*) AS views\nFROM events\nWHERE eid = 'PAGE_VIEW'\nGROUP BY page\n",
    )
    .expect("sql");
    std::fs::write(
        dir.join("sql/top_pages.sql"),
        "SELECT page, views FROM page_views WHERE views > 1 ORDER BY views DESC\n",
    )
    .expect("sql");
    let spec = dir.join("pipeline.yaml");
    let mut yaml = std::fs::read_to_string(&spec).expect("yaml");
    yaml = yaml.replacen(
        "reports:\n",
        "databases:\n  dw: { postgres: \"${DW_URL}\", ddl: dw.sql, password: { secret: dw, key: password, env: DW_PASSWORD } }\n\nreports:\n  page-views:\n    schedule: \"0 6 * * *\"\n    sql: sql/page_views.sql\n    inputs:\n      events: { backup: unique, date: yesterday }\n    outputs:\n      counts: { table: dw.page_views, date_column: day }\n  top-pages:\n    schedule: \"0 7 * * *\"\n    sql: sql/top_pages.sql\n    inputs:\n      page_views: { table: dw.page_views }\n    outputs:\n      top: { path: \"top/{date}/\", format: ndjson }\n",
        1,
    );
    std::fs::write(&spec, yaml).expect("yaml");
    // The day's backup: three views of /a, one of /b, and a click.
    let backup = dir.join("data/backups/unique/2024-11-27");
    std::fs::create_dir_all(&backup).expect("dir");
    let events = [
        ("PAGE_VIEW", "/a"),
        ("PAGE_VIEW", "/b"),
        ("CLICK", "/a"),
        ("PAGE_VIEW", "/a"),
        ("PAGE_VIEW", "/a"),
    ];
    let ndjson: String = events
        .iter()
        .enumerate()
        .map(|(i, (eid, page))| {
            format!("{{\"eid\":\"{eid}\",\"mid\":\"m-{i}\",\"ets\":1732700000000,\"channel\":\"web\",\"page\":\"{page}\"}}\n")
        })
        .collect();
    std::fs::write(backup.join("part-1.ndjson"), ndjson).expect("backup");
    let views_in_sample = 4;
    let (url_no_pw, pw) = without_password(&url);
    let envs = [("DW_URL", url_no_pw.as_str()), ("DW_PASSWORD", pw.as_str())];
    let check = pipec_in(&dir, &["check", "."], &envs);
    assert!(check.status.success(), "{}", text(&check));
    let table = || -> Vec<String> {
        let out = Command::new("psql")
            .arg(&url)
            .args([
                "-tA",
                "-c",
                "SELECT day, page, views FROM page_views ORDER BY day, page",
            ])
            .output()
            .expect("psql");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    };
    for _ in 0..2 {
        // Twice: a rerun of the date replaces its rows, it does not add to them.
        let run = pipec_in(
            &dir,
            &[
                "report",
                "page-views",
                ".",
                "--date",
                "2024-11-28",
                "--data-dir",
                "data",
                "--json",
            ],
            &envs,
        );
        assert!(run.status.success(), "{}", text(&run));
        let summary: serde_json::Value =
            serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&run)));
        assert_eq!(
            summary[0]["inputs"][0]["rows"].as_u64(),
            Some(events.len() as u64),
            "rows read from the backup: {summary}"
        );
        let rows = table();
        assert_eq!(
            rows.first().map(String::as_str),
            Some("2024-11-20|/old|7"),
            "{rows:?}"
        );
        assert!(!rows.iter().any(|r| r.contains("/stale")), "{rows:?}");
        let total: u64 = rows
            .iter()
            .filter(|r| r.starts_with("2024-11-28|"))
            .map(|r| {
                r.rsplit('|')
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .expect("views")
            })
            .sum();
        assert_eq!(total, views_in_sample as u64, "{rows:?}");
    }
    // A report reading the table back: the filter `views > 1` is pushed down to Postgres.
    let top = pipec_in(
        &dir,
        &[
            "report",
            "top-pages",
            ".",
            "--date",
            "2024-11-28",
            "--data-dir",
            "data",
            "--json",
        ],
        &envs,
    );
    assert!(top.status.success(), "{}", text(&top));
    let summary: serde_json::Value =
        serde_json::from_slice(&top.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&top)));
    let read = summary[0]["inputs"][0]["rows"].as_u64().expect("rows read");
    let written = lines(&dir.join("data/top/2024-11-28/top-pages-top.ndjson"));
    let want = table()
        .iter()
        .filter(|r| {
            r.rsplit('|')
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| n > 1)
        })
        .count();
    assert_eq!(written.len(), want, "{written:?}");
    // Postgres sent only the rows the filter keeps.
    assert_eq!(read, want as u64, "{summary}");
    assert!(table().len() > want, "the filter drops rows");
    psql(&admin, &["-c", &format!("DROP DATABASE IF EXISTS {db}")]);
}

/// The S3-compatible server of the tests (`PIPEC_TEST_S3`; scripts/test starts moto there).
fn s3() -> String {
    std::env::var("PIPEC_TEST_S3").unwrap_or_else(|_| "http://127.0.0.1:5055".into())
}

#[test]
fn backups_and_reports_on_an_s3_data_root() {
    let endpoint = s3();
    let bucket = format!("pipec-{}", std::process::id());
    // moto takes a bucket from a bare PUT.
    let made = Command::new("curl")
        .args(["-sf", "-X", "PUT", &format!("{endpoint}/{bucket}")])
        .output()
        .expect("curl");
    assert!(
        made.status.success(),
        "creating bucket at {endpoint}: {}",
        text(&made)
    );
    let dir = scratch("s3");
    let spec = root().join("pipelines/igot");
    let spec = spec.to_string_lossy();
    let root_url = format!("s3://{bucket}/data");
    let env = [
        ("AWS_ENDPOINT", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let input = root().join("pipelines/igot/tests/fixtures/wfs/test-data2.log");
    let events = lines(&input)
        .iter()
        .filter(|l| !l.trim().is_empty())
        .count();
    let run = pipec_in(
        &dir,
        &[
            "run",
            &spec,
            "--input",
            &input.to_string_lossy(),
            "--topic",
            "unique",
            "--stores",
            "memory",
            "--data-dir",
            &root_url,
        ],
        &env,
    );
    assert!(run.status.success(), "{}", text(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("backup unique: {events} record(s)")),
        "{stdout}"
    );
    // The object is in the bucket under the backup's dated folder, and nothing else is.
    let listed = Command::new("curl")
        .args(["-sf", &format!("{endpoint}/{bucket}?list-type=2")])
        .output()
        .expect("curl");
    let listing = String::from_utf8_lossy(&listed.stdout);
    let keys: Vec<&str> = listing
        .split("<Key>")
        .skip(1)
        .filter_map(|k| k.split("</Key>").next())
        .collect();
    let day = today();
    assert_eq!(keys.len(), 1, "{listing}");
    assert!(
        keys[0].starts_with(&format!("data/backups/telemetry.unique/{day}/part-")),
        "{keys:?}"
    );
    assert!(!dir.join("out/data").exists(), "nothing written locally");
    // The workflow summary reads it back from the bucket.
    let report = pipec_in(
        &dir,
        &[
            "report",
            "workflow-summary",
            &spec,
            "--date",
            &day_after(&day),
            "--data-dir",
            &root_url,
            "--json",
        ],
        &env,
    );
    assert!(report.status.success(), "{}", text(&report));
    let summary: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json");
    assert_eq!(
        summary[0]["inputs"][0]["rows"].as_u64(),
        Some(events as u64),
        "{summary}"
    );
    assert!(
        summary[0]["outputs"][0]["rows"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{summary}"
    );
}
