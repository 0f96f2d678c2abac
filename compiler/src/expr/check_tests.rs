//! Tests of the type checker and of `suggest`.

use super::*;
use crate::expr::parse;

/// A small schema: `eid`, `ets`, `edata.{type,size,score,tags}`, `ver`; `extra.*` is open.
struct Schema;

const TOP: [(&str, Ty); 5] = [
    ("eid", Ty::STRING),
    ("ets", Ty::INT),
    ("ver", Ty::STRING.or(Ty::NULL)),
    ("edata", Ty::OBJECT),
    ("extra", Ty::OBJECT),
];
const EDATA: [(&str, Ty); 5] = [
    ("type", Ty::STRING),
    ("size", Ty::INT.or(Ty::NULL)),
    ("score", Ty::FLOAT),
    ("tags", Ty::LIST),
    ("ok", Ty::BOOL),
];

impl FieldResolver for Schema {
    fn resolve(&self, path: &FieldPath) -> Resolution {
        let name = |i: usize| match path.segments.get(i) {
            Some(PathSegment::Field { name, .. }) => name.as_str(),
            _ => "",
        };
        let unknown = |segment: usize, table: &[(&'static str, Ty)], context: &str, warning| {
            Resolution::Unknown {
                segment,
                suggestion: suggest(name(segment), table.iter().map(|(n, _)| *n)).map(String::from),
                warning,
                context: context.to_string(),
            }
        };
        let Some((_, ty)) = TOP.iter().find(|(n, _)| *n == name(0)) else {
            return unknown(0, &TOP, "the schema of INTERACT", false);
        };
        match (name(0), path.segments.len()) {
            (_, 1) => Resolution::Known(*ty),
            ("edata", 2) => match EDATA.iter().find(|(n, _)| *n == name(1)) {
                Some((_, ty)) => Resolution::Known(*ty),
                None => unknown(1, &EDATA, "the schema of INTERACT at `edata`", false),
            },
            ("extra", _) => unknown(1, &[], "the schema of INTERACT at `extra` (open)", true),
            _ => unknown(1, &[], "the schema of INTERACT", false),
        }
    }
}

fn checked(src: &str) -> Checked {
    check(
        &parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}")),
        &Schema,
    )
}

fn clean(src: &str) -> Ty {
    let c = checked(src);
    assert!(c.problems.is_empty(), "{src}: {:?}", c.problems);
    c.ty
}

fn one(src: &str) -> TypeProblem {
    let mut c = checked(src);
    assert_eq!(c.problems.len(), 1, "{src}: {:?}", c.problems);
    c.problems.remove(0)
}

#[test]
fn result_types() {
    assert_eq!(clean("eid"), Ty::STRING);
    assert_eq!(clean("ets + 1"), Ty::INT);
    assert_eq!(clean("ets + edata.score"), Ty::FLOAT);
    assert_eq!(clean("edata.size * 2"), Ty::INT.or(Ty::NULL));
    assert_eq!(clean("ets / 2"), Ty::FLOAT);
    assert_eq!(clean("eid + '-' + ver"), Ty::STRING.or(Ty::NULL));
    assert_eq!(clean("-edata.score"), Ty::FLOAT);
    assert_eq!(clean("eid == 'A' and not edata.ok"), Ty::BOOL);
    assert_eq!(clean("[1, 'a']"), Ty::LIST);
    assert_eq!(clean("coalesce(ver, 'none')"), Ty::STRING);
    assert_eq!(clean("lower(ver)"), Ty::STRING.or(Ty::NULL));
    assert_eq!(clean("if(edata.ok, 1, 2.5)"), Ty::NUMBER);
    assert_eq!(
        clean("ets == 1.5 or edata.size == null or ver != 'x'"),
        Ty::BOOL
    );
    assert_eq!(clean("eid in ['A', 'B'] and 3 not in edata.tags"), Ty::BOOL);
    assert_eq!(
        clean("exists(edata.size) and len(edata.tags) > 0"),
        Ty::BOOL
    );
}

