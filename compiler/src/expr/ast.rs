//! The typed syntax tree of an expression. Spans are byte ranges within the parsed string.

use std::fmt;
use std::ops::Range;

/// One expression node and the bytes it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Byte range of the node within the parsed source (parentheses included).
    pub span: Range<usize>,
}

/// The kinds of expression nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A constant.
    Literal(Literal),
    /// A list literal `[a, b, c]`.
    List(Vec<Expr>),
    /// A field of the event.
    Path(FieldPath),
    /// `not x`, `-x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `a op b`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// A call of a built-in function.
    Call {
        /// The function's name.
        name: String,
        /// Where the name is.
        name_span: Range<usize>,
        /// The arguments, in order.
        args: Vec<Expr>,
    },
}

/// A constant value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A string, escapes decoded.
    String(String),
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `not x`.
    Not,
    /// `-x`.
    Neg,
}

/// Infix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`.
    Or,
    /// `and`.
    And,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `in`.
    In,
    /// `not in`.
    NotIn,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Rem,
}

impl UnaryOp {
    /// How the operator is written.
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Not => "not",
            UnaryOp::Neg => "-",
        }
    }
}

impl BinaryOp {
    /// How the operator is written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Binding strength, higher binds tighter (`not` sits at 3, unary minus at 7).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::In
            | BinaryOp::NotIn => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
        }
    }

    /// Whether this is one of the (non-associative) comparison operators.
    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }
}

/// A path to a field of the event: `context.cdata[0].id`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    /// The steps from the event's root, at least one.
    pub segments: Vec<PathSegment>,
    /// Byte range of the whole path.
    pub span: Range<usize>,
}

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq)]
pub enum PathSegment {
    /// An object member.
    Field {
        /// The member's name, quotes and escapes removed.
        name: String,
        /// Where the name is written (quotes included).
        span: Range<usize>,
    },
    /// A list element; negative indexes count from the end (`[-1]` is the last element).
    Index {
        /// The index.
        index: i64,
        /// Where the index is written, brackets included.
        span: Range<usize>,
    },
}

impl PathSegment {
    /// Where the segment is written.
    pub fn span(&self) -> Range<usize> {
        match self {
            PathSegment::Field { span, .. } | PathSegment::Index { span, .. } => span.clone(),
        }
    }

    /// Whether two segments name the same step (spans ignored).
    pub fn same_step(&self, other: &PathSegment) -> bool {
        match (self, other) {
            (PathSegment::Field { name: a, .. }, PathSegment::Field { name: b, .. }) => a == b,
            (PathSegment::Index { index: a, .. }, PathSegment::Index { index: b, .. }) => a == b,
            _ => false,
        }
    }
}

impl FieldPath {
    /// Parses a bare field path such as `edata.type` or `` `@timestamp` ``.
    pub fn parse(src: &str) -> Result<FieldPath, super::ExprError> {
        super::parser::parse_path(src)
    }

    /// Whether two paths name the same field (spans ignored).
    pub fn same_field(&self, other: &FieldPath) -> bool {
        self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(a, b)| a.same_step(b))
    }

    /// The canonical text of the first `n` segments.
    pub fn prefix_string(&self, n: usize) -> String {
        let mut out = String::new();
        for (i, seg) in self.segments.iter().take(n).enumerate() {
            match seg {
                PathSegment::Field { name, .. } if i == 0 => {
                    if is_plain_head(name) {
                        out.push_str(name);
                    } else {
                        push_quoted(&mut out, name, '`');
                    }
                }
                PathSegment::Field { name, .. } => {
                    out.push('.');
                    if is_plain_name(name) {
                        out.push_str(name);
                    } else {
                        push_quoted(&mut out, name, '"');
                    }
                }
                PathSegment::Index { index, .. } => {
                    out.push('[');
                    out.push_str(&index.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

/// Canonical dotted form: `context.cdata[0].id`, `` `@ts`.x ``, `flags."my key"`.
impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.prefix_string(self.segments.len()))
    }
}

/// Words that cannot start a path without backquotes.
pub(crate) const KEYWORDS: [&str; 7] = ["and", "or", "not", "in", "true", "false", "null"];

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '$')
}

/// Whether `name` may follow a dot unquoted.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(is_ident_char)
}

/// Whether `name` may start a path unquoted.
fn is_plain_head(name: &str) -> bool {
    is_plain_name(name)
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !KEYWORDS.contains(&name)
}

/// Appends `s` between `quote`s, escaped so that the parser reads it back unchanged.
pub(crate) fn push_quoted(out: &mut String, s: &str, quote: char) {
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push(quote);
}

