//! Dimensions derived from the event schemas: every scalar field (and every list of
//! scalars) that the schemas of the types reaching a topic declare, or that a step sets,
//! flattened to a path, with a Druid type from its JSON type.

use super::paths::Seg;
use crate::expr::Ty;
use crate::schema::Shape;

/// Nesting deeper than this is not flattened (schemas with recursive `$ref`s).
const MAX_DEPTH: usize = 12;

/// A field found in a shape: its path and the JSON types of its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// The path (`[*]` for list elements).
    pub path: Vec<Seg>,
    /// What the value may be.
    pub ty: Ty,
}

/// Every field of `shape` that can be a dimension, in the order of the shape (names in
/// alphabetical order at each level). Objects that declare no properties are skipped:
/// their fields are not known.
pub fn leaves(shape: &Shape) -> Vec<Leaf> {
    let mut out = Vec::new();
    walk(shape, &mut Vec::new(), &mut out);
    out
}

fn walk(shape: &Shape, prefix: &mut Vec<Seg>, out: &mut Vec<Leaf>) {
    if prefix.len() > MAX_DEPTH {
        return;
    }
    if !shape.properties.is_empty() && shape.ty.overlaps(Ty::OBJECT) {
        for (name, sub) in &shape.properties {
            prefix.push(Seg::Field(name.clone(), 0..0));
            walk(sub, prefix, out);
            prefix.pop();
        }
        return;
    }
    let ty = shape.ty.without(Ty::NULL);
    if ty.is_never() {
        return;
    }
    if Ty::LIST.contains(ty) {
        prefix.push(Seg::Each(0..0));
        match &shape.items {
            Some(items) => walk(items, prefix, out),
            None => out.push(Leaf {
                path: prefix.clone(),
                ty: Ty::ANY,
            }),
        }
        prefix.pop();
        return;
    }
    if Ty::OBJECT.contains(ty) {
        return;
    }
    if !prefix.is_empty() {
        out.push(Leaf {
            path: prefix.clone(),
            ty: shape.ty,
        });
    }
}

/// The Druid type of a single value of JSON type `ty`: `long` for integers, `double` for
/// numbers, else `string` (booleans, strings, and values whose type the schemas leave
/// open).
pub fn druid_type(ty: Ty) -> &'static str {
    let t = ty.without(Ty::NULL);
    if t.is_never() {
        "string"
    } else if Ty::INT.contains(t) {
        "long"
    } else if Ty::NUMBER.contains(t) {
        "double"
    } else {
        "string"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::druid::paths::render;

    #[test]
    fn flattens_objects_and_lists_and_skips_unknown_objects() {
        let mut s = Shape::of(Ty::OBJECT);
        s.free = false;
        s.with_field(&["eid"], Ty::STRING);
        s.with_field(&["edata", "duration"], Ty::NUMBER);
        s.with_field(&["edata", "size"], Ty::INT.or(Ty::NULL));
        s.with_field(&["devicedata"], Ty::OBJECT.or(Ty::NULL));
        let mut tags = Shape::of(Ty::LIST);
        tags.items = Some(Box::new(Shape::of(Ty::STRING)));
        s.properties.insert("tags".into(), tags);
        let mut cdata = Shape::of(Ty::LIST);
        let mut item = Shape::of(Ty::OBJECT);
        item.with_field(&["id"], Ty::STRING);
        cdata.items = Some(Box::new(item));
        s.properties.insert("cdata".into(), cdata);
        let got: Vec<(String, &str)> = leaves(&s)
            .iter()
            .map(|l| (render(&l.path), druid_type(l.ty)))
            .collect();
        assert_eq!(
            got,
            [
                ("cdata[*].id".to_string(), "string"),
                ("edata.duration".to_string(), "double"),
                ("edata.size".to_string(), "long"),
                ("eid".to_string(), "string"),
                ("tags[*]".to_string(), "string"),
            ]
        );
    }
}
