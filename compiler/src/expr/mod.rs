//! The expression language of filters, routes, keys and computed fields.

pub mod ast;
mod builtins;
pub mod check;
mod display;
pub mod eval;
pub mod functions;
mod md5;
pub mod parser;
#[cfg(test)]
mod proptests;
mod scan;
mod syntax_error;
mod time;
pub mod ty;

pub use ast::{BinaryOp, Expr, ExprKind, FieldPath, Literal, PathSegment, UnaryOp};
pub use check::{
    AnyFields, Checked, FieldResolver, ProblemKind, Resolution, TypeProblem, check,
    check_condition, suggest,
};
pub use eval::{EvalError, eval};
pub use functions::{FunctionDef, Param, Ret, functions, lookup, render_markdown};
pub use parser::{ExprError, parse};
pub use ty::Ty;
