//! A Redis database as a store. One multiplexed, self-reconnecting `ConnectionManager` per
//! store carries every call (it is the pool); each call is one pipelined round trip.
//!
//! Dedup: `SET key "" EX secs NX` per key, the TTL rounded up to whole seconds (at least 1);
//! a nil reply means the key was there. Lookups: `format: hash` reads each key with
//! `HGETALL` (an empty hash is no record; the record is a JSON object of strings);
//! `format: json` (also when no format is set) reads each key with `GET` and parses it; a
//! value that is not JSON is no record, logged as a warning.
//!
//! Failures: a call that fails for a reason that may pass (connection refused or dropped,
//! time-out, `LOADING`, `TRYAGAIN`) is retried after 50 ms, doubling, for at most 5 attempts
//! and about 5 s; then, or at once for any other failure, the call is
//! [`RuntimeError::Unavailable`]; a refused password is [`RuntimeError::Config`]. A failure
//! is never read as "not a duplicate".

use std::collections::HashMap;
use std::time::{Duration, Instant};

use pipec_compiler::manifest::{self, LookupFormat};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, RedisError};
use serde_json::Value;

use crate::RuntimeError;

/// Attempts of one call.
const ATTEMPTS: u32 = 5;
/// Delay before the first retry; it doubles after each.
const FIRST_DELAY: Duration = Duration::from_millis(50);
/// Longest a call keeps retrying.
const RETRY_BUDGET: Duration = Duration::from_secs(5);
/// Longest one connection attempt or one reply may take.
const TIMEOUT: Duration = Duration::from_secs(1);

/// An open Redis store.
pub struct RedisStore {
    /// The connection, shared by all calls.
    conn: ConnectionManager,
    /// How lookup values are kept.
    format: LookupFormat,
    /// `redis <url> db <n>`, for errors.
    system: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("system", &self.system)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the database: selects `db` and authenticates with the password in the
    /// environment variable the manifest names.
    pub async fn open(name: &str, def: &manifest::RedisStore) -> Result<Self, RuntimeError> {
        let system = format!("redis {} db {}", def.url, def.db);
        let mut info =
            def.url
                .as_str()
                .into_connection_info()
                .map_err(|e| RuntimeError::Config {
                    what: format!("store `{name}`: bad Redis URL `{}`: {e}", def.url),
                })?;
        info.redis.db = i64::from(def.db);
        if let Some(secret) = &def.password {
            let pw = std::env::var(&secret.env).map_err(|_| RuntimeError::Config {
                what: format!(
                    "store `{name}`: environment variable `{}` (secret `{}`, key `{}`) is not set",
                    secret.env, secret.secret, secret.key
                ),
            })?;
            info.redis.password = Some(pw);
        }
        let client = redis::Client::open(info).map_err(|e| RuntimeError::Config {
            what: format!("store `{name}`: {e}"),
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT)
            // One attempt per (re)connection: `retry` below owns the backoff.
            .set_number_of_retries(0);
        let conn = retry(&system, || {
            ConnectionManager::new_with_config(client.clone(), config.clone())
        })
        .await?;
        Ok(RedisStore {
            conn,
            format: def.format.unwrap_or(LookupFormat::Json),
            system,
        })
    }

    /// See [`super::Store::seen_or_set`].
    pub async fn seen_or_set(
        &self,
        keys: &[String],
        tokens: &[u64],
        ttl_ms: u64,
    ) -> Result<Vec<bool>, RuntimeError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let secs = ttl_ms.div_ceil(1000).max(1);
        let mut pipe = redis::pipe();
        let tokens: Vec<String> = tokens.iter().map(|t| format!("{t:016x}")).collect();
        for (i, k) in keys.iter().enumerate() {
            match tokens.get(i) {
                // The value is the writer's token; `GET` returns what was there, so a
                // replay of the writer is told from another event with the same key.
                Some(t) => pipe
                    .cmd("SET")
                    .arg(k)
                    .arg(t)
                    .arg("EX")
                    .arg(secs)
                    .arg("NX")
                    .arg("GET"),
                None => pipe.cmd("SET").arg(k).arg("").arg("EX").arg(secs).arg("NX"),
            };
        }
        let replies: Vec<redis::Value> = retry(&self.system, || {
            let mut conn = self.conn.clone();
            let pipe = &pipe;
            async move { pipe.query_async(&mut conn).await }
        })
        .await?;
        self.check_len(keys, &replies)?;
        Ok(replies
            .iter()
            .enumerate()
            .map(|(i, r)| match (r, tokens.get(i)) {
                // Without a token: not set (nil) means the key was there.
                (redis::Value::Nil, None) => true,
                (_, None) => false,
                // With one: nil means it was not there and is now set.
                (redis::Value::Nil, Some(_)) => false,
                (redis::Value::BulkString(v), Some(t)) => v.as_slice() != t.as_bytes(),
                (_, Some(_)) => true,
            })
            .collect())
    }