impl Expr {
    /// Every field path the expression reads, in source order.
    pub fn paths(&self) -> Vec<&FieldPath> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a FieldPath>) {
        match &self.kind {
            ExprKind::Literal(_) => {}
            ExprKind::Path(p) => out.push(p),
            ExprKind::List(items) | ExprKind::Call { args: items, .. } => {
                for item in items {
                    item.collect_paths(out);
                }
            }
            ExprKind::Unary { expr, .. } => expr.collect_paths(out),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.collect_paths(out);
                rhs.collect_paths(out);
            }
        }
    }

    /// If the expression only tests which type an event is — `<type_field> == "X"`,
    /// `"X" == <type_field>`, `<type_field> in ["X", "Y"]`, or an `or` of such tests — the
    /// type names it accepts, in order and without repeats. `None` for anything else.
    pub fn as_type_test(&self, type_field: &str) -> Option<Vec<String>> {
        let field = FieldPath::parse(type_field).ok()?;
        let mut names = Vec::new();
        self.collect_type_names(&field, &mut names)?;
        Some(names)
    }

    fn collect_type_names(&self, field: &FieldPath, out: &mut Vec<String>) -> Option<()> {
        let ExprKind::Binary { op, lhs, rhs } = &self.kind else {
            return None;
        };
        let is_field = |e: &Expr| matches!(&e.kind, ExprKind::Path(p) if p.same_field(field));
        let mut add = |e: &Expr| match &e.kind {
            ExprKind::Literal(Literal::String(s)) => {
                if !out.contains(s) {
                    out.push(s.clone());
                }
                Some(())
            }
            _ => None,
        };
        match op {
            BinaryOp::Or => {
                lhs.collect_type_names(field, out)?;
                rhs.collect_type_names(field, out)
            }
            BinaryOp::Eq if is_field(lhs) => add(rhs),
            BinaryOp::Eq if is_field(rhs) => add(lhs),
            BinaryOp::In if is_field(lhs) => match &rhs.kind {
                ExprKind::List(items) => items.iter().try_for_each(add),
                _ => None,
            },
            _ => None,
        }
    }

    /// Nesting depth of the tree (a leaf has depth 1).
    pub fn depth(&self) -> usize {
        1 + match &self.kind {
            ExprKind::Literal(_) | ExprKind::Path(_) => 0,
            ExprKind::List(items) | ExprKind::Call { args: items, .. } => {
                items.iter().map(Expr::depth).max().unwrap_or(0)
            }
            ExprKind::Unary { expr, .. } => expr.depth(),
            ExprKind::Binary { lhs, rhs, .. } => lhs.depth().max(rhs.depth()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn path(src: &str) -> FieldPath {
        match FieldPath::parse(src) {
            Ok(p) => p,
            Err(e) => panic!("{src}: {e:?}"),
        }
    }

    #[test]
    fn canonical_paths() {
        assert_eq!(
            path("context.cdata[0].id").to_string(),
            "context.cdata[0].id"
        );
        assert_eq!(path("`@timestamp`").to_string(), "@timestamp");
        assert_eq!(path("@timestamp").to_string(), "@timestamp");
        assert_eq!(path("flags.\"my key\"").to_string(), "flags.\"my key\"");
        assert_eq!(path("a[\"@ts\"].b").to_string(), "a.@ts.b");
        assert_eq!(path("a['x\"y']").to_string(), "a.\"x\\\"y\"");
        assert_eq!(path("`not`.in").to_string(), "`not`.in");
        assert_eq!(path("`9lives`[-1]").to_string(), "`9lives`[-1]");
        assert_eq!(path("`a b`").prefix_string(1), "`a b`");
        for odd in ["a.\"\\n\\u0001\"", "`x\\`y`.\"\"", "a.\"\\\\\""] {
            let p = path(odd);
            assert!(path(&p.to_string()).same_field(&p), "{odd}");
        }
    }

    #[test]
    fn collects_paths_in_order() {
        let e = parse("lower(a.b) == c or d[0] in [e, 1]").unwrap_or_else(|e| panic!("{e:?}"));
        let names: Vec<String> = e.paths().iter().map(|p| p.to_string()).collect();
        assert_eq!(names, ["a.b", "c", "d[0]", "e"]);
    }

    #[test]
    fn type_tests() {
        let names = |src: &str| {
            parse(src)
                .unwrap_or_else(|e| panic!("{e:?}"))
                .as_type_test("eid")
        };
        let v = |xs: &[&str]| Some(xs.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(names("eid == \"IMPRESSION\""), v(&["IMPRESSION"]));
        assert_eq!(names("'LOG' == eid"), v(&["LOG"]));
        assert_eq!(
            names("eid in ['A', 'B'] or (eid == 'C' or eid == 'A')"),
            v(&["A", "B", "C"])
        );
        assert_eq!(names("eid == 'A' and x"), None);
        assert_eq!(names("eid == 'A' or x == 'B'"), None);
        assert_eq!(names("eid in ['A', 1]"), None);
        assert_eq!(names("eid != 'A'"), None);
        assert_eq!(names("eid == other"), None);
        let nested = parse("edata.type == 'X'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(nested.as_type_test("edata.type"), v(&["X"]));
        assert_eq!(nested.as_type_test("edata"), None);
        assert_eq!(nested.as_type_test("not a path!"), None);
    }
}
