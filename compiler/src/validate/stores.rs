//! Stores: exactly one kind, Redis URL and database, memory store settings.

use super::{Index, duration, index::rel};
use crate::diagnostics::{Diagnostic, Diagnostics, catalog};

/// Checks every store.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    for s in &ix.stores.items {
        let store = s.def;
        match (&store.redis, &store.memory) {
            (Some(_), Some(_)) => diags.push(catalog::conflicting(
                format!("store `{}` is both `redis` and `memory`", s.name.value),
                s.name.span,
                "two kinds",
                "keep one of `redis` and `memory`",
            )),
            (None, None) => diags.push(catalog::conflicting(
                format!("store `{}` has no kind", s.name.value),
                s.name.span,
                "neither `redis` nor `memory`",
                "add `redis: <url>` or `memory: {}`",
            )),
            _ => {}
        }
        if let Some(url) = &store.redis {
            let v = url.value.as_str();
            let ok = v.starts_with("redis://") || v.starts_with("rediss://") || v.starts_with("${");
            if !ok {
                // A malformed URL may still hold a password: it is not quoted then.
                let what = if super::credentials::may_hold_credentials(v) {
                    "the store's `redis`".to_string()
                } else {
                    format!("`{v}`")
                };
                diags.push(
                    catalog::invalid_value(format!("{what} is not a Redis URL"))
                        .at(url.span, "expected `redis://host:port`")
                        .help("write `redis://host:port` (or `rediss://` for TLS)"),
                );
            }
        }
        if let Some(db) = &store.db {
            if store.redis.is_none() {
                diags.push(
                    catalog::invalid_value("`db` applies to Redis stores only".into())
                        .at(db.span, "not a Redis store")
                        .help("remove `db`, or make the store `redis`"),
                );
            } else if db.value > 15 {
                diags.push(
                    Diagnostic::error(
                        "PC0307",
                        format!("Redis database {} is out of range", db.value),
                    )
                    .at(db.span, "databases are 0 to 15")
                    .help("pick a database from 0 to 15"),
                );
            }
        }
        if let Some(m) = &store.memory {
            if let Some(ttl) = &m.ttl {
                duration(ttl, diags);
            }
            if let Some(n) = &m.max_keys
                && n.value == 0
            {
                diags.push(catalog::count_too_small("max_keys", n.span));
            }
            if let Some(load) = &m.load
                && !rel(s.dir, &load.value).is_file()
            {
                diags.push(
                    catalog::cannot_read("lookup file", &load.value, "no such file")
                        .at(load.span, "not found")
                        .help("paths are relative to the spec file"),
                );
            }
        }
    }
}
