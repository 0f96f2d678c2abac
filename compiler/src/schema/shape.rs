//! The shape of an event as a schema describes it: for each object level the declared
//! properties, whether other names are allowed, the JSON kinds, array items, string enums
//! and required names. Used to check field paths in specs at compile time.

use std::collections::BTreeMap;

use crate::expr::Ty;
use crate::suggest::suggest;

/// What a schema says about one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// The kinds of JSON value allowed ([`Ty::ANY`] when unconstrained). Without a `type`,
    /// a schema that only declares `properties` still allows any kind.
    pub ty: Ty,
    /// Declared properties, for objects.
    pub properties: BTreeMap<String, Shape>,
    /// Names other than the declared (and `additional`) ones are rejected
    /// (`additionalProperties: false`).
    pub closed: bool,
    /// Any name is plausible: the object declares no properties of its own (or has
    /// `patternProperties`), so unknown names are not reported.
    pub free: bool,
    /// The shape of undeclared properties when `additionalProperties` is a schema.
    pub additional: Option<Box<Shape>>,
    /// The shape of array items (`None`: unconstrained).
    pub items: Option<Box<Shape>>,
    /// The allowed strings when the schema is an `enum` (or `const`) of strings only.
    pub enum_values: Option<Vec<String>>,
    /// Names the object must have.
    pub required: Vec<String>,
}

/// One step of a field path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSeg<'a> {
    /// An object field.
    Field(&'a str),
    /// An array element (any index).
    Index,
}

/// The result of looking a field path up in a [`Shape`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeLookup {
    /// The path exists; the value has this type. A field that is not required may also be
    /// missing: see [`Shape::required`].
    Found(Ty),
    /// Segment `segment` of the path names nothing the schema declares.
    Unknown {
        /// Index of the offending segment in the path.
        segment: usize,
        /// The declared name closest to it, if any is close.
        suggestion: Option<String>,
        /// The schema rejects the name (a closed object, or a value that is not an
        /// object or array at all), rather than merely not declaring it.
        closed: bool,
    },
}

impl Default for Shape {
    fn default() -> Self {
        Shape::any()
    }
}

impl Shape {
    /// The shape of a schema that allows anything (`{}` or `true`).
    pub fn any() -> Shape {
        Shape::of(Ty::ANY)
    }

    /// A free-form value of type `ty`.
    pub fn of(ty: Ty) -> Shape {
        Shape {
            ty,
            properties: BTreeMap::new(),
            closed: false,
            free: true,
            additional: None,
            items: None,
            enum_values: None,
            required: Vec::new(),
        }
    }

