//! Code generation: a [`Manifest`] becomes the files of a deployment — Kafka topic lists
//! and a creation script per cluster, a Helm chart with per-environment values, a crontab
//! and the pipeline graph. Every text artifact comes from a minijinja template in
//! `templates/` (embedded in the binary); `--templates DIR` replaces any of them by name.
//! Undefined values in a template are errors, reported with the template's file and line.
//!
//! Output is deterministic: the same manifest and templates give the same bytes.

pub mod context;
mod druid;
#[cfg(test)]
mod druid_sunbird_tests;
mod graph;
mod quote;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};

use crate::manifest::Manifest;
pub use graph::{GraphFormat, render_graph};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Path under the output directory, with `/`.
    pub path: String,
    /// Contents.
    pub contents: String,
    /// Whether the file is a script to make executable.
    pub executable: bool,
}

/// A problem generating the artifacts: a template that does not parse or render, or a
/// `--templates` directory that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodegenError {
    /// The template file (its path under `--templates`, or `templates/<name>` when built in).
    pub template: String,
    /// Line in the template, when known.
    pub line: Option<usize>,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for CodegenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.template, self.message),
            None => write!(f, "{}: {}", self.template, self.message),
        }
    }
}

/// The templates to render with: the built-in ones, with any of the same name in an
/// override directory taking their place.
#[derive(Debug, Clone)]
pub struct Templates {
    /// name → (text, where it came from).
    files: BTreeMap<String, (String, String)>,
}

impl Templates {
    /// The built-in templates.
    pub fn builtin() -> Self {
        Templates {
            files: builtin::BUILTIN
                .iter()
                .map(|(n, t)| {
                    (
                        (*n).to_string(),
                        ((*t).to_string(), format!("templates/{n}")),
                    )
                })
                .collect(),
        }
    }

    /// Built-in templates overridden by the files of `dir` (same relative names). A file
    /// in `dir` that is not a built-in template is refused (a misspelt name would
    /// otherwise be ignored silently), except under `helm/chart/`, where it adds a file to
    /// the chart.
    pub fn with_overrides(dir: &Path) -> Result<Self, CodegenError> {
        let mut t = Templates::builtin();
        if !dir.is_dir() {
            return Err(CodegenError {
                template: dir.display().to_string(),
                line: None,
                message: "not a directory".into(),
            });
        }
        let mut found = Vec::new();
        walk(dir, dir, &mut found).map_err(|e| CodegenError {
            template: dir.display().to_string(),
            line: None,
            message: e,
        })?;
        for (name, path) in found {
            if !t.files.contains_key(&name) && !name.starts_with("helm/chart/") {
                let known: Vec<&str> = t.files.keys().map(String::as_str).collect();
                let hint = crate::suggest::suggest(&name, known.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(CodegenError {
                    template: path.display().to_string(),
                    line: None,
                    message: format!("`{name}` is not a template pipec renders{hint}"),
                });
            }
            let text = std::fs::read_to_string(&path).map_err(|e| CodegenError {
                template: path.display().to_string(),
                line: None,
                message: format!("cannot read: {e}"),
            })?;
            t.files.insert(name, (text, path.display().to_string()));
        }
        Ok(t)
    }

    /// Names of all templates.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    fn origin(&self, name: &str) -> String {
        self.files
            .get(name)
            .map_or_else(|| format!("templates/{name}"), |(_, o)| o.clone())
    }

    fn env(&self) -> Result<Environment<'static>, CodegenError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        // The artifacts are YAML, JSON and shell: values are quoted explicitly in the
        // templates (`| json`, `| shquote`), never escaped behind their back.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.add_filter("json", json_filter);
        env.add_filter("shquote", shquote);
        env.add_filter("comment", quote::comment);
        env.add_filter("cron_word", quote::cron_word);
        env.add_filter("cron_dq", quote::cron_dq);
        env.add_filter("cron_schedule", quote::cron_schedule);
        env.add_filter("env_name", env_name);
        env.add_filter("dns", |s: String| dns_label(&s));
        for (name, (text, _)) in &self.files {
            if name.ends_with(".j2") {
                env.add_template_owned(name.clone(), text.clone())
                    .map_err(|e| self.error(&e))?;
            }
        }
        Ok(env)
    }

    fn error(&self, e: &minijinja::Error) -> CodegenError {
        let name = e.name().unwrap_or("?");
        let mut message = e.kind().to_string();
        if let Some(d) = e.detail() {
            message.push_str(": ");
            message.push_str(d);
        }
        CodegenError {
            template: self.origin(name),
            line: e.line(),
            message,
        }
    }

    /// Renders a template with `ctx` and the whole manifest as `manifest` (converted to
    /// a template value once per run and shared, not once per template).
    fn render(
        &self,
        env: &Environment<'_>,
        name: &str,
        ctx: &serde_json::Value,
        manifest: &minijinja::Value,
    ) -> Result<String, CodegenError> {
        let t = env.get_template(name).map_err(|e| self.error(&e))?;
        let ctx = minijinja::context! {
            manifest => manifest.clone(),
            ..minijinja::Value::from_serialize(crate::plain::Plain(ctx))
        };
        t.render(ctx).map_err(|e| self.error(&e))
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot read: {e}"))?;
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(root, &p, out)?;
        } else {
            let name = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((name, p));
        }
    }
    Ok(())
}

