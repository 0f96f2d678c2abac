//! Unit tests of the scalar rules (types, enums, limits), trivial schemas, annotations,
//! `not`, and how verdicts meet modes.

use serde_json::{Value, json};

use super::ChangeKind::*;
use super::tests::check;
use super::*;

fn obj(props: Value) -> Value {
    json!({"type": "object", "properties": props})
}

#[test]
fn types_narrowed_widened_changed() {
    let nullable = obj(json!({"a": {"type": ["string", "null"]}}));
    let string = obj(json!({"a": {"type": "string"}}));
    let report = check(
        nullable.clone(),
        string.clone(),
        Verdict::ForwardOnly,
        &[("#/properties/a", TypeNarrowed, false, true)],
    );
    assert_eq!(
        report.changes[0].message,
        "type narrowed from [string, null] to string"
    );
    check(
        string,
        nullable,
        Verdict::BackwardOnly,
        &[("#/properties/a", TypeWidened, true, false)],
    );
    let report = check(
        json!({"type": "integer"}),
        json!({"type": "number"}),
        Verdict::BackwardOnly,
        &[("#", TypeWidened, true, false)],
    );
    assert_eq!(
        report.changes[0].message,
        "type widened from integer to number"
    );
    check(
        json!({"type": "number"}),
        json!({"type": "integer"}),
        Verdict::ForwardOnly,
        &[("#", TypeNarrowed, false, true)],
    );
    // Disjoint types: nothing else is compared.
    check(
        json!({"type": "string", "maxLength": 3}),
        json!({"type": "integer", "maximum": 3}),
        Verdict::Incompatible,
        &[("#", TypeChanged, false, false)],
    );
    check(
        json!({"type": ["string", "null"]}),
        json!({"type": ["string", "integer"]}),
        Verdict::Incompatible,
        &[("#", TypeChanged, false, false)],
    );
}

#[test]
fn enums_and_consts() {
    let ab = json!({"type": "string", "enum": ["A", "B"]});
    let abc = json!({"type": "string", "enum": ["A", "B", "C"]});
    let report = check(
        ab.clone(),
        abc.clone(),
        Verdict::BackwardOnly,
        &[("#/enum", EnumExtended, true, false)],
    );
    assert_eq!(report.changes[0].message, "enum values added: \"C\"");
    check(
        abc,
        ab.clone(),
        Verdict::ForwardOnly,
        &[("#/enum", EnumNarrowed, false, true)],
    );
    check(
        ab.clone(),
        json!({"enum": ["A", "D"]}),
        Verdict::Incompatible,
        &[("#/enum", EnumChanged, false, false)],
    );
    check(
        json!({"type": "string"}),
        ab.clone(),
        Verdict::ForwardOnly,
        &[("#/enum", EnumAdded, false, true)],
    );
    check(
        ab,
        json!({"type": "string"}),
        Verdict::BackwardOnly,
        &[("#/enum", EnumRemoved, true, false)],
    );
    check(
        json!({"const": "3.0"}),
        json!({"const": "3.1"}),
        Verdict::Incompatible,
        &[("#/const", EnumChanged, false, false)],
    );
    // Writing the type of an enum's values changes nothing.
    check(
        json!({"enum": ["A"]}),
        json!({"type": "string", "enum": ["A"]}),
        Verdict::Full,
        &[],
    );
    check(
        json!({"const": "A"}),
        json!({"enum": ["A", "B"]}),
        Verdict::BackwardOnly,
        &[("#/enum", EnumExtended, true, false)],
    );
}

