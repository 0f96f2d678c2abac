//! The two Kafka protocol requests rdkafka 0.39 has no binding for, spoken directly over TCP:
//! `ApiVersions` (v0) to learn what a broker implements, and `IncrementalAlterConfigs`
//! (v0; v1 is the same request in Kafka's flexible encoding) to set or delete single topic configs without resetting the
//! others — the API Kafka recommends since 2.3 and the only config-altering API Tansu has.
//!
//! Plaintext only, like the rest of pipec's Kafka client (no TLS or SASL is built in). Every
//! read and write is bounded by a deadline; the broker's error code and free-text message are
//! returned per topic.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `ApiVersions`.
const API_VERSIONS: i16 = 18;
/// `IncrementalAlterConfigs`.
pub(crate) const INCREMENTAL_ALTER_CONFIGS: i16 = 44;
/// `ConfigResource` type of a topic.
const RESOURCE_TOPIC: i8 = 2;
/// The largest answer accepted (a broker's ApiVersions answer is a few hundred bytes).
const MAX_RESPONSE: usize = 16 << 20;
const CLIENT_ID: &str = "pipec";

/// One config change of an `IncrementalAlterConfigs` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigOp<'a> {
    /// Set the config on the topic.
    Set(&'a str, &'a str),
    /// Remove the topic's own value (the broker default applies again).
    Delete(&'a str),
}

/// A broker's answer for one resource: Kafka's error code (0: done) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceAnswer {
    pub name: String,
    pub error_code: i16,
    pub message: Option<String>,
}

/// Why a request got no answer: the broker was not reached, hung up, or spoke nonsense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct WireError(pub String);

/// A connection to one broker.
pub(crate) struct Conn {
    stream: TcpStream,
    correlation: i32,
    deadline: Duration,
    addr: String,
}

