//! Evaluating an expression against one event (a JSON value). Missing fields read as null;
//! see the module docs of [`crate::expr`] for the semantics of each operator.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;

use serde_json::{Number, Value};

use super::ast::{BinaryOp, Expr, ExprKind, FieldPath, Literal, PathSegment, UnaryOp};
use super::builtins;

/// A failure while evaluating: a type the operation cannot take, division by zero, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// Byte range of the sub-expression that failed.
    pub span: Range<usize>,
    /// What went wrong.
    pub message: String,
}

impl EvalError {
    /// An error at `span`.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        EvalError {
            span,
            message: message.into(),
        }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

/// Evaluates `expr` against `event`.
pub fn eval(expr: &Expr, event: &Value) -> Result<Value, EvalError> {
    let span = || expr.span.clone();
    match &expr.kind {
        ExprKind::Literal(lit) => literal(lit, span()),
        ExprKind::List(items) => items
            .iter()
            .map(|item| eval(item, event))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        ExprKind::Path(path) => Ok(lookup(event, path).cloned().unwrap_or(Value::Null)),
        ExprKind::Unary { op, expr: inner } => {
            let value = eval(inner, event)?;
            match op {
                UnaryOp::Not => Ok(Value::Bool(!truth(&value, &inner.span)?)),
                UnaryOp::Neg => match (num(&value), &value) {
                    (_, Value::Null) => Ok(Value::Null),
                    (Some(Num::Int(n)), _) => n
                        .checked_neg()
                        .map(Value::from)
                        .ok_or_else(|| EvalError::new(span(), "integer overflow")),
                    (Some(Num::Float(f)), _) => float(-f, span()),
                    (None, v) => Err(EvalError::new(span(), format!("cannot negate {}", kind(v)))),
                },
            }
        }
        ExprKind::Binary { op, lhs, rhs } => binary(*op, lhs, rhs, span(), event),
        ExprKind::Call {
            name,
            name_span,
            args,
        } => builtins::call(name, name_span, args, span(), event),
    }
}

fn literal(lit: &Literal, span: Range<usize>) -> Result<Value, EvalError> {
    Ok(match lit {
        Literal::Null => Value::Null,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(n) => Value::from(*n),
        Literal::Float(f) => return float(*f, span),
        Literal::String(s) => Value::String(s.clone()),
    })
}

/// The value at `path` in `event`, if there is one. Negative indexes count from the end.
pub fn lookup<'a>(event: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    path.segments
        .iter()
        .try_fold(event, |value, seg| match seg {
            PathSegment::Field { name, .. } => value.as_object()?.get(name),
            PathSegment::Index { index, .. } => {
                let list = value.as_array()?;
                let i = if *index < 0 {
                    list.len()
                        .checked_sub(usize::try_from(index.unsigned_abs()).ok()?)?
                } else {
                    usize::try_from(*index).ok()?
                };
                list.get(i)
            }
        })
}

