//! Constructors of every diagnostic, one per code, so messages stay consistent. Each takes
//! what the message needs; callers add the place with [`Diagnostic::at`].

use super::Diagnostic;
use crate::source::Span;
use crate::suggest::suggest;

/// Code of YAML syntax errors.
pub const YAML_SYNTAX: &str = "PC0001";
/// Code of unknown keys.
pub const UNKNOWN_KEY: &str = "PC0002";
/// Code of wrongly typed values.
pub const WRONG_TYPE: &str = "PC0003";
/// Code of missing keys.
pub const MISSING_KEY: &str = "PC0004";
/// Code of unknown enum names.
pub const UNKNOWN_VARIANT: &str = "PC0005";

fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    suggest(name, candidates).map(|s| format!("did you mean `{s}`?"))
}

/// PC0001.
pub fn yaml_syntax(message: &str) -> Diagnostic {
    Diagnostic::error(YAML_SYNTAX, format!("invalid YAML: {message}"))
}

/// PC0002: an unknown key, with the closest allowed one.
pub fn unknown_key(key: &str, allowed: &[&str], span: Span) -> Diagnostic {
    let visible: Vec<&str> = allowed
        .iter()
        .copied()
        .filter(|k| !k.starts_with('$'))
        .collect();
    let help = did_you_mean(key, visible.iter().copied())
        .unwrap_or_else(|| format!("allowed keys here: {}", visible.join(", ")));
    Diagnostic::error(UNKNOWN_KEY, format!("unknown key `{key}`"))
        .at(span, "not a known key here")
        .help(help)
}

/// PC0003.
pub fn wrong_type(expected: &str, found: &str) -> Diagnostic {
    Diagnostic::error(WRONG_TYPE, format!("expected {expected}, found {found}"))
}

/// PC0004.
pub fn missing_key(key: &str) -> Diagnostic {
    Diagnostic::error(MISSING_KEY, format!("missing key `{key}`"))
        .help(format!("add `{key}: ...` to this mapping"))
}

/// PC0005.
pub fn unknown_variant(name: &str, expected: &[&str]) -> Diagnostic {
    let help = did_you_mean(name, expected.iter().copied())
        .unwrap_or_else(|| format!("expected one of: {}", expected.join(", ")));
    Diagnostic::error(UNKNOWN_VARIANT, format!("unknown kind `{name}`")).help(help)
}

/// PC0006.
pub fn duplicate_key(key_message: &str, span: Span, first: Option<Span>) -> Diagnostic {
    let mut d = Diagnostic::error("PC0006", key_message.to_string())
        .at(span, "written again here")
        .help("remove one of the two; YAML would silently keep only the last");
    if let Some(f) = first {
        d = d.also(f, "first written here");
    }
    d
}

/// PC0007.
pub fn cannot_read(what: &str, path: &str, err: &str) -> Diagnostic {
    Diagnostic::error("PC0007", format!("cannot read {what} `{path}`: {err}"))
}

/// PC0008 for `{name}`.
pub fn undefined_var(name: &str, known: &[&str]) -> Diagnostic {
    Diagnostic::error("PC0008", format!("undefined variable `{{{name}}}`")).help(
        did_you_mean(name, known.iter().copied()).unwrap_or_else(|| {
            format!("define it under `vars`, or write `{{{{{name}}}}}` for literal braces")
        }),
    )
}

/// PC0008 for `${NAME}` (a warning: the value may be set where the pipeline runs).
pub fn unset_env(name: &str) -> Diagnostic {
    Diagnostic::warning(
        "PC0008",
        format!("environment variable `{name}` is not set and has no default"),
    )
    .help(format!(
        "set `{name}` where the pipeline runs, or give a default: `${{{name}:-value}}`"
    ))
}

/// PC0009.
pub fn invalid_value(message: String) -> Diagnostic {
    Diagnostic::error("PC0009", message)
}

/// PC0010.
pub fn include_cycle(path: &str) -> Diagnostic {
    Diagnostic::error(
        "PC0010",
        format!("`{path}` is included again while it is being read"),
    )
    .help("include each file once")
}

/// PC0012: a name that ends up in a file path, a shell or cron line or a Kubernetes
/// object, and is not safe there.
pub fn invalid_name(what: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        "PC0012",
        format!("`{}` is not a valid {what} name", name.escape_debug()),
    )
    .help(format!(
        "a {what} name is 1 to {} letters, digits, `_`, `.` and `-`, starting with a letter or digit",
        crate::validate::names::MAX_NAME_LEN
    ))
}

/// PC0015: a stream, report or backup name that the Helm chart makes a Kubernetes object
/// name of, and that Kubernetes refuses (it is safe everywhere else: PC0012 passed).
pub fn not_a_kubernetes_name(what: &str, object: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        "PC0015",
        format!("{what} name `{name}` is not a Kubernetes name"),
    )
    .help(format!(
        "the Helm chart names a {object} after each {what}, and Kubernetes takes only \
         lower-case letters, digits and `-` there (a DNS label); write `{}`",
        crate::codegen::dns_label(name)
    ))
}

