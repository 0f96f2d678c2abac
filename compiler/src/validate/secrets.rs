//! Secrets: passwords and keys never stand in the spec (it is reviewed, committed and
//! compiled into files that are shared); they are referenced with `{ secret, key }`.

use super::Index;
use super::credentials::{self, UserInfo};
use super::index::rel;
use crate::diagnostics::{Diagnostic, Diagnostics, catalog};
use crate::source::Span;
use crate::spec::{SecretRef, Spanned};

/// SASL mechanisms pipec's Kafka client supports with a password.
const MECHANISMS: &[&str] = &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/// Checks stores, clusters, paths and variables for credentials written into the
/// spec (or expanded into it from the environment), by the rule of [`credentials`], and every
/// secret reference for a usable name. No message quotes the credential.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    for s in &ix.stores.items {
        if let Some(url) = &s.def.redis {
            // Beside a password Secret, `redis://user@host` names the ACL user.
            let user = if s.def.password.is_some() {
                UserInfo::User
            } else {
                UserInfo::None
            };
            for range in credentials::url_credentials(&url.value, &|_| user) {
                let span = super::sub_span(ix.sources, url, range);
                diags.push(
                    written(ix, url, "a password")
                        .at(span, "the password of this Redis URL")
                        .help(
                            "remove it from the URL and add `password: { secret: <k8s secret>, key: <key> }` to the store",
                        ),
                );
            }
        }
        if let Some(p) = &s.def.password {
            if s.def.redis.is_none() {
                diags.push(
                    catalog::invalid_value("`password` applies to Redis stores only".into())
                        .at(p.secret.span, "not a Redis store")
                        .help("remove `password`, or make the store `redis`"),
                );
            }
            secret_ref(p, diags);
        }
    }
    // PostgreSQL: a user name in the URL is fine (`postgres://pipec@host/db`), its password
    // is not; it belongs in `password: { secret, key }`.
    for d in &ix.databases.items {
        let url = &d.def.postgres;
        for range in credentials::url_credentials(&url.value, &|_| UserInfo::User) {
            let span = super::sub_span(ix.sources, url, range);
            diags.push(
                written(ix, url, "a password")
                    .at(span, "the password of this PostgreSQL URL")
                    .help(
                        "remove it from the URL and add `password: { secret: <k8s secret>, key: <key> }` to the database",
                    ),
            );
        }
        if let Some(p) = &d.def.password {
            secret_ref(p, diags);
        }
    }
    for c in &ix.clusters.items {
        let brokers = &c.def.brokers;
        for range in credentials::broker_credentials(&brokers.value) {
            diags.push(
                written(ix, brokers, "a credential")
                    .at(super::sub_span(ix.sources, brokers, range), "credentials in the broker list")
                    .help("list brokers as `host:port`; authenticate with `sasl: { mechanism, username, password: { secret, key } }`"),
            );
        }
        for (k, v) in c.def.config.iter() {
            if credentials::is_credential_name(&k.value) {
                let help = if k.value.to_ascii_lowercase().starts_with("sasl.") {
                    "use `sasl: { mechanism, username, password: { secret, key } }` instead"
                } else {
                    "remove it: the spec, the manifest and the chart are shared; pipec takes credentials only as `{ secret, key }` references to Kubernetes Secrets (`sasl.password`, `tls.ca_secret`)"
                };
                diags.push(
                    Diagnostic::error("PC0309", format!("`{}` is written in the spec", k.value))
                        .at(k.span, "a credential")
                        .help(help),
                );
            } else if let serde_json::Value::String(text) = &v.value {
                let text = Spanned {
                    span: v.span,
                    value: text.clone(),
                };
                url_in(ix, &text, "this setting's URL", diags);
            }
        }
        if let Some(sasl) = &c.def.sasl {
            if !MECHANISMS.contains(&sasl.mechanism.value.as_str()) {
                diags.push(
                    catalog::invalid_value(format!(
                        "unknown SASL mechanism `{}`",
                        sasl.mechanism.value
                    ))
                    .at(sasl.mechanism.span, "not supported")
                    .help(format!("use one of {}", MECHANISMS.join(", "))),
                );
            }
            secret_ref(&sasl.password, diags);
        }
        if let Some(tls) = &c.def.tls {
            check_tls(c.dir, tls, diags);
        }
        // What `sasl` and `tls` set, the spec's client settings must not set as well.
        let derived = c.def.sasl.is_some() || c.def.tls.is_some();
        for (k, _) in c.def.config.iter() {
            if derived && DERIVED_CONFIGS.contains(&k.value.as_str()) {
                diags.push(catalog::conflicting(
                    format!("`{}` is set by the cluster's `sasl` and `tls`", k.value),
                    k.span,
                    "set twice",
                    "remove it from `config`: `sasl` and `tls` set it",
                ));
            }
        }
    }
    for b in &ix.backups.items {
        url_in(ix, &b.def.path, "this path's URL", diags);
    }
    variables(ix, diags);
}