fn binary(
    op: BinaryOp,
    lhs: &Expr,
    rhs: &Expr,
    span: Range<usize>,
    event: &Value,
) -> Result<Value, EvalError> {
    if matches!(op, BinaryOp::And | BinaryOp::Or) {
        let left = truth(&eval(lhs, event)?, &lhs.span)?;
        if left == (op == BinaryOp::Or) {
            return Ok(Value::Bool(left));
        }
        return Ok(Value::Bool(truth(&eval(rhs, event)?, &rhs.span)?));
    }
    let (l, r) = (eval(lhs, event)?, eval(rhs, event)?);
    let bool_result = |b: bool| Ok(Value::Bool(b));
    match op {
        BinaryOp::Eq => bool_result(values_equal(&l, &r)),
        BinaryOp::Ne => bool_result(!values_equal(&l, &r)),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let ord = match (&l, &r) {
                (Value::Null, _) | (_, Value::Null) => return bool_result(false),
                (Value::String(a), Value::String(b)) => a.cmp(b),
                _ => match (num(&l), num(&r)) {
                    (Some(a), Some(b)) => num_cmp(a, b),
                    _ => {
                        return Err(EvalError::new(
                            span,
                            format!("cannot compare {} with {}", kind(&l), kind(&r)),
                        ));
                    }
                },
            };
            bool_result(match op {
                BinaryOp::Lt => ord.is_lt(),
                BinaryOp::Le => ord.is_le(),
                BinaryOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        BinaryOp::In | BinaryOp::NotIn => {
            let found = match &r {
                Value::Array(items) => items.iter().any(|item| values_equal(&l, item)),
                Value::Null => false,
                other => {
                    return Err(EvalError::new(
                        rhs.span.clone(),
                        format!("`{}` needs a list, found {}", op.symbol(), kind(other)),
                    ));
                }
            };
            bool_result(found == (op == BinaryOp::In))
        }
        _ => arithmetic(op, &l, &r, span),
    }
}

fn arithmetic(op: BinaryOp, l: &Value, r: &Value, span: Range<usize>) -> Result<Value, EvalError> {
    if l.is_null() || r.is_null() {
        return Ok(Value::Null);
    }
    if let (BinaryOp::Add, Value::String(a), Value::String(b)) = (op, l, r) {
        return Ok(Value::String(format!("{a}{b}")));
    }
    let (Some(a), Some(b)) = (num(l), num(r)) else {
        return Err(EvalError::new(
            span,
            format!(
                "cannot apply `{}` to {} and {}",
                op.symbol(),
                kind(l),
                kind(r)
            ),
        ));
    };
    let overflow = || EvalError::new(span.clone(), "integer overflow");
    let by_zero = || EvalError::new(span.clone(), "division by zero");
    if matches!(op, BinaryOp::Div | BinaryOp::Rem) && b.as_f64() == 0.0 {
        return Err(by_zero());
    }
    match (a, b) {
        (Num::Int(x), Num::Int(y)) if op != BinaryOp::Div => {
            let result = match op {
                BinaryOp::Add => x.checked_add(y),
                BinaryOp::Sub => x.checked_sub(y),
                BinaryOp::Mul => x.checked_mul(y),
                _ => x.checked_rem(y),
            };
            result.map(Value::from).ok_or_else(overflow)
        }
        _ => {
            let (x, y) = (a.as_f64(), b.as_f64());
            let result = match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                _ => x % y,
            };
            float(result, span)
        }
    }
}

/// `true`/`false` as themselves, null as false; anything else is an error at `span`.
pub(crate) fn truth(value: &Value, span: &Range<usize>) -> Result<bool, EvalError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        other => Err(EvalError::new(
            span.clone(),
            format!("expected true or false, found {}", kind(other)),
        )),
    }
}

/// A JSON number, as the evaluator computes with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    /// Fits in an i64.
    Int(i64),
    /// Anything else (including integers beyond i64).
    Float(f64),
}

impl Num {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::Int(n) => n as f64,
            Num::Float(f) => f,
        }
    }
}

/// The number in `value`, if it is one.
pub(crate) fn num(value: &Value) -> Option<Num> {
    let n = value.as_number()?;
    match n.as_i64() {
        Some(i) => Some(Num::Int(i)),
        None => n.as_f64().map(Num::Float),
    }
}

/// A float as a JSON value; infinities and NaN (which JSON lacks) are an error.
pub(crate) fn float(f: f64, span: Range<usize>) -> Result<Value, EvalError> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| EvalError::new(span, "number out of range"))
}

/// Compares two numbers exactly, even an i64 with a float.
pub(crate) fn num_cmp(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Int(x), Num::Float(y)) => int_float_cmp(x, y),
        (Num::Float(x), Num::Int(y)) => int_float_cmp(y, x).reverse(),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

fn int_float_cmp(i: i64, f: f64) -> Ordering {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() {
        return Ordering::Equal;
    }
    if f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    // `whole` is in [-2^63, 2^63), so the cast is exact.
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0_f64.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal),
        other => other,
    }
}

/// JSON equality where `1 == 1.0`; values of different kinds are never equal.
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => match (num(a), num(b)) {
            (Some(x), Some(y)) => num_cmp(x, y).is_eq(),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// The kind of a value in messages: `null`, `bool`, `int`, `float`, `string`, `list`, `object`.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