    /// Looks a field path up, e.g. `[Field("edata"), Field("type")]` or
    /// `[Field("context"), Field("cdata"), Index, Field("id")]`.
    pub fn lookup(&self, path: &[PathSeg<'_>]) -> ShapeLookup {
        let mut shape = self;
        for (i, seg) in path.iter().enumerate() {
            let unknown = |suggestion: Option<String>, closed| ShapeLookup::Unknown {
                segment: i,
                suggestion,
                closed,
            };
            match seg {
                PathSeg::Field(name) => {
                    if !shape.ty.overlaps(Ty::OBJECT) {
                        return unknown(None, true);
                    }
                    if let Some(next) = shape.properties.get(*name) {
                        shape = next;
                    } else if let Some(extra) = &shape.additional {
                        shape = extra;
                    } else if shape.free && !shape.closed {
                        return ShapeLookup::Found(Ty::ANY);
                    } else {
                        let names = shape.properties.keys().map(String::as_str);
                        let suggestion = suggest(name, names).map(str::to_string);
                        return unknown(suggestion, shape.closed);
                    }
                }
                PathSeg::Index => {
                    if !shape.ty.overlaps(Ty::LIST) {
                        return unknown(None, true);
                    }
                    match &shape.items {
                        Some(items) => shape = items,
                        None => return ShapeLookup::Found(Ty::ANY),
                    }
                }
            }
        }
        ShapeLookup::Found(shape.ty)
    }

    /// The declared property names at the top level, sorted.
    pub fn field_names(&self) -> Vec<&str> {
        self.properties.keys().map(String::as_str).collect()
    }

    /// The union of two shapes (a value matching either): used when several event types
    /// reach one step, and for `anyOf`/`oneOf`. Properties are united; an object is closed
    /// only if both are, and free if either is.
    pub fn merge(a: &Shape, b: &Shape) -> Shape {
        let mut out = Shape::of(a.ty.or(b.ty));
        let (a_obj, b_obj) = (a.ty.overlaps(Ty::OBJECT), b.ty.overlaps(Ty::OBJECT));
        match (a_obj, b_obj) {
            (true, false) => out.copy_object(a),
            (false, true) => out.copy_object(b),
            _ => {
                out.properties = a.properties.clone();
                for (name, shape) in &b.properties {
                    let merged = match out.properties.get(name) {
                        Some(existing) => Shape::merge(existing, shape),
                        None => shape.clone(),
                    };
                    out.properties.insert(name.clone(), merged);
                }
                out.closed = a.closed && b.closed;
                out.free = a.free || b.free;
                out.additional = match (&a.additional, &b.additional) {
                    (Some(x), Some(y)) => Some(Box::new(Shape::merge(x, y))),
                    _ => None,
                };
                out.required = a
                    .required
                    .iter()
                    .filter(|r| b.required.contains(r))
                    .cloned()
                    .collect();
            }
        }
        out.items = match (a.ty.overlaps(Ty::LIST), b.ty.overlaps(Ty::LIST)) {
            (true, false) => a.items.clone(),
            (false, true) => b.items.clone(),
            _ => match (&a.items, &b.items) {
                (Some(x), Some(y)) => Some(Box::new(Shape::merge(x, y))),
                _ => None,
            },
        };
        out.enum_values = match (a.ty.overlaps(Ty::STRING), b.ty.overlaps(Ty::STRING)) {
            (true, false) => a.enum_values.clone(),
            (false, true) => b.enum_values.clone(),
            _ => match (&a.enum_values, &b.enum_values) {
                (Some(x), Some(y)) => {
                    let mut all = x.clone();
                    all.extend(y.iter().filter(|v| !x.contains(v)).cloned());
                    Some(all)
                }
                _ => None,
            },
        };
        out
    }

    fn copy_object(&mut self, from: &Shape) {
        self.properties = from.properties.clone();
        self.closed = from.closed;
        self.free = from.free;
        self.additional = from.additional.clone();
        self.required = from.required.clone();
    }

    /// The intersection of two shapes (a value matching both), for `allOf` and for a
    /// schema's own keywords next to its `allOf`. Properties are united. The object is
    /// closed when some branch is closed and every branch that declares properties is
    /// closed: with `allOf: [{$ref: common}, {properties: {edata}}]` it stays open, so
    /// names from the open branch are not reported as errors.
    pub fn intersect(a: &Shape, b: &Shape) -> Shape {
        // A branch allows the merged names only if it is closed or declares nothing.
        let compatible = |s: &Shape| s.closed || s.properties.is_empty();
        let mut out = Shape::of(a.ty.and(b.ty));
        out.properties = a.properties.clone();
        for (name, shape) in &b.properties {
            let merged = match out.properties.get(name) {
                Some(existing) => Shape::intersect(existing, shape),
                None => shape.clone(),
            };
            out.properties.insert(name.clone(), merged);
        }
        out.closed = (a.closed || b.closed) && compatible(a) && compatible(b);
        out.free = a.free && b.free && !out.closed;
        out.additional = both(&a.additional, &b.additional, Shape::intersect);
        out.items = both(&a.items, &b.items, Shape::intersect);
        out.enum_values = match (&a.enum_values, &b.enum_values) {
            (Some(x), Some(y)) => Some(x.iter().filter(|v| y.contains(v)).cloned().collect()),
            (x, y) => x.clone().or_else(|| y.clone()),
        };
        out.required = a.required.clone();
        out.required.extend(
            b.required
                .iter()
                .filter(|r| !a.required.contains(r))
                .cloned(),
        );
        out
    }

    /// Adds (or replaces) the field at `path` with a value of type `ty`, creating
    /// intermediate objects: for fields a pipeline step sets, e.g. `flags.pp_duplicate`.
    pub fn with_field(&mut self, path: &[&str], ty: Ty) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut shape = self;
        for name in parents {
            shape.ty = shape.ty.or(Ty::OBJECT);
            shape = shape
                .properties
                .entry((*name).to_string())
                .or_insert_with(|| Shape::of(Ty::OBJECT));
        }
        shape.ty = shape.ty.or(Ty::OBJECT);
        shape.properties.insert((*last).to_string(), Shape::of(ty));
    }
}

