//! Expressions: every filter, condition, key and computed field parses, and its field paths
//! and types are checked against the schemas of the event types that can reach the step.
//!
//! Which types reach a step follows the topic graph: a topic carries the types its producers
//! send to it (or what its `events` says, or every type when nothing in the pipeline writes
//! it), and conditions on the type field (`eid == "LOG"`) narrow the types a route rule or
//! filter passes on.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use super::Index;
use super::resolve::{Added, Resolver, Types, field_names};
use super::schemas::Shapes;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::expr::{self, Expr, FieldPath, ProblemKind, Ty};
use crate::source::Span;
use crate::spec::steps::Step;
use crate::spec::{ScalarOr, Spanned, Stream};

struct Ctx<'a, 'b> {
    ix: &'a Index<'b>,
    shapes: &'a Shapes,
    all: Types,
    /// Each expression parsed once, by where it is written (the type-flow pass and the
    /// checking pass both need it).
    parsed: RefCell<HashMap<Span, Rc<Result<Expr, expr::ExprError>>>>,
}

/// Events sent to a topic: the topic, their types and the fields set on them.
type Flow = (String, Types, Added);
/// Per topic: the types it carries and the fields set upstream.
type Flows = BTreeMap<String, (Types, Added)>;

/// Checks every expression of the spec.
pub fn check(ix: &Index<'_>, shapes: &Shapes, diags: &mut Diagnostics) {
    let all = Types::Set(ix.types.iter().map(|t| t.name.value.clone()).collect());
    let cx = Ctx {
        ix,
        shapes,
        all,
        parsed: RefCell::default(),
    };
    let flows = cx.topic_flows();
    for s in &ix.streams.items {
        let input = cx.input(&flows, &s.def.from.value);
        cx.walk(s.def, input, Some(diags));
    }
    for t in &ix.topics.items {
        if let Some(key) = &t.def.key {
            let (types, added) = cx.input(&flows, &t.name.value);
            cx.check_expr(key, &types, &added, &[], false, diags);
        }
    }
}

/// What each topic of the spec carries: the event types that reach it and the fields
/// streams set on them upstream (for the Druid checks).
pub(super) fn topic_contents(ix: &Index<'_>, shapes: &Shapes) -> BTreeMap<String, (Types, Added)> {
    let cx = Ctx {
        ix,
        shapes,
        all: Types::Set(ix.types.iter().map(|t| t.name.value.clone()).collect()),
        parsed: RefCell::default(),
    };
    let flows = cx.topic_flows();
    ix.topics
        .items
        .iter()
        .map(|t| (t.name.value.clone(), cx.input(&flows, &t.name.value)))
        .collect()
}

