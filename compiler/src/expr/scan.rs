//! A quick pass over an expression's bytes before the grammar runs. It catches the mistakes
//! whose best message pest cannot give (an unclosed string, an unbalanced parenthesis, `&&`
//! or `=` where the language says `and` or `==`) and bounds how deeply the input nests, so
//! that the recursive parts of the parser, checker and evaluator cannot exhaust the stack.

use super::parser::ExprError;

/// How many open brackets and pending prefix operators may be nested at once.
pub(crate) const MAX_NESTING: usize = 64;

/// Nesting state of one bracket level.
#[derive(Clone, Copy)]
struct Level {
    /// The bracket that opened the level (`(` or `[`), 0 for the top level.
    open: u8,
    /// Its byte offset.
    pos: usize,
    /// Depth at the start of the level.
    base: usize,
    /// `not`s whose operand is still open: they stay pending until an `and`, `or` or `,`.
    nots: usize,
}

/// Checks `src` for the errors described in the module docs.
pub(crate) fn prescan(src: &str) -> Result<(), ExprError> {
    if src.trim().is_empty() {
        return Err(ExprError::new(
            0..src.len(),
            "empty expression",
            "expected an expression here",
        ));
    }
    let bytes = src.as_bytes();
    let mut stack: Vec<Level> = Vec::new();
    let mut level = Level {
        open: 0,
        pos: 0,
        base: 0,
        nots: 0,
    };
    // Prefix operators (`-`, `not`) waiting for their operand at this level.
    let mut run = 0usize;
    let mut expect_operand = true;
    // The operand expected next follows an operator that binds tighter than `not` (a
    // comparison, arithmetic, `in`, a prefix `-`). A `not` there is printed back in
    // parentheses (`a == (not b)`, `-(not b)`), so it counts as two levels: whatever this
    // pass accepts must read back once printed. (Found by the `expr` fuzzer.)
    let mut tight = false;
    let mut after_dot = false;
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        let next = bytes.get(i + 1).copied();
        let mut dot = false;
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'"' | b'\'' | b'`' => {
                i = skip_quoted(src, i)?;
                expect_operand = false;
                run = 0;
            }
            c if is_word_byte(c) => {
                let start = i;
                while bytes.get(i).is_some_and(|&b| is_word_byte(b)) {
                    i += 1;
                }
                let word = &src[start..i];
                if after_dot {
                    expect_operand = false;
                } else {
                    match word {
                        "not" if expect_operand => {
                            // The `-`s just before it apply to the whole `not …`: like
                            // the `not`, they stay open until its operand ends.
                            level.nots += run + if tight { 2 } else { 1 };
                            run = 0;
                            tight = false;
                            check_depth(&level, run, start)?;
                        }
                        "and" | "or" => {
                            expect_operand = true;
                            tight = false;
                            run = 0;
                            level.nots = 0;
                        }
                        "in" | "not" => {
                            expect_operand = true;
                            tight = true;
                        }
                        _ => {
                            expect_operand = false;
                            run = 0;
                        }
                    }
                }
            }
            b'(' | b'[' => {
                stack.push(level);
                level = Level {
                    open: c,
                    pos: i,
                    base: level.base + run + level.nots + 1,
                    nots: 0,
                };
                run = 0;
                expect_operand = true;
                tight = false;
                check_depth(&level, run, i)?;
                i += 1;
            }
            b')' | b']' => {
                let want = if c == b')' { b'(' } else { b'[' };
                let shown = char::from(c);
                match stack.pop() {
                    Some(outer) if level.open == want => {
                        level = outer;
                        run = 0;
                        expect_operand = false;
                        i += 1;
                    }
                    Some(_) => {
                        let close = if level.open == b'(' { ')' } else { ']' };
                        return Err(ExprError::new(
                            i..i + 1,
                            format!("unexpected `{shown}`"),
                            format!(
                                "expected `{close}` to close the `{}` first",
                                char::from(level.open)
                            ),
                        )
                        .with_help(format!(
                            "the `{}` at byte {} is still open",
                            char::from(level.open),
                            level.pos
                        )));
                    }
                    None => {
                        return Err(ExprError::new(
                            i..i + 1,
                            format!("unexpected `{shown}`"),
                            format!("no `{}` to close", char::from(want)),
                        ));
                    }
                }
            }
            b'-' => {
                if expect_operand {
                    run += 1;
                    check_depth(&level, run, i)?;
                } else {
                    expect_operand = true;
                }
                tight = true;
                i += 1;
            }
            b'&' | b'|' => {
                let len = if next == Some(c) { 2 } else { 1 };
                let word = if c == b'&' { "and" } else { "or" };
                return Err(ExprError::new(
                    i..i + len,
                    format!("unexpected `{}`", &src[i..i + len]),
                    "not an operator of this language",
                )
                .with_help(format!("write `{word}`")));
            }
            b'!' | b'=' if next != Some(b'=') => {
                let (label, help) = if c == b'!' {
                    ("not an operator of this language", "write `not`")
                } else {
                    ("`=` does not compare", "write `==`")
                };
                return Err(ExprError::new(
                    i..i + 1,
                    format!("unexpected `{}`", char::from(c)),
                    label,
                )
                .with_help(help));
            }
            b'!' | b'=' | b'<' | b'>' => {
                i += if next == Some(b'=') { 2 } else { 1 };
                expect_operand = true;
                tight = true;
                run = 0;
            }
            b',' => {
                expect_operand = true;
                tight = false;
                run = 0;
                level.nots = 0;
                i += 1;
            }
            b'.' => {
                dot = true;
                i += 1;
            }
            b'+' | b'*' | b'/' | b'%' => {
                expect_operand = true;
                tight = true;
                run = 0;
                i += 1;
            }
            _ => {
                i += src
                    .get(i..)
                    .and_then(|rest| rest.chars().next())
                    .map_or(1, char::len_utf8);
            }
        }
        after_dot = dot;
    }
    if level.open != 0 {
        let (what, close) = if level.open == b'(' {
            ("parenthesis", ')')
        } else {
            ("bracket", ']')
        };
        return Err(ExprError::new(
            level.pos..level.pos + 1,
            format!("unbalanced {what}"),
            format!("this `{}` is never closed", char::from(level.open)),
        )
        .with_help(format!("add a `{close}`")));
    }
    Ok(())
}