    /// See [`super::Store::lookup`].
    pub async fn lookup(&self, keys: &[String]) -> Result<Vec<Option<Value>>, RuntimeError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        let cmd = match self.format {
            LookupFormat::Hash => "HGETALL",
            LookupFormat::Json => "GET",
        };
        for k in keys {
            pipe.cmd(cmd).arg(k);
        }
        match self.format {
            LookupFormat::Hash => {
                let replies: Vec<HashMap<String, String>> =
                    retry(&self.system, || self.query(&pipe)).await?;
                self.check_len(keys, &replies)?;
                Ok(replies
                    .into_iter()
                    .map(|h| {
                        (!h.is_empty()).then(|| {
                            let mut fields: Vec<_> = h.into_iter().collect();
                            fields.sort();
                            Value::Object(
                                fields
                                    .into_iter()
                                    .map(|(f, v)| (f, Value::String(v)))
                                    .collect(),
                            )
                        })
                    })
                    .collect())
            }
            LookupFormat::Json => {
                let replies: Vec<Option<Vec<u8>>> =
                    retry(&self.system, || self.query(&pipe)).await?;
                self.check_len(keys, &replies)?;
                Ok(keys
                    .iter()
                    .zip(replies)
                    .map(|(k, r)| {
                        let bytes = r?;
                        serde_json::from_slice(&bytes)
                            .inspect_err(|e| {
                                tracing::warn!(system = %self.system, key = %k, error = %e, "lookup value is not JSON; read as no record");
                            })
                            .ok()
                    })
                    .collect())
            }
        }
    }

    /// Sends a pipeline on a handle of the shared connection.
    fn query<T: redis::FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
    ) -> impl Future<Output = Result<T, RedisError>> + use<'_, T> {
        let mut conn = self.conn.clone();
        let pipe = pipe.clone();
        async move { pipe.query_async(&mut conn).await }
    }

    /// A reply per key, or an internal error.
    fn check_len<T>(&self, keys: &[String], replies: &[T]) -> Result<(), RuntimeError> {
        if replies.len() == keys.len() {
            Ok(())
        } else {
            Err(RuntimeError::Internal(format!(
                "{}: {} replies to {} commands",
                self.system,
                replies.len(),
                keys.len()
            )))
        }
    }
}

/// Whether a failure may pass if the call is tried again.
fn transient(e: &RedisError) -> bool {
    use redis::ErrorKind as K;
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            K::TryAgain | K::BusyLoadingError | K::ClusterDown | K::MasterDown
        )
}

/// Runs `call` until it succeeds, retrying transient failures with exponential backoff.
async fn retry<T, F, Fut>(system: &str, mut call: F) -> Result<T, RuntimeError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RedisError>>,
{
    let start = Instant::now();
    let mut delay = FIRST_DELAY;
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if transient(&e) && attempt < ATTEMPTS && start.elapsed() < RETRY_BUDGET => {
                tracing::warn!(system, attempt, error = %e, "redis call failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            Err(e) if e.kind() == redis::ErrorKind::AuthenticationFailed => {
                return Err(RuntimeError::Config {
                    what: format!("{system}: {e}"),
                });
            }
            Err(e) => {
                return Err(RuntimeError::Unavailable {
                    system: system.to_string(),
                    reason: if transient(&e) {
                        format!("{e} (after {attempt} attempts)")
                    } else {
                        e.to_string()
                    },
                });
            }
        }
    }
}