#[test]
fn unknown_fields() {
    let p = one("edata.typo == 'x'");
    assert_eq!(p.kind, ProblemKind::UnknownField);
    assert_eq!(
        (p.message.as_str(), p.span),
        ("unknown field `edata.typo`", 6..10)
    );
    assert_eq!(p.label, "not in the schema of INTERACT at `edata`");
    assert_eq!(p.help.as_deref(), Some("did you mean `edata.type`?"));
    assert!(!p.warning);
    let p = one("EID");
    assert_eq!(p.help.as_deref(), Some("did you mean `eid`?"));
    let p = one("extra.anything");
    assert!(p.warning);
    assert_eq!(p.help, None);
    let p = one("zzz.y[0] == 1");
    assert_eq!((p.message.as_str(), p.span), ("unknown field `zzz`", 0..3));
}

#[test]
fn comparisons() {
    let p = one("eid == 5");
    assert_eq!(p.kind, ProblemKind::TypeMismatch);
    assert_eq!(
        (p.message.as_str(), p.span.clone()),
        ("comparing string with int", 0..8)
    );
    assert_eq!(p.help.as_deref(), Some("quote the number: `\"5\"`"));
    let p = one("ets != '5'");
    assert_eq!(
        p.help.as_deref(),
        Some("write the number without quotes: `5`")
    );
    let p = one("edata.size == eid");
    assert_eq!(p.message, "comparing int with string");
    assert_eq!(
        p.help.as_deref(),
        Some("convert one side: `edata.size == to_int(eid)` or `to_string(edata.size) == eid`")
    );
    assert_eq!(
        one("edata.ok == 'true'").help.as_deref(),
        Some("write `true` without quotes")
    );
    let p = one("eid < 3");
    assert_eq!(p.label, "`<` needs two numbers or two strings");
    assert!(
        checked("eid < 'b' and ets >= 1.5 and ver > null")
            .problems
            .is_empty()
    );
    assert!(
        one("edata.tags < 1")
            .message
            .starts_with("comparing list with int")
    );
}

#[test]
fn membership() {
    let p = one("eid in ['A', 2]");
    assert_eq!(
        (p.span.clone(), p.message.as_str()),
        (13..14, "comparing string with int")
    );
    assert_eq!(p.label, "never equal to `eid`, which is string");
    let p = one("'x' in eid");
    assert_eq!(
        (p.span.clone(), p.message.as_str()),
        (7..10, "`in` needs a list on the right, found string")
    );
    assert_eq!(
        p.help.as_deref(),
        Some("to search in a string, use `contains(eid, \"x\")`")
    );
    assert_eq!(
        one("1 not in ets").help.as_deref(),
        Some("write a list: `1 not in [\"a\", \"b\"]`")
    );
}

#[test]
fn arithmetic_and_logic() {
    let p = one("eid + 1");
    assert_eq!(
        (p.message.as_str(), p.span.clone()),
        ("cannot add string and int", 0..7)
    );
    assert_eq!(
        p.help.as_deref(),
        Some("use `concat(eid, 1)` to join values as text")
    );
    let p = one("ets * eid");
    assert_eq!(
        (p.message.as_str(), p.span.clone()),
        ("`*` needs numbers, found string", 6..9)
    );
    assert_eq!(
        p.help.as_deref(),
        Some("convert it: `to_int(eid)` or `to_float(eid)`")
    );
    assert_eq!(one("-eid").message, "`-` needs numbers, found string");
    let p = one("eid and edata.ok");
    assert_eq!(
        (p.message.as_str(), p.span.clone()),
        ("`and` needs true or false, found string", 0..3)
    );
    assert_eq!(
        one("not ets").message,
        "`not` needs true or false, found int"
    );
}

