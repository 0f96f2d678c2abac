//! Objects: properties added and removed, judged by the content model of the object that
//! lacks them (open, closed, or partially open through `patternProperties` or an
//! `additionalProperties` schema), `required`, `additionalProperties`, dependencies and
//! property counts.

use serde_json::{Map, Value};

use super::Change;
use super::diff::{Class, Differ, Path, emit, emit_flags, flags_of};
use super::kind::ChangeKind;
use super::scalar::limit;

type Object = Map<String, Value>;

/// What an object says about a property name it does not declare.
enum KeyModel<'a> {
    /// Any value is allowed (no `additionalProperties`, or `true`/`{}`).
    Open,
    /// The name is not allowed (`additionalProperties: false`).
    Closed,
    /// A `patternProperties` or `additionalProperties` schema covers the name.
    Covered(&'a Value),
}

/// Compares the object keywords of two schemas.
pub(super) fn compare<'a>(
    d: &mut Differ<'a>,
    o: &'a Object,
    n: &'a Object,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    required(d, o, n, path, out);
    properties(d, o, n, path, out);
    pattern_properties(d, o, n, path, out);
    super::dependencies::compare(d, o, n, path, out);
    additional(d, o, n, path, out);
    use ChangeKind::*;
    let max = [
        MaxPropertiesAdded,
        MaxPropertiesRemoved,
        MaxPropertiesIncreased,
        MaxPropertiesDecreased,
    ];
    let min = [
        MinPropertiesAdded,
        MinPropertiesRemoved,
        MinPropertiesIncreased,
        MinPropertiesDecreased,
    ];
    limit(o, n, "maxProperties", max, path, out);
    limit(o, n, "minProperties", min, path, out);
}

fn declared(schema: &Object) -> Option<&Object> {
    schema.get("properties").and_then(Value::as_object)
}

fn declares(schema: &Object, name: &str) -> bool {
    declared(schema).is_some_and(|p| p.contains_key(name))
}

fn required_names(schema: &Object) -> Vec<&str> {
    match schema.get("required") {
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn has_default(schema: &Value) -> bool {
    schema.get("default").is_some()
}

/// `required` changes of names that stay declared, or are not declared here at all (a
/// top-level `required` naming properties of `allOf` branches, as Sunbird's schemas do).
/// Names of properties added or removed here are judged with the property.
fn required<'a>(
    d: &mut Differ<'a>,
    o: &'a Object,
    n: &'a Object,
    path: &Path,
    out: &mut Vec<Change>,
) {
    let (ro, rn) = (required_names(o), required_names(n));
    let mut seen = Vec::new();
    for &name in ro.iter().chain(&rn) {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let (was, is) = (ro.contains(&name), rn.contains(&name));
        let (in_old, in_new) = (declares(o, name), declares(n, name));
        if was == is || (is && in_new && !in_old) || (was && in_old && !in_new) {
            continue;
        }
        if is {
            let schema = declared(n).and_then(|p| p.get(name));
            let default = schema.is_some_and(|s| has_default(d.new_schema(s)));
            let (kind, message) = if default {
                let message = format!("property `{name}` is now required (it has a default)");
                (ChangeKind::RequiredAttributeWithDefaultAdded, message)
            } else {
                let message = format!("property `{name}` is now required: old data may lack it");
                (ChangeKind::RequiredAttributeAdded, message)
            };
            emit(out, path, &["required", name], kind, message);
        } else {
            let schema = declared(o).and_then(|p| p.get(name));
            let default = schema.is_some_and(|s| has_default(d.old_schema(s)));
            let message = if default {
                format!("property `{name}` is no longer required (it has a default)")
            } else {
                format!(
                    "property `{name}` is no longer required: old readers reject data without it"
                )
            };
            let kind = ChangeKind::RequiredAttributeRemoved;
            emit_flags(
                out,
                path,
                &["required", name],
                kind,
                (true, default),
                message,
            );
        }
    }
}

fn properties<'a>(
    d: &mut Differ<'a>,
    o: &'a Object,
    n: &'a Object,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    let (po, pn) = (declared(o), declared(n));
    for (name, old) in po.into_iter().flatten() {
        match pn.and_then(|p| p.get(name)) {
            Some(new) => {
                let len = path.push(&["properties", name]);
                d.node(old, new, path, out);
                path.truncate(len);
            }
            None => removed(d, o, n, name, old, path, out),
        }
    }
    for (name, new) in pn.into_iter().flatten() {
        if !po.is_some_and(|p| p.contains_key(name)) {
            added(d, o, n, name, new, path, out);
        }
    }
}

