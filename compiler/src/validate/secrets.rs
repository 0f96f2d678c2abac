//! Secrets: passwords and keys never stand in the spec (it is reviewed, committed and
//! compiled into files that are shared); they are referenced with `{ secret, key }`.

use super::Index;
use super::index::rel;
use crate::diagnostics::{Diagnostic, Diagnostics, catalog};
use crate::spec::{SecretRef, Spanned};

/// Client settings whose value is a credential.
const SECRET_CONFIGS: &[&str] = &[
    "sasl.password",
    "sasl.jaas.config",
    "sasl.oauthbearer.client.secret",
    "ssl.key.password",
    "ssl.keystore.password",
    "ssl.truststore.password",
    "ssl.key.pem",
];

/// SASL mechanisms pipec's Kafka client supports with a password.
const MECHANISMS: &[&str] = &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/// Checks stores and clusters for credentials written into the spec, and every secret
/// reference for a usable name.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    for s in &ix.stores.items {
        if let Some(url) = &s.def.redis
            && let Some(range) = url_password(&url.value)
        {
            let span = super::sub_span(ix.sources, url, range);
            diags.push(
                Diagnostic::error("PC0309", "a password is written in the spec")
                    .at(span, "the password of this Redis URL")
                    .help(
                        "remove it from the URL and add `password: { secret: <k8s secret>, key: <key> }` to the store",
                    ),
            );
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
    for c in &ix.clusters.items {
        for (k, _) in c.def.config.iter() {
            if SECRET_CONFIGS.contains(&k.value.as_str()) {
                diags.push(
                    Diagnostic::error("PC0309", format!("`{}` is written in the spec", k.value))
                        .at(k.span, "a credential")
                        .help("use `sasl: { mechanism, username, password: { secret, key } }` instead"),
                );
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

/// The byte range of the password in `redis://user:password@host`, if there is one.
fn url_password(url: &str) -> Option<std::ops::Range<usize>> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let at = rest.find('@')?;
    let userinfo = &rest[..at];
    let colon = userinfo.find(':')?;
    let start = scheme_end + colon + 1;
    let end = scheme_end + at;
    (end > start).then_some(start..end)
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

#[cfg(test)]
mod tests {
    use super::url_password;

    #[test]
    fn finds_url_passwords() {
        let u = "redis://:s3cret@host:6379";
        assert_eq!(url_password(u).map(|r| &u[r]), Some("s3cret"));
        let u = "redis://user:pw@host";
        assert_eq!(url_password(u).map(|r| &u[r]), Some("pw"));
        assert_eq!(url_password("redis://host:6379"), None);
        assert_eq!(url_password("redis://user@host"), None);
    }
}
