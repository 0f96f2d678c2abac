//! "Did you mean": the closest known name to a misspelt one.

/// The candidate closest to `name`: a case-insensitive match first, else the one with the
/// smallest edit distance within a third of the name's length (at least 1, at most 3);
/// ties go to the earlier candidate.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        if c.to_lowercase() == lower {
            return Some(c);
        }
        let d = strsim::damerau_levenshtein(&lower, &c.to_lowercase());
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
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
