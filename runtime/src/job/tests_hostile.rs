//! Hostile records through the iGOT jobs: what is no event is set aside whole, as it came,
//! and an event's numbers come out exactly as they went in, on the bytes path and the tree
//! path alike.

use serde_json::Value;

use super::tests::{fixture, igot_manifest, job, run};

fn sent<'o>(out: &'o super::Output, topic: &str) -> Vec<&'o [u8]> {
    out.records
        .iter()
        .filter(|(t, _)| &**t == topic)
        .map(|(_, b)| b.as_slice())
        .collect()
}

#[tokio::test]
async fn records_that_are_json_but_no_object_go_whole_to_the_dead_letter_topic() {
    let m = igot_manifest();
    let j = job(&m, "telemetry-extractor").await;
    let input: Vec<Vec<u8>> = ["42", "\"x\"", "[1,2]", "null", " [ {\"events\": []} ]"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let out = run(&j, &input).await;
    // Before, `42` reached `failed` as `{"flags":…,"metadata":…}`, its content gone.
    assert_eq!(
        sent(&out, "extractor-failed"),
        input.iter().map(Vec::as_slice).collect::<Vec<_>>()
    );
    assert!(sent(&out, "raw").is_empty());
    let reasons: Vec<&str> = out.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "not an event: the record is a number, not an object",
            "not an event: the record is a string, not an object",
            "not an event: the record is a list, not an object",
            "not an event: the record is null, not an object",
            "not an event: the record is a list, not an object",
        ]
    );
    assert_eq!(out.counters[0].unparsable, 5);
}

/// Sunbird's batch fixture with its events replaced by `items` (JSON texts), compact or
/// pretty (which takes the tree path rather than the bytes path).
fn batch_with(items: &[&str], pretty: bool) -> Vec<u8> {
    let mut batch: Value = serde_json::from_slice(&fixture(
        "telemetry-extractor",
        "EVENT_WITH_MESSAGE_ID.json",
    ))
    .expect("fixture is JSON");
    batch["events"] = Value::from("__EVENTS__");
    batch["params"]["msgid"] = Value::from(format!("hostile-{pretty}-{}", items.len()));
    let text = if pretty {
        serde_json::to_string_pretty(&batch).expect("writes")
    } else {
        serde_json::to_string(&batch).expect("writes")
    };
    // The items spliced in as text: read and written again, `1E2` would be `1e+2`.
    text.replace("\"__EVENTS__\"", &format!("[{}]", items.join(",")))
        .into_bytes()
}

#[tokio::test]
async fn batch_items_that_are_no_objects_go_whole_to_invalid_and_are_not_routed() {
    let m = igot_manifest();
    let event = r#"{"eid":"INTERACT","ets":1529499971358,"ver":"3.0","mid":"INTERACT:keep","actor":{"id":"u","type":"user"},"context":{"channel":"c","pdata":{"id":"p","ver":"1"},"env":"e"},"edata":{"type":"api_call","level":"INFO","message":"m"}}"#;
    for pretty in [false, true] {
        let j = job(&m, "telemetry-extractor").await;
        let input = vec![batch_with(&["\"KEEP-ME\"", "null", "[1,2]", event], pretty)];
        let out = run(&j, &input).await;
        // Before, each became `{"syncts":…,"@timestamp":…}` and went on to `raw`.
        let failed: Vec<Value> = sent(&out, "extractor-failed")
            .iter()
            .map(|b| serde_json::from_slice(b).expect("JSON"))
            .collect();
        assert_eq!(
            failed,
            [
                Value::from("KEEP-ME"),
                Value::Null,
                serde_json::json!([1, 2])
            ],
            "pretty: {pretty}"
        );
        let raw = sent(&out, "raw");
        assert_eq!(raw.len(), 1, "pretty: {pretty}");
        let routed: Value = serde_json::from_slice(raw[0]).expect("JSON");
        assert_eq!(routed["mid"], "INTERACT:keep");
        let step = out
            .rejected
            .iter()
            .map(|r| r.reason.as_str())
            .collect::<Vec<_>>();
        assert_eq!(
            step,
            [
                "item 0 of the `events` list is a string, not an object",
                "item 1 of the `events` list is null, not an object",
                "item 2 of the `events` list is a list, not an object",
            ],
            "pretty: {pretty}"
        );
        assert_eq!(out.counters[1].invalid, 3, "pretty: {pretty}");
    }
}

/// The numbers of the issue that found this, each as it must come out.
const NUMBERS: [&str; 7] = [
    "18446744073709551616",
    "1.0e-400",
    "-0",
    "1E2",
    "-0.0",
    "123456789.123456789123456789",
    "1e400",
];

fn odd_event(mid: &str) -> String {
    let n = NUMBERS.join(",");
    format!(
        r#"{{"eid":"INTERACT","ets":1529499971358,"ver":"3.0","mid":"{mid}","actor":{{"id":"u","type":"user"}},"context":{{"channel":"c","pdata":{{"id":"p","ver":"1"}},"env":"e"}},"edata":{{"type":"api_call","level":"INFO","message":"m","params":[{n}]}}}}"#
    )
}

fn assert_numbers_kept(record: &[u8]) {
    let text = String::from_utf8_lossy(record);
    let want = format!("[{}]", NUMBERS.join(","));
    assert!(text.contains(&want), "numbers rewritten in {text}");
}

#[tokio::test]
async fn numbers_come_out_as_they_went_in_through_the_jobs() {
    let m = igot_manifest();
    for pretty in [false, true] {
        // The extractor: cut from the batch's bytes, or through the tree when pretty.
        let e = odd_event(&format!("INTERACT:odd-{pretty}"));
        let input = vec![batch_with(&[&e], pretty)];
        let ex = job(&m, "telemetry-extractor").await;
        let out = run(&ex, &input).await;
        let raw: Vec<Vec<u8>> = sent(&out, "raw").iter().map(|b| b.to_vec()).collect();
        assert_eq!(raw.len(), 1, "pretty: {pretty}");
        assert_numbers_kept(&raw[0]);
        // The preprocessor reads the event (validation, dedup, routing) and sets fields.
        let pre = job(&m, "pipeline-preprocessor").await;
        let out = run(&pre, &raw).await;
        let through: Vec<&[u8]> = out.records.iter().map(|(_, b)| b.as_slice()).collect();
        assert!(!through.is_empty());
        for r in through {
            assert_numbers_kept(r);
        }
    }
}
