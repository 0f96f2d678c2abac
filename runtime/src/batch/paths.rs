//! Dates and path templates of the batch stage: a run's `--date`, the day an input reads
//! (`yesterday`, `today`, `-Nd`), `{date}` and `{hour}` in paths, and glob patterns
//! (`*`, `?`) matched against listed keys.

use pipec_compiler::civil::Date;

use crate::RuntimeError;

/// The day an input reads, relative to the run's date: `today` (also when not said),
/// `yesterday`, or `-Nd`.
pub fn input_date(run: Date, selector: Option<&str>) -> Result<Date, RuntimeError> {
    match selector {
        None | Some("today") => Ok(run),
        Some("yesterday") => Ok(run.add_days(-1)),
        Some(s) => s
            .strip_prefix('-')
            .and_then(|n| n.strip_suffix('d'))
            .and_then(|n| n.parse::<i64>().ok())
            .map(|n| run.add_days(-n))
            .ok_or_else(|| RuntimeError::Config {
                what: format!("`{s}` is not a date selector (`yesterday`, `today`, `-Nd`)"),
            }),
    }
}

/// `template` with `{date}` and `{hour}` filled (`hour` as two digits; `None` leaves
/// `{hour}` as the glob `*`, every hour of the day).
pub fn fill(template: &str, date: Date, hour: Option<u32>) -> String {
    let hour = hour.map_or_else(|| "*".to_string(), |h| format!("{h:02}"));
    template
        .replace("{date}", &date.to_string())
        .replace("{hour}", &hour)
}

/// The part of a key pattern before its first glob character, cut back to a whole
/// folder: the prefix to list.
pub fn list_prefix(pattern: &str) -> &str {
    let first = pattern.find(['*', '?', '[']).unwrap_or(pattern.len());
    match pattern[..first].rfind('/') {
        Some(i) if first < pattern.len() => &pattern[..i],
        _ if first < pattern.len() => "",
        _ => pattern.trim_end_matches('/'),
    }
}

/// Whether `key` matches `pattern`: `*` is any run of characters but `/`, `?` one
/// character but `/`. A pattern ending in `/`, or whose last part has no glob, names a
/// file or a folder: it matches that file and every file below the folder.
pub fn glob_match(pattern: &str, key: &str) -> bool {
    let dir = pattern.trim_end_matches('/');
    let last = dir.rsplit('/').next().unwrap_or(dir);
    if pattern.ends_with('/') || !last.contains(['*', '?']) {
        let depth = dir.split('/').count();
        let parts: Vec<&str> = key.split('/').collect();
        if parts.len() == depth && !pattern.ends_with('/') {
            return segments_match(dir, key);
        }
        return parts.len() > depth && segments_match(dir, &parts[..depth].join("/"));
    }
    segments_match(pattern, key)
}

fn segments_match(pattern: &str, key: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let k: Vec<&str> = key.split('/').collect();
    p.len() == k.len()
        && p.iter()
            .zip(&k)
            .all(|(p, k)| one(p.as_bytes(), k.as_bytes()))
}

/// Glob match of one path segment (iterative, with backtracking to the last `*`).
fn one(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(b'?') => {
                pi += 1;
                si += 1;
            }
            Some(c) if *c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).expect("date")
    }

    #[test]
    fn selectors_and_templates() {
        let run = d("2024-03-01");
        assert_eq!(
            input_date(run, Some("yesterday")).ok(),
            Some(d("2024-02-29"))
        );
        assert_eq!(input_date(run, None).ok(), Some(run));
        assert_eq!(input_date(run, Some("-7d")).ok(), Some(d("2024-02-23")));
        assert!(input_date(run, Some("last week")).is_err());
        assert_eq!(fill("b/{date}/{hour}/", run, Some(5)), "b/2024-03-01/05/");
        assert_eq!(fill("b/{date}/{hour}/", run, None), "b/2024-03-01/*/");
    }

    #[test]
    fn globs() {
        assert_eq!(
            list_prefix("snap/2024-01-01/users/*.csv"),
            "snap/2024-01-01/users"
        );
        assert_eq!(list_prefix("b/2024-01-01/*/"), "b/2024-01-01");
        assert_eq!(list_prefix("b/2024-01-01/"), "b/2024-01-01");
        assert_eq!(list_prefix("*.csv"), "");
        assert!(glob_match("snap/d/users/*.csv", "snap/d/users/part-1.csv"));
        assert!(!glob_match(
            "snap/d/users/*.csv",
            "snap/d/users/x/part-1.csv"
        ));
        assert!(!glob_match(
            "snap/d/users/*.csv",
            "snap/d/users/part-1.csv.gz"
        ));
        assert!(glob_match("b/2024-01-01/", "b/2024-01-01/part-0.ndjson"));
        assert!(glob_match(
            "b/2024-01-01/*/",
            "b/2024-01-01/05/part-0.ndjson"
        ));
        assert!(!glob_match(
            "b/2024-01-01/*/",
            "b/2024-01-02/05/part-0.ndjson"
        ));
        assert!(glob_match("a?c/x*y*z", "abc/xyyz"));
        assert!(glob_match(
            "backups/t.unique/2024-01-01",
            "backups/t.unique/2024-01-01/p.ndjson"
        ));
        assert!(glob_match("data/users.csv", "data/users.csv"));
        assert!(!glob_match("data/users.csv", "data/users.csv.bak"));
        assert!(!glob_match("a?c/x*y*z", "abc/xyz/"));
    }
}