impl Ctx<'_, '_> {
    /// The types each topic carries and the fields earlier streams set on its events,
    /// computed to a fixed point over the streams.
    fn topic_flows(&self) -> Flows {
        let mut flows = Flows::new();
        for _ in 0..=self.ix.streams.items.len() + 1 {
            let mut changed = false;
            for s in &self.ix.streams.items {
                let input = self.input(&flows, &s.def.from.value);
                for (topic, t, a) in self.walk(s.def, input, None) {
                    let entry = flows
                        .entry(topic)
                        .or_insert_with(|| (Types::Set(BTreeSet::new()), Added::new()));
                    changed |= entry.0.union(&t);
                    for (path, ty) in a {
                        match entry.1.iter_mut().find(|(p, _)| *p == path) {
                            Some((_, old)) if old.contains(ty) => {}
                            Some((_, old)) => {
                                *old = old.or(ty);
                                changed = true;
                            }
                            None => {
                                entry.1.push((path, ty));
                                changed = true;
                            }
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        flows
    }

    /// What reaches a stream reading `topic`: its types and the fields set upstream.
    fn input(&self, flows: &Flows, topic: &str) -> (Types, Added) {
        let added = flows.get(topic).map(|f| f.1.clone()).unwrap_or_default();
        (self.input_types(flows, topic), added)
    }

    fn input_types(&self, produced: &Flows, topic: &str) -> Types {
        if let Some(t) = self.ix.topics.get(topic)
            && let Some(events) = &t.def.events
        {
            return Types::Set(events.iter().map(|e| e.value.clone()).collect());
        }
        match produced.get(topic) {
            Some((t, _)) => t.clone(),
            None => self.all.clone(),
        }
    }

    /// Walks a stream's steps, checking expressions when `diags` is given, and returns the
    /// types sent to each output topic.
    fn walk(
        &self,
        stream: &Stream,
        (input, input_added): (Types, Added),
        diags: Option<&mut Diagnostics>,
    ) -> Vec<Flow> {
        let mut out: Vec<Flow> = Vec::new();
        let has_unbatch = stream
            .steps
            .iter()
            .any(|s| matches!(s.value, Step::Unbatch(_)));
        let mut types = if has_unbatch { Types::Untyped } else { input };
        let mut added = if has_unbatch {
            Added::new()
        } else {
            input_added
        };
        let mut sink = Diagnostics::default();
        let d: &mut Diagnostics = match diags {
            Some(d) => d,
            None => &mut sink,
        };
        let send = |out: &mut Vec<Flow>, to: &[Spanned<String>], t: &Types, a: &Added| {
            out.extend(to.iter().map(|x| (x.value.clone(), t.clone(), a.clone())));
        };
        for step in stream.steps.iter() {
            match &step.value {
                Step::Unbatch(u) => {
                    for (_, e) in u.carry.iter() {
                        self.check_expr(e, &Types::Untyped, &added, &[], false, d);
                    }
                    if let Some(b) = &u.summary {
                        // Computed from the batch; the paths are checked, the summary event
                        // carries what `event` and `set` give it.
                        let mut fields = Added::new();
                        for (k, e) in b.set.iter() {
                            self.check_expr(e, &Types::Untyped, &added, &[], false, d);
                            add_field(&mut fields, k, Ty::ANY, d);
                        }
                        send(
                            &mut out,
                            std::slice::from_ref(&b.to),
                            &Types::Untyped,
                            &fields,
                        );
                    }
                    send(&mut out, u.invalid.as_slice(), &Types::Untyped, &added);
                    types = self.all.clone();
                    for (k, _) in u.carry.iter() {
                        add_field(&mut added, k, Ty::ANY, d);
                    }
                    send(&mut out, u.oversized.as_slice(), &types, &added);
                }
                Step::Validate(v) => {
                    if let Some(w) = &v.when {
                        self.check_expr(w, &types, &added, &[], true, d);
                    }
                    send(&mut out, std::slice::from_ref(&v.invalid), &types, &added);
                    for (k, val) in v.valid_flags.iter() {
                        add_field(&mut added, k, literal_ty(&val.value), d);
                    }
                }
                Step::Dedup(dd) => {
                    self.check_expr(&dd.key, &types, &added, &[], false, d);
                    if let Some(w) = &dd.when {
                        self.check_expr(w, &types, &added, &[], true, d);
                    }
                    send(&mut out, dd.duplicates.as_slice(), &types, &added);
                }
                Step::Set(fields) => {
                    for (k, e) in fields.iter() {
                        let ty = self.check_expr(e, &types, &added, &[], false, d);
                        // `field?`: set only when the value is not null.
                        let target = match k.value.strip_suffix('?') {
                            Some(path) => Spanned {
                                value: path.to_owned(),
                                span: k.span,
                            },
                            None => k.clone(),
                        };
                        add_field(&mut added, &target, ty, d);
                    }
                }
                Step::Flag(fields) => {
                    for (k, v) in fields.iter() {
                        add_field(&mut added, k, literal_ty(&v.value), d);
                    }
                }
                Step::Filter(f) => {
                    let (when, otherwise) = match f {
                        ScalarOr::Scalar(w) => (w, None),
                        ScalarOr::Full(f) => (&f.when, f.otherwise.as_ref()),
                    };
                    let test = self.type_test(when);
                    let narrowed = test
                        .as_ref()
                        .map_or_else(|| types.clone(), |t| types.narrow(t));
                    self.check_expr(when, &narrowed, &added, &[], true, d);
                    if let Some(o) = otherwise {
                        let mut rest = types.clone();
                        if let Some(t) = &test {
                            rest.remove(t);
                        }
                        send(&mut out, std::slice::from_ref(o), &rest, &added);
                    }
                    if let Some(t) = &test {
                        types = types.narrow(t);
                    }
                }
                Step::Route(rules) => {
                    let mut remaining = types.clone();
                    for r in rules.iter() {
                        let mut rule_types = remaining.clone();
                        let mut test = None;
                        if let Some(w) = &r.when {
                            test = self.type_test(w);
                            if let Some(t) = &test {
                                rule_types = remaining.narrow(t);
                            }
                            self.check_expr(w, &rule_types, &added, &[], true, d);
                        }
                        for (_, e) in r.set.iter() {
                            self.check_expr(e, &rule_types, &added, &[], false, d);
                        }
                        if let Some(to) = &r.to {
                            send(&mut out, to, &rule_types, &added);
                        }
                        if let Some(to) = &r.otherwise {
                            send(&mut out, to, &remaining, &added);
                        }
                        if let (Some(t), false) = (&test, r.continue_) {
                            remaining.remove(t);
                        }
                    }
                }
                Step::Explode(e) => {
                    let mut item_types = types.clone();
                    if let Some(w) = &e.when {
                        if let Some(t) = self.type_test(w) {
                            item_types = types.narrow(&t);
                        }
                        self.check_expr(w, &item_types, &added, &[], true, d);
                    }
                    let types = &item_types;
                    let ty = self.check_expr(&e.items, types, &added, &[], false, d);
                    if !ty.overlaps(Ty::LIST) {
                        d.push(
                            Diagnostic::error(
                                "PC0603",
                                format!("`{}` is not a list", e.items.value),
                            )
                            .at(e.items.span, format!("this is {ty}"))
                            .help("explode a field that holds a list"),
                        );
                    }
                    for (_, x) in e.set.iter() {
                        self.check_expr(x, types, &added, &["item"], false, d);
                    }
                    let new_types = match &e.as_type {
                        Some(t) => Types::Set([t.value.clone()].into()),
                        None => types.clone(),
                    };
                    send(&mut out, &e.to, &new_types, &added);
                }
                Step::Enrich(en) => {
                    self.check_expr(&en.key, &types, &added, &[], false, d);
                    if let Some(w) = &en.when {
                        self.check_expr(w, &types, &added, &[], true, d);
                    }
                    add_field(&mut added, &en.into, Ty::OBJECT.or(Ty::NULL), d);
                    if let Some(f) = &en.flag {
                        add_field(&mut added, f, Ty::BOOL, d);
                    }
                }
                Step::Window(w) => {
                    for k in w.key.iter() {
                        self.check_expr(k, &types, &added, &[], false, d);
                    }
                    if let Some(t) = &w.time {
                        let ty = self.check_expr(t, &types, &added, &[], false, d);
                        if !ty.overlaps(Ty::NUMBER) {
                            d.push(
                                Diagnostic::error("PC0603", "the event-time field is not a number")
                                    .at(t.span, format!("this is {ty}"))
                                    .help("use a field holding epoch milliseconds, such as `ets`"),
                            );
                        }
                    }
                    send(&mut out, w.late.as_slice(), &types, &added);
                }
                Step::Aggregate(a) => {
                    for (_, e) in a.fields.iter() {
                        self.check_aggregate(e, &types, &added, d);
                    }
                    types = match &a.as_type {
                        Some(t) => Types::Set([t.value.clone()].into()),
                        None => Types::Untyped,
                    };
                    added.clear();
                }
                Step::Emit(to) => send(&mut out, to, &types, &added),
            }
        }
        out
    }

    /// The event types a condition lets through, when it tests the type field: `eid == "X"`,
    /// `eid in [...]`, an `or` of such tests, or an `and` with such a test on either side.
    fn type_test(&self, text: &Spanned<String>) -> Option<Vec<String>> {
        match &*self.parse(text) {
            Ok(parsed) => conj_type_test(parsed, self.ix.type_field()),
            Err(_) => None,
        }
    }

    /// The parsed expression of a written string (parsed once).
    fn parse(&self, text: &Spanned<String>) -> Rc<Result<Expr, expr::ExprError>> {
        let mut cache = self.parsed.borrow_mut();
        cache
            .entry(text.span)
            .or_insert_with(|| Rc::new(expr::parse(&text.value)))
            .clone()
    }

    /// Parses and type-checks one expression; returns its type (ANY after an error).
    fn check_expr(
        &self,
        text: &Spanned<String>,
        types: &Types,
        added: &Added,
        free_roots: &[&str],
        condition: bool,
        diags: &mut Diagnostics,
    ) -> Ty {
        let parsed = self.parse(text);
        let parsed = match &*parsed {
            Ok(e) => e,
            Err(e) => {
                diags.push(
                    crate::diagnostics::catalog::expr_syntax(&e.message)
                        .at(
                            super::sub_span(self.ix.sources, text, e.span.clone()),
                            e.label.clone(),
                        )
                        .maybe_help(e.help.clone()),
                );
                return Ty::ANY;
            }
        };
        self.check_parsed(parsed, text, types, added, free_roots, condition, diags)
    }

    #[allow(clippy::too_many_arguments)]
    fn check_parsed(
        &self,
        parsed: &Expr,
        text: &Spanned<String>,
        types: &Types,
        added: &Added,
        free_roots: &[&str],
        condition: bool,
        diags: &mut Diagnostics,
    ) -> Ty {
        let resolver = Resolver {
            types,
            shapes: self.shapes,
            added,
            free_roots,
        };
        let checked = if condition {
            expr::check_condition(parsed, &resolver)
        } else {
            expr::check(parsed, &resolver)
        };
        for p in checked.problems {
            let code = match p.kind {
                ProblemKind::UnknownField => "PC0602",
                ProblemKind::TypeMismatch => "PC0603",
                ProblemKind::UnknownFunction => "PC0604",
                ProblemKind::Arity => "PC0605",
                ProblemKind::ArgumentType => "PC0606",
                ProblemKind::NotBoolean => "PC0607",
            };
            let d = if p.warning {
                Diagnostic::warning(code, p.message)
            } else {
                Diagnostic::error(code, p.message)
            };
            diags.push(
                d.at(super::sub_span(self.ix.sources, text, p.span), p.label)
                    .maybe_help(p.help),
            );
        }
        checked.ty
    }

    /// Aggregate fields call an aggregate function (`count()`, `sum(x)`, ...) whose
    /// arguments are per-event expressions.
    fn check_aggregate(
        &self,
        text: &Spanned<String>,
        types: &Types,
        added: &Added,
        diags: &mut Diagnostics,
    ) {
        const AGGREGATES: &[&str] = &[
            "count", "count_if", "sum", "min", "max", "avg", "first", "last", "distinct", "collect",
        ];
        let parsed = self.parse(text);
        let Ok(parsed) = &*parsed else {
            self.check_expr(text, types, added, &[], false, diags);
            return;
        };
        if let expr::ExprKind::Call { name, args, .. } = &parsed.kind
            && AGGREGATES.contains(&name.as_str())
        {
            for a in args {
                self.check_parsed(a, text, types, added, &[], name == "count_if", diags);
            }
            return;
        }
        diags.push(
            Diagnostic::error(
                "PC0604",
                "an aggregate field must call an aggregate function",
            )
            .at(text.span, "not an aggregate")
            .help(format!("use one of: {}", AGGREGATES.join(", "))),
        );
    }
}

fn conj_type_test(e: &Expr, field: &str) -> Option<Vec<String>> {
    if let Some(t) = e.as_type_test(field) {
        return Some(t);
    }
    match &e.kind {
        expr::ExprKind::Binary {
            op: expr::BinaryOp::And,
            lhs,
            rhs,
        } => match (conj_type_test(lhs, field), conj_type_test(rhs, field)) {
            (Some(a), Some(b)) => Some(a.into_iter().filter(|t| b.contains(t)).collect()),
            (Some(a), None) | (None, Some(a)) => Some(a),
            (None, None) => None,
        },
        _ => None,
    }
}

fn literal_ty(v: &serde_json::Value) -> Ty {
    match v {
        serde_json::Value::Null => Ty::NULL,
        serde_json::Value::Bool(_) => Ty::BOOL,
        serde_json::Value::Number(n) if n.is_f64() => Ty::FLOAT,
        serde_json::Value::Number(_) => Ty::INT,
        serde_json::Value::String(_) => Ty::STRING,
        serde_json::Value::Array(_) => Ty::LIST,
        serde_json::Value::Object(_) => Ty::OBJECT,
    }
}

/// Records a field that a step sets; reports a target that is not a field path.
fn add_field(added: &mut Added, target: &Spanned<String>, ty: Ty, diags: &mut Diagnostics) {
    match FieldPath::parse(&target.value) {
        Ok(p) => added.push((field_names(&p).into_iter().map(String::from).collect(), ty)),
        Err(e) => diags.push(
            crate::diagnostics::catalog::expr_syntax(&format!(
                "`{}` is not a field path: {}",
                target.value, e.message
            ))
            .at(target.span, "not a field path")
            .help("write a dotted path such as `flags.pp_duplicate`"),
        ),
    }
}
