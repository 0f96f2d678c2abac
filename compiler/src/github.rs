//! GitHub Actions workflow commands (`::error file=…,line=…::message`): how every command a
//! CI gate runs (`check`, `validate-events`, `compat`) annotates the files of a pull request
//! with `--format github`. One writer, so that the three escape alike.
//!
//! The escaping is GitHub's own (`@actions/core`'s `escapeData` and `escapeProperty`): a
//! message keeps `:` and `,` but a property would end at them, and a raw newline would end the
//! command, so they are percent-encoded.

use std::fmt::Write as _;

/// How GitHub shows an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `::error`: a red annotation.
    Error,
    /// `::warning`: a yellow one.
    Warning,
}

/// One annotation. Positions are 1-based; GitHub ignores a column without a line, so
/// `col` and the ends are written only with `line`.
#[derive(Debug, Clone, Default)]
pub struct Annotation<'a> {
    /// The file, relative to the repository root (`None`: an annotation of the run).
    pub file: Option<&'a str>,
    /// The line.
    pub line: Option<usize>,
    /// The column.
    pub col: Option<usize>,
    /// The last line of the place.
    pub end_line: Option<usize>,
    /// The column where the place ends.
    pub end_col: Option<usize>,
    /// A short title, shown above the message.
    pub title: Option<&'a str>,
}

/// The workflow command of one annotation, with its newline.
pub fn command(level: Level, at: &Annotation<'_>, message: &str) -> String {
    let mut props = Vec::new();
    if let Some(file) = at.file {
        props.push(format!("file={}", escape_property(file)));
    }
    if let Some(line) = at.line {
        props.push(format!("line={line}"));
        if let Some(col) = at.col {
            props.push(format!("col={col}"));
        }
        if let Some(end) = at.end_line {
            props.push(format!("endLine={end}"));
            if let Some(end_col) = at.end_col {
                props.push(format!("endColumn={end_col}"));
            }
        }
    }
    if let Some(title) = at.title {
        props.push(format!("title={}", escape_property(title)));
    }
    let mut out = String::from(match level {
        Level::Error => "::error",
        Level::Warning => "::warning",
    });
    if !props.is_empty() {
        out.push(' ');
        out.push_str(&props.join(","));
    }
    let _ = writeln!(out, "::{}", escape_data(message));
    out
}

/// Escapes the message of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_in_github_order_and_escaped() {
        let at = Annotation {
            file: Some("a,b:c.yaml"),
            line: Some(3),
            col: Some(7),
            end_line: Some(3),
            end_col: Some(12),
            title: Some("PC0102 unknown topic `x`"),
        };
        assert_eq!(
            command(Level::Error, &at, "50% off\r\nnext: line, too"),
            "::error file=a%2Cb%3Ac.yaml,line=3,col=7,endLine=3,endColumn=12,\
             title=PC0102 unknown topic `x`::50%25 off%0D%0Anext: line, too\n"
        );
    }

    #[test]
    fn no_place_no_properties_and_no_column_without_a_line() {
        assert_eq!(
            command(Level::Warning, &Annotation::default(), "m"),
            "::warning::m\n"
        );
        let at = Annotation {
            file: Some("f"),
            col: Some(2),
            ..Annotation::default()
        };
        assert_eq!(command(Level::Error, &at, "m"), "::error file=f::m\n");
    }
}