impl Conn {
    /// Connects to the first of `brokers` (`host:port,host:port`) that accepts a connection.
    pub(crate) async fn connect(brokers: &str, deadline: Duration) -> Result<Conn, WireError> {
        let mut last = WireError(format!("no broker address in `{brokers}`"));
        for addr in brokers.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            match tokio::time::timeout(deadline, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    return Ok(Conn {
                        stream,
                        correlation: 0,
                        deadline,
                        addr: addr.to_owned(),
                    });
                }
                Ok(Err(e)) => last = WireError(format!("{addr}: {e}")),
                Err(_) => last = WireError(format!("{addr}: no connection within {deadline:?}")),
            }
        }
        Err(last)
    }

    /// The versions of `api_key` the broker implements, `None` when it has not the API.
    pub(crate) async fn api_versions(
        &mut self,
        api_key: i16,
    ) -> Result<Option<(i16, i16)>, WireError> {
        let body = self.call(API_VERSIONS, 0, &[]).await?;
        let mut r = Reader::new(&body);
        let error = r.i16()?;
        if error != 0 {
            return Err(WireError(format!(
                "{}: ApiVersions answered error code {error}",
                self.addr
            )));
        }
        let n = r.array_len()?;
        for _ in 0..n {
            let (key, min, max) = (r.i16()?, r.i16()?, r.i16()?);
            if key == api_key {
                return Ok(Some((min, max)));
            }
        }
        Ok(None)
    }

    /// Sends `IncrementalAlterConfigs` v0 for the topics' changes.
    pub(crate) async fn incremental_alter_configs(
        &mut self,
        topics: &[(&str, Vec<ConfigOp<'_>>)],
    ) -> Result<Vec<ResourceAnswer>, WireError> {
        let body = encode_incremental_alter(topics);
        let answer = self.call(INCREMENTAL_ALTER_CONFIGS, 0, &body).await?;
        decode_incremental_alter(&answer).map_err(|e| WireError(format!("{}: {}", self.addr, e.0)))
    }

    /// Sends one request (header v1) and returns the body of its answer (header v0 removed).
    async fn call(
        &mut self,
        api_key: i16,
        version: i16,
        body: &[u8],
    ) -> Result<Vec<u8>, WireError> {
        self.correlation = self.correlation.wrapping_add(1);
        let mut frame = Vec::with_capacity(body.len() + 32);
        frame.extend_from_slice(&[0; 4]);
        frame.extend_from_slice(&api_key.to_be_bytes());
        frame.extend_from_slice(&version.to_be_bytes());
        frame.extend_from_slice(&self.correlation.to_be_bytes());
        put_str(&mut frame, CLIENT_ID);
        frame.extend_from_slice(body);
        let len =
            i32::try_from(frame.len() - 4).map_err(|_| WireError("request too large".into()))?;
        frame[..4].copy_from_slice(&len.to_be_bytes());
        let addr = self.addr.clone();
        let deadline = self.deadline;
        let correlation = self.correlation;
        let exchange = async {
            self.stream.write_all(&frame).await?;
            let mut size = [0u8; 4];
            self.stream.read_exact(&mut size).await?;
            let size = i32::from_be_bytes(size);
            let size = usize::try_from(size)
                .ok()
                .filter(|s| (4..=MAX_RESPONSE).contains(s))
                .ok_or_else(|| std::io::Error::other(format!("answer of {size} bytes")))?;
            let mut answer = vec![0u8; size];
            self.stream.read_exact(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        let answer = match tokio::time::timeout(deadline, exchange).await {
            Ok(Ok(a)) => a,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(WireError(format!(
                    "{addr}: the broker closed the connection (it may not implement API {api_key} v{version})"
                )));
            }
            Ok(Err(e)) => return Err(WireError(format!("{addr}: {e}"))),
            Err(_) => return Err(WireError(format!("{addr}: no answer within {deadline:?}"))),
        };
        let got = i32::from_be_bytes([answer[0], answer[1], answer[2], answer[3]]);
        if got != correlation {
            return Err(WireError(format!(
                "{addr}: answer to request {got}, expected {correlation}"
            )));
        }
        Ok(answer[4..].to_vec())
    }
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    let len = i16::try_from(s.len()).unwrap_or(i16::MAX);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(&s.as_bytes()[..len as usize]);
}

fn put_len(buf: &mut Vec<u8>, n: usize) {
    buf.extend_from_slice(&i32::try_from(n).unwrap_or(i32::MAX).to_be_bytes());
}

/// The body of `IncrementalAlterConfigs` v0.
fn encode_incremental_alter(topics: &[(&str, Vec<ConfigOp<'_>>)]) -> Vec<u8> {
    let mut b = Vec::new();
    put_len(&mut b, topics.len());
    for (topic, ops) in topics {
        b.push(RESOURCE_TOPIC as u8);
        put_str(&mut b, topic);
        put_len(&mut b, ops.len());
        for op in ops {
            match op {
                ConfigOp::Set(k, v) => {
                    put_str(&mut b, k);
                    b.push(0);
                    put_str(&mut b, v);
                }
                ConfigOp::Delete(k) => {
                    put_str(&mut b, k);
                    b.push(1);
                    b.extend_from_slice(&(-1i16).to_be_bytes());
                }
            }
        }
    }
    b.push(0); // validate_only: false
    b
}

fn decode_incremental_alter(body: &[u8]) -> Result<Vec<ResourceAnswer>, WireError> {
    let mut r = Reader::new(body);
    let _throttle = r.i32()?;
    let n = r.array_len()?;
    let mut out = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let error_code = r.i16()?;
        let message = r.nullable_str()?.filter(|m| !m.is_empty());
        let _kind = r.i8()?;
        let name = r.nullable_str()?.unwrap_or_default();
        out.push(ResourceAnswer {
            name,
            error_code,
            message,
        });
    }
    Ok(out)
}

/// Reads big-endian Kafka primitives, failing on a short answer instead of panicking.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, at: 0 }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let bytes = self
            .buf
            .get(self.at..self.at + N)
            .ok_or_else(|| WireError(format!("answer cut short at byte {}", self.at)))?;
        self.at += N;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn i8(&mut self) -> Result<i8, WireError> {
        Ok(i8::from_be_bytes(self.take()?))
    }

    fn i16(&mut self) -> Result<i16, WireError> {
        Ok(i16::from_be_bytes(self.take()?))
    }

    fn i32(&mut self) -> Result<i32, WireError> {
        Ok(i32::from_be_bytes(self.take()?))
    }

    fn array_len(&mut self) -> Result<usize, WireError> {
        let n = self.i32()?;
        // A null array (-1) is empty; a count larger than the bytes left is nonsense.
        let n = usize::try_from(n).unwrap_or(0);
        if n > self.buf.len() - self.at {
            return Err(WireError(format!("array of {n} items in a short answer")));
        }
        Ok(n)
    }

    fn nullable_str(&mut self) -> Result<Option<String>, WireError> {
        let len = self.i16()?;
        let Ok(len) = usize::try_from(len) else {
            return Ok(None);
        };
        let bytes = self
            .buf
            .get(self.at..self.at + len)
            .ok_or_else(|| WireError(format!("string cut short at byte {}", self.at)))?;
        self.at += len;
        Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
    }
}

/// Kafka's name for an error code of an `IncrementalAlterConfigs` answer.
pub(crate) fn error_name(code: i16) -> &'static str {
    match code {
        0 => "None",
        3 => "UnknownTopicOrPartition",
        7 => "RequestTimedOut",
        29 => "TopicAuthorizationFailed",
        31 => "ClusterAuthorizationFailed",
        35 => "UnsupportedVersion",
        40 => "InvalidConfig",
        41 => "NotController",
        42 => "InvalidRequest",
        44 => "PolicyViolation",
        _ => "KafkaError",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_and_a_delete_are_encoded_as_kafka_defines_them() {
        let body = encode_incremental_alter(&[(
            "t",
            vec![ConfigOp::Set("a", "1"), ConfigOp::Delete("b")],
        )]);
        let expected: Vec<u8> = [
            &[0, 0, 0, 1][..], // one resource
            &[2],              // topic
            &[0, 1, b't'],
            &[0, 0, 0, 2], // two configs
            &[0, 1, b'a', 0, 0, 1, b'1'],
            &[0, 1, b'b', 1, 0xff, 0xff],
            &[0], // validate_only
        ]
        .concat();
        assert_eq!(body, expected);
    }

    #[test]
    fn an_answer_is_decoded_and_a_short_one_is_an_error() {
        let body: Vec<u8> = [
            &[0, 0, 0, 0][..], // throttle
            &[0, 0, 0, 2],
            &[0, 40, 0, 3, b'b', b'a', b'd', 2, 0, 1, b'x'],
            &[0, 0, 0xff, 0xff, 2, 0, 1, b'y'],
        ]
        .concat();
        let answers = decode_incremental_alter(&body).unwrap();
        assert_eq!(
            answers,
            vec![
                ResourceAnswer {
                    name: "x".into(),
                    error_code: 40,
                    message: Some("bad".into())
                },
                ResourceAnswer {
                    name: "y".into(),
                    error_code: 0,
                    message: None
                },
            ]
        );
        assert_eq!(error_name(40), "InvalidConfig");
        for cut in 0..body.len() {
            assert!(
                decode_incremental_alter(&body[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }
}
