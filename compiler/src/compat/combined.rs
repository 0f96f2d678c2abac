//! `allOf`/`anyOf`/`oneOf`. As Confluent does: a changed criterion is judged on its own
//! (`allOf`/`oneOf` → `anyOf` reads more), gained and lost branches are product or sum
//! types extended or narrowed, and the branches are matched one to one, a pair matching
//! when it is compatible (a maximum bipartite matching, per direction). A pairing by
//! position is preferred whenever it is as good, so that a branch edited in place is
//! reported at its own pointer. A plain schema that becomes a union (or the reverse) is
//! compared with the alternative that fits.

use serde_json::{Map, Value};

use super::Change;
use super::diff::{Differ, Path, constrains, emit, emit_flags, flags_of};
use super::kind::ChangeKind;

type Object = Map<String, Value>;

const COMBINATORS: [&str; 3] = ["allOf", "anyOf", "oneOf"];

/// Most pairs of branches compared at one place.
const MAX_PAIRS: usize = 4096;

/// The combinator that is a schema's only constraining keyword, and its branches.
fn pure(schema: &Object) -> Option<(&'static str, &Vec<Value>)> {
    let mut found = None;
    for key in schema.keys().filter(|k| constrains(k)) {
        match COMBINATORS.iter().find(|c| **c == key.as_str()) {
            Some(c) if found.is_none() => found = Some(*c),
            _ => return None,
        }
    }
    let keyword = found?;
    match schema.get(keyword) {
        Some(Value::Array(branches)) => Some((keyword, branches)),
        _ => None,
    }
}

/// The branch of a schema that is nothing but a one-branch `allOf`/`anyOf`/`oneOf`.
pub(super) fn singleton(schema: &Object) -> Option<&Value> {
    match pure(schema) {
        Some((_, branches)) if branches.len() == 1 => branches.first(),
        _ => None,
    }
}

fn combinators(schema: &Object) -> Vec<(&'static str, &Vec<Value>)> {
    COMBINATORS
        .into_iter()
        .filter_map(|k| match schema.get(k) {
            Some(Value::Array(branches)) => Some((k, branches)),
            _ => None,
        })
        .collect()
}

/// A schema without combinators against a pure `anyOf`/`oneOf` (or the reverse): the
/// union reads the schema when one alternative does. Returns whether it applied.
pub(super) fn union_against_plain<'a>(
    d: &mut Differ<'a>,
    (old, o): (&'a Value, &'a Object),
    (new, n): (&'a Value, &'a Object),
    path: &mut Path,
    out: &mut Vec<Change>,
) -> bool {
    let sum = |s: &'a Object| pure(s).filter(|(k, b)| *k != "allOf" && b.len() > 1);
    if let (Some((keyword, branches)), true) = (sum(n), combinators(o).is_empty()) {
        for (j, branch) in branches.iter().enumerate() {
            let mut sub = Vec::new();
            d.node(old, branch, path, &mut sub);
            if flags_of(&sub).0 {
                out.extend(sub);
                let message = format!(
                    "the schema became alternative {j} of a `{keyword}` of {}",
                    branches.len()
                );
                emit(out, path, &[keyword], ChangeKind::SumTypeExtended, message);
                return true;
            }
        }
        let message =
            format!("the schema became a `{keyword}` none of whose alternatives reads old data");
        emit(out, path, &[], ChangeKind::TypeChanged, message);
        return true;
    }
    if let (Some((keyword, branches)), true) = (sum(o), combinators(n).is_empty()) {
        for (i, branch) in branches.iter().enumerate() {
            let index = i.to_string();
            let len = path.push(&[keyword, &index]);
            let mut sub = Vec::new();
            d.node(branch, new, path, &mut sub);
            path.truncate(len);
            if flags_of(&sub).1 {
                out.extend(sub);
                let message = format!(
                    "a `{keyword}` of {} became its alternative {i}",
                    branches.len()
                );
                emit(out, path, &[keyword], ChangeKind::SumTypeNarrowed, message);
                return true;
            }
        }
        let message = format!("a `{keyword}` became a schema none of its alternatives reads");
        emit(out, path, &[], ChangeKind::TypeChanged, message);
        return true;
    }
    false
}