fn both(
    a: &Option<Box<Shape>>,
    b: &Option<Box<Shape>>,
    f: fn(&Shape, &Shape) -> Shape,
) -> Option<Box<Shape>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(Box::new(f(x, y))),
        (x, y) => x.clone().or_else(|| y.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PathSeg::{Field, Index};

    fn object(props: &[(&str, Shape)], closed: bool) -> Shape {
        let mut s = Shape::of(Ty::OBJECT);
        s.properties = props
            .iter()
            .map(|(n, s)| (n.to_string(), s.clone()))
            .collect();
        s.closed = closed;
        s.free = props.is_empty() && !closed;
        s
    }

    #[test]
    fn lookups() {
        let mut list = Shape::of(Ty::LIST);
        list.items = Some(Box::new(object(&[("id", Shape::of(Ty::STRING))], true)));
        let edata = object(&[("type", Shape::of(Ty::STRING))], true);
        let event = object(
            &[
                ("edata", edata),
                ("cdata", list),
                ("extra", Shape::of(Ty::OBJECT)),
            ],
            false,
        );
        assert_eq!(
            event.lookup(&[Field("edata"), Field("type")]),
            ShapeLookup::Found(Ty::STRING)
        );
        assert_eq!(
            event.lookup(&[Field("edata"), Field("typo")]),
            ShapeLookup::Unknown {
                segment: 1,
                suggestion: Some("type".into()),
                closed: true
            }
        );
        assert_eq!(
            event.lookup(&[Field("edata"), Field("type"), Field("x")]),
            ShapeLookup::Unknown {
                segment: 2,
                suggestion: None,
                closed: true
            }
        );
        assert_eq!(
            event.lookup(&[Field("cdata"), Index, Field("id")]),
            ShapeLookup::Found(Ty::STRING)
        );
        assert_eq!(
            event.lookup(&[Field("extra"), Field("a"), Index]),
            ShapeLookup::Found(Ty::ANY)
        );
        assert_eq!(
            event.lookup(&[Field("Edata")]),
            ShapeLookup::Unknown {
                segment: 0,
                suggestion: Some("edata".into()),
                closed: false
            }
        );
        assert_eq!(
            event.lookup(&[Field("edata"), Index]),
            ShapeLookup::Unknown {
                segment: 1,
                suggestion: None,
                closed: true
            }
        );
        assert_eq!(event.lookup(&[]), ShapeLookup::Found(Ty::OBJECT));
        assert_eq!(event.field_names(), vec!["cdata", "edata", "extra"]);
    }

    #[test]
    fn union_and_intersection() {
        let a = object(&[("x", Shape::of(Ty::STRING))], true);
        let b = object(
            &[("x", Shape::of(Ty::INT)), ("y", Shape::of(Ty::BOOL))],
            true,
        );
        let u = Shape::merge(&a, &b);
        assert!(u.closed);
        assert_eq!(
            u.lookup(&[Field("x")]),
            ShapeLookup::Found(Ty::STRING.or(Ty::INT))
        );
        assert_eq!(u.field_names(), vec!["x", "y"]);
        let open = object(&[("z", Shape::any())], false);
        assert!(!Shape::merge(&a, &open).closed);
        // A string in the union leaves the object part alone.
        let s = Shape::merge(&Shape::of(Ty::STRING), &a);
        assert!(s.closed && s.ty == Ty::STRING.or(Ty::OBJECT));

        let i = Shape::intersect(&a, &b);
        assert_eq!(i.lookup(&[Field("x")]), ShapeLookup::Found(Ty::NEVER));
        assert!(i.closed);
        assert!(!Shape::intersect(&a, &open).closed);
        // A closed branch next to one that declares nothing stays closed.
        let i = Shape::intersect(&a, &Shape::of(Ty::OBJECT));
        assert!(i.closed && !i.free && i.ty == Ty::OBJECT);
    }

    #[test]
    fn fields_set_by_steps() {
        let mut event = object(&[("eid", Shape::of(Ty::STRING))], true);
        event.with_field(&["flags", "pp_duplicate"], Ty::BOOL);
        event.with_field(&["eid"], Ty::STRING.or(Ty::NULL));
        event.with_field(&[], Ty::BOOL);
        assert_eq!(
            event.lookup(&[Field("flags"), Field("pp_duplicate")]),
            ShapeLookup::Found(Ty::BOOL)
        );
        assert_eq!(
            event.lookup(&[Field("flags"), Field("other")]),
            ShapeLookup::Found(Ty::ANY)
        );
        assert_eq!(
            event.lookup(&[Field("eid")]),
            ShapeLookup::Found(Ty::STRING.or(Ty::NULL))
        );
    }
}
