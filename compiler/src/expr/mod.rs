//! The expression language of filters, routes, keys and computed fields.

pub mod ast;
mod display;
pub mod parser;
mod scan;
mod syntax_error;
pub mod ty;

pub use ast::{BinaryOp, Expr, ExprKind, FieldPath, Literal, PathSegment, UnaryOp};
pub use parser::{ExprError, parse};
pub use ty::Ty;
