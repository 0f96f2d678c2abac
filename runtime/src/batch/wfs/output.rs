//! The ME_WORKFLOW_SUMMARY events, written as Sunbird's `Summary.getSummaryEvent` builds its
//! `MeasuredEvent` and Jackson (`Include.NON_NULL`, no null map values) serializes it: fields
//! in the case classes' order, absent options and nulls left out, `edata.eks` in the order of
//! the Scala hash map it is, and the model's final `distinct`.

use std::collections::HashMap;

use pipec_compiler::expr::md5;
use serde_json::{Map, Value};

use super::WfsParams;
use super::input::{Event, Object, Text, text};
use super::joda::sync_ts;
use super::jvm::{built_map_order, group_by_order, java_hash, java_to_string, round2};
use super::tree::{Forest, Part, Record};

/// The records of `summEvents` as events, without repeats: `summEvents.distinct`. A record
/// appended twice is one event; two records are the same event when everything written is
/// equal, and their item responses are the same buffer or both empty (Scala compares the
/// responses' arrays by reference, so responses from different buffers never compare equal).
/// Sunbird also stamps each event with the clock (`ets`), so records made in different
/// milliseconds stay apart there; with one `now_ms` they compare as made in the same one.
pub(super) fn events(forest: &Forest<'_>, emitted: &[Part], params: &WfsParams) -> Vec<Value> {
    let mut out: Vec<(usize, Value)> = Vec::new();
    // Records that would be written alike (a node recorded twice with nothing changed in
    // between) are recognised before they are written, by what they are written from.
    let mut by_source: HashMap<(usize, i64, i64), Vec<usize>> = HashMap::new();
    // Otherwise equal events have equal mids: candidates are looked up by the mid's digest.
    let mut by_mid: HashMap<u128, Vec<usize>> = HashMap::new();
    for r in forest.expand(emitted) {
        let record = &forest.records[r];
        let source = by_source
            .entry((record.first, record.start, record.end))
            .or_default();
        if source
            .iter()
            .any(|&k| same_source(forest, record, &forest.records[out[k].0]))
        {
            continue;
        }
        let (digest, event) = render(forest, record, params);
        let bucket = by_mid.entry(digest).or_default();
        let empty = forest.buffers[record.items].is_empty();
        let repeat = bucket.iter().any(|&k| {
            let (other, value) = &out[k];
            let other = &forest.records[*other];
            *value == event
                && (other.items == record.items
                    || (empty && forest.buffers[other.items].is_empty()))
        });
        if !repeat {
            bucket.push(out.len());
            source.push(out.len());
            out.push((r, event));
        }
    }
    out.into_iter().map(|(_, v)| v).collect()
}

/// Whether two records are written from the same things, and so written alike: the same
/// first event, `syncts` text, state, and item responses (the same buffer, or none).
fn same_source(forest: &Forest<'_>, a: &Record<'_>, b: &Record<'_>) -> bool {
    let (ea, eb) = (&forest.events[a.sync], &forest.events[b.sync]);
    a.first == b.first
        && ea.timestamp == eb.timestamp
        && a.kind == b.kind
        && a.mode == b.mode
        && a.start == b.start
        && a.end == b.end
        && a.time_diff.to_bits() == b.time_diff.to_bits()
        && a.time_spent.to_bits() == b.time_spent.to_bits()
        && a.interact == b.interact
        && a.counts == b.counts
        && a.impressions.len() == b.impressions.len()
        && a.impressions
            .iter()
            .zip(&b.impressions)
            .all(|(x, y)| x.0 == y.0 && x.1.to_bits() == y.1.to_bits())
        && (a.items == b.items
            || (forest.buffers[a.items].is_empty() && forest.buffers[b.items].is_empty()))
}

