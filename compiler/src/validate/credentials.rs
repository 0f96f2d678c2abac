//! What counts as a credential in a spec: the rule, in one place.
//!
//! **Setting names** (a cluster's `config` keys, `vars` names, URL query parameters) are
//! compared without regard to case, by their last dotted part:
//! - it is, or ends in, `password`, `passwd`, `pwd`, `passphrase`, `secret` or `token`
//!   (`sasl.password`, `ssl.keystore.password`, `sasl.oauthbearer.client.secret`,
//!   `bearer.auth.token`, `client_secret`);
//! - it is, or ends in, `key`, and the name is about key material: one of its words is
//!   `ssl`, `tls`, `sasl`, `https`, `keystore`, `private`, `api`, `access`, `secret`,
//!   `signing` or `encryption` (`ssl.keystore.key`, `ssl_key`, `private_key`, `api.key`),
//!   while `message.key` or `partition.key` name a field, not a key;
//! - it is `pem` after a `key` part (`ssl.key.pem`, `...private.key.pem`), while
//!   `ssl.certificate.pem` and `ssl.ca.pem` are public;
//! - the whole name is a setting that embeds credentials in its value (`sasl.jaas.config`,
//!   `sasl.oauthbearer.config`, `sasl.oauthbearer.extensions`), or ends in `user.info`
//!   or `userinfo` (`basic.auth.user.info` is `user:password`).
//!
//! Paths to key files (`ssl.key.location`, `ssl.keystore.location`,
//! `sasl.oauthbearer.assertion.private.key.file`, `sasl.kerberos.keytab`) are not credentials:
//! the file stays on the machine that runs the jobs.
//!
//! **URLs** (`scheme://...` anywhere in a value that is a URL or a list of them): any user
//! information is a credential (`redis://PASSWORD@host` is read as the password by most
//! Redis clients, `https://TOKEN@host` is a token), with two exceptions the caller allows:
//! a bare user name in a PostgreSQL URL (libpq's user), and in a Redis URL of a store whose
//! password is a Secret (the ACL user). A password after `user:` never is allowed. Query
//! parameters named as above, or `pass`, `auth`, `apikey`, `sig` or `signature`, carry
//! credentials (`?password=`, `&token=`, `?X-Amz-Signature=`).
//!
//! **Broker lists** (`host:port,...`, each optionally `proto://`): no entry has user
//! information (`user:password@host` is not a bootstrap server; it is a leak).

use std::ops::Range;

/// Settings whose value embeds credentials, whatever their name says.
const EMBEDDING: &[&str] = &[
    "sasl.jaas.config",
    "sasl.oauthbearer.config",
    "sasl.oauthbearer.extensions",
];

/// Endings of a name's last part that make it a credential.
const SECRET_ENDINGS: &[&str] = &["password", "passwd", "pwd", "passphrase", "secret", "token"];

/// Words that make a name ending in `key` a key rather than a field.
const KEY_WORDS: &[&str] = &[
    "ssl",
    "tls",
    "sasl",
    "https",
    "keystore",
    "private",
    "privatekey",
    "api",
    "apikey",
    "access",
    "accesskey",
    "secret",
    "secretkey",
    "signing",
    "encryption",
];

/// Query parameter names (or their last word) that carry credentials besides those
/// [`is_credential_name`] finds.
const PARAMS: &[&str] = &["pass", "auth", "apikey", "api-key", "sig", "signature"];

/// Whether a setting or variable named `name` holds a credential (see the module's rule).
pub fn is_credential_name(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    if EMBEDDING.contains(&name.as_str())
        || name.ends_with("user.info")
        || name.ends_with("userinfo")
    {
        return true;
    }
    let parts: Vec<&str> = name.split('.').collect();
    let last = parts.last().copied().unwrap_or_default();
    if SECRET_ENDINGS.iter().any(|e| last.ends_with(e)) {
        return true;
    }
    let words: Vec<&str> = name
        .split(['.', '_', '-'])
        .filter(|w| !w.is_empty())
        .collect();
    if last.ends_with("key") && words.iter().any(|w| KEY_WORDS.contains(w)) {
        return true;
    }
    last == "pem" && parts.len() > 1 && parts[..parts.len() - 1].contains(&"key")
}

/// What a URL may carry before its `@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserInfo {
    /// Nothing: any user information is a credential.
    None,
    /// A user name without a password.
    User,
}

/// The byte ranges of the credentials in the URLs of `s` (each `scheme://` in it): the
/// password after `user:`, user information without a colon unless `user` allows it, and
/// the values of credential query parameters. `user` is asked with each URL's scheme.
pub fn url_credentials(s: &str, user: &dyn Fn(&str) -> UserInfo) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = s.get(from..).and_then(|r| r.find("://")) {
        let sep = from + at;
        let scheme_start = s[..sep]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || "+-.".contains(*c)))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let scheme = s[scheme_start..sep].to_ascii_lowercase();
        let start = sep + 3;
        let end = end_of(s, start, |c| "/?#,".contains(c));
        authority(s, start..end, user(&scheme), &mut found);
        from = query(s, end, &mut found).max(start);
    }
    found
}

/// The byte ranges of the credentials in a broker list (`host:port` or `proto://host:port`,
/// separated by commas or spaces): any user information.
pub fn broker_credentials(s: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ','))) {
        if c == ',' || c.is_whitespace() {
            let begin = start + s[start..i].find("://").map_or(0, |j| j + 3);
            authority(s, begin..i, UserInfo::None, &mut found);
            start = i + c.len_utf8();
        }
    }
    found
}

