//! The spec's `tests:`, resolved for running: input records read from their files, the
//! jobs to run, step settings to override, and what each topic must hold afterwards.
//! Tests are not part of the manifest (they are not deployed); `pipec test` runs them on
//! the manifest through the same operators as `pipec run`.

use serde_json::Value;

use super::{Manifest, Step};
use crate::spec::ScalarOr;
use crate::validate::Index;
use crate::validate::index::rel;

/// A spec test, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecTest {
    /// What it shows.
    pub name: String,
    /// Where it is written (`file:line`).
    pub location: String,
    /// The topic the input goes to.
    pub input_topic: String,
    /// The input records, in order.
    pub records: Vec<Vec<u8>>,
    /// Jobs to run (all when empty).
    pub jobs: Vec<String>,
    /// Step settings overridden for this test: (job, step index, key, value).
    pub set: Vec<(String, usize, String, Value)>,
    /// Expectations, by topic (stream tests) or output (report tests).
    pub expect: Vec<Expect>,
    /// For a report test: the report, its date and its inputs (the stream fields above
    /// are then empty).
    pub report: Option<ReportTest>,
    /// "Now" for a stream test's run (what `now_ms()` gives), epoch milliseconds; the
    /// system clock when not said.
    pub now_ms: Option<i64>,
    /// Lookup data preloaded into stores: (store, file, key field).
    pub stores: Vec<(String, std::path::PathBuf, String)>,
}

/// A report test's run.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportTest {
    /// The report.
    pub name: String,
    /// Its `--date` (`YYYY-MM-DD`); today when not said.
    pub date: Option<String>,
    /// "Now" for the run, epoch milliseconds; the date's midnight when not said.
    pub now_ms: Option<i64>,
    /// Input name → its data.
    pub inputs: Vec<(String, TestData)>,
}

/// The data of one report input in a test.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TestData {
    /// Files, as paths a run can open.
    pub files: Vec<std::path::PathBuf>,
    /// Rows written inline.
    pub rows: Vec<Value>,
}

/// What one topic must hold after the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// The topic.
    pub topic: String,
    /// Number of events.
    pub count: Option<u64>,
    /// Field values every event has.
    pub all: Vec<(String, Value)>,
    /// Field values of events by position.
    pub events: Vec<Vec<(String, Value)>>,
    /// A file of the expected rows, in any order.
    pub file: Option<std::path::PathBuf>,
}

/// Resolves every test of a checked spec. Fails with a message naming the test when an
/// input file cannot be read or a `set` key does not name a step setting.
pub fn resolve(ix: &Index<'_>, m: &Manifest) -> Result<Vec<SpecTest>, String> {
    let mut out = Vec::new();
    for (t, dir) in &ix.tests {
        let test = &t.value;
        let location = location(ix, t.span);
        let mut records = Vec::new();
        if let Some(input) = &test.input {
            for f in &input.files {
                crate::input::read_records(&rel(dir, &f.value), &mut records)
                    .map_err(|e| format!("test `{}` ({location}): {e}", test.name.value))?;
            }
            for e in &input.events {
                records.push(serde_json::to_vec(&e.value).unwrap_or_default());
            }
        }
        // The test's clock, for a report test's run or a stream test's alike.
        let now_ms = test
            .now
            .as_ref()
            .and_then(|n| crate::civil::parse_instant(&n.value));
        let report = test.report.as_ref().map(|r| ReportTest {
            name: r.value.clone(),
            date: test.date.as_ref().map(|d| d.value.clone()),
            now_ms,
            inputs: test
                .inputs
                .iter()
                .map(|(k, v)| {
                    (
                        k.value.clone(),
                        TestData {
                            files: v.files.iter().map(|f| rel(dir, &f.value)).collect(),
                            rows: v.rows.iter().map(|r| r.value.clone()).collect(),
                        },
                    )
                })
                .collect(),
        });
        let mut set = Vec::new();
        for (k, v) in test.set.iter() {
            let parsed = parse_set_key(&k.value, m).map_err(|e| {
                format!(
                    "test `{}` ({location}): `set: {{ {}: ... }}`: {e}",
                    test.name.value, k.value
                )
            })?;
            set.push((parsed.0, parsed.1, parsed.2, v.value.clone()));
        }
        let expect = test
            .expect
            .iter()
            .map(|(topic, e)| match e {
                ScalarOr::Scalar(n) => Expect {
                    topic: topic.value.clone(),
                    count: Some(n.value),
                    all: Vec::new(),
                    events: Vec::new(),
                    file: None,
                },
                ScalarOr::Full(x) => Expect {
                    topic: topic.value.clone(),
                    count: x.count.as_ref().map(|c| c.value),
                    all: x
                        .all
                        .iter()
                        .map(|(k, v)| (k.value.clone(), v.value.clone()))
                        .collect(),
                    events: x
                        .events
                        .iter()
                        .map(|fields| {
                            fields
                                .iter()
                                .map(|(k, v)| (k.value.clone(), v.value.clone()))
                                .collect()
                        })
                        .collect(),
                    file: x.file.as_ref().map(|f| rel(dir, &f.value)),
                },
            })
            .collect();
        out.push(SpecTest {
            name: test.name.value.clone(),
            location,
            input_topic: test
                .input
                .as_ref()
                .map(|i| i.topic.value.clone())
                .unwrap_or_default(),
            records,
            jobs: test.streams.iter().map(|s| s.value.clone()).collect(),
            set,
            expect,
            now_ms,
            stores: test
                .stores
                .iter()
                .map(|(name, d)| {
                    (
                        name.value.clone(),
                        rel(dir, &d.load.value),
                        d.key.value.clone(),
                    )
                })
                .collect(),
            report,
        });
    }
    Ok(out)
}

