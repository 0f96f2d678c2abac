//! Parsing expressions: pest grammar (`grammar.pest`) + Pratt parser for precedence, and
//! pest's errors turned into short messages that point at the exact byte.

use std::fmt;
use std::ops::Range;
use std::sync::LazyLock;

use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::{BinaryOp, Expr, ExprKind, FieldPath, Literal, PathSegment, UnaryOp};
use super::scan::prescan;
use super::syntax_error::{Mode, pest_error, unescape};

/// The deepest expression tree accepted (bounds recursion in later passes).
pub const MAX_DEPTH: usize = 256;

#[derive(pest_derive::Parser)]
#[grammar = "expr/grammar.pest"]
pub(crate) struct Grammar;

/// A syntax error in an expression or field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// Byte range of the offending text within the parsed string (may be empty at the end).
    pub span: Range<usize>,
    /// What is wrong, in a few words.
    pub message: String,
    /// Text for the label under `span`.
    pub label: String,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
}

impl ExprError {
    /// An error without help text.
    pub fn new(span: Range<usize>, message: impl Into<String>, label: impl Into<String>) -> Self {
        ExprError {
            span,
            message: message.into(),
            label: label.into(),
            help: None,
        }
    }

    /// The same error with help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExprError {}

/// Parses an expression.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    prescan(src)?;
    let pairs =
        Grammar::parse(Rule::main, src).map_err(|e| pest_error(src, &e, Mode::Expression))?;
    match pairs.into_iter().find(|p| p.as_rule() == Rule::expr) {
        Some(pair) => Ok(build_expr(pair)?.expr),
        None => Err(ExprError::new(
            0..src.len(),
            "empty expression",
            "expected an expression here",
        )),
    }
}

/// Parses a bare field path (see [`FieldPath::parse`]).
pub(crate) fn parse_path(src: &str) -> Result<FieldPath, ExprError> {
    if src.trim().is_empty() {
        return Err(ExprError::new(
            0..src.len(),
            "empty field path",
            "expected a field name here",
        ));
    }
    prescan(src)?;
    let pairs =
        Grammar::parse(Rule::path_main, src).map_err(|e| pest_error(src, &e, Mode::Path))?;
    match pairs.into_iter().find(|p| p.as_rule() == Rule::path) {
        Some(pair) => build_path(pair),
        None => Err(ExprError::new(
            0..src.len(),
            "empty field path",
            "expected a field name here",
        )),
    }
}

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
        .op(Op::infix(Rule::eq, Assoc::Left)
            | Op::infix(Rule::ne, Assoc::Left)
            | Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left)
            | Op::infix(Rule::in_op, Assoc::Left)
            | Op::infix(Rule::not_in, Assoc::Left))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left)
            | Op::infix(Rule::div, Assoc::Left)
            | Op::infix(Rule::rem, Assoc::Left))
        .op(Op::prefix(Rule::neg))
});

/// An expression under construction.
struct Node {
    expr: Expr,
    depth: usize,
    /// Written in parentheses (so a comparison inside may be compared again).
    parens: bool,
}

fn node(kind: ExprKind, span: Range<usize>, depth: usize) -> Result<Node, ExprError> {
    if depth > MAX_DEPTH {
        return Err(ExprError::new(
            span,
            "expression is nested too deeply",
            format!("more than {MAX_DEPTH} levels of operators here"),
        )
        .with_help("split the expression, or use `in [...]` instead of long `or` chains"));
    }
    Ok(Node {
        expr: Expr { kind, span },
        depth,
        parens: false,
    })
}

fn span_of(pair: &Pair<'_, Rule>) -> Range<usize> {
    pair.as_span().start()..pair.as_span().end()
}

fn build_expr(pair: Pair<'_, Rule>) -> Result<Node, ExprError> {
    PRATT
        .map_primary(build_primary)
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            let span = op.as_span().start()..rhs.expr.span.end;
            let op = if op.as_rule() == Rule::not_op {
                UnaryOp::Not
            } else {
                UnaryOp::Neg
            };
            if op == UnaryOp::Neg && !rhs.parens {
                let folded = match rhs.expr.kind {
                    ExprKind::Literal(Literal::Int(n)) => Some(Literal::Int(-n)),
                    ExprKind::Literal(Literal::Float(f)) => Some(Literal::Float(-f)),
                    _ => None,
                };
                if let Some(lit) = folded {
                    return node(ExprKind::Literal(lit), span, 1);
                }
            }
            let depth = rhs.depth + 1;
            let expr = Box::new(rhs.expr);
            node(ExprKind::Unary { op, expr }, span, depth)
        })
        .map_infix(|lhs, op_pair, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let op = binary_op(op_pair.as_rule());
            let span = lhs.expr.span.start..rhs.expr.span.end;
            if op.is_comparison() {
                for side in [&lhs, &rhs] {
                    if let ExprKind::Binary { op: inner, .. } = &side.expr.kind
                        && inner.is_comparison()
                        && !side.parens
                    {
                        return Err(ExprError::new(
                            span,
                            "comparisons cannot be chained",
                            format!(
                                "`{}` compares the result of `{}`",
                                op.symbol(),
                                inner.symbol()
                            ),
                        )
                        .with_help(
                            "combine them with `and` (`a < b and b < c`) or add parentheses",
                        ));
                    }
                }
            }
            let depth = lhs.depth.max(rhs.depth) + 1;
            let (lhs, rhs) = (Box::new(lhs.expr), Box::new(rhs.expr));
            node(ExprKind::Binary { op, lhs, rhs }, span, depth)
        })
        .parse(pair.into_inner())
}