/// Whether `s` holds a credential in a URL or broker form, or anything like user
/// information (`x@host`), so that a message must not quote it.
pub fn may_hold_credentials(s: &str) -> bool {
    s.contains('@')
        || !url_credentials(s, &|_| UserInfo::None).is_empty()
        || s.split(['?', '&', ';'])
            .filter_map(|p| p.split_once('='))
            .any(|(k, _)| is_credential_param(k))
}

/// The first byte at or after `from` where `stop` or white space holds, else the end.
fn end_of(s: &str, from: usize, stop: impl Fn(char) -> bool) -> usize {
    s.get(from..)
        .and_then(|r| r.find(|c: char| c.is_whitespace() || stop(c)))
        .map_or(s.len(), |i| from + i)
}

/// The credentials in the authority `s[range]` (`userinfo@host:port`).
fn authority(s: &str, range: Range<usize>, user: UserInfo, found: &mut Vec<Range<usize>>) {
    let Some(auth) = s.get(range.clone()) else {
        return;
    };
    let Some(at) = auth.rfind('@') else { return };
    let userinfo = range.start..range.start + at;
    match auth[..at].find(':') {
        Some(colon) if colon + 1 < at => found.push(range.start + colon + 1..userinfo.end),
        Some(_) => {}
        None if at > 0 && user == UserInfo::None => found.push(userinfo),
        None => {}
    }
}

/// The credentials in the query that may start at `from` (`?a=b&c=d`); returns where the
/// query (or the path before it) ends.
fn query(s: &str, from: usize, found: &mut Vec<Range<usize>>) -> usize {
    let path_end = end_of(s, from, |c| "?#,".contains(c));
    if !s[path_end..].starts_with('?') {
        return path_end;
    }
    let start = path_end + 1;
    let end = end_of(s, start, |c| c == '#');
    let mut at = start;
    for param in s[start..end].split(['&', ';']) {
        if let Some((k, v)) = param.split_once('=')
            && !v.is_empty()
            && is_credential_param(k)
        {
            let v_start = at + k.len() + 1;
            found.push(v_start..v_start + v.len());
        }
        at += param.len() + 1;
    }
    end
}

/// Whether a URL query parameter named `k` carries a credential.
fn is_credential_param(k: &str) -> bool {
    let k = k.trim().to_ascii_lowercase();
    let last_word = k.rsplit(['-', '_', '.']).next().unwrap_or_default();
    is_credential_name(&k) || PARAMS.contains(&k.as_str()) || PARAMS.contains(&last_word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(s: &str) -> Vec<&str> {
        url_credentials(s, &|scheme| {
            if scheme.starts_with("postgres") {
                UserInfo::User
            } else {
                UserInfo::None
            }
        })
        .into_iter()
        .map(|r| &s[r])
        .collect()
    }

    #[test]
    fn names() {
        for yes in [
            "sasl.password",
            "SASL.PASSWORD",
            "ssl.keystore.key",
            "ssl_key",
            "ssl.key.pem",
            "sasl.jaas.config",
            "sasl.oauthbearer.config",
            "sasl.oauthbearer.client.secret",
            "client_secret",
            "basic.auth.user.info",
            "api.key",
            "access_token",
            "db_pwd",
        ] {
            assert!(is_credential_name(yes), "{yes}");
        }
        for no in [
            "ssl.key.location",
            "ssl.keystore.location",
            "ssl.certificate.pem",
            "ssl.ca.pem",
            "message.key",
            "partition.key",
            "sasl.username",
            "sasl.kerberos.keytab",
            "sasl.oauthbearer.token.endpoint.url",
            "security.protocol",
            "",
        ] {
            assert!(!is_credential_name(no), "{no}");
        }
    }

    #[test]
    fn finds_url_credentials() {
        assert_eq!(urls("redis://:s3cret@host:6379"), ["s3cret"]);
        assert_eq!(urls("redis://user:pw@host"), ["pw"]);
        assert_eq!(urls("redis://host:6379"), Vec::<&str>::new());
        // Changed deliberately: a bare user of a Redis URL was taken for harmless; most
        // Redis clients read it as the password (`redis://PASSWORD@host`).
        assert_eq!(urls("redis://user@host"), ["user"]);
        assert_eq!(urls("postgres://user@host/db"), Vec::<&str>::new());
        assert_eq!(urls("postgres://user:pw@host/db"), ["pw"]);
        assert_eq!(urls("postgres://h/db?user=u&password=pw#x"), ["pw"]);
        assert_eq!(urls("https://h/p?X-Amz-Signature=abc&a=b"), ["abc"]);
        assert_eq!(urls("a https://t@h/x and redis://h?token=t2"), ["t", "t2"]);
        assert_eq!(urls("redis://h?password="), Vec::<&str>::new());
        assert_eq!(urls("://@"), Vec::<&str>::new());
        assert_eq!(urls("é://é@é?é=é&password=é"), ["é", "é"]);
    }

    #[test]
    fn finds_broker_credentials() {
        let b = |s: &str| -> Vec<String> {
            broker_credentials(s)
                .into_iter()
                .map(|r| s[r].to_string())
                .collect()
        };
        assert_eq!(b("h1:9092,u:pw@h2:9092"), ["pw"]);
        assert_eq!(b("SASL_SSL://u:pw@h:9093"), ["pw"]);
        assert_eq!(b("tok@h:9093"), ["tok"]);
        assert_eq!(b("h1:9092, h2:9092"), Vec::<String>::new());
        assert_eq!(b(""), Vec::<String>::new());
    }
}
