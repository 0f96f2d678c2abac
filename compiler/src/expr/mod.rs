//! The expression language of filters, routes, keys and computed fields.
//!
//! An expression is one line of text inside the YAML spec, such as
//! `eid == "INTERACT" and edata.type in ["click", "touch"]`. It is [`parse`]d into an
//! [`Expr`], [`check`](check())ed against the schema of the events that reach it (through a
//! [`FieldResolver`]), and [`eval`](eval())uated against each event at run time.
//!
//! # Grammar
//!
//! ```text
//! expr     = prefix* operand (infix prefix* operand)*
//! prefix   = "not" | "-"
//! infix    = "or" | "and" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in"
//!          | "+" | "-" | "*" | "/" | "%"
//! operand  = "(" expr ")" | "[" (expr ("," expr)* ","?)? "]" | literal
//!          | name "(" (expr ("," expr)* ","?)? ")" | path
//! literal  = int | float | string | "true" | "false" | "null"
//! int      = digits                    (42; a leading `-` is the prefix operator)
//! float    = digits "." digits exponent? | digits exponent      (1.5, 2e3, 1.5E-3)
//! string   = '"' … '"' | "'" … "'"     escapes: \" \' \\ \/ \n \t \r \uXXXX
//! ```
//!
//! Keywords (`and or not in true false null`) are whole words: `android` is a field.
//! Whitespace is free between tokens but not inside a path. Each operator has one spelling:
//! `&&`, `||`, `!` and `=` are errors whose help names the right one.
//!
//! # Precedence, loosest first
//!
//! | level | operators | associativity |
//! | --- | --- | --- |
//! | 1 | `or` | left |
//! | 2 | `and` | left |
//! | 3 | `not` (prefix) | — |
//! | 4 | `==` `!=` `<` `<=` `>` `>=` `in` `not in` | none: `a < b < c` is an error |
//! | 5 | `+` `-` | left |
//! | 6 | `*` `/` `%` | left |
//! | 7 | `-` (prefix) | — |
//! | 8 | function calls, literals, paths, `( )` | — |
//!
//! So `not a == b` is `not (a == b)`, and `not a and b` is `(not a) and b`.
//!
//! # Field paths
//!
//! A path names a field of the event: `eid`, `edata.type`, `context.cdata[0].id`.
//! - The first segment is an identifier — ASCII letters, digits, `_`, `@`, `$`, not starting
//!   with a digit and not a keyword (`@timestamp` and `$meta` are fine) — or any name in
//!   backquotes: `` `@timestamp` ``, `` `my field` ``, `` `not` ``.
//! - After a dot comes a name of identifier characters (keywords and leading digits are
//!   allowed there: `edata.in`, `a.0`), a backquoted name, or a double-quoted one:
//!   `flags."my key"`.
//! - In brackets comes an index (`[0]`; negative counts from the end, `[-1]` is the last
//!   element) or a quoted member name: `["@timestamp"]`, `['a.b']`.
//! - `-` is never part of a name (it is minus); a bare `"…"` is a string, not a field.
//!
//! [`FieldPath`]'s `Display` gives the canonical form (`context.cdata[0].id`, quoting only
//! names that need it), which [`FieldPath::parse`] reads back.
//!
//! # Values and null
//!
//! Values are JSON values; [`Ty`] is the set of kinds an expression may produce. A missing
//! field reads as `null`.
//! - `==`/`!=` compare any two values: ints and floats by number (`1 == 1.0`), lists and
//!   objects deeply, and values of different kinds are simply not equal (`1 == "1"` is
//!   false; the checker flags it). `null == null` is true.
//! - `< <= > >=` order two numbers or two strings (by code point); with a null operand they
//!   are false; other mixes are an error.
//! - `x in list` is true when an element equals `x`; `x in null` is false.
//! - `and`, `or`, `not` take booleans, with null counting as false; `and`/`or`
//!   short-circuit and always give a boolean.
//! - Arithmetic with a null operand gives null. `+` adds numbers or joins two strings (use
//!   `concat()` to join other values as text). `/` always gives a float (`7 / 2` is 3.5);
//!   `%` of two ints is an int. Integer overflow and division by zero are errors.
//! - Most functions give null for a null first argument (see [`functions()`]).
//!
//! # Checking
//!
//! [`check()`] reports every problem it finds — unknown fields (with did-you-mean from
//! [`suggest`]), comparisons that can never hold, operands of the wrong type, unknown
//! functions, wrong arities and argument types — and goes on with [`Ty::ANY`] after an
//! error so that one mistake reports once. [`check_condition`] also requires a value that
//! can be a boolean. [`render_markdown`] writes the function reference for the docs.

pub mod ast;
mod builtins;
pub mod check;
pub mod clock;
mod display;
pub mod eval;
pub mod functions;
pub mod md5;
mod parser;
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
pub use functions::{FunctionDef, Param, Ret, functions, render_markdown};
pub use parser::{ExprError, MAX_DEPTH, parse};
pub use ty::Ty;
