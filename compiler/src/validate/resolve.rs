//! Which event types can be at a place in a stream, and how field paths resolve against
//! their schemas (and against fields that earlier steps set).

use std::collections::BTreeSet;

use super::schemas::Shapes;
use crate::expr::{FieldPath, FieldResolver, PathSegment, Resolution, Ty};
use crate::schema::{PathSeg, ShapeLookup};

/// The event types that can be at a place: unknown (batches, aggregates) or a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Types {
    /// Not typed events: fields are not checked.
    Untyped,
    /// These types.
    Set(BTreeSet<String>),
}

impl Types {
    pub(super) fn union(&mut self, other: &Types) -> bool {
        match (&mut *self, other) {
            (Types::Untyped, _) => false,
            (_, Types::Untyped) => {
                *self = Types::Untyped;
                true
            }
            (Types::Set(a), Types::Set(b)) => {
                let before = a.len();
                a.extend(b.iter().cloned());
                a.len() != before
            }
        }
    }

    pub(super) fn narrow(&self, to: &[String]) -> Types {
        match self {
            Types::Untyped => Types::Set(to.iter().cloned().collect()),
            Types::Set(s) => Types::Set(s.iter().filter(|t| to.contains(t)).cloned().collect()),
        }
    }

    pub(super) fn remove(&mut self, these: &[String]) {
        if let Types::Set(s) = self {
            s.retain(|t| !these.contains(t));
        }
    }
}

/// A field that an earlier step sets, with its type.
pub(super) type Added = Vec<(Vec<String>, Ty)>;

pub(super) struct Resolver<'a> {
    pub(super) types: &'a Types,
    pub(super) shapes: &'a Shapes,
    pub(super) added: &'a Added,
    pub(super) free_roots: &'a [&'a str],
}

pub(super) fn field_names(path: &FieldPath) -> Vec<&str> {
    path.segments
        .iter()
        .filter_map(|s| match s {
            PathSegment::Field { name, .. } => Some(name.as_str()),
            PathSegment::Index { .. } => None,
        })
        .collect()
}

impl FieldResolver for Resolver<'_> {
    fn resolve(&self, path: &FieldPath) -> Resolution {
        let names = field_names(path);
        let Types::Set(types) = self.types else {
            return Resolution::Known(Ty::ANY);
        };
        if names.first().is_some_and(|n| self.free_roots.contains(n)) {
            return Resolution::Known(Ty::ANY);
        }
        for (added, ty) in self.added {
            let n = added.len().min(names.len());
            if added[..n]
                .iter()
                .map(String::as_str)
                .eq(names[..n].iter().copied())
            {
                return Resolution::Known(if names.len() == added.len() {
                    *ty
                } else if names.len() < added.len() {
                    Ty::OBJECT
                } else {
                    Ty::ANY
                });
            }
        }
        let segs: Vec<PathSeg<'_>> = path
            .segments
            .iter()
            .map(|s| match s {
                PathSegment::Field { name, .. } => PathSeg::Field(name),
                PathSegment::Index { .. } => PathSeg::Index,
            })
            .collect();
        let mut found = Ty::NEVER;
        let mut unknown = None;
        let mut all_closed = true;
        let mut schemaless = 0;
        for t in types {
            match self.shapes.by_type.get(t) {
                Some(Some(shape)) => match shape.lookup(&segs) {
                    ShapeLookup::Found(ty) => found = found.or(ty),
                    ShapeLookup::Unknown {
                        segment,
                        suggestion,
                        closed,
                    } => {
                        all_closed &= closed;
                        if unknown.is_none() {
                            unknown = Some((segment, suggestion, t.clone()));
                        }
                    }
                },
                // A type without a schema may have any field: it cannot make a field
                // unknown, only soften the verdict on one no schema has.
                _ => schemaless += 1,
            }
        }
        if !found.is_never() {
            return Resolution::Known(if schemaless > 0 { Ty::ANY } else { found });
        }
        let with_schema = types.len() - schemaless;
        match unknown {
            Some((segment, suggestion, t)) => Resolution::Unknown {
                segment,
                suggestion,
                warning: !all_closed || schemaless > 0,
                context: if with_schema == 1 {
                    format!("the schema of {t}")
                } else {
                    format!("the schemas of the {with_schema} event types reaching this step")
                },
            },
            None => Resolution::Known(Ty::ANY),
        }
    }
}