/// PC0013: a file the spec names that is not read. Says why, never what it holds.
pub fn file_refused(what: &str, path: &str, why: &crate::spec::files::Refused) -> Diagnostic {
    Diagnostic::error("PC0013", format!("refused to read {what} `{path}`: {why}")).help(
        "name a regular file under the spec's root directory (relative to the spec file that names it)",
    )
}

/// PC0014: the spec goes over one of the reader's budgets.
pub fn over_budget(message: String) -> Diagnostic {
    Diagnostic::error("PC0014", message).help(
        "write the spec out plainly; anchors and includes are for sharing, not for multiplying",
    )
}

/// PC0011.
pub fn one_kind_key(keys: &[String], kinds: &[&str]) -> Diagnostic {
    let list = keys
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let kind = keys.iter().find(|k| kinds.contains(&k.as_str()));
    let help = match kind {
        Some(k) => format!("this is a `{k}` step: indent the other keys into its settings"),
        None => format!("a step is one of: {}", kinds.join(", ")),
    };
    Diagnostic::error(
        "PC0011",
        format!("a step has exactly one kind, found keys {list}"),
    )
    .help(help)
}

/// PC0101.
pub fn duplicate_name(what: &str, name: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::error("PC0101", format!("{what} `{name}` is defined twice"))
        .at(span, "defined again here")
        .also(first, "first defined here")
        .help(format!("rename one of the two {what}s"))
}

/// An unknown reference to a named thing (PC0102-PC0107).
pub fn unknown_ref<'a>(
    code: &'static str,
    what: &str,
    name: &str,
    span: Span,
    known: impl IntoIterator<Item = &'a str>,
    section: &str,
) -> Diagnostic {
    let known: Vec<&str> = known.into_iter().collect();
    let help = did_you_mean(name, known.iter().copied()).unwrap_or_else(|| {
        if known.is_empty() {
            format!("no {what} is defined: add one under `{section}`")
        } else {
            format!("defined {what}s: {}", known.join(", "))
        }
    });
    Diagnostic::error(code, format!("unknown {what} `{name}`"))
        .at(span, format!("no {what} of this name"))
        .help(help)
}

/// PC0108.
pub fn ambiguous_cluster(topic: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PC0108",
        format!("topic `{topic}` names no cluster and there is no default"),
    )
    .at(span, "which cluster?")
    .help("set `cluster:` here, `defaults.topic.cluster`, or `default: true` on one cluster")
}

/// PC0109.
pub fn conflicting(message: String, span: Span, label: &str, help: &str) -> Diagnostic {
    Diagnostic::error("PC0109", message)
        .at(span, label.to_string())
        .help(help.to_string())
}

/// PC0301.
pub fn bad_topic_name(name: &str, reason: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PC0301", format!("invalid Kafka topic name `{name}`"))
        .at(span, reason.to_string())
        .help("topic names are 1 to 249 characters of letters, digits, `.`, `_` and `-`")
}

/// PC0302.
pub fn count_too_small(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PC0302", format!("{what} must be at least 1"))
        .at(span, "0 is not allowed")
        .help(format!("set {what} to 1 or more"))
}

/// PC0601: an expression syntax error.
pub fn expr_syntax(message: &str) -> Diagnostic {
    Diagnostic::error("PC0601", format!("invalid expression: {message}"))
}

/// PC1001: a Druid dimension (or time column) that no event reaching the topic carries;
/// a warning when the schemas are open and the field may still occur.
pub fn druid_unknown_field(path: &str, topic: &str, warning: bool) -> Diagnostic {
    let message = format!("no event on topic `{topic}` carries `{path}`");
    if warning {
        Diagnostic::warning("PC1001", message)
    } else {
        Diagnostic::error("PC1001", message)
    }
}

/// PC1002: two columns of one Druid datasource with the same name.
pub fn druid_duplicate_column(name: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        "PC1002",
        format!("the datasource has two columns named `{name}`"),
    )
    .at(span, "named again here")
    .also(first, "first named here")
    .help("give one of them another `name`")
}

/// PC1003: a Druid metric that reads a column the datasource does not have.
pub fn druid_unknown_column<'a>(
    name: &str,
    span: Span,
    known: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    let help = did_you_mean(name, known).unwrap_or_else(|| {
        "a metric reads one of the datasource's dimensions (or its time column)".to_string()
    });
    Diagnostic::error("PC1003", format!("no column `{name}` to aggregate"))
        .at(span, "not a column of this datasource")
        .help(help)
}

/// PC1002 as a warning: two derived (`auto`) dimensions that would have one column name;
/// the first is kept.
pub fn druid_derived_name_clash(path: &str, first: &str, name: &str) -> Diagnostic {
    Diagnostic::warning(
        "PC1002",
        format!("`{path}` and `{first}` would both be the column `{name}`"),
    )
    .help("the first is kept; list the dimensions to name both, or `exclude` one")
}

/// PC1004: a datasource reading a secured cluster without consumer security settings.
pub fn druid_unsecured_consumer(topic: &str) -> Diagnostic {
    Diagnostic::warning(
        "PC1004",
        format!(
            "Druid reads `{topic}` from a cluster with SASL or TLS, but its consumer has no security settings"
        ),
    )
    .help(
        "add `security.protocol` and the SASL settings under `io.consumer` (Druid can read \
         secrets from its environment with a dynamic config provider)",
    )
}
