//! Runtime errors say whose fault a failure is and whether trying again can help, so that
//! the engine can decide between retrying with backoff, dead-lettering an event and stopping.

use thiserror::Error;

/// Whose fault a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The input or the spec is wrong: retrying cannot help; the event goes to a dead-letter topic.
    User,
    /// A broker, store or file system failed: retrying with backoff may help.
    External,
    /// A bug in pipec.
    Internal,
}

/// A failure while running a pipeline.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// An event could not be processed as the spec says.
    #[error("event rejected by step `{step}`: {reason}")]
    Event {
        /// The step.
        step: String,
        /// Why.
        reason: String,
    },
    /// A system the pipeline depends on did not answer or refused.
    #[error("{system} is unavailable: {reason}")]
    Unavailable {
        /// Which system (`kafka 127.0.0.1:9092`, `redis db 7`).
        system: String,
        /// What happened.
        reason: String,
    },
    /// The pipeline's configuration or a file it names is wrong (a lookup file that does not
    /// parse, a secret's environment variable that is not set): fix it and restart.
    #[error("bad configuration: {what}")]
    Config {
        /// What is wrong, naming the file and line or the setting.
        what: String,
    },
    /// A file could not be read or written (a local disk that is full or read-only, a
    /// directory that is missing).
    #[error("{what}: {reason}")]
    Io {
        /// What was being done, naming the file (`writing \`backups/x.ndjson\``).
        what: String,
        /// What the operating system said.
        reason: String,
    },
    /// A report's query failed: its SQL, its data or the engine.
    #[error("{what}: {reason}")]
    Query {
        /// Which report and step.
        what: String,
        /// What the engine said.
        reason: String,
    },
    /// The manifest asks for something this runtime does not implement yet.
    #[error("not supported yet: {what}")]
    Unsupported {
        /// What (`step \`window\``).
        what: String,
    },
    /// A broken invariant of pipec itself.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RuntimeError {
    /// Whose fault the failure is.
    pub fn blame(&self) -> Blame {
        match self {
            RuntimeError::Event { .. } => Blame::User,
            RuntimeError::Config { .. } => Blame::User,
            RuntimeError::Unavailable { .. } | RuntimeError::Io { .. } => Blame::External,
            RuntimeError::Query { .. } => Blame::User,
            RuntimeError::Unsupported { .. } | RuntimeError::Internal(_) => Blame::Internal,
        }
    }

    /// Whether trying again later can succeed.
    pub fn is_retryable(&self) -> bool {
        self.blame() == Blame::External
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_external_failures_are_retried() {
        let e = RuntimeError::Unavailable {
            system: "redis db 7".into(),
            reason: "connection refused".into(),
        };
        assert!(e.is_retryable());
        assert_eq!(
            e.to_string(),
            "redis db 7 is unavailable: connection refused"
        );
        let e = RuntimeError::Event {
            step: "validate".into(),
            reason: "missing `mid`".into(),
        };
        assert_eq!(e.blame(), Blame::User);
        assert!(!e.is_retryable());
        let e = RuntimeError::Config {
            what: "lookup.csv:3: no `id` field".into(),
        };
        assert_eq!(e.blame(), Blame::User);
        assert!(!e.is_retryable());
    }
}
