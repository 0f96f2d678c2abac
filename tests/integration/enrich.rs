//! Enrichment from a lookup file, end to end: a memory store loaded from CSV, an `enrich`
//! step, and `pipec test` expectations on the enriched fields.

use crate::support::{pipec, scratch};

const SPEC: &str = r#"pipeline: enrich
vars: { env: dev }
stores:
  users: { memory: { load: users.csv, key: id } }
events:
  type_field: eid
  types: { VIEW: { schema: none } }
topics:
  views: { name: "{env}.views", external: true }
  enriched: { name: "{env}.views.enriched" }
streams:
  add-user:
    from: views
    steps:
      - enrich: { store: users, key: uid, into: user, flag: user_found, fields: [name, org] }
      - emit: enriched
tests:
  - name: known users get their name and org, unknown ones the flag only
    input:
      topic: views
      events:
        - { eid: VIEW, uid: "u1", page: "/a" }
        - { eid: VIEW, uid: "u9", page: "/b" }
        - { eid: VIEW, page: "/c" }
    expect:
      enriched:
        count: 3
        events:
          - { user.name: Asha, user.org: mdo-1, user.secret: null, user_found: true }
          - { user_found: false }
          # No key, no lookup: the flag says "looked up and not found", so it is not set.
          - { user_found: null, user: null }
"#;

#[test]
fn a_memory_store_loaded_from_csv_enriches_events() {
    let dir = scratch("enrich-csv");
    std::fs::write(dir.join("pipeline.yaml"), SPEC).expect("spec");
    std::fs::write(
        dir.join("users.csv"),
        "id,name,org,secret\nu1,Asha,mdo-1,x\nu2,Ravi,mdo-2,y\n",
    )
    .expect("csv");
    let out = pipec(&["test", dir.to_str().expect("utf-8")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .contains("test known users get their name and org, unknown ones the flag only ... ok"),
        "{stdout}"
    );
}

#[test]
fn a_broken_lookup_file_is_an_error_naming_file_and_line() {
    let dir = scratch("enrich-bad-csv");
    std::fs::write(dir.join("pipeline.yaml"), SPEC).expect("spec");
    std::fs::write(dir.join("users.csv"), "id,name,org\nu1,Asha\n").expect("csv");
    let out = pipec(&["test", dir.to_str().expect("utf-8")]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("users.csv:2"), "{all}");
}