/// One record as an event, with the MD5 digest its `mid` is written from.
fn render(forest: &Forest<'_>, r: &Record<'_>, params: &WfsParams) -> (u128, Value) {
    let first = &forest.events[r.first];
    let ctx = &first.context;
    let uid = first.actor_id.as_deref().unwrap_or("");
    let actor_type = first.actor_type.as_deref().unwrap_or("");
    let did = ctx.did.as_deref().unwrap_or("");
    // Without `context.pdata`, Sunbird uses the default app with version "1.0".
    let (app, app_ver, app_pid) = match &ctx.pdata {
        Some(p) => (p.id.as_deref(), p.ver.as_deref(), p.pid.as_deref()),
        None => (Some(params.default_app_id.as_str()), Some("1.0"), None),
    };
    // `CommonUtil.getMessageId`: MD5 of eid | user | from | to | granularity | object id |
    // app | channel, where Summary passes "actor type|uid|did|type|mode" as the user (mode is
    // never absent there, so never "NA"), "NA" for no object (an object without an id writes
    // "null"), and the defaults for a null app id or channel.
    let object_id = match first.object {
        None => "NA".into(),
        Some(o) => opt_text(o, "id").unwrap_or("null".into()),
    };
    let key = format!(
        "ME_WORKFLOW_SUMMARY|{actor_type}|{uid}|{did}|{}|{}|{}|{}|SESSION|{object_id}|{}|{}",
        r.kind,
        r.mode,
        r.start,
        r.end,
        app.unwrap_or(&params.default_app_id),
        ctx.channel.as_deref().unwrap_or(&params.default_channel),
    );
    let digest = md5::digest(key.as_bytes());
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mid: String = digest
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect();

    let mut context = Map::with_capacity(5);
    let mut producer = Map::with_capacity(3);
    producer.insert("id".into(), params.producer_id.as_str().into());
    producer.insert("ver".into(), params.model_version.as_str().into());
    producer.insert("model".into(), params.model_id.as_str().into());
    context.insert("pdata".into(), Value::Object(producer));
    context.insert("granularity".into(), "SESSION".into());
    let mut range = Map::with_capacity(2);
    range.insert("from".into(), r.start.into());
    range.insert("to".into(), r.end.into());
    context.insert("date_range".into(), Value::Object(range));
    if let Some(rollup) = ctx.rollup {
        context.insert("rollup".into(), texts(rollup, &["l1", "l2", "l3", "l4"]));
    }
    if let Some(cdata) = ctx.cdata {
        context.insert("cdata".into(), cdata.iter().map(cdata_entry).collect());
    }

    let mut pdata = Map::with_capacity(3);
    put(&mut pdata, "id", app);
    pdata.insert("ver".into(), app_ver.unwrap_or("1.0").into());
    put(&mut pdata, "pid", app_pid);
    let mut dimensions = Map::with_capacity(7);
    dimensions.insert("uid".into(), uid.into());
    dimensions.insert("did".into(), did.into());
    dimensions.insert("pdata".into(), Value::Object(pdata));
    dimensions.insert("sid".into(), ctx.sid.as_deref().unwrap_or("").into());
    put(&mut dimensions, "channel", ctx.channel.as_deref());
    dimensions.insert("type".into(), r.kind.as_ref().into());
    dimensions.insert("mode".into(), r.mode.as_ref().into());

    let mut event = Map::with_capacity(11);
    event.insert("eid".into(), "ME_WORKFLOW_SUMMARY".into());
    event.insert("ets".into(), params.now_ms.into());
    event.insert(
        "syncts".into(),
        sync_ts(forest.events[r.sync].timestamp.as_deref()).into(),
    );
    event.insert("ver".into(), "1.0".into());
    event.insert("mid".into(), mid.into());
    event.insert("uid".into(), uid.into());
    event.insert("context".into(), Value::Object(context));
    event.insert("dimensions".into(), Value::Object(dimensions));
    let mut edata = Map::with_capacity(1);
    edata.insert("eks".into(), eks(forest, r, first));
    event.insert("edata".into(), Value::Object(edata));
    if let Some(tags) = first.tags {
        event.insert("tags".into(), tags.iter().map(untyped).collect());
    }
    if let Some(o) = first.object {
        event.insert("object".into(), v3_object(o));
    }
    (u128::from_be_bytes(digest), Value::Object(event))
}

