//! Benchmark of `pipec check` (parse + validate) on a generated spec with 200 streams and
//! 500 topics, and on the quickstart example; and of `pipec compile` (check, lower,
//! render) on the generated spec and on `pipelines/igot`. The generated spec is left in
//! `target/bench-spec/` so the whole process can be timed too
//! (`hyperfine 'target/release/pipec check target/bench-spec'`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use pipec_compiler::codegen::{Templates, generate as generate_artifacts};
use pipec_compiler::{CheckOptions, check, compile};

/// Writes a spec with `streams` streams and `topics` topics and returns its directory.
fn generate(streams: usize, topics: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-spec");
    let _ = std::fs::create_dir_all(dir.join("schemas"));
    let schema = r#"{"type":"object","required":["eid","mid"],"properties":{"eid":{"type":"string"},"mid":{"type":"string"},"ets":{"type":"integer"},"context":{"type":"object","properties":{"did":{"type":"string"},"channel":{"type":"string"}}},"edata":{"type":"object","additionalProperties":false,"properties":{"type":{"type":"string"},"id":{"type":"string"}}}}}"#;
    for t in ["start", "interact", "log"] {
        let _ = std::fs::write(dir.join("schemas").join(format!("{t}.json")), schema);
    }
    let mut s = String::from(
        "pipeline: bench\nvars: { env: dev }\ndefaults:\n  topic: { partitions: 4, replication: 2, retention: 48h }\n\
         stores:\n  dedup: { redis: \"redis://127.0.0.1:6379\", db: 7 }\n\
         events:\n  schemas: schemas\n  types: [START, INTERACT, LOG]\ntopics:\n",
    );
    for t in 0..topics {
        let external = if t < streams { ", external: true" } else { "" };
        let _ = writeln!(
            s,
            "  t{t}: {{ name: \"{{env}}.bench.topic.{t}\", key: context.did{external} }}"
        );
    }
    s.push_str("streams:\n");
    for i in 0..streams {
        let a = streams + (i * 2) % (topics - streams);
        let b = streams + (i * 2 + 1) % (topics - streams);
        let _ = write!(
            s,
            "  s{i}:\n    from: t{i}\n    replicas: 2\n    steps:\n      - validate: {{ invalid: t{a} }}\n      - set: {{ context.channel: 'coalesce(context.channel, \"in.ekstep\")' }}\n      - dedup: {{ key: mid, store: dedup, ttl: 1h, duplicates: t{b} }}\n      - route:\n          - {{ when: 'eid == \"LOG\" and edata.type != \"api\"', to: t{a} }}\n          - {{ else: t{b} }}\n"
        );
    }
    let _ = std::fs::write(dir.join("pipeline.yaml"), s);
    dir
}

fn bench(c: &mut Criterion) {
    let spec = generate(200, 500);
    let none = |_: &str| None;
    let opts = CheckOptions {
        env: None,
        env_lookup: &none,
    };
    let result = check(&spec, &opts);
    assert!(
        !result.diagnostics.has_errors(),
        "generated spec has errors"
    );
    c.bench_function("check 200 streams x 500 topics", |b| {
        b.iter(|| check(&spec, &opts))
    });
    let quickstart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart");
    c.bench_function("check quickstart", |b| b.iter(|| check(&quickstart, &opts)));

    // `pipec compile` without the writes: check, lower to the manifest, render every
    // artifact. igot has 51 topics, 10 jobs and 42 schema files to embed and digest.
    let templates = Templates::builtin();
    let compiled = |path: &Path| {
        let c = compile(path, &opts);
        let m = c.manifest.expect("the spec compiles");
        generate_artifacts(&m, &templates).expect("templates render")
    };
    c.bench_function("compile 200 streams x 500 topics", |b| {
        b.iter(|| compiled(&spec))
    });
    let igot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pipelines/igot");
    c.bench_function("compile igot", |b| b.iter(|| compiled(&igot)));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
