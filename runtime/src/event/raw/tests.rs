//! The canonical check, reads and splices on edge cases.

use super::*;
use serde_json::Value;

fn raw_tape(b: &[u8]) -> Option<Vec<Node>> {
    canonical_tape(b)
}

fn roundtrip(s: &str) -> bool {
    match serde_json::from_str::<Value>(s) {
        Ok(v) => serde_json::to_string(&v).is_ok_and(|o| o == s),
        Err(_) => false,
    }
}

#[test]
fn canonical_is_what_serde_json_writes_back() {
    let cases = [
        "{}",
        "[]",
        r#"{"a":1}"#,
        r#"{"a":1,"a":2}"#,
        r#"{"a": 1}"#,
        r#" {"a":1}"#,
        r#"{"a":1} "#,
        r#"{"a":"\u00e9"}"#,
        r#"{"a":"é"}"#,
        r#"{"a":"\/"}"#,
        r#"{"a":"\n\t\"\\\b\f\r"}"#,
        r#"{"a":"\u001f\u0000\u0001"}"#,
        r#"{"a":"\u001F"}"#,
        r#"{"a":"\u0008"}"#,
        r#"{"a":"\u000a"}"#,
        "{\"a\":\"\x01\"}",
        r#"{"a":1.0}"#,
        r#"{"a":1.5}"#,
        r#"{"a":1.52}"#,
        r#"{"a":1e3}"#,
        r#"{"a":1000.0}"#,
        r#"{"a":-0}"#,
        r#"{"a":-0.0}"#,
        r#"{"a":0}"#,
        r#"{"a":01}"#,
        r#"{"a":-12}"#,
        r#"{"a":18446744073709551615}"#,
        r#"{"a":18446744073709551616}"#,
        r#"{"a":-9223372036854775808}"#,
        r#"{"a":-9223372036854775809}"#,
        r#"{"a":123456789012345678901234567890}"#,
        r#"{"a":1.7976931348623157e308}"#,
        r#"{"a":[1,2,{"b":null,"c":true,"d":false}]}"#,
        r#"{"a":[1,2,]}"#,
        r#"{"a":tru}"#,
        r#"{"a":1"#,
        r#"{"a":{"b":1,"b":1}}"#,
        r#"{"a":{"b":1},"b":{"b":1}}"#,
        r#""x""#,
        "1",
        "",
        r#"{"a":"\ud83d\ude00"}"#,
        r#"{"a":"😀"}"#,
    ];
    for c in cases {
        assert_eq!(canonical(c.as_bytes()), roundtrip(c), "{c}");
    }
    assert!(!canonical(b"{\"a\":\"\xff\"}"));
    // UTF-8 is checked in strings, character by character.
    for bad in [
        &b"{\"a\":\"\xc0\xaf\"}"[..],
        b"{\"a\":\"\xed\xa0\x80\"}",
        b"{\"a\":\"\xf4\x90\x80\x80\"}",
        b"{\"a\":\"\xe2\x82\"}",
        b"{\"a\":\"x\xe2\x82",
        b"{\"\x80\":1}",
        b"{\"a\":1\xc3\xa9}",
        b"[\"\xf8\x88\x80\x80\x80\"]",
    ] {
        assert!(!canonical(bad), "{bad:?}");
        assert!(raw_tape(bad).is_none(), "{bad:?}");
    }
    for good in [
        "{\"é\":\"ü😀\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}abcdefghé\"}",
        "[\"\u{80}\"]",
    ] {
        assert!(canonical(good.as_bytes()), "{good}");
        assert!(raw_tape(good.as_bytes()).is_some(), "{good}");
    }
    let deep = "[".repeat(200) + &"]".repeat(200);
    assert!(!canonical(deep.as_bytes()));
}

fn set(obj: &str, sets: &[(&str, Value)]) -> String {
    let keys: Vec<(Vec<u8>, Vec<u8>)> = sets
        .iter()
        .map(|(k, v)| (quoted(k), serde_json::to_vec(v).unwrap_or_default()))
        .collect();
    let refs: Vec<(&[u8], &[u8])> = keys
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .collect();
    String::from_utf8(set_members(obj.as_bytes(), &refs)).unwrap_or_default()
}

/// What the tree path gives: parse, set each field, serialize.
fn set_tree(obj: &str, sets: &[(&str, Value)]) -> String {
    let mut v: Value = serde_json::from_str(obj).unwrap_or(Value::Null);
    for (k, x) in sets {
        if let Some(o) = v.as_object_mut() {
            match o.get_mut(*k) {
                Some(slot) => *slot = x.clone(),
                None => {
                    o.insert((*k).to_string(), x.clone());
                }
            }
        }
    }
    serde_json::to_string(&v).unwrap_or_default()
}