/// Generates every artifact of a manifest.
pub fn generate(m: &Manifest, templates: &Templates) -> Result<Vec<Artifact>, CodegenError> {
    let env = templates.env()?;
    let mut out = vec![Artifact {
        path: "manifest.json".into(),
        contents: m.to_json(),
        executable: false,
    }];
    let base = context::base(m);
    let mv = crate::plain::to_template_value(m);

    // Kafka: per cluster.
    for (cluster, ctx) in context::kafka(m, &base) {
        for (tpl, file, exec) in [
            ("kafka/topics.yaml.j2", "topics.yaml", false),
            ("kafka/topics.json.j2", "topics.json", false),
            ("kafka/create-topics.sh.j2", "create-topics.sh", true),
        ] {
            out.push(Artifact {
                path: format!("kafka/{cluster}/{file}"),
                contents: templates.render(&env, tpl, &ctx, &mv)?,
                executable: exec,
            });
        }
    }

    // Helm: the chart, the environment's values and the manifest parts it mounts.
    let chart = dns_label(&m.pipeline);
    let helm = context::helm(m, &base);
    for name in templates.names() {
        let Some(rel) = name.strip_prefix("helm/chart/") else {
            continue;
        };
        let (path, contents) = match rel.strip_suffix(".j2") {
            Some(plain) => (plain, templates.render(&env, name, &helm, &mv)?),
            None => (
                rel,
                templates
                    .files
                    .get(name)
                    .map(|(t, _)| t.clone())
                    .unwrap_or_default(),
            ),
        };
        out.push(Artifact {
            path: format!("helm/{chart}/{path}"),
            contents,
            executable: false,
        });
    }
    out.push(Artifact {
        path: format!("helm/{chart}/values-{}.yaml", m.env),
        contents: templates.render(&env, "helm/values.yaml.j2", &helm, &mv)?,
        executable: false,
    });
    for job in m.jobs.keys() {
        if let Some(part) = m.for_job(job) {
            out.push(Artifact {
                path: format!("helm/{chart}/files/{}/jobs/{job}.json", m.env),
                contents: compact(&part),
                executable: false,
            });
        }
    }
    // Read by the report CronJobs and the backup Deployments.
    if !m.reports.is_empty() || !m.backups.is_empty() {
        out.push(Artifact {
            path: format!("helm/{chart}/files/{}/reports.json", m.env),
            contents: compact(&m.for_reports()),
            executable: false,
        });
    }

    // Druid: a Kafka supervisor spec per datasource.
    for (name, ds) in &m.druid {
        out.push(Artifact {
            path: format!("druid/{name}.json"),
            contents: druid::supervisor(m, name, ds),
            executable: false,
        });
    }

    // Cron.
    out.push(Artifact {
        path: "cron/crontab".into(),
        contents: templates.render(&env, "cron/crontab.j2", &context::cron(m, &base), &mv)?,
        executable: false,
    });

    // Graph.
    let g = graph::context(m, &base);
    for (tpl, file) in [
        ("graph/pipeline.mmd.j2", "graph/pipeline.mmd"),
        ("graph/pipeline.dot.j2", "graph/pipeline.dot"),
    ] {
        out.push(Artifact {
            path: file.into(),
            contents: templates.render(&env, tpl, &g, &mv)?,
            executable: false,
        });
    }
    for a in &out {
        if !is_contained(&a.path) {
            return Err(CodegenError {
                template: a.path.clone(),
                line: None,
                message: "this path would leave the output directory".into(),
            });
        }
    }
    Ok(out)
}

/// Whether an artifact's path stays under the output directory: relative, made of plain
/// components only (no `..`, `.`, empty or absolute parts). Names are checked where the
/// spec declares them (PC0012); this is the last line, where paths are made.
pub fn is_contained(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(['\\', '\0'])
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

fn compact(m: &Manifest) -> String {
    let mut s = serde_json::to_string(m).unwrap_or_default();
    s.push('\n');
    s
}

/// A value as compact JSON, without the HTML-safe escapes of `tojson`: JSON strings are
/// also valid YAML and DOT strings.
fn json_filter(v: minijinja::Value) -> Result<String, minijinja::Error> {
    serde_json::to_string(&v)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
}

/// Quotes a string for POSIX `sh` when it needs it: `abc` stays, `a b` becomes `'a b'`.
/// A NUL cannot be in a shell word, and is an error.
fn shquote(s: String) -> Result<String, minijinja::Error> {
    quote::sh_word(&s)
}

/// `processing` → `PROCESSING`, `redis-auth` → `REDIS_AUTH`: an environment variable name.
fn env_name(s: String) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A DNS-1123 label (Kubernetes names): lower case, `-` for anything else, at most 63.
pub fn dns_label(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(63);
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "pipeline".into()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
