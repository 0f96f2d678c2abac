//! Secrets that must not get through `check` into the manifest and the chart (issue 17,
//! item 10), and settings that look alike but are not secrets.

use std::path::Path;

use crate::diagnostics::{Diagnostic, RenderOptions, render_text};
use crate::{CheckOptions, CheckResult, check_text};

/// A value no diagnostic may show (except as the spec's own text, quoted in a snippet).
const SECRET: &str = "Hunter2-s3cret";

/// The base spec with `cluster` (the cluster's lines), `store` (the store's mapping) and
/// `extra` (more top-level sections) put in.
fn spec(cluster: &str, store: &str, extra: &str) -> String {
    format!(
        "pipeline: p
description: Secrets.
vars: {{ env: dev }}
clusters:
  main:
    brokers: 127.0.0.1:9092
{cluster}
stores:
  dedup: {store}
events:
  type_field: eid
  types: {{ LOG: {{ schema: none }} }}
topics:
  raw: {{ name: \"{{env}}.raw\", external: true }}
  logs: {{ name: \"{{env}}.logs\" }}
streams:
  pre:
    from: raw
    steps:
      - dedup: {{ key: mid, store: dedup, ttl: 1h }}
      - route:
          - {{ else: logs }}
{extra}"
    )
}

const REDIS: &str = "{ redis: \"redis://127.0.0.1:6379\", db: 7 }";

fn env(name: &str) -> Option<String> {
    match name {
        "PIPEC_TEST_SECRET" => Some(SECRET.to_string()),
        "PIPEC_TEST_REGION" => Some("in".to_string()),
        _ => None,
    }
}

fn check(text: &str) -> CheckResult {
    let opts = CheckOptions {
        env: None,
        env_lookup: &env,
    };
    check_text(Path::new("/nonexistent/pipeline.yaml"), text, &opts)
}

fn secret_findings(r: &CheckResult) -> Vec<&Diagnostic> {
    r.diagnostics
        .iter()
        .filter(|d| d.code == "PC0309")
        .collect()
}

/// The words of every diagnostic (message, labels, help), without the quoted source.
fn words(r: &CheckResult) -> String {
    let mut s = String::new();
    for d in r.diagnostics.iter() {
        s.push_str(&d.message);
        for l in d.primary.iter().chain(&d.secondary) {
            s.push_str(&l.text);
        }
        s.push_str(d.help.as_deref().unwrap_or(""));
    }
    s
}

/// Asserts that `text` is refused with PC0309, and that no diagnostic's words show the secret.
#[track_caller]
fn refused(text: &str) -> CheckResult {
    let r = check(text);
    assert!(
        !secret_findings(&r).is_empty(),
        "no PC0309 for:\n{text}\nfound: {:#?}",
        r.diagnostics.iter().collect::<Vec<_>>()
    );
    assert!(!words(&r).contains(SECRET), "a diagnostic shows the secret");
    r
}

#[track_caller]
fn allowed(text: &str) {
    let r = check(text);
    assert!(
        secret_findings(&r).is_empty(),
        "PC0309 for:\n{text}\nfound: {:#?}",
        secret_findings(&r)
    );
}

fn with_config(entries: &str) -> String {
    spec(&format!("    config: {{ {entries} }}"), REDIS, "")
}

#[test]
fn private_keys_and_embedded_credentials_in_client_settings_are_refused() {
    for key in [
        "ssl.keystore.key",
        "sasl.oauthbearer.config",
        "sasl.oauthbearer.client.secret",
        "sasl.oauthbearer.assertion.private.key.passphrase",
        "sasl.oauthbearer.assertion.private.key.pem",
        "ssl.key.pem",
        "ssl_key",
        "ssl.key.password",
        "ssl.truststore.password",
        "sasl.jaas.config",
        "basic.auth.user.info",
        "bearer.auth.token",
    ] {
        refused(&with_config(&format!("{key}: \"{SECRET}\"")));
    }
}

#[test]
fn client_settings_are_matched_whatever_their_case() {
    refused(&with_config(&format!("SASL.PASSWORD: {SECRET}")));
    refused(&with_config(&format!("Ssl.Keystore.Password: {SECRET}")));
}

#[test]
fn paths_and_public_material_are_not_credentials() {
    allowed(&with_config(
        "ssl.key.location: /etc/kafka/client.key, ssl.keystore.location: /etc/kafka/ks.p12, \
         ssl.certificate.location: /etc/kafka/client.pem, ssl.certificate.pem: CERT, \
         sasl.oauthbearer.assertion.private.key.file: /etc/kafka/jwt.key, \
         sasl.kerberos.keytab: /etc/krb5.keytab, message.key: mid, \
         sasl.oauthbearer.token.endpoint.url: \"https://idp.example/token\"",
    ));
}

#[test]
fn a_url_in_a_client_setting_carries_no_credentials() {
    refused(&with_config(&format!(
        "sasl.oauthbearer.token.endpoint.url: \"https://client:{SECRET}@idp.example/token\""
    )));
    refused(&with_config(&format!(
        "sasl.oauthbearer.token.endpoint.url: \"https://idp.example/token?client_secret={SECRET}\""
    )));
}

#[test]
fn a_redis_url_with_a_password_and_no_user_is_refused() {
    // Before: `redis://PASSWORD@host` was taken for a user name. Most Redis clients read it
    // as the password, and either way it lands in the manifest.
    refused(&spec(
        "",
        &format!("{{ redis: \"redis://{SECRET}@127.0.0.1:6379\", db: 7 }}"),
        "",
    ));
    refused(&spec(
        "",
        &format!("{{ redis: \"rediss://{SECRET}@127.0.0.1:6379/0\", db: 7 }}"),
        "",
    ));
}

#[test]
fn a_redis_user_name_is_allowed_beside_a_password_secret() {
    // With `password`, the user of `redis://user@host` is the ACL user pipec authenticates as.
    allowed(&spec(
        "",
        "{ redis: \"redis://pipec@127.0.0.1:6379\", db: 7, password: { secret: redis-auth, key: password } }",
        "",
    ));
}

#[test]
fn passwords_and_tokens_in_url_queries_are_refused() {
    for query in ["password", "pwd", "token", "secret", "access_token", "auth"] {
        refused(&spec(
            "",
            &format!("{{ redis: \"redis://127.0.0.1:6379/0?{query}={SECRET}\", db: 7 }}"),
            "",
        ));
    }
    refused(&spec(
        "",
        &format!("{{ redis: \"redis://127.0.0.1:6379/0?db=7&Password={SECRET}\", db: 7 }}"),
        "",
    ));
}

#[test]
fn postgres_urls_carry_a_user_at_most() {
    let db = |url: &str| {
        spec(
            "",
            REDIS,
            &format!("databases:\n  dw: {{ postgres: \"{url}\" }}\n"),
        )
    };
    allowed(&db("postgres://pipec@127.0.0.1:5432/dw"));
    refused(&db(&format!("postgres://pipec:{SECRET}@127.0.0.1:5432/dw")));
    refused(&db(&format!(
        "postgresql://127.0.0.1:5432/dw?user=pipec&password={SECRET}"
    )));
}

#[test]
fn brokers_with_credentials_are_refused() {
    let brokers = |b: &str| {
        spec("", REDIS, "").replace("brokers: 127.0.0.1:9092", &format!("brokers: \"{b}\""))
    };
    refused(&brokers(&format!(
        "kafka-0:9092,pipec:{SECRET}@kafka-1:9092"
    )));
    refused(&brokers(&format!("SASL_SSL://pipec:{SECRET}@kafka-0:9093")));
    refused(&brokers(&format!("{SECRET}@kafka-0:9093")));
    allowed(&brokers(
        "kafka-0:9092, kafka-1:9092,PLAINTEXT://kafka-2:9092",
    ));
}

#[test]
fn a_malformed_url_is_not_echoed_when_it_may_hold_a_password() {
    let r = check(&spec(
        "",
        &format!("{{ redis: \"redis:/:{SECRET}@127.0.0.1:6379\", db: 7 }}"),
        "",
    ));
    assert!(r.diagnostics.has_errors());
    assert!(!words(&r).contains(SECRET), "{}", words(&r));
    let r = check(&spec(
        "",
        REDIS,
        &format!("databases:\n  dw: {{ postgres: \"pipec:{SECRET}@127.0.0.1/dw\" }}\n"),
    ));
    assert!(r.diagnostics.has_errors());
    assert!(!words(&r).contains(SECRET), "{}", words(&r));
}

#[test]
fn a_secret_from_the_environment_is_refused_and_never_shown() {
    let r = refused(&spec(
        "",
        "{ redis: \"redis://:${PIPEC_TEST_SECRET}@127.0.0.1:6379\", db: 7 }",
        "",
    ));
    let shown = render_text(
        &r.diagnostics.sorted(),
        &r.sources,
        RenderOptions {
            color: false,
            width: 100,
        },
    );
    assert!(!shown.contains(SECRET), "{shown}");
}

#[test]
fn descriptions_do_not_read_the_environment() {
    // Descriptions are copied into the manifest and the chart: an environment variable
    // there, directly or through a variable, could publish a secret.
    let direct = spec("", REDIS, "").replace(
        "description: Secrets.",
        "description: \"Deployed with ${PIPEC_TEST_SECRET}\"",
    );
    refused(&direct);
    let through_var = spec("", REDIS, "")
        .replace(
            "vars: { env: dev }",
            "vars: { env: dev, auth: \"${PIPEC_TEST_SECRET}\" }",
        )
        .replace(
            "description: Secrets.",
            "description: \"Deployed with {auth}\"",
        )
        .replace("  raw: {", "  raw: { description: \"as {auth}\",");
    let r = refused(&through_var);
    assert_eq!(secret_findings(&r).len(), 2, "{:#?}", secret_findings(&r));
    // A default is the environment's too.
    let with_default = spec("", REDIS, "").replace(
        "description: Secrets.",
        "description: \"${PIPEC_TEST_UNSET:-x}\"",
    );
    refused(&with_default);
}

#[test]
fn descriptions_still_take_variables_written_in_the_spec() {
    let text = spec("", REDIS, "")
        .replace(
            "vars: { env: dev }",
            "vars: { env: dev, region: \"${PIPEC_TEST_REGION}\", team: data }",
        )
        .replace(
            "description: Secrets.",
            "description: \"{team} pipeline for {env}\"",
        );
    allowed(&text);
    let r = check(&text);
    assert!(
        !r.diagnostics.has_errors(),
        "{:#?}",
        r.diagnostics.iter().collect::<Vec<_>>()
    );
    // The environment still reaches the fields that take it.
    let brokers = spec("", REDIS, "").replace(
        "brokers: 127.0.0.1:9092",
        "brokers: \"${PIPEC_TEST_REGION}-kafka:9092\"",
    );
    allowed(&brokers);
}

#[test]
fn variables_named_as_credentials_are_refused() {
    refused(&spec("", REDIS, "").replace(
        "vars: { env: dev }",
        &format!("vars: {{ env: dev, redis_password: {SECRET} }}"),
    ));
    refused(&spec("", REDIS, "").replace(
        "vars: { env: dev }",
        "vars: { env: dev, KAFKA_TOKEN: \"${PIPEC_TEST_SECRET}\" }",
    ));
}
