//! Type rules of the binary operators and of function calls.

use std::ops::Range;

use super::super::Ty;
use super::super::ast::{BinaryOp, Expr, ExprKind};
use super::super::functions;
use super::{Checker, ProblemKind, arith_num, comparison_help, function_names, suggest, widen};

impl Checker<'_> {
    pub(super) fn binary(&mut self, e: &Expr, op: BinaryOp, lhs: &Expr, rhs: &Expr) -> Ty {
        let l = self.expr(lhs);
        if matches!(op, BinaryOp::In | BinaryOp::NotIn) {
            self.membership(op, lhs, l, rhs);
            return Ty::BOOL;
        }
        let r = self.expr(rhs);
        let (ln, rn) = (l.without(Ty::NULL), r.without(Ty::NULL));
        let nullable = if l.contains(Ty::NULL) || r.contains(Ty::NULL) {
            Ty::NULL
        } else {
            Ty::NEVER
        };
        match op {
            BinaryOp::And | BinaryOp::Or => {
                self.want_bool(lhs, l, op.symbol());
                self.want_bool(rhs, r, op.symbol());
                Ty::BOOL
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                if !ln.is_never() && !rn.is_never() && !widen(ln).overlaps(widen(rn)) {
                    let help = comparison_help(lhs, ln, rhs, rn, op);
                    self.mismatch(e, ln, rn, "these can never be equal", help);
                }
                Ty::BOOL
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let numbers = ln.overlaps(Ty::NUMBER) && rn.overlaps(Ty::NUMBER);
                let strings = ln.overlaps(Ty::STRING) && rn.overlaps(Ty::STRING);
                if !ln.is_never() && !rn.is_never() && !numbers && !strings {
                    let label = format!("`{}` needs two numbers or two strings", op.symbol());
                    let help = comparison_help(lhs, ln, rhs, rn, op);
                    self.mismatch(e, ln, rn, &label, help);
                }
                Ty::BOOL
            }
            BinaryOp::Add => {
                let numbers = l.overlaps(Ty::NUMBER) && r.overlaps(Ty::NUMBER);
                let strings = l.overlaps(Ty::STRING) && r.overlaps(Ty::STRING);
                if !numbers && !strings {
                    let help = (l.overlaps(Ty::STRING) || r.overlaps(Ty::STRING))
                        .then(|| format!("use `concat({lhs}, {rhs})` to join values as text"));
                    self.report(
                        ProblemKind::TypeMismatch,
                        e.span.clone(),
                        format!("cannot add {l} and {r}"),
                        "`+` needs two numbers or two strings".to_string(),
                        help,
                    );
                    return Ty::ANY;
                }
                let mut ty = nullable;
                if numbers {
                    ty = ty.or(arith_num(ln, rn));
                }
                if strings {
                    ty = ty.or(Ty::STRING);
                }
                ty
            }
            _ => {
                let mut ok = true;
                for (side, t) in [(lhs, l), (rhs, r)] {
                    if !t.overlaps(Ty::NUMBER) {
                        self.not_number(side, t, op.symbol());
                        ok = false;
                    }
                }
                if !ok {
                    Ty::ANY
                } else if op == BinaryOp::Div {
                    Ty::FLOAT.or(nullable)
                } else {
                    arith_num(ln, rn).or(nullable)
                }
            }
        }
    }

    /// Reports comparison `e` of a `ta` with a `tb`.
    fn mismatch(&mut self, e: &Expr, ta: Ty, tb: Ty, label: &str, help: Option<String>) {
        self.report(
            ProblemKind::TypeMismatch,
            e.span.clone(),
            format!("comparing {ta} with {tb}"),
            label.to_string(),
            help,
        );
    }

    /// `lhs in rhs` / `lhs not in rhs`.
    fn membership(&mut self, op: BinaryOp, lhs: &Expr, l: Ty, rhs: &Expr) {
        let ln = l.without(Ty::NULL);
        if let ExprKind::List(items) = &rhs.kind {
            for item in items {
                let t = self.expr(item).without(Ty::NULL);
                if !ln.is_never() && !t.is_never() && !widen(ln).overlaps(widen(t)) {
                    self.report(
                        ProblemKind::TypeMismatch,
                        item.span.clone(),
                        format!("comparing {ln} with {t}"),
                        format!("never equal to `{lhs}`, which is {ln}"),
                        comparison_help(lhs, ln, item, t, BinaryOp::Eq),
                    );
                }
            }
            return;
        }
        let r = self.expr(rhs);
        let rn = r.without(Ty::NULL);
        if !rn.is_never() && !rn.overlaps(Ty::LIST) {
            let help = if rn.overlaps(Ty::STRING) {
                format!("to search in a string, use `contains({rhs}, {lhs})`")
            } else {
                format!("write a list: `{lhs} {} [\"a\", \"b\"]`", op.symbol())
            };
            self.report(
                ProblemKind::TypeMismatch,
                rhs.span.clone(),
                format!("`{}` needs a list on the right, found {rn}", op.symbol()),
                format!("this is {rn}"),
                Some(help),
            );
        }
    }

    pub(super) fn call(
        &mut self,
        e: &Expr,
        name: &str,
        name_span: &Range<usize>,
        args: &[Expr],
    ) -> Ty {
        let Some(def) = functions::lookup(name) else {
            let help = suggest(name, function_names()).map(|s| format!("did you mean `{s}`?"));
            self.report(
                ProblemKind::UnknownFunction,
                name_span.clone(),
                format!("unknown function `{name}`"),
                "no such function".to_string(),
                help,
            );
            for arg in args {
                self.expr(arg);
            }
            return Ty::ANY;
        };
        let (min, max) = (def.min_args(), def.max_args());
        if args.len() < min || max.is_some_and(|max| args.len() > max) {
            let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
            let expected = match max {
                Some(max) if max == min => format!("{min} {}", plural(min)),
                Some(max) => format!("{min} to {max} arguments"),
                None => format!("at least {min} {}", plural(min)),
            };
            self.report(
                ProblemKind::Arity,
                e.span.clone(),
                format!("`{name}` takes {expected}, found {}", args.len()),
                "wrong number of arguments".to_string(),
                Some(format!("the signature is `{}`", def.signature())),
            );
        }
        let mut types = Vec::with_capacity(args.len());
        for (i, arg) in args.iter().enumerate() {
            let param = def.param(i);
            if param.is_some_and(|p| p.field_path) {
                match &arg.kind {
                    ExprKind::Path(path) => {
                        self.path(path);
                    }
                    _ => {
                        self.expr(arg);
                        self.report(
                            ProblemKind::ArgumentType,
                            arg.span.clone(),
                            format!("`{name}` takes a field path"),
                            "not a field path".to_string(),
                            Some(format!("write the field itself, e.g. `{name}(edata.type)`")),
                        );
                    }
                }
                types.push(Ty::ANY);
                continue;
            }
            let t = self.expr(arg);
            types.push(t);
            let Some(param) = param else { continue };
            if t.is_never() || t.overlaps(param.ty) {
                continue;
            }
            let help = if t == Ty::NULL {
                None
            } else if param.ty.contains(Ty::STRING) {
                Some(format!("convert it with `to_string({arg})`"))
            } else if param.ty.contains(Ty::INT) && param.ty.without(Ty::NUMBER).is_never() {
                Some(format!("convert it with `to_int({arg})`"))
            } else if param.ty == Ty::FLOAT {
                Some(format!("convert it with `to_float({arg})`"))
            } else {
                None
            };
            self.report(
                ProblemKind::ArgumentType,
                arg.span.clone(),
                format!(
                    "`{name}` needs {} for `{}`, found {t}",
                    param.ty, param.name
                ),
                format!("this is {t}"),
                help,
            );
        }
        def.return_type(&types)
    }
}