/// What `schema` (on the old side when `old`) says about an undeclared `name`.
fn key_model<'a>(d: &mut Differ<'a>, schema: &'a Object, name: &str, old: bool) -> KeyModel<'a> {
    if let Some(Value::Object(patterns)) = schema.get("patternProperties") {
        for (pattern, sub) in patterns {
            if d.matches(pattern, name) {
                return KeyModel::Covered(sub);
            }
        }
    }
    match schema.get("additionalProperties") {
        Some(sub @ (Value::Object(_) | Value::Bool(false))) => {
            let target = if old {
                d.old_schema(sub)
            } else {
                d.new_schema(sub)
            };
            match Class::of(target) {
                Class::False => KeyModel::Closed,
                Class::Any => KeyModel::Open,
                Class::Schema => KeyModel::Covered(sub),
            }
        }
        _ => KeyModel::Open,
    }
}

/// A property the new schema declares and the old one does not.
fn added<'a>(
    d: &mut Differ<'a>,
    o: &'a Object,
    n: &'a Object,
    name: &str,
    new: &'a Value,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    let required = required_names(n).contains(&name);
    let target = d.new_schema(new);
    let default = has_default(target);
    let tail = ["properties", name];
    use ChangeKind::*;
    match key_model(d, o, name, true) {
        KeyModel::Open => {
            let (kind, message) = if !required && Class::of(target) == Class::Any {
                let message = format!("property `{name}` added with the empty schema");
                (PropertyWithEmptySchemaAddedToOpenContentModel, message)
            } else {
                let (kind, what) = match (required, default) {
                    (false, _) => (OptionalPropertyAddedToOpenContentModel, "optional"),
                    (true, false) => (RequiredPropertyAddedToOpenContentModel, "required"),
                    (true, true) => (
                        RequiredPropertyWithDefaultAddedToOpenContentModel,
                        "required",
                    ),
                };
                let message = format!(
                    "{what} property `{name}` added to an open object (no `additionalProperties: false`): old data may hold `{name}` with any value"
                );
                (kind, message)
            };
            emit(out, path, &tail, kind, message);
        }
        KeyModel::Closed => {
            // Old readers reject the new property, unless its schema is `false`.
            let forward = Class::of(target) == Class::False;
            let (kind, backward, message) = match (required, default) {
                (false, _) => (
                    OptionalPropertyAddedToClosedContentModel,
                    true,
                    format!(
                        "optional property `{name}` added to a closed object: old readers reject it"
                    ),
                ),
                (true, false) => (
                    RequiredPropertyAddedToClosedContentModel,
                    false,
                    format!(
                        "required property `{name}` added to a closed object: old data lacks it and old readers reject it"
                    ),
                ),
                (true, true) => (
                    RequiredPropertyWithDefaultAddedToClosedContentModel,
                    true,
                    format!(
                        "required property `{name}` (with a default) added to a closed object: old readers reject it"
                    ),
                ),
            };
            emit_flags(out, path, &tail, kind, (backward, forward), message);
        }
        KeyModel::Covered(cover) => {
            let len = path.push(&tail);
            let mut sub = Vec::new();
            d.node(cover, new, path, &mut sub);
            path.truncate(len);
            let flags = flags_of(&sub);
            out.extend(sub);
            let message = format!(
                "property `{name}` added where the old `patternProperties`/`additionalProperties` schema allowed it{}",
                agreement(flags)
            );
            emit_flags(
                out,
                path,
                &tail,
                PropertyAddedToPartiallyOpenContentModel,
                flags,
                message,
            );
            if required {
                let (kind, message) = if default {
                    (
                        RequiredPropertyWithDefaultAddedToClosedContentModel,
                        format!("property `{name}` is required (it has a default)"),
                    )
                } else {
                    (
                        RequiredPropertyAddedToClosedContentModel,
                        format!("property `{name}` is required: old data may lack it"),
                    )
                };
                emit_flags(out, path, &tail, kind, (default, true), message);
            }
        }
    }
}