fn location(ix: &Index<'_>, span: crate::source::Span) -> String {
    match ix.sources.get(span.file) {
        Some(f) => {
            let (line, _) = f.line_col(span.range().start);
            format!("{}:{line}", f.path.display())
        }
        None => String::new(),
    }
}

/// `job.step-index.key` → (job, index, key), checked against the manifest: the job
/// exists, has that step, and the step has that setting.
fn parse_set_key(key: &str, m: &Manifest) -> Result<(String, usize, String), String> {
    let mut parts = key.splitn(3, '.');
    let (Some(job), Some(idx), Some(setting)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(
            "write `<stream>.<step index>.<setting>`, e.g. `telemetry-extractor.1.max_event_size`"
                .into(),
        );
    };
    let j = m
        .jobs
        .get(job)
        .ok_or_else(|| format!("no stream `{job}`"))?;
    let i: usize = idx
        .parse()
        .map_err(|_| format!("`{idx}` is not a step index (0, 1, ...)"))?;
    let step = j.steps.get(i).ok_or_else(|| {
        format!(
            "stream `{job}` has {} steps (0 to {})",
            j.steps.len(),
            j.steps.len().saturating_sub(1)
        )
    })?;
    let v = serde_json::to_value(step).unwrap_or(Value::Null);
    if v.get(setting).is_none() || setting == "step" {
        let known: Vec<&str> = v
            .as_object()
            .map(|o| {
                o.keys()
                    .map(String::as_str)
                    .filter(|k| *k != "step")
                    .collect()
            })
            .unwrap_or_default();
        return Err(format!(
            "step {i} of `{job}` ({}) has no setting `{setting}`; it has {}",
            step.kind(),
            known.join(", ")
        ));
    }
    Ok((job.to_string(), i, setting.to_string()))
}

/// The manifest with a test's step settings applied. Sizes and durations may be written
/// as in the spec (`1KiB`, `10s`) for settings in bytes or milliseconds.
pub fn apply_set(m: &Manifest, set: &[(String, usize, String, Value)]) -> Result<Manifest, String> {
    let mut m = m.clone();
    for (job, i, key, value) in set {
        let Some(step) = m.jobs.get_mut(job).and_then(|j| j.steps.get_mut(*i)) else {
            return Err(format!("no step {i} in `{job}`"));
        };
        let mut v = serde_json::to_value(&*step).map_err(|e| e.to_string())?;
        let converted = match (value, key.as_str()) {
            (Value::String(s), k) if k.ends_with("_size") => {
                Value::from(crate::units::parse_size(s).map_err(|e| e.message)?)
            }
            (Value::String(s), k) if k.ends_with("_ms") => {
                Value::from(crate::units::parse_duration(s).map_err(|e| e.message)?)
            }
            _ => value.clone(),
        };
        if let Some(o) = v.as_object_mut() {
            o.insert(key.clone(), converted);
        }
        *step = serde_json::from_value::<Step>(v).map_err(|e| format!("`{job}.{i}.{key}`: {e}"))?;
    }
    Ok(m)
}
