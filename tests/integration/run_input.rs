//! What `pipec run` reads: streams (FIFOs, process substitution, stdin), JSON arrays and
//! NDJSON named `.json`, read as they come with the bytes of each record kept, so that an
//! event's numbers come out as they went in.

use std::path::Path;
use std::process::{Command, Output};

use crate::run::show;
use crate::support::{root, scratch};

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// `pipec run` of the iGOT preprocessor on `input`, memory stores, into `out`.
fn preprocess(input: &str, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipec"))
        .args([
            "run",
            "pipelines/igot",
            "--job",
            "pipeline-preprocessor",
            "--topic",
            "raw",
            "--stores",
            "memory",
            "--no-backups",
            "--out",
            p(out),
            "--input",
            input,
        ])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("pipec runs")
}

const NUMBERS: &str = "18446744073709551616,1.0e-400,-0,1E2,-0.0,1e400";

/// An INTERACT event the preprocessor routes, carrying the issue's numbers.
fn event(mid: &str) -> String {
    format!(
        r#"{{"eid":"INTERACT","ets":1529499971358,"ver":"3.0","mid":"{mid}","actor":{{"id":"u","type":"User"}},"context":{{"channel":"c","pdata":{{"id":"dev.sunbird.portal","ver":"1"}},"env":"e","did":"d","sid":"s"}},"object":{{"id":"o","type":"Content"}},"edata":{{"type":"click","id":"x","pageid":"p","extra":{{"n":[{NUMBERS}]}}}}}}"#
    )
}