/// A property the old schema declares and the new one does not.
fn removed<'a>(
    d: &mut Differ<'a>,
    o: &'a Object,
    n: &'a Object,
    name: &str,
    old: &'a Value,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    let required = required_names(o).contains(&name);
    let target = d.old_schema(old);
    // New data may lack the property; old readers that require it without a default reject it.
    let lacking_ok = !required || has_default(target);
    let tail = ["properties", name];
    use ChangeKind::*;
    match key_model(d, n, name, false) {
        KeyModel::Open => {
            let forward = !required && Class::of(target) == Class::Any;
            let message = format!("property `{name}` removed from an open object");
            emit_flags(
                out,
                path,
                &tail,
                PropertyRemovedFromOpenContentModel,
                (true, forward),
                message,
            );
        }
        KeyModel::Closed if Class::of(target) == Class::False => {
            let message =
                format!("property `{name}` (schema `false`) removed from a closed object");
            emit(
                out,
                path,
                &tail,
                PropertyWithFalseRemovedFromClosedContentModel,
                message,
            );
        }
        KeyModel::Closed => {
            let message = format!(
                "property `{name}` removed from a closed object: new readers reject old data that has it"
            );
            emit_flags(
                out,
                path,
                &tail,
                PropertyRemovedFromClosedContentModel,
                (false, lacking_ok),
                message,
            );
        }
        KeyModel::Covered(cover) => {
            let len = path.push(&tail);
            let mut sub = Vec::new();
            d.node(old, cover, path, &mut sub);
            path.truncate(len);
            let (backward, forward) = flags_of(&sub);
            out.extend(sub);
            let message = format!(
                "property `{name}` removed where the new `patternProperties`/`additionalProperties` schema allows it{}",
                agreement((backward, forward))
            );
            let kind = PropertyRemovedFromPartiallyOpenContentModel;
            emit_flags(
                out,
                path,
                &tail,
                kind,
                (backward, forward && lacking_ok),
                message,
            );
        }
    }
}

/// How a covering schema and a property's schema agree, for messages.
fn agreement(flags: (bool, bool)) -> &'static str {
    match flags {
        (true, true) => "",
        (true, false) => " (the new property's schema is wider)",
        (false, true) => " (the new property's schema is narrower)",
        (false, false) => " (with a different schema)",
    }
}

/// `patternProperties` entries with the same pattern on both sides. Entries added or
/// removed are judged only through the properties they cover.
fn pattern_properties<'a>(
    d: &mut Differ<'a>,
    o: &'a Object,
    n: &'a Object,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    let (Some(Value::Object(po)), Some(Value::Object(pn))) =
        (o.get("patternProperties"), n.get("patternProperties"))
    else {
        return;
    };
    for (pattern, old) in po {
        if let Some(new) = pn.get(pattern) {
            let len = path.push(&["patternProperties", pattern]);
            d.node(old, new, path, out);
            path.truncate(len);
        }
    }
}

/// `additionalProperties`: `false`, a schema, or absent/`true` (any value).
fn additional<'a>(
    d: &mut Differ<'a>,
    o: &'a Object,
    n: &'a Object,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    let (ao, an) = (o.get("additionalProperties"), n.get("additionalProperties"));
    let class = |v: Option<&'a Value>, target: Option<&'a Value>| match (v, target) {
        (Some(_), Some(t)) => Class::of(t),
        _ => Class::Any,
    };
    let co = class(ao, ao.map(|v| d.old_schema(v)));
    let cn = class(an, an.map(|v| d.new_schema(v)));
    let tail = ["additionalProperties"];
    use ChangeKind::*;
    let (kind, message) = match (co, cn) {
        (Class::False, Class::False) | (Class::Any, Class::Any) => return,
        (Class::False, _) => (
            AdditionalPropertiesAdded,
            "the object is no longer closed (`additionalProperties: false` removed)",
        ),
        (_, Class::False) => (
            AdditionalPropertiesRemoved,
            "the object is now closed (`additionalProperties: false`)",
        ),
        (Class::Any, Class::Schema) => (
            AdditionalPropertiesNarrowed,
            "undeclared properties must now match an `additionalProperties` schema",
        ),
        (Class::Schema, Class::Any) => (
            AdditionalPropertiesExtended,
            "undeclared properties may now have any value",
        ),
        (Class::Schema, Class::Schema) => {
            if let (Some(a), Some(b)) = (ao, an) {
                let len = path.push(&tail);
                d.node(a, b, path, out);
                path.truncate(len);
            }
            return;
        }
    };
    emit(out, path, &tail, kind, message.into());
}