/// Compares the combinators of two schemas.
pub(super) fn compare<'a>(
    d: &mut Differ<'a>,
    o: &'a Object,
    n: &'a Object,
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    let (co, cn) = (combinators(o), combinators(n));
    let mut pairs = Vec::new();
    let mut only_old = Vec::new();
    for &(k, b) in &co {
        match cn.iter().find(|(kn, _)| *kn == k) {
            Some(&(_, bn)) => pairs.push(((k, b), (k, bn))),
            None => only_old.push((k, b)),
        }
    }
    let mut only_new: Vec<_> = cn
        .iter()
        .copied()
        .filter(|(k, _)| !co.iter().any(|(ko, _)| ko == k))
        .collect();
    if let ([old], [new]) = (only_old.as_slice(), only_new.as_slice()) {
        pairs.push((*old, *new));
        only_old.clear();
        only_new.clear();
    }
    for (k, _) in only_old {
        emit(
            out,
            path,
            &[k],
            ChangeKind::CombinatorRemoved,
            format!("`{k}` removed"),
        );
    }
    for (k, _) in only_new {
        emit(
            out,
            path,
            &[k],
            ChangeKind::CombinatorAdded,
            format!("`{k}` added"),
        );
    }
    for (old, new) in pairs {
        branches(d, old, new, path, out);
    }
}

/// Whether data valid under `from` with `from_len` branches is valid under `to`.
fn criterion_ok(from: &str, from_len: usize, to: &str, to_len: usize) -> bool {
    from == to
        || to == "anyOf"
        || (to == "oneOf" && from_len == 1)
        || (to == "allOf" && from_len == 1 && to_len == 1)
}

fn branches<'a>(
    d: &mut Differ<'a>,
    (ko, bo): (&'static str, &'a Vec<Value>),
    (kn, bn): (&'static str, &'a Vec<Value>),
    path: &mut Path,
    out: &mut Vec<Change>,
) {
    let (no, nn) = (bo.len(), bn.len());
    if ko != kn {
        let flags = (criterion_ok(ko, no, kn, nn), criterion_ok(kn, nn, ko, no));
        let message = format!("`{ko}` became `{kn}`");
        emit_flags(
            out,
            path,
            &[ko],
            ChangeKind::CombinedCriterionChanged,
            flags,
            message,
        );
        if flags == (false, false) {
            return;
        }
    }
    // With the criterion changed, one side is a union: count alternatives (so that the
    // change and its inverse mirror each other).
    let product = ko == "allOf" && kn == "allOf";
    let plural = if product { "branches" } else { "alternatives" };
    let size = match (no.cmp(&nn), product) {
        (std::cmp::Ordering::Less, true) => Some(ChangeKind::ProductTypeExtended),
        (std::cmp::Ordering::Less, false) => Some(ChangeKind::SumTypeExtended),
        (std::cmp::Ordering::Greater, true) => Some(ChangeKind::ProductTypeNarrowed),
        (std::cmp::Ordering::Greater, false) => Some(ChangeKind::SumTypeNarrowed),
        (std::cmp::Ordering::Equal, _) => None,
    };
    if let Some(kind) = size {
        let message = format!("`{ko}` went from {no} to {nn} {plural}");
        emit(out, path, &[ko], kind, message);
    }
    if no.saturating_mul(nn) > MAX_PAIRS {
        d.limited = true;
        let message = format!("`{ko}` too wide to compare ({no} × {nn} pairs of branches)");
        emit(out, path, &[ko], ChangeKind::ComparisonLimit, message);
        return;
    }
    // Every pair of branches, compared once.
    let mut pairs: Vec<Vec<Option<Vec<Change>>>> = Vec::with_capacity(no);
    let mut flags = vec![vec![(false, false); nn]; no];
    for (i, a) in bo.iter().enumerate() {
        let index = i.to_string();
        let len = path.push(&[ko, &index]);
        let mut row = Vec::with_capacity(nn);
        for (j, b) in bn.iter().enumerate() {
            let mut sub = Vec::new();
            d.node(a, b, path, &mut sub);
            flags[i][j] = flags_of(&sub);
            row.push(Some(sub));
        }
        path.truncate(len);
        pairs.push(row);
    }
    let need = no.min(nn);
    let backward = matching(no, nn, |i, j| flags[i][j].0);
    let forward = matching(no, nn, |i, j| flags[i][j].1);
    let covers = (backward.len() == need, forward.len() == need);
    let by_position: Vec<(usize, usize)> = (0..need).map(|i| (i, i)).collect();
    let position_flags = by_position.iter().fold((true, true), |(b, f), &(i, j)| {
        (b && flags[i][j].0, f && flags[i][j].1)
    });
    let (chosen, explains) = if no == nn && position_flags == covers {
        (by_position, true)
    } else if covers.0 {
        (backward, false)
    } else if covers.1 {
        (forward, false)
    } else if no == nn {
        (by_position, true)
    } else {
        (backward, false)
    };
    for (i, j) in chosen {
        let Some(sub) = pairs
            .get_mut(i)
            .and_then(|row| row.get_mut(j))
            .and_then(Option::take)
        else {
            continue;
        };
        out.extend(sub.into_iter().map(|mut c| {
            // Another matching may make the union compatible where this pair is not.
            c.backward_ok |= covers.0;
            c.forward_ok |= covers.1;
            c
        }));
    }
    if !explains && covers != (true, true) {
        let message = format!("some `{ko}` {plural} have no compatible counterpart");
        emit_flags(
            out,
            path,
            &[ko],
            ChangeKind::CombinedSubschemasChanged,
            covers,
            message,
        );
    }
}

