//! Dependencies between properties: `dependencies` (Draft 4–7), `dependentRequired` and
//! `dependentSchemas` (2019-09 on). A property dependency is a list of names an object
//! needs when it has a property; a schema dependency a schema it must then match.

use serde_json::{Map, Value};

use super::Change;
use super::diff::{Differ, Path, emit};
use super::kind::ChangeKind;

type Object = Map<String, Value>;

/// The entries of `dependencies`, `dependentRequired` and `dependentSchemas`, with the
/// keyword each is written under.
fn dependency_entries(schema: &Object) -> Vec<(&'static str, &String, &Value)> {
    ["dependencies", "dependentRequired", "dependentSchemas"]
        .into_iter()
        .filter_map(|k| schema.get(k).and_then(Value::as_object).map(|m| (k, m)))
        .flat_map(|(k, m)| m.iter().map(move |(name, v)| (k, name, v)))
        .collect()
}

/// Compares property and schema dependencies.
pub(super) fn compare<'a>(
    d: &mut Differ<'a>,
    o: &'a Object,
    n: &'a Object,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    let (eo, en) = (dependency_entries(o), dependency_entries(n));
    let find = |entries: &[(&'static str, &'a String, &'a Value)], name: &str| {
        entries
            .iter()
            .find(|(_, k, _)| k.as_str() == name)
            .map(|&(kw, _, v)| (kw, v))
    };
    let mut names: Vec<&String> = eo.iter().map(|(_, k, _)| *k).collect();
    names.extend(
        en.iter()
            .map(|(_, k, _)| *k)
            .filter(|k| find(&eo, k).is_none()),
    );
    use ChangeKind::*;
    for name in names {
        let (old, new) = (find(&eo, name), find(&en, name));
        let keyword = old.or(new).map_or("dependencies", |(kw, _)| kw);
        let tail = [keyword, name.as_str()];
        match (old.map(|(_, v)| v), new.map(|(_, v)| v)) {
            (Some(Value::Array(a)), Some(Value::Array(b))) => {
                let kind = if a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x)) {
                    continue;
                } else if a.iter().all(|x| b.contains(x)) {
                    DependencyArrayExtended
                } else if b.iter().all(|x| a.contains(x)) {
                    DependencyArrayNarrowed
                } else {
                    DependencyArrayChanged
                };
                let message = format!("properties that `{name}` needs changed");
                emit(out, path, &tail, kind, message);
            }
            (None, Some(Value::Array(_))) => emit(
                out,
                path,
                &tail,
                DependencyArrayAdded,
                format!("dependency of `{name}` added"),
            ),
            (Some(Value::Array(_)), None) => emit(
                out,
                path,
                &tail,
                DependencyArrayRemoved,
                format!("dependency of `{name}` removed"),
            ),
            (Some(a), Some(b)) if !a.is_array() && !b.is_array() => {
                let len = path.push(&tail);
                d.node(a, b, path, out);
                path.truncate(len);
            }
            (old, new) => {
                if old.is_some() {
                    emit(
                        out,
                        path,
                        &tail,
                        DependencySchemaRemoved,
                        format!("dependency of `{name}` removed"),
                    );
                }
                if new.is_some() {
                    emit(
                        out,
                        path,
                        &tail,
                        DependencySchemaAdded,
                        format!("dependency of `{name}` added"),
                    );
                }
            }
        }
    }
}
