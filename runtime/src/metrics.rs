//! Prometheus metrics and health of a running pipeline, served over HTTP on `--metrics-addr`:
//! `GET /metrics` (text exposition format 0.0.4) and `GET /health` (200 while every job runs,
//! 503 once one has stopped). The HTTP side is a small HTTP/1.1 responder: one request per
//! connection, nothing else served.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::RuntimeError;
use crate::job::StepCounters;

/// Upper bounds (seconds) of the produce latency histogram.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Everything the jobs of one process report.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    jobs: BTreeMap<String, JobMetrics>,
}

#[derive(Debug, Default, Clone)]
struct JobMetrics {
    running: bool,
    records_in: u64,
    batches: u64,
    commits: u64,
    retries: u64,
    /// Records delivered again after a rebalance whose outputs were already produced.
    consumed_again: u64,
    lag: Option<i64>,
    steps: Vec<(String, StepCounters)>,
    /// Output topic (Kafka name) → records produced, failed.
    produced: BTreeMap<String, (u64, u64)>,
    latency: Histogram,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    /// A job starts (`steps`: the kind of each step, in order).
    pub fn job_started(&self, job: &str, steps: &[&str]) {
        let mut g = self.lock();
        let j = g.jobs.entry(job.to_owned()).or_default();
        j.running = true;
        if j.steps.is_empty() {
            j.steps = steps
                .iter()
                .map(|k| ((*k).to_owned(), StepCounters::default()))
                .collect();
        }
    }

    /// A job stopped (health turns 503).
    pub fn job_stopped(&self, job: &str) {
        if let Some(j) = self.lock().jobs.get_mut(job) {
            j.running = false;
        }
    }

    /// A batch went through: its records, the job's step counters so far (cumulative), and
    /// what was produced to each topic.
    pub fn batch(&self, job: &str, records: usize, counters: &[StepCounters]) {
        let mut g = self.lock();
        let j = g.jobs.entry(job.to_owned()).or_default();
        j.records_in += records as u64;
        j.batches += 1;
        for (slot, c) in j.steps.iter_mut().zip(counters) {
            slot.1 = c.clone();
        }
    }

    /// Records acknowledged (or failed) by the broker for a topic, and how long the slowest
    /// of them took.
    pub fn produced(&self, job: &str, topic: &str, ok: u64, failed: u64, latencies: &[f64]) {
        let mut g = self.lock();
        let j = g.jobs.entry(job.to_owned()).or_default();
        let e = j.produced.entry(topic.to_owned()).or_default();
        e.0 += ok;
        e.1 += failed;
        for &s in latencies {
            j.latency.observe(s);
        }
    }

    /// Offsets committed.
    pub fn committed(&self, job: &str) {
        self.lock().jobs.entry(job.to_owned()).or_default().commits += 1;
    }

    /// A batch was retried after a failure.
    pub fn retried(&self, job: &str) {
        self.lock().jobs.entry(job.to_owned()).or_default().retries += 1;
    }

    /// Records delivered again (the group gave their partition back at an older offset) whose
    /// outputs this process had produced already: skipped.
    pub fn consumed_again(&self, job: &str, records: u64) {
        self.lock()
            .jobs
            .entry(job.to_owned())
            .or_default()
            .consumed_again += records;
    }

    /// The job's consumer lag (records behind the end of its source, all partitions).
    pub fn lag(&self, job: &str, lag: i64) {
        self.lock().jobs.entry(job.to_owned()).or_default().lag = Some(lag);
    }

    /// A job's records in, batches and commits so far (for benches and tests).
    pub fn progress(&self, job: &str) -> (u64, u64, u64) {
        self.lock()
            .jobs
            .get(job)
            .map_or((0, 0, 0), |j| (j.records_in, j.batches, j.commits))
    }

