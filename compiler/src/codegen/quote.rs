//! One filter per grammar a generated value lands in: a shell word, a word or a
//! double-quoted string of a crontab command, a comment line. A value that the grammar
//! cannot hold (a newline in a crontab line, a NUL in a shell word) fails the rendering
//! instead of producing a file that means something else.

use minijinja::{Error, ErrorKind};

fn refuse(what: &str, s: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("{s:?} cannot be written in {what}"),
    )
}

/// A POSIX `sh` word: as it is when it is plain, else in single quotes (`'` written as
/// `'\''`).
pub fn sh_word(s: &str) -> Result<String, Error> {
    if s.contains('\0') {
        return Err(refuse("a shell word", s));
    }
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:=,@+".contains(c));
    Ok(if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    })
}

/// A crontab line ends at a newline, and cron turns an unescaped `%` into one.
fn cron_line(s: &str) -> Result<&str, Error> {
    if s.contains(['\n', '\r', '\0']) {
        Err(refuse("a crontab line", s))
    } else {
        Ok(s)
    }
}

/// A word of a crontab command: a shell word with `%` escaped for cron.
pub fn cron_word(s: String) -> Result<String, Error> {
    Ok(sh_word(cron_line(&s)?)?.replace('%', r"\%"))
}

/// Text inside a double-quoted string of a crontab command: `\`, `"`, `$` and `` ` ``
/// escaped for the shell, `%` for cron.
pub fn cron_dq(s: String) -> Result<String, Error> {
    let mut out = String::with_capacity(s.len());
    for c in cron_line(&s)?.chars() {
        match c {
            '\\' | '"' | '$' | '`' => {
                out.push('\\');
                out.push(c);
            }
            '%' => out.push_str(r"\%"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A crontab schedule (five fields or a macro, checked by PC0305): only refused here if
/// it could end the line or start the command.
pub fn cron_schedule(s: String) -> Result<String, Error> {
    let ok = s.chars().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, ' ' | '*' | ',' | '-' | '/' | '@' | '?' | '#')
    });
    if ok {
        Ok(s)
    } else {
        Err(refuse("a crontab schedule", &s))
    }
}

/// Text for a comment line (shell, crontab, YAML, DOT, Mermaid): line breaks and other
/// control characters become spaces, so the text cannot end the comment.
pub fn comment(s: String) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}
