//! "Did you mean": the closest known name to a misspelt one.

/// The candidate `name` was most likely meant to be: one equal to it ignoring case, else the
/// closest by edit distance (at most max(1, len/3) edits), the earlier one on a tie.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if name.is_empty() {
        return None;
    }
    let wanted = name.to_lowercase();
    let threshold = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    let mut case_match = None;
    for candidate in candidates {
        let lower = candidate.to_lowercase();
        if lower == wanted {
            case_match = case_match.or(Some(candidate));
            continue;
        }
        let distance = strsim::damerau_levenshtein(&wanted, &lower);
        if distance <= threshold && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    case_match.or(best.map(|(_, c)| c))
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn suggests_close_names() {
        let topics = ["raw", "unique", "failed", "duplicate"];
        assert_eq!(suggest("raww", topics), Some("raw"));
        assert_eq!(suggest("uniqe", topics), Some("unique"));
        assert_eq!(suggest("UNIQUE", topics), Some("unique"));
        assert_eq!(suggest("zzzzzz", topics), None);
        assert_eq!(
            suggest("partiton", ["partitions", "name"]),
            Some("partitions")
        );
    }
}
