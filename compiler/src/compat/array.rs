//! Arrays: the item schema, tuple items added and removed (judged by the `additionalItems`
//! of the array that lacks them), `additionalItems`, item counts and `uniqueItems`.
//! Draft 2020-12's `prefixItems` + `items` are read as a tuple and its additional items.

use serde_json::{Map, Value};

use super::Change;
use super::diff::{ANY, Class, Differ, Path, emit, emit_flags, flags_of};
use super::kind::ChangeKind;
use super::scalar::limit;

type Object = Map<String, Value>;

/// The item keywords of one schema.
struct Items<'a> {
    /// `items` as one schema for every item.
    all: Option<&'a Value>,
    /// Positional item schemas (`items` as a list, or `prefixItems`).
    tuple: &'a [Value],
    /// Items past the tuple, and the keyword that says so.
    additional: Option<(&'static str, &'a Value)>,
}

fn items(schema: &Object) -> Items<'_> {
    if let Some(Value::Array(prefix)) = schema.get("prefixItems") {
        return Items {
            all: None,
            tuple: prefix,
            additional: schema.get("items").map(|v| ("items", v)),
        };
    }
    match schema.get("items") {
        Some(Value::Array(tuple)) => Items {
            all: None,
            tuple,
            additional: schema
                .get("additionalItems")
                .map(|v| ("additionalItems", v)),
        },
        all => Items {
            all,
            tuple: &[],
            additional: None,
        },
    }
}

/// Compares the array keywords of two schemas.
pub(super) fn compare<'a>(
    d: &mut Differ<'a>,
    o: &'a Object,
    n: &'a Object,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    let (io, inew) = (items(o), items(n));
    let tuples = !io.tuple.is_empty()
        || !inew.tuple.is_empty()
        || io.additional.is_some()
        || inew.additional.is_some();
    if tuples {
        // A single `items` schema is a tuple of none whose additional items match it.
        let extra = |i: &Items<'a>| i.additional.or(i.all.map(|v| ("items", v)));
        tuple(d, io.tuple, extra(&io), inew.tuple, extra(&inew), path, out);
        additional(d, extra(&io), extra(&inew), path, out);
    } else if io.all.is_some() || inew.all.is_some() {
        let len = path.push(&["items"]);
        d.node(io.all.unwrap_or(&ANY), inew.all.unwrap_or(&ANY), path, out);
        path.truncate(len);
    }
    use ChangeKind::*;
    limit(
        o,
        n,
        "maxItems",
        [
            MaxItemsAdded,
            MaxItemsRemoved,
            MaxItemsIncreased,
            MaxItemsDecreased,
        ],
        path,
        out,
    );
    limit(
        o,
        n,
        "minItems",
        [
            MinItemsAdded,
            MinItemsRemoved,
            MinItemsIncreased,
            MinItemsDecreased,
        ],
        path,
        out,
    );
    let unique = |s: &Object| {
        s.get("uniqueItems")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    match (unique(o), unique(n)) {
        (false, true) => emit(
            out,
            path,
            &["uniqueItems"],
            UniqueItemsAdded,
            "items must now be unique".into(),
        ),
        (true, false) => emit(
            out,
            path,
            &["uniqueItems"],
            UniqueItemsRemoved,
            "items no longer need to be unique".into(),
        ),
        _ => {}
    }
}

/// How an array treats items past its tuple.
enum ItemModel<'a> {
    Open,
    Closed,
    Covered(&'a Value),
}

fn item_model<'a>(
    d: &Differ<'a>,
    extra: Option<(&'static str, &'a Value)>,
    old: bool,
) -> ItemModel<'a> {
    let Some((_, schema)) = extra else {
        return ItemModel::Open;
    };
    let target = if old {
        d.old_schema(schema)
    } else {
        d.new_schema(schema)
    };
    match Class::of(target) {
        Class::False => ItemModel::Closed,
        Class::Any => ItemModel::Open,
        Class::Schema => ItemModel::Covered(schema),
    }
}