#[test]
fn string_and_number_limits() {
    let typed = |ty: &str, v: Value| {
        let mut m = v.as_object().cloned().unwrap_or_default();
        m.insert("type".into(), json!(ty));
        Value::Object(m)
    };
    let s = |v: Value| typed("string", v);
    check(
        s(json!({"maxLength": 5})),
        s(json!({"maxLength": 10})),
        Verdict::BackwardOnly,
        &[("#/maxLength", MaxLengthIncreased, true, false)],
    );
    let report = check(
        s(json!({"maxLength": 10})),
        s(json!({"maxLength": 5})),
        Verdict::ForwardOnly,
        &[("#/maxLength", MaxLengthDecreased, false, true)],
    );
    assert_eq!(
        report.changes[0].message,
        "maxLength decreased from 10 to 5"
    );
    check(
        s(json!({})),
        s(json!({"maxLength": 5})),
        Verdict::ForwardOnly,
        &[("#/maxLength", MaxLengthAdded, false, true)],
    );
    check(
        s(json!({"minLength": 1})),
        s(json!({})),
        Verdict::BackwardOnly,
        &[("#/minLength", MinLengthRemoved, true, false)],
    );
    check(
        s(json!({"minLength": 1})),
        s(json!({"minLength": 2})),
        Verdict::ForwardOnly,
        &[("#/minLength", MinLengthIncreased, false, true)],
    );
    check(
        s(json!({})),
        s(json!({"pattern": "^a"})),
        Verdict::ForwardOnly,
        &[("#/pattern", PatternAdded, false, true)],
    );
    check(
        s(json!({"pattern": "^a"})),
        s(json!({"pattern": "^b"})),
        Verdict::Incompatible,
        &[("#/pattern", PatternChanged, false, false)],
    );

    let n = |v: Value| typed("number", v);
    check(
        n(json!({"maximum": 5})),
        n(json!({"maximum": 9})),
        Verdict::BackwardOnly,
        &[("#/maximum", MaximumIncreased, true, false)],
    );
    check(
        n(json!({"minimum": 0})),
        n(json!({"minimum": 1})),
        Verdict::ForwardOnly,
        &[("#/minimum", MinimumIncreased, false, true)],
    );
    check(
        n(json!({"minimum": 0})),
        n(json!({})),
        Verdict::BackwardOnly,
        &[("#/minimum", MinimumRemoved, true, false)],
    );
    // Draft 4's boolean exclusiveMaximum, and the numeric kind of later drafts.
    check(
        n(json!({"maximum": 5})),
        n(json!({"maximum": 5, "exclusiveMaximum": true})),
        Verdict::ForwardOnly,
        &[("#/exclusiveMaximum", ExclusiveMaximumAdded, false, true)],
    );
    check(
        n(json!({"exclusiveMinimum": 1})),
        n(json!({"exclusiveMinimum": 0})),
        Verdict::BackwardOnly,
        &[("#/exclusiveMinimum", ExclusiveMinimumDecreased, true, false)],
    );
    check(
        n(json!({"multipleOf": 2})),
        n(json!({"multipleOf": 4})),
        Verdict::ForwardOnly,
        &[("#/multipleOf", MultipleOfExpanded, false, true)],
    );
    check(
        n(json!({"multipleOf": 4})),
        n(json!({"multipleOf": 2})),
        Verdict::BackwardOnly,
        &[("#/multipleOf", MultipleOfReduced, true, false)],
    );
    check(
        n(json!({"multipleOf": 3})),
        n(json!({"multipleOf": 2})),
        Verdict::Incompatible,
        &[("#/multipleOf", MultipleOfChanged, false, false)],
    );
}

#[test]
fn trivial_schemas_and_annotations() {
    check(
        json!({}),
        json!({"type": "string"}),
        Verdict::ForwardOnly,
        &[("#", ConstrainedFromAny, false, true)],
    );
    check(
        json!({"type": "string"}),
        json!(true),
        Verdict::BackwardOnly,
        &[("#", RelaxedToAny, true, false)],
    );
    check(
        json!({"type": "string"}),
        json!(false),
        Verdict::ForwardOnly,
        &[("#", RestrictedToNothing, false, true)],
    );
    check(
        json!(false),
        json!({"type": "string"}),
        Verdict::BackwardOnly,
        &[("#", RelaxedFromNothing, true, false)],
    );
    check(
        json!({}),
        json!({"title": "anything"}),
        Verdict::Full,
        &[("#/title", TitleChanged, true, true)],
    );
    let report = check(
        obj(json!({"a": {"type": "string", "description": "old"}})),
        obj(json!({"a": {"type": "string", "description": "new", "default": "x"}})),
        Verdict::Full,
        &[
            ("#/properties/a/description", DescriptionChanged, true, true),
            ("#/properties/a/default", DefaultChanged, true, true),
        ],
    );
    assert_eq!(
        report.changes[0].message,
        "`description` changed from \"old\" to \"new\""
    );
}

#[test]
fn not_schemas_compare_the_other_way() {
    let not = |t: Value| json!({"not": {"type": t}});
    // Forbidding more narrows.
    check(
        not(json!("string")),
        not(json!(["string", "null"])),
        Verdict::ForwardOnly,
        &[("#/not", NotSchemaChanged, false, true)],
    );
    check(
        not(json!(["string", "null"])),
        not(json!("string")),
        Verdict::BackwardOnly,
        &[("#/not", NotSchemaChanged, true, false)],
    );
    check(
        json!({"type": "string"}),
        json!({"type": "string", "not": {"const": ""}}),
        Verdict::ForwardOnly,
        &[("#/not", CombinatorAdded, false, true)],
    );
}

#[test]
fn verdicts_and_modes() {
    use Compatibility::*;
    let table = [
        (Verdict::Full, [true, true, true, true]),
        (Verdict::BackwardOnly, [true, false, false, true]),
        (Verdict::ForwardOnly, [false, true, false, true]),
        (Verdict::Incompatible, [false, false, false, true]),
    ];
    for (verdict, allowed) in table {
        for (mode, ok) in [Backward, Forward, Full, None].into_iter().zip(allowed) {
            assert_eq!(verdict.satisfies(mode), ok, "{verdict:?} under {mode:?}");
        }
    }
    assert_eq!(Verdict::from_flags(true, false).as_str(), "BACKWARD");
    assert_eq!(Verdict::Incompatible.as_str(), "NONE");
    assert_eq!(mode_name(Full), "FULL");
}