#[test]
fn calls() {
    let p = one("lowr(eid)");
    assert_eq!(p.kind, ProblemKind::UnknownFunction);
    assert_eq!(
        (p.span.clone(), p.help.as_deref()),
        (0..4, Some("did you mean `lower`?"))
    );
    assert_eq!(one("frobnicate(1)").help, None);
    let p = one("substr(eid)");
    assert_eq!(p.kind, ProblemKind::Arity);
    assert_eq!(p.message, "`substr` takes 2 to 3 arguments, found 1");
    assert_eq!(
        p.help.as_deref(),
        Some("the signature is `substr(s: string, start: int, len?: int) -> string`")
    );
    assert_eq!(
        one("lower(eid, 1)").message,
        "`lower` takes 1 argument, found 2"
    );
    assert_eq!(
        one("coalesce()").message,
        "`coalesce` takes at least 1 argument, found 0"
    );
    assert_eq!(
        one("now_ms(1)").message,
        "`now_ms` takes 0 arguments, found 1"
    );
    let p = one("lower(ets)");
    assert_eq!(p.kind, ProblemKind::ArgumentType);
    assert_eq!(
        (p.message.as_str(), p.span.clone()),
        ("`lower` needs string or list for `s`, found int", 6..9)
    );
    assert_eq!(p.help.as_deref(), Some("convert it with `to_string(ets)`"));
    assert_eq!(
        one("substr(eid, '1')").help.as_deref(),
        Some("convert it with `to_int(\"1\")`")
    );
    assert_eq!(one("max(1, 2, eid)").span, 10..13);
    let p = one("exists('eid')");
    assert_eq!(
        (p.kind, p.label.as_str()),
        (ProblemKind::ArgumentType, "not a field path")
    );
    assert_eq!(one("exists(edata.typo)").kind, ProblemKind::UnknownField);
}

#[test]
fn reports_every_problem_without_cascades() {
    let c = checked("lowr(edata.typo) == 1 and eid + 1 > 2 and starts_with(ets)");
    let kinds: Vec<ProblemKind> = c.problems.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            ProblemKind::UnknownFunction,
            ProblemKind::UnknownField,
            ProblemKind::TypeMismatch,
            ProblemKind::Arity,
            ProblemKind::ArgumentType,
        ]
    );
}

#[test]
fn conditions() {
    let c = check_condition(
        &parse("eid == 'A'").unwrap_or_else(|e| panic!("{e:?}")),
        &Schema,
    );
    assert!(c.problems.is_empty());
    let cond = |src: &str| {
        let c = check_condition(&parse(src).unwrap_or_else(|e| panic!("{e:?}")), &Schema);
        c.problems
            .into_iter()
            .find(|p| p.kind == ProblemKind::NotBoolean)
    };
    let p = cond("eid").unwrap_or_else(|| panic!("no NotBoolean"));
    assert_eq!(p.message, "a condition must be true or false, found string");
    assert_eq!(
        p.help.as_deref(),
        Some("compare the field (`eid == ...`) or test that it is there (`exists(eid)`)")
    );
    assert_eq!(
        cond("ets + 1").and_then(|p| p.help).as_deref(),
        Some("compare it, e.g. `ets + 1 > 0`")
    );
    assert!(cond("null").is_some());
    assert!(
        cond("unknown_thing").is_none(),
        "an unknown field must not cascade"
    );
    assert!(cond("extra.flag").is_none());
    assert!(cond("coalesce(edata.ok, false)").is_none());
}

#[test]
fn any_fields_and_closures_resolve() {
    let e = parse("a.b + 1").unwrap_or_else(|e| panic!("{e:?}"));
    assert!(check(&e, &AnyFields).problems.is_empty());
    let closure = |_: &FieldPath| Resolution::Known(Ty::STRING);
    assert_eq!(check(&e, &closure).problems.len(), 1);
}

#[test]
fn suggestions() {
    let names = ["type", "size", "score", "Tags"];
    assert_eq!(suggest("typ", names), Some("type"));
    assert_eq!(suggest("tags", names), Some("Tags"));
    assert_eq!(suggest("SIZE", ["sise", "size"]), Some("size"));
    assert_eq!(suggest("scroe", names), Some("score"));
    assert_eq!(suggest("zzzzzz", names), None);
    assert_eq!(suggest("", names), None);
    assert_eq!(suggest("ab", ["ax", "ay"]), Some("ax"));
    assert_eq!(suggest("timestamp", ["@timestamp"]), Some("@timestamp"));
    assert_eq!(suggest("destination", ["dest"]), None);
}
