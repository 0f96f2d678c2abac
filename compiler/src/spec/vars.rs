//! Variable substitution in spec strings: `{name}` from `vars` (and `{env}`), `${NAME}` and
//! `${NAME:-default}` from the environment, `{{` and `}}` for literal braces. Placeholders
//! the runtime fills (`{date}`, `{hour}`) are left alone.
//!
//! Free text (descriptions) is copied into the manifest and the chart as written, and could
//! publish a secret there: it takes `{name}` of variables written in the spec, but neither
//! `${NAME}` nor a variable whose value came from the environment; those are left as
//! written and reported ([`SubstProblem::EnvInText`]).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// Placeholders filled at run time, never by the compiler.
pub const RUNTIME_PLACEHOLDERS: &[&str] = &["date", "hour", "topic", "partition", "model"];

/// A problem in one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubstProblem {
    /// `{name}` with no such variable.
    UndefinedVar { name: String, range: Range<usize> },
    /// `${NAME}` unset and without default.
    UnsetEnv { name: String, range: Range<usize> },
    /// `${NAME}`, or `{name}` of a variable set from the environment, in free text.
    EnvInText { name: String, range: Range<usize> },
}

/// Where variables come from.
#[derive(Clone, Copy)]
pub struct Vars<'a> {
    /// `vars` of the spec, with `env` resolved.
    pub vars: &'a BTreeMap<String, String>,
    /// Reads an environment variable.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// When the string is free text: the variables whose value came from the environment
    /// (neither they nor `${NAME}` are substituted in it).
    pub free_text: Option<&'a BTreeSet<String>>,
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Substitutes variables in `s`. Returns the new string (unchanged parts kept) and the
/// problems, each with its byte range in `s`. An unset environment variable is left as written.
pub fn substitute(s: &str, vars: &Vars<'_>) -> (String, Vec<SubstProblem>) {
    let mut out = String::with_capacity(s.len());
    let mut problems = Vec::new();
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with("{{") || rest.starts_with("}}") {
            out.push(bytes[i] as char);
            i += 2;
        } else if rest.starts_with("${")
            && let Some(close) = rest.find('}')
        {
            let inner = &rest[2..close];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            if vars.free_text.is_some() {
                problems.push(SubstProblem::EnvInText {
                    name: name.to_string(),
                    range: i..i + close + 1,
                });
                out.push_str(&rest[..close + 1]);
                i += close + 1;
                continue;
            }
            match ((vars.env)(name), default) {
                (Some(v), _) if !v.is_empty() || default.is_none() => out.push_str(&v),
                (_, Some(d)) => out.push_str(d),
                (_, None) => {
                    problems.push(SubstProblem::UnsetEnv {
                        name: name.to_string(),
                        range: i..i + close + 1,
                    });
                    out.push_str(&rest[..close + 1]);
                }
            }
            i += close + 1;
        } else if rest.starts_with('{')
            && let Some(close) = rest.find('}')
            && is_ident(&rest[1..close])
        {
            let name = &rest[1..close];
            match vars.vars.get(name) {
                Some(_) if vars.free_text.is_some_and(|t| t.contains(name)) => {
                    problems.push(SubstProblem::EnvInText {
                        name: name.to_string(),
                        range: i..i + close + 1,
                    });
                    out.push_str(&rest[..close + 1]);
                }
                Some(v) => out.push_str(v),
                None => {
                    if !RUNTIME_PLACEHOLDERS.contains(&name) {
                        problems.push(SubstProblem::UndefinedVar {
                            name: name.to_string(),
                            range: i..i + close + 1,
                        });
                    }
                    out.push_str(&rest[..close + 1]);
                }
            }
            i += close + 1;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8().max(1);
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> (String, Vec<SubstProblem>) {
        let mut vars = BTreeMap::new();
        vars.insert("env".to_string(), "prod".to_string());
        let env = |n: &str| (n == "HOST").then(|| "kafka:9092".to_string());
        substitute(
            s,
            &Vars {
                vars: &vars,
                env: &env,
                free_text: None,
            },
        )
    }

    #[test]
    fn substitutes_vars_env_and_escapes() {
        assert_eq!(run("{env}.telemetry.raw").0, "prod.telemetry.raw");
        assert_eq!(run("${HOST}").0, "kafka:9092");
        assert_eq!(run("${NOPE:-redis://x:6379}").0, "redis://x:6379");
        assert_eq!(run("{{env}}").0, "{env}");
        assert_eq!(run("backups/{date}/").0, "backups/{date}/");
        assert_eq!(run(r#"{"a": 1}"#).0, r#"{"a": 1}"#);
    }

    #[test]
    fn reports_problems_with_ranges() {
        let (_, p) = run("x.{evn}.y");
        assert_eq!(
            p,
            vec![SubstProblem::UndefinedVar {
                name: "evn".into(),
                range: 2..7
            }]
        );
        let (out, p) = run("${SECRET}");
        assert_eq!(out, "${SECRET}");
        assert_eq!(
            p,
            vec![SubstProblem::UnsetEnv {
                name: "SECRET".into(),
                range: 0..9
            }]
        );
    }

    #[test]
    fn free_text_takes_no_value_from_the_environment() {
        let mut vars = BTreeMap::new();
        vars.insert("env".to_string(), "prod".to_string());
        vars.insert("auth".to_string(), "hunter2".to_string());
        let from_env = BTreeSet::from(["auth".to_string()]);
        let env = |_: &str| Some("hunter2".to_string());
        let (out, p) = substitute(
            "{env}: ${HOST} {auth} ${X:-y}",
            &Vars {
                vars: &vars,
                env: &env,
                free_text: Some(&from_env),
            },
        );
        assert_eq!(out, "prod: ${HOST} {auth} ${X:-y}");
        let names: Vec<_> = p
            .iter()
            .map(|p| match p {
                SubstProblem::EnvInText { name, .. } => name.as_str(),
                _ => "other",
            })
            .collect();
        assert_eq!(names, ["HOST", "auth", "X"]);
    }
}
