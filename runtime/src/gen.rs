//! A generator of realistic Sunbird telemetry for benchmarks and load tests: batch
//! envelopes (`{"id":"sunbird.telemetry","ver":"3.0","params":{"msgid":..},"events":[..]}`)
//! of events whose shapes are taken from Sunbird's fixtures (START, IMPRESSION, INTERACT,
//! LOG, AUDIT, SEARCH, END, SHARE, ERROR), with fresh ids, `mid`s and times from a small
//! seeded PRNG, a share of duplicates (a `mid` seen before) and of invalid events (a
//! required field removed).

use serde_json::{Map, Value};

/// Event shapes, after Sunbird's pipeline-preprocessor and telemetry-extractor fixtures,
/// as the telemetry API receives them (no `syncts`, no `@timestamp`), with a weight.
const SHAPES: &[(u32, &str)] = &[
    (
        30,
        r#"{"eid":"IMPRESSION","ets":0,"ver":"3.0","mid":"","actor":{"id":"","type":"User"},"context":{"channel":"0126825293972439041","pdata":{"id":"dev.sunbird.portal","ver":"4.1.0","pid":"sunbird-portal"},"env":"home","sid":"","did":"","cdata":[],"rollup":{"l1":"0126825293972439041"}},"object":{"id":"do_312528116260749312248818","type":"Course","ver":"1","rollup":{}},"tags":[],"edata":{"type":"view","subtype":"paginate","pageid":"learn","uri":"https://igot.gov.in/app/learn","duration":1.52,"visits":[]}}"#,
    ),
    (
        30,
        r#"{"eid":"INTERACT","ets":0,"ver":"3.0","mid":"","actor":{"id":"","type":"User"},"context":{"cdata":[],"env":"home","channel":"0126825293972439041","pdata":{"id":"dev.sunbird.portal","pid":"sunbird.app","ver":"2.3.144"},"sid":"","did":""},"edata":{"type":"OTHER","subtype":"sheen-animation-ended","id":"library","pageid":"library","extra":{"pos":[]}},"object":{"id":"GWNI38","type":"DialCode","version":"","rollup":{}}}"#,
    ),
    (
        10,
        r#"{"eid":"LOG","ets":0,"ver":"3.0","mid":"","actor":{"id":"","type":"user"},"context":{"channel":"b00bc992ef25f1a9a8d63291e20efc8d","pdata":{"id":"dev.sunbird.portal","ver":"0.0.1"},"env":"content-service","sid":"","did":"","cdata":[],"rollup":{"l1":"ORG_001","l2":"0123673542904299520"}},"object":{},"tags":["b00bc992ef25f1a9a8d63291e20efc8d"],"edata":{"type":"api_access","level":"INFO","message":"","params":[{"url":"/content/composite/v1/search"},{"protocol":"https"},{"method":"POST"},{}]}}"#,
    ),
    (
        6,
        r#"{"eid":"START","ets":0,"ver":"3.0","mid":"","actor":{"id":"","type":"User"},"context":{"channel":"505c7c48ac6dc1edc9b08f21db5a571d","pdata":{"id":"dev.sunbird.desktop","pid":"sunbird.app","ver":"2.3.162"},"env":"app","sid":"","did":"","cdata":[]},"object":{"id":"do_312528116260749312248818","type":"TextBook","version":"10","rollup":{}},"edata":{"type":"app","mode":"play","duration":0,"pageid":"home"}}"#,
    ),
    (
        6,
        r#"{"eid":"END","ets":0,"ver":"3.0","mid":"","actor":{"id":"","type":"User"},"context":{"channel":"505c7c48ac6dc1edc9b08f21db5a571d","pdata":{"id":"dev.sunbird.desktop","pid":"sunbird.app","ver":"2.3.162"},"env":"app","sid":"","did":"","cdata":[]},"object":{"id":"do_312528116260749312248818","type":"TextBook","version":"10","rollup":{}},"edata":{"type":"app","mode":"play","duration":312,"pageid":"home","summary":[{"progress":100}]}}"#,
    ),
    (
        6,
        r#"{"eid":"AUDIT","ets":0,"ver":"3.0","mid":"","actor":{"id":"","type":"System"},"context":{"cdata":[{"id":"student","type":"UserRole"}],"env":"sdk","channel":"505c7c48ac6dc1edc9b08f21db5a571d","pdata":{"id":"dev.mdo.portal","pid":"sunbird.app","ver":"2.6.204"},"sid":"","did":""},"edata":{"state":"Updated","props":["medium","board","grade","syllabus","gradeValue"]},"object":{"id":"77ae3fd0-5d27-44e1-ab40-dbc3f723d3ed","type":"User","version":"","rollup":{}}}"#,
    ),
    (
        6,
        r#"{"eid":"SEARCH","ets":0,"ver":"3.0","mid":"","actor":{"id":"","type":"System"},"context":{"channel":"in.ekstep","pdata":{"id":"dev.sunbird.learning.platform","pid":"search-service","ver":"1.0"},"env":"search","sid":"","did":""},"edata":{"size":112402,"query":"","filters":{"dialCodes":"WGHSK"},"sort":{},"type":"all","topn":[{"identifier":"do_11278295762528665612"},{"identifier":"domain_14443"},{"identifier":"do_11243460107708006418"}]}}"#,
    ),
    (
        3,
        r#"{"eid":"SHARE","ets":0,"ver":"3.0","mid":"","actor":{"id":"","type":"User"},"context":{"channel":"505c7c48ac6dc1edc9b08f21db5a571d","pdata":{"id":"dev.sunbird.app","pid":"sunbird.app","ver":"2.3.162"},"env":"app","sid":"","did":""},"edata":{"dir":"In","type":"File","items":[{"origin":{"id":"1b17c32bad61eb9e33df281eecc727590d739b2b","type":"Device"},"id":"do_312785709424099328114191","type":"CONTENT","ver":"1","params":[{"transfers":0,"size":21084308}]},{"origin":{"id":"1b17c32bad61eb9e33df281eecc727590d739b2b","type":"Device"},"id":"do_31277435209002188818711","type":"CONTENT","ver":"18","params":[{"transfers":12,"size":""}]}]},"object":{"id":"do_312528116260749312248818","type":"TextBook","version":"10","rollup":{}},"tags":[]}"#,
    ),
    (
        3,
        r#"{"eid":"ERROR","ets":0,"ver":"3.0","mid":"","actor":{"id":"","type":"System"},"context":{"channel":"01235953109336064029450","pdata":{"id":"dev.sunbird.app","pid":"learning-service","ver":"1.0"},"env":"framework","sid":"","did":"","cdata":[]},"edata":{"err":"ERR_FRAMEWORK_NOT_FOUND","errtype":"system","stacktrace":"ERR_FRAMEWORK_NOT_FOUND: Framework not found"},"object":{"id":"NCF","type":"Framework"}}"#,
    ),
];

