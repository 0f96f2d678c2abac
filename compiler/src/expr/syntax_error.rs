//! Human messages for syntax errors: pest's "expected one of these rules" turned into
//! "expected an operand" / "unexpected `)`", and decoding of string escapes.

use std::ops::Range;

use pest::error::{Error, ErrorVariant, InputLocation};

use super::ast::KEYWORDS;
use super::parser::{ExprError, Rule};

/// What was being parsed, for wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A whole expression.
    Expression,
    /// A bare field path.
    Path,
}

/// Rules that start an operand.
const OPERAND_RULES: [Rule; 14] = [
    Rule::expr,
    Rule::path,
    Rule::not_op,
    Rule::neg,
    Rule::lparen,
    Rule::lbracket,
    Rule::float,
    Rule::int,
    Rule::true_lit,
    Rule::false_lit,
    Rule::null_lit,
    Rule::string,
    Rule::ident,
    Rule::backquoted,
];

/// Infix operator rules.
const OPERATOR_RULES: [Rule; 15] = [
    Rule::or_op,
    Rule::and_op,
    Rule::eq,
    Rule::ne,
    Rule::le,
    Rule::ge,
    Rule::lt,
    Rule::gt,
    Rule::not_in,
    Rule::in_op,
    Rule::add,
    Rule::sub,
    Rule::mul,
    Rule::div,
    Rule::rem,
];

/// Converts a pest error into an [`ExprError`].
pub(crate) fn pest_error(src: &str, err: &Error<Rule>, mode: Mode) -> ExprError {
    let pos = match err.location {
        InputLocation::Pos(p) | InputLocation::Span((p, _)) => p.min(src.len()),
    };
    let positives = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.as_slice(),
        ErrorVariant::CustomError { .. } => {
            return ExprError::new(pos..pos, "expression is nested too deeply", "too deep here");
        }
    };
    let has = |r: Rule| positives.contains(&r);
    let token = token_at(src, pos);
    let text = src.get(token.clone()).unwrap_or("");
    if has(Rule::field_name) {
        return ExprError::new(
            token,
            "expected a field name after `.`",
            "expected a name here",
        )
        .with_help("quote unusual names: `a.\"my key\"` or `a[\"my key\"]`");
    }
    if has(Rule::index_int) {
        return ExprError::new(
            token,
            "expected an index",
            "expected a number or a quoted name here",
        )
        .with_help("write `list[0]` or `object[\"key\"]`");
    }
    if OPERAND_RULES.iter().any(|&r| has(r)) {
        let err = match mode {
            Mode::Expression => {
                ExprError::new(token, "expected an operand", "expected a value here")
            }
            Mode::Path => {
                ExprError::new(token, "expected a field path", "expected a field name here")
            }
        };
        return if KEYWORDS.contains(&text) {
            err.with_help(format!(
                "`{text}` is a keyword; write `` `{text}` `` for a field of that name"
            ))
        } else if text == "."
            && src
                .get(pos..)
                .unwrap_or("")
                .chars()
                .nth(1)
                .is_some_and(|c| c.is_ascii_digit())
        {
            err.with_help("write a digit before the point: `0.5`")
        } else if text.starts_with(|c: char| c.is_ascii_digit()) && mode == Mode::Path {
            err.with_help(format!(
                "a path cannot start with a digit; write `` `{text}` ``"
            ))
        } else {
            err
        };
    }
    let mut expected = Vec::new();
    if OPERATOR_RULES.iter().any(|&r| has(r)) {
        expected.push("an operator");
    }
    if has(Rule::dot) && mode == Mode::Path {
        expected.push("`.`");
    }
    if has(Rule::comma) {
        expected.push("`,`");
    }
    if has(Rule::rparen) {
        expected.push("`)`");
    }
    if has(Rule::rbracket) || has(Rule::index_close) {
        expected.push("`]`");
    }
    if has(Rule::EOI) {
        expected.push(match mode {
            Mode::Expression => "the end of the expression",
            Mode::Path => "the end of the field path",
        });
    }
    let label = if expected.is_empty() {
        "not valid here".to_string()
    } else {
        format!("expected {}", join_or(&expected))
    };
    let message = if text.is_empty() {
        "unexpected end of expression".to_string()
    } else {
        format!("unexpected `{text}`")
    };
    ExprError::new(token, message, label)
}