    /// Whether every job that started is still running.
    pub fn healthy(&self) -> bool {
        self.lock().jobs.values().all(|j| j.running)
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let g = self.lock();
        let mut s = String::new();
        let mut family = |name: &str, kind: &str, help: &str| {
            let _ = writeln!(s, "# HELP pipec_{name} {help}\n# TYPE pipec_{name} {kind}");
        };
        family("job_up", "gauge", "1 while the job runs.");
        family(
            "records_in_total",
            "counter",
            "Records consumed from the job's source.",
        );
        family("batches_total", "counter", "Batches processed.");
        family("commits_total", "counter", "Offset commits.");
        family(
            "retries_total",
            "counter",
            "Batches retried after a failure.",
        );
        family(
            "consumed_again_total",
            "counter",
            "Records delivered again after a rebalance whose outputs were already produced (skipped).",
        );
        family(
            "consumer_lag",
            "gauge",
            "Records behind the end of the source topic.",
        );
        family(
            "step_events_total",
            "counter",
            "Events per step and outcome.",
        );
        family(
            "produced_total",
            "counter",
            "Records acknowledged per output topic.",
        );
        family(
            "produce_failed_total",
            "counter",
            "Records the broker did not take.",
        );
        family(
            "produce_latency_seconds",
            "histogram",
            "Time from handing a record to the producer to its acknowledgement.",
        );
        for (job, j) in &g.jobs {
            let l = format!("job=\"{}\"", escape(job));
            let _ = writeln!(s, "pipec_job_up{{{l}}} {}", u8::from(j.running));
            let _ = writeln!(s, "pipec_records_in_total{{{l}}} {}", j.records_in);
            let _ = writeln!(s, "pipec_batches_total{{{l}}} {}", j.batches);
            let _ = writeln!(s, "pipec_commits_total{{{l}}} {}", j.commits);
            let _ = writeln!(s, "pipec_retries_total{{{l}}} {}", j.retries);
            let _ = writeln!(s, "pipec_consumed_again_total{{{l}}} {}", j.consumed_again);
            if let Some(lag) = j.lag {
                let _ = writeln!(s, "pipec_consumer_lag{{{l}}} {lag}");
            }
            for (i, (kind, c)) in j.steps.iter().enumerate() {
                // `in` always; the other outcomes once they happen.
                for (outcome, n) in outcomes(c) {
                    if n == 0 && outcome != "in" {
                        continue;
                    }
                    let _ = writeln!(
                        s,
                        "pipec_step_events_total{{{l},step=\"{i}\",kind=\"{kind}\",outcome=\"{outcome}\"}} {n}"
                    );
                }
            }
            for (topic, (ok, failed)) in &j.produced {
                let t = format!("{l},topic=\"{}\"", escape(topic));
                let _ = writeln!(s, "pipec_produced_total{{{t}}} {ok}");
                let _ = writeln!(s, "pipec_produce_failed_total{{{t}}} {failed}");
            }
            let mut cumulative = 0;
            for (le, n) in LATENCY_BUCKETS.iter().zip(j.latency.counts) {
                cumulative += n;
                let _ = writeln!(
                    s,
                    "pipec_produce_latency_seconds_bucket{{{l},le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                s,
                "pipec_produce_latency_seconds_bucket{{{l},le=\"+Inf\"}} {}\npipec_produce_latency_seconds_sum{{{l}}} {}\npipec_produce_latency_seconds_count{{{l}}} {}",
                j.latency.count, j.latency.sum, j.latency.count
            );
        }
        s
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| seconds <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

fn outcomes(c: &StepCounters) -> [(&'static str, u64); 14] {
    [
        ("in", c.input),
        ("out", c.output),
        ("sent", c.sent),
        ("invalid", c.invalid),
        ("duplicate", c.duplicate),
        ("oversized", c.oversized),
        ("filtered", c.filtered),
        ("unrouted", c.unrouted),
        ("unparsable", c.unparsable),
        ("error", c.errors),
        ("windowed", c.windowed),
        ("late", c.late),
        ("cache_hit", c.hits),
        ("cache_miss", c.misses),
    ]
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serves `/metrics` and `/health` on `addr` until the task is dropped. Binds before
/// returning, so a taken port is an error at start.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
) -> Result<tokio::task::JoinHandle<()>, RuntimeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| RuntimeError::Config {
            what: format!("--metrics-addr {addr}: {e}"),
        })?;
    Ok(tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            let metrics = Arc::clone(&metrics);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut len = 0;
                // Read the request head (bounded); only its first line matters.
                while len < buf.len() {
                    match tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        conn.read(&mut buf[len..]),
                    )
                    .await
                    {
                        Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                        Ok(Ok(n)) => len += n,
                    }
                    if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let head = String::from_utf8_lossy(&buf[..len]);
                let path = head.split_whitespace().nth(1).unwrap_or("");
                let (status, kind, body) = match path {
                    "/metrics" => (
                        "200 OK",
                        "text/plain; version=0.0.4; charset=utf-8",
                        metrics.render(),
                    ),
                    "/health" if metrics.healthy() => ("200 OK", "text/plain", "ok\n".into()),
                    "/health" => (
                        "503 Service Unavailable",
                        "text/plain",
                        "a job has stopped\n".into(),
                    ),
                    _ => ("404 Not Found", "text/plain", "not found\n".into()),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(response.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_prometheus_format() {
        let m = Metrics::default();
        m.job_started("pre\"p", &["validate", "dedup"]);
        let c = StepCounters {
            input: 10,
            output: 8,
            invalid: 2,
            ..Default::default()
        };
        m.batch("pre\"p", 10, &[c, StepCounters::default()]);
        m.produced("pre\"p", "dev.t", 8, 1, &[0.003, 20.0]);
        m.lag("pre\"p", 42);
        let text = m.render();
        assert!(
            text.contains("pipec_records_in_total{job=\"pre\\\"p\"} 10"),
            "{text}"
        );
        assert!(text.contains(
            "pipec_step_events_total{job=\"pre\\\"p\",step=\"0\",kind=\"validate\",outcome=\"invalid\"} 2"
        ));
        assert!(text.contains("pipec_produced_total{job=\"pre\\\"p\",topic=\"dev.t\"} 8"));
        assert!(text.contains("pipec_produce_failed_total{job=\"pre\\\"p\",topic=\"dev.t\"} 1"));
        assert!(text.contains("pipec_consumer_lag{job=\"pre\\\"p\"} 42"));
        // 3 ms falls in the 5 ms bucket; 20 s only in +Inf.
        assert!(text.contains("le=\"0.002\"} 0"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(m.healthy());
        m.job_stopped("pre\"p");
        assert!(!m.healthy());
        assert!(text.contains("pipec_job_up{job=\"pre\\\"p\"} 1"));
    }

    #[tokio::test]
    async fn metrics_and_health_are_served_over_http() {
        let m = Arc::new(Metrics::default());
        m.job_started("j", &["emit"]);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let server = serve(addr, Arc::clone(&m)).await.unwrap();
        let get = |path: &'static str| async move {
            let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
            c.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = String::new();
            c.read_to_string(&mut out).await.unwrap();
            out
        };
        let metrics = get("/metrics").await;
        assert!(metrics.starts_with("HTTP/1.1 200 OK"), "{metrics}");
        assert!(metrics.contains("pipec_job_up{job=\"j\"} 1"), "{metrics}");
        assert!(get("/health").await.starts_with("HTTP/1.1 200 OK"));
        m.job_stopped("j");
        assert!(get("/health").await.starts_with("HTTP/1.1 503"));
        assert!(get("/nope").await.starts_with("HTTP/1.1 404"));
        server.abort();
    }
}