/// Required fields an invalid event goes without, in turn.
const REQUIRED: &[&str] = &["actor", "context", "edata", "ets"];

/// What the generator makes.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Events per batch envelope.
    pub events_per_batch: usize,
    /// Share (0..=1) of events that re-use the `mid` of an earlier valid event.
    pub duplicate_rate: f64,
    /// Share (0..=1) of events that miss a field their schema requires.
    pub invalid_rate: f64,
    /// PRNG seed: the same seed and options give the same batches.
    pub seed: u64,
}

impl Default for GenOptions {
    fn default() -> GenOptions {
        GenOptions {
            events_per_batch: 100,
            duplicate_rate: 0.0,
            invalid_rate: 0.0,
            seed: 42,
        }
    }
}

/// What a generated event is meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Valid, with a fresh `mid`.
    Valid,
    /// Valid, with the `mid` of an earlier event.
    Duplicate,
    /// Missing a required field.
    Invalid,
}

/// Counts of what was generated so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenCounts {
    /// Batch envelopes.
    pub batches: u64,
    /// Valid events with a fresh `mid`.
    pub valid: u64,
    /// Duplicates.
    pub duplicate: u64,
    /// Invalid events.
    pub invalid: u64,
}

/// Generates Sunbird telemetry; see the module documentation.
#[derive(Debug)]
pub struct Generator {
    opts: GenOptions,
    rng: u64,
    shapes: Vec<(u32, Value)>,
    total_weight: u32,
    /// Recent fresh `mid`s, for duplicates (a ring of at most [`RECENT`]).
    recent: Vec<String>,
    next: u64,
    ets: u64,
    counts: GenCounts,
}

const RECENT: usize = 4096;