/// A credential's error: "written in the spec", or "through a variable" when the string's
/// value came from `${NAME}` or `{name}` (the file shows the variable, not the value).
fn written(ix: &Index<'_>, text: &Spanned<String>, what: &str) -> Diagnostic {
    let snippet = ix.sources.snippet(text.span);
    if snippet.contains(text.value.as_str()) {
        Diagnostic::error("PC0309", format!("{what} is written in the spec"))
    } else {
        Diagnostic::error(
            "PC0309",
            format!("{what} is written in the spec through a variable"),
        )
    }
}

/// Reports the credentials of the URLs in `text` (any user information, credential
/// query parameters).
fn url_in(ix: &Index<'_>, text: &Spanned<String>, label: &str, diags: &mut Diagnostics) {
    for range in credentials::url_credentials(&text.value, &|_| UserInfo::None) {
        diags.push(
            written(ix, text, "a credential")
                .at(super::sub_span(ix.sources, text, range), format!("a credential in {label}"))
                .help("remove it: the spec, the manifest and the chart are shared; keep credentials in Kubernetes Secrets"),
        );
    }
}

/// Variables named as credentials: a variable's value is copied into every string that
/// uses it, and so into the manifest and the chart.
fn variables(ix: &Index<'_>, diags: &mut Diagnostics) {
    let Some(root) = ix.root else { return };
    let envs = root.spec.environments.iter().map(|(_, e)| &e.vars);
    for vars in std::iter::once(&root.spec.vars).chain(envs) {
        for (k, _) in vars.iter() {
            if credentials::is_credential_name(&k.value) {
                diags.push(variable(k.span, &k.value));
            }
        }
    }
}

fn variable(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error("PC0309", format!("variable `{name}` holds a credential"))
        .at(span, "named as a credential")
        .help("a variable is copied into the strings that use it, and so into the manifest and the chart; reference a Kubernetes Secret with `password: { secret, key }` where the credential is needed")
}

/// Client settings that `sasl` and `tls` derive.
const DERIVED_CONFIGS: &[&str] = &[
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.username",
    "ssl.ca.location",
    "ssl.ca.pem",
];

/// A cluster's `tls`: one CA at most; a CA file relative to the spec must be there (an
/// absolute one is a path on the machine that runs the jobs, checked when they start).
fn check_tls(dir: &std::path::Path, tls: &crate::spec::Tls, diags: &mut Diagnostics) {
    if let (Some(ca), Some(_)) = (&tls.ca, &tls.ca_secret) {
        diags.push(catalog::conflicting(
            "`tls` names two CAs".into(),
            ca.span,
            "and `ca_secret` too",
            "keep one of `ca` (a file) and `ca_secret` (a Kubernetes Secret)",
        ));
    }
    if let Some(ca) = &tls.ca {
        let path = std::path::Path::new(&ca.value);
        if ca.value.trim().is_empty() {
            diags.push(
                catalog::invalid_value("`ca` is empty".into())
                    .at(ca.span, "no path")
                    .help("name the CA certificate's PEM file, or remove `ca` to use the system's CAs"),
            );
        } else if path.is_relative() && !rel(dir, &ca.value).is_file() {
            diags.push(
                catalog::cannot_read("CA certificate", &ca.value, "no such file")
                    .at(ca.span, "not found")
                    .help("relative paths are relative to the spec file; an absolute path is read where the jobs run"),
            );
        }
    }
    if let Some(s) = &tls.ca_secret {
        secret_ref(s, diags);
    }
}

fn secret_ref(r: &SecretRef, diags: &mut Diagnostics) {
    let dns = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && !s.starts_with(['-', '.'])
            && !s.ends_with(['-', '.'])
    };
    if !dns(&r.secret.value) {
        bad(
            &r.secret,
            "not a Kubernetes Secret name",
            "use lower-case letters, digits, `-` and `.`",
            diags,
        );
    }
    let key_ok = !r.key.value.is_empty()
        && r.key
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if !key_ok {
        bad(
            &r.key,
            "not a Secret key",
            "use letters, digits, `-`, `_` and `.`",
            diags,
        );
    }
    if let Some(e) = &r.env {
        let ok = e
            .value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && e.value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            bad(
                e,
                "not an environment variable name",
                "use letters, digits and `_`",
                diags,
            );
        }
    }
}

fn bad(at: &Spanned<String>, label: &str, help: &str, diags: &mut Diagnostics) {
    diags.push(
        catalog::invalid_value(format!("`{}` is {label}", at.value))
            .at(at.span, label.to_string())
            .help(help.to_string()),
    );
}