fn lines(out: &Path, topic: &str) -> Vec<String> {
    std::fs::read_to_string(out.join(format!("{topic}.ndjson")))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn numbers_and_keys_of_a_json_array_come_out_as_they_went_in() {
    let dir = scratch("run-input-numbers");
    let input = dir.join("events.json");
    // Pretty-printed, as a person writes a JSON file.
    std::fs::write(
        &input,
        format!("[\n  {},\n  {}\n]\n", event("m1"), event("m2")),
    )
    .expect("write input");
    let out = dir.join("out");
    let o = preprocess(p(&input), &out);
    assert!(o.status.success(), "{}", show(&o));
    let unique = lines(&out, "unique");
    assert_eq!(unique.len(), 2, "{}", show(&o));
    for l in unique.iter().chain(&lines(&out, "raw")) {
        assert!(
            l.contains(&format!("[{NUMBERS}]")),
            "numbers rewritten: {l}"
        );
    }
}

#[test]
fn ndjson_named_json_is_read_one_record_per_line_and_said_so() {
    let dir = scratch("run-input-ndjson-json");
    let input = dir.join("sunbird.json");
    std::fs::write(
        &input,
        format!("{}\n{}\nnot json\n", event("a"), event("b")),
    )
    .expect("write input");
    let out = dir.join("out");
    let o = preprocess(p(&input), &out);
    assert!(o.status.success(), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // Before: one record, the whole file, failed silently.
    assert!(stdout.contains("3 input records"), "{}", show(&o));
    assert_eq!(lines(&out, "unique").len(), 2, "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("read as NDJSON"), "{}", show(&o));
}

#[test]
fn fifos_and_process_substitution_are_inputs() {
    let dir = scratch("run-input-streams");
    let file = dir.join("events.ndjson");
    let text: String = (0..300).map(|i| event(&format!("s{i}")) + "\n").collect();
    std::fs::write(&file, text).expect("write input");
    // Process substitution: `/dev/fd/63` (before, "does not exist").
    let out = dir.join("out-procsub");
    let script = format!(
        "exec \"$0\" run pipelines/igot --job pipeline-preprocessor --topic raw --stores memory \
         --no-backups --out '{}' --input <(cat '{}')",
        p(&out),
        p(&file)
    );
    let o = Command::new("bash")
        .args(["-c", &script, env!("CARGO_BIN_EXE_pipec")])
        .current_dir(root())
        .output()
        .expect("bash runs");
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(lines(&out, "unique").len(), 300, "{}", show(&o));
    // A FIFO, written while pipec reads it.
    let fifo = dir.join("fifo");
    let _ = std::fs::remove_file(&fifo);
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let writer = {
        let (fifo, file) = (fifo.clone(), file.clone());
        std::thread::spawn(move || {
            let bytes = std::fs::read(&file).expect("input");
            std::fs::write(&fifo, bytes).expect("write the fifo");
        })
    };
    let out = dir.join("out-fifo");
    let o = preprocess(p(&fifo), &out);
    writer.join().expect("writer");
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(lines(&out, "unique").len(), 300, "{}", show(&o));
}

#[test]
fn a_malformed_array_stops_the_input_at_its_place_after_running_what_came_before() {
    let dir = scratch("run-input-malformed");
    let input = dir.join("broken.json");
    std::fs::write(
        &input,
        format!("[{},\n{} {}]", event("a"), event("b"), event("c")),
    )
    .expect("write input");
    let out = dir.join("out");
    let o = preprocess(p(&input), &out);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("broken.json:2:")
            && stderr.contains("expected `,` or `]` after element 2 of the top-level array")
            && stderr.contains("the 2 records before it ran"),
        "{}",
        show(&o)
    );
    assert_eq!(lines(&out, "unique").len(), 2, "{}", show(&o));
}

#[test]
fn records_that_are_no_events_reach_the_dead_letter_topic_whole() {
    let dir = scratch("run-input-non-objects");
    let input = dir.join("odd.ndjson");
    std::fs::write(&input, "42\n\"x\"\n[1,2]\n").expect("write input");
    let out = dir.join("out");
    let o = preprocess(p(&input), &out);
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(
        lines(&out, "failed"),
        ["42", "\"x\"", "[1,2]"],
        "{}",
        show(&o)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("3 record(s) set aside whole")
            && stdout.contains("not an event: the record is a number, not an object"),
        "{stdout}"
    );
}

/// `pipec run --now` fixes the clock the spec's `now_ms()` reads: the extractor stamps a
/// batch without `syncts` with that time, on every run, whatever the day.
#[test]
fn now_fixes_the_clock_of_the_run() {
    let dir = scratch("run-input-now");
    let out = dir.join("out");
    let batch = r#"{"id":"api.telemetry","mid":"b-1","params":{"msgid":"b-1"},"events":[{"eid":"START","ets":1718460000000,"mid":"s-1","ver":"3.0","actor":{"id":"u","type":"User"},"context":{"channel":"c","pdata":{"id":"p","ver":"1"},"env":"e","did":"d","sid":"s"},"edata":{"type":"app"}}]}"#;
    let input = dir.join("batch.ndjson");
    std::fs::write(&input, format!("{batch}\n")).expect("input");
    let run = |now: &str| {
        Command::new(env!("CARGO_BIN_EXE_pipec"))
            .args([
                "run",
                "pipelines/igot",
                "--job",
                "telemetry-extractor",
                "--topic",
                "ingest",
            ])
            .args(["--stores", "memory", "--no-backups", "--now", now])
            .args(["--out", p(&out), "--input", p(&input)])
            .current_dir(root())
            .env("NO_COLOR", "1")
            .output()
            .expect("pipec runs")
    };
    let o = run("2024-06-15T14:30:00Z");
    assert!(o.status.success(), "{}", show(&o));
    let raw = lines(&out, "raw");
    assert_eq!(raw.len(), 1, "{raw:?}");
    let e: serde_json::Value = serde_json::from_str(&raw[0]).expect("json");
    assert_eq!(e["syncts"], 1_718_461_800_000_i64, "{e}");
    assert_eq!(e["@timestamp"], "2024-06-15T14:30:00.000Z", "{e}");
    // Epoch milliseconds work too; a time that is none is a usage error that says so.
    let o = run("1718461800001");
    assert!(o.status.success(), "{}", show(&o));
    let e: serde_json::Value = serde_json::from_str(&lines(&out, "raw")[0]).expect("json");
    assert_eq!(e["syncts"], 1_718_461_800_001_i64, "{e}");
    let o = run("tomorrow");
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--now `tomorrow` is not epoch milliseconds"),
        "{err}"
    );
}
