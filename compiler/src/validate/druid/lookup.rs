//! Looking up a dimension's field in the events that reach a datasource's topic: whether
//! any can carry it (PC1001 when none can), and its JSON types as the schemas declare them.

use super::paths::Seg;
use crate::diagnostics::{Diagnostics, catalog};
use crate::expr::{FieldPath, FieldResolver, PathSegment, Resolution, Ty};
use crate::schema::Shape;
use crate::spec::Spanned;
use crate::validate::Index;
use crate::validate::resolve::{Resolver, Types};

/// What a field of the topic's events is: its JSON types, or why it is not there.
pub(super) struct Lookup<'a> {
    pub(super) topic: &'a str,
    pub(super) resolver: Option<Resolver<'a>>,
}

impl Lookup<'_> {
    /// The JSON types of the field at `segs` (written at `text`), reporting PC1001 when no
    /// event on the topic carries it.
    pub(super) fn field(
        &self,
        ix: &Index<'_>,
        text: &Spanned<String>,
        segs: &[Seg],
        diags: &mut Diagnostics,
    ) -> Ty {
        let Some(resolver) = &self.resolver else {
            return Ty::ANY;
        };
        let path = FieldPath {
            segments: segs
                .iter()
                .map(|s| match s {
                    Seg::Field(name, range) => PathSegment::Field {
                        name: name.clone(),
                        span: range.clone(),
                    },
                    Seg::Each(range) => PathSegment::Index {
                        index: 0,
                        span: range.clone(),
                    },
                })
                .collect(),
            span: 0..text.value.len(),
        };
        match resolver.resolve(&path) {
            Resolution::Known(ty) => typed(resolver, segs).unwrap_or(ty),
            Resolution::Unknown {
                segment,
                suggestion,
                warning,
                context,
            } => {
                // An open schema may carry a field it does not declare: that is reported
                // only when the name looks like a misspelling of one it declares.
                if warning && suggestion.is_none() {
                    return Ty::ANY;
                }
                let range = path
                    .segments
                    .get(segment)
                    .map_or(0..text.value.len(), PathSegment::span);
                let help = match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("not in {context}, and no step sets it"),
                };
                diags.push(
                    catalog::druid_unknown_field(&text.value, self.topic, warning)
                        .at(
                            crate::validate::sub_span(ix.sources, text, range),
                            "not in the events",
                        )
                        .help(help),
                );
                Ty::ANY
            }
        }
    }
}

/// The JSON types of a field as the schemas that declare it say (or the step that sets
/// it), leaving out event types without a schema: they make any field possible but say
/// nothing of its type.
fn typed(resolver: &Resolver<'_>, segs: &[Seg]) -> Option<Ty> {
    let names: Vec<&str> = segs
        .iter()
        .filter_map(|s| match s {
            Seg::Field(n, _) => Some(n.as_str()),
            Seg::Each(_) => None,
        })
        .collect();
    for (path, ty) in resolver.added {
        if path.len() <= names.len() && path.iter().zip(&names).all(|(a, b)| a == b) {
            return (path.len() == names.len()).then_some(*ty);
        }
    }
    let Types::Set(types) = resolver.types else {
        return None;
    };
    let mut found = Ty::NEVER;
    for t in types {
        if let Some(Some(shape)) = resolver.shapes.by_type.get(t)
            && let Some(ty) = declared(shape, segs)
        {
            found = found.or(ty);
        }
    }
    (!found.is_never()).then_some(found)
}

/// The JSON types of the field at `segs` when the schema declares it (an open object
/// allows any name, but says nothing of its type).
fn declared(shape: &Shape, segs: &[Seg]) -> Option<Ty> {
    let mut shape = shape;
    for s in segs {
        shape = match s {
            Seg::Field(n, _) => shape.properties.get(n).or(shape.additional.as_deref())?,
            Seg::Each(_) => shape.items.as_deref()?,
        };
    }
    (!shape.ty.is_any()).then_some(shape.ty)
}
