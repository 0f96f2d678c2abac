use super::*;

/// The records of `text` read as a source named `name`, and the notes.
fn read(name: &str, text: &str) -> (Vec<Result<String, String>>, Vec<String>) {
    read_bytes(name, text.as_bytes())
}

fn read_bytes(name: &str, bytes: &[u8]) -> (Vec<Result<String, String>>, Vec<String>) {
    let (recs, notes) = split(name, bytes.to_vec());
    let recs = recs
        .into_iter()
        .map(|r| r.map(|b| String::from_utf8_lossy(&b).into_owned()))
        .collect();
    (recs, notes)
}

fn ok(v: &[&str]) -> Vec<Result<String, String>> {
    v.iter().map(|s| Ok((*s).to_string())).collect()
}

#[test]
fn array_elements_keep_their_bytes_and_lose_only_whitespace() {
    let text = "[\n  {\"n\": 18446744073709551616, \"t\": 1.0e-400},\n  {\"z\":-0,\"e\":1E2, \"s\":\"a  b\\\" ]\"},\n  42, \"x\", [1, 2]\n]\n";
    let (recs, notes) = read("e.json", text);
    assert_eq!(
        recs,
        ok(&[
            r#"{"n":18446744073709551616,"t":1.0e-400}"#,
            r#"{"z":-0,"e":1E2,"s":"a  b\" ]"}"#,
            "42",
            r#""x""#,
            "[1,2]",
        ])
    );
    assert!(notes.is_empty());
}

