//! Unit tests of `allOf`/`anyOf`/`oneOf`, arrays, `$ref`s and the comparison limit.

use serde_json::{Value, json};

use super::ChangeKind::*;
use super::tests::check;
use super::*;

#[test]
fn all_of_of_the_same_size_is_compared_branch_by_branch() {
    let old = json!({"allOf": [{"type": "object"}, {"properties": {"x": {"type": "string", "maxLength": 9}}}]});
    let new = json!({"allOf": [{"type": "object"}, {"properties": {"x": {"type": "string", "maxLength": 4}}}]});
    check(
        old,
        new,
        Verdict::ForwardOnly,
        &[(
            "#/allOf/1/properties/x/maxLength",
            MaxLengthDecreased,
            false,
            true,
        )],
    );
}

#[test]
fn reordered_alternatives_are_no_change() {
    let old = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    let new = json!({"anyOf": [{"type": "integer"}, {"type": "string"}]});
    check(old, new, Verdict::Full, &[]);
}

#[test]
fn gained_and_lost_branches() {
    let two = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    let three = json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]});
    check(
        two.clone(),
        three.clone(),
        Verdict::BackwardOnly,
        &[("#/anyOf", SumTypeExtended, true, false)],
    );
    check(
        three,
        two,
        Verdict::ForwardOnly,
        &[("#/anyOf", SumTypeNarrowed, false, true)],
    );
    let one = json!({"type": "object", "allOf": [{"required": ["a"]}]});
    let more = json!({"type": "object", "allOf": [{"required": ["a"]}, {"required": ["b"]}]});
    check(
        one.clone(),
        more.clone(),
        Verdict::ForwardOnly,
        &[("#/allOf", ProductTypeExtended, false, true)],
    );
    check(
        more,
        one,
        Verdict::BackwardOnly,
        &[("#/allOf", ProductTypeNarrowed, true, false)],
    );
}

#[test]
fn a_schema_becoming_a_union_and_back() {
    let string = json!({"type": "string"});
    let union = json!({"oneOf": [{"type": "string"}, {"type": "null"}]});
    let report = check(
        string.clone(),
        union.clone(),
        Verdict::BackwardOnly,
        &[("#/oneOf", SumTypeExtended, true, false)],
    );
    assert_eq!(
        report.changes[0].message,
        "the schema became alternative 0 of a `oneOf` of 2"
    );
    check(
        union,
        string.clone(),
        Verdict::ForwardOnly,
        &[("#/oneOf", SumTypeNarrowed, false, true)],
    );
    let other = json!({"anyOf": [{"type": "integer"}, {"type": "null"}]});
    check(
        string,
        other,
        Verdict::Incompatible,
        &[("#", TypeChanged, false, false)],
    );
}

#[test]
fn changed_criteria() {
    let branches = json!([{"type": "string"}, {"maxLength": 3}]);
    let all = json!({"allOf": branches});
    let any = json!({"anyOf": branches});
    let one = json!({"oneOf": branches});
    check(
        all.clone(),
        any.clone(),
        Verdict::BackwardOnly,
        &[("#/allOf", CombinedCriterionChanged, true, false)],
    );
    check(
        any.clone(),
        all,
        Verdict::ForwardOnly,
        &[("#/anyOf", CombinedCriterionChanged, false, true)],
    );
    check(
        any,
        one,
        Verdict::ForwardOnly,
        &[("#/anyOf", CombinedCriterionChanged, false, true)],
    );
}

#[test]
fn an_alternative_edited_in_place_is_reported_at_its_pointer() {
    let old = json!({"anyOf": [{"type": "string", "maxLength": 10}, {"type": "integer"}]});
    let new = json!({"anyOf": [{"type": "string", "maxLength": 5}, {"type": "integer"}]});
    let report = check(
        old,
        new,
        Verdict::ForwardOnly,
        &[("#/anyOf/0/maxLength", MaxLengthDecreased, false, true)],
    );
    assert_eq!(
        report.breaking_for(Compatibility::Backward)[0].pointer,
        "#/anyOf/0/maxLength"
    );
}

#[test]
fn unmatched_alternatives_are_named() {
    // No new alternative reads the old string alternative, nor the reverse.
    let old = json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]});
    let new = json!({"anyOf": [{"type": "boolean"}, {"type": "integer"}]});
    check(
        old,
        new,
        Verdict::Incompatible,
        &[
            ("#/anyOf", SumTypeNarrowed, false, true),
            ("#/anyOf", CombinedSubschemasChanged, false, false),
        ],
    );
}

