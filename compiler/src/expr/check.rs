//! Type checking: every field resolved against the schema, every operator and call checked
//! against the types of its operands. All problems of an expression are reported; a
//! sub-expression in error continues as [`Ty::ANY`] so that one mistake reports once.

use std::ops::Range;

use super::Ty;
use super::ast::{BinaryOp, Expr, ExprKind, FieldPath, Literal, PathSegment, UnaryOp};
use super::functions::{self, FunctionDef};

/// Tells the checker what type a field has.
pub trait FieldResolver {
    /// The type of the field at `path`, or why it is unknown.
    fn resolve(&self, path: &FieldPath) -> Resolution;
}

/// Any `Fn(&FieldPath) -> Resolution` resolves fields.
impl<F: Fn(&FieldPath) -> Resolution> FieldResolver for F {
    fn resolve(&self, path: &FieldPath) -> Resolution {
        self(path)
    }
}

/// A resolver for when nothing is known about the events: every field is [`Ty::ANY`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyFields;

impl FieldResolver for AnyFields {
    fn resolve(&self, _: &FieldPath) -> Resolution {
        Resolution::Known(Ty::ANY)
    }
}

/// What a [`FieldResolver`] knows about a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The field exists with this type.
    Known(Ty),
    /// The schema does not have the field.
    Unknown {
        /// Index of the first segment the schema does not know.
        segment: usize,
        /// A better name for that segment.
        suggestion: Option<String>,
        /// Only a warning: the schema is open, so the field may still occur.
        warning: bool,
        /// Where the checker looked, e.g. "the schema of INTERACT at `edata`".
        context: String,
    },
}

/// The result of checking an expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The type of the expression's value.
    pub ty: Ty,
    /// Everything wrong with it, in source order of discovery.
    pub problems: Vec<TypeProblem>,
}

/// What kind of problem a [`TypeProblem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// A field the schema does not have.
    UnknownField,
    /// Operands an operator cannot combine.
    TypeMismatch,
    /// A call of a function that does not exist.
    UnknownFunction,
    /// A call with too few or too many arguments.
    Arity,
    /// An argument of a type its parameter does not accept.
    ArgumentType,
    /// A condition that cannot be true or false.
    NotBoolean,
}

/// One problem found by the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeProblem {
    /// The kind of problem.
    pub kind: ProblemKind,
    /// Byte range within the expression's source.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// Text for the label under `span`.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Only a warning (the expression may still work).
    pub warning: bool,
}

/// Checks an expression whose value may be of any type.
pub fn check(expr: &Expr, fields: &dyn FieldResolver) -> Checked {
    let mut checker = Checker {
        fields,
        problems: Vec::new(),
    };
    let ty = checker.expr(expr);
    Checked {
        ty,
        problems: checker.problems,
    }
}

/// Checks a filter or route condition: like [`check`], and the value must be able to be a bool.
pub fn check_condition(expr: &Expr, fields: &dyn FieldResolver) -> Checked {
    let mut checked = check(expr, fields);
    if !checked.ty.overlaps(Ty::BOOL) {
        let ty = checked.ty;
        let help = match &expr.kind {
            ExprKind::Path(p) => Some(format!(
                "compare the field (`{p} == ...`) or test that it is there (`exists({p})`)"
            )),
            _ if ty.overlaps(Ty::STRING) => Some(format!("compare it, e.g. `{expr} == \"value\"`")),
            _ if ty.overlaps(Ty::NUMBER) => Some(format!("compare it, e.g. `{expr} > 0`")),
            _ => None,
        };
        checked.problems.push(TypeProblem {
            kind: ProblemKind::NotBoolean,
            span: expr.span.clone(),
            message: format!("a condition must be true or false, found {ty}"),
            label: format!("this is {ty}"),
            help,
            warning: false,
        });
    }
    checked
}

pub use crate::suggest::suggest;

struct Checker<'a> {
    fields: &'a dyn FieldResolver,
    problems: Vec<TypeProblem>,
}

/// Adds NUMBER to a type with any number kind: ints and floats compare with each other.
fn widen(ty: Ty) -> Ty {
    if ty.overlaps(Ty::NUMBER) {
        ty.or(Ty::NUMBER)
    } else {
        ty
    }
}

/// Number kinds of the result of `+ - * %` on numbers of types `l` and `r`.
fn arith_num(l: Ty, r: Ty) -> Ty {
    let mut out = Ty::NEVER;
    if l.overlaps(Ty::INT) && r.overlaps(Ty::INT) {
        out = out.or(Ty::INT);
    }
    if l.overlaps(Ty::FLOAT) || r.overlaps(Ty::FLOAT) {
        out = out.or(Ty::FLOAT);
    }
    if out.is_never() { Ty::NUMBER } else { out }
}