impl Generator {
    /// A generator with these options.
    pub fn new(opts: GenOptions) -> Generator {
        let shapes: Vec<(u32, Value)> = SHAPES
            .iter()
            .filter_map(|(w, s)| serde_json::from_str(s).ok().map(|v| (*w, v)))
            .collect();
        let total_weight = shapes.iter().map(|(w, _)| w).sum();
        Generator {
            rng: opts.seed ^ 0x9E37_79B9_7F4A_7C15,
            opts,
            shapes,
            total_weight,
            recent: Vec::new(),
            next: 0,
            ets: 1_700_000_000_000,
            counts: GenCounts::default(),
        }
    }

    /// What was generated so far.
    pub fn counts(&self) -> &GenCounts {
        &self.counts
    }

    /// SplitMix64.
    fn u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// A random UUID-shaped id.
    fn uuid(&mut self) -> String {
        let (a, b) = (self.u64(), self.u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }

    /// One event and what it is meant to be.
    pub fn event(&mut self) -> (Value, Kind) {
        let mut pick = (self.u64() % u64::from(self.total_weight.max(1))) as u32;
        let mut shape = Value::Null;
        for (w, s) in &self.shapes {
            if pick < *w {
                shape = s.clone();
                break;
            }
            pick -= w;
        }
        self.ets += self.u64() % 50;
        let r = self.unit();
        let kind = if r < self.opts.invalid_rate {
            Kind::Invalid
        } else if r < self.opts.invalid_rate + self.opts.duplicate_rate && !self.recent.is_empty() {
            Kind::Duplicate
        } else {
            Kind::Valid
        };
        let mid = match kind {
            Kind::Duplicate => {
                let i = (self.u64() % self.recent.len() as u64) as usize;
                self.recent[i].clone()
            }
            _ => {
                self.next += 1;
                let salt = self.u64();
                let eid = shape.get("eid").and_then(Value::as_str).unwrap_or("EVENT");
                format!("{eid}:{:016x}{:016x}", self.next, salt)
            }
        };
        if kind == Kind::Valid {
            if self.recent.len() < RECENT {
                self.recent.push(mid.clone());
            } else {
                let i = (self.next as usize) % RECENT;
                self.recent[i] = mid.clone();
            }
        }
        let (actor, sid, did) = (self.uuid(), self.uuid(), self.uuid());
        if let Some(o) = shape.as_object_mut() {
            o.insert("ets".into(), Value::from(self.ets));
            o.insert("mid".into(), Value::String(mid));
            set_str(o, "actor", "id", actor);
            if let Some(Value::Object(c)) = o.get_mut("context") {
                c.insert("sid".into(), Value::String(sid));
                c.insert("did".into(), Value::String(did));
            }
            if kind == Kind::Invalid {
                let i = (self.u64() % REQUIRED.len() as u64) as usize;
                o.remove(REQUIRED[i]);
            }
        }
        match kind {
            Kind::Valid => self.counts.valid += 1,
            Kind::Duplicate => self.counts.duplicate += 1,
            Kind::Invalid => self.counts.invalid += 1,
        }
        (shape, kind)
    }

    /// A batch envelope of `events_per_batch` events, as a value.
    pub fn batch_value(&mut self) -> Value {
        let events: Vec<Value> = (0..self.opts.events_per_batch)
            .map(|_| self.event().0)
            .collect();
        let mut params = Map::new();
        params.insert("msgid".into(), Value::String(self.uuid()));
        params.insert("requesterId".into(), Value::String(String::new()));
        params.insert("did".into(), Value::String(self.uuid()));
        params.insert("key".into(), Value::String(String::new()));
        let mut b = Map::new();
        b.insert("id".into(), Value::String("sunbird.telemetry".into()));
        b.insert("ver".into(), Value::String("3.0".into()));
        b.insert("ets".into(), Value::from(self.ets));
        b.insert("params".into(), Value::Object(params));
        b.insert("events".into(), Value::Array(events));
        self.counts.batches += 1;
        Value::Object(b)
    }

    /// A batch envelope of `events_per_batch` events, serialized.
    pub fn batch(&mut self) -> Vec<u8> {
        serde_json::to_vec(&self.batch_value()).unwrap_or_default()
    }
}

/// Sets `o[outer][inner]` to a string, when `o[outer]` is an object.
fn set_str(o: &mut Map<String, Value>, outer: &str, inner: &str, s: String) {
    if let Some(Value::Object(m)) = o.get_mut(outer) {
        m.insert(inner.into(), Value::String(s));
    }
}

#[cfg(test)]
#[path = "gen_tests.rs"]
mod tests;