#[test]
fn duplicate_keys_are_not_collapsed() {
    let (recs, _) = read("e.json", r#"[{"a":1,"a":2}]"#);
    assert_eq!(recs, ok(&[r#"{"a":1,"a":2}"#]));
}

#[test]
fn whitespace_between_bare_tokens_stays_so_invalid_json_stays_invalid() {
    let (recs, _) = read("e.json", "[{\"a\": tru e, \"b\": [1 2]}]");
    assert_eq!(recs, ok(&[r#"{"a":tru e,"b":[1 2]}"#]));
}

#[test]
fn ndjson_in_a_json_file_is_read_one_record_per_line_with_a_note() {
    let text = "{\"a\":1}\n{\"a\":2}\nnot json\n\n{\"a\":\n";
    let (recs, notes) = read("sunbird.json", text);
    assert_eq!(
        recs,
        ok(&[r#"{"a":1}"#, r#"{"a":2}"#, "not json", r#"{"a":"#])
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("read as NDJSON"), "{notes:?}");
}

#[test]
fn a_pretty_object_is_one_record() {
    let (recs, notes) = read("one.json", "{\n  \"a\": {\n    \"b\": 1\n  }\n}\n");
    assert_eq!(recs, ok(&[r#"{"a":{"b":1}}"#]));
    assert!(notes.is_empty());
}

#[test]
fn several_pretty_objects_are_a_record_each_with_a_note() {
    let (recs, notes) = read("two.json", "{\n \"a\": 1\n}\n{\n \"a\": 2\n}\n");
    assert_eq!(recs, ok(&[r#"{"a":1}"#, r#"{"a":2}"#]));
    assert_eq!(notes.len(), 1);
}

#[test]
fn a_broken_json_file_is_one_record_for_the_jobs_to_reject() {
    let (recs, _) = read("bad.json", "{\"a\": [1, 2}\n");
    assert_eq!(recs.len(), 1);
    let (recs, _) = read("bad.json", "nonsense here\n");
    assert_eq!(recs, ok(&["nonsense here"]));
}

#[test]
fn a_malformed_array_is_an_error_with_its_place() {
    let (recs, _) = read("a.json", "[{\"a\":1}\n {\"b\":2}]");
    assert_eq!(recs[0], Ok(r#"{"a":1}"#.to_string()));
    let err = recs[1].clone().expect_err("an error");
    assert_eq!(
        err,
        "a.json:2:2: expected `,` or `]` after element 1 of the top-level array"
    );
    let (recs, _) = read("a.json", "[{\"a\":1},");
    assert!(recs[1].clone().expect_err("err").contains("not closed"));
    let (recs, _) = read("a.json", "[1] 2");
    assert!(recs[1].clone().expect_err("err").contains("more after"));
    let (recs, _) = read("a.json", "[]");
    assert!(recs.is_empty());
    // Found by the `events` fuzzer: an empty element was an empty record.
    for (text, at) in [
        ("[,", "a.json:1:2:"),
        ("[1,]", "a.json:1:4:"),
        ("[1,,2]", "a.json:1:4:"),
        ("[,1]", "a.json:1:2:"),
    ] {
        let (recs, _) = read("a.json", text);
        let err = recs
            .last()
            .cloned()
            .expect("a result")
            .expect_err("an error");
        assert!(
            err.starts_with(at) && err.contains("found no value"),
            "{text}: {err}"
        );
        assert!(recs.iter().flatten().all(|r| !r.is_empty()), "{text}");
    }
}

#[test]
fn streams_are_sniffed() {
    // A stream starting with `[` is an array; with `{`, NDJSON (no note) or values.
    let (recs, notes) = read("stdin", " [1,2]");
    assert_eq!(recs, ok(&["1", "2"]));
    let (recs, _) = read("stdin", "{\"a\":1}\n{\"a\":2}\n");
    assert_eq!(recs, ok(&[r#"{"a":1}"#, r#"{"a":2}"#]));
    assert!(notes.is_empty());
    // Anything else: lines, kept exactly (trimmed at the ends).
    let (recs, _) = read("stdin", "x\n  {\"a\":  1}  \n");
    assert_eq!(recs, ok(&["x", r#"{"a":  1}"#]));
}

#[test]
fn ndjson_lines_are_kept_as_they_came() {
    let (recs, _) = read("a.ndjson", "{\"a\" : 1E2}\n\n[1]\n");
    assert_eq!(recs, ok(&[r#"{"a" : 1E2}"#, "[1]"]));
}

#[test]
fn non_utf8_bytes_stay_records() {
    let (recs, _) = read_bytes("a.ndjson", b"{\"a\":\"\xff\"}\n");
    assert_eq!(recs.len(), 1);
}

#[test]
fn tmpl_fixtures_get_dates() {
    let dir = std::env::temp_dir().join(format!("pipec-tmpl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let p = dir.join("e.json.tmpl");
    std::fs::write(&p, r#"[{"ets": $currentDate}, {"ets": $olderDate}]"#).expect("write");
    let mut out = Vec::new();
    read_records(&p, &mut out).expect("reads");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.len(), 2);
    let ets = |r: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(r).expect("json")["ets"]
            .as_i64()
            .expect("ms")
    };
    let (now, older) = (ets(&out[0]), ets(&out[1]));
    assert_eq!(now - older, 150 * 24 * 3600 * 1000);
}

#[test]
fn fifos_are_inputs() {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("pipec-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let fifo = dir.join("events");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .expect("open the fifo");
            for i in 0..1000 {
                writeln!(f, "{{\"i\":{i}}}").expect("write");
            }
        })
    };
    let records = read_input(fifo.to_str().expect("utf-8")).expect("reads the fifo");
    writer.join().expect("writer");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(records.len(), 1000);
    assert_eq!(records[999], br#"{"i":999}"#);
}

#[test]
fn a_missing_input_says_so() {
    let err = open_input("/nonexistent/pipec-input")
        .err()
        .expect("an error");
    assert_eq!(err, "`/nonexistent/pipec-input` does not exist");
}

#[test]
fn long_lines_are_refused_at_their_place() {
    let mut text = b"{\"a\":1}\n".to_vec();
    text.extend(std::iter::repeat_n(b'x', MAX_RECORD + 10));
    let (recs, _) = read_bytes("a.ndjson", &text);
    assert_eq!(recs.len(), 2);
    let err = recs[1].clone().expect_err("too long");
    assert!(err.starts_with("a.ndjson:2:1: a line longer than"), "{err}");
}