/// Against the Redis at 127.0.0.1:6379, in db 15, under keys that start with this process's
/// id and the test's name; each test deletes its keys.
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(url: &str, format: Option<LookupFormat>) -> manifest::RedisStore {
        manifest::RedisStore {
            url: url.into(),
            db: 15,
            format,
            password: None,
        }
    }

    /// Test keys, prefixed.
    fn keys(test: &str, ks: &[&str]) -> Vec<String> {
        let pid = std::process::id();
        ks.iter()
            .map(|k| format!("pipec-test:{pid}:{test}:{k}"))
            .collect()
    }

    async fn cleanup(s: &RedisStore, ks: &[String]) {
        let mut conn = s.conn.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(ks)
            .query_async(&mut conn)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn dedup_sets_absent_keys() {
        let s = RedisStore::open("seen", &def("redis://127.0.0.1:6379", None))
            .await
            .unwrap();
        let ks = keys("dedup", &["a", "b", "a"]);
        assert_eq!(
            s.seen_or_set(&ks, &[], 60_000).await.unwrap(),
            [false, false, true]
        );
        assert_eq!(
            s.seen_or_set(&ks[1..], &[], 60_000).await.unwrap(),
            [true, true]
        );
        let mut conn = s.conn.clone();
        let ttl: i64 = redis::cmd("TTL")
            .arg(&ks[0])
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!((59..=60).contains(&ttl), "{ttl}");
        cleanup(&s, &ks).await;
    }

    #[tokio::test]
    async fn a_replay_of_the_writer_is_not_a_duplicate() {
        let s = RedisStore::open("seen", &def("redis://127.0.0.1:6379", None))
            .await
            .unwrap();
        let ks = keys("tokens", &["a", "a", "b"]);
        // Two events with key `a` (tokens 1 and 2), one with `b`.
        assert_eq!(
            s.seen_or_set(&ks, &[1, 2, 3], 60_000).await.unwrap(),
            [false, true, false]
        );
        // The same three again, as after a crash: the same verdicts.
        assert_eq!(
            s.seen_or_set(&ks, &[1, 2, 3], 60_000).await.unwrap(),
            [false, true, false]
        );
        // A key written without a token (as Sunbird writes them) is a duplicate for any.
        let plain = keys("tokens-plain", &["c"]);
        assert_eq!(s.seen_or_set(&plain, &[], 60_000).await.unwrap(), [false]);
        assert_eq!(s.seen_or_set(&plain, &[9], 60_000).await.unwrap(), [true]);
        let mut conn = s.conn.clone();
        let stored: String = redis::cmd("GET")
            .arg(&ks[0])
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(stored, "0000000000000001");
        cleanup(&s, &ks).await;
        cleanup(&s, &plain).await;
    }

    #[tokio::test]
    async fn dedup_keys_expire() {
        let s = RedisStore::open("seen", &def("redis://127.0.0.1:6379", None))
            .await
            .unwrap();
        let ks = keys("expire", &["a"]);
        assert_eq!(s.seen_or_set(&ks, &[], 1).await.unwrap(), [false]);
        assert_eq!(s.seen_or_set(&ks, &[], 1).await.unwrap(), [true]);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(s.seen_or_set(&ks, &[], 1000).await.unwrap(), [false]);
        cleanup(&s, &ks).await;
    }

    #[tokio::test]
    async fn hash_lookups() {
        let s = RedisStore::open(
            "orgs",
            &def("redis://127.0.0.1:6379", Some(LookupFormat::Hash)),
        )
        .await
        .unwrap();
        let ks = keys("hash", &["o1", "missing"]);
        let mut conn = s.conn.clone();
        let _: i64 = redis::cmd("HSET")
            .arg(&ks[0])
            .arg("name")
            .arg("Org One")
            .arg("channel")
            .arg("c1")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            s.lookup(&ks).await.unwrap(),
            [Some(json!({"channel": "c1", "name": "Org One"})), None]
        );
        cleanup(&s, &ks).await;
    }

    #[tokio::test]
    async fn json_lookups() {
        let s = RedisStore::open(
            "users",
            &def("redis://127.0.0.1:6379", Some(LookupFormat::Json)),
        )
        .await
        .unwrap();
        let ks = keys("json", &["u1", "broken", "missing"]);
        let mut conn = s.conn.clone();
        let _: () = redis::cmd("MSET")
            .arg(&ks[0])
            .arg(r#"{"id": "u1", "roles": ["admin"]}"#)
            .arg(&ks[1])
            .arg("{not json")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            s.lookup(&ks).await.unwrap(),
            [Some(json!({"id": "u1", "roles": ["admin"]})), None, None]
        );
        cleanup(&s, &ks).await;
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_unavailable() {
        let e = RedisStore::open("seen", &def("redis://127.0.0.1:1", None))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, RuntimeError::Unavailable { system, .. } if system == "redis redis://127.0.0.1:1 db 15"),
            "{e}"
        );
        assert!(e.is_retryable());
    }

    #[tokio::test]
    async fn transient_failures_are_retried_then_unavailable() {
        let mut calls = 0;
        let e = retry::<(), _, _>("redis x db 0", || {
            calls += 1;
            async {
                Err(RedisError::from(std::io::Error::from(
                    std::io::ErrorKind::ConnectionReset,
                )))
            }
        })
        .await
        .unwrap_err();
        assert_eq!(calls, ATTEMPTS);
        assert!(e.to_string().ends_with("(after 5 attempts)"), "{e}");
        let mut calls = 0;
        let e = retry::<(), _, _>("redis x db 0", || {
            calls += 1;
            async { Err(RedisError::from((redis::ErrorKind::TypeError, "WRONGTYPE"))) }
        })
        .await
        .unwrap_err();
        assert_eq!(calls, 1);
        assert!(matches!(e, RuntimeError::Unavailable { .. }));
        let e = retry::<(), _, _>("redis x db 0", || async {
            Err(RedisError::from((
                redis::ErrorKind::AuthenticationFailed,
                "WRONGPASS",
            )))
        })
        .await
        .unwrap_err();
        assert_eq!(e.blame(), crate::Blame::User);
    }

    #[tokio::test]
    async fn a_missing_password_variable_is_a_config_error() {
        let mut d = def("redis://127.0.0.1:6379", None);
        d.password = Some(manifest::SecretRef {
            secret: "redis".into(),
            key: "password".into(),
            env: "PIPEC_TEST_SURELY_UNSET_PASSWORD".into(),
        });
        let e = RedisStore::open("seen", &d).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad configuration: store `seen`: environment variable \
             `PIPEC_TEST_SURELY_UNSET_PASSWORD` (secret `redis`, key `password`) is not set"
        );
    }
}
