//! Fuzz target: arbitrary bytes as an input file of `pipec run` (how records are cut out of
//! a `.json`, `.ndjson` or unnamed stream) and as a file given to `pipec validate-events`
//! (read both as JSON and as NDJSON, each event checked against the quickstart's schemas).
//! Nothing may panic, and when the bytes are a JSON array its records must be its elements,
//! value for value.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pipec_compiler::events::EventSchemas;
use pipec_compiler::events::input::{Format, for_each_event};
use pipec_compiler::{CheckOptions, event_schemas};
use serde_json::Value;

fn schemas() -> &'static EventSchemas {
    static S: OnceLock<EventSchemas> = OnceLock::new();
    S.get_or_init(|| {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/quickstart"));
        let opts = CheckOptions { env: None, env_lookup: &|_| None };
        match event_schemas(path, &opts) {
            Ok(s) => s,
            Err(_) => panic!("the quickstart spec checks"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    for name in ["in.json", "in.ndjson", "stdin"] {
        let (records, _notes) = pipec_compiler::input::split(name, data.to_vec());
        for r in records.iter().flatten() {
            assert!(!r.is_empty(), "an empty record from {name}");
        }
        if name == "in.json" {
            if let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(data) {
                let got: Vec<Value> = records
                    .iter()
                    .map(|r| {
                        let r = r.as_ref().expect("a JSON array reads without error");
                        serde_json::from_slice(r).expect("each element is JSON")
                    })
                    .collect();
                assert_eq!(got, items, "the records are the array's elements");
            }
        }
    }
    let text = String::from_utf8_lossy(data);
    let s = schemas();
    for format in [Format::Json, Format::Ndjson] {
        let _ = for_each_event(&text, format, s.type_field(), |_, event| {
            let _ = s.check(event);
        });
    }
});