#[allow(clippy::too_many_arguments)]
fn tuple<'a>(
    d: &mut Differ<'a>,
    old: &'a [Value],
    old_extra: Option<(&'static str, &'a Value)>,
    new: &'a [Value],
    new_extra: Option<(&'static str, &'a Value)>,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    use ChangeKind::*;
    for (i, (a, b)) in old.iter().zip(new).enumerate() {
        let len = path.push(&["items", &i.to_string()]);
        d.node(a, b, path, out);
        path.truncate(len);
    }
    for (i, a) in old.iter().enumerate().skip(new.len()) {
        let index = i.to_string();
        let tail = ["items", index.as_str()];
        let target = d.old_schema(a);
        match item_model(d, new_extra, false) {
            ItemModel::Open => {
                let forward = Class::of(target) == Class::Any;
                let message = format!("tuple item {i} removed; any item is allowed there");
                emit_flags(
                    out,
                    path,
                    &tail,
                    ItemRemovedFromOpenContentModel,
                    (true, forward),
                    message,
                );
            }
            ItemModel::Closed if Class::of(target) == Class::False => {
                let message = format!("tuple item {i} (schema `false`) removed");
                emit(
                    out,
                    path,
                    &tail,
                    ItemWithFalseRemovedFromClosedContentModel,
                    message,
                );
            }
            ItemModel::Closed => {
                let message = format!(
                    "tuple item {i} removed and no more items are allowed: old data may have it"
                );
                emit(out, path, &tail, ItemRemovedFromClosedContentModel, message);
            }
            ItemModel::Covered(cover) => {
                let len = path.push(&tail);
                let mut sub = Vec::new();
                d.node(a, cover, path, &mut sub);
                path.truncate(len);
                let flags = flags_of(&sub);
                out.extend(sub);
                let message =
                    format!("tuple item {i} removed; the new schema of further items covers it");
                emit_flags(
                    out,
                    path,
                    &tail,
                    ItemRemovedFromPartiallyOpenContentModel,
                    flags,
                    message,
                );
            }
        }
    }
    for (i, b) in new.iter().enumerate().skip(old.len()) {
        let index = i.to_string();
        let tail = ["items", index.as_str()];
        let target = d.new_schema(b);
        match item_model(d, old_extra, true) {
            ItemModel::Open if Class::of(target) == Class::Any => {
                let message = format!("tuple item {i} added with the empty schema");
                emit(
                    out,
                    path,
                    &tail,
                    ItemWithEmptySchemaAddedToOpenContentModel,
                    message,
                );
            }
            ItemModel::Open => {
                let message = format!(
                    "tuple item {i} added where any item was allowed: old data may hold any value there"
                );
                emit(out, path, &tail, ItemAddedToOpenContentModel, message);
            }
            ItemModel::Closed => {
                let message = format!(
                    "tuple item {i} added where no more items were allowed: old readers reject it"
                );
                // An item whose schema is `false` keeps new data as short as old readers need.
                let flags = (true, Class::of(target) == Class::False);
                emit_flags(
                    out,
                    path,
                    &tail,
                    ItemAddedToClosedContentModel,
                    flags,
                    message,
                );
            }
            ItemModel::Covered(cover) => {
                let len = path.push(&tail);
                let mut sub = Vec::new();
                d.node(cover, b, path, &mut sub);
                path.truncate(len);
                let flags = flags_of(&sub);
                out.extend(sub);
                let message =
                    format!("tuple item {i} added; the old schema of further items covers it");
                emit_flags(
                    out,
                    path,
                    &tail,
                    ItemAddedToPartiallyOpenContentModel,
                    flags,
                    message,
                );
            }
        }
    }
}

/// Items past the tuple: `false`, a schema, or any.
fn additional<'a>(
    d: &mut Differ<'a>,
    old: Option<(&'static str, &'a Value)>,
    new: Option<(&'static str, &'a Value)>,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    let co = old.map_or(Class::Any, |(_, v)| Class::of(d.old_schema(v)));
    let cn = new.map_or(Class::Any, |(_, v)| Class::of(d.new_schema(v)));
    let keyword = old.or(new).map_or("additionalItems", |(k, _)| k);
    use ChangeKind::*;
    let (kind, message) = match (co, cn) {
        (Class::False, Class::False) | (Class::Any, Class::Any) => return,
        (Class::False, _) => (AdditionalItemsAdded, "items past the tuple are now allowed"),
        (_, Class::False) => (
            AdditionalItemsRemoved,
            "items past the tuple are no longer allowed",
        ),
        (Class::Any, Class::Schema) => (
            AdditionalItemsNarrowed,
            "items past the tuple must now match a schema",
        ),
        (Class::Schema, Class::Any) => (
            AdditionalItemsExtended,
            "items past the tuple may now have any value",
        ),
        (Class::Schema, Class::Schema) => {
            if let (Some((_, a)), Some((_, b))) = (old, new) {
                let len = path.push(&[keyword]);
                d.node(a, b, path, out);
                path.truncate(len);
            }
            return;
        }
    };
    emit(out, path, &[keyword], kind, message.into());
}
