//! The generator's rates, and its events against the iGOT schemas.

use std::path::Path;

use super::{GenOptions, Generator, Kind};
use crate::event::schema::Schemas;

fn opts(duplicate_rate: f64, invalid_rate: f64) -> GenOptions {
    GenOptions {
        events_per_batch: 50,
        duplicate_rate,
        invalid_rate,
        seed: 7,
    }
}

#[test]
fn rates_are_honoured() {
    for (dup, inv) in [(0.0, 0.0), (0.1, 0.05), (0.3, 0.2)] {
        let mut g = Generator::new(opts(dup, inv));
        for _ in 0..400 {
            let b = g.batch_value();
            let n = b["events"].as_array().map_or(0, Vec::len);
            assert_eq!(n, 50);
        }
        let c = g.counts().clone();
        let total = (c.valid + c.duplicate + c.invalid) as f64;
        assert_eq!(total, 20_000.0);
        assert_eq!(c.batches, 400);
        assert!((c.duplicate as f64 / total - dup).abs() < 0.01, "{c:?}");
        assert!((c.invalid as f64 / total - inv).abs() < 0.01, "{c:?}");
    }
}

#[test]
fn same_seed_same_batches() {
    let mut a = Generator::new(opts(0.1, 0.1));
    let mut b = Generator::new(opts(0.1, 0.1));
    assert_eq!(a.batch(), b.batch());
}

#[test]
fn events_validate_against_their_schema_unless_meant_not_to() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let check = pipec_compiler::CheckOptions {
        env: None,
        env_lookup: &|_| None,
    };
    let Some(m) = pipec_compiler::compile(&root.join("pipelines/igot"), &check).manifest else {
        panic!("pipelines/igot does not compile");
    };
    let mut schemas = match Schemas::new(&m) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut g = Generator::new(opts(0.1, 0.2));
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..3000 {
        let (ev, kind) = g.event();
        let eid = ev["eid"].as_str().unwrap_or_default().to_string();
        let Some(id) = m.event_types.get(&eid).and_then(|t| t.schema.clone()) else {
            panic!("no schema for `{eid}`");
        };
        let v = match schemas.get(&id) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        let valid = v.is_valid(&ev);
        match kind {
            Kind::Valid | Kind::Duplicate => {
                let why = v.validate(&ev).err().map(|e| e.to_string());
                assert!(valid, "{eid}: {why:?} in {ev}");
            }
            Kind::Invalid => assert!(!valid, "{ev}"),
        }
        seen.insert(eid);
    }
    assert!(seen.len() >= 8, "{seen:?}");
    let size: usize = (0..100)
        .map(|_| serde_json::to_vec(&g.event().0).map_or(0, |b| b.len()))
        .sum();
    assert!((400..1200).contains(&(size / 100)), "{}", size / 100);
}