/// A maximum matching of `left` to `right` items over the pairs `edge` allows (Kuhn's
/// augmenting paths), as `(left, right)` pairs in left order.
fn matching(left: usize, right: usize, edge: impl Fn(usize, usize) -> bool) -> Vec<(usize, usize)> {
    fn augment(
        i: usize,
        edge: &dyn Fn(usize, usize) -> bool,
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for j in 0..owner.len() {
            if edge(i, j) && !seen[j] {
                seen[j] = true;
                if owner[j].is_none_or(|k| augment(k, edge, seen, owner)) {
                    owner[j] = Some(i);
                    return true;
                }
            }
        }
        false
    }
    let mut owner = vec![None; right];
    for i in 0..left {
        let mut seen = vec![false; right];
        augment(i, &edge, &mut seen, &mut owner);
    }
    let mut pairs: Vec<(usize, usize)> = owner
        .iter()
        .enumerate()
        .filter_map(|(j, i)| i.map(|i| (i, j)))
        .collect();
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_finds_augmenting_paths() {
        // 0 fits 0 and 1, 1 fits only 0: the maximum matching moves 0 to 1.
        let edges = [[true, true], [true, false]];
        assert_eq!(matching(2, 2, |i, j| edges[i][j]), vec![(0, 1), (1, 0)]);
        assert_eq!(matching(2, 3, |_, _| false), vec![]);
        assert_eq!(matching(3, 1, |i, _| i == 2), vec![(2, 0)]);
    }

    #[test]
    fn criteria() {
        assert!(criterion_ok("allOf", 2, "anyOf", 2));
        assert!(criterion_ok("oneOf", 2, "anyOf", 2));
        assert!(!criterion_ok("anyOf", 2, "oneOf", 2));
        assert!(criterion_ok("anyOf", 1, "oneOf", 2));
        assert!(!criterion_ok("anyOf", 1, "allOf", 2));
        assert!(criterion_ok("anyOf", 1, "allOf", 1));
    }
}