/// The measures. Scala builds them as an 11-entry immutable `HashMap`, whose iteration order
/// for these keys is fixed; a null `telemetry_version` is left out.
fn eks(forest: &Forest<'_>, r: &Record<'_>, first: &Event<'_>) -> Value {
    let time_spent = r.time_spent;
    // Fewer than 60 s of use gives the count itself; else count per minute, rounded.
    let per_min = if r.interact == 0 || time_spent == 0.0 {
        0.0
    } else if time_spent < 60.0 {
        r.interact as f64
    } else {
        round2(r.interact as f64 / (time_spent / 60.0))
    };
    let pages = page_summary(forest.events, &r.impressions);
    let envs = env_summary(forest.events, &pages);
    let order = built_map_order(
        &r.counts
            .iter()
            .map(|(eid, _)| java_hash(Some(eid)))
            .collect::<Vec<_>>(),
    );
    let counts: Vec<Value> = order
        .iter()
        .map(|&i| {
            let mut count = Map::with_capacity(2);
            count.insert("id".into(), r.counts[i].0.into());
            count.insert("count".into(), r.counts[i].1.into());
            Value::Object(count)
        })
        .collect();
    let items: Vec<Value> = forest.buffers[r.items]
        .iter()
        .map(|&ev| item_response(&forest.events[ev]))
        .collect();
    let mut eks = Map::with_capacity(11);
    eks.insert("interact_events_per_min".into(), per_min.into());
    eks.insert("start_time".into(), r.start.into());
    eks.insert("interact_events_count".into(), r.interact.into());
    eks.insert("item_responses".into(), items.into());
    eks.insert("end_time".into(), r.end.into());
    eks.insert("events_summary".into(), counts.into());
    eks.insert(
        "page_summary".into(),
        pages
            .iter()
            .map(|&(ev, ts)| {
                let e = &forest.events[ev];
                let mut page = Map::with_capacity(5);
                put(&mut page, "id", e.pageid.as_deref());
                put(&mut page, "type", e.etype.as_deref());
                put(&mut page, "env", e.context.env.as_deref());
                page.insert("time_spent".into(), ts.into());
                page.insert("visit_count".into(), 1.into());
                Value::Object(page)
            })
            .collect(),
    );
    eks.insert("time_diff".into(), r.time_diff.into());
    put(&mut eks, "telemetry_version", first.ver.as_deref());
    eks.insert(
        "env_summary".into(),
        envs.iter()
            .map(|(env, ts)| {
                let mut e = Map::with_capacity(3);
                put(&mut e, "env", env.as_deref());
                e.insert("time_spent".into(), (*ts).into());
                e.insert("count".into(), 1.into());
                Value::Object(e)
            })
            .collect(),
    );
    eks.insert("time_spent".into(), round2(time_spent).into());
    Value::Object(eks)
}

/// `getPageSummaries`, bug for bug: `impressionMap.map(f => (pageid, f))` builds a map keyed
/// by page id, so of several impressions of one page only the last survives, and every page
/// has a `visit_count` of 1 and the seconds of that one impression. (Past four impressions
/// Sunbird's map iterates by identity hash, so which one survives is arbitrary there; here it
/// is always the last.) The pages come out in `groupBy`'s order. Returns (event, seconds).
fn page_summary(events: &[Event<'_>], impressions: &[(usize, f64)]) -> Vec<(usize, f64)> {
    let mut pages: Vec<(usize, f64)> = Vec::new();
    // Few impressions are searched in place; many through an index.
    let mut at: HashMap<Option<&str>, usize> = HashMap::new();
    let indexed = impressions.len() > 32;
    for &(ev, ts) in impressions {
        let id = events[ev].pageid.as_deref();
        let found = if indexed {
            at.get(&id).copied()
        } else {
            pages
                .iter()
                .position(|&(other, _)| events[other].pageid.as_deref() == id)
        };
        match found {
            Some(i) => pages[i] = (ev, ts),
            None => {
                if indexed {
                    at.insert(id, pages.len());
                }
                pages.push((ev, ts));
            }
        }
    }
    let hashes: Vec<i32> = pages
        .iter()
        .map(|&(ev, _)| java_hash(events[ev].pageid.as_deref()))
        .collect();
    group_by_order(&hashes)
        .into_iter()
        .map(|i| (pages[i].0, round2(pages[i].1)))
        .collect()
}

/// `getEnvSummaries`: the pages grouped by `context.env` in `groupBy`'s order, each with the
/// rounded sum of its pages' seconds (and a count of 1, the largest visit count).
fn env_summary<'a>(events: &'a [Event<'a>], pages: &[(usize, f64)]) -> Vec<(Text<'a>, f64)> {
    let mut envs: Vec<(Text<'a>, f64)> = Vec::new();
    for &(ev, ts) in pages {
        let env = &events[ev].context.env;
        match envs.iter_mut().find(|(e, _)| e == env) {
            Some((_, total)) => *total += ts,
            None => envs.push((env.clone(), ts)),
        }
    }
    let hashes: Vec<i32> = envs.iter().map(|(e, _)| java_hash(e.as_deref())).collect();
    group_by_order(&hashes)
        .into_iter()
        .map(|i| (envs[i].0.clone(), round2(envs[i].1)))
        .collect()
}

/// One of `itemResponses` (`util.Item`), from an ASSESS event with an `edata.item`.
fn item_response(e: &Event<'_>) -> Value {
    let no_item = Map::new();
    let item = e.item.unwrap_or(&no_item);
    let maps = e.resvalues.unwrap_or_default();
    // `resvalues.flatten.map(k + ":" + v.toString)`, each map in Scala `Map` order.
    let res: Vec<Value> = maps
        .iter()
        .filter_map(Value::as_object)
        .flat_map(scala_map_entries)
        .map(|(k, v)| Value::String(format!("{k}:{}", java_to_string(v))))
        .collect();
    let res_values: Vec<Value> = maps
        .iter()
        .map(|m| match m.as_object() {
            Some(m) => Value::Object(
                scala_map_entries(m)
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), untyped(v)))
                    .collect(),
            ),
            None => Value::Null,
        })
        .collect();
    let mut out = Map::new();
    put(&mut out, "itemId", opt_text(item, "id").as_deref());
    out.insert("timeSpent".into(), (e.duration as f64).into());
    out.insert("res".into(), res.into());
    out.insert("resValues".into(), res_values.into());
    for (name, key) in [("mc", "mc"), ("mmc", "mmc")] {
        if let Some(Value::Array(entries)) = item.get(key) {
            let strings: Vec<Value> = entries
                .iter()
                .map(|v| opt_text_value(v).map_or(Value::Null, Value::String))
                .collect();
            out.insert(name.into(), strings.into());
        }
    }
    out.insert("score".into(), e.score.into());
    out.insert("time_stamp".into(), e.ets.into());
    out.insert("maxScore".into(), int_field(item, "maxscore").into());
    put(&mut out, "pass", e.pass.as_deref());
    put(&mut out, "qtitle", opt_text(item, "title").as_deref());
    put(&mut out, "qdesc", opt_text(item, "desc").as_deref());
    Value::Object(out)
}