/// `a`, `a or b`, `a, b or c`.
fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The token starting at `pos`: a word, a quoted string, or one character.
fn token_at(src: &str, pos: usize) -> Range<usize> {
    let rest = src.get(pos..).unwrap_or("");
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '$');
    let is_op = |c: char| matches!(c, '=' | '<' | '>' | '!' | '&' | '|');
    let len = match rest.chars().next() {
        None => 0,
        Some(c) if is_word(c) => rest.find(|c: char| !is_word(c)).unwrap_or(rest.len()),
        Some(q @ ('"' | '\'' | '`')) => {
            let mut escaped = false;
            let mut end = rest.len();
            for (i, c) in rest.char_indices().skip(1) {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    end = i + 1;
                    break;
                }
            }
            end
        }
        Some(c) if is_op(c) => rest.find(|c: char| !is_op(c)).unwrap_or(rest.len()),
        Some(c) => c.len_utf8(),
    };
    pos..pos + len
}

/// Decodes the quoted text `quoted` (quotes included) that starts at byte `offset`.
pub(crate) fn unescape(quoted: &str, offset: usize) -> Result<String, ExprError> {
    let inner_start = quoted.chars().next().map_or(0, char::len_utf8);
    let inner_end = quoted.len().saturating_sub(1).max(inner_start);
    let inner = quoted.get(inner_start..inner_end).unwrap_or("");
    let base = offset + inner_start;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            return Err(bad_escape(base + i..base + i + 1, "\\"));
        };
        let decoded = match e {
            '"' | '\'' | '`' | '\\' | '/' => e,
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'u' => {
                let hi = hex4(inner, i + 2).ok_or_else(|| bad_unicode(base + i, inner, i))?;
                skip(&mut chars, 4);
                let code = if (0xD800..0xDC00).contains(&hi) {
                    let lo = inner
                        .get(i + 6..i + 8)
                        .filter(|s| *s == "\\u")
                        .and_then(|_| hex4(inner, i + 8))
                        .filter(|lo| (0xDC00..0xE000).contains(lo))
                        .ok_or_else(|| bad_unicode(base + i, inner, i))?;
                    skip(&mut chars, 6);
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    hi
                };
                char::from_u32(code).ok_or_else(|| bad_unicode(base + i, inner, i))?
            }
            other => {
                let end = base + i + 1 + other.len_utf8();
                return Err(bad_escape(base + i..end, &format!("\\{other}")));
            }
        };
        out.push(decoded);
    }
    Ok(out)
}

fn skip(chars: &mut impl Iterator<Item = (usize, char)>, n: usize) {
    for _ in 0..n {
        chars.next();
    }
}

fn hex4(s: &str, at: usize) -> Option<u32> {
    let digits = s.get(at..at + 4)?;
    if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

fn bad_escape(span: Range<usize>, text: &str) -> ExprError {
    ExprError::new(
        span,
        format!("unknown escape `{text}`"),
        "not a valid escape",
    )
    .with_help("escapes are \\\" \\' \\\\ \\n \\t \\r \\uXXXX; write `\\\\` for a backslash")
}

fn bad_unicode(at: usize, inner: &str, i: usize) -> ExprError {
    let len = inner[i..]
        .chars()
        .take(6)
        .map(char::len_utf8)
        .sum::<usize>();
    ExprError::new(
        at..at + len,
        "invalid unicode escape",
        "expected `\\u` and 4 hex digits",
    )
    .with_help("a character outside the basic plane is a surrogate pair: `\\ud83d\\ude00`")
}
