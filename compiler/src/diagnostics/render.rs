//! Rendering diagnostics: rustc-like text through miette, JSON for tools, or GitHub Actions
//! annotations for a CI gate.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde_json::{Value, json};

use super::{Diagnostic, Severity};
use crate::github::{self, Annotation, Level};
use crate::source::{SourceMap, Span};

/// How text output looks.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// ANSI colours.
    pub color: bool,
    /// Line width to wrap at.
    pub width: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            width: 100,
        }
    }
}

/// A diagnostic bound to the text of its file, in the shape miette renders.
struct Report {
    /// `None` for a note attached to another diagnostic.
    severity: Option<Severity>,
    message: String,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Some(Severity::Error) => miette::Severity::Error,
            Some(Severity::Warning) => miette::Severity::Warning,
            None => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new(span.start.into(), span.len())
}

fn named_source(map: &SourceMap, span: Span) -> Option<NamedSource<String>> {
    let file = map.get(span.file)?;
    Some(NamedSource::new(
        file.path.display().to_string(),
        file.text.clone(),
    ))
}

fn to_report(d: &Diagnostic, map: &SourceMap) -> Report {
    let mut labels = Vec::new();
    let mut related = Vec::new();
    let source = d.primary.as_ref().and_then(|p| {
        labels.push(LabeledSpan::new_primary_with_span(
            Some(p.text.clone()),
            source_span(p.span),
        ));
        named_source(map, p.span)
    });
    for l in &d.secondary {
        let same_file = d
            .primary
            .as_ref()
            .is_some_and(|p| p.span.file == l.span.file);
        if same_file {
            labels.push(LabeledSpan::new_with_span(
                Some(l.text.clone()),
                source_span(l.span),
            ));
        } else {
            related.push(Report {
                severity: None,
                message: format!("note: {}", l.text),
                help: None,
                source: named_source(map, l.span),
                labels: vec![LabeledSpan::new_primary_with_span(
                    Some(l.text.clone()),
                    source_span(l.span),
                )],
                related: Vec::new(),
            });
        }
    }
    Report {
        severity: Some(d.severity),
        message: format!("{}[{}]: {}", d.severity.as_str(), d.code, d.message),
        help: d.help.clone(),
        source,
        labels,
        related,
    }
}

/// Renders diagnostics as text, each followed by a blank line, then a summary line.
pub fn render_text(diags: &[&Diagnostic], map: &SourceMap, opts: RenderOptions) -> String {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false)
        .with_context_lines(1)
        .with_show_related_as_nested(true);
    let mut out = String::new();
    for d in diags {
        let report = to_report(d, map);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!(
                "{}[{}]: {}\n",
                d.severity.as_str(),
                d.code,
                d.message
            ));
        }
        out.push('\n');
    }
    out
}

/// Location of a span as (path, line, column, end line, end column), 1-based.
pub fn location(map: &SourceMap, span: Span) -> Option<(String, usize, usize, usize, usize)> {
    let file = map.get(span.file)?;
    let (line, col) = file.line_col(span.start);
    let (end_line, end_col) = file.line_col(span.end);
    Some((
        file.path.display().to_string(),
        line,
        col,
        end_line,
        end_col,
    ))
}

fn label_json(map: &SourceMap, span: Span, text: &str) -> Value {
    match location(map, span) {
        Some((file, line, column, end_line, end_column)) => json!({
            "file": file, "line": line, "column": column,
            "end_line": end_line, "end_column": end_column, "label": text,
        }),
        None => json!({ "label": text }),
    }
}

/// Renders diagnostics as a JSON array of
/// `{code, severity, message, file, line, column, end_line, end_column, label, help, related}`.
pub fn render_json(diags: &[&Diagnostic], map: &SourceMap) -> Value {
    let items = diags
        .iter()
        .map(|d| {
            let mut obj = json!({
                "code": d.code,
                "severity": d.severity.as_str(),
                "message": d.message,
            });
            if let Some(p) = &d.primary
                && let Value::Object(loc) = label_json(map, p.span, &p.text)
                && let Value::Object(o) = &mut obj
            {
                o.extend(loc);
            }
            if let Value::Object(o) = &mut obj {
                o.insert("help".into(), json!(d.help));
                o.insert(
                    "related".into(),
                    Value::Array(
                        d.secondary
                            .iter()
                            .map(|l| label_json(map, l.span, &l.text))
                            .collect(),
                    ),
                );
            }
            obj
        })
        .collect();
    Value::Array(items)
}

/// Renders diagnostics as GitHub Actions workflow commands, one per diagnostic: `::error`
/// or `::warning` at the primary place (the whole span: `line`, `col`, `endLine`,
/// `endColumn`), titled with the code and the message; the label, the help and each
/// further place (`note: FILE:LINE:COL: text`) are the lines of the message.
pub fn render_github(diags: &[&Diagnostic], map: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
        };
        let title = format!("{} {}", d.code, d.message);
        let place = d.primary.as_ref().and_then(|p| location(map, p.span));
        let at = Annotation {
            file: place.as_ref().map(|p| p.0.as_str()),
            line: place.as_ref().map(|p| p.1),
            col: place.as_ref().map(|p| p.2),
            end_line: place.as_ref().map(|p| p.3),
            end_col: place.as_ref().map(|p| p.4),
            title: Some(&title),
        };
        let mut lines = Vec::new();
        match &d.primary {
            Some(p) if !p.text.is_empty() => lines.push(p.text.clone()),
            _ => lines.push(d.message.clone()),
        }
        if let Some(help) = &d.help {
            lines.push(format!("help: {help}"));
        }
        for l in &d.secondary {
            match location(map, l.span) {
                Some((file, line, col, _, _)) => {
                    lines.push(format!("note: {file}:{line}:{col}: {}", l.text));
                }
                None => lines.push(format!("note: {}", l.text)),
            }
        }
        out.push_str(&github::command(level, &at, &lines.join("\n")));
    }
    out
}
