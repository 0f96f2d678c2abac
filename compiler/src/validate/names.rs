//! Names that reach file paths, shell scripts, crontab lines and Kubernetes objects: the
//! pipeline, its environments (and `--env`), clusters, streams (jobs), reports and
//! backups. They are checked here, where the spec declares them, so that what is generated
//! from them never has to guess: a valid name is one path component that is not `.` or
//! `..`, a plain shell word, a plain YAML scalar and (lower-cased) a DNS label (PC0012).
//! Streams, reports and backups name Kubernetes objects of the Helm chart as they are
//! written, so theirs must also be DNS labels as written (PC0015).

use super::Index;
use crate::diagnostics::{Diagnostics, catalog};
use crate::spec::Spanned;

/// The longest name allowed (a Kubernetes label value).
pub const MAX_NAME_LEN: usize = 63;

/// Whether `name` is safe in every place a name goes.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= MAX_NAME_LEN
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Whether `name` is a DNS label (RFC 1123), as Kubernetes wants the name of a Deployment,
/// a Service or a CronJob and the chart's values schema checks job, report and backup names:
/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters.
pub fn is_kubernetes_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    edge(bytes.first())
        && edge(bytes.last())
        && name.len() <= MAX_NAME_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Reports every declared name that is not valid.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    let mut name = |what: &str, n: &Spanned<String>| {
        if !is_valid_name(&n.value) {
            diags.push(
                catalog::invalid_name(what, &n.value).at(n.span, format!("this {what} name")),
            );
        }
    };
    if let Some(p) = ix.root.and_then(|r| r.spec.pipeline.as_ref()) {
        name("pipeline", p);
    }
    for (env, _) in ix.root.iter().flat_map(|r| r.spec.environments.iter()) {
        name("environment", env);
    }
    for c in &ix.clusters.items {
        name("cluster", c.name);
    }
    for s in &ix.streams.items {
        name("stream", s.name);
    }
    for r in &ix.reports.items {
        name("report", r.name);
    }
    for b in &ix.backups.items {
        name("backup", b.name);
    }
    // What the Helm chart names after them (templates/helm/chart/templates) must also be a
    // Kubernetes name; reported only for names safe elsewhere, so that a name gets one error.
    let mut kube = |what: &str, object: &str, n: &Spanned<String>| {
        if is_valid_name(&n.value) && !is_kubernetes_name(&n.value) {
            diags.push(
                catalog::not_a_kubernetes_name(what, object, &n.value)
                    .at(n.span, format!("this {what} name")),
            );
        }
    };
    for s in &ix.streams.items {
        kube("stream", "Deployment", s.name);
    }
    for r in &ix.reports.items {
        kube("report", "CronJob", r.name);
    }
    for b in &ix.backups.items {
        kube("backup", "Deployment", b.name);
    }
    // The environment compiled: `vars.env` (at its place) or `--env` (which has none).
    if let Some(env) = ix.vars.get("env")
        && !is_valid_name(env)
    {
        let declared = ix
            .root
            .and_then(|r| r.spec.vars.iter().find(|(k, _)| k.value == "env"))
            .filter(|(_, v)| &v.value == env);
        let d = catalog::invalid_name("environment", env);
        diags.push(match declared {
            Some((_, v)) => d.at(v.span, "this environment name"),
            None => d.help("`--env` (or PIPEC_ENV) names the environment; use letters, digits, `_`, `.` and `-`"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{is_kubernetes_name, is_valid_name};

    #[test]
    fn kubernetes_names_are_dns_labels() {
        for ok in [
            "igot",
            "workflow-summary",
            "a",
            "0day",
            "a-1",
            &"a".repeat(63),
        ] {
            assert!(is_kubernetes_name(ok), "{ok}");
        }
        for bad in [
            "",
            "Pre_Process",
            "pre_process",
            "a.b",
            "Prod",
            "-x",
            "x-",
            "é",
            "a b",
            &"a".repeat(64),
        ] {
            assert!(!is_kubernetes_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn names_safe_everywhere() {
        for ok in ["igot", "workflow-summary", "a.b_c-1", "Prod", "0day"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "-x",
            "a/b",
            "a b",
            "daily$(touch X)",
            "daily\"; touch X; \"",
            "x\ny",
            "é",
            &"a".repeat(64),
        ] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
    }
}
