//! Unit tests of the object rules on tiny schemas (content models, `required`,
//! `additionalProperties`, dependencies), asserting every change's pointer, kind and
//! direction flags, and the verdict. [`check`] is shared with the other test modules.

use serde_json::{Value, json};

use super::ChangeKind::*;
use super::*;

/// `(pointer, kind, backward_ok, forward_ok)` of a change.
pub(super) type Row = (&'static str, ChangeKind, bool, bool);

/// Compares and checks every change and the verdict.
pub(super) fn check(old: Value, new: Value, verdict: Verdict, expected: &[Row]) -> CompatReport {
    let report = compare_values(&old, &new);
    let got: Vec<(&str, ChangeKind, bool, bool)> = report
        .changes
        .iter()
        .map(|c| (c.pointer.as_str(), c.kind, c.backward_ok, c.forward_ok))
        .collect();
    assert_eq!(
        got, expected,
        "changes of {old} → {new}: {:#?}",
        report.changes
    );
    assert_eq!(report.verdict, verdict, "verdict of {old} → {new}");
    report
}

fn obj(props: Value) -> Value {
    json!({"type": "object", "properties": props})
}

fn closed(props: Value) -> Value {
    json!({"type": "object", "properties": props, "additionalProperties": false})
}

#[test]
fn identical_schemas_are_fully_compatible() {
    let s = obj(json!({"a": {"type": "string", "maxLength": 3}}));
    let report = check(s.clone(), s, Verdict::Full, &[]);
    assert!(report.allows(Compatibility::Full));
}

#[test]
fn optional_property_added_to_open_object_breaks_backward_only() {
    let report = check(
        obj(json!({"a": {"type": "string"}})),
        obj(json!({"a": {"type": "string"}, "b": {"type": "integer"}})),
        Verdict::ForwardOnly,
        &[(
            "#/properties/b",
            OptionalPropertyAddedToOpenContentModel,
            false,
            true,
        )],
    );
    assert!(report.changes[0].message.contains("open object"));
    let breaking = report.breaking_for(Compatibility::Backward);
    assert_eq!(breaking.len(), 1);
    assert_eq!(breaking[0].pointer, "#/properties/b");
    assert!(report.breaking_for(Compatibility::Forward).is_empty());
    assert_eq!(report.breaking_for(Compatibility::Full).len(), 1);
    assert!(report.breaking_for(Compatibility::None).is_empty());
}

#[test]
fn properties_added_to_open_objects() {
    let old = obj(json!({}));
    let required =
        json!({"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]});
    check(
        old.clone(),
        required,
        Verdict::ForwardOnly,
        &[(
            "#/properties/b",
            RequiredPropertyAddedToOpenContentModel,
            false,
            true,
        )],
    );
    let with_default = json!({"type": "object", "properties": {"b": {"type": "string", "default": "x"}}, "required": ["b"]});
    let kind = RequiredPropertyWithDefaultAddedToOpenContentModel;
    check(
        old.clone(),
        with_default,
        Verdict::ForwardOnly,
        &[("#/properties/b", kind, false, true)],
    );
    let empty = obj(json!({"b": {"description": "anything"}}));
    check(
        old,
        empty,
        Verdict::Full,
        &[(
            "#/properties/b",
            PropertyWithEmptySchemaAddedToOpenContentModel,
            true,
            true,
        )],
    );
}

#[test]
fn properties_added_to_closed_objects() {
    let old = closed(json!({"a": {"type": "string"}}));
    let mut new = closed(json!({"a": {"type": "string"}, "b": {"type": "string"}}));
    let kind = OptionalPropertyAddedToClosedContentModel;
    check(
        old.clone(),
        new.clone(),
        Verdict::BackwardOnly,
        &[("#/properties/b", kind, true, false)],
    );
    new["required"] = json!(["b"]);
    let report = check(
        old.clone(),
        new.clone(),
        Verdict::Incompatible,
        &[(
            "#/properties/b",
            RequiredPropertyAddedToClosedContentModel,
            false,
            false,
        )],
    );
    assert_eq!(
        report.breaking_for(Compatibility::Backward)[0].pointer,
        "#/properties/b"
    );
    new["properties"]["b"]["default"] = json!("none");
    let kind = RequiredPropertyWithDefaultAddedToClosedContentModel;
    check(
        old,
        new,
        Verdict::BackwardOnly,
        &[("#/properties/b", kind, true, false)],
    );
}

#[test]
fn properties_removed() {
    let two = json!({"a": {"type": "string"}, "b": {"type": "string"}});
    let one = json!({"a": {"type": "string"}});
    check(
        obj(two.clone()),
        obj(one.clone()),
        Verdict::BackwardOnly,
        &[(
            "#/properties/b",
            PropertyRemovedFromOpenContentModel,
            true,
            false,
        )],
    );
    let kind = PropertyRemovedFromClosedContentModel;
    check(
        closed(two.clone()),
        closed(one.clone()),
        Verdict::ForwardOnly,
        &[("#/properties/b", kind, false, true)],
    );
    let mut required = closed(two);
    required["required"] = json!(["b"]);
    check(
        required,
        closed(one.clone()),
        Verdict::Incompatible,
        &[("#/properties/b", kind, false, false)],
    );
    let falsy = closed(json!({"a": {"type": "string"}, "b": false}));
    check(
        falsy,
        closed(one),
        Verdict::Full,
        &[(
            "#/properties/b",
            PropertyWithFalseRemovedFromClosedContentModel,
            true,
            true,
        )],
    );
}

#[test]
fn partially_open_objects_compare_with_the_covering_schema() {
    let old = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let mut new = old.clone();
    new["properties"] = json!({"b": {"type": "string"}});
    let kind = PropertyAddedToPartiallyOpenContentModel;
    check(
        old.clone(),
        new.clone(),
        Verdict::Full,
        &[("#/properties/b", kind, true, true)],
    );
    new["properties"]["b"] = json!({"type": "integer"});
    check(
        old,
        new,
        Verdict::Incompatible,
        &[
            ("#/properties/b", TypeChanged, false, false),
            ("#/properties/b", kind, false, false),
        ],
    );

    let old = json!({"type": "object", "patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": false});
    let mut new = old.clone();
    new["properties"] = json!({"x_a": {"type": "number"}});
    check(
        old.clone(),
        new.clone(),
        Verdict::BackwardOnly,
        &[
            ("#/properties/x_a", TypeWidened, true, false),
            ("#/properties/x_a", kind, true, false),
        ],
    );
    // Removal: the new schema's pattern covers the name.
    let removal = PropertyRemovedFromPartiallyOpenContentModel;
    check(
        new,
        old.clone(),
        Verdict::ForwardOnly,
        &[
            ("#/properties/x_a", TypeNarrowed, false, true),
            ("#/properties/x_a", removal, false, true),
        ],
    );
    // A name no pattern matches is closed here.
    let mut other = old.clone();
    other["properties"] = json!({"y": {"type": "string"}});
    check(
        old,
        other,
        Verdict::BackwardOnly,
        &[(
            "#/properties/y",
            OptionalPropertyAddedToClosedContentModel,
            true,
            false,
        )],
    );
}

#[test]
fn required_changes() {
    let props = json!({"a": {"type": "string"}, "d": {"type": "string", "default": "x"}});
    let base = json!({"type": "object", "properties": props});
    let mut new = base.clone();
    new["required"] = json!(["a", "d"]);
    check(
        base.clone(),
        new.clone(),
        Verdict::ForwardOnly,
        &[
            ("#/required/a", RequiredAttributeAdded, false, true),
            (
                "#/required/d",
                RequiredAttributeWithDefaultAdded,
                true,
                true,
            ),
        ],
    );
    check(
        new,
        base,
        Verdict::BackwardOnly,
        &[
            ("#/required/a", RequiredAttributeRemoved, true, false),
            ("#/required/d", RequiredAttributeRemoved, true, true),
        ],
    );
    // Sunbird's top level requires names that only `allOf` branches declare.
    let old = json!({"required": ["eid"], "allOf": [{"properties": {"eid": {}, "mid": {}}}]});
    let new =
        json!({"required": ["eid", "mid"], "allOf": [{"properties": {"eid": {}, "mid": {}}}]});
    check(
        old,
        new,
        Verdict::ForwardOnly,
        &[("#/required/mid", RequiredAttributeAdded, false, true)],
    );
}

#[test]
fn additional_properties() {
    let open = obj(json!({"a": {"type": "string"}}));
    let shut = closed(json!({"a": {"type": "string"}}));
    check(
        open.clone(),
        shut.clone(),
        Verdict::ForwardOnly,
        &[(
            "#/additionalProperties",
            AdditionalPropertiesRemoved,
            false,
            true,
        )],
    );
    check(
        shut,
        open.clone(),
        Verdict::BackwardOnly,
        &[(
            "#/additionalProperties",
            AdditionalPropertiesAdded,
            true,
            false,
        )],
    );
    let mut typed = open.clone();
    typed["additionalProperties"] = json!({"type": "string"});
    check(
        open,
        typed.clone(),
        Verdict::ForwardOnly,
        &[(
            "#/additionalProperties",
            AdditionalPropertiesNarrowed,
            false,
            true,
        )],
    );
    let mut wider = typed.clone();
    wider["additionalProperties"] = json!({"type": ["string", "null"]});
    check(
        typed,
        wider,
        Verdict::BackwardOnly,
        &[("#/additionalProperties", TypeWidened, true, false)],
    );
}

#[test]
fn object_counts_and_dependencies() {
    check(
        json!({"maxProperties": 3}),
        json!({"maxProperties": 2}),
        Verdict::ForwardOnly,
        &[("#/maxProperties", MaxPropertiesDecreased, false, true)],
    );
    check(
        json!({"type": "object", "minProperties": 1}),
        json!({"type": "object"}),
        Verdict::BackwardOnly,
        &[("#/minProperties", MinPropertiesRemoved, true, false)],
    );
    check(
        json!({"dependencies": {}}),
        json!({"dependencies": {"a": ["b"]}}),
        Verdict::ForwardOnly,
        &[("#/dependencies/a", DependencyArrayAdded, false, true)],
    );
    check(
        json!({"dependencies": {"a": ["b"]}}),
        json!({"dependencies": {"a": ["b", "c"]}}),
        Verdict::ForwardOnly,
        &[("#/dependencies/a", DependencyArrayExtended, false, true)],
    );
    check(
        json!({"dependencies": {"a": ["b", "c"]}}),
        json!({"dependencies": {"a": ["b"]}}),
        Verdict::BackwardOnly,
        &[("#/dependencies/a", DependencyArrayNarrowed, true, false)],
    );
    let schema_dep = json!({"dependencies": {"a": {"required": ["b"]}}});
    check(
        schema_dep,
        json!({"dependencies": {}}),
        Verdict::BackwardOnly,
        &[("#/dependencies/a", DependencySchemaRemoved, true, false)],
    );
}

#[test]
fn pointers_are_placed_at_their_value_or_nearest_parent() {
    let text = "{\n  \"properties\": {\n    \"level\": { \"enum\": [\"INFO\", \"WARN\"] },\n    \"é/x\": 1\n  }\n}\n";
    let at = |p: &str| pointer_line_col(text, p);
    assert_eq!(at("#/properties/level/enum"), Some((3, 24)));
    // Gone from this schema: the place of the object that held it.
    assert_eq!(at("#/properties/gone/type"), Some((2, 17)));
    assert_eq!(at("#/properties/é~1x"), Some((4, 12)));
    assert_eq!(at("#"), Some((1, 1)));
    assert_eq!(pointer_line_col("not json", "#/a"), None);
}