/// The entries of a JSON object in the order of the Scala `Map` Jackson builds from it.
fn scala_map_entries(m: &Object) -> impl Iterator<Item = (&String, &Value)> {
    let entries: Vec<(&String, &Value)> = m.iter().collect();
    let hashes: Vec<i32> = entries.iter().map(|(k, _)| java_hash(Some(k))).collect();
    built_map_order(&hashes)
        .into_iter()
        .map(move |i| entries[i])
}

/// A value Jackson read into `AnyRef` and writes back: maps lose their null entries.
fn untyped(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), untyped(v)))
                .collect(),
        ),
        Value::Array(a) => a.iter().map(untyped).collect(),
        other => other.clone(),
    }
}

/// `V3Object` as written: id, type, ver, rollup, subtype, parent.
fn v3_object(o: &Object) -> Value {
    let mut out = Map::new();
    for name in ["id", "type", "ver"] {
        put(&mut out, name, opt_text(o, name).as_deref());
    }
    if let Some(Value::Object(r)) = o.get("rollup") {
        out.insert("rollup".into(), texts(r, &["l1", "l2", "l3", "l4"]));
    }
    put(&mut out, "subtype", opt_text(o, "subtype").as_deref());
    if let Some(Value::Object(p)) = o.get("parent") {
        out.insert("parent".into(), texts(p, &["id", "type", "ver"]));
    }
    Value::Object(out)
}

/// A `V3CData` entry (or a null one).
fn cdata_entry(v: &Value) -> Value {
    match v.as_object() {
        Some(c) => texts(c, &["id", "type"]),
        None => Value::Null,
    }
}

/// An object of string fields, the null ones left out.
fn texts(o: &Object, names: &[&str]) -> Value {
    let mut out = Map::new();
    for name in names {
        put(&mut out, name, opt_text(o, name).as_deref());
    }
    Value::Object(out)
}

/// A string field of a bound object (binding has checked it is one).
fn opt_text<'a>(o: &'a Object, name: &str) -> Text<'a> {
    text(o.get(name)).ok().flatten()
}

fn opt_text_value(v: &Value) -> Option<String> {
    text(Some(v)).ok().flatten().map(|s| s.into_owned())
}

/// An `Int` field of a bound object: its value, 0 when null or absent.
fn int_field(o: &Object, name: &str) -> i64 {
    match o.get(name) {
        Some(Value::Number(n)) => n
            .as_i64()
            .unwrap_or_else(|| n.as_f64().map_or(0, |f| f as i32 as i64)),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// Inserts a string field unless it is null (`Include.NON_NULL`).
fn put(map: &mut Map<String, Value>, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        map.insert(name.into(), v.into());
    }
}
