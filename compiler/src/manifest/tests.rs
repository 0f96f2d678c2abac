use std::path::Path;

use super::*;
use crate::{CheckOptions, compile};

fn igot(env: &str) -> Manifest {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipelines/igot");
    let c = compile(
        &root,
        &CheckOptions {
            env: Some(env.into()),
            env_lookup: &|_| None,
        },
    );
    assert!(
        !c.check.diagnostics.has_errors(),
        "{:?}",
        c.check.diagnostics
    );
    c.manifest.expect("manifest")
}

#[test]
fn igot_lowers() {
    let m = igot("dev");
    println!("{}", m.to_json().len());
    assert_eq!(m.manifest_version, MANIFEST_VERSION);
    let raw = &m.topics["raw"];
    assert_eq!(raw.name, "dev.telemetry.raw");
    assert_eq!(raw.partitions, 16);
    assert_eq!(
        raw.config.get("retention.ms").map(String::as_str),
        Some("172800000")
    );
    let back = Manifest::from_json(&m.to_json()).expect("round trip");
    assert_eq!(back, m);
}