fn binary_op(rule: Rule) -> BinaryOp {
    match rule {
        Rule::or_op => BinaryOp::Or,
        Rule::and_op => BinaryOp::And,
        Rule::eq => BinaryOp::Eq,
        Rule::ne => BinaryOp::Ne,
        Rule::lt => BinaryOp::Lt,
        Rule::le => BinaryOp::Le,
        Rule::gt => BinaryOp::Gt,
        Rule::ge => BinaryOp::Ge,
        Rule::in_op => BinaryOp::In,
        Rule::not_in => BinaryOp::NotIn,
        Rule::add => BinaryOp::Add,
        Rule::sub => BinaryOp::Sub,
        Rule::mul => BinaryOp::Mul,
        Rule::div => BinaryOp::Div,
        // The grammar's `infix` has no other alternatives.
        _ => BinaryOp::Rem,
    }
}

/// The operands among a rule's children, built.
fn build_operands(pair: Pair<'_, Rule>) -> Result<(Vec<Expr>, usize), ExprError> {
    let mut items = Vec::new();
    let mut depth = 0;
    for inner in pair.into_inner().filter(|p| p.as_rule() == Rule::expr) {
        let n = build_expr(inner)?;
        depth = depth.max(n.depth);
        items.push(n.expr);
    }
    Ok((items, depth + 1))
}

fn build_primary(pair: Pair<'_, Rule>) -> Result<Node, ExprError> {
    let span = span_of(&pair);
    let text = pair.as_str();
    let lit = |l: Literal| node(ExprKind::Literal(l), span.clone(), 1);
    match pair.as_rule() {
        Rule::paren => {
            let inner = pair.into_inner().find(|p| p.as_rule() == Rule::expr);
            let mut n = match inner {
                Some(inner) => build_expr(inner)?,
                None => {
                    return Err(ExprError::new(
                        span,
                        "expected an operand",
                        "expected a value here",
                    ));
                }
            };
            n.expr.span = span;
            n.parens = true;
            Ok(n)
        }
        Rule::list => {
            let (items, depth) = build_operands(pair)?;
            node(ExprKind::List(items), span, depth)
        }
        Rule::call => {
            let (name, name_span) = match pair.clone().into_inner().next() {
                Some(p) => (p.as_str().to_string(), span_of(&p)),
                None => (String::new(), span.start..span.start),
            };
            let (args, depth) = build_operands(pair)?;
            node(
                ExprKind::Call {
                    name,
                    name_span,
                    args,
                },
                span,
                depth,
            )
        }
        Rule::path => {
            let path = build_path(pair)?;
            node(ExprKind::Path(path), span, 1)
        }
        Rule::int => match text.parse::<i64>() {
            Ok(n) => lit(Literal::Int(n)),
            Err(_) => Err(ExprError::new(
                span,
                "integer literal is too large",
                "does not fit in 64 bits",
            )
            .with_help("write it as a float (`1e19`) or a string")),
        },
        Rule::float => match text.parse::<f64>() {
            Ok(f) if f.is_finite() => lit(Literal::Float(f)),
            _ => Err(ExprError::new(
                span,
                "number is too large",
                "does not fit in a 64-bit float",
            )),
        },
        Rule::true_lit => lit(Literal::Bool(true)),
        Rule::false_lit => lit(Literal::Bool(false)),
        Rule::null_lit => lit(Literal::Null),
        Rule::string => lit(Literal::String(unescape(text, span.start)?)),
        _ => Err(ExprError::new(
            span,
            "expected an operand",
            "expected a value here",
        )),
    }
}

fn build_path(pair: Pair<'_, Rule>) -> Result<FieldPath, ExprError> {
    let span = span_of(&pair);
    let mut segments = Vec::new();
    let mut bracket_start = span.start;
    for p in pair.into_inner() {
        let seg_span = span_of(&p);
        match p.as_rule() {
            Rule::ident | Rule::field_name => segments.push(PathSegment::Field {
                name: p.as_str().to_string(),
                span: seg_span,
            }),
            Rule::backquoted | Rule::string => segments.push(PathSegment::Field {
                name: unescape(p.as_str(), seg_span.start)?,
                span: seg_span,
            }),
            Rule::index_int => match p.as_str().parse::<i64>() {
                Ok(index) => segments.push(PathSegment::Index {
                    index,
                    span: seg_span,
                }),
                Err(_) => {
                    return Err(ExprError::new(
                        seg_span,
                        "index is too large",
                        "does not fit in 64 bits",
                    ));
                }
            },
            Rule::index_open => bracket_start = seg_span.start,
            Rule::index_close => match segments.last_mut() {
                Some(PathSegment::Field { span, .. } | PathSegment::Index { span, .. }) => {
                    *span = bracket_start..seg_span.end;
                }
                None => {}
            },
            _ => {}
        }
    }
    Ok(FieldPath { segments, span })
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