impl Checker<'_> {
    fn report(
        &mut self,
        kind: ProblemKind,
        span: Range<usize>,
        message: String,
        label: String,
        help: Option<String>,
    ) {
        self.problems.push(TypeProblem {
            kind,
            span,
            message,
            label,
            help,
            warning: false,
        });
    }

    fn expr(&mut self, e: &Expr) -> Ty {
        match &e.kind {
            ExprKind::Literal(lit) => literal_ty(lit),
            ExprKind::List(items) => {
                for item in items {
                    self.expr(item);
                }
                Ty::LIST
            }
            ExprKind::Path(path) => self.path(path),
            ExprKind::Unary { op, expr } => {
                let t = self.expr(expr);
                match op {
                    UnaryOp::Not => {
                        self.want_bool(expr, t, "not");
                        Ty::BOOL
                    }
                    UnaryOp::Neg => {
                        if !t.overlaps(Ty::NUMBER) {
                            self.not_number(expr, t, "-");
                            return Ty::ANY;
                        }
                        t.and(Ty::NUMBER.or(Ty::NULL))
                    }
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(e, *op, lhs, rhs),
            ExprKind::Call {
                name,
                name_span,
                args,
            } => self.call(e, name, name_span, args),
        }
    }

    fn path(&mut self, path: &FieldPath) -> Ty {
        match self.fields.resolve(path) {
            Resolution::Known(ty) => ty,
            Resolution::Unknown {
                segment,
                suggestion,
                warning,
                context,
            } => {
                let segment = segment.min(path.segments.len().saturating_sub(1));
                let span = path
                    .segments
                    .get(segment)
                    .map_or(path.span.clone(), PathSegment::span);
                let help = suggestion.map(|name| {
                    let mut fixed = path.clone();
                    if let Some(seg) = fixed.segments.get_mut(segment) {
                        *seg = PathSegment::Field { name, span: 0..0 };
                    }
                    format!("did you mean `{}`?", fixed.prefix_string(segment + 1))
                });
                self.problems.push(TypeProblem {
                    kind: ProblemKind::UnknownField,
                    span,
                    message: format!("unknown field `{}`", path.prefix_string(segment + 1)),
                    label: format!("not in {context}"),
                    help,
                    warning,
                });
                Ty::ANY
            }
        }
    }

    /// Reports `operand` of `op` if its type `t` cannot be a bool.
    fn want_bool(&mut self, operand: &Expr, t: Ty, op: &str) {
        if t.overlaps(Ty::BOOL.or(Ty::NULL)) {
            return;
        }
        let help = match &operand.kind {
            ExprKind::Path(p) => Some(format!(
                "compare the field (`{p} == ...`) or test that it is there (`exists({p})`)"
            )),
            _ => None,
        };
        self.report(
            ProblemKind::TypeMismatch,
            operand.span.clone(),
            format!("`{op}` needs true or false, found {t}"),
            format!("this is {t}"),
            help,
        );
    }

    /// Reports `operand` of arithmetic operator `op` for not being a number.
    fn not_number(&mut self, operand: &Expr, t: Ty, op: &str) {
        let help = t
            .overlaps(Ty::STRING)
            .then(|| format!("convert it: `to_int({operand})` or `to_float({operand})`"));
        self.report(
            ProblemKind::TypeMismatch,
            operand.span.clone(),
            format!("`{op}` needs numbers, found {t}"),
            format!("this is {t}"),
            help,
        );
    }
}

fn literal_ty(lit: &Literal) -> Ty {
    match lit {
        Literal::Null => Ty::NULL,
        Literal::Bool(_) => Ty::BOOL,
        Literal::Int(_) => Ty::INT,
        Literal::Float(_) => Ty::FLOAT,
        Literal::String(_) => Ty::STRING,
    }
}

/// How to make `a` (of type `ta`) comparable with `b` (of type `tb`), if there is a clear way.
fn comparison_help(a: &Expr, ta: Ty, b: &Expr, tb: Ty, op: BinaryOp) -> Option<String> {
    let (s, n, string_on_left) = if ta.overlaps(Ty::STRING) && tb.overlaps(Ty::NUMBER) {
        (a, b, true)
    } else if tb.overlaps(Ty::STRING) && ta.overlaps(Ty::NUMBER) {
        (b, a, false)
    } else {
        let (lit, other) = match (&a.kind, &b.kind) {
            (ExprKind::Literal(Literal::String(t)), _) => (t, tb),
            (_, ExprKind::Literal(Literal::String(t))) => (t, ta),
            _ => return None,
        };
        return (other.overlaps(Ty::BOOL) && (lit == "true" || lit == "false"))
            .then(|| format!("write `{lit}` without quotes"));
    };
    if let ExprKind::Literal(Literal::String(text)) = &s.kind
        && text.trim().parse::<f64>().is_ok()
    {
        return Some(format!(
            "write the number without quotes: `{}`",
            text.trim()
        ));
    }
    if let ExprKind::Literal(lit @ (Literal::Int(_) | Literal::Float(_))) = &n.kind {
        return Some(format!("quote the number: `\"{lit}\"`"));
    }
    let op = op.symbol();
    Some(if string_on_left {
        format!("convert one side: `to_int({s}) {op} {n}` or `{s} {op} to_string({n})`")
    } else {
        format!("convert one side: `{n} {op} to_int({s})` or `to_string({n}) {op} {s}`")
    })
}

#[path = "check_ops.rs"]
mod ops;

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;

/// The function registry's names, for did-you-mean on unknown functions.
fn function_names() -> impl Iterator<Item = &'static str> {
    functions::functions().iter().map(|f: &FunctionDef| f.name)
}