#[test]
fn one_branch_combinators_are_their_branch() {
    let old = json!({"allOf": [{"type": "string"}]});
    let new = json!({"type": "string", "maxLength": 3});
    check(
        old,
        new,
        Verdict::ForwardOnly,
        &[("#/maxLength", MaxLengthAdded, false, true)],
    );
    check(
        json!({"anyOf": [{"type": "integer"}]}),
        json!({"oneOf": [{"type": "number"}]}),
        Verdict::BackwardOnly,
        &[("#", TypeWidened, true, false)],
    );
}

#[test]
fn combinators_added_and_removed_next_to_other_keywords() {
    let plain = json!({"type": "object"});
    let with = json!({"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]});
    check(
        plain.clone(),
        with.clone(),
        Verdict::ForwardOnly,
        &[("#/anyOf", CombinatorAdded, false, true)],
    );
    check(
        with,
        plain,
        Verdict::BackwardOnly,
        &[("#/anyOf", CombinatorRemoved, true, false)],
    );
}

#[test]
fn item_schemas() {
    let items = |t: &str| json!({"type": "array", "items": {"type": t}});
    check(
        items("integer"),
        items("number"),
        Verdict::BackwardOnly,
        &[("#/items", TypeWidened, true, false)],
    );
    check(
        json!({"type": "array"}),
        items("string"),
        Verdict::ForwardOnly,
        &[("#/items", ConstrainedFromAny, false, true)],
    );
    let counts = |v: Value| {
        let mut s = items("string");
        if let (Some(m), Some(extra)) = (s.as_object_mut(), v.as_object()) {
            m.extend(extra.clone());
        }
        s
    };
    check(
        counts(json!({"maxItems": 3})),
        counts(json!({"maxItems": 5})),
        Verdict::BackwardOnly,
        &[("#/maxItems", MaxItemsIncreased, true, false)],
    );
    check(
        counts(json!({})),
        counts(json!({"minItems": 1})),
        Verdict::ForwardOnly,
        &[("#/minItems", MinItemsAdded, false, true)],
    );
    check(
        counts(json!({})),
        counts(json!({"uniqueItems": true})),
        Verdict::ForwardOnly,
        &[("#/uniqueItems", UniqueItemsAdded, false, true)],
    );
}

#[test]
fn tuple_items_added_and_removed() {
    let tuple = |items: Value, extra: Option<Value>| {
        let mut s = json!({"type": "array", "items": items});
        if let Some(extra) = extra {
            s["additionalItems"] = extra;
        }
        s
    };
    let one = json!([{"type": "string"}]);
    let two = json!([{"type": "string"}, {"type": "integer"}]);
    check(
        tuple(one.clone(), None),
        tuple(two.clone(), None),
        Verdict::ForwardOnly,
        &[("#/items/1", ItemAddedToOpenContentModel, false, true)],
    );
    check(
        tuple(two.clone(), None),
        tuple(one.clone(), None),
        Verdict::BackwardOnly,
        &[("#/items/1", ItemRemovedFromOpenContentModel, true, false)],
    );
    let shut = Some(json!(false));
    check(
        tuple(one.clone(), shut.clone()),
        tuple(two.clone(), shut.clone()),
        Verdict::BackwardOnly,
        &[("#/items/1", ItemAddedToClosedContentModel, true, false)],
    );
    check(
        tuple(two.clone(), shut.clone()),
        tuple(one.clone(), shut.clone()),
        Verdict::ForwardOnly,
        &[("#/items/1", ItemRemovedFromClosedContentModel, false, true)],
    );
    let ints = Some(json!({"type": "integer"}));
    check(
        tuple(one.clone(), ints.clone()),
        tuple(two, ints.clone()),
        Verdict::Full,
        &[(
            "#/items/1",
            ItemAddedToPartiallyOpenContentModel,
            true,
            true,
        )],
    );
    check(
        tuple(one.clone(), None),
        tuple(one.clone(), shut),
        Verdict::ForwardOnly,
        &[("#/additionalItems", AdditionalItemsRemoved, false, true)],
    );
    check(
        tuple(one.clone(), None),
        tuple(one, ints),
        Verdict::ForwardOnly,
        &[("#/additionalItems", AdditionalItemsNarrowed, false, true)],
    );
}

#[test]
fn references_are_followed_and_pointers_stay_logical() {
    let with = |max: u64| {
        json!({
            "definitions": {"name": {"type": "string", "maxLength": max}},
            "type": "object",
            "properties": {"a": {"$ref": "#/definitions/name"}, "b": {"$ref": "#/definitions/name"}}
        })
    };
    check(
        with(9),
        with(5),
        Verdict::ForwardOnly,
        &[
            ("#/properties/a/maxLength", MaxLengthDecreased, false, true),
            ("#/properties/b/maxLength", MaxLengthDecreased, false, true),
        ],
    );
    // One side inlines what the other refers to.
    let inline = json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": 9}, "b": {"type": "string", "maxLength": 9}}});
    check(with(9), inline, Verdict::Full, &[]);
}

#[test]
fn recursive_schemas_terminate() {
    let tree = |leaf: &str| {
        json!({
            "type": "object",
            "properties": {"value": {"type": leaf}, "children": {"type": "array", "items": {"$ref": "#"}}},
            "additionalProperties": false
        })
    };
    check(tree("string"), tree("string"), Verdict::Full, &[]);
    check(
        tree("integer"),
        tree("number"),
        Verdict::BackwardOnly,
        &[("#/properties/value", TypeWidened, true, false)],
    );
    // A reference to itself, and an unresolvable one, accept anything.
    let looped =
        json!({"definitions": {"a": {"$ref": "#/definitions/a"}}, "$ref": "#/definitions/a"});
    check(looped.clone(), looped, Verdict::Full, &[]);
    check(
        json!({"$ref": "elsewhere.json"}),
        json!({"type": "string"}),
        Verdict::ForwardOnly,
        &[("#", ConstrainedFromAny, false, true)],
    );
}

#[test]
fn huge_unions_hit_the_limit_instead_of_running_forever() {
    // Unions of unions: every pair of alternatives is compared at every level.
    let mut schema = json!({"type": "string"});
    for depth in 0..8 {
        let alternatives: Vec<Value> = (0..3)
            .map(|i| json!({"anyOf": [schema.clone(), {"maxLength": depth * 10 + i}]}))
            .collect();
        schema = json!({"anyOf": alternatives});
    }
    let mut new = schema.clone();
    new["anyOf"][0]["anyOf"][1] = json!({"maxLength": 1});
    let report = compare_values(&schema, &new);
    assert!(
        report.changes.iter().any(|c| c.kind == ComparisonLimit),
        "{:?}",
        report.changes.len()
    );
    assert_eq!(report.verdict, Verdict::Incompatible);
}

#[test]
fn wide_unions_and_long_reference_chains_stop_at_limits() {
    let wide = |n: usize| json!({"anyOf": (0..n).map(|i| json!({"const": i})).collect::<Vec<_>>()});
    let report = compare_values(&wide(100), &wide(101));
    let kinds: Vec<ChangeKind> = report.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![SumTypeExtended, ComparisonLimit]);
    assert_eq!(report.changes[1].pointer, "#/anyOf");
    assert_eq!(report.verdict, Verdict::Incompatible);

    // 2000 definitions, each referring to the next through one keyword: the comparison
    // stops at its depth limit, long before the stack would.
    let chain = |wrap: fn(Value) -> Value, leaf: &str| -> Value {
        let mut defs = serde_json::Map::new();
        for i in 0..2000 {
            let next = json!({"$ref": format!("#/definitions/d{}", i + 1)});
            defs.insert(format!("d{i}"), wrap(next));
        }
        defs.insert("d2000".into(), json!({"type": leaf}));
        json!({"definitions": defs, "$ref": "#/definitions/d0"})
    };
    type Wrap = fn(Value) -> Value;
    let wraps: [(Wrap, &str); 4] = [
        (
            |n| json!({"type": "object", "properties": {"x": n}}),
            "/properties/x",
        ),
        (|n| json!({"allOf": [n]}), ""),
        // Inside `not` the limit is reported at the root.
        (|n| json!({"not": n}), ""),
        // Where comparisons of branches are dropped, the limit is reported at the root.
        (|n| json!({"anyOf": [n, {"type": "null"}]}), ""),
    ];
    for (wrap, step) in wraps {
        let report = compare_values(&chain(wrap, "string"), &chain(wrap, "integer"));
        assert_eq!(
            report.verdict,
            Verdict::Incompatible,
            "{}",
            report.changes.len()
        );
        let limit = report.changes.iter().find(|c| c.kind == ComparisonLimit);
        assert!(limit.is_some(), "{:?}", report.changes);
        if let (Some(limit), false) = (limit, step.is_empty()) {
            assert!(
                limit.pointer.matches(step).count() >= 60,
                "{step}: {}",
                limit.pointer
            );
        }
    }
}