#[test]
fn set_members_replaces_in_place_and_appends() {
    let sets = [
        ("syncts", serde_json::json!(1_700_000_000_000_u64)),
        ("@timestamp", serde_json::json!("2023-11-14T22:13:20.000Z")),
    ];
    for obj in [
        "{}",
        r#"{"a":1}"#,
        r#"{"syncts":5}"#,
        r#"{"a":{"syncts":1},"syncts":"x","b":[1,{"c":"}"}]}"#,
        r#"{"@timestamp":null,"a":"é\"\\","syncts":{"x":[]}}"#,
        r#"{"a":"\u0001","b":"q\"}"}"#,
        r#"{"a":{"syncts":1}}"#,
        r#"{"a":"\"syncts\"","b":["@timestamp"]}"#,
    ] {
        assert_eq!(set(obj, &sets), set_tree(obj, &sets), "{obj}");
    }
    assert_eq!(
        set(r#"{"k\"":1}"#, &[("k\"", serde_json::json!(2))]),
        r#"{"k\"":2}"#
    );
}

#[test]
fn lookup_and_text() {
    let b = br#"{"eid":"LOG","params":{"msgid":"m\"1","n":null},"x":[{"eid":"no"}],"eid2":"y"}"#;
    let key = |p: &[&str]| p.iter().map(|s| quoted(s)).collect::<Vec<_>>();
    assert_eq!(lookup(b, &key(&["eid"])), Some(&br#""LOG""#[..]));
    assert_eq!(
        lookup(b, &key(&["params", "msgid"]))
            .and_then(text)
            .as_deref(),
        Some("m\"1")
    );
    assert_eq!(lookup(b, &key(&["params", "n"])), Some(&b"null"[..]));
    assert_eq!(lookup(b, &key(&["params", "x"])), None);
    assert_eq!(lookup(b, &key(&["eid", "x"])), None);
    assert_eq!(lookup(b"{}", &key(&["eid"])), None);
    let list = lookup(b, &key(&["x"])).unwrap_or_default();
    assert_eq!(elements(list), vec![1..13]);
    assert_eq!(elements(b"[]"), Vec::<std::ops::Range<usize>>::new());
    assert_eq!(elements(br#"[1,"a,]",[2,3]]"#), vec![1..2, 3..8, 9..14]);
    let doc = br#"{"a":1,"events":[{"x":"]"},2],"b":[3]}"#;
    let shape = canonical_shape(doc).unwrap_or_default();
    let (a, b) = (
        split(doc, &quoted("events")),
        shape.split(doc, &quoted("events")),
    );
    assert_eq!((a.others, a.list), (b.others, b.list));
    for doc in [
        &br#"[[1],{"a":[2]}]"#[..],
        br#"{"a":[],"b":{"c":[1]},"d":[[],[3]]}"#,
    ] {
        let shape = canonical_shape(doc).unwrap_or_default();
        for key in ["a", "b", "d"] {
            let (a, b) = (split(doc, &quoted(key)), shape.split(doc, &quoted(key)));
            assert_eq!((a.others, a.list), (b.others, b.list), "{key}");
        }
    }
    let sp = split(doc, &quoted("events"));
    assert_eq!(
        sp.others,
        vec![(&br#""a""#[..], &b"1"[..]), (&br#""b""#[..], &b"[3]"[..])]
    );
    let (list, elems) = sp.list.unwrap_or_default();
    assert_eq!(list, br#"[{"x":"]"},2]"#);
    assert_eq!(elems, vec![1..10, 11..12]);
    assert!(split(br#"{"events":3}"#, &quoted("events")).list.is_none());
    let (list, elems) = split(br#"{"events":[]}"#, &quoted("events"))
        .list
        .unwrap_or_default();
    assert_eq!((list, elems.len()), (&b"[]"[..], 0));
}

#[test]
fn special_finds_the_first_quote_backslash_or_control() {
    let text = "abcdefgh\"ijklmnopé😀\\qrstuvwxyz\u{1}0123456789\u{1f}";
    let b = text.as_bytes();
    for i in 0..b.len() {
        let naive = (i..b.len())
            .find(|&j| b[j] == b'"' || b[j] == b'\\' || b[j] < 0x20)
            .unwrap_or(b.len());
        assert_eq!(special(b, i), naive, "from {i}");
    }
}