/// Whether `b` may appear in an identifier or a number.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'@' | b'$')
}

/// Skips the quoted text starting at `start`, returning the offset after its closing quote.
fn skip_quoted(src: &str, start: usize) -> Result<usize, ExprError> {
    let bytes = src.as_bytes();
    let quote = bytes.get(start).copied().unwrap_or(b'"');
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' {
            i += 2;
        } else if b == quote {
            return Ok(i + 1);
        } else {
            i += 1;
        }
    }
    let (what, label) = if quote == b'`' {
        ("unclosed quoted field name", "this name is never closed")
    } else {
        ("unclosed string", "this string is never closed")
    };
    let help = match quote {
        b'`' => "add a closing backquote",
        b'\'' => "add a closing `'`",
        _ => "add a closing `\"`",
    };
    Err(ExprError::new(start..src.len(), what, label).with_help(help))
}

fn check_depth(level: &Level, run: usize, pos: usize) -> Result<(), ExprError> {
    if level.base + run + level.nots > MAX_NESTING {
        return Err(ExprError::new(
            pos..pos + 1,
            "expression is nested too deeply",
            format!("more than {MAX_NESTING} levels of nesting here"),
        )
        .with_help("split the expression or remove redundant parentheses and operators"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> ExprError {
        match prescan(src) {
            Err(e) => e,
            Ok(()) => panic!("expected an error for {src:?}"),
        }
    }

    #[test]
    fn accepts_balanced_input() {
        for src in [
            "a == 'x)'",
            "f(a, [1, (2)])",
            "`a(b`.c",
            "a != b and c <= d",
            "\"esc \\\" quote\"",
        ] {
            assert!(prescan(src).is_ok(), "{src}");
        }
    }

    #[test]
    fn reports_empty_and_unclosed() {
        assert_eq!(err("   ").message, "empty expression");
        let e = err("a == \"abc");
        assert_eq!((e.message.as_str(), e.span), ("unclosed string", 5..9));
        let e = err("f(a, (b)");
        assert_eq!(
            (e.message.as_str(), e.span),
            ("unbalanced parenthesis", 1..2)
        );
        let e = err("[1, 2");
        assert_eq!(e.message, "unbalanced bracket");
    }

    #[test]
    fn reports_unexpected_closers() {
        let e = err("a == b)");
        assert_eq!((e.message.as_str(), e.span), ("unexpected `)`", 6..7));
        let e = err("f([1)");
        assert_eq!((e.message.as_str(), e.span), ("unexpected `)`", 4..5));
        assert_eq!(e.label, "expected `]` to close the `[` first");
    }

    #[test]
    fn reports_foreign_operators() {
        let e = err("a && b");
        assert_eq!(
            (e.span.clone(), e.help.as_deref()),
            (2..4, Some("write `and`"))
        );
        assert_eq!(err("a || b").help.as_deref(), Some("write `or`"));
        assert_eq!(err("!a").help.as_deref(), Some("write `not`"));
        let e = err("a = 1");
        assert_eq!(
            (e.span.clone(), e.help.as_deref()),
            (2..3, Some("write `==`"))
        );
    }

    #[test]
    fn bounds_nesting() {
        let ok = format!("{}x{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(prescan(&ok).is_ok());
        let deep = format!(
            "{}x{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert_eq!(err(&deep).message, "expression is nested too deeply");
        assert!(prescan(&format!("{}x", "- ".repeat(MAX_NESTING + 1))).is_err());
        assert!(prescan(&"x == not ".repeat(MAX_NESTING + 1)).is_err());
        assert!(prescan(&"not x and ".repeat(200)).is_ok());
    }
}
