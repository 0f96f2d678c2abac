//! `pipec-compiler`: spec parsing, the expression language, validation, diagnostics and
//! the manifest. No async, Kafka or DataFusion here, so that checking a spec stays fast.

pub mod civil;
pub mod codegen;
pub mod compat;
pub mod cron;
pub mod diagnostics;
pub mod events;
pub mod expr;
pub mod github;
pub mod input;
pub mod manifest;
pub mod plain;
pub mod plan;
pub mod schema;
pub mod source;
pub mod spec;
pub mod suggest;
pub mod units;
pub mod validate;

#[cfg(test)]
mod test_support;

use std::path::Path;

use diagnostics::Diagnostics;
use source::SourceMap;

/// How to check a spec.
pub struct CheckOptions<'a> {
    /// `--env`.
    pub env: Option<String>,
    /// Reads environment variables.
    pub env_lookup: &'a dyn Fn(&str) -> Option<String>,
}

/// What checking a spec found.
#[derive(Debug)]
pub struct CheckResult {
    /// Every file read, for rendering.
    pub sources: SourceMap,
    /// Every problem.
    pub diagnostics: Diagnostics,
    /// Whether the spec could not even be found (a usage problem rather than a spec problem).
    pub usage_error: bool,
    /// The reports' SQL, for planning against their inputs' columns (see
    /// [`validate::sql`]); empty when the spec has errors.
    pub sql: Vec<validate::sql::SqlCheck>,
}

/// Loads and validates the spec at `path`, collecting every problem.
pub fn check(path: &Path, opts: &CheckOptions<'_>) -> CheckResult {
    check_with_schemas(path, opts).0
}

/// Loads and checks the spec at `path` and returns the schemas of its event types, each
/// compiled once, for validating events (`pipec validate-events`). When the spec cannot be
/// found or has errors, returns the check's result instead, to be reported.
pub fn event_schemas(
    path: &Path,
    opts: &CheckOptions<'_>,
) -> Result<events::EventSchemas, Box<CheckResult>> {
    let (result, schemas) = check_with_schemas(path, opts);
    if result.usage_error || result.diagnostics.has_errors() {
        Err(Box::new(result))
    } else {
        Ok(schemas)
    }
}

fn check_with_schemas(path: &Path, opts: &CheckOptions<'_>) -> (CheckResult, events::EventSchemas) {
    let mut diags = Diagnostics::default();
    let usage_error = spec::load::root_file(path).is_err();
    let mut loaded = spec::load::load(
        path,
        &spec::load::LoadOptions {
            env: opts.env.clone(),
            env_lookup: opts.env_lookup,
        },
        &mut diags,
    );
    let schemas = if usage_error {
        events::EventSchemas::default()
    } else {
        validate::validate_with_schemas(&mut loaded, &mut diags)
    };
    let sql = sql_checks(&mut loaded, usage_error || diags.has_errors());
    let result = CheckResult {
        sources: loaded.sources,
        diagnostics: diags,
        usage_error,
        sql,
    };
    (result, schemas)
}

/// What compiling a spec gave: the check's findings, and the manifest when there were no
/// errors.
#[derive(Debug)]
pub struct Compiled {
    /// The check (warnings are here even when the manifest was made).
    pub check: CheckResult,
    /// The manifest; `None` when the spec has errors or could not be found.
    pub manifest: Option<manifest::Manifest>,
    /// Why lowering failed after a clean check (a file vanished between reads, a test's
    /// input cannot be read).
    pub lower_error: Option<String>,
    /// The spec's tests, resolved (empty unless the manifest was made).
    pub tests: Vec<manifest::spec_tests::SpecTest>,
}

/// Loads, checks and lowers the spec at `path` into a [`manifest::Manifest`].
pub fn compile(path: &Path, opts: &CheckOptions<'_>) -> Compiled {
    let mut diags = Diagnostics::default();
    let usage_error = spec::load::root_file(path).is_err();
    let mut loaded = spec::load::load(
        path,
        &spec::load::LoadOptions {
            env: opts.env.clone(),
            env_lookup: opts.env_lookup,
        },
        &mut diags,
    );
    if !usage_error {
        validate::validate(&mut loaded, &mut diags);
    }
    let (manifest, lower_error, tests) = if usage_error || diags.has_errors() {
        (None, None, Vec::new())
    } else {
        let mut scratch = Diagnostics::default();
        let ix = validate::Index::build(&loaded, &mut scratch);
        match manifest::lower(&ix) {
            Ok(m) => match manifest::spec_tests::resolve(&ix, &m) {
                Ok(tests) => (Some(m), None, tests),
                Err(e) => (Some(m), Some(e), Vec::new()),
            },
            Err(e) => (None, Some(e), Vec::new()),
        }
    };
    let sql = sql_checks(&mut loaded, usage_error || diags.has_errors());
    Compiled {
        check: CheckResult {
            sources: loaded.sources,
            diagnostics: diags,
            usage_error,
            sql,
        },
        manifest,
        lower_error,
        tests,
    }
}

/// Validates a spec whose root file's text is given rather than read (fuzzing, editors).
pub fn check_text(path: &Path, text: &str, opts: &CheckOptions<'_>) -> CheckResult {
    let mut diags = Diagnostics::default();
    let mut loaded = spec::load::load_text(
        path,
        text.to_string(),
        &spec::load::LoadOptions {
            env: opts.env.clone(),
            env_lookup: opts.env_lookup,
        },
        &mut diags,
    );
    validate::validate(&mut loaded, &mut diags);
    let sql = sql_checks(&mut loaded, diags.has_errors());
    CheckResult {
        sources: loaded.sources,
        diagnostics: diags,
        usage_error: false,
        sql,
    }
}

/// The reports' SQL to plan, unless the spec has errors already.
fn sql_checks(loaded: &mut spec::load::Loaded, skip: bool) -> Vec<validate::sql::SqlCheck> {
    if skip {
        return Vec::new();
    }
    let mut scratch = Diagnostics::default();
    let mut sources = std::mem::take(&mut loaded.sources);
    let found = {
        let ix = validate::Index::build(loaded, &mut scratch);
        validate::sql::gather(&ix, &mut sources)
    };
    loaded.sources = sources;
    found
}

/// The JSON Schema of the spec format, generated from the spec types.
pub fn spec_json_schema() -> String {
    let schema = schemars::schema_for!(spec::SpecFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// The reference of built-in expression functions, as Markdown.
pub fn functions_reference() -> String {
    expr::render_markdown()
}
